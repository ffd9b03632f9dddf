package procpool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/corescale/corescale/internal/procstat"
	"golang.org/x/sys/unix"
)

// newPool starts a pool of n workers over a region of words uint64 words,
// closed when the test ends.
func newPool(t *testing.T, n, words int) (*Pool, *Region) {
	t.Helper()
	region, err := NewRegion(8 * words)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(region, n)
	if err != nil {
		region.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Terminate()
		region.Close()
	})
	return p, region
}

func run(t *testing.T, p *Pool, task string, chunks int, sched Sched) Result {
	t.Helper()
	res, err := p.Run(context.Background(), Job{Task: []byte(task), Chunks: chunks, Sched: sched})
	if err != nil {
		t.Fatalf("job %q: %v", task, err)
	}
	return res
}

// processGone reports whether pid has exited and been reaped.
func processGone(pid int) bool {
	// A zombie ("Z") has exited but nobody reaped it: a leak of ours.
	st, err := procstat.Read(pid)
	return err != nil || st.State == 'X'
}

func pidsOf(p *Pool) []int {
	var pids []int
	for _, w := range p.Workers() {
		pids = append(pids, w.Pid)
	}
	return pids
}

func TestJobsWriteIntoTheRegion(t *testing.T) {
	const chunks = 1000
	for workers := 1; workers <= 4; workers++ {
		for _, sched := range []Sched{Dynamic, Static} {
			t.Run(fmt.Sprintf("workers=%d/sched=%v", workers, sched), func(t *testing.T) {
				p, region := newPool(t, workers, chunks)
				for round := range 3 {
					clear(region.Bytes())
					res := run(t, p, "square", chunks, sched)
					for i := range chunks {
						if got := word(region, i); got != uint64(i*i) {
							t.Fatalf("round %d: word %d = %d, want %d", round, i, got, i*i)
						}
					}
					total := 0
					for _, w := range res.Workers {
						total += w.Chunks
					}
					if total != chunks || len(res.Workers) != workers {
						t.Errorf("round %d: %d workers report %d chunks, want %d and %d", round, len(res.Workers), total, workers, chunks)
					}
					if res.Wall <= 0 {
						t.Errorf("round %d: wall time %v", round, res.Wall)
					}
				}
			})
		}
	}
}

func TestStaticGivesEachWorkerItsOwnRange(t *testing.T) {
	const chunks, workers = 10, 3
	p, region := newPool(t, workers, chunks)
	res := run(t, p, "pid", chunks, Static)
	pids := pidsOf(p)
	for i := range chunks {
		w := i * workers / chunks // the worker whose range holds i, for this split
		for w+1 < workers && (w+1)*chunks/workers <= i {
			w++
		}
		if got := word(region, i); got != uint64(pids[w]) {
			t.Errorf("chunk %d ran in pid %d, want worker %d (pid %d)", i, got, w, pids[w])
		}
	}
	for w, st := range res.Workers {
		if want := (w+1)*chunks/workers - w*chunks/workers; st.Chunks != want {
			t.Errorf("worker %d ran %d chunks, want %d", w, st.Chunks, want)
		}
	}
}

func TestEmptyJobsNeedNoTask(t *testing.T) {
	p, _ := newPool(t, 2, 1)
	for range 100 {
		run(t, p, "", 0, Dynamic)
	}
}

