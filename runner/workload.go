package runner

import (
	"fmt"
	"github.com/corescale/corescale/internal/cacheflush"
	"unsafe"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/runner/procpool"
)

// A Workload is a kernel whose inputs are filled in a shared region and whose
// reference outputs are computed, ready to be run by any strategy.
type Workload struct {
	Kernel kernels.Kernel
	region *procpool.Region
	in     []byte
	out    []byte
	want   []byte
	chunk  func(int) // the chunk function over this process's view
	task   []byte    // what worker processes rebuild the chunk function from
}

// outputAlign places the outputs on a cache line of their own.
const outputAlign = 64

// layout returns where the inputs and outputs of k sit in its region, and
// the region's size. Workers and the parent must agree on it.
func layout(k kernels.Kernel) (outOffset, size int) {
	outOffset = (k.InputBytes() + outputAlign - 1) &^ (outputAlign - 1)
	return outOffset, outOffset + k.OutputBytes()
}

func split(k kernels.Kernel, data []byte) (in, out []byte, err error) {
	off, size := layout(k)
	if len(data) < size {
		return nil, nil, fmt.Errorf("runner: region of %d bytes is too small for %v (%d bytes)", len(data), k.Params(), size)
	}
	return data[:k.InputBytes()], data[off:size], nil
}

// NewWorkload builds the kernel p describes, fills its inputs in a new
// shared region and computes its reference outputs.
func NewWorkload(p kernels.Params) (*Workload, error) {
	k, err := kernels.New(p)
	if err != nil {
		return nil, err
	}
	_, size := layout(k)
	region, err := procpool.NewRegion(size)
	if err != nil {
		return nil, err
	}
	w := &Workload{Kernel: k, region: region, task: []byte(p.String())}
	w.in, w.out, _ = split(k, region.Bytes())
	w.want = alignedBytes(k.OutputBytes())
	if err := k.Fill(w.in); err != nil {
		region.Close()
		return nil, err
	}
	if err := k.Reference(w.in, w.want); err != nil {
		region.Close()
		return nil, err
	}
	if w.chunk, err = k.Bind(w.in, w.out); err != nil {
		region.Close()
		return nil, err
	}
	return w, nil
}

func alignedBytes(n int) []byte {
	words := make([]uint64, (n+7)/8+1)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// Params returns the kernel's parameters.
func (w *Workload) Params() kernels.Params { return w.Kernel.Params() }

// Chunks returns the number of chunks in one run.
func (w *Workload) Chunks() int { return w.Kernel.Params().Chunks }

// poison overwrites the outputs with a pattern no kernel produces (not NaN,
// not -1, not a plausible digest), so that a run that skips a chunk cannot
// pass verification on the previous run's outputs.
func (w *Workload) poison() {
	if len(w.out) == 0 {
		return
	}
	// Doubling copies (memmove) rather than a byte loop: 2 MiB of
	// matmul's outputs took 0.7 ms a run byte by byte.
	w.out[0] = 0xA5
	for n := 1; n < len(w.out); n *= 2 {
		copy(w.out[n:], w.out[:n])
	}
}

// evict writes the region back to memory and out of every core's caches.
// Poisoning the outputs and checking the last ones leave them in the
// caches of the parent's core, and a run leaves the inputs in those of the
// cores that ran it; a run that follows on the parent's goroutine would
// find them there, a worker process on another core would fetch them
// across: at n = 512, matmul's worker used 6-11% more CPU time than the
// same chunks on the parent's goroutine. Evicted, every run of every
// strategy starts with its data in memory.
func (w *Workload) evict() { cacheflush.Range(w.region.Bytes()) }

// Verify checks the outputs of the last run against the reference.
func (w *Workload) Verify() error {
	return w.Kernel.Verify(w.in, w.want, w.out)
}

// Close releases the region. Strategies over the workload must be closed
// first.
func (w *Workload) Close() error { return w.region.Close() }

// Resolve is the procpool.Resolver of programs that run workloads in worker
// processes: it rebuilds the kernel from the task (kernels.Params text) over
// the worker's view of the region. Pass it to procpool.Serve.
func Resolve(task, data []byte) (func(int), error) {
	p, err := kernels.ParseParams(string(task))
	if err != nil {
		return nil, err
	}
	k, err := kernels.New(p)
	if err != nil {
		return nil, err
	}
	in, out, err := split(k, data)
	if err != nil {
		return nil, err
	}
	return k.Bind(in, out)
}
