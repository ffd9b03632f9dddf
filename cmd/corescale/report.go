package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/corescale/corescale/internal/modroot"
	"github.com/corescale/corescale/analysis"
)

func init() {
	register(command{name: "report", args: "[-o DIR] FILE...", summary: "tables, fits, charts and report.md from result files", run: reportCmd})
}

const reportSummary = `Reads result files and prints, per kernel configuration, median times with
their 95% CIs, speedup, efficiency, the Karp-Flatt serial fraction, where the
lost time went, Amdahl and USL fits, strategy comparisons with p-values and
benchstat's own tables; writes the same to DIR/report.md with charts.`

func reportCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "[-o DIR] FILE...", reportSummary, stderr)
	dir := fs.String("o", "", "report directory (default results/report/<name of the first file>)")
	benchstat := fs.Bool("benchstat", true, "add benchstat's tables (runs go tool benchstat in the module)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("report needs at least one result file")
	}
	set, err := analysis.Read(fs.Args()...)
	if err != nil {
		return inputErr(err)
	}
	if *dir == "" {
		first := filepath.Base(fs.Arg(0))
		*dir = filepath.Join("results", "report", strings.TrimSuffix(first, filepath.Ext(first)))
	}
	if err := checkWritable(filepath.Join(*dir, "report.md")); err != nil {
		return usageError{err}
	}
	r := analysis.NewReport(set)
	if *benchstat {
		wd, _ := os.Getwd()
		if root, ok := modroot.Find(wd); ok {
			r.AddBenchstat(root)
		} else {
			fmt.Fprintln(stderr, "corescale: no go.mod above the working directory: benchstat tables left out")
		}
	}
	if err := r.WriteText(stdout); err != nil {
		return failure{err}
	}
	if err := r.WriteDir(*dir); err != nil {
		return failure{fmt.Errorf("writing the report: %w", err)}
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*dir, "report.md"))
	return nil
}

// inputErr makes bad result files a usage error (exit 2).
func inputErr(err error) error {
	if errors.Is(err, analysis.ErrInput) {
		return usageError{err}
	}
	return failure{err}
}
