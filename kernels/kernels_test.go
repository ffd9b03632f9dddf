package kernels

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"runtime/metrics"
	"strings"
	"testing"
	"unsafe"
)

// area returns an 8-byte aligned zeroed byte slice of length n, as the shared
// region gives.
func area(n int) []byte {
	words := make([]uint64, (n+7)/8)
	if len(words) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// built holds a kernel with filled inputs and its reference outputs.
type built struct {
	k        Kernel
	in, want []byte
}

func build(t testing.TB, p Params) built {
	t.Helper()
	k, err := New(p)
	if err != nil {
		t.Fatalf("New(%v): %v", p, err)
	}
	b := built{k: k, in: area(k.InputBytes()), want: area(k.OutputBytes())}
	if err := k.Fill(b.in); err != nil {
		t.Fatalf("Fill: %v", err)
	}
	if err := k.Reference(b.in, b.want); err != nil {
		t.Fatalf("Reference: %v", err)
	}
	return b
}

// runChunks runs every chunk once, in a shuffled order, into an output area
// prefilled with garbage, so that an output no chunk writes shows up.
func (b built) runChunks(t testing.TB, seed uint64) []byte {
	t.Helper()
	out := area(b.k.OutputBytes())
	for i := range out {
		out[i] = 0xA5
	}
	chunk, err := b.k.Bind(b.in, out)
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	order := rand.New(rand.NewPCG(seed, 0)).Perm(b.k.Params().Chunks)
	for _, i := range order {
		chunk(i)
	}
	return out
}

func TestChunkedOutputsMatchReference(t *testing.T) {
	tests := []Params{
		{Kernel: "matmul", Shape: "square", Size: 1, Chunks: 1, Seed: 1},
		{Kernel: "matmul", Shape: "square", Size: 64, Chunks: 4, Seed: 2},
		{Kernel: "matmul", Shape: "square", Size: 100, Chunks: 7, Seed: 3},       // uneven bands
		{Kernel: "matmul", Shape: "square", Size: 130, Chunks: 1, Seed: 4},       // one band wider than a gemm block
		{Kernel: "matmul", Shape: "square", Size: 33, Chunks: 64, Seed: 5},       // more chunks than rows
		{Kernel: "hash", Shape: "uniform", Size: 1, Chunks: 1, Seed: 1},          // one short message
		{Kernel: "hash", Shape: "uniform", Size: 100_003, Chunks: 3, Seed: 2},    // last message short
		{Kernel: "hash", Shape: "uniform", Size: 1 << 20, Chunks: 64, Seed: 3},   // 64 messages, 64 chunks
		{Kernel: "hash", Shape: "uniform", Size: 50_000, Chunks: 10, Seed: 4},    // more chunks than messages
		{Kernel: "hash", Shape: "skewed", Size: 1 << 20, Chunks: 5, Seed: 5},     //
		{Kernel: "hash", Shape: "skewed", Size: 3_000_017, Chunks: 64, Seed: 6},  //
		{Kernel: "search", Shape: "uniform", Size: 1, Chunks: 1, Seed: 1},        // one key, one query
		{Kernel: "search", Shape: "uniform", Size: 2, Chunks: 3, Seed: 2},        // more chunks than queries
		{Kernel: "search", Shape: "uniform", Size: 1000, Chunks: 7, Seed: 3},     // not a power of two
		{Kernel: "search", Shape: "uniform", Size: 1 << 16, Chunks: 64, Seed: 4}, //
		{Kernel: "search", Shape: "uniform", Size: 77_777, Chunks: 13, Seed: 5},  // lanes do not divide chunks
	}
	for _, p := range tests {
		t.Run(strings.ReplaceAll(p.String(), " ", "/"), func(t *testing.T) {
			b := build(t, p)
			got := b.runChunks(t, p.Seed)
			if err := b.k.Verify(b.in, b.want, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyRejectsAWrongOutput(t *testing.T) {
	tests := []struct {
		p      Params
		offset int     // byte offset of the output to spoil
		spoil  float64 // for matmul: what to add to that element
	}{
		{p: Params{Kernel: "matmul", Shape: "square", Size: 64, Chunks: 4, Seed: 1}, offset: 8 * 777, spoil: 1e-9},
		{p: Params{Kernel: "hash", Shape: "uniform", Size: 1 << 18, Chunks: 4, Seed: 1}, offset: 5*32 + 31},
		{p: Params{Kernel: "search", Shape: "uniform", Size: 4000, Chunks: 4, Seed: 1}, offset: 8 * 301},
	}
	for _, tt := range tests {
		t.Run(tt.p.Kernel, func(t *testing.T) {
			b := build(t, tt.p)
			got := b.runChunks(t, 1)
			if tt.p.Kernel == "matmul" {
				v := (*float64)(unsafe.Pointer(&got[tt.offset]))
				*v += tt.spoil
			} else {
				got[tt.offset] ^= 1
			}
			if err := b.k.Verify(b.in, b.want, got); err == nil {
				t.Fatalf("Verify accepted an output spoilt at byte %d", tt.offset)
			}
		})
	}
}

func TestMatmulToleranceIsTightEnoughToMatter(t *testing.T) {
	// The bound must sit far below the error of any real bug, which is the
	// size of one product term (up to 1 for inputs in [-1, 1)).
	for _, n := range []int{128, 512, 1024} {
		if tol := matmulTolerance(n, 1, 1); tol > 1e-9 {
			t.Errorf("n=%d: tolerance %g is too loose to catch a dropped term", n, tol)
		}
	}
}

func TestHashComputesSHA256(t *testing.T) {
	// FIPS 180-2, appendix B.1: SHA-256("abc").
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	k, err := New(Params{Kernel: "hash", Shape: "uniform", Size: 3, Chunks: 1})
	if err != nil {
		t.Fatal(err)
	}
	in, out := area(k.InputBytes()), area(k.OutputBytes())
	binary.LittleEndian.PutUint64(in[8:], 3) // offsets 0, 3
	copy(in[16:], "abc")
	chunk, err := k.Bind(in, out)
	if err != nil {
		t.Fatal(err)
	}
	chunk(0)
	if got := hex.EncodeToString(out); got != abc {
		t.Errorf("digest of \"abc\" = %s, want %s", got, abc)
	}
}

func TestSkewedLengthsAreHeavyFirstAndSumToTheTotal(t *testing.T) {
	for _, total := range []int{1 << 20, 64 << 20, 3_000_017} {
		messages := (total + HashMessageBytes - 1) / HashMessageBytes
		lengths := skewedLengths(total, messages, 1)
		sum, firstHalf := 0, 0
		for i, n := range lengths {
			sum += n
			if i < messages/2 {
				firstHalf += n
			}
			if i > 0 && n > lengths[i-1] {
				t.Fatalf("total %d: message %d (%d bytes) longer than message %d (%d bytes)", total, i, n, i-1, lengths[i-1])
			}
		}
		if sum != total {
			t.Errorf("total %d: lengths sum to %d", total, sum)
		}
		if limit := hashSkewCap * total / messages; lengths[0] > limit {
			t.Errorf("total %d: longest message %d bytes, cap %d", total, lengths[0], limit)
		}
		if frac := float64(firstHalf) / float64(total); frac < 0.7 {
			t.Errorf("total %d: first half of the messages holds %.0f%% of the bytes, want a heavy head", total, 100*frac)
		}
	}
}

func TestSearchHasHalfTheQueriesPresent(t *testing.T) {
	b := build(t, Params{Kernel: "search", Shape: "uniform", Size: 10_000, Chunks: 1, Seed: 9})
	found, _ := view[int64](b.want, "want")
	absent := 0
	for _, f := range found {
		if f == -1 {
			absent++
		}
	}
	if absent != len(found)/2 {
		t.Errorf("%d of %d queries absent, want half", absent, len(found))
	}
}

func TestFillIsDeterministic(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			p, err := Defaults(name, "small")
			if err != nil {
				t.Fatal(err)
			}
			a, b := build(t, p), build(t, p)
			if !bytes.Equal(a.in, b.in) {
				t.Error("two fills with one seed differ")
			}
			p.Seed++
			c := build(t, p)
			if bytes.Equal(a.in, c.in) {
				t.Error("fills with different seeds are equal")
			}
		})
	}
}

// goroutinesCreated reads the runtime's count of goroutines started so far.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestMatmulChunksRunOnTheCallingGoroutine(t *testing.T) {
	// The chunked product must never go parallel by itself (as gonum's Dgemm,
	// which matmul used before kernels/dgemm, did above 4 blocks), or the
	// serial strategy would not be serial.
	b := build(t, Params{Kernel: "matmul", Shape: "square", Size: 512, Chunks: 2, Seed: 1})
	out := area(b.k.OutputBytes())
	chunk, err := b.k.Bind(b.in, out)
	if err != nil {
		t.Fatal(err)
	}
	before := goroutinesCreated()
	chunk(0)
	chunk(1)
	if n := goroutinesCreated() - before; n != 0 {
		t.Errorf("two 256-row chunks started %d goroutines, want 0", n)
	}

	// Control: one whole-matrix gonum Dgemm call does go parallel, so the
	// check above can fail.
	a, bm, c, _ := b.k.(*matmul).views(b.in, out)
	before = goroutinesCreated()
	wholeGemm(512, a, bm, c)
	if n := goroutinesCreated() - before; n < 64 {
		t.Errorf("control: a whole 512 x 512 Dgemm started %d goroutines, expected one per 64 x 64 block", n)
	}
	if err := b.k.Verify(b.in, b.want, out); err != nil {
		t.Errorf("whole-matrix control product: %v", err)
	}
}

func TestNewRejectsBadParams(t *testing.T) {
	ok := Params{Kernel: "hash", Shape: "uniform", Size: 1024, Chunks: 4, Seed: 1}
	tests := []struct {
		name   string
		change func(p *Params)
		want   string // the error must name the bad parameter
	}{
		{"unknown kernel", func(p *Params) { p.Kernel = "fft" }, `unknown kernel "fft"`},
		{"unknown shape", func(p *Params) { p.Shape = "square" }, `no shape "square"`},
		{"zero size", func(p *Params) { p.Size = 0 }, "size 0"},
		{"negative size", func(p *Params) { p.Size = -5 }, "size -5"},
		{"zero chunks", func(p *Params) { p.Chunks = 0 }, "chunks 0"},
		{"negative chunks", func(p *Params) { p.Chunks = -1 }, "chunks -1"},
		{"absurd chunks", func(p *Params) { p.Chunks = MaxChunks + 1 }, "chunks"},
		{"hash larger than memory", func(p *Params) { p.Size = 1 << 50 }, "size 1125899906842624"},
		{"matmul larger than memory", func(p *Params) { *p = Params{Kernel: "matmul", Shape: "square", Size: 1 << 20, Chunks: 4} }, "size 1048576"},
		{"matmul whose area overflows int", func(p *Params) { *p = Params{Kernel: "matmul", Shape: "square", Size: 1 << 40, Chunks: 4} }, "memory"},
		{"search larger than memory", func(p *Params) { *p = Params{Kernel: "search", Shape: "uniform", Size: 1 << 40, Chunks: 4} }, "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.change(&p)
			k, err := New(p)
			if err == nil {
				t.Fatalf("New(%v) = %v, want an error", p, k)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%v) error %q does not mention %q", p, err, tt.want)
			}
		})
	}
}

