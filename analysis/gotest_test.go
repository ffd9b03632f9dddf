package analysis

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The fixtures in testdata/gotest are real go test -bench output; capture.sh
// there has the commands that made them.
func fixture(name string) string { return filepath.Join("testdata", "gotest", name) }

// nsPerOp reads a fixture's ns/op values by benchmark name (with go test's
// -N suffix) with nothing but strings.Fields: the reference the analysis'
// figures are checked against.
func nsPerOp(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || fields[3] != "ns/op" {
			continue
		}
		v, err := strconv.ParseFloat(fields[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		out[name] = append(out[name], v)
	}
	return out
}

func analyzeFixture(t *testing.T, name string) (*Set, []*Scaling) {
	t.Helper()
	s, err := Read(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return s, Analyze(s)
}

func scalingOf(t *testing.T, scs []*Scaling, bench string) *Scaling {
	t.Helper()
	for _, sc := range scs {
		if sc.Config.Bench == bench {
			return sc
		}
	}
	t.Fatalf("no scaling of %s", bench)
	return nil
}

func TestGoTestOutputIsOneCurvePerBenchmark(t *testing.T) {
	tests := []struct {
		file    string
		benches []string // in file order
		single  []string // measured at one worker count
	}{
		{"sync.txt", []string{"MutexUncontended", "Pool", "RWMutexUncontended"}, nil},
		{"sync-benchmem.txt", []string{"PoolExpensiveNew"}, nil},
		// Sub-benchmarks are curves of their own: EqualFold/ASCII is no
		// point of EqualFold/Tests.
		{"strings-count1.txt", []string{"IndexByte", "EqualFold/Tests", "EqualFold/ASCII", "EqualFold/UnicodePrefix", "EqualFold/UnicodeSuffix"}, nil},
		{"strings-one-cpu.txt", nil, []string{"IndexByte", "EqualFold/Tests", "EqualFold/ASCII", "EqualFold/UnicodePrefix", "EqualFold/UnicodeSuffix"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, scs := analyzeFixture(t, tt.file)
			var benches, single []string
			for _, sc := range scs {
				if !sc.IsBench() || sc.Paired || len(sc.Curves) != 1 || sc.Baseline != nil {
					t.Errorf("%s: bench %v, paired %v, %d curves, baseline %v: want one unpaired curve of a go test benchmark and no serial cell",
						sc.Config, sc.IsBench(), sc.Paired, len(sc.Curves), sc.Baseline != nil)
				}
				if sc.Analysable() {
					benches = append(benches, sc.Config.String())
				} else {
					single = append(single, sc.Config.String())
				}
			}
			if !slices.Equal(benches, tt.benches) || !slices.Equal(single, tt.single) {
				t.Errorf("analysable %q, single %q; want %q, %q", benches, single, tt.benches, tt.single)
			}
		})
	}
}

func TestGoTestSpeedupsAreUnpairedRatiosOfMedians(t *testing.T) {
	ref := nsPerOp(t, fixture("sync.txt"))
	_, scs := analyzeFixture(t, "sync.txt")
	for _, bench := range []string{"MutexUncontended", "Pool", "RWMutexUncontended"} {
		p := scalingOf(t, scs, bench).Curves[0].Point(2)
		// Throughput over throughput: runs per second, the reciprocals.
		rate := func(ts []float64) []float64 {
			out := make([]float64, len(ts))
			for i, t := range ts {
				out[i] = 1 / t
			}
			return out
		}
		want := median(rate(ref[bench+"-2"])) / median(rate(ref[bench]))
		sp := p.Speedup
		if sp.Paired || sp.Rounds != 6 || !within(sp.Center, want, 1e-9) || !(sp.Lo < sp.Center && sp.Center < sp.Hi) {
			t.Errorf("%s at -cpu 2: speedup %v (paired %v, %d samples), want the unpaired ratio of medians %.4f inside an interval from 6 samples a side",
				bench, sp, sp.Paired, sp.Rounds, want)
		}
		if !within(p.Efficiency.Center, want/2, 1e-9) {
			t.Errorf("%s: efficiency %v, want %.4f", bench, p.Efficiency, want/2)
		}
		if kf := (1/want - 0.5) / 0.5; !within(p.KarpFlatt, kf, 1e-9) {
			t.Errorf("%s: Karp-Flatt %.4f, want %.4f", bench, p.KarpFlatt, kf)
		}
	}
	// Uncontended locks scale on two CPUs: each goroutine has its own.
	if sp := scalingOf(t, scs, "MutexUncontended").Curves[0].Point(2).Speedup; sp.Lo < 1.5 {
		t.Errorf("MutexUncontended at -cpu 2: %v, want well above 1.5x", sp)
	}
}

func TestGoTestWithOneSampleHasSpeedupsWithoutIntervals(t *testing.T) {
	ref := nsPerOp(t, fixture("strings-count1.txt"))
	_, scs := analyzeFixture(t, "strings-count1.txt")
	sp := scalingOf(t, scs, "EqualFold/ASCII").Curves[0].Point(2).Speedup
	want := ref["EqualFold/ASCII"][0] / ref["EqualFold/ASCII-2"][0]
	if !sp.Valid() || !within(sp.Center, want, 1e-9) || !math.IsNaN(sp.Lo) || !math.IsNaN(sp.Hi) {
		t.Errorf("speedup %v, want %.4f without an interval", sp, want)
	}
}

func TestUnpairedRatioRecoversAKnownRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var num, den []float64
	for range 20 {
		num = append(num, 2*(1+0.01*rng.NormFloat64()))
		den = append(den, 1+0.01*rng.NormFloat64())
	}
	tests := []struct {
		name         string
		num, den     []float64
		valid, hasCI bool
	}{
		{"20 samples a side", num, den, true, true},
		{"5 samples on a side", num[:5], den, true, false},
		{"no samples on a side", nil, den, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := unpairedRatio(tt.num, tt.den)
			if r.Valid() != tt.valid || r.Paired {
				t.Fatalf("ratio %v: valid %v, paired %v; want valid %v, unpaired", r, r.Valid(), r.Paired, tt.valid)
			}
			if !tt.valid {
				return
			}
			if !within(r.Center, 2, 0.02) {
				t.Errorf("ratio %v, want about 2", r)
			}
			if hasCI := !math.IsNaN(r.Lo); hasCI != tt.hasCI || hasCI && !(r.Lo <= 2 && 2 <= r.Hi && r.HalfWidth() < 0.02) {
				t.Errorf("ratio %v: want an interval %v, tight around 2 if any", r, tt.hasCI)
			}
		})
	}
}

