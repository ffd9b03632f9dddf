package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// synthetic writes a result file of a kernel that follows Amdahl's law
// with the given serial fraction, for serial, its A/A twin and a goroutines
// strategy, over 12 rounds in which the machine drifts 1% a round (which
// every cell of a round shares) and each run has 1% noise of its own.
// Workers' spans are 98% and 90% of the wall time, with no wait.
func synthetic(t *testing.T, serial float64, workers []int, extra string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("ncpu: 8\nusable-cpus: 8\n" + extra + "Unit B/s better=higher\n")
	const t1 = 0.1 // seconds at one worker
	type cell struct {
		strategy string
		n        int
	}
	cells := []cell{{"serial", 1}, {"serial-aa", 1}}
	for _, n := range workers {
		cells = append(cells, cell{"goroutines", n})
	}
	for round := range 12 {
		drift := 1 + 0.01*float64(round)
		for _, c := range cells {
			wall := drift * t1 * (serial + (1-serial)/float64(c.n)) * (1 + 0.01*rng.NormFloat64())
			fmt.Fprintf(&b, "BenchmarkHash/shape=uniform/size=64Mi/strategy=%s/sched=dynamic/workers=%d 1 %g ns/op %g B/s %g span-max-ns/op %g span-mean-ns/op 0 wait-mean-ns/op\n",
				c.strategy, c.n, wall*1e9, 64e6/wall, 0.98*wall*1e9, 0.9*wall*1e9)
		}
	}
	return writeFile(t, "amdahl.txt", b.String())
}

func goroutines(sc *Scaling) *Curve {
	for _, c := range sc.Curves {
		if c.Strategy == "goroutines" {
			return c
		}
	}
	return nil
}

func TestAnalyzeComputesSpeedupAndFits(t *testing.T) {
	s, err := Read(synthetic(t, 0.1, []int{1, 2, 4, 8}, ""))
	if err != nil {
		t.Fatal(err)
	}
	scs := Analyze(s)
	if len(scs) != 1 {
		t.Fatalf("%d scalings", len(scs))
	}
	sc := scs[0]
	if sc.Baseline == nil || sc.Baseline.Cell.Strategy != "serial" || sc.Twin == nil || sc.Unit != "B/s" || sc.UsableCPUs != 8 {
		t.Fatalf("baseline %+v, twin %+v, unit %q, usable CPUs %d", sc.Baseline, sc.Twin, sc.Unit, sc.UsableCPUs)
	}
	if f := sc.NoiseFloor; !f.Valid() || !(f.Lo <= 1 && 1 <= f.Hi) || sc.Floor() > 0.02 {
		t.Errorf("noise floor %v (+-%.3f), want an interval around 1 of about the runs' 1%% noise", f, sc.Floor())
	}
	cv := goroutines(sc)
	p8 := cv.Point(8)
	if want := amdahl(8, 0.1); !within(p8.Speedup.Center, want, 0.03) || !(p8.Speedup.Lo <= want && want <= p8.Speedup.Hi) {
		t.Errorf("speedup at 8 = %v, want %.3f inside it", p8.Speedup, want)
	}
	if !within(p8.Efficiency.Center, p8.Speedup.Center/8, 1e-9) || !within(p8.KarpFlatt, 0.1, 0.15) {
		t.Errorf("efficiency %v, Karp-Flatt %.3f (want about 0.1)", p8.Efficiency, p8.KarpFlatt)
	}
	l := p8.Losses
	if !l.Known || l.Runs != 12 || !within(l.Work+l.Inflation+l.Waiting+l.Imbalance+l.Overhead, 1, 1e-9) {
		t.Errorf("losses %+v do not add up to 1", l)
	}
	// The baseline was on a CPU for 90% of its wall time (its span).
	if !within(l.Work, p8.Efficiency.Center*0.9, 0.03) || !within(l.Imbalance, 0.08, 1e-6) || !within(l.Overhead, 0.02, 1e-6) {
		t.Errorf("losses %+v, want work near %.3f, imbalance 0.08 and overhead 0.02", l, p8.Efficiency.Center*0.9)
	}
	if name, _ := l.Main(); name != "work inflation" {
		t.Errorf("main loss %q, want work inflation (the serial part shows as longer spans on a CPU)", name)
	}
	amd := cv.Fit(Amdahl)
	if amd == nil || !within(amd.Serial, 0.1, 0.1) || len(amd.Flags) != 0 {
		t.Errorf("Amdahl fit %v, want serial fraction 0.1, unflagged", amd)
	}
	if cv.Fit(USL) == nil {
		t.Errorf("no USL fit: %s", cv.FitNote)
	}
	if !math.IsNaN(cv.Point(1).KarpFlatt) {
		t.Error("Karp-Flatt defined at one worker")
	}
	if d := sc.Diagnosis(); !strings.Contains(d, "at 8 workers") || !strings.Contains(d, "goroutines/dynamic") {
		t.Errorf("diagnosis %q", d)
	}
}