func TestBindRejectsBadAreas(t *testing.T) {
	for _, name := range Names() {
		p, _ := Defaults(name, "small")
		b := build(t, p)
		out := area(b.k.OutputBytes() + 8)
		in := area(b.k.InputBytes() + 8)
		tests := []struct {
			what    string
			in, out []byte
		}{
			{"empty input", nil, out[:b.k.OutputBytes()]},
			{"short input", b.in[:len(b.in)-8], out[:b.k.OutputBytes()]},
			{"short output", b.in, out[:b.k.OutputBytes()-8]},
			{"misaligned input", in[1 : b.k.InputBytes()+1], out[:b.k.OutputBytes()]},
		}
		for _, tt := range tests {
			if _, err := b.k.Bind(tt.in, tt.out); err == nil {
				t.Errorf("%s: Bind accepted %s", name, tt.what)
			}
			if err := b.k.Verify(b.in, b.want, tt.out); err == nil && tt.what == "short output" {
				t.Errorf("%s: Verify accepted %s", name, tt.what)
			}
		}
	}
}

func TestHashBindRejectsUnfilledInput(t *testing.T) {
	k, _ := New(Params{Kernel: "hash", Shape: "uniform", Size: 1 << 16, Chunks: 2})
	in, out := area(k.InputBytes()), area(k.OutputBytes())
	for i := range in {
		in[i] = 0xFF // offsets past the payload
	}
	if _, err := k.Bind(in, out); err == nil {
		t.Error("Bind accepted offsets that point outside the payload")
	}
}

