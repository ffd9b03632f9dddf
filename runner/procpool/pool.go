package procpool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/internal/procstat"
	"github.com/corescale/corescale/internal/tail"
)

// A Job is one parallel section: Chunks chunks of the task, dealt out by
// Sched. Workers turn Task into a chunk function with their Resolver.
type Job struct {
	Task   []byte
	Chunks int
	Sched  Sched
}

// Result describes a finished job.
type Result struct {
	// Wall is the time from publishing the job to seeing every worker done.
	Wall time.Duration
	// Workers holds each worker's share, indexed by worker.
	Workers []WorkerStats
	// Replaced reports workers that died between jobs, unseen by any job,
	// and were replaced before this one: an out-of-memory kill, say.
	Replaced []*WorkerError
}

// WorkerStats is one worker's share of a job.
type WorkerStats struct {
	Chunks int           // chunks it ran
	Busy   time.Duration // wall time it spent inside chunk functions
	// CPU is the CPU time the worker's thread used from just before its
	// first chunk to just after its last (CLOCK_THREAD_CPUTIME_ID); Busy
	// minus CPU is time it spent off a CPU while it had work: waiting for
	// one (RunDelay), or blocked.
	CPU time.Duration
	// RunDelay is the time the thread spent runnable but waiting for a
	// CPU over the same span, from the kernel's schedstat (zero where the
	// kernel keeps none): the loss of running more busy workers than
	// CPUs.
	RunDelay time.Duration
	// Span is the time from the job's publication to the worker finding
	// no chunk left: waking, its chunks and their claims. Span minus CPU
	// is time it had, or could have had, work and was off a CPU (not yet
	// woken, or waiting for one).
	Span time.Duration
}

// WorkerInfo describes a worker process.
type WorkerInfo struct {
	Index int
	Pid   int
	Alive bool
}

var (
	// ErrClosed is returned for jobs submitted after Close or Terminate.
	ErrClosed = errors.New("procpool: pool is closed")
	// ErrTimeout is returned by Call.Wait when the job is still running.
	ErrTimeout = errors.New("procpool: timed out waiting for the job")
)

// A WorkerError reports a worker that failed a job: it died, or a chunk
// function panicked, or the task could not be resolved.
type WorkerError struct {
	Index  int
	Pid    int
	Chunk  int64  // the chunk in hand, or -1
	Status string // how the process ended ("signal: killed"), if it died
	Panic  string // the panic value and stack, or the resolver's error
	Stderr string // the last lines the worker wrote to stderr, if it died
}

func (e *WorkerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "procpool: worker %d (pid %d) ", e.Index, e.Pid)
	if e.Status != "" {
		fmt.Fprintf(&b, "died (%s)", e.Status)
	} else {
		b.WriteString("failed")
	}
	if e.Chunk >= 0 {
		fmt.Fprintf(&b, " holding chunk %d", e.Chunk)
	} else if e.Status != "" {
		b.WriteString(" between chunks")
	}
	if e.Panic != "" {
		fmt.Fprintf(&b, ": %s", e.Panic)
	}
	if e.Stderr != "" {
		fmt.Fprintf(&b, "\nits stderr ended with:\n%s", e.Stderr)
	}
	return b.String()
}

// A StuckError reports a job whose context ended (its deadline passed, or
// it was cancelled) before every worker had finished its part. It names
// each unfinished worker, what the kernel said it was doing and the chunk
// it held; those workers were killed and are replaced before the next job,
// so the pool stays usable. errors.Is(err, context.DeadlineExceeded) (or
// context.Canceled) holds for it.
type StuckError struct {
	Err     error         // the context's error
	Elapsed time.Duration // how long the job had run when the context ended
	Workers []StuckWorker // the workers that had not finished, by index
}

// StuckWorker is a worker that had not finished its part of a job when the
// job's context ended.
type StuckWorker struct {
	Index int
	Pid   int
	// State is the process's state letter in /proc/<pid>/stat just
	// before it was killed ('R' running, 'S' sleeping, 'D'
	// uninterruptible, 'T' stopped, 't' traced, 'Z' zombie), or 0 if it
	// could not be read; StateWord says it in a word.
	State     byte
	StateWord string
	Chunk     int64         // the chunk in hand, or -1
	Held      time.Duration // how long it had held Chunk
	Stderr    string        // the last lines it wrote to stderr
}

func (e *StuckError) Unwrap() error { return e.Err }

