package runner

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/runner/procpool"
	"github.com/corescale/corescale/runner/pyref"
)

// needPython skips the test when there is no Python to run, and fails it
// when there is one but the strategies still cannot run.
func needPython(t *testing.T) {
	t.Helper()
	name := os.Getenv(pyref.EnvPython)
	if name == "" {
		name = "python3"
	}
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("no Python: %v", err)
	}
	if err := pyref.Available(); err != nil {
		t.Fatal(err)
	}
}

// pyParams are kernel configurations small enough that every Python
// strategy, pure-Python matmul included, runs them in milliseconds.
func pyParams() []kernels.Params {
	return []kernels.Params{
		{Kernel: "hash", Shape: "uniform", Size: 256 << 10, Chunks: 16, Seed: 1},
		{Kernel: "hash", Shape: "skewed", Size: 200<<10 + 5, Chunks: 7, Seed: 2}, // a short last message, uneven chunks
		{Kernel: "search", Shape: "uniform", Size: 4099, Chunks: 16, Seed: 1},
		{Kernel: "matmul", Shape: "square", Size: 37, Chunks: 5, Seed: 1},
	}
}

func newPyStrategy(t *testing.T, name string, w *Workload, workers int) Strategy {
	t.Helper()
	s, err := NewStrategy(name, w, workers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPythonStrategiesGiveTheReferenceOutputs(t *testing.T) {
	needPython(t)
	for _, p := range pyParams() {
		w := newWorkload(t, p)
		for _, name := range pyref.Names() {
			for _, workers := range []int{1, 2} {
				if name == "py-serial" && workers > 1 {
					continue
				}
				s := newPyStrategy(t, name, w, workers)
				if st := s.(Starter).Startup(); st <= 0 || st > time.Minute {
					t.Errorf("%s: start-up %v", name, st)
				}
				measureEverySched(t, s, w, Cell{Params: p, Strategy: name, Workers: workers})
				if err := s.Close(); err != nil {
					t.Errorf("%s: close: %v", name, err)
				}
			}
		}
	}
}

func TestPythonWrongOutputIsRejected(t *testing.T) {
	needPython(t)
	t.Setenv(pyref.EnvCorrupt, "1")
	for _, p := range pyParams() {
		w := newWorkload(t, p)
		for _, name := range pyref.Names() {
			t.Run(KernelName(p)+"/"+name, func(t *testing.T) {
				s := newPyStrategy(t, name, w, 1)
				_, err := Measure(context.Background(), s, w, procpool.Dynamic)
				if err == nil || !strings.Contains(err.Error(), "wrong output") {
					t.Fatalf("Measure of a corrupted output: %v, want a wrong output error", err)
				}
			})
		}
	}
}

func TestPythonErrorsAreReportedNotFatal(t *testing.T) {
	needPython(t)
	w := newWorkload(t, pyParams()[0])
	s := newPyStrategy(t, "py-pool", w, 2)
	if _, err := s.Run(context.Background(), procpool.Sched(7)); err == nil {
		t.Fatal("Run with an unknown sched: no error")
	}
	if _, err := Measure(context.Background(), s, w, procpool.Static); err != nil {
		t.Fatalf("Run after an error: %v", err)
	}
}

func TestPythonCancellationKillsTheProcessGroup(t *testing.T) {
	needPython(t)
	// Pure-Python bisect over 2^21 keys: 2^18 queries take about a quarter
	// of a second, long enough to be cancelled in the middle.
	w := newWorkload(t, kernels.Params{Kernel: "search", Shape: "uniform", Size: 1 << 21, Chunks: 64, Seed: 1})
	s := newPyStrategy(t, "py-pool", w, 2)
	pid := s.(python).p.Pid()
	group := groupMembers(t, pid)
	if len(group) != 3 {
		t.Fatalf("process group %d has %v, want Python and 2 workers", pid, group)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Run(ctx, procpool.Dynamic)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v, want %v", err, context.DeadlineExceeded)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run took %v to return after cancellation", took)
	}
	assertGone(t, group)
	if _, err := s.Run(context.Background(), procpool.Dynamic); err == nil {
		t.Error("Run after cancellation: no error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after cancellation: %v", err)
	}
}

func TestPythonCloseLeavesNoProcess(t *testing.T) {
	needPython(t)
	w := newWorkload(t, pyParams()[0])
	for _, name := range pyref.Names() {
		workers := 2
		if name == "py-serial" {
			workers = 1
		}
		s := newPyStrategy(t, name, w, workers)
		if _, err := Measure(context.Background(), s, w, procpool.Dynamic); err != nil {
			t.Fatal(err)
		}
		group := groupMembers(t, s.(python).p.Pid())
		if err := s.Close(); err != nil {
			t.Fatalf("%s: close: %v", name, err)
		}
		assertGone(t, group)
	}
	for _, child := range children(t) {
		if strings.Contains(child.comm, "python") {
			t.Errorf("python child left after Close: %+v", child)
		}
	}
}

func TestPythonAbsentIsAnErrorNotACrash(t *testing.T) {
	w := newWorkload(t, pyParams()[0])

	t.Setenv(pyref.EnvPython, "")
	t.Setenv("PATH", t.TempDir())
	_, err := NewStrategy("py-pool", w, 2)
	if err == nil || !strings.Contains(err.Error(), "python3 not found: install Python 3") {
		t.Errorf("without python3 on PATH: %v", err)
	}
	if err := pyref.Available(); err == nil {
		t.Error("PythonAvailable without python3: no error")
	}

	t.Setenv(pyref.EnvPython, "/nonexistent/python3")
	if _, err := NewStrategy("py-serial", w, 1); err == nil || !strings.Contains(err.Error(), pyref.EnvPython) {
		t.Errorf("with %s naming nothing: %v", pyref.EnvPython, err)
	}
}

func TestPythonRefusesLargePurePythonMatmul(t *testing.T) {
	needPython(t)
	info, err := pyref.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Numpy != "" {
		t.Skipf("numpy %s is installed: pure-Python matmul is never used", info.Numpy)
	}
	w := newWorkload(t, kernels.Params{Kernel: "matmul", Shape: "square", Size: 129, Chunks: 4, Seed: 1})
	_, err = NewStrategy("py-threads", w, 2)
	if err == nil || !strings.Contains(err.Error(), "needs numpy") {
		t.Errorf("pure-Python matmul at n=129: %v, want an error that asks for numpy", err)
	}
}

func TestPythonDescribe(t *testing.T) {
	needPython(t)
	info, err := pyref.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Python, "3.") || info.Executable == "" || info.BLAS == "" {
		t.Errorf("DescribePython = %+v", info)
	}
	t.Logf("%+v", info)
}

