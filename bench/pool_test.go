package bench

import (
	"context"
	"testing"

	"github.com/corescale/corescale/runner/procpool"
)

// BenchmarkPool measures the process pool itself, without a kernel:
//
//	op=startup    New until every worker is ready, plus Close and Wait
//	op=roundtrip  one empty job (no chunks): publish, every worker answers
//
// at GOMAXPROCS workers: go test -cpu sets them, and the -N suffix names
// them.
func BenchmarkPool(b *testing.B) {
	region, err := procpool.NewRegion(4096)
	if err != nil {
		b.Fatal(err)
	}
	defer region.Close()

	b.Run("op=startup", func(b *testing.B) {
		workers := leafWorkers(b)
		var startup float64
		for b.Loop() {
			p, err := procpool.New(region, workers)
			if err != nil {
				b.Fatal(err)
			}
			startup += float64(p.Startup().Nanoseconds())
			p.Close()
			if err := p.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(startup/float64(b.N), "startup-ns")
		b.ReportMetric(float64(workers), "workers")
	})

	b.Run("op=roundtrip", func(b *testing.B) {
		workers := leafWorkers(b)
		p, err := procpool.New(region, workers)
		if err != nil {
			b.Fatal(err)
		}
		defer func() { p.Close(); p.Wait() }()
		ctx := context.Background()
		for b.Loop() {
			if _, err := p.Run(ctx, procpool.Job{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(workers), "workers")
	})
}