func (e *StuckError) Error() string {
	var b strings.Builder
	what := "timed out"
	if !errors.Is(e.Err, context.DeadlineExceeded) {
		what = "stopped (" + e.Err.Error() + ")"
	}
	fmt.Fprintf(&b, "procpool: job %s after %v", what, e.Elapsed.Round(time.Millisecond))
	if len(e.Workers) == 0 {
		b.WriteString("; no worker was left busy")
		return b.String()
	}
	for i, w := range e.Workers {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		if w.State != 0 {
			fmt.Fprintf(&b, "%sworker %d (pid %d, %c %s) ", sep, w.Index, w.Pid, w.State, w.StateWord)
		} else {
			fmt.Fprintf(&b, "%sworker %d (pid %d, state unknown) ", sep, w.Index, w.Pid)
		}
		if w.Chunk >= 0 {
			fmt.Fprintf(&b, "holding chunk %d for %v", w.Chunk, w.Held.Round(100*time.Microsecond))
		} else {
			b.WriteString("holding no chunk")
		}
	}
	if len(e.Workers) == 1 {
		b.WriteString("; killed and replaced")
	} else {
		b.WriteString("; all killed and replaced")
	}
	for _, w := range e.Workers {
		if w.Stderr != "" {
			fmt.Fprintf(&b, "\nworker %d's stderr ended with:\n%s", w.Index, w.Stderr)
		}
	}
	return b.String()
}

// A Pool is a set of worker processes that run jobs over a shared Region.
// It runs one job at a time, using every worker; jobs submitted while one
// runs wait their turn in submission order. Its methods may be called from
// any goroutine.
type Pool struct {
	region  *Region
	cb      *controlBlock
	size    int
	exe     string
	stderr  io.Writer
	startup time.Duration

	events  chan event    // fail and death reports from the readers
	bell    *doorbell     // wakes a parent waiting for a job
	stop    chan struct{} // closed when the pool has shut down
	shut    sync.Once     // starts the shutdown
	down    chan struct{} // closed once shutdown is complete
	downErr error

	// Held only by the job that has its turn (and by shutdown):
	seq int64

	mu         sync.Mutex
	workers    []*worker
	tail       chan struct{} // closed when the last queued job is finished
	closed     bool          // no new jobs
	terminated bool          // queued jobs are refused too
}

type worker struct {
	index  int
	cmd    *exec.Cmd
	pid    int
	ready  chan error
	exited chan struct{} // closed once the process has been reaped
	status string        // how it ended, once exited is closed
	stderr *tail.Buffer  // the last of its stderr, for error reports
	// reported is set once a job has reported the worker's death, or the
	// pool killed it: only other deaths are news to the next job.
	reported bool
}

type event struct {
	w    *worker
	msg  message
	died bool
}

func (w *worker) alive() bool {
	select {
	case <-w.exited:
		return false
	default:
		return true
	}
}

// New starts a pool of workers processes that share region (0 means
// runtime.NumCPU(), as Python's Pool(processes=None)). Each worker is this
// program re-executed; it must call Serve first thing. New returns when every
// worker is ready to run jobs.
func New(region *Region, workers int) (*Pool, error) {
	return NewWithStderr(region, workers, os.Stderr)
}

// NewWithStderr is New with the workers' standard error sent to stderr
// (nil discards it). A worker's last stderr lines also appear in the error
// reporting its death.
func NewWithStderr(region *Region, workers int, stderr io.Writer) (*Pool, error) {
	start := time.Now()
	if IsWorker() {
		return nil, errors.New("procpool: New called inside a worker process")
	}
	if region == nil || region.mem == nil {
		return nil, errors.New("procpool: New needs an open region")
	}
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	if workers < 0 || workers > MaxWorkers {
		return nil, fmt.Errorf("procpool: workers %d: want 1 to %d", workers, MaxWorkers)
	}
	if err := checkLimits(workers); err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("procpool: finding this program to start workers: %w", err)
	}
	cb, err := newControlBlock(workers)
	if err != nil {
		return nil, err
	}
	bell, err := newDoorbell()
	if err != nil {
		cb.close()
		return nil, err
	}
	if stderr == nil {
		stderr = io.Discard
	}
	p := &Pool{
		region: region,
		cb:     cb,
		bell:   bell,
		size:   workers,
		exe:    exe,
		stderr: stderr,
		events: make(chan event, 2*MaxWorkers+16),
		stop:   make(chan struct{}),
		down:   make(chan struct{}),
		tail:   make(chan struct{}),
	}
	close(p.tail)
	p.workers = make([]*worker, workers)
	err = p.spawnAll(p.workers, func(i int) int { return i })
	if err == nil {
		err = p.awaitReady(p.workers)
	}
	if err != nil {
		p.Terminate()
		return nil, err
	}
	p.startup = time.Since(start)
	return p, nil
}

// stderrTail is how much of a worker's stderr its error reports quote.
const stderrTail = 2 << 10

// startTimeout bounds how long a worker may take to report ready.
const startTimeout = 10 * time.Second

// startConcurrency is how many workers start at once: one per CPU, and at
// least 16. A start is mostly the child's exec, runtime start-up and
// package initialisation (several milliseconds of a corescale binary's),
// which run on the child's CPU: on a machine with many CPUs, starting them
// side by side divides the pool's start-up time, and the bound keeps a big
// pool from holding every start's descriptors at once, or forking faster
// than the machine can run them.
var startConcurrency = max(16, runtime.NumCPU())

