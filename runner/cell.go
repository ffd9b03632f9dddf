package runner

import (
	"fmt"
	"strings"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/runner/procpool"
)

// A Cell is one thing a sweep measures repeatedly: a kernel configuration
// run by one strategy with one scheduling policy and worker count.
type Cell struct {
	// Params are the kernel's parameters at the cell's base size; under
	// weak scaling the size actually run grows with Workers.
	Params   kernels.Params
	Strategy string
	Sched    procpool.Sched
	Workers  int
}

// Name returns the cell's benchmark name without the "Benchmark" prefix,
// every dimension a sub-benchmark key so that benchstat can pivot on it:
//
//	Hash/shape=uniform/size=64Mi/strategy=procpool/sched=dynamic/workers=2
//
// The worker count is always named: go test -cpu omits a "-1" suffix,
// which leaves benchstat's /gomaxprocs column for one CPU without a header.
func (c Cell) Name() string {
	return fmt.Sprintf("%s/strategy=%s/sched=%v/workers=%d", KernelName(c.Params), c.Strategy, c.Sched, c.Workers)
}

// KernelName names a kernel configuration: "Hash/shape=uniform/size=64Mi".
func KernelName(p kernels.Params) string {
	return fmt.Sprintf("%s/shape=%s/size=%s", strings.ToUpper(p.Kernel[:1])+p.Kernel[1:], p.Shape, FormatSize(p.Size))
}

// FormatSize writes sizes the way benchstat's @num sort reads them: 64Mi,
// 64Ki, or plain numbers (matrix orders such as 1024 stay plain).
func FormatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMi", n>>20)
	case n >= 1<<16 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKi", n>>10)
	}
	return fmt.Sprint(n)
}

// ThroughputUnit is the unit of a kernel's throughput metric: its work unit
// per second (FLOP/s, B/s, queries/s), a base unit that benchstat scales.
func ThroughputUnit(w kernels.Work) string { return w.Unit + "/s" }
