package analysis

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchunit"
)

// Throughput units that corescale's kernels report, tidied.
const (
	UnitBytes   = "B/s"
	UnitFLOP    = "FLOP/s"
	UnitQueries = "queries/s"
)

// Confidence is the confidence level of the intervals around medians.
const Confidence = 0.95

// defaultBetter says which way is better for the units corescale writes, for
// files that lack the "Unit X better=..." lines. benchfmt knows sec/op and
// B/s but not FLOP/s or queries/s, and it takes every unit it does not know
// for one whose direction is unknown.
var defaultBetter = map[string]int{
	UnitTime:     -1,
	UnitSpanMax:  -1,
	UnitSpanMean: -1,
	UnitWaitMean: -1,
	UnitBusyMax:  -1,
	UnitBusyMean: -1,
	UnitBytes:    +1,
	UnitFLOP:     +1,
	UnitQueries:  +1,
	UnitClock:    -1, // a diagnostic: compare shows it, the gate does not judge it
}

// A Comparison is one benchmark in one unit, measured in two sets: an old
// one (the baseline) and a new one. Statistics are benchstat's: medians with
// their 95% confidence intervals, and the Mann-Whitney U test, from
// golang.org/x/perf/benchmath under its AssumeNothing assumption.
type Comparison struct {
	Name string // the benchmark's full name without "Benchmark", as in Cell.Name
	Unit string // tidied, as in Cell.Values: sec/op, FLOP/s, ...
	// Better is +1 when higher values of Unit are better (throughput), -1
	// when lower ones are (time), and 0 when the direction is unknown.
	Better int

	// Old and New summarise the samples of each side. A side whose set
	// lacks the benchmark in this unit has N == 0 and a zero summary.
	Old, New Side

	// Delta is the change of the median relative to the old one,
	// New/Old - 1, whether or not it is significant. It is NaN when a side
	// is missing or the old median is 0 and the new one is not.
	Delta float64
	// P is the p-value of the U test that both sides come from the same
	// distribution; 1 when a side is missing.
	P float64
	// MinP is the smallest p-value the U test can give with these sample
	// sizes, however far apart the samples are. When it is not below
	// Alpha, no change could ever be significant: the comparison is
	// undecided, and the cure is more samples, not a closer look.
	MinP float64
	// Alpha is the significance level the comparison was made at.
	Alpha float64
	// Significant reports whether P < Alpha.
	Significant bool
	// Warnings are benchmath's, about the summaries and the test, such as
	// too few samples for a confidence interval, without duplicates.
	Warnings []error
}

// A Side is the summary of one side's samples: the median (Center) and its
// confidence interval (Lo, Hi), which is infinite with fewer than 6 samples.
type Side struct {
	N int // samples; 0 when the set lacks the benchmark in this unit
	benchmath.Summary
}

// OnlyOld reports whether the benchmark has samples in this unit in the old
// set only.
func (c Comparison) OnlyOld() bool { return c.Old.N > 0 && c.New.N == 0 }

// OnlyNew reports whether the benchmark has samples in this unit in the new
// set only.
func (c Comparison) OnlyNew() bool { return c.New.N > 0 && c.Old.N == 0 }

// Undecided reports whether both sides have samples but too few for the U
// test to reach Alpha.
func (c Comparison) Undecided() bool {
	return c.Old.N > 0 && c.New.N > 0 && c.MinP >= c.Alpha
}

// Worsening is how much worse the new median is than the old one, relative
// to the old one, whichever way is better: +0.2 for 20% more time per
// operation, and also for 20% less throughput. It is negative for an
// improvement, and NaN when the direction is unknown or a side is missing.
func (c Comparison) Worsening() float64 {
	if c.Better == 0 {
		return math.NaN()
	}
	return -float64(c.Better) * c.Delta
}