// spawnAll starts workers ws[i] as worker index(i), startConcurrency at
// a time, and returns the first error. A slot whose start failed is left
// nil.
func (p *Pool) spawnAll(ws []*worker, index func(int) int) error {
	errs := make([]error, len(ws))
	sem := make(chan struct{}, startConcurrency)
	var wg sync.WaitGroup
	for i := range ws {
		sem <- struct{}{}
		wg.Go(func() {
			ws[i], errs[i] = p.spawn(index(i))
			<-sem
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// spawn starts worker index. It does not wait for the worker to be ready.
func (p *Pool) spawn(index int) (*worker, error) {
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("procpool: pipe: %w", err)
	}
	s := &p.cb.slots[index]
	s.chunk.Store(-1)
	s.doneSeq.Store(p.seq)

	w := &worker{index: index, ready: make(chan error, 1), exited: make(chan struct{}), stderr: tail.Through(p.stderr, stderrTail)}
	// The arguments keep a test binary whose TestMain lacks Serve from
	// running its tests in the worker.
	w.cmd = exec.Command(p.exe, "-test.run=^$", "-test.bench=^$")
	w.cmd.Env = append(os.Environ(),
		fmt.Sprintf("%s=%d:%d:%d", envWorker, index, os.Getpid(), p.region.size),
		"GOMAXPROCS=1", workerGodebug(), workerGorace())
	// Stdin stays /dev/null: nothing goes from the parent to a worker but
	// the control block.
	w.cmd.Stdout, w.cmd.Stderr = stdoutW, w.stderr
	w.cmd.ExtraFiles = []*os.File{p.cb.file, p.region.file, p.bell.file} // fds 3, 4 and 5
	// A worker dies with the thread that started it. Starting it from a
	// fresh goroutine keeps that thread from being one the caller locked
	// and may let exit; the runtime never ends other threads.
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error)
	go func() { started <- startWithTimerSlack(w.cmd) }()
	err = <-started
	stdoutW.Close()
	if err != nil {
		stdoutR.Close()
		return nil, fmt.Errorf("procpool: starting worker %d: %w", index, err)
	}
	w.pid = w.cmd.Process.Pid
	go p.read(w, stdoutR)
	return w, nil
}

// workerTimerSlack is the timer slack workers start with: how late the
// kernel may fire their timers, to batch wake-ups. A worker's runtime
// monitor (sysmon), woken with the first job after a deep sleep (see
// holdFor), polls every 20 us for its first fifty looks, then ever less
// often: that is 50-60 wake-ups, each taking the core from a worker that
// computes, at the start of every job that finds a pool cold, as every job
// of a sweep does. With 10 ms of slack those looks come at most about every
// 10 ms, sysmon's relaxed rate: a 50 ms job counted 67 context switches of
// its worker with the kernel's default of 50 us, and 9 with 10 ms, as many
// as a worker that was never cold. A worker has no timer that needs more
// precision: it waits on a futex, and its chunks compute.
const workerTimerSlack = 10 * time.Millisecond

// startWithTimerSlack starts cmd with workerTimerSlack. Slack is inherited
// from the thread that forks and kept across exec, so the goroutine sets it
// on its thread for the start and puts it back; the thread is locked only
// while that lasts, so it never exits (see spawn on Pdeathsig).
func startWithTimerSlack(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || prev <= 0 {
		return cmd.Start() // no slack to set and restore
	}
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(workerTimerSlack), 0, 0, 0)
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(prev), 0, 0, 0)
	return cmd.Start()
}

// workerGodebug returns the worker's GODEBUG: the parent's, plus
// asyncpreemptoff=1. A worker first waits for a job in a raw futex wait the
// runtime cannot see (see holdFor), so its monitor thread would otherwise
// signal the sleeping thread every 10 ms to preempt a goroutine that is not
// running, waking it on a core a busy worker needs. A worker runs one
// goroutine: it has nothing to preempt for.
func workerGodebug() string {
	if v := os.Getenv("GODEBUG"); v != "" {
		return "GODEBUG=" + v + ",asyncpreemptoff=1"
	}
	return "GODEBUG=asyncpreemptoff=1"
}

// workerGorace returns the worker's GORACE: the parent's, plus
// atexit_sleep_ms=0. A race-instrumented program sleeps a second at exit
// by default, to catch races of its last goroutines; a worker runs one,
// and that second made every Close of a race-built pool take a second, or
// on a loaded machine more than exitGrace, after which the workers were
// killed and Close failed. The option matters only to race builds.
func workerGorace() string {
	if v := os.Getenv("GORACE"); v != "" {
		return "GORACE=" + v + " atexit_sleep_ms=0"
	}
	return "GORACE=atexit_sleep_ms=0"
}

