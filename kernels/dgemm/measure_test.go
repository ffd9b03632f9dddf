package dgemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMeasure prints one-core figures for the report, measured in rounds
// with the cells in a fresh random order each round (the host is shared
// and noisy): each sample is one product (or one PeakFMA loop), timed by
// the wall clock and by this thread's CPU clock, which leaves out the time
// another process had the CPU. It only runs with DGEMM_MEASURE=rounds, e.g.
//
//	DGEMM_MEASURE=15 taskset -c 1 go test -run TestMeasure -v ./kernels/dgemm
func TestMeasure(t *testing.T) {
	rounds, err := strconv.Atoi(os.Getenv("DGEMM_MEASURE"))
	if err != nil || rounds < 1 {
		t.Skip("set DGEMM_MEASURE=rounds to measure")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	type cell struct {
		name  string
		flops float64
		run   func()
		wall  []float64 // GFLOP/s
		cpu   []float64
	}
	var cells []*cell
	const peakIters = 1 << 21
	cells = append(cells, &cell{name: "PeakFMA/" + PeakUnit(), flops: PeakFMA(0) + float64(peakIters)*PeakFMA(1), run: func() { PeakFMA(peakIters) }})
	for _, n := range []int{512, 1024} {
		a, b, c := benchInputs(n)
		flops := 2 * float64(n) * float64(n) * float64(n)
		cells = append(cells,
			&cell{name: fmt.Sprintf("n=%d/whole/%s", n, Kernel()), flops: flops, run: func() { Gemm(n, n, n, a, n, b, n, c, n) }},
			&cell{name: fmt.Sprintf("n=%d/gonum-blocked", n), flops: flops, run: func() { gonumBlocked(n, a, b, c) }},
		)
		pb := PackB(n, n, b, n, heapFloats(PackedSize(n, n)))
		cells = append(cells,
			&cell{name: fmt.Sprintf("n=%d/packed-whole/%s", n, Kernel()), flops: flops, run: func() { GemmPacked(n, a, n, pb, c, n) }},
			&cell{name: fmt.Sprintf("n=%d/packed-bands16/%s", n, Kernel()), flops: flops, run: func() { packedBands(n, 16, a, pb, c) }},
			// The same bands with packing buffers of their own, on 4
			// KiB pages of the heap (as they were before workspace.go)
			// and on a huge page: where the heap's pages landed is this
			// process's luck, so run it several times.
			&cell{name: fmt.Sprintf("n=%d/packed-bands16/heap", n), flops: flops, run: withWorkspace(heapWorkspace(), func() { packedBands(n, 16, a, pb, c) })},
			&cell{name: fmt.Sprintf("n=%d/packed-bands16/slab", n), flops: flops, run: withWorkspace(active.Load().workspace(0), func() { packedBands(n, 16, a, pb, c) })},
		)
		for _, chunks := range []int{benchChunks, 32, 16} {
			cells = append(cells, &cell{name: fmt.Sprintf("n=%d/bands%d/%s", n, chunks, Kernel()), flops: flops, run: func() {
				for i := range chunks {
					lo, hi := i*n/chunks, (i+1)*n/chunks
					Gemm(hi-lo, n, n, a[lo*n:], n, b, n, c[lo*n:], n)
				}
			}})
		}
	}
	threadCPU := func() time.Duration {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ts.Nano())
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for _, c := range cells {
		c.run() // warm up: pools, pages, caches
	}
	for range rounds {
		for _, i := range rng.Perm(len(cells)) {
			c := cells[i]
			// Repeat short cells to about 20 ms a sample.
			reps := 1
			for {
				c0, w0 := threadCPU(), time.Now()
				for range reps {
					c.run()
				}
				wall, cpu := time.Since(w0), threadCPU()-c0
				if wall < 20*time.Millisecond && reps < 1<<12 {
					reps *= 2
					continue
				}
				c.wall = append(c.wall, c.flops*float64(reps)/wall.Seconds()/1e9)
				c.cpu = append(c.cpu, c.flops*float64(reps)/cpu.Seconds()/1e9)
				break
			}
		}
	}
	med := func(x []float64) float64 { x = slices.Clone(x); slices.Sort(x); return x[len(x)/2] }
	peakCPU := med(cells[0].cpu)
	t.Logf("%d rounds; GFLOP/s by wall clock and by thread CPU time; %% of the median PeakFMA by CPU time (%.1f)", rounds, peakCPU)
	t.Logf("%-26s %8s %8s %8s %8s %7s", "cell", "wall med", "wall max", "cpu med", "cpu max", "%peak")
	for _, c := range cells {
		t.Logf("%-26s %8.1f %8.1f %8.1f %8.1f %6.0f%%", c.name, med(c.wall), slices.Max(c.wall), med(c.cpu), slices.Max(c.cpu), 100*med(c.cpu)/peakCPU)
	}
}

// heapWorkspace is a workspace for the active kernel on the Go heap.
func heapWorkspace() *workspace {
	im := active.Load()
	return im.newWorkspace(im.block.mc*im.block.kc, heapFloats)
}

// withWorkspace returns run with ws the only spare workspace of the active
// kernel while it runs, so that every call in it packs into ws.
func withWorkspace(ws *workspace, run func()) func() {
	return func() {
		im := active.Load()
		im.spare.mu.Lock()
		saved := im.spare.free
		im.spare.free = []*workspace{ws}
		im.spare.mu.Unlock()
		run()
		im.spare.mu.Lock()
		im.spare.free = saved
		im.spare.mu.Unlock()
	}
}
