package analysis

import (
	"encoding/csv"
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

// Benchmarks of the synthetic result files, named as corescale run names them.
const (
	cmpMatmulSerial = "Matmul/shape=square/size=128/strategy=serial/sched=dynamic/workers=1"
	cmpMatmulPool   = "Matmul/shape=square/size=128/strategy=procpool/sched=dynamic/workers=2"
	cmpHash         = "Hash/shape=uniform/size=4Mi/strategy=goroutines/sched=dynamic/workers=2"
	cmpSearch       = "Search/shape=uniform/size=64Ki/strategy=goroutines/sched=static/workers=2"
)

// A cmpBench describes the samples of one benchmark in a synthetic result
// file.
type cmpBench struct {
	name  string  // without "Benchmark"
	sec   float64 // typical time per operation
	work  float64 // work per operation, counted in unit
	unit  string  // throughput unit, such as FLOP/s; empty for none
	busy  float64 // busy-max time as a fraction of the wall time; 0 means 0.9
	n     int     // samples
	noise float64 // sigma of the log-normal noise: 0.01 is about 1%
}

// cmpSuite is a sweep of four benchmarks, n samples each, with noise.
func cmpSuite(n int, noise float64) []cmpBench {
	return []cmpBench{
		{name: cmpMatmulSerial, sec: 2.1e-3, work: 2 * 128 * 128 * 128, unit: UnitFLOP, n: n, noise: noise},
		{name: cmpMatmulPool, sec: 1.2e-3, work: 2 * 128 * 128 * 128, unit: UnitFLOP, n: n, noise: noise},
		{name: cmpHash, sec: 1.4e-3, work: 4 << 20, unit: UnitBytes, n: n, noise: noise},
		{name: cmpSearch, sec: 0.6e-3, work: 1 << 16, unit: UnitQueries, n: n, noise: noise},
	}
}

// changed returns benches with f applied to the one named name.
func changed(benches []cmpBench, name string, f func(*cmpBench)) []cmpBench {
	out := slices.Clone(benches)
	for i := range out {
		if out[i].name == name {
			f(&out[i])
		}
	}
	return out
}

// without returns benches without the one named name.
func without(benches []cmpBench, name string) []cmpBench {
	return slices.DeleteFunc(slices.Clone(benches), func(b cmpBench) bool { return b.name == name })
}

// writeCmpFile writes a result file as corescale run does: configuration
// lines, unit metadata when units is set, and one line per sample, the
// benchmarks interleaved round by round. Times are log-normal around sec,
// drawn from a generator seeded with seed.
func writeCmpFile(t *testing.T, seed uint64, units bool, benches ...cmpBench) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var b strings.Builder
	fmt.Fprintf(&b, "goos: linux\ngoarch: amd64\ncpu: Synthetic CPU\nncpu: 2\ncommit: c%d\n", seed)
	if units {
		b.WriteString("Unit busy-max-ns/op better=lower\nUnit busy-mean-ns/op better=lower\n")
		for _, u := range []string{UnitFLOP, UnitBytes, UnitQueries} {
			fmt.Fprintf(&b, "Unit %s better=higher\n", u)
		}
	}
	rounds := 0
	for _, bench := range benches {
		rounds = max(rounds, bench.n)
	}
	for round := range rounds {
		for _, bench := range benches {
			if round >= bench.n {
				continue
			}
			sec := bench.sec * math.Exp(bench.noise*rng.NormFloat64())
			busy := bench.busy
			if busy == 0 {
				busy = 0.9
			}
			fmt.Fprintf(&b, "Benchmark%s 1 %.0f ns/op", bench.name, sec*1e9)
			if bench.unit != "" {
				fmt.Fprintf(&b, " %.4g %s", bench.work/sec, bench.unit)
			}
			fmt.Fprintf(&b, " %.0f busy-max-ns/op %.0f busy-mean-ns/op\n", busy*sec*1e9, 0.95*busy*sec*1e9)
		}
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("results-%d.txt", seed))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readCmpSet reads result files that must be good.
func readCmpSet(t *testing.T, paths ...string) *Set {
	t.Helper()
	s, err := Read(paths...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// compareSuites writes old and new as result files, reads them back and
// compares them at alpha 0.05.
func compareSuites(t *testing.T, old, new []cmpBench) []Comparison {
	t.Helper()
	oldSet := readCmpSet(t, writeCmpFile(t, 1, true, old...))
	newSet := readCmpSet(t, writeCmpFile(t, 2, true, new...))
	return Compare(oldSet, newSet, 0.05)
}

// find returns the comparison of a benchmark in a unit.
func find(t *testing.T, cmps []Comparison, name, unit string) Comparison {
	t.Helper()
	for _, c := range cmps {
		if c.Name == name && c.Unit == unit {
			return c
		}
	}
	t.Fatalf("no comparison of %s in %s", name, unit)
	return Comparison{}
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestCompareFindsASlowerBenchmarkInEveryUnit(t *testing.T) {
	old := cmpSuite(10, 0.01)
	new := changed(old, cmpMatmulPool, func(b *cmpBench) { b.sec *= 1.2 })
	cmps := compareSuites(t, old, new)

	var units []string
	for _, c := range cmps {
		if !slices.Contains(units, c.Unit) {
			units = append(units, c.Unit)
		}
	}
	// Time, then throughput, then diagnostics.
	if want := []string{UnitTime, UnitFLOP, UnitBytes, UnitQueries, UnitBusyMax, UnitBusyMean}; !slices.Equal(units, want) {
		t.Errorf("units %v, want %v", units, want)
	}

	slow := find(t, cmps, cmpMatmulPool, UnitTime)
	if slow.Old.N != 10 || slow.New.N != 10 {
		t.Errorf("n=%d+%d, want 10+10", slow.Old.N, slow.New.N)
	}
	if !near(slow.Old.Center, 1.2e-3, 0.03*1.2e-3) || !(slow.Old.Lo <= slow.Old.Center && slow.Old.Center <= slow.Old.Hi) || math.IsInf(slow.Old.Hi, 0) {
		t.Errorf("old median %v in [%v, %v], want about 1.2ms in a finite interval", slow.Old.Center, slow.Old.Lo, slow.Old.Hi)
	}
	if !near(slow.Delta, 0.2, 0.03) || !slow.Significant || slow.P >= 0.01 {
		t.Errorf("delta %.3f p=%.4f significant=%v, want about +0.2, significant", slow.Delta, slow.P, slow.Significant)
	}
	if slow.Better != -1 || !near(slow.Worsening(), 0.2, 0.03) {
		t.Errorf("better %d worsening %.3f, want -1 and about 0.2", slow.Better, slow.Worsening())
	}
	if slow.Undecided() || slow.OnlyOld() || slow.OnlyNew() {
		t.Errorf("comparison %+v should be decided and two-sided", slow)
	}

	// Throughput is better higher: 20% more time is 1/6 less throughput,
	// which is a worsening too.
	tp := find(t, cmps, cmpMatmulPool, UnitFLOP)
	if tp.Better != 1 || !near(tp.Delta, -1.0/6, 0.03) || !near(tp.Worsening(), 1.0/6, 0.03) || !tp.Significant {
		t.Errorf("FLOP/s: better %d delta %.3f worsening %.3f significant %v", tp.Better, tp.Delta, tp.Worsening(), tp.Significant)
	}

	same := find(t, cmps, cmpHash, UnitTime)
	if math.Abs(same.Delta) > 0.02 {
		t.Errorf("unchanged benchmark moved by %.3f", same.Delta)
	}
}

func TestCompareKnowsWhichWayIsBetter(t *testing.T) {
	tests := []struct {
		name, unit, metadata string
		want                 int
	}{
		{"time is better lower", "ns/op", "", -1},
		{"busy time is better lower", "busy-max-ns/op", "", -1},
		{"bytes per second are better higher", "B/s", "", 1},
		{"FLOP/s are better higher without metadata", "FLOP/s", "", 1},
		{"queries/s are better higher without metadata", "queries/s", "", 1},
		{"an unknown unit has no direction", "widgets/s", "", 0},
		{"metadata gives an unknown unit its direction", "widgets/s", "Unit widgets/s better=higher\n", 1},
		{"metadata wins over the defaults", "queries/s", "Unit queries/s better=lower\n", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := tt.metadata + "BenchmarkX 1 5 " + tt.unit + "\n"
			path := filepath.Join(t.TempDir(), "r.txt")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			s := readCmpSet(t, path)
			cmps := Compare(s, s, 0)
			if len(cmps) != 1 {
				t.Fatalf("%d comparisons, want 1", len(cmps))
			}
			if cmps[0].Better != tt.want {
				t.Errorf("%s: better %d, want %d", cmps[0].Unit, cmps[0].Better, tt.want)
			}
		})
	}
}

func TestCompareReportsBenchmarksOnOneSide(t *testing.T) {
	suite := cmpSuite(6, 0.01)
	old := without(suite, cmpSearch)
	new := without(suite, cmpHash)
	cmps := compareSuites(t, old, new)

	var names []string
	for _, c := range cmps {
		if c.Unit == UnitTime {
			names = append(names, c.Name)
		}
	}
	want := []string{cmpMatmulSerial, cmpMatmulPool, cmpHash, cmpSearch}
	if !slices.Equal(names, want) {
		t.Errorf("sec/op rows %v, want old's order then new's: %v", names, want)
	}
	gone := find(t, cmps, cmpHash, UnitTime)
	if !gone.OnlyOld() || gone.OnlyNew() || gone.Old.N != 6 || !math.IsNaN(gone.Delta) || gone.P != 1 || gone.Significant {
		t.Errorf("benchmark only in old: %+v", gone)
	}
	added := find(t, cmps, cmpSearch, UnitQueries)
	if !added.OnlyNew() || added.OnlyOld() || added.New.N != 6 {
		t.Errorf("benchmark only in new: %+v", added)
	}
}

func TestCompareNeedsEnoughSamplesToDecide(t *testing.T) {
	tests := []struct {
		name      string
		old, new  int
		undecided bool
	}{
		{"two samples a side are undecided", 2, 2, true},
		{"three samples a side are undecided", 3, 3, true},
		{"four samples a side decide", 4, 4, false},
		{"one old sample is undecided however many new ones", 1, 10, true},
		{"ten samples a side decide", 10, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := []cmpBench{{name: cmpHash, sec: 1e-3, n: tt.old, noise: 0.01}}
			new := []cmpBench{{name: cmpHash, sec: 2e-3, n: tt.new, noise: 0.01}}
			c := find(t, compareSuites(t, old, new), cmpHash, UnitTime)
			if c.Undecided() != tt.undecided {
				t.Errorf("n=%d+%d: undecided %v (min p %.4f), want %v", c.Old.N, c.New.N, c.Undecided(), c.MinP, tt.undecided)
			}
			// Twice the time with non-overlapping samples: whatever can
			// be decided is significant.
			if c.Significant == tt.undecided {
				t.Errorf("n=%d+%d: significant %v with p=%.4f", c.Old.N, c.New.N, c.Significant, c.P)
			}
		})
	}
}

func TestComparePoolsABenchmarksSamplesAcrossFiles(t *testing.T) {
	old := readCmpSet(t,
		writeCmpFile(t, 1, true, cmpBench{name: cmpHash, sec: 1e-3, n: 5, noise: 0.01}),
		writeCmpFile(t, 2, true, cmpBench{name: cmpHash, sec: 1e-3, n: 5, noise: 0.01}))
	new := readCmpSet(t, writeCmpFile(t, 3, true, cmpBench{name: cmpHash, sec: 1e-3, n: 10, noise: 0.01}))
	c := find(t, Compare(old, new, 0.05), cmpHash, UnitTime)
	if c.Old.N != 10 || c.New.N != 10 {
		t.Errorf("n=%d+%d, want 10+10", c.Old.N, c.New.N)
	}
}

func TestCompareLeavesTheSetsSamplesInFileOrder(t *testing.T) {
	old := readCmpSet(t, writeCmpFile(t, 1, true, cmpBench{name: cmpHash, sec: 1e-3, n: 8, noise: 0.05}))
	new := readCmpSet(t, writeCmpFile(t, 2, true, cmpBench{name: cmpHash, sec: 1e-3, n: 8, noise: 0.05}))
	before := slices.Clone(old.Cells[0].Values[UnitTime])
	Compare(old, new, 0.05)
	if got := old.Cells[0].Values[UnitTime]; !slices.Equal(got, before) {
		t.Errorf("samples reordered: %v, were %v", got, before)
	}
}

func TestWriteComparisonWritesEveryFormat(t *testing.T) {
	old := cmpSuite(10, 0.01)
	new := changed(old, cmpMatmulPool, func(b *cmpBench) { b.sec *= 1.2 })
	new = changed(new, cmpSearch, func(b *cmpBench) { b.n = 3 })
	cmps := compareSuites(t, old, new)

	tests := []struct {
		format string
		want   []string
	}{
		{FormatText, []string{
			"sec/op (lower is better)", "FLOP/s (higher is better)", "B/s (higher is better)",
			cmpMatmulPool, "ms ± 1%", "µs ± ∞", "2.785Gi ± 1%", "+20.", "% (worse)", "~", "p=0.000 n=10", "n=10+3 ¹",
			"¹ need >= 6 samples for confidence interval at level 0.95",
		}},
		{FormatMarkdown, []string{"**sec/op (lower is better)**", "| benchmark", "% (worse)", "-16."}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var b strings.Builder
			if err := WriteComparison(&b, cmps, tt.format); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}

	t.Run("csv", func(t *testing.T) {
		var b strings.Builder
		if err := WriteComparison(&b, cmps, FormatCSV); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != len(cmps)+1 || records[0][0] != "benchmark" || records[0][11] != "delta" {
			t.Fatalf("%d records, header %v; want %d and a header", len(records), records[0], len(cmps)+1)
		}
		for _, r := range records[1:] {
			if r[0] == cmpMatmulPool && r[1] == UnitTime {
				d, err := strconv.ParseFloat(r[11], 64)
				if err != nil || !near(d, 0.2, 0.03) || r[2] != "lower" || r[13] != "true" {
					t.Errorf("row %v: want a delta of about 0.2, lower is better, significant", r)
				}
				return
			}
		}
		t.Errorf("no sec/op row of %s", cmpMatmulPool)
	})

	t.Run("an unknown format is refused", func(t *testing.T) {
		err := WriteComparison(&strings.Builder{}, cmps, "pdf")
		if err == nil || !strings.Contains(err.Error(), `analysis: unknown format "pdf"`) {
			t.Errorf("error %v", err)
		}
	})
}