// read forwards a worker's messages until its pipe closes, then reaps it.
func (p *Pool) read(w *worker, stdout *os.File) {
	r := bufio.NewReader(stdout)
	protocolErr := ""
	for {
		m, err := readMessage(r)
		if err != nil {
			if err != io.EOF {
				protocolErr = err.Error()
				_ = w.cmd.Process.Kill()
			}
			break
		}
		switch m.kind {
		case kindReady:
			if m.pid != int64(w.pid) {
				protocolErr = fmt.Sprintf("ready from pid %d", m.pid)
				_ = w.cmd.Process.Kill()
			}
			select {
			case w.ready <- nil:
			default: // a second ready is harmless
			}
		case kindFail:
			p.deliver(event{w: w, msg: m})
		default:
			protocolErr = fmt.Sprintf("unexpected message kind %q", m.kind)
			_ = w.cmd.Process.Kill()
		}
	}
	stdout.Close()
	err := w.cmd.Wait()
	switch {
	case protocolErr != "":
		w.status = "protocol error: " + protocolErr
	case err != nil:
		w.status = err.Error()
	default:
		w.status = w.cmd.ProcessState.String()
	}
	close(w.exited)
	p.deliver(event{w: w, died: true})
}

// deliver hands ev to the job waiting for it, and rings the bell in case
// that job sleeps.
func (p *Pool) deliver(ev event) {
	select {
	case p.events <- ev:
		p.bell.ring()
	case <-p.stop:
	}
}

func (p *Pool) awaitReady(ws []*worker) error {
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	for _, w := range ws {
		select {
		case <-w.ready:
		case <-w.exited:
			return &WorkerError{Index: w.index, Pid: w.pid, Chunk: -1, Status: w.status,
				Panic:  "exited before it was ready (does the program call procpool.Serve first in main or TestMain?)",
				Stderr: strings.TrimSpace(w.stderr.String())}
		case <-timer.C:
			return fmt.Errorf("procpool: worker %d (pid %d) not ready after %v", w.index, w.pid, startTimeout)
		}
	}
	return nil
}

// Size returns the number of workers.
func (p *Pool) Size() int { return p.size }

// Startup returns how long New took to have every worker ready.
func (p *Pool) Startup() time.Duration { return p.startup }

// Workers describes the worker processes. A worker that died is replaced
// before the next job runs.
func (p *Pool) Workers() []WorkerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	infos := make([]WorkerInfo, len(p.workers))
	for i, w := range p.workers {
		infos[i] = WorkerInfo{Index: i, Pid: w.pid, Alive: w.alive()}
	}
	return infos
}

// Run runs job and returns when it is finished, like Python's Pool.map.
//
// The context's deadline is the job's timeout, and the pool's watchdog: a
// worker that is stopped (SIGSTOP), blocked, or running a chunk that never
// ends holds the job up until then, and only a deadline ends the wait
// (Run without one waits as long as it takes). When the deadline passes,
// or ctx is cancelled, while the job runs, the workers still busy with it
// are killed (and replaced before the next job) and Run returns a
// *StuckError naming them, which wraps ctx's error. Time spent waiting for
// the turn counts against the deadline too; if ctx ends then, Run returns
// ctx's error and the job never runs. If a worker dies or a chunk panics,
// Run returns a *WorkerError. Either way the pool stays usable.
func (p *Pool) Run(ctx context.Context, job Job) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	prev, mine, err := p.enqueue()
	if err != nil {
		return Result{}, err
	}
	select {
	case <-prev:
	case <-ctx.Done():
		go func() { <-prev; close(mine) }()
		return Result{}, ctx.Err()
	}
	defer close(mine)
	return p.runTurn(ctx, job)
}

// WakeFor wakes the pool's idle workers, spreads them over the CPUs their
// masks allow (see spread), and keeps them watching for a job, spinning,
// for d: a job published within d starts at once, on every worker's own
// CPU, as it would in a stream of jobs that follow each other closely,
// instead of paying each sleeping worker's wake-up (tens to hundreds of
// microseconds; see BenchmarkRoundTripAfterIdle). It returns once every
// worker is awake, or d has passed. The next job, or d's end, sends them
// back to sleep. Like a job, it waits for the jobs queued before it.
func (p *Pool) WakeFor(d time.Duration) error {
	prev, mine, err := p.enqueue()
	if err != nil {
		return err
	}
	defer close(mine)
	<-prev
	p.mu.Lock()
	workers := slices.Clone(p.workers)
	p.mu.Unlock()
	c := p.cb
	for i := range workers {
		c.slots[i].awakeOn.Store(0)
	}
	start := time.Now()
	c.awakeUntil.Store(monotonicNs(start.Add(d)))
	c.ringWorkers()
	for i := 1; !p.allAwake(workers); i++ {
		if i%64 == 0 {
			if time.Since(start) > d {
				return nil
			}
			yield()
		}
	}
	p.spread(workers)
	return nil
}

// allAwake reports whether every worker is awake and has said on which
// CPU. (Not the sleepers count: a worker killed in its sleep leaves it
// counted for good.)
func (p *Pool) allAwake(workers []*worker) bool {
	for i := range workers {
		if p.cb.slots[i].awakeOn.Load() == 0 {
			return false
		}
	}
	return true
}

