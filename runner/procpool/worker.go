package procpool

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/corescale/corescale/internal/cputime"
	"golang.org/x/sys/unix"
)

// envWorker marks a process started as a worker; its value is
// "index:parent-pid:region-size".
const envWorker = "CORESCALE_PROCPOOL_WORKER"

// A Resolver turns a job's task descriptor into the function that runs one
// chunk, over data, the worker's mapping of the pool's region. Workers call
// it when a job's task differs from the previous job's, so it may do real
// work (parse, check, build views) once per task.
type Resolver func(task []byte, data []byte) (func(chunk int), error)

// Serve turns this process into a pool worker if it was started as one, and
// never returns then; otherwise it returns at once. Call it first thing in
// main, and in TestMain before m.Run, with the Resolver for the tasks this
// program's pools will run.
func Serve(resolve Resolver) {
	marker, ok := os.LookupEnv(envWorker)
	if !ok {
		return
	}
	os.Exit(serve(marker, resolve))
}

// IsWorker reports whether this process was started as a pool worker.
func IsWorker() bool {
	_, ok := os.LookupEnv(envWorker)
	return ok
}

// Exit statuses of a worker that gives up before it is ready.
const (
	exitBadStart = 3 // marker, descriptors or control block unusable
	exitOrphan   = 4 // the parent died before the worker started
)

type workerProc struct {
	index, workers int
	ppid           int
	c              *control
	slot           *slot
	data           []byte
	out            *os.File // to the parent
	resolve        Resolver
	task           []byte // the task the chunk function was resolved for
	chunk          func(int)
	frame          []byte
	sched          *cputime.Thread // schedstat of thread tid, or nil
	tid            int
}

// jobStats is a worker's share of a job, as its slot reports it.
type jobStats struct {
	chunks         int64
	busy, cpu, run time.Duration // run: run-queue delay
}

func serve(marker string, resolve Resolver) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "procpool worker: "+format+"\n", args...)
		return exitBadStart
	}
	// The worker's one goroutine is not locked to its thread. The runtime
	// preempts a goroutine that has run for 10 ms (its monitor, sysmon,
	// asks it to yield at its next function call), and a worker's
	// goroutine never blocks in the runtime's sight, so it is asked every
	// 10 ms of a job, and at once when it wakes from a deep sleep, since
	// the monitor last saw it scheduled before that sleep. Locked to its
	// thread, it then hands its P to another thread, which hands it back:
	// two wake-ups, often across CPUs. On a 2-vCPU KVM guest that took the
	// worker off its CPU for 30-85 us about once a 50 ms job, and delayed
	// a job published just after a wake-up by as much again. Unlocked, with
	// GOMAXPROCS=1 and nothing else to run, it resumes on the same thread
	// at once. It can still change threads where a blocking system call
	// returns to find its P taken (after a deep sleep, say), so the worker
	// says which thread it is on (slot.awakeTid, for spread), and
	// runChunks falls back on the process's CPU clock where the chunks
	// did not run on one thread.
	var index, ppid, size int
	parts := strings.Split(marker, ":")
	if len(parts) != 3 {
		return fail("bad %s=%q", envWorker, marker)
	}
	for i, dst := range []*int{&index, &ppid, &size} {
		v, err := strconv.Atoi(parts[i])
		if err != nil || v < 0 {
			return fail("bad %s=%q", envWorker, marker)
		}
		*dst = v
	}
	// Pdeathsig only covers a parent that dies after the worker started.
	if os.Getppid() != ppid {
		return exitOrphan
	}
	// Ctrl-C, and a SIGTERM sent to the process group (timeout, kill
	// -TERM -pgid), reach every worker along with the parent: the parent
	// decides what happens to its workers, and they die with it.
	signal.Ignore(os.Interrupt, unix.SIGTERM)

	cb, err := mapControl(os.NewFile(3, "control"))
	if err != nil {
		return fail("%v", err)
	}
	if cb.magic != controlMagic || int64(index) >= cb.workers {
		return fail("control block does not match worker %d", index)
	}
	var data []byte
	if size > 0 {
		data, err = mapShared(4, size)
		if err != nil {
			return fail("%v", err)
		}
	}
	if kind, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", bellFd)); kind != "anon_inode:[eventfd]" {
		return fail("fd %d is %q, not the pool's doorbell", bellFd, kind)
	}
	// The protocol owns the original stdout; anything the program prints
	// goes to stderr instead of corrupting it.
	outFd, err := unix.Dup(1)
	if err != nil {
		return fail("dup stdout: %v", err)
	}
	unix.CloseOnExec(outFd)
	if err := unix.Dup2(2, 1); err != nil {
		return fail("dup2 stderr: %v", err)
	}
	w := &workerProc{
		index:   index,
		workers: int(cb.workers),
		ppid:    ppid,
		c:       cb.control,
		slot:    &cb.slots[index],
		data:    data,
		out:     os.NewFile(uintptr(outFd), "to parent"),
		resolve: resolve,
	}
	w.openThread()

	if err := w.send(message{kind: kindReady, pid: int64(os.Getpid())}); err != nil {
		return 0 // the parent is gone
	}
	w.loop()
	return 0
}