// A proc is a process as /proc/PID/stat shows it.
type proc struct {
	pid, ppid, pgrp int
	comm, state     string
}

func readProc(pid int) (proc, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return proc{}, false
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 3 {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	return proc{pid: pid, ppid: ppid, pgrp: pgrp, comm: s[open+1 : end], state: f[0]}, true
}

func allProcs(t *testing.T) []proc {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var ps []proc
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if p, ok := readProc(pid); ok {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// groupMembers returns the live processes of process group pgid.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	var pids []int
	for _, p := range allProcs(t) {
		if p.pgrp == pgid && p.state != "Z" {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// children returns this process's child processes.
func children(t *testing.T) []proc {
	t.Helper()
	var cs []proc
	for _, p := range allProcs(t) {
		if p.ppid == os.Getpid() {
			cs = append(cs, p)
		}
	}
	return cs
}

// assertGone checks that none of pids runs any more. Python itself must be
// reaped; its workers, reparented to an init that may not reap, may be
// zombies. A dying process takes a moment to go, hence the deadline.
func assertGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for _, pid := range pids {
		for {
			p, ok := readProc(pid)
			if !ok || p.state == "Z" && p.ppid != os.Getpid() {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("process %d (%s, state %s, parent %d) still there", pid, p.comm, p.state, p.ppid)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
