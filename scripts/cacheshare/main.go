// Command cacheshare measures how corescale's search kernel, on one CPU,
// depends on what another CPU does meanwhile: nothing, the other half of
// the queries (2 workers), a sequential read of the same keys, or of as
// much other memory. It prints Go benchmark lines, one per run, so that
//
//	go run ./scripts/cacheshare > beside.txt
//	go tool benchstat -col /beside beside.txt
//
// compares them. On a VM whose last-level cache is shared with other
// tenants, a lone search keeps less of its keys resident than one whose
// keys another CPU reads too: that is where search's speedups above the
// worker count come from (see the README's results).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/runner"
)

func main() {
	rounds := flag.Int("rounds", 8, "rounds, each running every case once")
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
	in, err := shared(k.InputBytes())
	if err != nil {
		return err
	}
	out, err := shared(k.OutputBytes())
	if err != nil {
		return err
	}
	other, err := shared(size * 8)
	if err != nil {
		return err
	}
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
	for round := range rounds {
		// Each case follows a different one from round to round: what
		// one leaves in the caches is what the next starts from.
		for i := range cases {
			c := cases[(i+round)%len(cases)]
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

// shared maps n bytes of shared memory, faulted in, as corescale's regions
// are.
func shared(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
}
