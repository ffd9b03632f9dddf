package bench

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestEveryLineMeasuresTheWorkersItNames runs this package's benchmarks as
// go test -bench -cpu 1,2 would and checks that each line measured the
// worker count its -N suffix names, the first -cpu value included.
func TestEveryLineMeasuresTheWorkersItNames(t *testing.T) {
	if testing.Short() {
		t.Skip("runs benchmarks")
	}
	var out []byte
	for _, bench := range []string{"^BenchmarkHash$/^shape=uniform$/./^strategy=(serial|goroutines|procpool)$/^sched=dynamic$", "^BenchmarkPool$"} {
		cmd := exec.Command(os.Args[0], "-test.run", "^$", "-test.bench", bench,
			"-test.cpu", "1,2", "-test.benchtime", "2x", "-size", "small")
		o, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, o)
		}
		out = append(out, o...)
	}
	line := regexp.MustCompile(`^Benchmark(\S+?)(-(\d+))?\s+\d+\s.*\s([\d.]+) workers`)
	lines := 0
	for _, l := range strings.Split(string(out), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		lines++
		named := 1
		if m[3] != "" {
			named, _ = strconv.Atoi(m[3])
		}
		if strings.Contains(m[1], "strategy=serial") {
			named = 1
		}
		if got, _ := strconv.ParseFloat(m[4], 64); got != float64(named) {
			t.Errorf("%s: measured %v workers, named %d", strings.Fields(l)[0], got, named)
		}
	}
	// Three strategies and two pool benchmarks, at two -cpu values.
	if lines != 10 {
		t.Errorf("%d benchmark lines with a worker count, want 10:\n%s", lines, out)
	}
}

// TestPinNamesPinnedBenchmarks runs the goroutines and procpool
// benchmarks with -pin none,cores: each is measured unpinned and pinned,
// the pinned one named with pin=cores; serial stays unpinned.
func TestPinNamesPinnedBenchmarks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs benchmarks")
	}
	out, err := exec.Command(os.Args[0], "-test.run", "^$", "-test.bench", "^BenchmarkHash$/^shape=uniform$/./^strategy=(serial|goroutines|procpool)$/^sched=dynamic$",
		"-test.cpu", "2", "-test.benchtime", "2x", "-size", "small", "-pin", "none,cores").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	names := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "BenchmarkHash/") {
			names[strings.TrimPrefix(f[0], "BenchmarkHash/shape=uniform/size=4Mi/")] = true
		}
	}
	for _, want := range []string{
		"strategy=serial/sched=dynamic-2",
		"strategy=goroutines/sched=dynamic-2", "strategy=goroutines/sched=dynamic/pin=cores-2",
		"strategy=procpool/sched=dynamic-2", "strategy=procpool/sched=dynamic/pin=cores-2",
	} {
		if !names[want] {
			t.Errorf("no line for %s in:\n%s", want, out)
		}
	}
	if len(names) != 5 {
		t.Errorf("%d benchmark lines, want 5: %v", len(names), names)
	}
	bad, err := exec.Command(os.Args[0], "-test.run", "^$", "-test.bench", "^BenchmarkHash$", "-size", "small", "-pin", "scatter").CombinedOutput()
	if err == nil || !strings.Contains(string(bad), `unknown placement policy "scatter"`) {
		t.Errorf("-pin scatter: %v\n%s", err, bad)
	}
}
