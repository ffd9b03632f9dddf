package cacheflush

// Supported reports whether Range flushes on this architecture.
const Supported = true

// flush runs CLFLUSH over the lines of [p, p+n), then MFENCE: CLFLUSH is
// part of SSE2, which every x86-64 CPU has.
//
//go:noescape
func flush(p *byte, n int)
