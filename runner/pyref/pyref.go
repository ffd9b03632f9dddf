// Package pyref runs the Python reference strategies: the same workload as
// the Go strategies, done with what a Python programmer would write: a loop
// (py-serial), a thread pool (py-threads), and multiprocessing.Pool with
// results pickled back (py-pool) or written in shared memory (py-pool-shm).
// Each is pyref.py (embedded), started once per strategy and kept, like a
// pool; it maps the workload's region from the memfd it inherits and
// computes into the same outputs, which the caller verifies with the same
// code as every other strategy's.
//
// Each strategy is one Python process (plus its pool's workers) in a process
// group of its own, so that cancellation and Close can kill the whole tree.
package pyref

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/internal/tail"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner/procpool"
)

// Names returns the names of the Python reference strategies.
func Names() []string {
	return []string{resultfile.PyPool, resultfile.PyPoolShm, resultfile.PySerial, resultfile.PyThreads}
}

// script is pyref.py, run with python3 -c: an installed binary needs no
// checkout beside it.
//
//go:embed pyref.py
var script string

// Environment variables that choose the Python interpreter and the script.
const (
	EnvPython = "CORESCALE_PYTHON" // interpreter; default python3 on PATH
	// EnvCorrupt makes pyref.py flip a byte of its outputs after each
	// run, for tests of verification.
	EnvCorrupt = "CORESCALE_PYREF_CORRUPT"
	// envPyrefT0 carries the monotonic clock at exec, so that pyref.py can
	// report the interpreter's own start-up.
	envPyrefT0 = "CORESCALE_PYREF_T0"
)

const (
	// pyStartTimeout bounds the wait for the ready line: interpreter,
	// imports (numpy is the slow one) and forking the pool.
	pyStartTimeout = time.Minute
	// pyCloseGrace is how long Close lets Python join its pool before it
	// kills the process group.
	pyCloseGrace = 5 * time.Second
)

// Available reports whether the Python strategies can run here: an
// interpreter of Python 3.8 or newer was found. The error says what is
// missing and how to supply it.
func Available() error {
	_, err := findPython()
	return err
}

// Info describes the Python that runs the reference strategies, for
// the configuration lines of a result file.
type Info struct {
	Python         string `json:"python"`         // version, e.g. "3.11.7"
	Implementation string `json:"implementation"` // CPython, PyPy
	Executable     string `json:"executable"`
	GIL            bool   `json:"gil"`
	Numpy          string `json:"numpy"` // version, or "" when absent
	BLAS           string `json:"blas"`  // the BLAS library numpy loaded, "none" or "unknown"
}

// Describe runs pyref.py --describe.
func Describe(ctx context.Context) (Info, error) {
	python, err := findPython()
	if err != nil {
		return Info{}, err
	}
	out, err := exec.CommandContext(ctx, python, "-c", script, "--describe").Output()
	if err != nil {
		return Info{}, fmt.Errorf("pyref: pyref.py --describe: %w%s", err, stderrOf(err))
	}
	var info Info
	if err := json.Unmarshal(out, &info); err != nil {
		return Info{}, fmt.Errorf("pyref: pyref.py --describe: %w", err)
	}
	return info, nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// interpreters caches what findPython learned about each interpreter: the
// executable behind it (a pyenv shim costs tens of milliseconds per start,
// which would land in the start-up we report) or why it cannot be used.
var interpreters sync.Map // name -> pythonCheck

type pythonCheck struct {
	executable string
	err        error
}

// findPython returns the Python executable.
func findPython() (string, error) {
	name := os.Getenv(EnvPython)
	if name == "" {
		name = "python3"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(EnvPython) != "" {
			return "", fmt.Errorf("pyref: %s=%s: %w: point it at a Python 3 interpreter to run py-* strategies", EnvPython, name, err)
		}
		return "", fmt.Errorf("pyref: python3 not found: install Python 3 to run py-* strategies (or set %s)", EnvPython)
	}
	check, ok := interpreters.Load(path)
	if !ok {
		check = checkInterpreter(path)
		interpreters.Store(path, check)
	}
	c := check.(pythonCheck)
	return c.executable, c.err
}

func checkInterpreter(path string) pythonCheck {
	const probe = "import sys; print(sys.executable); print(sys.version_info >= (3, 8))"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-c", probe).Output()
	if err != nil {
		return pythonCheck{err: fmt.Errorf("pyref: %s does not run: %w%s", path, err, stderrOf(err))}
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		return pythonCheck{err: fmt.Errorf("pyref: %s: unexpected answer %q to a version check", path, out)}
	}
	if lines[1] != "True" {
		return pythonCheck{err: fmt.Errorf("pyref: %s is older than Python 3.8: install Python 3 to run py-* strategies", path)}
	}
	return pythonCheck{executable: lines[0]}
}

// A Process is a running pyref.py serving one strategy over one workload.
// It is not safe for concurrent use.
type Process struct {
	name    string
	workers int
	cmd     *exec.Cmd
	stdin   *os.File
	stdout  *os.File
	lines   chan string   // from stdout; closed at EOF
	exited  chan struct{} // closed when the Python process has exited (not yet reaped)
	done    chan struct{} // closed by release: nobody reads lines any more
	stderr  *tail.Buffer
	startup time.Duration
	ready   pyReady

	dead      error // why the process is gone; every later Run returns it
	closeOnce sync.Once
	closeErr  error
}

// pyReady is pyref.py's first line.
type pyReady struct {
	Ready         bool   `json:"ready"`
	Error         string `json:"error"`
	StartMethod   string `json:"start_method"`
	Kernel        string `json:"kernel"`
	InterpreterNs *int64 `json:"interpreter_ns"`
	SetupNs       int64  `json:"setup_ns"`
	PoolNs        int64  `json:"pool_ns"`
	StartupNs     int64  `json:"startup_ns"`
	Info
}

// pyAnswer is pyref.py's answer to a run.
type pyAnswer struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error"`
	WallNs int64   `json:"wall_ns"`
	BusyNs []int64 `json:"busy_ns"`
}

