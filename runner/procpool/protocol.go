package procpool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A worker's pipe to the parent carries only small messages; data never
// crosses it: ready (once, after start-up) and fail (a chunk panicked or
// the task could not be resolved). Neither a job's start nor its end needs
// a message: the parent wakes sleeping workers through the control block's
// futex word, and the last worker to finish rings the pool's doorbell if
// the parent sleeps.
//
// A frame is a little-endian uint32 length n, then n bytes: a kind byte and
// the kind's payload.
const (
	kindReady = 'r' // pid
	kindFail  = 'f' // seq, chunk, text
)

// maxFrame bounds a frame's length, so that a corrupt length cannot make the
// reader allocate without limit. Fail texts are cut to fit.
const maxFrame = 64 << 10

type message struct {
	kind  byte
	seq   int64 // fail: the job
	pid   int64 // ready
	chunk int64 // fail: the chunk that panicked, or -1
	text  string
}

// appendFrame appends m's frame to b.
func appendFrame(b []byte, m message) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, m.kind)
	switch m.kind {
	case kindReady:
		b = binary.LittleEndian.AppendUint64(b, uint64(m.pid))
	case kindFail:
		b = binary.LittleEndian.AppendUint64(b, uint64(m.seq))
		b = binary.LittleEndian.AppendUint64(b, uint64(m.chunk))
		text := m.text
		if room := maxFrame - 17; len(text) > room {
			text = text[:room]
		}
		b = append(b, text...)
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

var errFrame = errors.New("procpool: malformed frame")

// readMessage reads one frame from r. io.EOF means the other side closed the
// pipe between frames; any other error means the stream is unusable.
func readMessage(r io.Reader) (message, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return message{}, fmt.Errorf("%w: truncated length", errFrame)
		}
		return message{}, err
	}
	n := binary.LittleEndian.Uint32(head[:])
	if n == 0 || n > maxFrame {
		return message{}, fmt.Errorf("%w: length %d", errFrame, n)
	}
	body := make([]byte, n)
	if got, err := io.ReadFull(r, body); err != nil {
		return message{}, fmt.Errorf("%w: %d of %d bytes", errFrame, got, n)
	}
	return decodeMessage(body)
}

// decodeMessage decodes a frame's body: the kind byte and its payload.
func decodeMessage(body []byte) (message, error) {
	m := message{kind: body[0]}
	p := body[1:]
	word := func() int64 {
		v := int64(binary.LittleEndian.Uint64(p))
		p = p[8:]
		return v
	}
	switch m.kind {
	case kindReady:
		if len(p) != 8 {
			return message{}, fmt.Errorf("%w: %q payload of %d bytes", errFrame, m.kind, len(p))
		}
		m.pid = word()
	case kindFail:
		if len(p) < 16 {
			return message{}, fmt.Errorf("%w: %q payload of %d bytes", errFrame, m.kind, len(p))
		}
		m.seq, m.chunk = word(), word()
		m.text = string(p)
	default:
		return message{}, fmt.Errorf("%w: unknown kind %#x", errFrame, m.kind)
	}
	if m.seq < 0 || m.pid < 0 || m.chunk < -1 {
		return message{}, fmt.Errorf("%w: negative field", errFrame)
	}
	return m, nil
}
