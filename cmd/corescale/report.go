package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/corescale/corescale/analysis"
	"github.com/corescale/corescale/internal/modroot"
	"github.com/corescale/corescale/resultfile"
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
	dir := fs.String("o", "", "report directory (default report/<name of the first file> beside the first file)")
	benchstat := fs.Bool("benchstat", true, "add benchstat's tables (go tool benchstat inside a corescale checkout, else go run of the pinned x/perf version)")
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
		*dir = filepath.Join(filepath.Dir(fs.Arg(0)), "report", strings.TrimSuffix(first, filepath.Ext(first)))
	}
	if err := checkWritable(filepath.Join(*dir, "report.md")); err != nil {
		return usageError{err}
	}
	r := analysis.NewReport(set)
	if err := analysis.CheckScaling(set, r.Scalings); err != nil {
		return inputErr(err)
	}
	if *benchstat {
		r.Benchstat = benchstatTables(set)
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

// benchstatTables runs benchstat on the files: for corescale's sweeps
// -col /strategy per worker count and -col /workers per strategy, for go
// test benchmarks -col /gomaxprocs, on time per run. Inside a checkout of
// corescale it is the module's pinned tool (go tool benchstat); anywhere
// else, go run of the x/perf version this binary was built with.
func benchstatTables(set *analysis.Set) []analysis.BenchstatTable {
	var paths []string
	for _, f := range set.Files {
		p, err := filepath.Abs(f.Path)
		if err != nil {
			p = f.Path
		}
		paths = append(paths, p)
	}
	command, dir := benchstatCommand()
	filter := ".unit:" + analysis.UnitTime + " -.name:" + resultfile.BaseStartup + " -.name:" + resultfile.BaseCeiling
	var runs []analysis.BenchstatTable
	if slices.ContainsFunc(set.Cells, func(c *analysis.Cell) bool { return c.Bench == "" }) {
		runs = append(runs,
			analysis.BenchstatTable{Title: "Strategies side by side, one table per worker count", Args: []string{"-filter", filter, "-table", ".config,/workers", "-col", "/strategy"}},
			analysis.BenchstatTable{Title: "Worker counts side by side, one table per strategy", Args: []string{"-filter", filter, "-table", ".config,/strategy", "-col", "/workers@num"}})
	}
	if slices.ContainsFunc(set.Cells, func(c *analysis.Cell) bool { return c.Bench != "" }) {
		runs = append(runs, analysis.BenchstatTable{Title: "go test benchmarks: GOMAXPROCS side by side", Args: []string{"-col", "/gomaxprocs@num"}})
	}
	var tables []analysis.BenchstatTable
	for _, t := range runs {
		cmd := exec.Command("go", append(append(slices.Clone(command), t.Args...), paths...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		t.Text = string(out)
		if err != nil {
			t.Text = fmt.Sprintf("(go %s failed: %v)\n%s", strings.Join(command, " "), err, out)
		}
		tables = append(tables, t)
	}
	return tables
}

// benchstatCommand returns the go subcommand that runs benchstat and the
// directory to run it in.
func benchstatCommand() (args []string, dir string) {
	wd, _ := os.Getwd()
	if root, ok := modroot.Find(wd); ok {
		return []string{"tool", "benchstat"}, root
	}
	version := "latest"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "golang.org/x/perf" {
				version = m.Version
			}
		}
	}
	return []string{"run", "golang.org/x/perf/cmd/benchstat@" + version}, wd
}
