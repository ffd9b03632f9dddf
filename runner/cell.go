package runner

import (
	"github.com/corescale/corescale/internal/topology"
	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner/procpool"
)

// A Cell is one thing a sweep measures repeatedly: a kernel configuration
// run by one strategy with one scheduling policy and worker count.
type Cell struct {
	// Params are the kernel's parameters as the cell runs them.
	Params   kernels.Params
	Strategy string
	Sched    procpool.Sched
	// Pin is the placement policy that pins the workers to CPUs; "" or
	// topology.None leaves them to the scheduler.
	Pin     topology.Policy
	Workers int
	// PerWorker is, under weak scaling, the size per worker that
	// Params.Size grew from with Workers (0 under strong scaling): the
	// cells of one configuration share it.
	PerWorker int
}

// Config returns the parameters of the cell's kernel configuration: its
// own, or under weak scaling those at the size per worker.
func (c Cell) Config() kernels.Params {
	p := c.Params
	if c.PerWorker > 0 {
		p.Size = c.PerWorker
	}
	return p
}

// Record is the cell as the result file names it: under weak scaling, the
// size it ran and the size per worker.
func (c Cell) Record() resultfile.Cell {
	r := configRecord(c.Params)
	r.Strategy, r.Sched, r.Workers = c.Strategy, c.Sched.String(), c.Workers
	if c.pinned() {
		r.Pin = string(c.Pin)
	}
	if c.PerWorker > 0 {
		r.PerWorker = resultfile.FormatSize(c.PerWorker)
	}
	return r
}

// pinned reports whether the cell's workers are pinned to CPUs.
func (c Cell) pinned() bool { return c.Pin != "" && c.Pin != topology.None }

// Name returns the cell's benchmark name without the "Benchmark" prefix.
func (c Cell) Name() string { return c.Record().Name() }

func configRecord(p kernels.Params) resultfile.Cell {
	return resultfile.Cell{Kernel: resultfile.KernelName(p.Kernel), Shape: p.Shape, Size: resultfile.FormatSize(p.Size)}
}

// KernelName names a kernel configuration: "Hash/shape=uniform/size=64Mi".
func KernelName(p kernels.Params) string { return configRecord(p).ConfigName() }
