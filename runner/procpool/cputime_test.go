package procpool

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestWorkersReportTheirCPUTime(t *testing.T) {
	tests := []struct {
		task string
		// check judges one worker's share; busy is never zero here.
		check func(st WorkerStats) bool
		want  string
	}{
		// A spinning worker is on a CPU or waiting for one: on a busy
		// machine it may run only part of its busy time, but it never
		// blocks.
		{"spin:20000", func(st WorkerStats) bool {
			return st.CPU > 0 && st.CPU <= st.Busy+time.Millisecond && st.CPU+st.RunDelay > st.Busy*3/4
		}, "0 < CPU <= busy and CPU + run delay near busy"},
		// A sleeping worker blocks: almost none of its busy time is on a
		// CPU, and none of it is waiting for one.
		{"sleep:20", func(st WorkerStats) bool {
			return st.CPU < st.Busy/4 && st.RunDelay < st.Busy/4
		}, "CPU and run delay far below busy"},
	}
	for _, tt := range tests {
		t.Run(tt.task, func(t *testing.T) {
			p, _ := newPool(t, 1, 1)
			res := run(t, p, tt.task, 4, Dynamic)
			st := res.Workers[0]
			t.Logf("busy %v, CPU %v, run delay %v", st.Busy, st.CPU, st.RunDelay)
			if st.Busy < 60*time.Millisecond || !tt.check(st) {
				t.Errorf("worker ran 4 chunks of %q: busy %v, CPU %v, run delay %v; want busy >= 60ms and %s",
					tt.task, st.Busy, st.CPU, st.RunDelay, tt.want)
			}
			if st.Span < st.Busy || st.Span > res.Wall {
				t.Errorf("span %v: want between busy %v and the wall time %v", st.Span, st.Busy, res.Wall)
			}
			// An empty job measures nothing but the time to see it.
			res = run(t, p, "", 0, Dynamic)
			if st := res.Workers[0]; st.Chunks != 0 || st.Busy != 0 || st.CPU != 0 || st.RunDelay != 0 || st.Span > res.Wall {
				t.Errorf("an empty job reports %+v (wall %v)", st, res.Wall)
			}
		})
	}
}

func TestOversubscribedWorkersWaitForACPU(t *testing.T) {
	workers := 2 * runtime.NumCPU()
	if workers > 16 {
		t.Skipf("%d CPUs: too many worker processes to oversubscribe them in a test", runtime.NumCPU())
	}
	p, _ := newPool(t, workers, 1)
	// Two 50 ms chunks per worker, twice as many spinning workers as
	// CPUs: each worker is on a CPU about half of its busy time.
	res := run(t, p, "spin:50000", 2*workers, Static)
	var busy, cpu, delay time.Duration
	for _, st := range res.Workers {
		busy, cpu, delay = busy+st.Busy, cpu+st.CPU, delay+st.RunDelay
	}
	t.Logf("%d workers on %d CPUs over %v: busy %v, CPU %v, run delay %v", workers, runtime.NumCPU(), res.Wall, busy, cpu, delay)
	if busy-cpu < busy/5 {
		t.Errorf("busy %v and CPU %v: want busy - CPU well above zero, at least a fifth of busy", busy, cpu)
	}
	if _, err := os.Stat("/proc/thread-self/schedstat"); err == nil && delay < busy/5 {
		t.Errorf("run delay %v of busy %v: want at least a fifth", delay, busy)
	}
}

// A worker's goroutine is not locked to its thread, so a job's chunks may
// end on another thread than they began on, whose CPU clock and schedstat
// say nothing of the job. runChunks then reports the process's CPU time
// and no run delay. The test moves the job by making the thread its
// readings began on another one (the chunk rewrites w.tid, as a move would
// leave it).
func TestAJobThatChangedThreadsReportsTheProcesssCPUTime(t *testing.T) {
	spin := func(d time.Duration) {
		for start := time.Now(); time.Since(start) < d; {
		}
	}
	for _, tt := range []struct {
		name  string
		moved bool
	}{{"same thread", false}, {"changed threads", true}} {
		t.Run(tt.name, func(t *testing.T) {
			runtime.LockOSThread() // so that only the test moves it
			defer runtime.UnlockOSThread()
			w := &workerProc{workers: 1, c: new(control), slot: new(slot)}
			defer func() {
				if w.sched != nil {
					w.sched.Close()
				}
			}()
			const chunks = 4
			w.chunk = func(i int) {
				spin(10 * time.Millisecond)
				if tt.moved && i == chunks/2 {
					w.tid = -1
				}
			}
			st, failChunk, failText := w.runChunks(Dynamic, chunks)
			if failChunk >= 0 || failText != "" {
				t.Fatalf("chunk %d failed: %s", failChunk, failText)
			}
			t.Logf("chunks %d, busy %v, CPU %v, run delay %v", st.chunks, st.busy, st.cpu, st.run)
			// Spinning, the goroutine is on a CPU for its busy time,
			// less what the machine gave others.
			if st.chunks != chunks || st.cpu < st.busy/4 || st.cpu > st.busy*3/2 {
				t.Errorf("%d chunks, busy %v, CPU %v: want %d chunks and CPU near busy", st.chunks, st.busy, st.cpu, chunks)
			}
			if tt.moved && st.run != 0 {
				t.Errorf("run delay %v from the readings of two threads: want 0 (not known)", st.run)
			}
		})
	}
}
