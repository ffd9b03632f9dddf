package procpool

import (
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxWorkers bounds a pool's size: the control block has a slot per worker.
const MaxWorkers = 256

// maxTask bounds a job's task descriptor.
const maxTask = 1024

const controlMagic = 0x636f72657363616c // "corescal"

// Sleep states of the parent. About to block on the doorbell, it first
// says so (asleep), then looks once more whether the job is done; the last
// worker to finish rings the bell only if it can move the parent from
// asleep to waking, so a parent that is spinning costs no system call.
const (
	awake  = 0
	asleep = 1
	waking = 2
)

// control is the layout of a pool's control block: a small shared mapping,
// one per pool, separate from the data region so that several pools can
// serve one region. Hot fields sit on cache lines of their own. It holds no
// Go pointers: the garbage collector does not see this memory.
type control struct {
	magic   uint64
	workers int64
	_       [48]byte

	jobSeq atomic.Int64 // the published job; workers watch it
	// bell is the futex word idle workers sleep on, and sleepers the
	// number of workers asleep or about to be. The parent adds one to bell
	// after it publishes a job (or closing), and if any worker sleeps it
	// wakes them all with one FUTEX_WAKE: a job costs the parent one
	// system call whatever the pool's size.
	bell     atomic.Uint32
	sleepers atomic.Int32
	// awakeUntil is a CLOCK_MONOTONIC time (ns) until which idle workers
	// watch jobSeq spinning instead of sleeping (see Pool.WakeFor); a job's
	// publication clears it.
	awakeUntil atomic.Int64
	_          [40]byte

	next atomic.Int64 // dynamic scheduling's claim counter
	_    [56]byte

	remaining atomic.Int64 // workers that have not finished the job
	_         [56]byte

	parent  atomic.Int32 // the parent's sleep state
	abort   atomic.Int32 // non-zero: claim no more chunks of this job
	closing atomic.Int32 // non-zero: exit
	_       [52]byte

	// Written by the parent before it publishes jobSeq, read by workers
	// after they see it.
	chunks  int64
	sched   int64
	taskLen int64
	_       [40]byte
	task    [maxTask]byte

	slots [MaxWorkers]slot
}

// slot is one worker's part of the control block, two cache lines long.
type slot struct {
	doneSeq    atomic.Int64 // last job the worker finished
	failSeq    atomic.Int64 // last job in which the worker reported a failure
	chunk      atomic.Int64 // chunk in hand, or -1
	chunks     atomic.Int64 // chunks run in the last job
	busyNs     atomic.Int64 // time spent in chunk functions in the last job
	cpuNs      atomic.Int64 // thread CPU time over those chunks
	runDelayNs atomic.Int64 // run-queue delay over those chunks
	claimedNs  atomic.Int64 // when chunk was claimed, in monotonicNs
	finishNs   atomic.Int64 // when the worker found no chunk left, in monotonicNs
	// awakeOn is the CPU a worker kept awake (awakeUntil) last saw itself
	// on, plus one; the parent clears it before it wakes the workers.
	awakeOn atomic.Int64
	// awakeTid is the thread it saw itself on, stored before awakeOn: the
	// worker's goroutine is not locked to a thread (see serve), so the
	// thread to move is not always the process's first.
	awakeTid atomic.Int64
	_        [40]byte
}

var controlSize = (int(unsafe.Sizeof(control{})) + os.Getpagesize() - 1) &^ (os.Getpagesize() - 1)

// controlBlock is a mapped control block and the file behind it.
type controlBlock struct {
	*control
	file *os.File
	mem  []byte
}

func newControlBlock(workers int) (*controlBlock, error) {
	fd, err := unix.MemfdCreate("corescale-control", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("procpool: memfd_create: %w", err)
	}
	file := os.NewFile(uintptr(fd), "corescale-control")
	if err := unix.Ftruncate(fd, int64(controlSize)); err != nil {
		file.Close()
		return nil, fmt.Errorf("procpool: sizing control block: %w", err)
	}
	cb, err := mapControl(file)
	if err != nil {
		file.Close()
		return nil, err
	}
	cb.magic = controlMagic
	cb.workers = int64(workers)
	for i := range cb.slots {
		cb.slots[i].chunk.Store(-1)
	}
	return cb, nil
}

func mapControl(file *os.File) (*controlBlock, error) {
	mem, err := mapShared(int(file.Fd()), controlSize)
	if err != nil {
		return nil, err
	}
	return &controlBlock{control: (*control)(unsafe.Pointer(&mem[0])), file: file, mem: mem}, nil
}

func (cb *controlBlock) close() error {
	var err error
	if cb.mem != nil {
		if err = unix.Munmap(cb.mem); err != nil {
			err = fmt.Errorf("procpool: unmapping the control block: %w", err)
		}
		cb.mem, cb.control = nil, nil
	}
	if cerr := cb.file.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("procpool: closing the control block: %w", cerr)
	}
	return err
}

// ringWorkers wakes every worker asleep on the bell, with one system call,
// and none if all of them are still watching jobSeq. Call it after
// publishing what they should see: a job, or closing.
func (c *control) ringWorkers() {
	c.bell.Add(1)
	if c.sleepers.Load() > 0 {
		futexWake(&c.bell)
	}
}

// Futex operations (linux/futex.h). The bell lives in a shared mapping
// of a memfd, seen by several processes, so the operations are the shared
// ones, without FUTEX_PRIVATE_FLAG.
const (
	futexWaitOp = 0
	futexWakeOp = 1
)