func TestGoTestMetricsAreKeptPerWorkerCount(t *testing.T) {
	s, scs := analyzeFixture(t, "sync-benchmem.txt")
	sc := scalingOf(t, scs, "PoolExpensiveNew")
	if got, want := benchUnits([]*Scaling{sc}), []string{"B/op", "allocs/op", "GCs/op", "New/op"}; !slices.Equal(got, want) {
		t.Errorf("units %q, want %q", got, want)
	}
	// GCs/op is 1 at -cpu 1 and 0 at -cpu 2 in this capture.
	for _, tt := range []struct {
		workers int
		gcs     float64
	}{{1, 1}, {2, 0}} {
		p := sc.Curves[0].Point(tt.workers)
		if got := Summarize(p.Cell.Values["GCs/op"]).Center; got != tt.gcs || len(p.Cell.Values["B/op"]) != 6 {
			t.Errorf("-cpu %d: GCs/op %v and %d B/op samples, want %v and 6", tt.workers, got, len(p.Cell.Values["B/op"]), tt.gcs)
		}
	}
	var b strings.Builder
	if err := NewReport(s).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{" B/op │", " allocs/op │", " GCs/op │", " New/op │", "11.13Mi", "PoolExpensiveNew at -cpu 2:"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestThisProjectsGoTestBenchmarksAreReadAsCells(t *testing.T) {
	_, scs := analyzeFixture(t, "bench.txt")
	if len(scs) != 1 || scs[0].Config.String() != "Hash/shape=uniform/size=4Mi" || scs[0].IsBench() || scs[0].Paired {
		t.Fatalf("scalings %v: want the one unpaired kernel configuration Hash/shape=uniform/size=4Mi", scs)
	}
	var names []string
	for _, cv := range scs[0].Curves {
		names = append(names, cv.Name())
		if p := cv.Point(2); p == nil || !p.Speedup.Valid() || p.Speedup.Center < 1.5 {
			t.Errorf("%s at 2 workers: %v, want a speedup above 1.5x", cv.Name(), p)
		}
	}
	if want := []string{"goroutines/dynamic", "goroutines/static", "procpool/dynamic", "procpool/static"}; !slices.Equal(names, want) {
		t.Errorf("curves %q, want %q", names, want)
	}
}

func TestGoTestFitsFollowTheSweepsRules(t *testing.T) {
	// Amdahl's law with a serial fraction of 0.1 at -cpu 1,2,4,8, six
	// samples each with 0.5% noise.
	gotest := func(config string) string {
		rng := rand.New(rand.NewPCG(9, 10))
		var b strings.Builder
		b.WriteString("pkg: example.com/p\n" + config)
		for _, n := range []int{1, 2, 4, 8} {
			for range 6 {
				suffix := ""
				if n > 1 {
					suffix = fmt.Sprintf("-%d", n)
				}
				fmt.Fprintf(&b, "BenchmarkWork%s 1000 %g ns/op\n", suffix, 1000*(0.1+0.9/float64(n))*(1+0.005*rng.NormFloat64()))
			}
		}
		return b.String()
	}
	tests := []struct {
		name   string
		config string
		laws   []Law
		note   string
	}{
		{"a file that does not say its CPUs is fitted over every worker count", "", []Law{Amdahl, USL}, ""},
		{"a file of a 2-CPU machine is fitted up to 2 CPUs: too few points", "usable-cpus: 2\n", nil, "within the 2 usable CPUs"},
		{"a file of a 4-CPU machine has Amdahl's three points, not the USL's four", "usable-cpus: 4\n", []Law{Amdahl}, "USL needs 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Read(writeFile(t, "p.txt", gotest(tt.config)))
			if err != nil {
				t.Fatal(err)
			}
			cv := Analyze(s)[0].Curves[0]
			var laws []Law
			for _, f := range cv.Fits {
				laws = append(laws, f.Law)
			}
			if !slices.Equal(laws, tt.laws) || !strings.Contains(cv.FitNote, tt.note) {
				t.Errorf("fits %v, note %q; want %v and a note with %q", laws, cv.FitNote, tt.laws, tt.note)
			}
			if f := cv.Fit(Amdahl); f != nil && !within(f.Serial, 0.1, 0.1) {
				t.Errorf("Amdahl serial fraction %.4f, want about 0.1", f.Serial)
			}
		})
	}
}

func TestFilesThatCannotBeAnalysedSayWhy(t *testing.T) {
	tests := []struct {
		name, path string
		want       string // "" for a file that can be analysed
	}{
		{"go test output of the standard library", fixture("sync.txt"), ""},
		{"this project's go test benchmarks", fixture("bench.txt"), ""},
		{"a sweep of corescale run", "testdata/small.txt", ""},
		{"benchmarks at one worker count only", fixture("strings-one-cpu.txt"), "has no benchmark at two or more worker counts"},
		{"a worker count that is no number", writeFile(t, "w.txt", "pkg: p\nBenchmarkA/workers=two 1 5 ns/op\nBenchmarkA/workers=2 1 3 ns/op\n"), "BenchmarkA/workers=two: workers=two is no worker count"},
		{"a corescale cell with a key corescale does not write", writeFile(t, "k.txt",
			"BenchmarkHash/shape=u/size=1/strategy=goroutines/sched=dynamic/color=red/workers=1 1 5 ns/op\nBenchmarkHash/shape=u/size=1/strategy=goroutines/sched=dynamic/color=red/workers=2 1 3 ns/op\n"),
			"unknown key color=red"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Read(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckScaling(s, Analyze(s))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckScaling: %v, want nil", err)
			case tt.want != "" && (err == nil || !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path)):
				t.Errorf("CheckScaling: %v, want an input error naming %s and saying %q", err, tt.path, tt.want)
			}
		})
	}
	if _, err := Read(fixture("nobench.txt")); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "has no benchmark results") {
		t.Errorf("a file without benchmark lines: %v, want an input error", err)
	}
}

