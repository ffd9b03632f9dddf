package runner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/runner/procpool"
)

func TestAGoroutineStuckInAChunkIsReportedNotWaitedFor(t *testing.T) {
	p := kernels.Params{Kernel: "hash", Shape: "uniform", Size: 1 << 20, Chunks: 8, Seed: 1}
	w := newWorkload(t, p)
	release := make(chan struct{})
	t.Cleanup(func() { close(release); time.Sleep(10 * time.Millisecond) }) // before the workload is released
	chunk := w.chunk
	w.chunk = func(i int) {
		if i == 3 {
			<-release // a chunk that never returns, until the test ends
			return
		}
		chunk(i)
	}
	for _, tt := range []struct {
		strategy string
		workers  int
	}{{"serial", 1}, {"goroutines", 2}} {
		s, err := NewStrategy(tt.strategy, w, tt.workers)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		_, err = s.Run(ctx, procpool.Dynamic)
		cancel()
		took := time.Since(start)
		if !errors.Is(err, ErrStuck) || !strings.Contains(err.Error(), "holding chunk 3") || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("%s: %v, want a stuck error naming chunk 3", tt.strategy, err)
		}
		if took > 200*time.Millisecond+stuckGrace+time.Second {
			t.Errorf("%s: the stuck run took %v to report", tt.strategy, took)
		}
	}
}

func TestJobTimeoutComesFromTheCellsMedian(t *testing.T) {
	var p Plan
	for _, tt := range []struct {
		walls []float64
		want  time.Duration
	}{
		{nil, time.Minute},
		{[]float64{0.01, 0.01}, time.Minute},
		{[]float64{0.01, 0.02, 0.01}, 10 * time.Second},
		{[]float64{2, 3, 2.5}, 50 * time.Second},
	} {
		if got := p.jobTimeout(tt.walls); got != tt.want {
			t.Errorf("timeout after %v: %v, want %v", tt.walls, got, tt.want)
		}
	}
	if got := (Plan{JobTimeout: time.Second}).jobTimeout([]float64{5, 5, 5}); got != time.Second {
		t.Errorf("a plan's own timeout: %v", got)
	}
}

func TestRunnableTasksAreReadFromProcStat(t *testing.T) {
	stat := "cpu  1 2 3\nintr 5\nctxt 9\nprocs_running 3\nprocs_blocked 0\n"
	if n, ok := procsRunning([]byte(stat)); !ok || n != 3 {
		t.Errorf("procs_running: %d, %v", n, ok)
	}
	if _, ok := procsRunning([]byte("cpu 1 2\n")); ok {
		t.Error("no procs_running line read as one")
	}
}

// TestTheLoadCheckIgnoresOurOwnPastWork keeps both CPUs busy for a while
// (as a sweep's rounds do, raising the load average), then checks the
// machine: what competes is what runs now, so no warning about load.
func TestTheLoadCheckIgnoresOurOwnPastWork(t *testing.T) {
	if testing.Short() {
		t.Skip("spins for a second")
	}
	before, ok := othersRunnable()
	if !ok {
		t.Skip("no /proc/stat")
	}
	if before > 0 {
		t.Skipf("%d other tasks run already: nothing to tell", before)
	}
	stop := time.Now().Add(time.Second)
	done := make(chan struct{})
	for range 2 {
		go func() {
			for time.Now().Before(stop) {
			}
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	// Our two spinners raised the load average toward 2; they must not
	// count now. Other test packages that go test runs meanwhile may be
	// runnable at any one reading (two were, once): the fewest of ten
	// readings over 100 ms is what a count of our own past work could not
	// bring below 2, and theirs comes and goes.
	fewest := -1
	for range 10 {
		if after, _ := othersRunnable(); fewest < 0 || after < fewest {
			fewest = after
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fewest >= 2 {
		t.Errorf("%d other tasks runnable, at the fewest, in the 100 ms after our own work stopped", fewest)
	}
}