func TestFitsUseOnlyTheWorkersTheMachineCouldRunAtOnce(t *testing.T) {
	// Workers 1, 2 and 4 on 2 usable CPUs: two points to fit, too few for
	// any law; 4 workers is oversubscription, reported on its own.
	s, err := Read(synthetic(t, 0.1, []int{1, 2, 4}, "usable-cpus: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc := Analyze(s)[0]
	cv := goroutines(sc)
	if len(cv.Fits) != 0 || cv.FitNote != "not fitted: 2 worker counts within the 2 usable CPUs (Amdahl needs 3, USL needs 4); Karp-Flatt per point instead" {
		t.Errorf("fits %v, note %q", cv.Fits, cv.FitNote)
	}
	if !cv.Point(4).Oversubscribed || cv.Point(2).Oversubscribed {
		t.Error("oversubscription marked at the wrong points")
	}
	// Amdahl with s = 0.1: T(4)/T(2) = (0.1 + 0.9/4) / (0.1 + 0.9/2).
	want := (0.1 + 0.9/4) / (0.1 + 0.9/2)
	if o := cv.Oversubscription; cv.OversubscriptionFrom != 2 || !within(o.Center, want, 0.03) {
		t.Errorf("oversubscription from %d: %v, want about %.3f", cv.OversubscriptionFrom, o, want)
	}
}

func TestWeakScalingFitsGustafson(t *testing.T) {
	s, err := Read(synthetic(t, 0.1, []int{1, 2, 4}, "scaling: weak\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc := Analyze(s)[0]
	if !sc.Weak {
		t.Fatal("scaling: weak not seen")
	}
	if cv := goroutines(sc); cv.Fit(Gustafson) == nil {
		t.Errorf("no Gustafson fit: %v %q", cv.Fits, cv.FitNote)
	}
}

// withStrategy copies the goroutines lines of a file under another
// strategy's name, k times as long (their rates 1/k as high).
func withStrategy(t *testing.T, path, strategy string, k float64) string {
	t.Helper()
	content, _ := os.ReadFile(path)
	var extra strings.Builder
	for _, line := range strings.Split(string(content), "\n") {
		if strings.Contains(line, "strategy=goroutines") {
			f := strings.Fields(line)
			var ns, bps float64
			fmt.Sscan(f[2], &ns)
			fmt.Sscan(f[4], &bps)
			f[0] = strings.Replace(f[0], "goroutines", strategy, 1)
			f[2], f[4] = fmt.Sprint(ns*k), fmt.Sprint(bps/k) // k times the time, 1/k the rate
			extra.WriteString(strings.Join(f, " ") + "\n")
		}
	}
	return writeFile(t, strategy+".txt", string(content)+extra.String())
}

func TestVerdictWeighsTheIntervalAgainstTheNoiseFloor(t *testing.T) {
	const floor = 0.03
	for _, tt := range []struct {
		name  string
		ratio Ratio
		want  string
	}{
		{"beyond the floor", Ratio{Center: 1.09, Lo: 1.05, Hi: 1.16, Rounds: 20}, "9.0% slower"},
		{"beyond the floor, faster", Ratio{Center: 0.9, Lo: 0.85, Hi: 0.95, Rounds: 20}, "10.0% faster"},
		{"covering 1", Ratio{Center: 1.04, Lo: 0.97, Hi: 1.12, Rounds: 20}, "no difference"},
		{"inside the floor", Ratio{Center: 1.02, Lo: 1.01, Hi: 1.025, Rounds: 20}, "no difference"},
		{"off 1 but into the floor", Ratio{Center: 1.09, Lo: 1.02, Hi: 1.16, Rounds: 20}, "9.0% slower, not beyond the noise floor"},
		{"no pairs", Ratio{}, "too few pairs"},
	} {
		if got := Verdict(tt.ratio, floor); got != tt.want {
			t.Errorf("%s: %v against +-%.0f%%: %q, want %q", tt.name, tt.ratio, 100*floor, got, tt.want)
		}
	}
}

func TestContrastsArePairedAndJudgedAgainstTheNoiseFloor(t *testing.T) {
	for _, tt := range []struct {
		k    float64
		want string
	}{
		{1.1, "10.0% slower"},
		{1.0, "no difference"},
	} {
		s, err := Read(withStrategy(t, synthetic(t, 0.1, []int{1, 2}, ""), "procpool", tt.k))
		if err != nil {
			t.Fatal(err)
		}
		sc := Analyze(s)[0]
		cs := sc.Contrasts()
		if len(cs) != 2 {
			t.Fatalf("%d contrasts, want one per worker count", len(cs))
		}
		for _, c := range cs {
			if c.Strategy != "procpool" || c.Base != "goroutines" || !within(c.Ratio.Center, tt.k, 1e-9) || Verdict(c.Ratio, sc.Floor()) != tt.want {
				t.Errorf("procpool at %.1fx goroutines' time: contrast %+v, verdict %q, want %q", tt.k, c, Verdict(c.Ratio, sc.Floor()), tt.want)
			}
		}
	}
}

func TestPairedRatioRecoversAKnownRatioUnderDrift(t *testing.T) {
	// The machine slows 1% a round for 60 rounds. Cell a runs every round;
	// cell b, 1.25 times slower, only the last 30 (a cell that started
	// late). The ratio of their medians carries the drift of the rounds
	// they do not share; the median of same-round ratios does not.
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := series{paired: true}, series{paired: true}
	for r := range 60 {
		drift := 1 + 0.01*float64(r)
		a.values = append(a.values, drift*(1+0.005*rng.NormFloat64()))
		a.rounds, a.forks = append(a.rounds, r), append(a.forks, 0)
		if r >= 30 {
			b.values = append(b.values, 1.25*drift*(1+0.005*rng.NormFloat64()))
			b.rounds, b.forks = append(b.rounds, r), append(b.forks, 0)
		}
	}
	got := ratioOf(b, a)
	if !(got.Lo <= 1.25 && 1.25 <= got.Hi) || got.HalfWidth() > 0.01 || got.Rounds != 30 {
		t.Errorf("paired ratio %v over %d rounds, want 1.25 inside a tight interval", got, got.Rounds)
	}
	if naive := median(slices.Clone(b.values)) / median(slices.Clone(a.values)); within(naive, 1.25, 0.1) {
		t.Errorf("ratio of medians %.3f: the test's drift should bias it by more than 10%%", naive)
	}
}

func TestPairedRatioIntervalsAccountForForks(t *testing.T) {
	// Three forks whose ratios differ by 4% from process to process, with
	// little noise within each: a bootstrap over rounds alone would give a
	// tight interval around the pooled median; over forks it is wide.
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := series{paired: true}, series{paired: true}
	for f, luck := range []float64{0.96, 1.0, 1.04} {
		for r := range 20 {
			a.values = append(a.values, 1)
			b.values = append(b.values, 1.1*luck*(1+0.001*rng.NormFloat64()))
			for _, s := range []*series{&a, &b} {
				s.rounds, s.forks = append(s.rounds, 20*f+r), append(s.forks, f)
			}
		}
	}
	got := ratioOf(b, a)
	if got.Forks != 3 || got.HalfWidth() < 0.02 {
		t.Errorf("ratio %v over %d forks: want an interval that spans the forks' 4%% differences", got, got.Forks)
	}
}

// A baseline that waited for a CPU must not make an identical cell that
// did not wait look better than free: its inflation is zero, not the
// baseline's wait with the sign turned.
func TestLossesMeasureWorkByTheBaselinesTimeOnACPU(t *testing.T) {
	var b strings.Builder
	b.WriteString("ncpu: 2\nusable-cpus: 2\n")
	for range 8 {
		for _, c := range []struct {
			strategy         string
			wall, span, wait float64 // ms
		}{{"serial", 100, 99.5, 3}, {"serial-aa", 100, 99.5, 3}, {"goroutines", 96.5, 96.5, 0}} {
			fmt.Fprintf(&b, "BenchmarkHash/shape=uniform/size=64Mi/strategy=%s/sched=dynamic/workers=1 1 %g ns/op %g span-max-ns/op %g span-mean-ns/op %g wait-mean-ns/op\n",
				c.strategy, c.wall*1e6, c.span*1e6, c.span*1e6, c.wait*1e6)
		}
	}
	s, err := Read(writeFile(t, "waiting-baseline.txt", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	l := goroutines(Analyze(s)[0]).Point(1).Losses
	if !l.Known || !within(l.Inflation, 0, 1e-9) || !within(l.Work, 1, 1e-9) || l.Waiting != 0 {
		t.Errorf("losses %+v, want work 1 and no inflation (measured by wall time: inflation %.3f)", l, 1-100/96.5)
	}
}

func TestEfficiencyAboveOneBeyondItsIntervalAndTheNoiseFloorIsFlagged(t *testing.T) {
	tests := []struct {
		name string
		slow string  // the cells whose runs are slowed
		by   float64 // by this factor
		flag bool
	}{
		// A baseline that ran 10% slow makes one goroutine 110% efficient.
		{"baseline slow", "strategy=serial", 1.1, true},
		// Only the A/A twin slow: the pooled baseline runs 9.5% slow, and
		// the noise floor is +-20%: identical cells differ that much here.
		{"inside the noise floor", "strategy=serial-aa", 1.2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := synthetic(t, 0.1, []int{1, 2}, "")
			content, _ := os.ReadFile(path)
			var b strings.Builder
			for _, line := range strings.Split(string(content), "\n") {
				if strings.Contains(line, tt.slow) {
					f := strings.Fields(line)
					var ns, bps float64
					fmt.Sscan(f[2], &ns)
					fmt.Sscan(f[4], &bps)
					f[2], f[4] = fmt.Sprint(ns*tt.by), fmt.Sprint(bps/tt.by)
					line = strings.Join(f, " ")
				}
				b.WriteString(line + "\n")
			}
			s, err := Read(writeFile(t, "slow-serial.txt", b.String()))
			if err != nil {
				t.Fatal(err)
			}
			sc := Analyze(s)[0]
			p := goroutines(sc).Point(1)
			if p.Efficiency.Lo <= 1 {
				t.Fatalf("efficiency %v: the case needs one above 100%% beyond its interval", p.Efficiency)
			}
			flagged := len(p.Flags) == 1 && strings.Contains(p.Flags[0], "above 100%")
			if flagged != tt.flag || len(p.Flags) > 1 {
				t.Errorf("efficiency %v, noise floor +-%.1f%%: flags %q, want flagged %v", p.Efficiency, 100*sc.Floor(), p.Flags, tt.flag)
			}
		})
	}
}

func TestEfficiencyAboveOneFromFasterWorkSaysSo(t *testing.T) {
	// Two workers whose runs, spans included, take 0.7 of what they should:
	// each spent less time on its CPU than serial did for the same work
	// (0.9 of 0.7 of serial's wall against serial's 0.9: inflation -39%),
	// as search's workers did beside each other.
	content, _ := os.ReadFile(synthetic(t, 0, []int{1, 2}, ""))
	var b strings.Builder
	for _, line := range strings.Split(string(content), "\n") {
		if strings.Contains(line, "strategy=goroutines/sched=dynamic/workers=2 ") {
			f := strings.Fields(line)
			for _, i := range []int{2, 6, 8} {
				var v float64
				fmt.Sscan(f[i], &v)
				f[i] = fmt.Sprint(0.7 * v)
			}
			var bps float64
			fmt.Sscan(f[4], &bps)
			f[4] = fmt.Sprint(bps / 0.7)
			line = strings.Join(f, " ")
		}
		b.WriteString(line + "\n")
	}
	s, err := Read(writeFile(t, "faster.txt", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	p := goroutines(Analyze(s)[0]).Point(2)
	if want := fmt.Sprintf("inflation %.0f%% of worker time", 100*p.Losses.Inflation); p.Losses.Inflation > -0.3 || len(p.Flags) != 1 || !strings.Contains(p.Flags[0], want) || !strings.Contains(p.Flags[0], "a cache they share") {
		t.Errorf("inflation %.3f, efficiency %v: flags %q", p.Losses.Inflation, p.Efficiency, p.Flags)
	}
}

func TestReportWritesMarkdownAndCharts(t *testing.T) {
	s, err := Read(synthetic(t, 0.05, []int{1, 2, 4}, "commit: aaa\n"), synthetic(t, 0.2, []int{1, 2, 4}, "commit: bbb\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReport(s)
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"commit=aaa", "commit=bbb", "Summary", "Noise floor", "Karp-Flatt", "USL sigma", "Hash/shape=uniform/size=64Mi at 4 workers"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	dir := t.TempDir()
	if err := r.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, chart := range []string{"Hash-shapeuniform-size64Mi-speedup.png", "Hash-shapeuniform-size64Mi-efficiency.png"} {
		if !strings.Contains(string(md), "]("+chart+")") {
			t.Errorf("report.md does not show %s", chart)
		}
		png, err := os.ReadFile(filepath.Join(dir, chart))
		if err != nil || len(png) < 1000 || string(png[1:4]) != "PNG" {
			t.Errorf("%s is not a PNG chart (%d bytes, %v)", chart, len(png), err)
		}
	}
}

// A reference faster than serial at one worker runs faster code, not on
// a slow baseline: only corescale's own strategies are flagged for it.
func TestOnlyOurOwnStrategiesAreFlaggedAboveOneHundredPercent(t *testing.T) {
	for _, tt := range []struct {
		strategy string
		flag     bool
	}{{"procpool", true}, {"py-threads", false}} {
		t.Run(tt.strategy, func(t *testing.T) {
			s, err := Read(withStrategy(t, synthetic(t, 0.1, []int{1, 2}, ""), tt.strategy, 1/1.2))
			if err != nil {
				t.Fatal(err)
			}
			sc := Analyze(s)[0]
			var p *Point
			for _, cv := range sc.Curves {
				if cv.Strategy == tt.strategy {
					p = cv.Point(1)
				}
			}
			if p == nil || p.Efficiency.Lo <= 1+sc.Floor() {
				t.Fatalf("%s at 1 worker: %+v: the case needs an efficiency above 100%% beyond its interval and the floor", tt.strategy, p)
			}
			if flagged := slices.ContainsFunc(p.Flags, func(f string) bool { return strings.Contains(f, "above 100%") }); flagged != tt.flag {
				t.Errorf("%s: efficiency %v, flags %q: want flagged %v", tt.strategy, p.Efficiency, p.Flags, tt.flag)
			}
		})
	}
}

func TestCalibrationComparesTheIdenticalWorkCells(t *testing.T) {
	for _, tt := range []struct {
		name string
		// spans scales procpool's time in its chunks: 1 puts its 10%
		// outside them (what reaching a worker process costs), 1.1
		// inside (the work itself ran slower there).
		spans float64
	}{
		{"the boundary's cost", 1},
		{"slower work", 1.1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Read(scaleSpans(t, withStrategy(t, synthetic(t, 0.1, []int{1, 2}, ""), "procpool", 1.1), "procpool", tt.spans))
			if err != nil {
				t.Fatal(err)
			}
			c := Analyze(s)[0].Calibration()
			// serial, serial-aa, goroutines/1 and procpool/1: six pairs,
			// and the three with procpool (10% slower), across the
			// process boundary, differ.
			if c == nil || len(c.Cells) != 4 || len(c.Pairs) != 6 || c.Differ < 3 || !within(c.Gap, 0.1, 0.3) {
				t.Fatalf("calibration %+v", c)
			}
			// serial, serial-aa and goroutines/1 do the same work in one
			// process.
			if c.GapWithin > 0.05 || c.GapWithin >= c.Gap {
				t.Errorf("gap %.1f%% on one side of the process boundary, %.1f%% in all: want the 10%% only across it", 100*c.GapWithin, 100*c.Gap)
			}
			if c.Across != 3 || c.DifferAcross != 3 {
				t.Errorf("%d pairs across processes, %d of them differing: want 3 and 3", c.Across, c.DifferAcross)
			}
			// On a CPU, procpool's work is goroutines/1's (the same spans)
			// or 10% slower: across the boundary, its pairs differ as
			// goroutines/1's own pairs with serial and serial-aa do (by
			// chance, 1% noise over 12 rounds), or all three.
			differs := func(r Ratio) bool { return r.Valid() && (r.Lo > 1 || r.Hi < 1) }
			want := 3
			if tt.spans == 1 {
				want = 0
				for _, p := range c.Pairs {
					if !p.Across && (p.A.Cell.Strategy == "goroutines" || p.B.Cell.Strategy == "goroutines") && differs(p.OnCPU) {
						want++
					}
				}
			}
			if c.AcrossOnCPU != 3 || c.DifferOnCPU != want {
				t.Errorf("%d of %d pairs across processes differ on a CPU, want %d of 3", c.DifferOnCPU, c.AcrossOnCPU, want)
			}
			for _, p := range c.Pairs {
				if want := p.A.Cell.Strategy == "procpool" || p.B.Cell.Strategy == "procpool"; p.Across != want {
					t.Errorf("%s vs %s: across = %v, want %v", p.B.Cell.Strategy, p.A.Cell.Strategy, p.Across, want)
				}
				want := 1.0
				if p.Across {
					want = tt.spans
					if p.A.Cell.Strategy == "procpool" {
						want = 1 / want
					}
				}
				if !p.OnCPU.Paired {
					t.Errorf("%s vs %s: on a CPU %v is not paired by round", p.B.Cell.Strategy, p.A.Cell.Strategy, p.OnCPU)
				}
				if !within(p.OnCPU.Center, want*0.97, want*1.03) {
					t.Errorf("%s vs %s: on a CPU %v, want about %.2f", p.B.Cell.Strategy, p.A.Cell.Strategy, p.OnCPU, want)
				}
			}
		})
	}
}

// scaleSpans multiplies the spans of strategy's samples in the file at path
// by k, and their time off a CPU with them.
func scaleSpans(t *testing.T, path, strategy string, k float64) string {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(content), "\n")
	for i, line := range lines {
		if !strings.Contains(line, "strategy="+strategy+"/") {
			continue
		}
		f := strings.Fields(line)
		for j := 3; j < len(f); j++ {
			if strings.HasPrefix(f[j], "span-") || strings.HasPrefix(f[j], "wait-") {
				var v float64
				fmt.Sscan(f[j-1], &v)
				f[j-1] = fmt.Sprint(v * k)
			}
		}
		lines[i] = strings.Join(f, " ")
	}
	return writeFile(t, "spans.txt", strings.Join(lines, "\n"))
}

// aaFile writes a result file of the given rounds in which serial and its
// A/A twin differ only by each run's own noise (relative standard deviation
// noise) and spend offCPU of each run's span off a CPU; a goroutines curve
// makes it a scaling.
func aaFile(t *testing.T, rounds int, noise, offCPU float64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString("ncpu: 2\nusable-cpus: 2\nUnit B/s better=higher\n")
	for round := range rounds {
		drift := 1 + 0.01*float64(round%7)
		for _, c := range []struct {
			strategy string
			n        int
		}{{"serial", 1}, {"serial-aa", 1}, {"goroutines", 1}, {"goroutines", 2}} {
			wall := drift * 0.1 / float64(c.n) * (1 + noise*rng.NormFloat64())
			fmt.Fprintf(&b, "BenchmarkHash/shape=uniform/size=64Mi/strategy=%s/sched=dynamic/workers=%d 1 %g ns/op %g B/s %g span-max-ns/op %g span-mean-ns/op %g wait-mean-ns/op\n",
				c.strategy, c.n, wall*1e9, 64e6/wall, wall*1e9, wall*1e9, offCPU*wall*1e9)
		}
	}
	return writeFile(t, "aa.txt", b.String())
}

func TestTheNoiseFloorSaysWhereItComesFrom(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		rounds                int
		noise, offCPU         float64
		spreadLo, spreadHi    float64
		moreRounds            bool
		wantNote, notWantNote string
	}{
		// Two runs with 5% noise each: their ratio spreads 7%, half its
		// interquartile range about 4.8%.
		{"a CPU of varying speed", 30, 0.05, 0.001, 0.03, 0.07, true, "varying speed", "host or another thread"},
		{"time taken off the CPU", 30, 0.05, 0.10, 0.03, 0.07, true, "host or another thread", "varying speed"},
		{"runs that agree", 30, 0.001, 0, 0, 0.01, false, "they agree", "forks differ"},
	} {
		s, err := Read(aaFile(t, tt.rounds, tt.noise, tt.offCPU))
		if err != nil {
			t.Fatal(err)
		}
		sc := Analyze(s)[0]
		ns := sc.Noise
		if !sc.NoiseFloor.Valid() || ns.Spread < tt.spreadLo || ns.Spread > tt.spreadHi {
			t.Errorf("%s: spread %.4f, want within [%g, %g] (floor %v)", tt.name, ns.Spread, tt.spreadLo, tt.spreadHi, sc.NoiseFloor)
		}
		if math.Abs(ns.OffCPU-tt.offCPU) > 1e-9 {
			t.Errorf("%s: off CPU %.4f, want %g", tt.name, ns.OffCPU, tt.offCPU)
		}
		if got := ns.RoundsForOnePercent > tt.rounds; got != tt.moreRounds {
			t.Errorf("%s: %d rounds for +-1%% from %d with a half-width of %.2f%%", tt.name, ns.RoundsForOnePercent, tt.rounds, 100*sc.NoiseFloor.HalfWidth())
		}
		if want := 1.96 * 1.2533 * ns.Spread / 0.6745 / math.Sqrt(float64(tt.rounds)); !near(ns.Expected, want, 1e-12) {
			t.Errorf("%s: expected half-width %g, want %g", tt.name, ns.Expected, want)
		}
		note := noiseNote(ns, sc.Floor())
		if !strings.Contains(note, tt.wantNote) || strings.Contains(note, tt.notWantNote) {
			t.Errorf("%s: note %q, want %q and not %q", tt.name, note, tt.wantNote, tt.notWantNote)
		}
	}
}

func TestAFloorFarWiderThanItsSpreadGivesSaysSo(t *testing.T) {
	for _, tt := range []struct {
		name   string
		ns     NoiseSource
		floor  float64
		wanted bool
	}{
		// The committed full run's search: 6 rounds in 3 forks.
		{"six rounds that agree", NoiseSource{Spread: 0.009, Expected: 0.013, RoundsForOnePercent: 110}, 0.061, true},
		// A one-process sweep of 30 rounds on a noisy host.
		{"thirty noisy rounds", NoiseSource{Spread: 0.062, OffCPU: 0.003, Expected: 0.041, RoundsForOnePercent: 428}, 0.064, false},
	} {
		note := noiseNote(tt.ns, tt.floor)
		if got := strings.Contains(note, "the luck of few rounds"); got != tt.wanted {
			t.Errorf("%s: floor +-%.1f%% against an expected +-%.1f%%: %q", tt.name, 100*tt.floor, 100*tt.ns.Expected, note)
		}
	}
}