// spread moves every worker that shares a CPU with another one to a CPU
// that no worker is on, within its own mask, and gives it its mask back.
//
// Woken all at once by a parent that holds a CPU itself, the workers are
// placed by the kernel one after another, and one that finds no idle CPU
// is queued behind another worker: of 150 alternated runs of matmul at 2
// workers on 2 CPUs, 16 began with both workers on one CPU and waited 45%
// of their worker time for it (the median), the other 134 waited 1.3%. A
// worker spinning beside another stays cache-hot to the kernel, which
// leaves it there for milliseconds. Moved before the job, it runs the job
// where it would have run in a stream of jobs. Where workers outnumber
// the CPUs, or a worker's mask has no free CPU, it stays. A worker alone
// on the parent's CPU stays too: there it waits for the parent to publish,
// spin and park (100-150 us on a 2-vCPU KVM guest), but moved, matmul 512
// at one worker ran about 2% slower (5 alternated pairs of sweeps; its
// packing workspace cold in the other core's L2, we suspect).
func (p *Pool) spread(workers []*worker) {
	cpus := make([]int, len(workers))
	tids := make([]int, len(workers)) // the threads the workers spin on
	for i := range workers {
		cpus[i] = int(p.cb.slots[i].awakeOn.Load()) - 1
		if tids[i] = int(p.cb.slots[i].awakeTid.Load()); tids[i] == 0 {
			tids[i] = workers[i].pid
		}
	}
	masks := make(map[int]unix.CPUSet)
	allowed := func(i int) func(cpu int) bool {
		var mask unix.CPUSet
		if err := unix.SchedGetaffinity(tids[i], &mask); err != nil {
			return func(int) bool { return false } // it died: the job reports it
		}
		masks[i] = mask
		return func(cpu int) bool { return cpu < len(mask)*64 && mask.IsSet(cpu) }
	}
	// The parent's CPU is a last resort: it sleeps through jobs.
	for i, to := range spreadMoves(cpus, allowed, currentCPU()) {
		var one unix.CPUSet
		one.Set(to)
		mask := masks[i]
		if unix.SchedSetaffinity(tids[i], &one) == nil {
			_ = unix.SchedSetaffinity(tids[i], &mask)
		}
	}
}

// spreadMoves returns the moves, worker index to CPU, that leave no two
// workers on one CPU: workers[i] is on cpus[i], and allowed(i) says which
// CPUs it may run on (asked only of workers that share a CPU). The first
// worker on a CPU stays; the others go to CPUs no worker is on, other than
// last where they can; one with nowhere to go stays.
func spreadMoves(cpus []int, allowed func(i int) func(cpu int) bool, last int) map[int]int {
	taken := map[int]bool{}
	var stacked []int
	for i, cpu := range cpus {
		if taken[cpu] {
			stacked = append(stacked, i)
		}
		taken[cpu] = true
	}
	moves := map[int]int{}
	for _, i := range stacked {
		ok := allowed(i)
		to := -1
		for cpu := range maxCPUs {
			if ok(cpu) && !taken[cpu] && (to < 0 || to == last) {
				to = cpu
			}
		}
		if to >= 0 {
			moves[i], taken[to] = to, true
		}
	}
	return moves
}

// maxCPUs is the number of CPUs an affinity mask can name.
const maxCPUs = len(unix.CPUSet{}) * 64

// A Call is a job submitted with Submit, like Python's AsyncResult.
type Call struct {
	done chan struct{}
	res  Result
	err  error
}

// Submit queues job and returns at once, like Python's Pool.apply_async.
func (p *Pool) Submit(ctx context.Context, job Job) *Call {
	c := &Call{done: make(chan struct{})}
	prev, mine, err := p.enqueue()
	if err != nil {
		c.err = err
		close(c.done)
		return c
	}
	go func() {
		defer close(c.done)
		defer close(mine)
		select {
		case <-prev:
		case <-ctx.Done():
			<-prev
			c.err = ctx.Err()
			return
		}
		c.res, c.err = p.runTurn(ctx, job)
	}()
	return c
}

// Done is closed when the job is finished.
func (c *Call) Done() <-chan struct{} { return c.done }

// Wait waits up to timeout (forever if timeout <= 0) for the job, like
// AsyncResult.get(timeout). On ErrTimeout the job goes on; Wait may be
// called again.
func (c *Call) Wait(timeout time.Duration) (Result, error) {
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
			return Result{}, ErrTimeout
		}
	}
	<-c.done
	return c.res, c.err
}

// enqueue takes a place in the job queue: the job may run once prev is
// closed, and must close mine when it is finished.
func (p *Pool) enqueue() (prev <-chan struct{}, mine chan struct{}, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, ErrClosed
	}
	prev, mine = p.tail, make(chan struct{})
	p.tail = mine
	return prev, mine, nil
}

