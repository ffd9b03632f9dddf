package procpool

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

func TestClaimDealsEveryChunkExactlyOnce(t *testing.T) {
	for _, sched := range []Sched{Dynamic, Static} {
		for _, tc := range []struct{ chunks, workers int }{{0, 1}, {1, 1}, {1, 4}, {7, 3}, {64, 2}, {1000, 16}, {3, 8}} {
			t.Run(fmt.Sprintf("%v/chunks=%d/workers=%d", sched, tc.chunks, tc.workers), func(t *testing.T) {
				var next atomic.Int64
				seen := make([]atomic.Int32, tc.chunks)
				var wg sync.WaitGroup
				for w := range tc.workers {
					wg.Go(func() {
						for i := range sched.Claim(&next, w, tc.workers, tc.chunks) {
							seen[i].Add(1)
						}
					})
				}
				wg.Wait()
				for i := range seen {
					if n := seen[i].Load(); n != 1 {
						t.Errorf("chunk %d claimed %d times", i, n)
					}
				}
			})
		}
	}
}

func TestStaticRangesAreContiguousAndBalanced(t *testing.T) {
	const chunks, workers = 10, 4
	prev := 0
	for w := range workers {
		var got []int
		for i := range Static.Claim(nil, w, workers, chunks) {
			got = append(got, i)
		}
		if len(got) < chunks/workers || len(got) > chunks/workers+1 {
			t.Errorf("worker %d has %d chunks", w, len(got))
		}
		for _, i := range got {
			if i != prev {
				t.Fatalf("worker %d has chunk %d, want %d", w, i, prev)
			}
			prev++
		}
	}
}

func TestParseSched(t *testing.T) {
	for _, s := range []Sched{Dynamic, Static} {
		if got, err := ParseSched(s.String()); err != nil || got != s {
			t.Errorf("ParseSched(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseSched("guided"); err == nil {
		t.Error(`ParseSched("guided") succeeded`)
	}
}

func TestControlBlockKeepsHotFieldsApart(t *testing.T) {
	var c control
	lines := map[string]uintptr{
		"jobSeq":    unsafe.Offsetof(c.jobSeq),
		"next":      unsafe.Offsetof(c.next),
		"remaining": unsafe.Offsetof(c.remaining),
		"parent":    unsafe.Offsetof(c.parent),
		"chunks":    unsafe.Offsetof(c.chunks),
		"slots":     unsafe.Offsetof(c.slots),
	}
	seen := map[uintptr]string{}
	for name, off := range lines {
		if off%64 != 0 {
			t.Errorf("%s at offset %d, not on a cache-line boundary", name, off)
		}
		if other, dup := seen[off/64]; dup {
			t.Errorf("%s shares a cache line with %s", name, other)
		}
		seen[off/64] = name
	}
	// Slots of two workers never share a line: each worker writes its own.
	if size := unsafe.Sizeof(slot{}); size%64 != 0 {
		t.Errorf("a worker slot is %d bytes, want whole 64-byte lines", size)
	}
}