// Start starts the named strategy with the given workers over a workload:
// its region and its task (the kernels.Params text). It returns once Python
// has mapped the region and started its pool.
func Start(name string, region *procpool.Region, task []byte, workers int) (*Process, error) {
	pythonPath, err := findPython()
	if err != nil {
		return nil, err
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pyref: %s: %w", name, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("pyref: %s: %w", name, err)
	}
	s := &Process{
		name: name, workers: workers, stdin: inW, stdout: outR,
		lines: make(chan string), exited: make(chan struct{}), done: make(chan struct{}), stderr: tail.New(8 << 10),
	}
	s.cmd = exec.Command(pythonPath, "-c", script,
		"--strategy", name, "--workers", strconv.Itoa(workers),
		"--fd", "3", "--size", strconv.Itoa(region.Size()), "--task", string(task))
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = inR, outW, s.stderr
	s.cmd.ExtraFiles = []*os.File{region.File()} // fd 3
	// Setpgid: the pool's workers join Python's group, so one kill reaches
	// them all. Pdeathsig: Python dies with us (its workers die with it,
	// pyref.py sets the same on them).
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Stderr is copied by a goroutine of exec that waits for every holder of
	// the pipe; after a kill, Wait should not wait long for it.
	s.cmd.WaitDelay = time.Second
	var t0 unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &t0) // Python's time.monotonic_ns clock
	s.cmd.Env = append(os.Environ(), envPyrefT0+"="+strconv.FormatInt(t0.Nano(), 10))

	start := time.Now()
	err = s.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("pyref: %s: starting %s: %w", name, pythonPath, err)
	}
	go s.read()
	go s.waitExit()

	line, err := s.next(context.Background(), pyStartTimeout)
	if err != nil {
		s.abort(err)
		return nil, s.withStderr(fmt.Errorf("pyref: %s: start-up: %w", name, err))
	}
	if err := json.Unmarshal([]byte(line), &s.ready); err != nil || (!s.ready.Ready && s.ready.Error == "") {
		s.abort(errors.New("bad ready line"))
		return nil, s.withStderr(fmt.Errorf("pyref: %s: start-up: unexpected line %q", name, line))
	}
	if !s.ready.Ready {
		s.Close()
		return nil, fmt.Errorf("pyref: %s: %s", name, s.ready.Error)
	}
	s.startup = time.Duration(s.ready.StartupNs)
	if s.ready.InterpreterNs == nil {
		s.startup = time.Since(start) // no clock from us: our own view of it
	}
	return s, nil
}

// Startup is the start-up Python reported: the interpreter's (from exec to
// its first statement, against our clock), reading the task and mapping the
// region, and starting the pool's workers.
func (s *Process) Startup() time.Duration { return s.startup }

// Pid is the Python process's, which leads its process group.
func (s *Process) Pid() int { return s.cmd.Process.Pid }