func TestStrayStdoutGoesToStderrNotTheProtocol(t *testing.T) {
	region, err := NewRegion(8)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	var stderr lockedBuffer
	p, err := NewWithStderr(region, 2, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Terminate()
	run(t, p, "print", 4, Dynamic)
	run(t, p, "", 0, Dynamic)
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(stderr.String(), "stray output") < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("workers' stderr got %q, want the four lines they printed", stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAWorkerKilledMidJobFailsTheJobAndIsReplaced(t *testing.T) {
	p, region := newPool(t, 2, 64)
	victim := pidsOf(p)[0]
	call := p.Submit(context.Background(), Job{Task: []byte("sleep:300"), Chunks: 8, Sched: Static})
	waitHolding(t, p, 0)
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_, err := call.Wait(0)
	if d := time.Since(killed); d > time.Second {
		t.Errorf("the job took %v to fail after the kill, want under 1s", d)
	}
	var we *WorkerError
	if !errors.As(err, &we) {
		t.Fatalf("job error %v, want a *WorkerError", err)
	}
	if we.Index != 0 || we.Pid != victim || we.Chunk < 0 || we.Chunk > 3 || !strings.Contains(we.Status, "killed") {
		t.Errorf("error %+v: want worker 0, pid %d, a chunk of its range 0-3, status killed", we, victim)
	}
	for _, want := range []string{"worker 0", strconv.Itoa(victim), "killed", "holding chunk"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The next job runs normally on a replacement, and does not report
	// the death again.
	if res := run(t, p, "square", 64, Dynamic); len(res.Replaced) != 0 {
		t.Errorf("a death the failed job reported is reported again: %v", res.Replaced)
	}
	if word(region, 63) != 63*63 {
		t.Error("the job after the kill did not write its outputs")
	}
	if got := pidsOf(p)[0]; got == victim || processGone(got) {
		t.Errorf("worker 0 is pid %d after the kill of %d, want a live replacement", got, victim)
	}
	if !processGone(victim) {
		t.Errorf("killed worker %d was not reaped", victim)
	}
}

func TestAWorkerKilledBetweenJobsIsReportedByTheNextJob(t *testing.T) {
	p, region := newPool(t, 2, 16)
	run(t, p, "square", 16, Dynamic)
	victim := pidsOf(p)[1]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Between jobs means before the next job starts and after the pool has
	// seen the death: a death it has not yet seen is the next job's.
	for !processGone(victim) || p.Workers()[1].Alive {
		time.Sleep(time.Millisecond)
	}
	clear(region.Bytes())
	res := run(t, p, "square", 16, Dynamic) // runs on a replacement
	if word(region, 15) != 15*15 {
		t.Error("the job after the kill did not write its outputs")
	}
	if len(res.Replaced) != 1 || res.Replaced[0].Pid != victim || !strings.Contains(res.Replaced[0].Status, "killed") {
		t.Fatalf("Result.Replaced = %v, want the killed worker %d", res.Replaced, victim)
	}
	if res := run(t, p, "square", 16, Dynamic); len(res.Replaced) != 0 {
		t.Errorf("the death was reported twice: %v", res.Replaced)
	}
}

// waitHolding waits until worker w is running a chunk.
func waitHolding(t *testing.T, p *Pool, w int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.cb.slots[w].chunk.Load() < 0 {
		if time.Now().After(deadline) {
			t.Fatalf("worker %d never took a chunk", w)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFailuresAreReportedAndThePoolGoesOn(t *testing.T) {
	tests := []struct {
		task string
		want []string // in the error
	}{
		{"panic:5", []string{"holding chunk 5", "panic: boom at chunk 5", "testResolver"}},
		{"exit:2:7", []string{"holding chunk 2", "exit status 7"}},
		{"bad", []string{"resolving task", `no such test task "bad"`}},
	}
	for _, tt := range tests {
		t.Run(tt.task, func(t *testing.T) {
			p, region := newPool(t, 2, 16)
			_, err := p.Run(context.Background(), Job{Task: []byte(tt.task), Chunks: 16, Sched: Dynamic})
			if err == nil {
				t.Fatal("the job succeeded")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			run(t, p, "square", 16, Dynamic)
			if word(region, 15) != 15*15 {
				t.Error("the job after the failure did not write its outputs")
			}
		})
	}
}

func TestCancellationAndDeadlineKillBusyWorkers(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, region := newPool(t, 2, 8)
			before := pidsOf(p)
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			_, err := p.Run(ctx, Job{Task: []byte("sleep:60000"), Chunks: 4, Sched: Dynamic})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Run error %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Run returned after %v", d)
			}
			for _, pid := range before {
				if !processGone(pid) {
					t.Errorf("busy worker %d is still alive", pid)
				}
			}
			run(t, p, "square", 8, Static)
			if word(region, 7) != 49 {
				t.Error("the job after the cancellation did not write its outputs")
			}
		})
	}
}

func TestRunWithADoneContextDoesNothing(t *testing.T) {
	p, _ := newPool(t, 1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Run(ctx, Job{Task: []byte("sleep:60000"), Chunks: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error %v", err)
	}
}

func TestSubmitWaitsItsTurnInOrder(t *testing.T) {
	p, region := newPool(t, 2, 16)
	slow := p.Submit(context.Background(), Job{Task: []byte("sleep:200"), Chunks: 2})
	if _, err := slow.Wait(10 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait(10ms) on a 200ms job: %v, want ErrTimeout", err)
	}
	var calls []*Call
	for id := 1; id <= 5; id++ {
		calls = append(calls, p.Submit(context.Background(), Job{Task: []byte(fmt.Sprintf("log:%d", id)), Chunks: 1}))
	}
	if _, err := slow.Wait(0); err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a queued job never finished")
		}
		if _, err := c.Wait(time.Second); err != nil {
			t.Fatal(err)
		}
	}
	var order []uint64
	for i := 1; i <= int(word(region, 0)); i++ {
		order = append(order, word(region, i))
	}
	if !slices.Equal(order, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("jobs ran in order %v, want submission order", order)
	}
}

func TestCloseLetsQueuedJobsFinishThenWaitReapsEveryWorker(t *testing.T) {
	region, err := NewRegion(64)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	p, err := New(region, 3)
	if err != nil {
		t.Fatal(err)
	}
	pids := pidsOf(p)
	queued := p.Submit(context.Background(), Job{Task: []byte("sleep:100"), Chunks: 3})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), Job{Chunks: 0}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
	if _, err := queued.Wait(0); err != nil {
		t.Errorf("a job queued before Close failed: %v", err)
	}
	if err := p.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	for _, pid := range pids {
		if !processGone(pid) {
			t.Errorf("worker %d outlived Close+Wait", pid)
		}
	}
	if kids := children(t); len(kids) != 0 {
		t.Errorf("child processes left: %v", kids)
	}
}

func TestTerminateKillsAtOnce(t *testing.T) {
	region, err := NewRegion(64)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	p, err := New(region, 2)
	if err != nil {
		t.Fatal(err)
	}
	pids := pidsOf(p)
	running := p.Submit(context.Background(), Job{Task: []byte("sleep:60000"), Chunks: 2})
	waitHolding(t, p, 0)
	start := time.Now()
	p.Terminate()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Terminate took %v", d)
	}
	if _, err := running.Wait(time.Second); err == nil {
		t.Error("the running job succeeded after Terminate")
	}
	for _, pid := range pids {
		if !processGone(pid) {
			t.Errorf("worker %d outlived Terminate", pid)
		}
	}
	if kids := children(t); len(kids) != 0 {
		t.Errorf("child processes left: %v", kids)
	}
	if err := p.Wait(); err != nil {
		t.Errorf("Wait after Terminate: %v", err)
	}
}

// children lists the processes whose parent is this one, zombies included.
func children(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := procstat.Read(pid); err == nil && st.PPid == os.Getpid() {
			kids = append(kids, pid)
		}
	}
	return kids
}

func TestWorkersDieWithTheirParent(t *testing.T) {
	for _, mode := range []string{"idle", "busy"} {
		t.Run(mode, func(t *testing.T) {
			// Orphaned workers are reparented to this process, which
			// can then tell a dead worker from a live one and reap it.
			if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
				t.Skipf("cannot become a subreaper: %v", err)
			}
			defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
			helper := exec.Command(os.Args[0], "-test.run=^$")
			helper.Env = append(os.Environ(), envHelperParent+"="+mode)
			helper.Stderr = os.Stderr
			out, err := helper.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := helper.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "pids ") {
				helper.Process.Kill()
				helper.Wait()
				t.Fatalf("helper said %q, %v", line, err)
			}
			var pids []int
			for _, f := range strings.Fields(line)[1:] {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
			helper.Process.Kill()
			helper.Wait()
			killed := time.Now()
			for _, pid := range pids {
				for {
					var ws unix.WaitStatus
					got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
					if got == pid || err == unix.ECHILD && processGone(pid) {
						break
					}
					if time.Since(killed) > time.Second {
						t.Fatalf("worker %d still alive 1s after its parent was killed", pid)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
}

func TestManySmallJobsLeakNothing(t *testing.T) {
	p, _ := newPool(t, 2, 64)
	run(t, p, "square", 64, Dynamic) // let the runtime settle its own goroutines
	fds := steadyFDs(t)
	goroutines := runtime.NumGoroutine()
	for i := range 1000 {
		sched := Dynamic
		if i%2 == 1 {
			sched = Static
		}
		run(t, p, "square", 64, sched)
	}
	if got := openFDs(t); got > fds {
		t.Errorf("open file descriptors went from %d to %d over 1000 jobs", fds, got)
	}
	if got := runtime.NumGoroutine(); got > goroutines {
		t.Errorf("goroutines went from %d to %d over 1000 jobs", goroutines, got)
	}
}

// steadyFDs returns the number of open descriptors once it holds still
// (for up to 2s): pools of earlier tests may still be closing their pipes.
func steadyFDs(t *testing.T) int {
	t.Helper()
	fds := openFDs(t)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		if now := openFDs(t); now != fds {
			fds = now
			continue
		}
		break
	}
	return fds
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestNothingAppearsInDevShm(t *testing.T) {
	before, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	p, _ := newPool(t, 2, 1024)
	run(t, p, "square", 1024, Dynamic)
	p.Close()
	p.Wait()
	after, _ := os.ReadDir("/dev/shm")
	if len(after) != len(before) {
		t.Errorf("/dev/shm went from %d to %d entries", len(before), len(after))
	}
}

func TestNewRefusesBadArguments(t *testing.T) {
	region, err := NewRegion(8)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	tests := []struct {
		name    string
		region  *Region
		workers int
		want    string
	}{
		{"negative workers", region, -1, "workers -1"},
		{"too many workers", region, MaxWorkers + 1, fmt.Sprintf("workers %d", MaxWorkers+1)},
		{"no region", nil, 2, "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.region, tt.workers)
			if err == nil {
				p.Terminate()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
	if _, err := NewRegion(-1); err == nil {
		t.Error("NewRegion(-1) succeeded")
	}
}

func TestRunRefusesBadJobs(t *testing.T) {
	p, _ := newPool(t, 1, 1)
	for _, job := range []Job{
		{Chunks: -1},
		{Task: make([]byte, maxTask+1), Chunks: 1},
		{Chunks: 1, Sched: 7},
	} {
		if _, err := p.Run(context.Background(), job); err == nil {
			t.Errorf("Run(%+v) succeeded", job)
		}
	}
	run(t, p, "", 0, Dynamic) // still usable
}

func TestCloseAndTerminateSayWhenThePoolWasAlreadyShut(t *testing.T) {
	tests := []struct {
		name  string
		calls []string
		want  []error // each call's result
	}{
		{"close", []string{"close"}, []error{nil}},
		{"terminate", []string{"terminate"}, []error{nil}},
		{"close twice", []string{"close", "close"}, []error{nil, ErrClosed}},
		{"terminate twice", []string{"terminate", "terminate"}, []error{nil, ErrClosed}},
		{"terminate after close", []string{"close", "terminate"}, []error{nil, nil}},
		{"close after terminate", []string{"terminate", "close"}, []error{nil, ErrClosed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newPool(t, 1, 1)
			for i, call := range tt.calls {
				var err error
				if call == "close" {
					err = p.Close()
				} else {
					err = p.Terminate()
				}
				if !errors.Is(err, tt.want[i]) || (tt.want[i] == nil && err != nil) {
					t.Errorf("call %d, %s: %v, want %v", i+1, call, err, tt.want[i])
				}
			}
			if err := p.Wait(); err != nil {
				t.Errorf("Wait: %v", err)
			}
		})
	}
}

// Close is quick, under the race detector too, whose programs sleep a
// second at exit unless told not to: workers are (workerGorace).
func TestCloseTakesMillisecondsNotSeconds(t *testing.T) {
	region, err := NewRegion(64)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	var took []time.Duration
	for range 5 {
		p, err := New(region, 2)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	if median := took[len(took)/2]; median > 500*time.Millisecond {
		t.Errorf("Close and Wait of a 2-worker pool took %v (median of %v), want milliseconds", median, took)
	}
}
