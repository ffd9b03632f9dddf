//go:build !amd64

package cacheflush

// Supported reports whether Range flushes on this architecture.
const Supported = false

func flush(p *byte, n int) {}
