package procpool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/internal/procstat"
)

func TestADeadlineEndsAStuckJobAndNamesTheStuckWorker(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name  string
		task  string
		stuck func(t *testing.T, p *Pool) // makes worker 1 stuck, once the job is published
		state byte
		chunk bool // whether the stuck worker holds a chunk
	}{
		{"stopped mid-chunk", "sleep:50", func(t *testing.T, p *Pool) {
			waitHolding(t, p, 1)
			signalWorker(t, p, 1, syscall.SIGSTOP)
		}, 'T', true},
		{"stopped between jobs", "sleep:50", nil, 'T', false},
		{"endless chunk", "loop:1", func(t *testing.T, p *Pool) {}, 'R', true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, region := newPool(t, 2, 16)
			victim := pidsOf(p)[1]
			if tt.stuck == nil {
				signalWorker(t, p, 1, syscall.SIGSTOP)
				waitState(t, victim, 'T')
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			// Static: worker 1 owns chunks 1..1 of 2, so the endless
			// chunk is its own.
			call := p.Submit(ctx, Job{Task: []byte(tt.task), Chunks: 2, Sched: Static})
			if tt.stuck != nil {
				tt.stuck(t, p)
			}
			_, err := call.Wait(10 * time.Second)
			var se *StuckError
			if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("job error %v, want a *StuckError for the deadline", err)
			}
			t.Log(err)
			if se.Elapsed < timeout/2 || se.Elapsed > 2*timeout {
				t.Errorf("Elapsed %v, want about %v", se.Elapsed, timeout)
			}
			if len(se.Workers) != 1 {
				t.Fatalf("unfinished workers %+v, want worker 1 alone", se.Workers)
			}
			w := se.Workers[0]
			if w.Index != 1 || w.Pid != victim || w.State != tt.state {
				t.Errorf("stuck worker %+v, want index 1, pid %d, state %c", w, victim, tt.state)
			}
			if tt.chunk && (w.Chunk != 1 || w.Held <= 0 || w.Held > se.Elapsed+50*time.Millisecond) {
				t.Errorf("stuck worker holds chunk %d for %v of the job's %v, want chunk 1 for a part of it", w.Chunk, w.Held, se.Elapsed)
			}
			if !tt.chunk && w.Chunk != -1 {
				t.Errorf("stuck worker holds chunk %d, want none", w.Chunk)
			}
			msg := err.Error()
			wantMsg := []string{"procpool: job timed out after", fmt.Sprintf("worker 1 (pid %d, %c ", victim, tt.state), "killed and replaced"}
			if tt.chunk {
				wantMsg = append(wantMsg, "holding chunk 1 for ")
			}
			for _, want := range wantMsg {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") && !strings.Contains(msg, "stderr ended with") {
				t.Errorf("error %q is more than one line", msg)
			}
			if !processGone(victim) {
				t.Errorf("stuck worker %d was not killed and reaped", victim)
			}
			clear(region.Bytes())
			if res := run(t, p, "square", 16, Dynamic); len(res.Replaced) != 0 {
				t.Errorf("the next job reports the stuck worker again: %v", res.Replaced)
			}
			if word(region, 15) != 15*15 {
				t.Error("the job after the timeout did not write its outputs")
			}
		})
	}
}

func TestStuckErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *StuckError
		want string
	}{
		{"one stopped", &StuckError{Err: context.DeadlineExceeded, Elapsed: 2 * time.Second, Workers: []StuckWorker{
			{Index: 1, Pid: 1234, State: 'T', StateWord: "stopped", Chunk: 17, Held: 1900 * time.Millisecond},
		}}, "procpool: job timed out after 2s: worker 1 (pid 1234, T stopped) holding chunk 17 for 1.9s; killed and replaced"},
		{"two, one idle, cancelled", &StuckError{Err: context.Canceled, Elapsed: 100 * time.Millisecond, Workers: []StuckWorker{
			{Index: 0, Pid: 10, State: 'R', StateWord: "running", Chunk: 3, Held: 5 * time.Millisecond},
			{Index: 2, Pid: 12, StateWord: "unknown", Chunk: -1},
		}}, "procpool: job stopped (context canceled) after 100ms: worker 0 (pid 10, R running) holding chunk 3 for 5ms, " +
			"worker 2 (pid 12, state unknown) holding no chunk; all killed and replaced"},
		{"with stderr", &StuckError{Err: context.DeadlineExceeded, Elapsed: time.Second, Workers: []StuckWorker{
			{Index: 0, Pid: 10, State: 'D', StateWord: "uninterruptible", Chunk: -1, Stderr: "last words"},
		}}, "procpool: job timed out after 1s: worker 0 (pid 10, D uninterruptible) holding no chunk; killed and replaced\n" +
			"worker 0's stderr ended with:\nlast words"},
		{"nobody left", &StuckError{Err: context.DeadlineExceeded, Elapsed: time.Second},
			"procpool: job timed out after 1s; no worker was left busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// signalWorker sends sig to worker w, and resumes it when the test ends in case
// it is still stopped then.
func signalWorker(t *testing.T, p *Pool, w int, sig syscall.Signal) {
	t.Helper()
	pid := pidsOf(p)[w]
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGSTOP {
		t.Cleanup(func() {
			// Only a child of ours: a reaped worker's pid may be reused.
			if st, err := procstat.Read(pid); err == nil && st.PPid == os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGCONT)
			}
		})
	}
}

// waitState waits until process pid is in state.
func waitState(t *testing.T, pid int, state procstat.State) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := procstat.Read(pid)
		if err == nil && st.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d: %+v, %v; want state %v", pid, st, err, state)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAPoolAboveTheDescriptorLimitFailsBeforeStarting(t *testing.T) {
	region, err := NewRegion(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	low := lim
	low.Cur = 64
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	before := children(t)
	p, err := New(region, 32)
	if err == nil {
		p.Terminate()
		t.Fatal("a pool of 32 workers under a limit of 64 descriptors started")
	}
	if msg := err.Error(); !strings.Contains(msg, "32 workers need about") || !strings.Contains(msg, "the limit is 64") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line naming the workers, the descriptors and the limit", msg)
	}
	if after := children(t); len(after) != len(before) {
		t.Errorf("%d child processes after the refusal, %d before: it started workers", len(after), len(before))
	}
	// A limit just as large as the estimate for 8 workers is enough: the
	// estimate is not below what the pool really holds.
	fds, _ := os.ReadDir("/proc/self/fd")
	low.Cur = uint64(len(fds) + descriptorsNeeded(8))
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	p, err = New(region, 8)
	if err != nil {
		t.Fatalf("8 workers under a limit of %d, the estimate: %v", low.Cur, err)
	}
	if _, err := p.Run(context.Background(), Job{}); err != nil {
		t.Error(err)
	}
	p.Close()
	if err := p.Wait(); err != nil {
		t.Error(err)
	}
}

func TestAPoolAboveTheProcessLimitFailsBeforeStarting(t *testing.T) {
	tests := []struct {
		workers, threads int
		limit            uint64
		ok               bool
	}{
		{2, 100, 4096, true},
		{256, 100, 4096, true},
		{256, 3000, 4096, false},
		{8, 10, 58, true},
		{8, 11, 58, false},
	}
	for _, tt := range tests {
		err := checkThreads(tt.workers, tt.threads, tt.limit)
		if (err == nil) != tt.ok {
			t.Errorf("%d workers, %d threads, limit %d: %v, want ok %v", tt.workers, tt.threads, tt.limit, err, tt.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "process limit is") || strings.Contains(err.Error(), "\n")) {
			t.Errorf("error %q: want one line naming the process limit", err)
		}
	}
	// This machine's count includes this test's own threads.
	if n := userThreads(os.Getuid()); n < 2 {
		t.Errorf("userThreads counts %d threads of this user, this process alone runs more", n)
	}
}