func TestTheHeaderSaysOnlyWhatTheFileHolds(t *testing.T) {
	tests := []struct{ file, want string }{
		{fixture("sync.txt"), "sync.txt: linux/amd64, AMD EPYC, package sync\n"},
		{fixture("bench.txt"), "bench.txt: linux/amd64, AMD EPYC, package github.com/corescale/corescale/bench\n"},
	}
	for _, tt := range tests {
		s, err := Read(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := NewReport(s).WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(b.String(), "\n"); first+"\n" != tt.want {
			t.Errorf("%s: the report starts %q, want %q", tt.file, first, tt.want)
		}
		if strings.Contains(b.String(), "shape=/size=") {
			t.Errorf("%s: the report names an empty shape or size:\n%s", tt.file, b.String())
		}
	}
}

// Sweeps that are corescale's own report as such: a pinned cell's pin key
// is one of corescale's, not an unknown one, and a sweep at one worker count
// still compares its cells with the serial baseline (the identical-work
// calibration is such a sweep).
func TestCorescaleSweepsReport(t *testing.T) {
	const serial = "BenchmarkHash/shape=uniform/size=4Mi/strategy=serial/sched=dynamic/workers=1 1 5e6 ns/op\n"
	tests := []struct{ name, lines string }{
		{"pinned cells", serial +
			"BenchmarkHash/shape=uniform/size=4Mi/strategy=goroutines/sched=dynamic/pin=cores/workers=1 1 5e6 ns/op\n" +
			"BenchmarkHash/shape=uniform/size=4Mi/strategy=goroutines/sched=dynamic/pin=cores/workers=2 1 2.6e6 ns/op\n"},
		{"one worker count", serial +
			"BenchmarkHash/shape=uniform/size=4Mi/strategy=procpool/sched=dynamic/workers=1 1 5.1e6 ns/op\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Read(writeFile(t, "sweep.txt", strings.Repeat(tt.lines, 6)))
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckScaling(s, Analyze(s)); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		})
	}
}

