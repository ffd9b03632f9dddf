// Package tail keeps the end of a stream of writes: the last lines a child
// process wrote to stderr, say, to quote in the error that reports its
// death. It imports only the standard library.
package tail

import (
	"io"
	"sync"
)

// A Buffer keeps the last bytes written to it, at most its maximum, and may
// pass every write on to another writer. Its methods may be called from any
// goroutine: an exec.Cmd copies a child's output from a goroutine of its
// own while the parent reads the tail from another.
type Buffer struct {
	mu   sync.Mutex
	max  int
	next io.Writer
	buf  []byte
}

// New returns a Buffer that keeps the last max bytes written to it (none if
// max <= 0).
func New(max int) *Buffer { return &Buffer{max: max} }

// Through returns a Buffer that keeps the last max bytes written to it and
// passes every write on to next. Errors from next are dropped, not returned:
// when the Buffer is a child's stderr, an error would make exec.Cmd stop
// draining the pipe, and the child would block on a full pipe because the
// copy of its output could not be written somewhere.
func Through(next io.Writer, max int) *Buffer { return &Buffer{max: max, next: next} }

// Write keeps the end of p and passes p on. It always reports success.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	switch {
	case b.max <= 0:
	case len(p) >= b.max:
		b.buf = append(b.buf[:0], p[len(p)-b.max:]...)
	default:
		b.buf = append(b.buf, p...)
		if over := len(b.buf) - b.max; over > 0 {
			// Move the tail to the front instead of reslicing past
			// the head: the backing array then never grows past a
			// few times max, however much is written.
			b.buf = b.buf[:copy(b.buf, b.buf[over:])]
		}
	}
	b.mu.Unlock()
	if b.next != nil {
		_, _ = b.next.Write(p)
	}
	return len(p), nil
}

// String returns the bytes kept, as written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
