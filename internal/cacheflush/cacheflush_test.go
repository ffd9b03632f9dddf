package cacheflush

import (
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"
)

// withEach runs test once with Range and once with each flush instruction
// this CPU has, called as Range calls it.
func withEach(t *testing.T, test func(t *testing.T, flush func(b []byte))) {
	t.Run("Range", func(t *testing.T) { test(t, Range) })
	for _, name := range Instructions {
		f := flushes[name]
		t.Run(name, func(t *testing.T) {
			test(t, func(b []byte) {
				if len(b) > 0 {
					f(&b[0], len(b))
				}
			})
		})
	}
}

// Range must leave memory as it was, whatever the alignment and length.
func TestRangeKeepsTheBytes(t *testing.T) {
	withEach(t, func(t *testing.T, flush func([]byte)) {
		buf := make([]byte, 10000)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		for _, r := range [][2]int{{0, 0}, {0, 1}, {1, 63}, {63, 65}, {100, 9000}, {0, 10000}} {
			flush(buf[r[0]:r[1]])
		}
		for i := range buf {
			if buf[i] != byte(i*7) {
				t.Fatalf("byte %d changed", i)
			}
		}
	})
}

// After Range, reading the range again costs more than reading it while it
// was cached: the lines came from memory. Timed over a range that fits in
// any L2, read before (warm) and after a flush (cold), by following a chain
// of offsets through its lines in a shuffled order, so that each read waits
// for the one before and no prefetcher foresees the next.
func TestRangeEvicts(t *testing.T) {
	if !Supported {
		t.Skip("no flush on this architecture")
	}
	withEach(t, testEvicts)
}

func testEvicts(t *testing.T, flush func([]byte)) {
	const lines = 4096 // 256 KiB
	chain := make([]uint64, lines*LineSize/8)
	order := rand.New(rand.NewPCG(1, 2)).Perm(lines)
	for i, line := range order {
		chain[line*LineSize/8] = uint64(order[(i+1)%lines] * LineSize / 8)
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&chain[0])), len(chain)*8)
	read := func() time.Duration {
		start := time.Now()
		at := uint64(0)
		for range lines {
			at = chain[at]
		}
		sinkIndex = at
		return time.Since(start)
	}
	var warm, cold time.Duration
	for range 20 {
		read()
		w := read()
		flush(buf)
		c := read()
		if warm == 0 || w < warm {
			warm = w
		}
		if cold == 0 || c < cold {
			cold = c
		}
	}
	t.Logf("a chain through 256 KiB: %v cached, %v after a flush", warm, cold)
	if cold < 2*warm {
		t.Errorf("the chain took %v after a flush, not much longer than the %v while cached: nothing was evicted", cold, warm)
	}
}

var sinkIndex uint64

func BenchmarkRange(b *testing.B) {
	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = 1
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		Range(buf)
	}
}