// go test ./... writes several packages into one file, and benchmarks of
// the same name in two of them would make one curve: refused.
func TestAFileOfSeveralPackagesIsRefused(t *testing.T) {
	path := writeFile(t, "multi.txt", "pkg: example.com/a\nBenchmarkEnc 100 50 ns/op\nBenchmarkEnc-2 100 30 ns/op\n"+
		"pkg: example.com/b\nBenchmarkEnc 100 5000 ns/op\nBenchmarkEnc-2 100 1000 ns/op\n")
	s, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	err = CheckScaling(s, Analyze(s))
	if err == nil || !strings.Contains(err.Error(), "2 packages") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a file of two packages: %v, want one line naming them", err)
	}
}

// Any package may have a BenchmarkStartup or BenchmarkCeiling: without
// corescale's keys they are benchmarks like the others.
func TestBenchmarksNamedLikeCorescalesLinesAreSamples(t *testing.T) {
	path := writeFile(t, "startup.txt", "pkg: example.com/a\nBenchmarkStartup 100 50 ns/op\nBenchmarkStartup-2 100 30 ns/op\n"+
		"BenchmarkCeiling 100 50 ns/op\nBenchmarkCeiling-2 100 26 ns/op\n")
	s, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Startups) != 0 || len(s.Ceilings) != 0 || len(s.Cells) != 4 {
		t.Errorf("%d start-ups, %d ceilings, %d cells; want 0, 0 and 4 cells", len(s.Startups), len(s.Ceilings), len(s.Cells))
	}
}
