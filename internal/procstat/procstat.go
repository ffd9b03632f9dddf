// Package procstat reads a process's state from /proc/<pid>/stat and its
// threads' stat files: whether it is running, sleeping, stopped (SIGSTOP),
// a zombie, and its parent.
// It imports only the standard library.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Stat is the part of a /proc/<pid>/stat line this package reads.
type Stat struct {
	Pid   int
	Comm  string // the command name, without its parentheses
	State State
	PPid  int
}

// State is a process's state letter, as the kernel writes it.
type State byte

// String returns the letter and its meaning, such as "T stopped".
func (s State) String() string {
	return string(rune(s)) + " " + s.Word()
}

// Word returns the letter's meaning: "running", "sleeping", "stopped"...
func (s State) Word() string {
	switch s {
	case 'R':
		return "running" // or runnable, waiting for a CPU
	case 'S':
		return "sleeping"
	case 'D':
		return "uninterruptible" // a sleep that signals do not end, in I/O say
	case 'T':
		return "stopped" // by SIGSTOP or a job-control signal
	case 't':
		return "traced" // stopped by a debugger
	case 'Z':
		return "zombie" // exited, not yet reaped
	case 'X':
		return "dead"
	case 'I':
		return "idle" // a kernel thread
	case 'P':
		return "parked"
	case 'W':
		return "waking"
	case 'K':
		return "wakekill"
	}
	return "unknown"
}

// ErrMalformed reports a stat line that does not parse.
var ErrMalformed = errors.New("procstat: malformed stat line")

// Parse parses a /proc/<pid>/stat line. The command name is the text
// between the first '(' and the last ')': it may hold spaces and
// parentheses of its own (a program may name itself anything), so the
// fields that follow are counted from the last ')'.
func Parse(b []byte) (Stat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return Stat{}, fmt.Errorf("%w: %.80q", ErrMalformed, b)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil || pid <= 0 {
		return Stat{}, fmt.Errorf("%w: bad pid in %.80q", ErrMalformed, b)
	}
	fields := bytes.Fields(b[end+1:])
	if len(fields) < 2 || len(fields[0]) != 1 {
		return Stat{}, fmt.Errorf("%w: no state and parent after the name in %.80q", ErrMalformed, b)
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil || ppid < 0 {
		return Stat{}, fmt.Errorf("%w: bad parent pid in %.80q", ErrMalformed, b)
	}
	return Stat{Pid: pid, Comm: string(b[open+1 : end]), State: State(fields[0][0]), PPid: ppid}, nil
}

// Read reads and parses /proc/<pid>/stat, the line of the process's main
// thread, and gives the process the state of its busiest thread: running
// if any thread runs, else uninterruptible if any is, else the main
// thread's. A Go program's main thread often sleeps in the scheduler
// while another thread spins, so the main thread's letter alone would
// call a busy process asleep. A process that is gone (or was reaped)
// gives an error that matches os.ErrNotExist.
func Read(pid int) (Stat, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return Stat{}, fmt.Errorf("procstat: %w", err)
	}
	st, err := Parse(b)
	if err != nil || st.State == 'R' {
		return st, err
	}
	// A thread may end between the listing and the read: skip it.
	tasks, _ := os.ReadDir(dir + "/task")
	for _, task := range tasks {
		b, err := os.ReadFile(dir + "/task/" + task.Name() + "/stat")
		if err != nil {
			continue
		}
		if t, err := Parse(b); err == nil && busier(t.State, st.State) {
			st.State = t.State
		}
	}
	return st, nil
}

// busier reports whether a thread in state a makes the process busier
// than state b does.
func busier(a, b State) bool {
	rank := func(s State) int {
		switch s {
		case 'R':
			return 2
		case 'D':
			return 1
		}
		return 0
	}
	return rank(a) > rank(b)
}