// runTurn runs job; the caller has the turn.
func (p *Pool) runTurn(ctx context.Context, job Job) (Result, error) {
	if job.Chunks < 0 {
		return Result{}, fmt.Errorf("procpool: job with %d chunks", job.Chunks)
	}
	if len(job.Task) > maxTask {
		return Result{}, fmt.Errorf("procpool: task of %d bytes, more than %d", len(job.Task), maxTask)
	}
	if job.Sched != Dynamic && job.Sched != Static {
		return Result{}, fmt.Errorf("procpool: unknown sched %v", job.Sched)
	}
	workers, replaced, err := p.prepare()
	if err != nil {
		return Result{}, err
	}
	c := p.cb
	p.seq++
	seq := p.seq
	c.chunks, c.sched, c.taskLen = int64(job.Chunks), int64(job.Sched), int64(len(job.Task))
	copy(c.task[:], job.Task)
	c.next.Store(0)
	c.abort.Store(0)
	c.remaining.Store(int64(len(workers)))
	c.parent.Store(awake)

	start := time.Now()
	c.jobSeq.Store(seq) // publish
	c.ringWorkers()
	// Once this job is done, idle workers sleep again. Not before it is
	// published: a worker woken for it (WakeFor) would go back to sleep.
	c.awakeUntil.Store(0)
	failures, err := p.await(ctx, seq, workers, start)
	wall := time.Since(start)
	if err != nil {
		return Result{}, err
	}
	res := Result{Wall: wall, Workers: make([]WorkerStats, len(workers)), Replaced: replaced}
	for i := range workers {
		s := &c.slots[i]
		res.Workers[i] = WorkerStats{Chunks: int(s.chunks.Load()), Busy: time.Duration(s.busyNs.Load()),
			CPU: time.Duration(s.cpuNs.Load()), RunDelay: time.Duration(s.runDelayNs.Load()),
			Span: time.Duration(max(0, s.finishNs.Load()-monotonicNs(start)))}
		if s.failSeq.Load() == seq && failures[i] == nil {
			failures[i] = p.awaitFailure(seq, workers[i])
		}
	}
	for _, f := range failures {
		if f != nil {
			return res, f
		}
	}
	return res, nil
}

// prepare drops stale reports and replaces dead workers before a job. It
// returns the workers of the job and the errors of deaths no job has
// reported yet (a worker that died between jobs).
func (p *Pool) prepare() ([]*worker, []*WorkerError, error) {
	// Stale reports go first: a death after this point is reported to the
	// job, whose worker it is.
	for drained := false; !drained; {
		select {
		case <-p.events:
		default:
			drained = true
		}
	}
	p.mu.Lock()
	if p.terminated {
		p.mu.Unlock()
		return nil, nil, ErrClosed
	}
	var dead []int
	var unreported []*WorkerError
	for i, w := range p.workers {
		if w.alive() {
			continue
		}
		if !w.reported {
			unreported = append(unreported, p.deathError(w))
		}
		dead = append(dead, i)
	}
	fresh := make([]*worker, len(dead))
	err := p.spawnAll(fresh, func(i int) int { return dead[i] })
	for i, w := range fresh {
		if w != nil {
			p.workers[dead[i]] = w
		}
	}
	workers := p.workers
	p.mu.Unlock()
	if err == nil {
		err = p.awaitReady(fresh)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("procpool: replacing a dead worker: %w", err)
	}
	return workers, unreported, nil
}

// await waits until every worker has finished job seq. It returns the
// failures workers reported along the way, indexed by worker, or an error
// that ends the job: a death, or ctx's end.
//
// It spins briefly, then sleeps on the doorbell, which the last worker to
// finish rings (if it finds the parent asleep), as do the readers when they
// deliver an event and ctx when it ends. It sleeps holding its P
// (doorbell.hold), in naps of at most holdNap, so that the runtime's
// monitor thread (sysmon) stays at its relaxed rate through the job and
// after it. A nap in a plain system call lets sysmon take the P; a
// goroutine parked in the poller lets it sleep deeply, and the wake-up
// after the job restarts it at a look every 20 us, under the next run.
// Of 10 jobs of 60 ms on 2 CPUs, the parent's threads switched out 32-36
// times a job napping (TestAParentSleepsThroughLongJobs).
func (p *Pool) await(ctx context.Context, seq int64, workers []*worker, published time.Time) ([]*WorkerError, error) {
	c := p.cb
	failures := make([]*WorkerError, len(workers))
	start := time.Now()
	for i := 1; c.remaining.Load() != 0; i++ {
		if i%64 == 0 {
			if time.Since(start) > spinFor {
				break
			}
			yield()
		}
	}
	stop := context.AfterFunc(ctx, p.bell.ring)
	defer stop()
	for {
		c.parent.Store(asleep)
		if c.remaining.Load() == 0 {
			c.parent.Store(awake) // the bell may ring yet: the next wait skips past it
			return failures, nil
		}
		select {
		case ev := <-p.events:
			switch {
			case ev.died:
				if c.slots[ev.w.index].doneSeq.Load() != seq && workers[ev.w.index] == ev.w {
					ev.w.reported = true
					e := p.deathError(ev.w)
					p.abandon(seq, workers, 250*time.Millisecond)
					return nil, e
				}
			case ev.msg.kind == kindFail && ev.msg.seq == seq:
				failures[ev.w.index] = failureError(ev.w, ev.msg)
			}
			continue
		default:
		}
		if err := ctx.Err(); err != nil {
			elapsed := time.Since(published)
			// Even if every worker finishes in the meantime, the job
			// fails: once abort is set, chunks may go unclaimed.
			return nil, &StuckError{Err: err, Elapsed: elapsed, Workers: p.abandon(seq, workers, 0)}
		}
		p.bell.hold()
		runtime.Gosched() // a new scheduling round: see doorbell.hold
	}
}

