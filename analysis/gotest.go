package analysis

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/corescale/corescale/resultfile"

	"golang.org/x/perf/benchunit"
)

// Benchmarks of other tools (go test -bench -cpu output of any package, or
// corescale bench's files) are analysed with the same code as corescale's
// sweeps: each benchmark name without its worker count is a configuration
// with one curve and no serial cell, so its speedups are relative to its
// own 1-CPU point, and its fits follow the sweep's rules. What differs is
// the report: one row per worker count, with every metric the benchmark
// reported (B/op, allocs/op, custom ones) beside the scaling figures.

// IsBench reports whether the scaling is a go test benchmark's.
func (sc *Scaling) IsBench() bool { return sc.Config.Bench != "" }

// Analysable reports whether the scaling was measured at two or more
// worker counts, its serial baseline's one included.
func (sc *Scaling) Analysable() bool {
	if !sc.IsBench() && sc.Baseline != nil && len(sc.Curves) > 0 {
		return true // a sweep's cells compare with its serial baseline at any worker count
	}
	ws := sc.Workers()
	if sc.Baseline != nil && !slices.Contains(ws, sc.Baseline.Workers) {
		ws = append(ws, sc.Baseline.Workers)
	}
	return len(ws) >= 2
}

// CheckScaling returns an ErrInput error naming the first file of s that
// cannot be analysed, and why: benchmarks of several packages in one file,
// a benchmark name with parts no cell holds
// (keys corescale does not know in a name with its strategy key, or a
// workers= or gomaxprocs= part that is no count), or no benchmark measured
// at two or more worker counts.
func CheckScaling(s *Set, scalings []*Scaling) error {
	for i, f := range s.Files {
		if len(f.Packages) > 1 {
			// Benchmarks are told apart by name only: two packages'
			// BenchmarkEnc would make one curve.
			return inputError("%s holds the benchmarks of %d packages (%s, %s...): report each package's output on its own", f.Path, len(f.Packages), f.Packages[0], f.Packages[1])
		}
		for _, c := range s.Cells {
			if c.File != i || len(c.Unread) == 0 {
				continue
			}
			if c.Strategy != "" {
				return inputError("%s: Benchmark%s: unknown key %s (a name with a strategy key is read as corescale's, whose keys are %s)",
					f.Path, c.Name, c.Unread[0], strings.Join(resultfile.SweepKeys(), ", "))
			}
			return inputError("%s: Benchmark%s: %s is no worker count (want a whole number of 1 or more)", f.Path, c.Name, c.Unread[0])
		}
		if !slices.ContainsFunc(scalings, func(sc *Scaling) bool { return sc.Config.File == i && sc.Analysable() }) {
			return inputError("%s has no benchmark at two or more worker counts (go test -cpu 1,2,4 gives them, or corescale bench)", f.Path)
		}
	}
	return nil
}

// benchScalings returns the go test benchmarks of a file, analysable
// first (in file order), then those measured at one worker count.
func (r *Report) benchScalings(file int) (analysable, single []*Scaling) {
	for _, sc := range r.Scalings {
		switch {
		case sc.Config.File != file || !sc.IsBench():
		case sc.Analysable():
			analysable = append(analysable, sc)
		default:
			single = append(single, sc)
		}
	}
	return analysable, single
}

// ratioMethod says how the ratios of a file's benchmarks were taken.
func ratioMethod(paired bool) string {
	if paired {
		return "median of same-round ratios, 95% CI"
	}
	return "ratio of medians, unpaired: the file has no rounds; 95% bootstrap CI"
}

