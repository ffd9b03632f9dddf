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
