package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchunit"
)

// GateOptions say what fails a performance gate.
//
// The gate judges the units that say how fast a kernel runs: time per
// operation (sec/op) and throughput (every unit per second that is better
// higher: B/s, FLOP/s, queries/s). It ignores the busy times, which are
// diagnostics that explain a change in wall time (imbalance, dispatch
// overhead) and are already in it, and units whose direction is unknown.
type GateOptions struct {
	// Threshold is the relative worsening of a median that counts, as a
	// fraction of the old median: 0.05 fails a benchmark 5% slower, or with
	// 5% less throughput. 0 fails any significant worsening.
	Threshold float64
	// Alpha is the significance level: a worsening counts only when the U
	// test's p-value is below it. 0 means the level of the comparisons.
	Alpha float64
	// AllowMissing passes benchmarks that the old set has and the new one
	// lacks (they are still reported, as notes).
	AllowMissing bool
	// AllowUndecided passes benchmarks with too few samples for the U test
	// to reach Alpha (they are still reported, as notes). Without it they
	// fail: a gate that cannot see a regression must not look like one
	// that saw none.
	AllowUndecided bool
}

// A GateResult is what a gate found.
type GateResult struct {
	// Failures fail the gate: regressions, benchmarks missing from the new
	// set, undecided ones, or nothing judged at all.
	Failures []Finding
	// Notes are reported without failing the gate: allowed missing or
	// undecided benchmarks, new benchmarks, significant improvements beyond
	// the threshold.
	Notes []Finding
	// Judged counts the benchmarks with a judged unit in both sets.
	Judged int
	// Threshold and Alpha are the values applied.
	Threshold, Alpha float64
}

// Passed reports whether nothing failed the gate.
func (r GateResult) Passed() bool { return len(r.Failures) == 0 }

// A FindingKind says what a gate found about a benchmark.
type FindingKind int

const (
	// Regression: a judged unit got worse by more than the threshold, and
	// significantly.
	Regression FindingKind = iota + 1
	// Missing: the old set has the benchmark, or a judged unit of it, and
	// the new set does not.
	Missing
	// Undecided: too few samples on a side for the U test to reach alpha,
	// whatever the change.
	Undecided
	// Added: only the new set has the benchmark; there is nothing to judge.
	Added
	// Improvement: a judged unit got better by more than the threshold,
	// and significantly; time to record a new baseline.
	Improvement
	// NothingJudged: no benchmark has a judged unit in both sets.
	NothingJudged
)

func (k FindingKind) String() string {
	switch k {
	case Regression:
		return "REGRESSION"
	case Missing:
		return "MISSING"
	case Undecided:
		return "UNDECIDED"
	case Added:
		return "ADDED"
	case Improvement:
		return "IMPROVEMENT"
	case NothingJudged:
		return "NOTHING JUDGED"
	}
	return fmt.Sprintf("FindingKind(%d)", int(k))
}

// A Finding is one thing a gate found about one benchmark.
type Finding struct {
	Kind FindingKind
	Name string // the benchmark; empty for NothingJudged
	// Comparisons are the judged units behind the finding; for a benchmark
	// missing from the new set altogether, or added, they are those of
	// every unit it has.
	Comparisons []Comparison
	// Whole is set for Missing and Added when the benchmark is missing
	// from (or new in) the other set altogether, not just one unit of it.
	Whole bool
	// Alpha is the level the finding was judged at.
	Alpha float64
}

