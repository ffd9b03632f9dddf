package runner

import (
	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
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

// Record is the cell as the result file names it.
func (c Cell) Record() resultfile.Cell {
	r := configRecord(c.Params)
	r.Strategy, r.Sched, r.Workers = c.Strategy, c.Sched.String(), c.Workers
	return r
}

// Name returns the cell's benchmark name without the "Benchmark" prefix.
func (c Cell) Name() string { return c.Record().Name() }

func configRecord(p kernels.Params) resultfile.Cell {
	return resultfile.Cell{Kernel: resultfile.KernelName(p.Kernel), Shape: p.Shape, Size: resultfile.FormatSize(p.Size)}
}

// KernelName names a kernel configuration: "Hash/shape=uniform/size=64Mi".
func KernelName(p kernels.Params) string { return configRecord(p).ConfigName() }
