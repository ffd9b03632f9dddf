package procpool

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkRoundTrip measures a job of no chunks or of a few trivial ones:
// the pool's own cost per job (dispatch, wake-ups, join) at each size,
// with (chunks=2) and without (chunks=0) the per-job work of a worker that
// runs chunks.
func BenchmarkRoundTrip(b *testing.B) {
	for _, tt := range []struct{ workers, chunks int }{{1, 0}, {2, 0}, {2, 2}, {8, 0}, {32, 0}, {128, 0}} {
		b.Run(fmt.Sprintf("workers=%d/chunks=%d", tt.workers, tt.chunks), func(b *testing.B) {
			p := benchPool(b, tt.workers)
			job := Job{Task: []byte("square"), Chunks: tt.chunks}
			ctx := context.Background()
			for b.Loop() {
				if _, err := p.Run(ctx, job); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchPool returns a pool of the given workers over a region of 8 words,
// terminated when b ends.
func benchPool(b *testing.B, workers int) *Pool {
	region, err := NewRegion(8 * 8)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { region.Close() })
	p, err := New(region, workers)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Terminate() })
	return p
}

// BenchmarkRoundTripAfterIdle measures a one-chunk job that follows the
// last one after the parent has been busy for idle: longer than spinFor, the
// worker is asleep when the job comes, and its wake-up is the job's. A
// sweep's runs come after the parent has poisoned, flushed and verified the
// outputs, so their jobs would find the workers asleep; in-process workers
// of one goroutine never wait for a wake-up. With ahead, the parent wakes
// the workers (WakeFor) at the end of its busy time, as runner.Measure
// does. wall-ns/job is the job alone.
func BenchmarkRoundTripAfterIdle(b *testing.B) {
	for _, tt := range []struct {
		idle  time.Duration
		ahead bool
	}{{0, false}, {time.Millisecond, false}, {5 * time.Millisecond, false}, {5 * time.Millisecond, true}} {
		name := fmt.Sprintf("idle=%v", tt.idle)
		if tt.ahead {
			name += "/woken-ahead"
		}
		b.Run(name, func(b *testing.B) {
			p := benchPool(b, 1)
			job := Job{Task: []byte("square"), Chunks: 1}
			ctx := context.Background()
			var wall time.Duration
			for b.Loop() {
				spin(tt.idle)
				if tt.ahead {
					if err := p.WakeFor(time.Millisecond); err != nil {
						b.Fatal(err)
					}
				}
				res, err := p.Run(ctx, job)
				if err != nil {
					b.Fatal(err)
				}
				wall += res.Wall
			}
			b.ReportMetric(float64(wall.Nanoseconds())/float64(b.N), "wall-ns/job")
		})
	}
}

// BenchmarkStartup measures New until every worker is ready, and Close.
func BenchmarkStartup(b *testing.B) {
	for _, workers := range []int{1, 2, 8, 32, 128} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			region, err := NewRegion(8 * 8)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { region.Close() })
			var startup float64
			for b.Loop() {
				p, err := New(region, workers)
				if err != nil {
					b.Fatal(err)
				}
				startup += float64(p.Startup().Nanoseconds())
				if err := p.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(startup/float64(b.N), "startup-ns/op")
		})
	}
}
