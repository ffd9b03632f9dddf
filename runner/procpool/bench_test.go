package procpool

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkRoundTrip measures a job of no chunks or of a few trivial ones:
// the pool's own cost per job (dispatch, wake-ups, join) at each size,
// with (chunks=2) and without (chunks=0) the per-job work of a worker that
// runs chunks.
func BenchmarkRoundTrip(b *testing.B) {
	for _, tt := range []struct{ workers, chunks int }{{1, 0}, {2, 0}, {2, 2}, {8, 0}, {32, 0}, {128, 0}} {
		b.Run(fmt.Sprintf("workers=%d/chunks=%d", tt.workers, tt.chunks), func(b *testing.B) {
			region, err := NewRegion(8 * 8)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { region.Close() })
			p, err := New(region, tt.workers)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { p.Terminate() })
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
