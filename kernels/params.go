package kernels

import (
	"fmt"
	"strconv"
	"strings"
)

// String returns the text form of p, e.g.
// "hash shape=uniform size=67108864 chunks=64 seed=1", which ParseParams reads
// back. It is the task descriptor that worker processes rebuild a kernel from.
func (p Params) String() string {
	return fmt.Sprintf("%s shape=%s size=%d chunks=%d seed=%d", p.Kernel, p.Shape, p.Size, p.Chunks, p.Seed)
}

// ParseParams parses the text form written by Params.String. It checks the
// syntax only; New checks the values.
func ParseParams(s string) (Params, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return Params{}, fmt.Errorf("kernels: empty parameters")
	}
	p := Params{Kernel: fields[0]}
	if strings.Contains(p.Kernel, "=") {
		return Params{}, fmt.Errorf("kernels: parameters %q: must start with a kernel name", s)
	}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		key, value, ok := strings.Cut(f, "=")
		if !ok {
			return Params{}, fmt.Errorf("kernels: parameter %q: want key=value", f)
		}
		if seen[key] {
			return Params{}, fmt.Errorf("kernels: parameter %q given twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "shape":
			p.Shape = value
		case "size":
			p.Size, err = strconv.Atoi(value)
		case "chunks":
			p.Chunks, err = strconv.Atoi(value)
		case "seed":
			p.Seed, err = strconv.ParseUint(value, 10, 64)
		default:
			return Params{}, fmt.Errorf("kernels: unknown parameter %q", key)
		}
		if err != nil {
			return Params{}, fmt.Errorf("kernels: parameter %s=%q: not a number", key, value)
		}
	}
	for _, key := range []string{"shape", "size", "chunks", "seed"} {
		if !seen[key] {
			return Params{}, fmt.Errorf("kernels: parameters %q lack %s", s, key)
		}
	}
	return p, nil
}
