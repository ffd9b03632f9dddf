package kernels

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

func init() {
	register(&definition{
		Info: Info{
			Name:   "hash",
			Shapes: []string{"uniform", "skewed"},
			Sizes:  map[string]int{"small": 4 << 20, "default": 64 << 20, "large": 256 << 20},
			// 256 MiB take about 0.2 s on one core: 1.6 ms for each of
			// 128 workers.
			BigSize:     "large",
			SizeMeaning: "total message bytes",
			Unit:        "B",
			WorkGrowth:  1,
			Items:       hashMessages,
		},
		build: newHash,
	})
}

// HashMessageBytes is the length of every message in the uniform shape and
// the mean length in the skewed one.
const HashMessageBytes = 16 << 10

// Skewed message lengths follow a Pareto distribution with this tail index
// (1.16 is the "80/20" tail), capped at hashSkewCap times the mean and stored
// longest first, like a size-sorted list of files. The first chunks then cost
// many times the last: a static split hands the heavy half to one worker,
// while dynamic scheduling deals the heavy chunks out first and balances. The
// cap keeps the heaviest chunk small enough (1/16 of the total with the
// default 64 chunks) that 16 dynamic workers can still balance.
const (
	hashSkewAlpha = 1.1
	hashSkewCap   = 4
)

// hash computes the SHA-256 digest of each of M messages. Input: M+1
// uint64 offsets into the payload, then the payload; output: M 32-byte
// digests. Chunk i hashes a contiguous run of messages.
type hash struct {
	p        Params
	messages int
	lengths  []int // of each message, fixed by shape and size
}

// hashMessages is the number of messages, and digests, of size bytes.
func hashMessages(size int) int { return (size + HashMessageBytes - 1) / HashMessageBytes }

func newHash(p Params) (Kernel, error) {
	messages := hashMessages(p.Size)
	if err := checkFootprint(p, float64(messages+1)*8+float64(p.Size), float64(messages)*sha256.Size); err != nil {
		return nil, err
	}
	h := &hash{p: p, messages: messages}
	switch p.Shape {
	case "uniform":
		h.lengths = uniformLengths(p.Size, messages)
	case "skewed":
		h.lengths = skewedLengths(p.Size, messages, p.Seed)
	}
	return h, nil
}

func uniformLengths(total, messages int) []int {
	lengths := make([]int, messages)
	for i := range lengths {
		lengths[i] = min(HashMessageBytes, total-i*HashMessageBytes)
	}
	return lengths
}

func skewedLengths(total, messages int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x736b6577))
	x := make([]float64, messages)
	var sum float64
	for i := range x {
		x[i] = math.Pow(1-rng.Float64(), -1/hashSkewAlpha) // Pareto, x_m = 1
		sum += x[i]
	}
	// Scale to the total with the longest messages clipped at the cap:
	// water-filling, raising the number of clipped messages until the scaled
	// rest fits below the cap.
	limit := hashSkewCap * total / messages
	slices.Sort(x)
	slices.Reverse(x)
	rest := sum // of the unclipped messages
	for clipped := 0; clipped < messages; clipped++ {
		scale := float64(total-clipped*limit) / rest
		if x[clipped]*scale <= float64(limit) {
			for i := range x {
				if i < clipped {
					x[i] = float64(limit)
				} else {
					x[i] *= scale
				}
			}
			break
		}
		rest -= x[clipped]
	}
	// Round down, then give the bytes lost to rounding (fewer than one per
	// unclipped message) to the longest unclipped messages, which keeps the
	// order, the cap and the exact total.
	lengths := make([]int, messages)
	left := total
	for i, v := range x {
		lengths[i] = int(v)
		left -= lengths[i]
	}
	for i := range lengths {
		if left == 0 {
			break
		}
		if lengths[i] < limit {
			lengths[i]++
			left--
		}
	}
	return lengths
}

func (h *hash) Params() Params   { return h.p }
func (h *hash) indexBytes() int  { return (h.messages + 1) * 8 }
func (h *hash) InputBytes() int  { return h.indexBytes() + h.p.Size }
func (h *hash) OutputBytes() int { return h.messages * sha256.Size }

func (h *hash) Work() Work {
	return Work{Amount: float64(h.p.Size), Unit: "B", Bytes: int64(h.p.Size)}
}

// Fill writes the offsets and draws the payload from ChaCha8.
func (h *hash) Fill(in []byte) error {
	if err := checkArea(in, h.InputBytes(), "hash input"); err != nil {
		return err
	}
	off := 0
	for i, n := range h.lengths {
		binary.LittleEndian.PutUint64(in[i*8:], uint64(off))
		off += n
	}
	binary.LittleEndian.PutUint64(in[h.messages*8:], uint64(off))
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], h.p.Seed)
	copy(seed[8:], "corescale hash")
	_, _ = rand.NewChaCha8(seed).Read(in[h.indexBytes():]) // never fails
	return nil
}

// split returns the offsets and the payload of in, after checking that
// the offsets describe the payload: they come from shared memory that anyone
// may have written.
func (h *hash) split(in []byte) (offsets []uint64, payload []byte, err error) {
	if err := checkArea(in, h.InputBytes(), "hash input"); err != nil {
		return nil, nil, err
	}
	offsets, err = view[uint64](in[:h.indexBytes()], "hash offsets")
	if err != nil {
		return nil, nil, err
	}
	payload = in[h.indexBytes():]
	prev := uint64(0)
	for i, off := range offsets {
		if off < prev || off > uint64(len(payload)) || (i == 0 && off != 0) {
			return nil, nil, fmt.Errorf("kernels: hash offset %d is %d: input not filled for these parameters", i, off)
		}
		prev = off
	}
	return offsets, payload, nil
}

func (h *hash) Bind(in, out []byte) (func(chunk int), error) {
	offsets, payload, err := h.split(in)
	if err != nil {
		return nil, err
	}
	if err := checkArea(out, h.OutputBytes(), "hash output"); err != nil {
		return nil, err
	}
	messages, chunks := h.messages, h.p.Chunks
	return func(chunk int) {
		lo, hi := chunkRange(chunk, chunks, messages)
		for i := lo; i < hi; i++ {
			sum := sha256.Sum256(payload[offsets[i]:offsets[i+1]])
			copy(out[i*sha256.Size:], sum[:])
		}
	}, nil
}

// Reference hashes each message through the streaming hash.Hash interface,
// in pieces that do not line up with SHA-256 blocks, rather than Sum256.
func (h *hash) Reference(in, want []byte) error {
	offsets, payload, err := h.split(in)
	if err != nil {
		return err
	}
	if err := checkArea(want, h.OutputBytes(), "hash output"); err != nil {
		return err
	}
	d := sha256.New()
	for i := range h.messages {
		d.Reset()
		msg := payload[offsets[i]:offsets[i+1]]
		for len(msg) > 0 {
			n := min(len(msg), 1000)
			d.Write(msg[:n])
			msg = msg[n:]
		}
		d.Sum(want[i*sha256.Size : i*sha256.Size])
	}
	return nil
}

func (h *hash) Verify(in, want, got []byte) error {
	if err := checkArea(got, h.OutputBytes(), "hash output"); err != nil {
		return err
	}
	if err := checkArea(want, h.OutputBytes(), "hash reference"); err != nil {
		return err
	}
	for i := range h.messages {
		w, g := want[i*sha256.Size:(i+1)*sha256.Size], got[i*sha256.Size:(i+1)*sha256.Size]
		if !bytes.Equal(w, g) {
			return fmt.Errorf("kernels: hash digest of message %d is %x, want %x", i, g, w)
		}
	}
	return nil
}
