package runner

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/corescale/corescale/resultfile"
)

// The probe's time is its chain's: four times the chain takes about four
// times as long, which a loop the compiler had removed would not.
func TestClockProbeTimesItsWholeChain(t *testing.T) {
	probeClock(clockChain) // warm
	var short, long []time.Duration
	for range 5 {
		short = append(short, probeClock(clockChain/4))
		long = append(long, probeClock(clockChain))
	}
	s, l := slices.Min(short), slices.Min(long)
	if ratio := float64(l) / float64(s); ratio < 2.5 || ratio > 6 {
		t.Errorf("a chain four times longer took %.2f times as long (%v, %v), want about 4", ratio, l, s)
	}
}

func TestClockMeterProbesWhenForcedOrDue(t *testing.T) {
	var m clockMeter
	if m.mean() != 0 {
		t.Fatalf("an unprobed meter has mean %v, want 0", m.mean())
	}
	m.probe(true)
	m.probe(false) // not due: the last probe is fresh
	if m.n != 1 {
		t.Errorf("%d probes after a forced one and one not due, want 1", m.n)
	}
	m.last = time.Now().Add(-probeEvery)
	m.probe(false)
	m.probe(true)
	if m.n != 3 {
		t.Errorf("%d probes after one due and one forced more, want 3", m.n)
	}
	if m.mean() <= 0 {
		t.Errorf("mean probe %v, want > 0", m.mean())
	}
}

// Every sample of a sweep carries its clock, and so does its line in the
// result file.
func TestSweepSamplesCarryTheirClock(t *testing.T) {
	plan := Plan{Configs: smallParams(t)[:1], Strategies: []string{"serial", "goroutines"}, Scheds: scheds[:1], Workers: []int{1, 2}, Count: 2, Warmup: 1}
	out, err := Sweep(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Samples {
		if s.Clock <= 0 {
			t.Errorf("%s: clock %v, want > 0", s.Cell.Name(), s.Clock)
		}
	}
	for i, s := range out.ResultFile().Samples {
		found := false
		for _, v := range s.Values {
			if v.Unit == resultfile.UnitClock {
				found = v.Value == float64(out.Samples[i].Clock.Nanoseconds())
			}
		}
		if !found {
			t.Errorf("sample %d: no %s value equal to its clock %v in %+v", i, resultfile.UnitClock, out.Samples[i].Clock, s.Values)
		}
	}
}