// abandon stops job seq: no more chunks are claimed, workers still busy
// after grace are killed, and abandon returns once they are reaped. It
// describes the killed workers as they were just before the kill.
func (p *Pool) abandon(seq int64, workers []*worker, grace time.Duration) []StuckWorker {
	c := p.cb
	c.abort.Store(1)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) && !p.allDone(seq, workers) {
		time.Sleep(time.Millisecond)
	}
	var killed []StuckWorker
	for i, w := range workers {
		if c.slots[i].doneSeq.Load() != seq && w.alive() {
			killed = append(killed, p.describe(w))
			w.reported = true
			_ = w.cmd.Process.Kill() // SIGKILL ends a stopped process too
		}
	}
	for _, w := range workers {
		if c.slots[w.index].doneSeq.Load() != seq {
			<-w.exited
		}
	}
	for i := range killed {
		killed[i].Stderr = strings.TrimSpace(workers[killed[i].Index].stderr.String())
	}
	return killed
}

// describe says what worker w is doing now: its process state and the
// chunk it holds.
func (p *Pool) describe(w *worker) StuckWorker {
	s := &p.cb.slots[w.index]
	sw := StuckWorker{Index: w.index, Pid: w.pid, Chunk: s.chunk.Load(), StateWord: "unknown"}
	if sw.Chunk >= 0 {
		sw.Held = time.Duration(monotonicNs(time.Now()) - s.claimedNs.Load())
	}
	if st, err := procstat.Read(w.pid); err == nil {
		sw.State, sw.StateWord = byte(st.State), st.State.Word()
	}
	return sw
}

func (p *Pool) allDone(seq int64, workers []*worker) bool {
	for i, w := range workers {
		if p.cb.slots[i].doneSeq.Load() != seq && w.alive() {
			return false
		}
	}
	return true
}

func (p *Pool) deathError(w *worker) *WorkerError {
	<-w.exited
	return &WorkerError{Index: w.index, Pid: w.pid, Chunk: p.cb.slots[w.index].chunk.Load(),
		Status: w.status, Stderr: strings.TrimSpace(w.stderr.String())}
}

func failureError(w *worker, m message) *WorkerError {
	return &WorkerError{Index: w.index, Pid: w.pid, Chunk: m.chunk, Panic: m.text}
}

// awaitFailure waits for the report of a failure worker w flagged in job
// seq. The report was written before the job was marked done, so it comes
// promptly unless the worker died after writing the flag.
func (p *Pool) awaitFailure(seq int64, w *worker) *WorkerError {
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for {
		select {
		case ev := <-p.events:
			if ev.w == w && ev.msg.kind == kindFail && ev.msg.seq == seq {
				return failureError(w, ev.msg)
			}
			if ev.w == w && ev.died {
				w.reported = true
				return p.deathError(w)
			}
		case <-timer.C:
			return &WorkerError{Index: w.index, Pid: w.pid, Chunk: -1, Panic: "reported a failure but sent no details"}
		}
	}
}

// Close stops the pool taking new jobs, like Python's Pool.close: jobs
// already submitted still run, then the workers exit. Call Wait to wait for
// that. Close returns ErrClosed if the pool was already closed or
// terminated, nil otherwise.
func (p *Pool) Close() error {
	p.mu.Lock()
	was := p.closed
	p.closed = true
	p.mu.Unlock()
	if was {
		return ErrClosed
	}
	p.shutdown()
	return nil
}

// Terminate kills the workers now, like Python's Pool.terminate: the running
// job fails, queued jobs return ErrClosed. It returns when every worker has
// been reaped and the pool's resources are released, with what Wait would
// return; a Terminate after Close is how to stop waiting for the workers to
// finish their jobs. A second Terminate waits likewise and returns
// ErrClosed.
func (p *Pool) Terminate() error {
	p.mu.Lock()
	was := p.terminated
	p.closed, p.terminated = true, true
	for _, w := range p.workers {
		if w != nil && !was {
			_ = w.cmd.Process.Kill()
		}
	}
	p.mu.Unlock()
	p.shutdown()
	<-p.down
	if was {
		return ErrClosed
	}
	return p.downErr
}

// Wait waits for the workers to exit after Close or Terminate, like
// Python's Pool.join. It reports workers that did not exit cleanly.
func (p *Pool) Wait() error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if !closed {
		return errors.New("procpool: Wait before Close or Terminate")
	}
	<-p.down
	return p.downErr
}