// String describes the finding on one line, such as
//
//	REGRESSION Matmul/...: sec/op +20.13% (12.00ms → 14.42ms, p=0.000 n=10)
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Kind.String())
	if f.Name != "" {
		b.WriteString(" " + f.Name)
	}
	b.WriteString(": ")
	switch f.Kind {
	case Regression, Improvement:
		for i, c := range f.Comparisons {
			if i > 0 {
				b.WriteString("; ")
			}
			scale := benchunit.CommonScale([]float64{c.Old.Center, c.New.Center}, benchunit.ClassOf(c.Unit))
			fmt.Fprintf(&b, "%s %+.2f%% (%s → %s, %s)", c.Unit, 100*c.Delta,
				formatValue(c.Old.Center, c.Unit, scale), formatValue(c.New.Center, c.Unit, scale),
				benchmath.Comparison{P: c.P, N1: c.Old.N, N2: c.New.N}.String())
		}
	case Missing:
		if f.Whole {
			b.WriteString("in OLD, missing from NEW")
		} else {
			fmt.Fprintf(&b, "%s in OLD, missing from NEW", unitList(f.Comparisons))
		}
	case Added:
		b.WriteString("only in NEW, not judged")
	case Undecided:
		for _, c := range f.Comparisons {
			fmt.Fprintf(&b, "%s %s with n=%d+%d, ", c.Unit, deltaString(c.Delta), c.Old.N, c.New.N)
		}
		fmt.Fprintf(&b, "too few samples for p < %v whatever the change; take more (at least %d per side, 10 or more to see small changes)",
			f.Alpha, samplesNeeded(f.Alpha))
	case NothingJudged:
		b.WriteString("no benchmark has sec/op or a throughput unit in both OLD and NEW")
	}
	return b.String()
}

func unitList(cmps []Comparison) string {
	var units []string
	for _, c := range cmps {
		units = append(units, c.Unit)
	}
	return strings.Join(units, ", ")
}

func deltaString(d float64) string {
	if math.IsNaN(d) {
		return "?"
	}
	return fmt.Sprintf("%+.2f%%", 100*d)
}

func formatValue(v float64, unit string, scale benchunit.Scaler) string {
	s := scale.Format(v)
	if num, _, _ := strings.Cut(unit, "/"); strings.HasSuffix(num, "sec") {
		return s + "s"
	}
	return s + " " + unit
}

// samplesNeeded is the fewest samples per side with which the U test can
// reach alpha, found as Comparison.MinP is, by asking benchmath.
func samplesNeeded(alpha float64) int {
	m := minPCache{th: &benchmath.Thresholds{CompareAlpha: alpha}, p: map[[2]int]float64{}}
	n := 2
	for ; n < 50 && m.get(n, n) >= alpha; n++ {
	}
	return n
}

// judged reports whether the gate judges a comparison's unit: time per
// operation, or a throughput.
func judged(c Comparison) bool {
	return c.Unit == UnitTime || (c.Better > 0 && strings.HasSuffix(c.Unit, "/s"))
}

