package dgemm

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

func TestPackingBuffersAreAlignedAndApart(t *testing.T) {
	// Buffers of awkward lengths, carved one after another (some from a
	// new slab): each starts on a cache line and none overlaps another.
	type span struct{ lo, hi uintptr }
	var spans []span
	for _, n := range []int{1, 7, 8, 9, 4099, slabSize / 8, 3, slabSize/8 + 1, 64} {
		s := packFloats(n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("packFloats(%d): len %d cap %d", n, len(s), cap(s))
		}
		lo := uintptr(unsafe.Pointer(&s[0]))
		if lo%cacheLine != 0 {
			t.Errorf("packFloats(%d) starts at %#x, not on a cache line", n, lo)
		}
		for i := range s {
			s[i] = float64(n) // each buffer is writable, whole
		}
		spans = append(spans, span{lo, lo + uintptr(8*n)})
	}
	for i, a := range spans {
		for _, b := range spans[:i] {
			if a.lo < b.hi && b.lo < a.hi {
				t.Errorf("buffers %#x-%#x and %#x-%#x overlap", a.lo, a.hi, b.lo, b.hi)
			}
		}
	}
}

func TestPackingBuffersAreOnHugePages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux maps the packing buffers itself")
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off here (%q, %v): the buffers are on 4 KiB pages", mode, err)
	}
	// A fault gets a huge page at once only where the kernel may compact
	// memory for it then; with defrag "defer" or "never" it may take 4 KiB
	// pages on a fragmented machine and collapse them later, or never.
	defrag, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/defrag")
	if err != nil || strings.Contains(string(defrag), "[defer]") || strings.Contains(string(defrag), "[never]") {
		t.Skipf("huge pages are not compacted for at fault time here (defrag %q, %v)", defrag, err)
	}
	huge, err := HugePages()
	if err != nil {
		t.Fatal(err)
	}
	if !huge {
		t.Errorf("transparent huge pages are %q, yet the packing buffers are on 4 KiB pages", strings.TrimSpace(string(mode)))
	}
}