func (w *workerProc) send(m message) error {
	w.frame = appendFrame(w.frame[:0], m)
	_, err := w.out.Write(w.frame)
	return err
}

// loop runs jobs until the parent closes the pool or goes away.
func (w *workerProc) loop() {
	// The parent set doneSeq to the last job published before this worker
	// started; every later one is this worker's to run.
	last := w.slot.doneSeq.Load()
	for {
		seq, ok := w.await(last)
		if !ok {
			return
		}
		last = seq
		w.run(seq)
	}
}

// spinFor is how long an idle party watches shared memory before it
// sleeps. Waking a sleeping process on another core costs 35-80 us; jobs
// that follow each other closely never pay it.
const spinFor = 50 * time.Microsecond

// holdFor is how long an idle worker sleeps holding its P before it gives
// the P back. The Go runtime's monitor thread (sysmon) looks at the Ps
// every 10 ms while one of them is held, and sleeps outright once all of
// them are idle; a wake-up that finds sysmon asleep restarts it at its
// fastest rate, a look every 20 us for the next milliseconds, on the cores
// the workers are using. So a worker waits in two steps: for holdFor in a
// futex wait the scheduler does not see (a raw system call: its P stays
// held and sysmon relaxed, at the price of sysmon's look every 10 ms), then
// in an ordinary one, which lets its runtime go to sleep entirely: an idle
// pool costs nothing, however many workers it has. Jobs that come faster
// than holdFor find sysmon relaxed; those that find it asleep would pay its
// restart, but for the timer slack workers start with (workerTimerSlack).
const holdFor = 20 * time.Millisecond

// orphanCheck bounds a deep sleep, after which a worker checks that its
// parent lives: Pdeathsig kills it when its parent dies, this is the
// belt to those braces.
const orphanCheck = time.Minute

// await returns the next job's sequence number, or false when the worker
// should exit: it spins for spinFor, or for as long as the parent asked it
// to stay awake (awakeUntil), then sleeps on the control block's bell (see
// holdFor). A ring that brings no job sends it back to spinning, for as
// long as awakeUntil says.
func (w *workerProc) await(last int64) (int64, bool) {
	c := w.c
	start := time.Now()
	spinUntil := start.Add(spinFor)
	for {
		for i := 1; ; i++ {
			if seq := c.jobSeq.Load(); seq != last {
				return seq, true
			}
			if c.closing.Load() != 0 {
				return 0, false
			}
			if i%64 == 0 {
				now := time.Now()
				awake := c.keepAwake(now)
				if awake {
					w.slot.awakeTid.Store(int64(unix.Gettid())) // see Pool.spread
					w.slot.awakeOn.Store(int64(currentCPU()) + 1)
				} else if now.After(spinUntil) {
					break
				}
				yield() // let a busy worker on this core run
			}
		}
		// Counted as a sleeper first, then the bell read, then the job
		// (and the wish to stay awake) looked for once more: a parent that
		// publishes after that look rings after it too, so it sees the
		// sleeper and the bell differs from what the wait compares it
		// with; no wake is lost.
		c.sleepers.Add(1)
		bell := c.bell.Load()
		if c.jobSeq.Load() == last && c.closing.Load() == 0 && !c.keepAwake(time.Now()) {
			if held := time.Since(start); held < holdFor {
				futexWait(&c.bell, bell, holdFor-held, true)
			} else {
				futexWait(&c.bell, bell, orphanCheck, false)
			}
		}
		c.sleepers.Add(-1)
		if seq := c.jobSeq.Load(); seq != last {
			return seq, true
		}
		if c.closing.Load() != 0 || os.Getppid() != w.ppid {
			return 0, false
		}
		spinUntil = time.Time{} // from now on only awakeUntil keeps it spinning
	}
}