// Gate judges comparisons made by Compare. A benchmark is a regression when
// a judged unit got worse by more than opts.Threshold and the U test finds
// the change significant: both, so that neither a large change in noisy
// samples nor a tiny but consistent one fails the gate. Significance is
// judged on p-values adjusted by Holm's procedure over every benchmark
// judged (those are the p-values findings show), and a benchmark is
// undecided when even the most lopsided samples of its sizes could not
// reach alpha after that adjustment. A benchmark the old
// set has and the new one lacks fails unless opts.AllowMissing; one with too
// few samples to decide fails unless opts.AllowUndecided. A gate that judged
// no benchmark at all fails.
func Gate(cmps []Comparison, opts GateOptions) GateResult {
	r := GateResult{Threshold: opts.Threshold, Alpha: opts.Alpha}
	if r.Alpha == 0 && len(cmps) > 0 {
		r.Alpha = cmps[0].Alpha
	}
	if r.Alpha == 0 {
		r.Alpha = benchmath.DefaultThresholds.CompareAlpha
	}

	// Group by benchmark, keeping the order of first appearance.
	var names []string
	byName := map[string][]Comparison{}
	for _, c := range cmps {
		if _, ok := byName[c.Name]; !ok {
			names = append(names, c.Name)
		}
		byName[c.Name] = append(byName[c.Name], c)
	}

	// The judged units of each benchmark, with their significance
	// corrected for the number of benchmarks judged at once: a gate
	// tests dozens of benchmarks, and at alpha each, one of them would
	// differ by chance in most runs. Holm's step-down correction keeps the
	// chance of any false alarm in the whole gate at alpha.
	adjusted := holm(names, byName)
	for _, name := range names {
		all := byName[name]
		finding := func(kind FindingKind, cmps []Comparison) Finding {
			return Finding{Kind: kind, Name: name, Comparisons: cmps, Alpha: r.Alpha}
		}
		if !slices.ContainsFunc(all, func(c Comparison) bool { return c.New.N > 0 }) {
			f := finding(Missing, all)
			f.Whole = true
			r.add(f, opts.AllowMissing)
			continue
		}
		if !slices.ContainsFunc(all, func(c Comparison) bool { return c.Old.N > 0 }) {
			f := finding(Added, all)
			f.Whole = true
			r.Notes = append(r.Notes, f)
			continue
		}
		var missing, regressed, improved, undecided []Comparison
		judgedHere := false
		for _, c := range all {
			if !judged(c) || c.Old.N == 0 {
				continue
			}
			if c.New.N == 0 {
				missing = append(missing, c)
				continue
			}
			judgedHere = true
			w := c.Worsening()
			c.P = adjusted[name]
			switch {
			case c.MinP*float64(len(adjusted)) >= r.Alpha:
				undecided = append(undecided, c)
			case c.P >= r.Alpha || math.IsNaN(w):
			case w > opts.Threshold:
				regressed = append(regressed, c)
			case -w > opts.Threshold:
				improved = append(improved, c)
			}
		}
		if judgedHere {
			r.Judged++
		}
		if len(missing) > 0 {
			r.add(finding(Missing, missing), opts.AllowMissing)
		}
		if len(regressed) > 0 {
			r.add(finding(Regression, regressed), false)
		}
		if len(undecided) > 0 {
			r.add(finding(Undecided, undecided), opts.AllowUndecided)
		}
		if len(improved) > 0 {
			r.Notes = append(r.Notes, finding(Improvement, improved))
		}
	}
	if r.Judged == 0 {
		r.Failures = append(r.Failures, Finding{Kind: NothingJudged, Alpha: r.Alpha})
	}
	return r
}

// holm returns, for each benchmark judged in both sets, its p-value (the
// smallest of its judged units') adjusted by Holm's step-down procedure
// over all of them: the i-th smallest of m p-values is multiplied by
// m-i+1, and no adjusted value is below the one before it.
func holm(names []string, byName map[string][]Comparison) map[string]float64 {
	type entry struct {
		name string
		p    float64
	}
	var ps []entry
	for _, name := range names {
		p, ok := math.Inf(1), false
		for _, c := range byName[name] {
			if judged(c) && c.Old.N > 0 && c.New.N > 0 && !math.IsNaN(c.P) {
				p, ok = min(p, c.P), true
			}
		}
		if ok {
			ps = append(ps, entry{name, p})
		}
	}
	slices.SortStableFunc(ps, func(a, b entry) int { return cmp.Compare(a.p, b.p) })
	adjusted := make(map[string]float64, len(ps))
	prev := 0.0
	for i, e := range ps {
		prev = max(prev, min(1, float64(len(ps)-i)*e.p))
		adjusted[e.name] = prev
	}
	return adjusted
}

// add records f as a failure, or as a note when allowed.
func (r *GateResult) add(f Finding, allowed bool) {
	if allowed {
		r.Notes = append(r.Notes, f)
		return
	}
	r.Failures = append(r.Failures, f)
}

// Count returns how many failures and notes are of kind k.
func (r GateResult) Count(k FindingKind) int {
	n := 0
	for _, f := range slices.Concat(r.Failures, r.Notes) {
		if f.Kind == k {
			n++
		}
	}
	return n
}