// exitGrace is how long workers get to exit after Close before they are
// killed.
const exitGrace = 2 * time.Second

func (p *Pool) shutdown() {
	p.shut.Do(func() {
		p.mu.Lock()
		last := p.tail
		p.mu.Unlock()
		go func() {
			<-last // queued jobs first
			p.mu.Lock()
			workers := p.workers
			p.mu.Unlock()
			p.cb.closing.Store(1)
			p.cb.ringWorkers()
			var errs []error
			killed := map[*worker]bool{}
			timer := time.NewTimer(exitGrace)
			for _, w := range workers {
				if w == nil {
					continue
				}
				select {
				case <-w.exited:
				case <-timer.C:
					for _, w := range workers {
						if w != nil && w.alive() {
							_ = w.cmd.Process.Kill()
							killed[w] = true
							errs = append(errs, fmt.Errorf("procpool: worker %d (pid %d) did not exit within %v of Close; killed", w.index, w.pid, exitGrace))
						}
					}
					<-w.exited
				}
			}
			timer.Stop()
			// Read once every worker has exited: Terminate sets the
			// flag before it kills, so a worker it killed is never
			// reported as failing to exit cleanly.
			p.mu.Lock()
			terminated := p.terminated
			p.mu.Unlock()
			for _, w := range workers {
				if w == nil || killed[w] || terminated {
					continue
				}
				if st := w.cmd.ProcessState; st != nil && !st.Success() {
					errs = append(errs, fmt.Errorf("procpool: worker %d (pid %d) exited: %s", w.index, w.pid, w.status))
				}
			}
			close(p.stop) // readers stop delivering
			if err := p.cb.close(); err != nil {
				errs = append(errs, err)
			}
			if err := p.bell.close(); err != nil {
				errs = append(errs, err)
			}
			p.downErr = errors.Join(errs...)
			close(p.down)
		}()
	})
}

// Descriptors the parent holds per worker: its stdout's and stderr's read
// ends and its pidfd; while a worker starts, four more (the child's ends
// of both pipes, its /dev/null, exec's error pipe... rounded up), for each
// of the startConcurrency starting at once; and the pool's control block
// and doorbell are two more.
const (
	descriptorsPerWorker = 3
	descriptorsPerStart  = 6
)

// descriptorsNeeded is how many descriptors, beyond those open, a pool of
// workers holds at most.
func descriptorsNeeded(workers int) int {
	return 2 + descriptorsPerWorker*workers + descriptorsPerStart*min(workers, startConcurrency)
}

// checkLimits fails, before any worker starts, when the descriptor limit
// cannot hold the pool: a pool that runs out of descriptors halfway
// through starting would fail with a less clear error, late.
func checkLimits(workers int) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return nil // nothing to check against
	}
	open := 0
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		open = len(fds)
	}
	need := open + descriptorsNeeded(workers)
	if lim.Cur != unix.RLIM_INFINITY && uint64(need) > lim.Cur {
		return fmt.Errorf("procpool: %d workers need about %d open descriptors (%d open now, %d per worker), but the limit is %d: raise it (ulimit -n) or use fewer workers",
			workers, need, open, descriptorsPerWorker, lim.Cur)
	}
	// The process limit counts every thread of the user, and is not
	// enforced for root.
	if os.Geteuid() != 0 && unix.Getrlimit(unix.RLIMIT_NPROC, &lim) == nil && lim.Cur != unix.RLIM_INFINITY {
		if err := checkThreads(workers, userThreads(os.Getuid()), lim.Cur); err != nil {
			return err
		}
	}
	return nil
}

// threadsPerWorker is how many threads a worker runs, rounded up: its
// locked main thread, the runtime's monitor and a spare or two (4 counted
// with GOMAXPROCS=1, under -race too).
const threadsPerWorker = 6

// checkThreads fails when workers, on top of the user's threads now,
// would pass the process limit (RLIMIT_NPROC counts threads).
func checkThreads(workers, threads int, limit uint64) error {
	if need := threads + threadsPerWorker*workers; uint64(need) > limit {
		return fmt.Errorf("procpool: %d workers need about %d threads of this user (%d running now, %d per worker), but the process limit is %d: raise it (ulimit -u) or use fewer workers",
			workers, need, threads, threadsPerWorker, limit)
	}
	return nil
}

// userThreads counts the threads of the processes whose real user is uid,
// as the kernel counts them against RLIMIT_NPROC; processes it cannot read
// are skipped.
func userThreads(uid int) int {
	procs, _ := os.ReadDir("/proc")
	total := 0
	for _, p := range procs {
		if p.Name()[0] < '0' || p.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + p.Name() + "/status")
		if err != nil {
			continue
		}
		var real, threads int
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				real, _ = strconv.Atoi(strings.Fields(v)[0])
			} else if v, ok := strings.CutPrefix(line, "Threads:"); ok {
				threads, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if real == uid {
			total += threads
		}
	}
	return total
}