// run does this worker's part of job seq and reports it in its slot.
func (w *workerProc) run(seq int64) {
	c, s := w.c, w.slot
	chunks, sched := int(c.chunks), Sched(c.sched)
	task := c.task[:c.taskLen]

	var st jobStats
	failChunk, failText := int64(-1), ""
	if chunks > 0 && (w.chunk == nil || string(task) != string(w.task)) {
		w.chunk = nil
		fn, err := w.resolve(task, w.data)
		if err != nil {
			failText = "resolving task: " + err.Error()
		} else {
			w.chunk, w.task = fn, append(w.task[:0], task...)
		}
	}
	if chunks > 0 && w.chunk != nil {
		st, failChunk, failText = w.runChunks(sched, chunks)
	}
	s.finishNs.Store(monotonicNs(time.Now()))
	s.chunk.Store(-1)
	s.chunks.Store(st.chunks)
	s.busyNs.Store(int64(st.busy))
	s.cpuNs.Store(int64(st.cpu))
	s.runDelayNs.Store(int64(st.run))
	if failText != "" {
		c.abort.Store(1)
		s.failSeq.Store(seq)
		// Sent before the job is marked done, so the parent has it by the
		// time it sees the job finished.
		_ = w.send(message{kind: kindFail, seq: seq, chunk: failChunk, text: failText})
	}
	s.doneSeq.Store(seq)
	if c.remaining.Add(-1) == 0 && c.parent.CompareAndSwap(asleep, waking) {
		ringFd(bellFd)
	}
}

// runChunks claims and runs chunks until none is left or the job is
// aborted. A panicking chunk ends it, with the panic's value and stack.
//
// The thread's CPU time and run delay are read just before the first chunk
// and just after the last, not around each chunk: a reading is a system
// call (about 1 us for the CPU clock, 2 us for schedstat), which around
// every chunk would cost chunks of tens of microseconds several percent. The
// span also covers the claims between chunks, which take nanoseconds. A
// worker that runs no chunk reads nothing, so an empty job costs nothing
// more.
func (w *workerProc) runChunks(sched Sched, chunks int) (st jobStats, failChunk int64, failText string) {
	current := int64(-1)
	var cpu0, proc0 time.Duration
	var sched0 cputime.Schedstat
	defer func() {
		switch {
		case current < 0:
		case unix.Gettid() == w.tid:
			cpu1, sched1 := w.readThread()
			st.cpu, st.run = max(cpu1-cpu0, 0), max(sched1.RunDelay-sched0.RunDelay, 0)
		default:
			// Readings of two threads mean nothing (see serve on why
			// the goroutine is not locked): the process's CPU clock
			// stands in, its other threads' few microseconds included,
			// and the run delay is not known.
			st.cpu = max(ownCPU()-proc0, 0)
		}
		if r := recover(); r != nil {
			failChunk, failText = current, fmt.Sprintf("panic: %v\n\n%s", r, debug.Stack())
		}
	}()
	for i := range sched.Claim(&w.c.next, w.index, w.workers, chunks) {
		if w.c.abort.Load() != 0 {
			break
		}
		if current < 0 {
			if unix.Gettid() != w.tid {
				w.openThread() // the goroutine moved between jobs
			}
			cpu0, sched0 = w.readThread()
			proc0 = ownCPU()
		}
		current = int64(i)
		start := time.Now()
		// The stamp first: a parent that sees the new chunk then reads
		// a stamp at least as new.
		w.slot.claimedNs.Store(monotonicNs(start))
		w.slot.chunk.Store(current)
		w.chunk(i)
		st.busy += time.Since(start)
		st.chunks++
	}
	return st, -1, ""
}

// ownCPU returns the CPU time of the whole worker process (zero if the
// clock cannot be read).
func ownCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// openThread opens the calling thread's schedstat and notes which thread
// that is. Without schedstat (a kernel without CONFIG_SCHED_INFO) run
// delays are reported as zero; the CPU clock needs no file.
func (w *workerProc) openThread() {
	if w.sched != nil {
		_ = w.sched.Close()
	}
	w.sched, _ = cputime.OpenThread()
	w.tid = unix.Gettid()
}

// readThread reads this thread's CPU clock and schedstat. A reading that
// fails counts as zero: the figures are diagnostics, never a reason to
// fail a job.
func (w *workerProc) readThread() (time.Duration, cputime.Schedstat) {
	cpu, _ := cputime.ThreadCPU()
	var st cputime.Schedstat
	if w.sched != nil {
		st, _ = w.sched.Read()
	}
	return cpu, st
}
