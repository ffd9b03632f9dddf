// Package cacheflush writes a memory range back and evicts it from every
// cache of the machine, so that whatever runs next finds it in memory,
// whichever core it runs on.
//
// A benchmark that compares strategies needs this: the parent that
// prepares a run (clearing its outputs, checking the last ones) leaves the
// data in its own core's caches, where a goroutine of the parent may find
// it and a worker process on another core must fetch it across. Flushed,
// every strategy starts alike.
package cacheflush

// LineSize is the cache line size the flush steps by. A line size larger
// than the CPU's only skips lines; x86-64 and arm64 have 64-byte lines.
const LineSize = 64

// Used names the instruction Range flushes with, or "none".
func Used() string {
	if !Supported || len(Instructions) == 0 {
		return "none"
	}
	return Instructions[0]
}

// Range evicts b from every cache level of every core, writing back what
// is dirty, and returns once that is done. Where the architecture has no
// such instruction available here, it does nothing (see Supported).
func Range(b []byte) {
	if len(b) == 0 || !Supported {
		return
	}
	flush(&b[0], len(b))
}
