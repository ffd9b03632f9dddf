package procpool_test

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/corescale/corescale/runner/procpool"
)

// The worker side: in main (or TestMain), before anything else,
//
//	procpool.Serve(resolve)
//
// where resolve turns a task into a chunk function over the region. The
// tests of this package register a resolver whose "square" task writes i*i
// into word i.
func Example() {
	region, err := procpool.NewRegion(8 * 8)
	if err != nil {
		panic(err)
	}
	defer region.Close()

	pool, err := procpool.New(region, 2) // like multiprocessing.Pool(2)
	if err != nil {
		panic(err)
	}
	res, err := pool.Run(context.Background(), procpool.Job{Task: []byte("square"), Chunks: 8, Sched: procpool.Static})
	if err != nil {
		panic(err)
	}
	pool.Close() // like pool.close(); pool.join()
	if err := pool.Wait(); err != nil {
		panic(err)
	}

	var squares []uint64
	for i := range 8 {
		squares = append(squares, binary.NativeEndian.Uint64(region.Bytes()[8*i:]))
	}
	fmt.Println(squares)
	fmt.Println(res.Workers[0].Chunks, res.Workers[1].Chunks)
	// Output:
	// [0 1 4 9 16 25 36 49]
	// 4 4
}
