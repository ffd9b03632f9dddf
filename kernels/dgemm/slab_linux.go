package dgemm

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapSlab maps size bytes (a multiple of slabSize) of anonymous memory on a
// slabSize boundary, the alignment a huge page needs, and asks the kernel
// to back it with transparent huge pages. It returns nil if the mapping
// fails. The advice is only advice: with transparent_hugepage=never, or no
// free huge page, the slab is on 4 KiB pages (HugePages tells).
func mapSlab(size int) []byte {
	mem, err := unix.Mmap(-1, 0, size+slabSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil
	}
	// The slabSize bytes before the boundary and after the slab stay
	// mapped and untouched: address space, no memory.
	off := 0
	if r := int(uintptr(unsafe.Pointer(&mem[0])) % slabSize); r != 0 {
		off = slabSize - r
	}
	mem = mem[off : off+size : off+size]
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // EINVAL where the kernel has no transparent huge pages
	return mem
}

// HugePages reports whether the packing buffers of this process are on
// huge pages: it carves a buffer, touches it and reads the kernel's
// account of its mapping (/proc/self/smaps, AnonHugePages). Where they are
// not, matmul's speed depends on where each process's pages landed.
func HugePages() (bool, error) {
	buf := packFloats(cacheLine / 8)
	buf[0] = 1 // the first touch is the fault that brings the page in
	return anonHuge("/proc/self/smaps", uintptr(unsafe.Pointer(&buf[0])))
}

// anonHuge reports whether the mapping in smaps that holds addr has any of
// it on anonymous huge pages.
func anonHuge(smaps string, addr uintptr) (bool, error) {
	f, err := os.Open(smaps)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inside := false
	for sc.Scan() {
		line := sc.Bytes()
		if lo, hi, ok := mappingRange(line); ok {
			inside = lo <= addr && addr < hi
			continue
		}
		if rest, ok := bytes.CutPrefix(line, []byte("AnonHugePages:")); inside && ok {
			kb, err := strconv.Atoi(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))))
			if err != nil {
				return false, fmt.Errorf("%s: %q: %v", smaps, line, err)
			}
			return kb > 0, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	return false, fmt.Errorf("%s: no mapping holds %#x", smaps, addr)
}

// mappingRange parses the head line of a mapping in smaps,
// "7f0000000000-7f0000200000 rw-p 00000000 00:00 0".
func mappingRange(line []byte) (lo, hi uintptr, ok bool) {
	span, _, found := bytes.Cut(line, []byte(" "))
	if !found {
		return 0, 0, false
	}
	l, h, found := bytes.Cut(span, []byte("-"))
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(string(l), 16, 64)
	b, err2 := strconv.ParseUint(string(h), 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), true
}

// Pages describes the pages this process's packing buffers are on, for a
// result file: "packing on 2 MiB pages", "packing on 4 KiB pages" (no huge
// page was given: the speed then depends on where each process's pages
// landed), or why it cannot tell.
func Pages() string {
	huge, err := HugePages()
	switch {
	case err != nil:
		return "packing pages unknown: " + err.Error()
	case huge:
		return "packing on 2 MiB pages"
	}
	return "packing on 4 KiB pages"
}