// Compare compares every benchmark of the old set with the same one of the
// new set, unit by unit. Benchmarks match by their full name (Cell.Name),
// which stays the same across files written on different days and hosts;
// the samples of cells that share a name in several files of one set are
// pooled. A benchmark, or a unit of one, that only one set has is compared
// with a missing side (see OnlyOld and OnlyNew). Start-up times are not
// compared: a pool starts once per sweep, too few times to test.
//
// Comparisons come unit by unit: sec/op, then the units that are better
// higher (throughput), then the others, each group in the order the units
// first appear; within a unit, benchmarks come in the order of the old
// set, then those only in the new one. Alpha is the significance level of
// the U tests; 0 means benchmath's default, 0.05.
//
// The direction of each unit comes from the sets' unit metadata (the new
// set's wins where they disagree), else from corescale's defaults: time per
// operation is better lower, throughput (B/s, FLOP/s, queries/s) higher.
func Compare(old, new *Set, alpha float64) []Comparison {
	if alpha == 0 {
		alpha = benchmath.DefaultThresholds.CompareAlpha
	}
	th := &benchmath.Thresholds{CompareAlpha: alpha}
	oldSamples, newSamples := pool(old), pool(new)
	units := mergeUnits(old, new)

	var unitOrder []string
	for _, p := range []*pooled{oldSamples, newSamples} {
		for _, name := range p.names {
			for _, u := range p.units[name] {
				if !slices.Contains(unitOrder, u) {
					unitOrder = append(unitOrder, u)
				}
			}
		}
	}
	// Time first, as every reader looks for it, then throughput, then the
	// diagnostics such as busy times.
	rank := func(u string) int {
		switch {
		case u == UnitTime:
			return 0
		case better(units, u) > 0:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(unitOrder, func(a, b string) int { return rank(a) - rank(b) })
	names := slices.Clone(oldSamples.names)
	for _, name := range newSamples.names {
		if _, ok := oldSamples.values[name]; !ok {
			names = append(names, name)
		}
	}

	minP := minPCache{th: th, p: map[[2]int]float64{}}
	var cmps []Comparison
	for _, unit := range unitOrder {
		for _, name := range names {
			o, n := oldSamples.values[name][unit], newSamples.values[name][unit]
			if len(o) == 0 && len(n) == 0 {
				continue
			}
			cmps = append(cmps, compare(name, unit, better(units, unit), o, n, th, &minP))
		}
	}
	return cmps
}

func compare(name, unit string, dir int, old, new []float64, th *benchmath.Thresholds, minP *minPCache) Comparison {
	c := Comparison{Name: name, Unit: unit, Better: dir, Delta: math.NaN(), P: 1, MinP: 1, Alpha: th.CompareAlpha}
	var so, sn *benchmath.Sample
	if len(old) > 0 {
		// NewSample sorts in place: the set's samples stay in file order.
		so = benchmath.NewSample(slices.Clone(old), th)
		c.Old = Side{N: len(old), Summary: benchmath.AssumeNothing.Summary(so, Confidence)}
		c.addWarnings(c.Old.Warnings)
	}
	if len(new) > 0 {
		sn = benchmath.NewSample(slices.Clone(new), th)
		c.New = Side{N: len(new), Summary: benchmath.AssumeNothing.Summary(sn, Confidence)}
		c.addWarnings(c.New.Warnings)
	}
	if so == nil || sn == nil {
		return c
	}
	switch o, n := c.Old.Center, c.New.Center; {
	case o == n:
		c.Delta = 0
	case o != 0:
		c.Delta = n/o - 1
	}
	test := benchmath.AssumeNothing.Compare(so, sn)
	c.P = test.P
	c.MinP = minP.get(len(old), len(new))
	c.Significant = c.P < c.Alpha
	c.addWarnings(test.Warnings)
	return c
}

func (c *Comparison) addWarnings(warnings []error) {
	for _, w := range warnings {
		if !slices.ContainsFunc(c.Warnings, func(e error) bool { return e.Error() == w.Error() }) {
			c.Warnings = append(c.Warnings, w)
		}
	}
}

// minPCache finds the smallest p-value of the U test for two sample sizes by
// asking benchmath to compare two samples that do not overlap at all: the
// strongest evidence of a difference those sizes can carry. benchmath has
// the same table inside, but keeps it to itself and warns only when both
// sides are short.
type minPCache struct {
	th *benchmath.Thresholds
	p  map[[2]int]float64
}

func (m *minPCache) get(n1, n2 int) float64 {
	if p, ok := m.p[[2]int{n1, n2}]; ok {
		return p
	}
	lo, hi := make([]float64, n1), make([]float64, n2)
	for i := range lo {
		lo[i] = float64(i)
	}
	for i := range hi {
		hi[i] = float64(n1 + i)
	}
	p := benchmath.AssumeNothing.Compare(benchmath.NewSample(lo, m.th), benchmath.NewSample(hi, m.th)).P
	m.p[[2]int{n1, n2}] = p
	return p
}

// pooled holds a set's samples by benchmark name and unit.
type pooled struct {
	names  []string                        // in order of first appearance
	units  map[string][]string             // by name, in order of first appearance
	values map[string]map[string][]float64 // by name and unit
}

func pool(s *Set) *pooled {
	p := &pooled{units: map[string][]string{}, values: map[string]map[string][]float64{}}
	for _, c := range s.Cells {
		byUnit := p.values[c.Name]
		if byUnit == nil {
			byUnit = map[string][]float64{}
			p.values[c.Name] = byUnit
			p.names = append(p.names, c.Name)
		}
		// Cells keep units in a map: sort them for an order that does not
		// change from run to run.
		for _, u := range sortedKeys(c.Values) {
			if _, ok := byUnit[u]; !ok {
				p.units[c.Name] = append(p.units[c.Name], u)
			}
			byUnit[u] = append(byUnit[u], c.Values[u]...)
		}
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mergeUnits(sets ...*Set) benchfmt.UnitMetadataMap {
	m := benchfmt.UnitMetadataMap{}
	for _, s := range sets {
		for k, v := range s.Units {
			m[k] = v
		}
	}
	return m
}

// better is +1 when higher values of unit are better, -1 when lower ones
// are, 0 when unknown: as the files declare, else as corescale's defaults
// say, else as benchfmt's built-in ones say.
func better(units benchfmt.UnitMetadataMap, unit string) int {
	if units.Get(unit, "better") == nil {
		if b, ok := defaultBetter[unit]; ok {
			return b
		}
	}
	return units.GetBetter(unit)
}

// WriteComparison writes comparisons as tables in format: text or markdown
// with one table per unit, numbers scaled for reading ("21.50ms ± 2%"), a
// delta of "~" where the change is not significant, as benchstat prints, and
// benchmath's warnings as footnotes; or csv, one table of every unit with
// unscaled numbers for programs.
func WriteComparison(w io.Writer, cmps []Comparison, format string) error {
	switch format {
	case FormatCSV:
		return csvTable(cmps).Render(w, format)
	case FormatText, FormatMarkdown:
	default:
		return fmt.Errorf("analysis: unknown format %q (have text, markdown, csv)", format)
	}
	if len(cmps) == 0 {
		_, err := fmt.Fprintln(w, "no benchmarks to compare")
		return err
	}
	var units []string
	for _, c := range cmps {
		if !slices.Contains(units, c.Unit) {
			units = append(units, c.Unit)
		}
	}
	for _, unit := range units {
		var rows []Comparison
		for _, c := range cmps {
			if c.Unit == unit {
				rows = append(rows, c)
			}
		}
		if err := unitTable(unit, rows).Render(w, format); err != nil {
			return err
		}
	}
	return nil
}

func unitTable(unit string, cmps []Comparison) *Table {
	t := &Table{
		Title:  unit + titleDirection(cmps[0].Better),
		Header: []string{"benchmark", "old", "new", "delta", "p, n"},
		Right:  []bool{false, true, true, true, true},
	}
	var notes []string // distinct warnings, numbered in order of appearance
	for _, c := range cmps {
		var marks string
		for _, w := range c.Warnings {
			i := slices.Index(notes, w.Error())
			if i < 0 {
				notes = append(notes, w.Error())
				i = len(notes) - 1
			}
			marks += superscript(i + 1)
		}
		scale := benchunit.CommonScale([]float64{c.Old.Center, c.New.Center}, benchunit.ClassOf(unit))
		test := benchmath.Comparison{P: c.P, N1: c.Old.N, N2: c.New.N}.String()
		if c.Old.N == 0 || c.New.N == 0 {
			test = "n=" + strconv.Itoa(c.Old.N) + "+" + strconv.Itoa(c.New.N)
		}
		if marks != "" {
			test += " " + marks
		}
		t.Rows = append(t.Rows, []string{
			c.Name,
			formatSide(c.Old, unit, scale),
			formatSide(c.New, unit, scale),
			formatDelta(c),
			test,
		})
	}
	for i, n := range notes {
		t.Notes = append(t.Notes, superscript(i+1)+" "+n)
	}
	return t
}

func titleDirection(better int) string {
	if w := betterWord(better); w != "" {
		return " (" + w + " is better)"
	}
	return ""
}

func betterWord(better int) string {
	switch better {
	case 1:
		return "higher"
	case -1:
		return "lower"
	}
	return ""
}

// formatSide writes a median with its interval as benchstat does,
// "21.50m ± 2%", and adds the "s" of units counted in seconds so that the
// value reads as a time: "21.50ms".
func formatSide(s Side, unit string, scale benchunit.Scaler) string {
	if s.N == 0 {
		return "missing"
	}
	v := scale.Format(s.Center)
	if num, _, _ := strings.Cut(unit, "/"); strings.HasSuffix(num, "sec") {
		v += "s"
	}
	return v + " ± " + s.PctRangeString()
}

func formatDelta(c Comparison) string {
	switch {
	case c.OnlyOld():
		return "only in old"
	case c.OnlyNew():
		return "only in new"
	case !c.Significant:
		return "~"
	case math.IsNaN(c.Delta):
		return "?"
	}
	d := fmt.Sprintf("%+.2f%%", 100*c.Delta)
	switch w := c.Worsening(); {
	case w > 0:
		d += " (worse)"
	case w < 0:
		d += " (better)"
	}
	return d
}

func superscript(n int) string {
	const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹"
	var b strings.Builder
	for _, d := range strconv.Itoa(n) {
		b.WriteString(string([]rune(digits)[d-'0']))
	}
	return b.String()
}

// csvTable is every comparison in one table, numbers unscaled and empty
// where a side is missing, for programs and spreadsheets.
func csvTable(cmps []Comparison) *Table {
	t := &Table{Header: []string{
		"benchmark", "unit", "better",
		"old median", "old lo", "old hi", "old n",
		"new median", "new lo", "new hi", "new n",
		"delta", "p", "significant", "warnings",
	}}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	side := func(s Side) []string {
		if s.N == 0 {
			return []string{"", "", "", "0"}
		}
		return []string{num(s.Center), num(s.Lo), num(s.Hi), strconv.Itoa(s.N)}
	}
	for _, c := range cmps {
		row := []string{c.Name, c.Unit, betterWord(c.Better)}
		row = append(row, side(c.Old)...)
		row = append(row, side(c.New)...)
		delta, p := "", ""
		if !math.IsNaN(c.Delta) {
			delta = num(c.Delta)
		}
		if c.Old.N > 0 && c.New.N > 0 {
			p = num(c.P)
		}
		var warnings []string
		for _, w := range c.Warnings {
			warnings = append(warnings, w.Error())
		}
		row = append(row, delta, p, strconv.FormatBool(c.Significant), strings.Join(warnings, "; "))
		t.Rows = append(t.Rows, row)
	}
	return t
}
