package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/corescale/corescale/analysis"
)

func init() {
	register(command{name: "gate", args: "[flags] OLD NEW", summary: "exit 1 when NEW is significantly slower than OLD", run: gateCmd})
}

const gateSummary = `Fails (exit status 1) when a benchmark of NEW is worse than in OLD by more
than -threshold and the Mann-Whitney U test finds the change significant at
-alpha: both, so that noise alone does not fail it. It judges time per
operation (sec/op) and throughput (B/s, FLOP/s, queries/s), not the busy-time
diagnostics. A benchmark OLD has and NEW lacks fails too, unless
-allow-missing; so does one with too few samples for the test to reach
-alpha (at least 4 a side at 0.05; 10 or more see small changes), unless
-allow-undecided. Findings are listed on standard output.`

func gateCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gate", "[flags] OLD NEW", gateSummary, stderr)
	threshold := fraction(0.05)
	fs.Var(&threshold, "threshold", "worsening that fails, relative to OLD's median: 5% or 0.05")
	alpha := fs.Float64("alpha", 0.05, "significance level of the U test")
	allowMissing := fs.Bool("allow-missing", false, "pass benchmarks that OLD has and NEW lacks (still listed)")
	allowUndecided := fs.Bool("allow-undecided", false, "pass benchmarks with too few samples to decide (still listed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkCompareAlpha(*alpha); err != nil {
		return err
	}
	old, new, err := readOldNew("gate", fs.Args(), stderr)
	if err != nil {
		return err
	}
	r := analysis.Gate(analysis.Compare(old, new, *alpha), analysis.GateOptions{
		Threshold:      float64(threshold),
		Alpha:          *alpha,
		AllowMissing:   *allowMissing,
		AllowUndecided: *allowUndecided,
	})
	for _, f := range r.Failures {
		fmt.Fprintln(stdout, f)
	}
	for _, f := range r.Notes {
		fmt.Fprintln(stdout, "note: "+f.String())
	}
	criteria := fmt.Sprintf("worse by more than %s at p < %v", threshold, r.Alpha)
	if !r.Passed() {
		return failure{fmt.Errorf("gate failed: %s (%s compared; a regression is %s)", failureCounts(r), benchmarks(r.Judged), criteria)}
	}
	fmt.Fprintf(stdout, "gate passed: %s compared, none %s\n", benchmarks(r.Judged), criteria)
	return nil
}

func benchmarks(n int) string {
	if n == 1 {
		return "1 benchmark"
	}
	return strconv.Itoa(n) + " benchmarks"
}

// failureCounts says what failed: "1 regression, 2 missing".
func failureCounts(r analysis.GateResult) string {
	counts := map[analysis.FindingKind]int{}
	var kinds []analysis.FindingKind
	for _, f := range r.Failures {
		if counts[f.Kind] == 0 {
			kinds = append(kinds, f.Kind)
		}
		counts[f.Kind]++
	}
	var parts []string
	for _, k := range kinds {
		name := strings.ToLower(k.String())
		switch {
		case k == analysis.NothingJudged:
			parts = append(parts, name)
			continue
		case k == analysis.Regression && counts[k] > 1:
			name += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], name))
	}
	return strings.Join(parts, ", ")
}

// fraction is a flag value between 0 and 1, given as a fraction (0.05) or
// a percentage (5%). A bare number of 1 or more is refused rather than read
// as a percentage: "5" is more likely a slip for 5% than a 500% threshold.
type fraction float64

func (f *fraction) Set(s string) error {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil {
		return fmt.Errorf("%q is not a fraction (0.05) or a percentage (5%%)", s)
	}
	if pct {
		v /= 100
	}
	if !(v >= 0 && v < 1) {
		return fmt.Errorf("%q: want a fraction from 0 to 1 (0.05) or a percentage (5%%)", s)
	}
	*f = fraction(v)
	return nil
}

func (f fraction) String() string {
	// Six digits hide the binary rounding of, say, 0.07 x 100.
	return strconv.FormatFloat(100*float64(f), 'g', 6, 64) + "%"
}
