// Package runner measures kernels under strategies and writes what it
// measured as Go benchmark results.
//
// A Workload is one kernel with its inputs filled and its reference outputs
// computed, in a shared Region that every strategy uses: the same work in
// the same memory, whoever runs it. A Strategy runs all of a workload's
// chunks once (serial: one goroutine; goroutines: N goroutines; procpool: N
// worker processes), dealing chunks out by the same procpool.Sched policy.
// Every run's outputs are checked against the reference before its time
// counts.
//
// Sweep runs a Plan (kernels x shapes x sizes x strategies x scheds x worker
// counts), interleaving cells round by round so that drift on a shared
// machine hits every cell alike, and stops each cell when the 95% confidence
// interval of its median is tight enough or its time budget is spent.
// WriteResults writes the samples in the Go benchmark format, one line per
// sample, so that benchstat and package analysis read them unchanged.
package runner