// benchSummary is the answer for one file's go test benchmarks: each
// one's speedup over its own 1-CPU point at every other worker count, and
// its efficiency and Karp-Flatt fraction at the largest within the usable
// CPUs. Nil if the file has none.
func (r *Report) benchSummary(file int) []*Table {
	analysable, single := r.benchScalings(file)
	if len(analysable)+len(single) == 0 {
		return nil
	}
	var tables []*Table
	prefix := ""
	if len(r.Set.Files) > 1 {
		prefix = r.Set.Files[file].Label + ": "
	}
	if len(analysable) > 0 {
		var ws []int
		paired, noCI, short := true, false, false
		for _, sc := range analysable {
			paired = paired && sc.Paired
			for _, w := range sc.Workers() {
				if w > 1 && !slices.Contains(ws, w) {
					ws = append(ws, w)
				}
			}
		}
		slices.Sort(ws)
		t := &Table{Title: prefix + "go test benchmarks: speedup over each benchmark's own -cpu 1 point (" + ratioMethod(paired) + ")",
			Header: []string{"benchmark"}, Right: []bool{false}}
		for _, w := range ws {
			t.Header = append(t.Header, fmt.Sprintf("-cpu %d", w))
			t.Right = append(t.Right, true)
		}
		t.Header = append(t.Header, "efficiency", "Karp-Flatt", "at")
		t.Right = append(t.Right, true, true, true)
		usable := analysable[0].UsableCPUs
		for _, sc := range analysable {
			cv := sc.Curves[0]
			row := []string{sc.Config.Bench}
			var last *Point
			for _, w := range ws {
				p := cv.Point(w)
				if p == nil {
					row = append(row, "-")
					continue
				}
				short = short || !p.Speedup.Valid() && cv.Points[0].Workers == 1
				noCI = noCI || p.Speedup.Valid() && math.IsNaN(p.Speedup.Lo)
				cell := formatRatioCI(p.Speedup, "x")
				if p.Oversubscribed {
					cell += " (over)"
				} else if p.Speedup.Valid() {
					last = p
				}
				row = append(row, cell)
			}
			if last == nil {
				row = append(row, "-", "-", "-")
			} else {
				row = append(row, formatPercentCI(last.Efficiency), formatFraction(last.KarpFlatt), fmt.Sprintf("-cpu %d", last.Workers))
			}
			t.Rows = append(t.Rows, row)
			if cv.Points[0].Workers != 1 {
				t.Notes = append(t.Notes, fmt.Sprintf("%s has no -cpu 1 point: no speedup to measure.", sc.Config.Bench))
			}
		}
		if usable > 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("The machine had %d usable CPUs: worker counts above them are oversubscribed, marked (over), and not fitted.", usable))
		} else {
			t.Notes = append(t.Notes, "The file does not say how many CPUs its machine had (go test writes no such line): fits use every worker count measured, and a count above the CPUs measures time slicing, not scaling. corescale bench records them.")
		}
		if short {
			t.Notes = append(t.Notes, fmt.Sprintf("A - is a ratio with fewer than %d same-round pairs, too few for a median and its interval (corescale bench -count %d gives them).", MinPairs, MinPairs))
		}
		if noCI {
			t.Notes = append(t.Notes, fmt.Sprintf("No interval where a side has fewer than %d samples (go test -count %d, or corescale bench, gives them).", MinPairs, MinPairs))
		}
		tables = append(tables, t)
	}
	if len(single) > 0 {
		t := &Table{Title: prefix + "Measured at one worker count only: listed, not analysed", Header: []string{"benchmark", "-cpu", "time", "95% CI"}, Right: []bool{false, true, true, true}}
		for _, sc := range single {
			p := sc.Curves[0].Points[0]
			t.Rows = append(t.Rows, []string{sc.Config.Bench, fmt.Sprint(p.Workers), formatTime(p.Time.Center), formatCI(p.Time)})
		}
		tables = append(tables, t)
	}
	return tables
}

