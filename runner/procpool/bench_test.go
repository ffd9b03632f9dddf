package procpool

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkRoundTrip measures a job of a few trivial chunks at 2 workers:
// the pool's own cost per job, with (chunks=2) and without (chunks=0) the
// per-job work of a worker that runs chunks.
func BenchmarkRoundTrip(b *testing.B) {
	for _, chunks := range []int{0, 2} {
		b.Run(fmt.Sprintf("chunks=%d", chunks), func(b *testing.B) {
			region, err := NewRegion(8 * 8)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { region.Close() })
			p, err := New(region, 2)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { p.Terminate() })
			job := Job{Task: []byte("square"), Chunks: chunks}
			ctx := context.Background()
			for b.Loop() {
				if _, err := p.Run(ctx, job); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
