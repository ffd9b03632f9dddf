package kernels

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
)

func init() {
	register(&definition{
		Info: Info{
			Name:   "search",
			Shapes: []string{"uniform"},
			Sizes:  map[string]int{"small": 1 << 16, "default": 1 << 22, "large": 1 << 24},
			// The default's 2^19 queries take about 0.1 s on one core
			// (16 workers 6 ms each); large's 2^21, from a 128 MiB
			// array, 0.4 s or more: 3 ms for each of 128 workers.
			BigSize:     "large",
			SizeMeaning: "sorted uint64 keys; queries are an eighth as many",
			Unit:        "queries",
			WorkGrowth:  1,
			Items:       searchQueries,
		},
		build: newSearch,
	})
}

// search looks up Q = max(1, keys/8) queries in a sorted array of distinct
// keys. Input: the keys, then the queries, uint64 each; output: one int64
// per query, the index of the query in the keys or -1. Keys are even and
// every other query is an odd number, so exactly half the queries are absent.
// With the default 2^22 keys (32 MiB) the array is larger than the last-level
// cache of the machines we run on: the kernel measures memory latency.
type search struct {
	p       Params
	keys    int
	queries int
}

// searchQueries is the number of queries, and answers, for keys keys. The
// keys decide what is measured (how much of the array a cache holds); the
// queries only how long a run takes. An eighth keeps a default run near
// 0.1 s: at half as many (0.38 s a run), make report's budget bought
// search 9 rounds and a noise floor of +-13%, at an eighth 21 rounds and
// +-2.7% in two thirds of the time.
func searchQueries(keys int) int { return max(1, keys/8) }

func newSearch(p Params) (Kernel, error) {
	queries := searchQueries(p.Size)
	if err := checkFootprint(p, float64(p.Size+queries)*8, float64(queries)*8); err != nil {
		return nil, err
	}
	return &search{p: p, keys: p.Size, queries: queries}, nil
}

func (s *search) Params() Params   { return s.p }
func (s *search) InputBytes() int  { return (s.keys + s.queries) * 8 }
func (s *search) OutputBytes() int { return s.queries * 8 }

// Work counts queries; Bytes counts the query array plus the key each step
// of each binary search loads.
func (s *search) Work() Work {
	steps := bits.Len(uint(s.keys))
	return Work{Amount: float64(s.queries), Unit: "queries", Bytes: int64(s.queries) * 8 * int64(1+steps)}
}

func (s *search) Fill(in []byte) error {
	keys, queries, err := s.inputs(in)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(s.p.Seed, 0x736561726368))
	var k uint64
	for i := range keys {
		k += 2 + 2*rng.Uint64N(16)
		keys[i] = k
	}
	for i := range queries {
		if i%2 == 0 {
			queries[i] = keys[rng.IntN(len(keys))]
		} else {
			queries[i] = rng.Uint64N(k+2) | 1
		}
	}
	return nil
}

func (s *search) inputs(in []byte) (keys, queries []uint64, err error) {
	if err := checkArea(in, s.InputBytes(), "search input"); err != nil {
		return nil, nil, err
	}
	all, err := view[uint64](in, "search input")
	if err != nil {
		return nil, nil, err
	}
	return all[:s.keys:s.keys], all[s.keys:], nil
}

func (s *search) views(in, out []byte) (keys, queries []uint64, found []int64, err error) {
	keys, queries, err = s.inputs(in)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkArea(out, s.OutputBytes(), "search output"); err != nil {
		return nil, nil, nil, err
	}
	found, err = view[int64](out, "search output")
	return keys, queries, found, err
}

func (s *search) Bind(in, out []byte) (func(chunk int), error) {
	keys, queries, found, err := s.views(in, out)
	if err != nil {
		return nil, err
	}
	chunks := s.p.Chunks
	return func(chunk int) {
		lo, hi := chunkRange(chunk, chunks, len(queries))
		searchBatch(keys, queries[lo:hi], found[lo:hi])
	}, nil
}

// searchBatch writes, for each query, its index in keys or -1. Searches run
// in groups of SearchLanes, interleaved step by step: each step is a load
// whose address depends on the previous one, and a missed cache line costs
// about 100 ns, so one search alone leaves the core waiting on memory;
// SearchLanes independent searches keep that many misses in flight. Every
// step is branch-free (the comparison's borrow picks the half), because
// whether a query is below the middle key is a coin toss no predictor can
// learn.
func searchBatch(keys, queries []uint64, found []int64) {
	const lanes = SearchLanes
	n := len(keys)
	i := 0
	for ; i+lanes <= len(queries); i += lanes {
		q := (*[lanes]uint64)(queries[i : i+lanes])
		var base [lanes]int
		for size := n; size > 1; {
			half := size / 2
			for l := range lanes {
				_, below := bits.Sub64(keys[base[l]+half-1], q[l], 0)
				base[l] += half & -int(below)
			}
			size -= half
		}
		for l := range lanes {
			found[i+l] = finish(keys, base[l], q[l])
		}
	}
	for ; i < len(queries); i++ {
		found[i] = lowerBoundIndex(keys, queries[i])
	}
}

// SearchLanes is how many queries a search chunk interleaves: the loads it
// keeps in flight.
const SearchLanes = 32

func lowerBoundIndex(keys []uint64, q uint64) int64 {
	base := 0
	for size := len(keys); size > 1; {
		half := size / 2
		_, below := bits.Sub64(keys[base+half-1], q, 0)
		base += half & -int(below)
		size -= half
	}
	return finish(keys, base, q)
}

// finish turns the last candidate of a lower-bound search into the answer.
func finish(keys []uint64, base int, q uint64) int64 {
	if base < len(keys) && keys[base] < q {
		base++
	}
	if base < len(keys) && keys[base] == q {
		return int64(base)
	}
	return -1
}

// Reference uses the standard library's binary search.
func (s *search) Reference(in, want []byte) error {
	keys, queries, found, err := s.views(in, want)
	if err != nil {
		return err
	}
	for i, q := range queries {
		if j, ok := slices.BinarySearch(keys, q); ok {
			found[i] = int64(j)
		} else {
			found[i] = -1
		}
	}
	return nil
}

func (s *search) Verify(in, want, got []byte) error {
	_, queries, w, err := s.views(in, want)
	if err != nil {
		return err
	}
	_, _, g, err := s.views(in, got)
	if err != nil {
		return err
	}
	for i := range w {
		if g[i] != w[i] {
			return fmt.Errorf("kernels: search query %d (%d) answered %d, want %d", i, queries[i], g[i], w[i])
		}
	}
	return nil
}
