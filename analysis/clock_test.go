package analysis

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// A clockHost is how the clock behaved while clockFile's samples ran.
type clockHost struct {
	wave   float64 // relative standard deviation of each sample's clock: the wave is shorter than a round
	shared bool    // the wave is longer than a round instead: one clock per round
	probe  float64 // relative noise of a probe of its own (0: 0.3%)
	stalls bool    // one sample in ten runs, and probes, 30% slow
	probed bool    // the samples carry probes
}

// clockFile writes a result file of 40 rounds whose samples ran at a clock
// that wanders as host says and have 0.3% noise of their own. The
// goroutines cells do half the serial time per worker.
func clockFile(t *testing.T, host clockHost) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	b.WriteString("ncpu: 2\nusable-cpus: 2\nUnit B/s better=higher\nUnit clock-ns better=lower\n")
	for range 40 {
		roundSlow := 1 + host.wave*rng.NormFloat64()
		for _, c := range []struct {
			strategy string
			n        int
		}{{"serial", 1}, {"serial-aa", 1}, {"goroutines", 1}, {"goroutines", 2}} {
			slow := 1 + host.wave*rng.NormFloat64() // time per cycle: the clock's period
			if host.shared {
				slow = roundSlow
			}
			if host.stalls && rng.IntN(10) == 0 {
				slow *= 1.3
			}
			wall := 0.1 / float64(c.n) * slow * (1 + 0.003*rng.NormFloat64())
			fmt.Fprintf(&b, "BenchmarkHash/shape=uniform/size=64Mi/strategy=%s/sched=dynamic/workers=%d 1 %g ns/op %g B/s %g span-max-ns/op %g span-mean-ns/op 0 wait-mean-ns/op",
				c.strategy, c.n, wall*1e9, 64e6/wall, wall*1e9, wall*1e9)
			if host.probed {
				noise := cmp.Or(host.probe, 0.003)
				fmt.Fprintf(&b, " %g clock-ns", 650e3*slow*(1+noise*rng.NormFloat64()))
			}
			b.WriteString("\n")
		}
	}
	return writeFile(t, "clock.txt", b.String())
}

func TestTheClockIsDividedOutOfEveryRatio(t *testing.T) {
	s, err := Read(clockFile(t, clockHost{wave: 0.04, probed: true}))
	if err != nil {
		t.Fatal(err)
	}
	sc := Analyze(s)[0]
	if !sc.Clock.Applied || math.Abs(sc.Clock.Beta-1) > 0.1 || sc.Clock.Samples != 160 {
		t.Fatalf("clock fit %+v, want applied with beta about 1 over 160 samples", sc.Clock)
	}
	// 4% per sample: raw A/A ratios spread about 4% (half their IQR);
	// with the clock out, what is left is the runs' and the probes' own
	// noise, under 1%.
	if raw, adj := sc.RawNoiseFloor.Floor(), sc.Floor(); raw < 0.01 || adj > 0.006 || sc.Noise.RawSpread < 0.02 || sc.Noise.Spread > 0.006 {
		t.Errorf("floor +-%.2f%% raw, +-%.2f%% adjusted; spread +-%.2f%% raw, +-%.2f%% adjusted: want the clock's share gone",
			100*raw, 100*adj, 100*sc.Noise.RawSpread, 100*sc.Noise.Spread)
	}
	two := goroutines(sc).Point(2)
	if sp := two.Speedup; sp.Lo > 2 || sp.Hi < 2 || sp.HalfWidth() > 0.006 {
		t.Errorf("speedup at 2 workers %v, want a narrow interval about 2", sp)
	}
	// Absolute figures stay as measured, not as adjusted.
	raw := median(append([]float64(nil), two.Cell.Values[UnitTime]...))
	adjusted := median(two.Cell.series(UnitTime).values)
	if two.Time.Center != raw || adjusted == raw {
		t.Errorf("median time %g, measured %g, adjusted %g", two.Time.Center, raw, adjusted)
	}
	if note := withClock(sc); !strings.HasPrefix(note, ", with the CPU's clock divided out") || !strings.Contains(note, "without") {
		t.Errorf("noise floor's clock clause %q", note)
	}
	if note := noiseNote(sc.Noise, sc.Floor()); !strings.Contains(note, "before the clock was divided out") {
		t.Errorf("noise note %q does not give the spread before the adjustment", note)
	}
}

func TestRatiosAreLeftAloneWithoutAClockThatExplainsTheTimes(t *testing.T) {
	for _, tt := range []struct {
		name string
		host clockHost
	}{
		{"no probes", clockHost{wave: 0.04}},
		// A clock that did not wander: the probes are their own noise,
		// unrelated to the times, and may fit a slope of either sign.
		{"probes of a steady clock", clockHost{probed: true}},
		// A steady clock but for a few stalls that slow runs and probes
		// alike: least squares fits the stalls (beta about 1) and adds
		// the probes' own 1% to every other sample.
		{"probes noisier than the clock, stalls", clockHost{probe: 0.01, stalls: true, probed: true}},
		// A wave the whole round shares cancels in same-round ratios:
		// dividing it out would only add the probes' own 1% to them.
		{"a wave each round shares, probes noisier", clockHost{wave: 0.04, shared: true, probe: 0.01, probed: true}},
	} {
		s, err := Read(clockFile(t, tt.host))
		if err != nil {
			t.Fatal(err)
		}
		sc := Analyze(s)[0]
		if !tt.host.probed && (sc.Clock.Applied || sc.NoiseFloor != sc.RawNoiseFloor || clockNote(sc) != "") {
			t.Errorf("%s: clock %+v, floor %v against %v raw, note %q: want no adjustment", tt.name, sc.Clock, sc.NoiseFloor, sc.RawNoiseFloor, clockNote(sc))
		}
		if tt.host.probed && (sc.Clock.Applied || !strings.Contains(clockNote(sc), "clock left in")) {
			t.Errorf("%s: clock %+v, note %q: want it left in, and said so", tt.name, sc.Clock, clockNote(sc))
		}
		if a, r := sc.Floor(), sc.RawNoiseFloor.Floor(); a > r*1.2+0.001 {
			t.Errorf("%s: adjusted floor +-%.2f%%, raw +-%.2f%%: the adjustment widened it", tt.name, 100*a, 100*r)
		}
	}
}