// futexWait sleeps while *word == val, for at most timeout, or until a
// wake or a signal; the caller re-checks what it waits for either way.
// With raw, the call is one the Go scheduler does not see: the thread
// keeps its P (see workerProc.await).
func futexWait(word *atomic.Uint32, val uint32, timeout time.Duration, raw bool) {
	ts := unix.NsecToTimespec(int64(timeout))
	args := [6]uintptr{uintptr(unsafe.Pointer(word)), futexWaitOp, uintptr(val), uintptr(unsafe.Pointer(&ts))}
	if raw {
		_, _, _ = unix.RawSyscall6(unix.SYS_FUTEX, args[0], args[1], args[2], args[3], 0, 0)
		return
	}
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, args[0], args[1], args[2], args[3], 0, 0)
}

// futexWake wakes every thread sleeping on word.
func futexWake(word *atomic.Uint32) {
	_, _, _ = unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWakeOp, math.MaxInt32, 0, 0, 0)
}

// yield gives the processor to another runnable thread, if any. Spinning
// parties call it so that, on a machine with more spinners than cores, the
// one they wait for gets to run.
func yield() {
	_, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}

// doorbell is an eventfd that wakes a parent sleeping through a job. Every
// worker holds it as fd 5. Rings coalesce, and a waiter re-checks its
// condition after each wake, so a stale ring costs one spurious wake-up.
type doorbell struct {
	file *os.File     // what workers inherit
	mu   sync.RWMutex // held for reading by ringers and holds, for writing by close
	fd   int          // -1 once closed
}

const bellFd = 5

func newDoorbell() (*doorbell, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("procpool: eventfd: %w", err)
	}
	// file is made while the eventfd blocks, so os leaves it out of the
	// poller, and exec's File.Fd, which would make a polled file's open
	// file blocking again, leaves it alone. Only then does the open file
	// become nonblocking, so that hold's read after a ring cannot block. A write
	// to an eventfd blocks only at a count near 2^64, and a ring is one,
	// so the workers' rings are unchanged.
	file := os.NewFile(uintptr(fd), "corescale-doorbell")
	if err := unix.SetNonblock(fd, true); err != nil {
		file.Close()
		return nil, fmt.Errorf("procpool: doorbell: %w", err)
	}
	return &doorbell{file: file, fd: fd}, nil
}

var one = [8]byte{1} // an eventfd increment, little-endian

// ring wakes the waiter, if any. It never blocks.
func (b *doorbell) ring() {
	b.mu.RLock()
	if b.fd >= 0 {
		ringFd(b.fd)
	}
	b.mu.RUnlock()
}

// ringFd adds one to the eventfd fd. The raw call keeps a worker that
// rings it from announcing a system call to its scheduler.
func ringFd(fd int) {
	_, _, _ = unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&one[0])), 8)
}

// holdNap bounds one hold: sysmon, relaxed, looks every 10 ms and
// interrupts a goroutine it has seen running for 10 ms (which a hold is,
// to the runtime), so longer holds would end no later.
const holdNap = 10 * time.Millisecond

// hold sleeps until the bell rings or holdNap passes, and clears the
// rings, in a raw system call that the Go runtime does not see: the
// goroutine keeps its P. So sysmon neither takes the P away (a
// nap's system call does, which restarts it at its fastest rate, a look
// every 20 us) nor finds every P idle and sleeps deeply (a goroutine parked
// in the poller lets it, and the next wake-up restarts it the same way).
// Either restart lands under the run that follows, whatever strategy it
// is: after jobs awaited parked, goroutines at 2 workers on 2 vCPUs waited
// 8.5-10.4% of their worker time for a CPU in a sweep beside procpool
// cells (the parent's sysmon woke 1200 times a second), 3.7-4.0% with the
// jobs awaited holding. The caller yields between holds, so that sysmon
// sees the P pass through the scheduler and has no goroutine to preempt.
func (b *doorbell) hold() {
	b.mu.RLock() // close waits for a hold to end: at most holdNap
	defer b.mu.RUnlock()
	if b.fd < 0 {
		return
	}
	fds := [1]unix.PollFd{{Fd: int32(b.fd), Events: unix.POLLIN}}
	ts := unix.NsecToTimespec(int64(holdNap))
	n, _, _ := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if n == 1 && fds[0].Revents&unix.POLLIN != 0 {
		var buf [8]byte
		_, _, _ = unix.RawSyscall(unix.SYS_READ, uintptr(b.fd), uintptr(unsafe.Pointer(&buf[0])), 8) // the fd does not block
	}
}

func (b *doorbell) close() error {
	b.mu.Lock()
	b.fd = -1
	b.mu.Unlock()
	if err := b.file.Close(); err != nil {
		return fmt.Errorf("procpool: closing the doorbell: %w", err)
	}
	return nil
}

// monoBase pairs a time.Time with the CLOCK_MONOTONIC reading taken at
// the same moment, so that monotonicNs can turn a time.Now of one process
// into a clock reading another process understands: a worker stamps every
// chunk it claims, and the parent tells how long a stuck worker has held
// its chunk. time.Now reads the same clock through the vDSO, with no
// system call; the pairing is off by the time between the two reads, about
// a microsecond.
var monoBase, monoBaseNs = func() (time.Time, int64) {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Now(), ts.Nano()
}()

// monotonicNs returns t as nanoseconds of CLOCK_MONOTONIC, the same in
// every process of the machine.
func monotonicNs(t time.Time) int64 { return monoBaseNs + int64(t.Sub(monoBase)) }

// keepAwake reports whether the parent wants idle workers spinning at now.
func (c *control) keepAwake(now time.Time) bool {
	return monotonicNs(now) < c.awakeUntil.Load()
}

// currentCPU returns the CPU the calling thread runs on (getcpu(2)).
func currentCPU() int {
	var cpu uint32
	_, _, _ = unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0)
	return int(cpu)
}
