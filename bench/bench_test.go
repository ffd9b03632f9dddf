package bench

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/corescale/corescale/internal/topology"
	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/runner"
	"github.com/corescale/corescale/runner/procpool"
)

var (
	size = flag.String("size", "default", "problem size: small, default or large")
	pins = flag.String("pin", "none", "placement of goroutines and procpool workers, a list of: none, cores, spread, compact (as corescale run -pin)")
)

func BenchmarkMatmul(b *testing.B) { benchKernel(b, "matmul") }
func BenchmarkHash(b *testing.B)   { benchKernel(b, "hash") }
func BenchmarkSearch(b *testing.B) { benchKernel(b, "search") }

var scheds = []procpool.Sched{procpool.Dynamic, procpool.Static}

// Workloads and strategies are built once and shared by every -cpu value
// and -count repetition: building them (filling inputs, computing the
// reference, starting a pool) is set-up, never part of a measurement.
var (
	workloads  = map[kernels.Params]*runner.Workload{}
	strategies = map[string]runner.Strategy{}
)

func workload(b *testing.B, p kernels.Params) *runner.Workload {
	w := workloads[p]
	if w == nil {
		var err error
		if w, err = runner.NewWorkload(p); err != nil {
			b.Fatal(err)
		}
		workloads[p] = w
	}
	return w
}

func strategy(b *testing.B, name string, w *runner.Workload, workers int, pin topology.Policy) runner.Strategy {
	key := fmt.Sprintf("%v/%s/%d/%s", w.Params(), name, workers, pin)
	s := strategies[key]
	if s == nil {
		var err error
		if s, err = runner.NewPinnedStrategy(name, w, workers, pin); err != nil {
			b.Fatal(err)
		}
		strategies[key] = s
	}
	return s
}

func closeAll() {
	for _, s := range strategies {
		s.Close()
	}
	for _, w := range workloads {
		w.Close()
	}
}

func benchKernel(b *testing.B, kernel string) {
	info, err := kernels.Lookup(kernel)
	if err != nil {
		b.Fatal(err)
	}
	policies, err := parsePins(*pins)
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range info.Shapes {
		p, err := kernels.Defaults(kernel, *size)
		if err != nil {
			b.Fatal(err)
		}
		p.Shape = shape
		p.Chunks = info.ChunksFor(p.Size, cpuSpread())
		for _, name := range runner.Strategies() {
			namePins := policies
			if !runner.Pinnable(name) {
				namePins = []topology.Policy{topology.None} // serial: the baseline is never pinned
			}
			for _, sched := range scheds {
				for _, pin := range namePins {
					cell := runner.Cell{Params: p, Strategy: name, Sched: sched, Pin: pin}
					b.Run(benchName(cell), func(b *testing.B) {
						cell.Workers = leafWorkers(b)
						if runner.CheckStrategy(name, cell.Workers) != nil {
							cell.Workers = 1 // serial: one worker at every -cpu value
						}
						benchCell(b, cell)
					})
				}
			}
		}
	}
}

// cpuSpread is the largest -cpu value within this machine's CPUs, or
// GOMAXPROCS without -cpu: the chunk count follows the chunk rule of a
// sweep with those worker counts, the same at every -cpu value, so that
// every line does the same work.
func cpuSpread() int {
	spread := 0
	if f := flag.Lookup("test.cpu"); f != nil {
		for item := range strings.SplitSeq(f.Value.String(), ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(item)); err == nil {
				spread = max(spread, n)
			}
		}
	}
	if spread == 0 {
		spread = runtime.GOMAXPROCS(0)
	}
	return min(spread, runtime.NumCPU())
}

// parsePins reads -pin, as corescale run does.
func parsePins(s string) ([]topology.Policy, error) {
	var policies []topology.Policy
	for _, item := range strings.Split(s, ",") {
		p, err := runner.CheckPin(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		policies = append(policies, p)
	}
	return policies, nil
}

// benchName is the cell's name below the kernel's benchmark, without the
// worker count: go test -cpu runs each leaf at every -cpu value, and says
// which in the name's -N suffix (none for 1). Serial runs one worker at
// every -cpu value.
func benchName(c runner.Cell) string {
	name := c.Name() // Kernel/shape=s/size=n/strategy=s/sched=s/workers=n
	name = name[strings.IndexByte(name, '/')+1:]
	return name[:strings.LastIndexByte(name, '/')]
}

// benchCell times the parallel section of each run and verifies each run's
// outputs. Poisoning and verifying the outputs happen inside the b.Loop
// iterations but outside the reported times: ns/op and the throughput are
// computed from the strategies' own wall times, which is also why the
// throughput is reported with ReportMetric rather than SetBytes (SetBytes
// would divide by the loop's whole time).
func benchCell(b *testing.B, cell runner.Cell) {
	w := workload(b, cell.Params)
	s := strategy(b, cell.Strategy, w, cell.Workers, cell.Pin)
	var sum runner.Timing
	for b.Loop() {
		t, err := runner.Measure(context.Background(), s, w, cell.Sched)
		if err != nil {
			b.Fatalf("%s: %v", cell.Name(), err)
		}
		sum = sum.Add(t)
	}
	perOp := sum.Div(b.N)
	work := w.Kernel.Work()
	for _, m := range runner.Metrics(work, perOp) {
		b.ReportMetric(m.Value, m.Unit)
	}
	// The worker count a line measured, which its -N suffix names: a test
	// checks the two agree.
	b.ReportMetric(float64(cell.Workers), "workers")
	if work.Unit == "queries" {
		b.ReportMetric(float64(perOp.Wall.Nanoseconds())/work.Amount, "ns/query")
	}
	if st, ok := s.(runner.Starter); ok {
		b.ReportMetric(float64(st.Startup().Nanoseconds()), "startup-ns")
	}
}

// leafCalls counts the calls of each leaf benchmark.
var leafCalls = map[string]int{}

// leafWorkers returns the worker count a leaf measures: the GOMAXPROCS that
// testing names the line by (its -N suffix, none for 1). testing makes each
// leaf's first call, the one measured for the first -cpu value, before it
// sets GOMAXPROCS to that value (golang/go#49980: it still holds the last
// one), so the first call sets it itself.
func leafWorkers(b *testing.B) int {
	leafCalls[b.Name()]++
	if leafCalls[b.Name()] == 1 {
		if procs, ok := firstCPU(); ok {
			runtime.GOMAXPROCS(procs)
		}
	}
	return runtime.GOMAXPROCS(0)
}

// firstCPU is the first value of go test's -cpu list, if one was given.
func firstCPU() (int, bool) {
	f := flag.Lookup("test.cpu")
	if f == nil || f.Value.String() == "" {
		return 0, false
	}
	first, _, _ := strings.Cut(f.Value.String(), ",")
	n, err := strconv.Atoi(strings.TrimSpace(first))
	return n, err == nil && n > 0
}
