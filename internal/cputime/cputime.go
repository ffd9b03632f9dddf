// Package cputime measures how much of a stretch of wall time a thread
// spent on a CPU, and how much it spent waiting for one.
//
// Time measured around a piece of work with time.Now counts the time the
// thread sat on a run queue while another thread had its CPU: on a machine
// with more busy threads than CPUs, wall time inside a chunk is not work.
// ThreadCPU gives the thread's CPU time (clock_gettime with
// CLOCK_THREAD_CPUTIME_ID, exact to the nanosecond for the calling thread,
// including the slice it is running now) and a Thread gives the kernel's
// scheduler statistics for it, whose run delay is the time it was runnable
// but waiting for a CPU.
//
// Both describe the calling OS thread, not the goroutine: a goroutine that
// measures a span must be locked to its thread for the span
// (runtime.LockOSThread), or the two readings may come from different
// threads. Each reading is a system call (about 0.3-1 us for ThreadCPU, a
// few us for Thread.Read): read around spans of work, not around tiny
// steps.
//
// The package imports only the standard library and golang.org/x/sys/unix.
package cputime

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPU returns the CPU time the calling OS thread has used since it
// started. The caller must have locked its goroutine to the thread
// (runtime.LockOSThread) for differences of two readings to mean anything.
func ThreadCPU() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, fmt.Errorf("cputime: clock_gettime(CLOCK_THREAD_CPUTIME_ID): %w", err)
	}
	return time.Duration(ts.Nano()), nil
}

// Schedstat is a thread's line of /proc/<pid>/task/<tid>/schedstat.
type Schedstat struct {
	// OnCPU is the time the thread has run, as of its last trip through
	// the scheduler: unlike ThreadCPU it leaves out the slice it is
	// running now.
	OnCPU time.Duration
	// RunDelay is the time the thread has spent runnable on a run queue,
	// waiting for a CPU.
	RunDelay time.Duration
	// Slices is the number of times it was given a CPU.
	Slices int64
}

// ErrSchedstat reports a schedstat line that does not parse.
var ErrSchedstat = errors.New("cputime: malformed schedstat")

// ParseSchedstat parses a schedstat line: three unsigned decimal numbers
// (nanoseconds on a CPU, nanoseconds waiting on a run queue, time slices)
// separated by single spaces, with or without a trailing newline. It does
// not allocate unless the line is malformed: workers parse a line per job.
func ParseSchedstat(b []byte) (Schedstat, error) {
	line := b
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	var v [3]int64
	field, digits := 0, 0
	for _, c := range line {
		switch {
		case '0' <= c && c <= '9':
			d := int64(c - '0')
			// Nanoseconds in an int64 last 292 years: a larger
			// number is not a reading.
			if v[field] > (math.MaxInt64-d)/10 {
				return Schedstat{}, fmt.Errorf("%w: %q: field %d overflows", ErrSchedstat, b, field+1)
			}
			v[field] = v[field]*10 + d
			digits++
		case c == ' ' && digits > 0 && field < len(v)-1:
			field, digits = field+1, 0
		default:
			return Schedstat{}, fmt.Errorf("%w: %q", ErrSchedstat, b)
		}
	}
	if field != len(v)-1 || digits == 0 {
		return Schedstat{}, fmt.Errorf("%w: %q: want 3 fields", ErrSchedstat, b)
	}
	return Schedstat{OnCPU: time.Duration(v[0]), RunDelay: time.Duration(v[1]), Slices: v[2]}, nil
}

// A Thread reads the scheduler statistics of the thread that opened it.
// The file it holds stays that thread's whoever reads it, so the readings
// describe the opening thread even if the goroutine moves; lock the
// goroutine to its thread (runtime.LockOSThread) before OpenThread so that
// the thread measured is the one doing the work.
type Thread struct {
	file *os.File
	fd   int // file's descriptor, kept to pread without os.File's checks
	buf  [96]byte
}

// OpenThread opens the calling thread's /proc/thread-self/schedstat.
func OpenThread() (*Thread, error) {
	f, err := os.Open("/proc/thread-self/schedstat")
	if err != nil {
		return nil, fmt.Errorf("cputime: %w", err)
	}
	return &Thread{file: f, fd: int(f.Fd())}, nil
}

// Read returns the thread's statistics now. It reads the file from the
// start each time (pread), without reopening it.
func (t *Thread) Read() (Schedstat, error) {
	n, err := unix.Pread(t.fd, t.buf[:], 0)
	if err != nil {
		return Schedstat{}, fmt.Errorf("cputime: reading schedstat: %w", err)
	}
	return ParseSchedstat(t.buf[:n])
}

// Close closes the file.
func (t *Thread) Close() error { return t.file.Close() }