// benchUnits are the units of a group's cells besides time, B/op and
// allocs/op first, then the custom ones in order.
func benchUnits(group []*Scaling) []string {
	var units []string
	for _, sc := range group {
		for _, cv := range sc.Curves {
			for _, p := range cv.Points {
				for u := range p.Cell.Values {
					if u != UnitTime && !slices.Contains(units, u) {
						units = append(units, u)
					}
				}
			}
		}
	}
	rank := func(u string) int {
		switch u {
		case "B/op":
			return 0
		case "allocs/op":
			return 1
		}
		return 2
	}
	slices.SortFunc(units, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	return units
}

// benchTables returns the tables of one go test benchmark (across files):
// time, speedup, efficiency and Karp-Flatt per worker count with every
// other metric's median, and the fits as notes.
func (r *Report) benchTables(group []*Scaling) *Table {
	multi := len(r.Set.Files) > 1
	units := benchUnits(group)
	paired := !slices.ContainsFunc(group, func(sc *Scaling) bool { return !sc.Paired })
	t := &Table{
		Title:  "Per worker count: median time per op with its 95% CI; speedup over the -cpu 1 point and efficiency (" + ratioMethod(paired) + "); Karp-Flatt serial fraction; the median of every other metric",
		Header: []string{"-cpu", "time", "95% CI", "speedup", "efficiency", "Karp-Flatt"},
		Right:  []bool{true, true, true, true, true, true},
	}
	for _, u := range units {
		t.Header = append(t.Header, u)
		t.Right = append(t.Right, true)
	}
	if multi {
		t.Header = append([]string{"file"}, t.Header...)
		t.Right = append([]bool{false}, t.Right...)
	}
	for _, sc := range group {
		label := ""
		if multi {
			label = r.Set.Files[sc.Config.File].Label + ": "
		}
		for _, cv := range sc.Curves {
			for _, p := range cv.Points {
				w := fmt.Sprint(p.Workers)
				if p.Oversubscribed {
					w += " (over)"
				}
				row := []string{w, formatTime(p.Time.Center), formatCI(p.Time), formatRatioCI(p.Speedup, "x"), formatPercentCI(p.Efficiency), formatFraction(p.KarpFlatt)}
				for _, u := range units {
					row = append(row, formatMetric(p.Cell.Values[u], u))
				}
				if multi {
					row = append([]string{r.Set.Files[sc.Config.File].Label}, row...)
				}
				t.Rows = append(t.Rows, row)
				for _, f := range p.Flags {
					t.Notes = append(t.Notes, fmt.Sprintf("%sFlagged at -cpu %d: %s.", label, p.Workers, f))
				}
			}
			for _, f := range cv.Fits {
				t.Notes = append(t.Notes, fmt.Sprintf("%sFit: %s.", label, f))
				for _, flag := range f.Flags {
					t.Notes = append(t.Notes, fmt.Sprintf("%sFlagged: the %v fit: %s.", label, f.Law, flag))
				}
			}
			if cv.FitNote != "" {
				t.Notes = append(t.Notes, fmt.Sprintf("%sFits: %s.", label, cv.FitNote))
			}
			if o := cv.Oversubscription; o.Valid() {
				t.Notes = append(t.Notes, fmt.Sprintf("%sOversubscribed: -cpu %d takes %s the time of -cpu %d.", label, 2*cv.OversubscriptionFrom, formatRatioCI(o, "x"), cv.OversubscriptionFrom))
			}
		}
	}
	return t
}

// formatMetric is the median of a metric's samples, scaled as benchstat
// scales it (binary prefixes for bytes, SI for the rest).
func formatMetric(values []float64, unit string) string {
	if len(values) == 0 {
		return "-"
	}
	return benchunit.Scale(Summarize(values).Center, benchunit.ClassOf(unit))
}

// writeBenchHowToRead explains the go test benchmarks' figures.
func (r *Report) writeBenchHowToRead(w io.Writer, md bool) {
	paired := true
	for _, sc := range r.Scalings {
		if sc.IsBench() && !sc.Paired {
			paired = false
		}
	}
	text := []string{
		"go test benchmarks: each benchmark name without its worker count (go test's -N suffix, GOMAXPROCS, none meaning 1; or a workers= or gomaxprocs= part) is one curve. Its speedup is its throughput (runs per second, or the rate it reports) over its own -cpu 1 point's, and its fits follow the rules above: the usable CPUs only, the law's parameters plus two points.",
	}
	if !paired {
		text = append(text, "go test output has no rounds (go test takes every sample of one -cpu value before the next), so its ratios cannot be paired: each is the ratio of two medians, with a 95% percentile-bootstrap interval that resamples each side on its own, and carries whatever the machine drifted in between. corescale bench runs every -cpu value once per round, in a random order, and its files pair by round.")
	}
	for _, t := range text {
		if md {
			fmt.Fprintf(w, "%s\n\n", t)
		} else {
			fmt.Fprintf(w, "%s\n", t)
		}
	}
}

// benchLine is one sentence on a go test benchmark: its speedup and
// efficiency at the largest worker count within the usable CPUs.
func (r *Report) benchLine(sc *Scaling) string {
	prefix := sc.Config.Bench
	if len(r.Set.Files) > 1 {
		prefix = r.Set.Files[sc.Config.File].Label + ": " + prefix
	}
	var last *Point
	for _, p := range sc.Curves[0].Points {
		if p.Workers > 1 && !p.Oversubscribed && p.Speedup.Valid() {
			last = p
		}
	}
	if last == nil {
		return prefix + ": no speedup within the usable CPUs to judge."
	}
	s := fmt.Sprintf("%s at -cpu %d: %s over -cpu 1, %.0f%% efficient", prefix, last.Workers, formatRatioCI(last.Speedup, "x"), 100*last.Efficiency.Center)
	switch {
	case last.Speedup.Hi < 1:
		s += "; slower than on one CPU"
	case !math.IsNaN(last.Speedup.Lo) && last.Speedup.Lo <= 1:
		s += "; no speedup beyond its interval"
	}
	return s + "."
}

// isBenchGroup reports whether a group holds a go test benchmark.
func isBenchGroup(group []*Scaling) bool { return len(group) > 0 && group[0].IsBench() }

// benchGroupAnalysable reports whether any file measured the group's
// benchmark at two or more worker counts.
func benchGroupAnalysable(group []*Scaling) bool {
	return slices.ContainsFunc(group, (*Scaling).Analysable)
}

// hasBench reports whether the report holds go test benchmarks.
func (r *Report) hasBench() bool {
	return slices.ContainsFunc(r.Scalings, (*Scaling).IsBench)
}

// hasSweep reports whether the report holds corescale sweeps.
func (r *Report) hasSweep() bool {
	return slices.ContainsFunc(r.Scalings, func(sc *Scaling) bool { return !sc.IsBench() })
}