func TestDefaultsAndLookup(t *testing.T) {
	if _, err := Defaults("matmul", "huge"); err == nil || !strings.Contains(err.Error(), `"huge"`) {
		t.Errorf("Defaults with an unknown size: %v", err)
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup of an unknown kernel succeeded")
	}
	for _, name := range Names() {
		for _, size := range []string{"small", "default", "large"} {
			p, err := Defaults(name, size)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(p); err != nil {
				t.Errorf("Defaults(%s, %s) gives unbuildable %v: %v", name, size, p, err)
			}
		}
	}
}

func TestScaledSizeGrowsTheWorkByTheFactor(t *testing.T) {
	for _, name := range Names() {
		info, _ := Lookup(name)
		p, _ := Defaults(name, "default")
		base, _ := New(p)
		for _, factor := range []int{1, 2, 4, 16} {
			p.Size = info.ScaledSize(info.Sizes["default"], factor)
			k, err := New(p)
			if err != nil {
				t.Fatal(err)
			}
			ratio := k.Work().Amount / base.Work().Amount
			if ratio < 0.99*float64(factor) || ratio > 1.01*float64(factor) {
				t.Errorf("%s at %dx: size %d does %.3fx the work", name, factor, p.Size, ratio)
			}
		}
	}
}

func TestChunksGrowWithWorkersUpToOnePerItem(t *testing.T) {
	tests := []struct {
		kernel  string
		size    int
		workers int
		want    int
	}{
		{"hash", 64 << 20, 1, DefaultChunks},
		{"hash", 64 << 20, 8, DefaultChunks},
		{"hash", 64 << 20, 16, 128},
		{"hash", 64 << 20, 128, 1024},
		{"hash", 64 << 20, 1024, 4096}, // one chunk per message
		{"hash", 1, 128, 1},
		{"matmul", 512, 2, 16},
		{"matmul", 512, 16, 128},
		{"matmul", 512, 128, 512}, // one chunk per row of C
		{"search", 1 << 22, 256, 2048},
		{"search", 3, 256, 1},
	}
	for _, tt := range tests {
		info, err := Lookup(tt.kernel)
		if err != nil {
			t.Fatal(err)
		}
		got := info.ChunksFor(tt.size, tt.workers)
		if got != tt.want {
			t.Errorf("%s size %d at %d workers: %d chunks, want %d", tt.kernel, tt.size, tt.workers, got, tt.want)
		}
		// Every chunk does some work: its range of items is not empty.
		if items := info.Items(tt.size); got > items {
			t.Errorf("%s size %d: %d chunks for %d items", tt.kernel, tt.size, got, items)
		}
	}
	for _, name := range Names() {
		info, _ := Lookup(name)
		if info.Items == nil {
			t.Errorf("%s has no Items: its chunk count cannot be bounded", name)
		}
	}
}
