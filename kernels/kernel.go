package kernels

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultChunks is the chunk count corescale uses unless told otherwise: enough
// chunks for dynamic scheduling to balance 16 workers, few enough that claiming
// a chunk costs nothing next to computing it.
const DefaultChunks = 64

// ChunksPerWorker is how many chunks a run deals each worker at least,
// where the kernel's size allows: with fewer, dynamic scheduling has nothing
// to balance uneven chunks with, and a fixed count starves big pools by
// construction (64 chunks at 128 workers leave half of them without work,
// and the report would blame the strategy for the imbalance).
const ChunksPerWorker = 8

// DefaultSeed seeds the inputs unless told otherwise.
const DefaultSeed = 1

// A Kernel is one unit of CPU-bound work, split into independent chunks.
//
// The caller owns the input and output areas (InputBytes and OutputBytes
// long, 8-byte aligned); a Kernel views them in place and never keeps them
// beyond the call, except through the chunk function Bind returns, which is
// valid for as long as the areas are.
type Kernel interface {
	// Params returns the parameters the kernel was built from.
	Params() Params
	// InputBytes and OutputBytes are the sizes of the areas the kernel needs.
	InputBytes() int
	OutputBytes() int
	// Fill writes the inputs, deterministically from Params.Seed.
	Fill(in []byte) error
	// Bind returns the function that runs chunk i, for 0 <= i < Params.Chunks,
	// reading in and writing only chunk i's part of out. Chunks may run
	// concurrently. Bind checks the areas' sizes and alignment once, so the
	// chunk function does not.
	Bind(in, out []byte) (func(chunk int), error)
	// Reference writes the expected outputs for in into want, with an
	// implementation independent of the chunked one.
	Reference(in, want []byte) error
	// Verify reports whether got matches want, the outputs Reference
	// computed for in; the error names the first wrong output.
	Verify(in, want, got []byte) error
	// Work states how much work one run does, so throughput can be derived.
	Work() Work
}

// Work is the amount of work one run of a kernel does.
type Work struct {
	// Amount is counted in Unit: floating-point operations for matmul, message
	// bytes for hash, queries for search.
	Amount float64
	// Unit is the base unit of Amount ("FLOP", "B", "queries"); throughput is
	// reported in Unit per second.
	Unit string
	// Bytes is how many bytes of input one run must read at least once: the
	// floor of its memory traffic, for judging memory-bound kernels.
	Bytes int64
}

// Params name a kernel and size it. Params.String and ParseParams convert
// them to and from the text form that travels to worker processes.
type Params struct {
	Kernel string // registered kernel name: matmul, hash, search
	Shape  string // one of the kernel's shapes (Info.Shapes)
	Size   int    // kernel-specific: matmul n, hash total message bytes, search key count
	Chunks int    // number of independent chunks, >= 1
	Seed   uint64 // seeds the inputs
}

// Info describes a registered kernel.
type Info struct {
	Name   string
	Shapes []string       // the first is the default
	Sizes  map[string]int // named sizes: small, default, large
	// SizeMeaning says what Params.Size counts, e.g. "n (matrices are n x n)".
	SizeMeaning string
	Unit        string // Work.Unit
	// WorkGrowth is the exponent e in work ~ Size^e: 3 for matmul, 1 for
	// hash and search. Weak scaling uses it to grow the work with the
	// worker count.
	WorkGrowth float64
	// Chunks is the kernel's own default chunk count, where
	// DefaultChunks does not suit it; 0 for DefaultChunks.
	Chunks int
	// BigSize is the named size for machines of more than BigMachine
	// usable CPUs ("auto" picks it there): the smallest that leaves each
	// of 128 workers at least a millisecond of work on the hosts measured,
	// where the default's fixed costs would dominate.
	BigSize string
	// Items returns how many independent output items a run at size has
	// (rows of C, digests, answers): the most chunks that all do work.
	Items func(size int) int
}

// DefaultChunks returns the chunk count the kernel runs unless told
// otherwise.
func (in Info) DefaultChunks() int {
	if in.Chunks > 0 {
		return in.Chunks
	}
	return DefaultChunks
}

// ChunksFor returns the chunk count of runs at size by up to workers
// workers at once: the kernel's default, raised to ChunksPerWorker per
// worker, and at most one chunk per output item.
func (in Info) ChunksFor(size, workers int) int {
	c := max(in.DefaultChunks(), ChunksPerWorker*workers)
	if in.Items != nil {
		c = min(c, max(1, in.Items(size)))
	}
	return min(c, MaxChunks)
}

// ScaledSize returns the size that does factor times the work of size,
// rounded to the nearest whole size: what weak scaling runs at factor
// workers.
func (in Info) ScaledSize(size, factor int) int {
	return max(1, int(math.Round(float64(size)*math.Pow(float64(factor), 1/in.WorkGrowth))))
}

