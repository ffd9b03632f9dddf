//go:build !amd64

package cacheflush

// Supported reports whether Range flushes on this architecture.
const Supported = false

// Instructions lists the flush instructions this CPU has: none here.
var Instructions []string

var flushes = map[string]func(p *byte, n int){}

func flush(p *byte, n int) {}
