package procpool

import (
	"fmt"
	"iter"
	"sync/atomic"
)

// Sched is how the chunks of a job are dealt out to workers. Goroutine
// strategies use the same Claim, so that the policy is the one thing every
// strategy shares and never a difference between them.
type Sched int32

const (
	// Dynamic: each worker claims the next unclaimed chunk from a shared
	// counter until none is left, like Python's Pool.map with a chunksize.
	// Workers that draw cheap chunks come back for more.
	Dynamic Sched = iota
	// Static: worker w of n owns the contiguous chunks
	// [w*chunks/n, (w+1)*chunks/n), fixed before the job starts: the hand
	// split, which leaves workers idle when chunks cost different amounts.
	Static
)

func (s Sched) String() string {
	switch s {
	case Dynamic:
		return "dynamic"
	case Static:
		return "static"
	}
	return fmt.Sprintf("Sched(%d)", int32(s))
}

// ParseSched parses "dynamic" or "static".
func ParseSched(s string) (Sched, error) {
	switch s {
	case "dynamic":
		return Dynamic, nil
	case "static":
		return Static, nil
	}
	return 0, fmt.Errorf("procpool: unknown sched %q (have dynamic, static)", s)
}

// Claim returns the chunks worker w of workers runs in a job of chunks
// chunks. For Dynamic, next is the job's shared claim counter, starting at 0;
// Static ignores it.
func (s Sched) Claim(next *atomic.Int64, w, workers, chunks int) iter.Seq[int] {
	if s == Static {
		lo := int(int64(chunks) * int64(w) / int64(workers))
		hi := int(int64(chunks) * int64(w+1) / int64(workers))
		return func(yield func(int) bool) {
			for i := lo; i < hi; i++ {
				if !yield(i) {
					return
				}
			}
		}
	}
	return func(yield func(int) bool) {
		for {
			i := next.Add(1) - 1
			if i >= int64(chunks) || !yield(int(i)) {
				return
			}
		}
	}
}