// Run runs the workload once and returns Python's wall time of the
// parallel section and each worker's busy time.
func (s *Process) Run(ctx context.Context, sched procpool.Sched) (wall time.Duration, busy []time.Duration, err error) {
	if s.dead != nil {
		return 0, nil, s.dead
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if sched != procpool.Dynamic && sched != procpool.Static {
		return 0, nil, fmt.Errorf("pyref: %s: unknown sched %v", s.name, sched)
	}
	if _, err := fmt.Fprintf(s.stdin, "run %v\n", sched); err != nil {
		err = s.withStderr(fmt.Errorf("pyref: %s: sending the run: %w", s.name, err))
		s.abort(err)
		return 0, nil, err
	}
	line, err := s.next(ctx, 0)
	if err != nil {
		if ctx.Err() != nil {
			// multiprocessing.Pool cannot abandon a map: the only way to
			// stop a run is to kill the tree.
			s.abort(fmt.Errorf("pyref: %s: killed when a run was cancelled", s.name))
			return 0, nil, ctx.Err()
		}
		err = s.withStderr(fmt.Errorf("pyref: %s: %w", s.name, err))
		s.abort(err)
		return 0, nil, err
	}
	var a pyAnswer
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		err = fmt.Errorf("pyref: %s: unexpected answer %q", s.name, line)
		s.abort(err)
		return 0, nil, err
	}
	if !a.OK {
		return 0, nil, fmt.Errorf("pyref: %s: %s", s.name, a.Error)
	}
	if len(a.BusyNs) != s.workers || a.WallNs <= 0 {
		return 0, nil, fmt.Errorf("pyref: %s: answer %q: want a wall time and %d busy times", s.name, line, s.workers)
	}
	busy = make([]time.Duration, len(a.BusyNs))
	for i, b := range a.BusyNs {
		busy[i] = time.Duration(b)
	}
	return time.Duration(a.WallNs), busy, nil
}

// next returns the next line from Python, waiting at most timeout (0: no
// limit) and no longer than ctx. Once Python has exited it returns what it
// wrote last, if anything.
func (s *Process) next(ctx context.Context, timeout time.Duration) (string, error) {
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case line, ok := <-s.lines:
		if ok {
			return line, nil
		}
	case <-s.exited:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-expire:
		return "", fmt.Errorf("no answer within %v", timeout)
	}
	// Python has exited, or closed its stdout, which it does only by
	// exiting. Its pool's workers may still hold the pipe: kill them, so
	// that the lines end, and read what Python wrote before it died.
	<-s.exited
	s.killGroup()
	if line, ok := <-s.lines; ok {
		return line, nil
	}
	return "", errors.New("python exited")
}

// read delivers stdout's lines until EOF, which comes when Python and every
// worker that inherited its stdout are gone, or until release.
func (s *Process) read() {
	defer close(s.lines)
	sc := bufio.NewScanner(s.stdout)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		select {
		case s.lines <- sc.Text():
		case <-s.done:
			return
		}
	}
}

// waitExit closes s.exited when the Python process exits, without reaping it:
// until cmd.Wait reaps it, its pid (which is the group's id) cannot be
// reused, so killing the group stays safe.
func (s *Process) waitExit() {
	pid := s.cmd.Process.Pid
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	close(s.exited)
}

// killGroup kills Python and every process of its group. Call it only
// before cmd.Wait.
func (s *Process) killGroup() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // ESRCH: nobody left
}

// abort kills the process tree, reaps Python and marks the strategy dead
// with why.
func (s *Process) abort(why error) {
	s.closeOnce.Do(func() {
		s.dead = why
		s.killGroup()
		<-s.exited
		_ = s.cmd.Wait() // killed: its status says so and nothing more
		s.release()
	})
}

func (s *Process) release() {
	close(s.done)
	s.stdin.Close()
	s.stdout.Close()
}

// Close ends the strategy: Python sees EOF on its input, closes and joins its
// pool and exits; if it has not within a grace period, the process group is
// killed. Any process left in the group is killed either way, so nothing
// outlives Close.
func (s *Process) Close() error {
	s.closeOnce.Do(func() {
		s.dead = fmt.Errorf("pyref: %s: closed", s.name)
		s.stdin.Close()
		timer := time.NewTimer(pyCloseGrace)
		defer timer.Stop()
		select {
		case <-s.exited:
		case <-timer.C:
			s.closeErr = s.withStderr(fmt.Errorf("pyref: %s: python still running %v after its input closed; killed", s.name, pyCloseGrace))
		}
		s.killGroup() // stragglers, if Python left any
		<-s.exited
		if err := s.cmd.Wait(); err != nil && s.closeErr == nil {
			s.closeErr = s.withStderr(fmt.Errorf("pyref: %s: python: %w", s.name, err))
		}
		s.release()
	})
	return s.closeErr
}

// withStderr adds the end of Python's standard error to err.
func (s *Process) withStderr(err error) error {
	if tail := strings.TrimSpace(s.stderr.String()); tail != "" {
		return fmt.Errorf("%w\npython stderr:\n%s", err, tail)
	}
	return err
}
