package main

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

// Benchmarks of the synthetic result files, named as corescale run names them.
const (
	perfMatmul = "Matmul/shape=square/size=128/strategy=procpool/sched=dynamic/workers=2"
	perfHash   = "Hash/shape=uniform/size=4Mi/strategy=goroutines/sched=dynamic/workers=2"
	perfSearch = "Search/shape=uniform/size=64Ki/strategy=serial/sched=dynamic/workers=1"
	perfSkewed = "Hash/shape=skewed/size=4Mi/strategy=goroutines/sched=static/workers=2"
)

// A perfBench describes the samples of one benchmark in a synthetic result
// file.
type perfBench struct {
	name  string
	sec   float64 // typical time per operation
	work  float64 // work per operation, counted in unit
	unit  string  // throughput unit
	n     int     // samples
	noise float64 // sigma of the log-normal noise: 0.01 is about 1%
}

// perfSuite is a sweep of four benchmarks with n samples each and 1% noise,
// changed by the functions in change, keyed by benchmark name.
func perfSuite(n int, change map[string]func(*perfBench)) []perfBench {
	suite := []perfBench{
		{perfMatmul, 1.2e-3, 2 * 128 * 128 * 128, "FLOP/s", n, 0.01},
		{perfHash, 1.4e-3, 4 << 20, "B/s", n, 0.01},
		{perfSearch, 0.6e-3, 1 << 16, "queries/s", n, 0.01},
		{perfSkewed, 1.5e-3, 4 << 20, "B/s", n, 0.01},
	}
	for i := range suite {
		if f := change[suite[i].name]; f != nil {
			f(&suite[i])
		}
	}
	return slices.DeleteFunc(suite, func(b perfBench) bool { return b.n == 0 })
}

// writePerfFile writes benches as a result file like corescale run's, in
// dir, with log-normal noise from a generator seeded with seed.
func writePerfFile(t *testing.T, dir, name string, seed uint64, benches []perfBench) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var b strings.Builder
	fmt.Fprintf(&b, "goos: linux\ngoarch: amd64\ncpu: Synthetic CPU\nncpu: 2\ncommit: c%d\n", seed)
	b.WriteString("Unit busy-max-ns/op better=lower\nUnit busy-mean-ns/op better=lower\n")
	b.WriteString("Unit FLOP/s better=higher\nUnit B/s better=higher\nUnit queries/s better=higher\n")
	for round := 0; ; round++ {
		wrote := false
		for _, bench := range benches {
			if round >= bench.n {
				continue
			}
			sec := bench.sec * math.Exp(bench.noise*rng.NormFloat64())
			fmt.Fprintf(&b, "Benchmark%s 1 %.0f ns/op %.4g %s %.0f busy-max-ns/op %.0f busy-mean-ns/op\n",
				bench.name, sec*1e9, bench.work/sec, bench.unit, 0.9*sec*1e9, 0.85*sec*1e9)
			wrote = true
		}
		if !wrote {
			break
		}
	}
	return writeText(t, dir, name, b.String())
}

func writeText(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCorescale runs corescale with args and returns its exit status, stdout and
// stderr.
func runCorescale(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// A cliCase is a command line with what it must print and return. Files
// named OLD, NEW, EMPTY, BAD and NONE in args are replaced by paths of
// fresh files in the case's own directory: the suites old and new, an
// empty file, a malformed one and one that does not exist.
type cliCase struct {
	name       string
	args       []string
	old, new   []perfBench
	wantCode   int
	wantStdout []string
	wantStderr []string
}

func (tt cliCase) run(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{
		"OLD":   writePerfFile(t, dir, "old.txt", 1, tt.old),
		"NEW":   writePerfFile(t, dir, "new.txt", 2, tt.new),
		"EMPTY": writeText(t, dir, "empty.txt", ""),
		"BAD":   writeText(t, dir, "bad.txt", "BenchmarkX 1 notanumber ns/op\n"),
		"NONE":  filepath.Join(dir, "none.txt"),
	}
	args := slices.Clone(tt.args)
	for i, a := range args {
		if p, ok := paths[a]; ok {
			args[i] = p
		}
	}
	code, stdout, stderr := runCorescale(t, args...)
	if code != tt.wantCode {
		t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
	}
	for _, w := range tt.wantStdout {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	for _, w := range tt.wantStderr {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	// Errors other than the flag package's, which adds the flags, take one
	// line.
	if code != 0 && !strings.Contains(stderr, "Flags:") && strings.Count(stderr, "\n") != 1 {
		t.Errorf("error takes %d lines, want one:\n%s", strings.Count(stderr, "\n"), stderr)
	}
}

func TestCompareCommand(t *testing.T) {
	same := perfSuite(10, nil)
	slower := perfSuite(10, map[string]func(*perfBench){perfMatmul: func(b *perfBench) { b.sec *= 1.2 }})
	tests := []cliCase{
		{
			name: "two files compare as text tables",
			args: []string{"compare", "OLD", "NEW"}, old: same, new: slower,
			wantCode: 0,
			wantStdout: []string{"old: ", "(commit c1, cpu Synthetic CPU, ncpu 2)", "sec/op (lower is better)",
				"FLOP/s (higher is better)", perfMatmul, "% (worse)", "~", "p=0.000 n=10"},
		},
		{
			name: "markdown is for pull request summaries",
			args: []string{"compare", "-format", "markdown", "OLD", "NEW"}, old: same, new: slower,
			wantCode:   0,
			wantStdout: []string{"old: `", "**sec/op (lower is better)**", "| benchmark", "% (worse)"},
		},
		{
			name: "csv has one header and no title",
			args: []string{"compare", "-format", "csv", "OLD", "NEW"}, old: same, new: slower,
			wantCode:   0,
			wantStdout: []string{"benchmark,unit,better,old median"},
		},
		{
			name: "a stricter alpha still finds a 20% slowdown",
			args: []string{"compare", "-alpha", "0.001", "OLD", "NEW"}, old: same, new: slower,
			wantCode:   0,
			wantStdout: []string{"% (worse)"},
		},
		{
			name: "an unknown format is a usage error",
			args: []string{"compare", "-format", "pdf", "OLD", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{`corescale: unknown -format "pdf" (have text, markdown, csv)`},
		},
		{
			name: "an alpha of 1 or more is a usage error",
			args: []string{"compare", "-alpha", "1.5", "OLD", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"corescale: -alpha 1.5: want a level between 0 and 1"},
		},
		{
			name: "one file is a usage error",
			args: []string{"compare", "OLD"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"corescale: compare takes two result files, OLD and NEW; got 1"},
		},
		{
			name: "a missing baseline is a usage error that says how to make one",
			args: []string{"compare", "NONE", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"corescale: compare: baseline ", "none.txt does not exist; record one with corescale run -o "},
		},
		{
			name: "a missing new file is a usage error",
			args: []string{"compare", "OLD", "NONE"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"none.txt: no such file or directory"},
		},
		{
			name: "an empty file is a usage error",
			args: []string{"compare", "OLD", "EMPTY"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"empty.txt has no benchmark results"},
		},
		{
			name: "a malformed file is a usage error",
			args: []string{"compare", "BAD", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"corescale: bad input: ", "bad.txt:1: parsing measurement"},
		},
		{
			name: "-h prints the flags and succeeds",
			args: []string{"compare", "-h"}, old: same, new: same,
			wantCode:   0,
			wantStderr: []string{"Usage: corescale compare [flags] OLD NEW", "-format"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
