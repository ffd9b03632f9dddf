// Package benchpkg is a package whose benchmarks corescale bench runs in
// its tests: one that scales (RunParallel over independent work) and one
// that cannot (a single goroutine).
package benchpkg

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestMain logs, when CORESCALE_TEST_LOG names a file, the process's pid
// and its GOMAXPROCS as the process started, before testing sets it: the
// test of corescale bench reads the order of the -cpu values and checks
// that none of them started at another one.
func TestMain(m *testing.M) {
	if path := os.Getenv("CORESCALE_TEST_LOG"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(f, "%d %d\n", os.Getpid(), runtime.GOMAXPROCS(0))
		f.Close()
	}
	os.Exit(m.Run())
}

var sink uint64

func spin(n int) uint64 {
	x := uint64(n)
	for i := 0; i < 2000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

func BenchmarkParallel(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		var x uint64
		for i := 0; pb.Next(); i++ {
			x += spin(i)
		}
		sink += x
	})
}

func BenchmarkSerial(b *testing.B) {
	for i := range b.N {
		sink += spin(i)
	}
}

// BenchmarkSlow takes a second a run when CORESCALE_TEST_SLOW is set, so
// that a test can interrupt corescale bench in the middle of a round.
func BenchmarkSlow(b *testing.B) {
	if os.Getenv("CORESCALE_TEST_SLOW") == "" {
		b.Skip("CORESCALE_TEST_SLOW is not set")
	}
	for range b.N {
		time.Sleep(time.Second)
	}
}
