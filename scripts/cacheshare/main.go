// Command cacheshare measures how corescale's search kernel, on one CPU,
// depends on what another CPU does meanwhile: nothing, the other half of
// the queries (2 workers), a sequential read of the same keys, or of as
// much other memory. It prints Go benchmark lines, one per run, so that
//
//	go run ./scripts/cacheshare > beside.txt
//	go tool benchstat -col '/beside@(none worker keys-read other-read)' beside.txt
//
// compares them. On a VM whose last-level cache is shared with other
// tenants, a lone search keeps less of its keys resident than one whose
// keys another CPU reads too: that is where search's speedups above the
// worker count come from (see the README's results).
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/runner"
	"github.com/corescale/corescale/runner/procpool"
)

func main() {
	rounds := flag.Int("rounds", 12, "rounds, each running every case once, in a random order")
	size := flag.Int("size", 4<<20, "keys")
	flag.Parse()
	if err := run(*rounds, *size); err != nil {
		fmt.Fprintln(os.Stderr, "cacheshare:", err)
		os.Exit(2)
	}
}

func run(rounds, size int) error {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || set.Count() < 2 {
		return fmt.Errorf("needs 2 CPUs to run on (affinity mask has %d)", set.Count())
	}
	var cpus []int
	for c := 0; len(cpus) < 2; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	const chunks = 64
	k, err := kernels.New(kernels.Params{Kernel: "search", Shape: "uniform", Size: size, Chunks: chunks, Seed: 1})
	if err != nil {
		return err
	}
	// The inputs, the outputs and the other memory live in shared
	// regions, as a sweep's do.
	var regions [3]*procpool.Region
	for i, n := range []int{k.InputBytes(), k.OutputBytes(), size * 8} {
		if regions[i], err = procpool.NewRegion(n); err != nil {
			return err
		}
		defer regions[i].Close()
	}
	in, out, other := regions[0].Bytes(), regions[1].Bytes(), regions[2].Bytes()
	if err := k.Fill(in); err != nil {
		return err
	}
	chunk, err := k.Bind(in, out)
	if err != nil {
		return err
	}
	keys := in[:size*8]

	// search runs every chunk on the given CPUs, claiming them from a
	// counter as corescale's dynamic schedule does.
	search := func(on []int) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for _, cpu := range on {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pin(cpu)
				for c := next.Add(1) - 1; c < chunks; c = next.Add(1) - 1 {
					chunk(int(c))
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// beside runs a serial search on the first CPU while the second
	// reads mem from end to end, a word per cache line, until it is done.
	beside := func(mem []byte) time.Duration {
		var stop atomic.Bool
		done := make(chan uint64)
		go func() {
			pin(cpus[1])
			words := unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), len(mem)/8)
			var sum uint64
			for !stop.Load() {
				for i := 0; i < len(words); i += 8 {
					sum += words[i]
				}
			}
			done <- sum
		}()
		time.Sleep(20 * time.Millisecond)
		d := search(cpus[:1])
		stop.Store(true)
		<-done
		return d
	}
	cases := []struct {
		name string
		run  func() time.Duration
	}{
		{"none", func() time.Duration { return search(cpus[:1]) }},
		{"worker", func() time.Duration { return search(cpus) }},
		{"keys-read", func() time.Duration { return beside(keys) }},
		{"other-read", func() time.Duration { return beside(other) }},
	}
	for _, c := range runner.CheckEnv().Config {
		fmt.Printf("%s: %s\n", c.Key, c.Value)
	}
	queries := k.Work().Amount
	order := rand.New(rand.NewPCG(1, 2))
	for range rounds {
		// What one case leaves in the caches is what the next starts
		// from: a fresh order each round, so that no case keeps one
		// predecessor (a rotation by one would keep them all).
		for _, i := range order.Perm(len(cases)) {
			c := cases[i]
			d := c.run()
			fmt.Printf("BenchmarkSearch/beside=%s 1 %d ns/op %.4g queries/s\n", c.name, d.Nanoseconds(), queries/d.Seconds())
		}
	}
	return nil
}

// pin locks the calling goroutine to its thread and the thread to cpu.
// It never unlocks: the thread ends with its goroutine, so that no other
// goroutine inherits its mask.
func pin(cpu int) {
	runtime.LockOSThread()
	var one unix.CPUSet
	one.Set(cpu)
	_ = unix.SchedSetaffinity(0, &one) // unpinned, the figures are only blurrier
}
