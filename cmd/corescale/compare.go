package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/corescale/corescale/analysis"
)

func init() {
	register(command{name: "compare", args: "[flags] OLD NEW", summary: "per-benchmark change between two result files, with p-values", run: compareCmd})
}

const compareSummary = `Compares two result files benchmark by benchmark, in every unit: the median
of each with its 95% confidence interval, the change, and the p-value of the
Mann-Whitney U test, as benchstat does. A change that is not significant
reads "~"; "worse" and "better" follow each unit's direction (less time,
more throughput).`

func compareCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "[flags] OLD NEW", compareSummary, stderr)
	format := fs.String("format", analysis.FormatText, "output format: text, markdown, csv")
	alpha := fs.Float64("alpha", 0.05, "significance level of the U test")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *format {
	case analysis.FormatText, analysis.FormatMarkdown, analysis.FormatCSV:
	default:
		return usagef("unknown -format %q (have text, markdown, csv)", *format)
	}
	if err := checkCompareAlpha(*alpha); err != nil {
		return err
	}
	old, new, err := readOldNew("compare", fs.Args(), stderr)
	if err != nil {
		return err
	}
	cmps := analysis.Compare(old, new, *alpha)
	if *format != analysis.FormatCSV {
		writeOldNew(stdout, *format, old, new)
	}
	if err := analysis.WriteComparison(stdout, cmps, *format); err != nil {
		return failure{err}
	}
	return nil
}

func checkCompareAlpha(alpha float64) error {
	if !(alpha > 0 && alpha < 1) {
		return usagef("-alpha %v: want a level between 0 and 1, such as 0.05", alpha)
	}
	return nil
}

// readOldNew reads the OLD and NEW result files of compare and gate. Bad
// files are usage errors (exit 2): a gate must not fail as if it had found
// a regression when it was given nothing to judge. It warns about files of
// an interrupted run, whose missing benchmarks would otherwise puzzle.
func readOldNew(cmd string, args []string, stderr io.Writer) (old, new *analysis.Set, err error) {
	if len(args) != 2 {
		return nil, nil, usagef("%s takes two result files, OLD and NEW; got %d", cmd, len(args))
	}
	if _, err := os.Stat(args[0]); errors.Is(err, os.ErrNotExist) {
		return nil, nil, usagef("%s: baseline %s does not exist; record one with corescale run -o %s", cmd, args[0], args[0])
	}
	sets := make([]*analysis.Set, 2)
	for i, path := range args {
		s, err := analysis.Read(path)
		if errors.Is(err, analysis.ErrInput) {
			return nil, nil, usageError{err}
		}
		if err != nil {
			return nil, nil, failure{err}
		}
		if s.Files[0].Interrupted {
			fmt.Fprintf(stderr, "corescale: warning: %s is from an interrupted run; benchmarks it lacks count as missing\n", path)
		}
		sets[i] = s
	}
	return sets[0], sets[1], nil
}

// writeOldNew says which files are compared, naming each by the
// configuration that tells a reader where it came from.
func writeOldNew(w io.Writer, format string, old, new *analysis.Set) {
	describe := func(s *analysis.Set) string {
		f := s.Files[0]
		var keys []string
		for _, k := range []string{"commit", "date", "cpu", "ncpu"} {
			if v := f.Config[k]; v != "" {
				keys = append(keys, k+" "+v)
			}
		}
		path := f.Path
		if format == analysis.FormatMarkdown {
			path = "`" + path + "`"
		}
		if len(keys) == 0 {
			return path
		}
		return path + " (" + strings.Join(keys, ", ") + ")"
	}
	if format == analysis.FormatMarkdown {
		fmt.Fprintf(w, "old: %s  \nnew: %s\n\n", describe(old), describe(new))
		return
	}
	fmt.Fprintf(w, "old: %s\nnew: %s\n\n", describe(old), describe(new))
}