type definition struct {
	Info
	build func(p Params) (Kernel, error) // p has been validated against Info
}

var registry = map[string]*definition{}

func register(d *definition) {
	if _, dup := registry[d.Name]; dup {
		panic("kernels: kernel " + d.Name + " registered twice")
	}
	registry[d.Name] = d
}

// Names returns the registered kernel names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the description of the named kernel.
func Lookup(name string) (Info, error) {
	d, ok := registry[name]
	if !ok {
		return Info{}, fmt.Errorf("kernels: unknown kernel %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return d.Info, nil
}

// BigMachine is the number of usable CPUs above which the size "auto"
// means each kernel's BigSize: the default sizes give 16 workers a few
// milliseconds each.
const BigMachine = 16

// AutoSize returns the named size "auto" stands for on a machine of
// usable CPUs: "default", or above BigMachine the kernel's BigSize.
func (in Info) AutoSize(usable int) string {
	if usable > BigMachine && in.BigSize != "" {
		return in.BigSize
	}
	return "default"
}

// NamedSize returns the Size that the named size (small, default, large)
// means for the kernel.
func (in Info) NamedSize(size string) (int, error) {
	n, ok := in.Sizes[size]
	if !ok {
		return 0, fmt.Errorf("kernels: %s has no size %q (have small, default, large)", in.Name, size)
	}
	return n, nil
}

// Defaults returns the parameters of the named kernel at the named size, with
// its default shape, its default chunk count and DefaultSeed.
func Defaults(kernel, size string) (Params, error) {
	info, err := Lookup(kernel)
	if err != nil {
		return Params{}, err
	}
	n, err := info.NamedSize(size)
	if err != nil {
		return Params{}, err
	}
	return Params{Kernel: kernel, Shape: info.Shapes[0], Size: n, Chunks: info.DefaultChunks(), Seed: DefaultSeed}, nil
}

// New builds the kernel p describes. Every bad parameter is an error that
// names it, including sizes whose areas would not fit in this machine's memory.
func New(p Params) (Kernel, error) {
	d, ok := registry[p.Kernel]
	if !ok {
		_, err := Lookup(p.Kernel)
		return nil, err
	}
	if !slices.Contains(d.Shapes, p.Shape) {
		return nil, fmt.Errorf("kernels: %s has no shape %q (have %s)", p.Kernel, p.Shape, strings.Join(d.Shapes, ", "))
	}
	if p.Size <= 0 {
		return nil, fmt.Errorf("kernels: %s size %d: must be positive", p.Kernel, p.Size)
	}
	if p.Chunks <= 0 {
		return nil, fmt.Errorf("kernels: %s chunks %d: must be positive", p.Kernel, p.Chunks)
	}
	if p.Chunks > MaxChunks {
		return nil, fmt.Errorf("kernels: %s chunks %d: more than %d", p.Kernel, p.Chunks, MaxChunks)
	}
	return d.build(p)
}

// MaxChunks bounds Params.Chunks: past it, claiming chunks costs more than
// the work in them for every kernel here.
const MaxChunks = 1 << 20

// errTooBig reports a size whose areas cannot exist on this machine.
var errTooBig = errors.New("more than this machine's memory")

// checkFootprint returns an error naming p's size when areas of the given
// byte counts (computed in float64 so that overflow shows as a huge number)
// would not fit in physical memory together with the reference copy of the
// outputs that verification keeps.
func checkFootprint(p Params, inBytes, outBytes float64) error {
	need := inBytes + 2*outBytes
	limit := float64(physicalMemory())
	if need > limit || need > math.MaxInt/2 {
		return fmt.Errorf("kernels: %s size %d needs %s, %w (%s)", p.Kernel, p.Size, formatBytes(need), errTooBig, formatBytes(limit))
	}
	return nil
}

// physicalMemory returns the machine's RAM in bytes, or a generous guess
// when the kernel will not say.
func physicalMemory() uint64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return 1 << 40
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

func formatBytes(b float64) string {
	const unit = 1024
	suffixes := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= unit && i < len(suffixes)-1 {
		b /= unit
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f %s", b, suffixes[i])
}

// chunkRange returns the half-open range of items [lo, hi) that chunk i of
// chunks owns when items are split as evenly as possible. Chunks past the
// last item are empty, so any chunk count works for any size.
func chunkRange(i, chunks, items int) (lo, hi int) {
	return bound(i, chunks, items), bound(i+1, chunks, items)
}

func bound(i, chunks, items int) int {
	// items*i can overflow int only for sizes checkFootprint already refused.
	return int(int64(items) * int64(i) / int64(chunks))
}
