package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/internal/modroot"
	"github.com/corescale/corescale/runner/procpool"
)

// The Python reference strategies run the same workload as the Go ones with
// what a Python programmer would write: a loop, a thread pool, and
// multiprocessing.Pool with results pickled back (py-pool) or written in
// shared memory (py-pool-shm). They are scripts/pyref/pyref.py, started once
// per strategy and kept, like a pool; it maps the workload's region from the
// memfd it inherits and computes into the same outputs, which Measure then
// verifies with the same code as every other strategy's.
//
// Each strategy is one Python process (plus its pool's workers) in a process
// group of its own, so that cancellation and Close can kill the whole tree.
func init() {
	for _, name := range PythonStrategies() {
		def := strategyDef{reference: true, build: func(w *Workload, workers int) (Strategy, error) {
			return newPython(name, w, workers)
		}}
		if name == "py-serial" {
			def.maxWorkers = 1
		}
		strategies[name] = def
	}
}

// PythonStrategies returns the names of the Python reference strategies.
func PythonStrategies() []string {
	return []string{"py-pool", "py-pool-shm", "py-serial", "py-threads"}
}

// IsPythonStrategy reports whether name is a Python reference strategy:
// one that needs Python 3 on the machine.
func IsPythonStrategy(name string) bool { return slices.Contains(PythonStrategies(), name) }

// Environment variables that choose the Python interpreter and the script.
const (
	EnvPython = "CORESCALE_PYTHON" // interpreter; default python3 on PATH
	EnvPyref  = "CORESCALE_PYREF"  // pyref.py; default scripts/pyref/pyref.py of the module
	// envPyrefCorrupt makes pyref.py flip a byte of its outputs after each
	// run, for tests of verification.
	envPyrefCorrupt = "CORESCALE_PYREF_CORRUPT"
	// envPyrefT0 carries the monotonic clock at exec, so that pyref.py can
	// report the interpreter's own start-up.
	envPyrefT0 = "CORESCALE_PYREF_T0"
)

const (
	pyrefPath = "scripts/pyref/pyref.py"
	// pyStartTimeout bounds the wait for the ready line: interpreter,
	// imports (numpy is the slow one) and forking the pool.
	pyStartTimeout = time.Minute
	// pyCloseGrace is how long Close lets Python join its pool before it
	// kills the process group.
	pyCloseGrace = 5 * time.Second
)

// PythonAvailable reports whether the Python strategies can run here: an
// interpreter of Python 3.8 or newer and pyref.py were found. The error
// says what is missing and how to supply it.
func PythonAvailable() error {
	_, _, err := findPython()
	return err
}

// PythonInfo describes the Python that runs the reference strategies, for
// the configuration lines of a result file.
type PythonInfo struct {
	Python         string `json:"python"`         // version, e.g. "3.11.7"
	Implementation string `json:"implementation"` // CPython, PyPy
	Executable     string `json:"executable"`
	GIL            bool   `json:"gil"`
	Numpy          string `json:"numpy"` // version, or "" when absent
	BLAS           string `json:"blas"`  // the BLAS library numpy loaded, "none" or "unknown"
	Script         string `json:"-"`     // path of pyref.py
}

// DescribePython runs pyref.py --describe.
func DescribePython(ctx context.Context) (PythonInfo, error) {
	python, script, err := findPython()
	if err != nil {
		return PythonInfo{}, err
	}
	out, err := exec.CommandContext(ctx, python, script, "--describe").Output()
	if err != nil {
		return PythonInfo{}, fmt.Errorf("runner: %s --describe: %w%s", script, err, stderrOf(err))
	}
	var info PythonInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return PythonInfo{}, fmt.Errorf("runner: %s --describe: %w", script, err)
	}
	info.Script = script
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

// findPython returns the Python executable and the path of pyref.py.
func findPython() (python, script string, err error) {
	name := os.Getenv(EnvPython)
	if name == "" {
		name = "python3"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(EnvPython) != "" {
			return "", "", fmt.Errorf("runner: %s=%s: %w: point it at a Python 3 interpreter to run py-* strategies", EnvPython, name, err)
		}
		return "", "", fmt.Errorf("runner: python3 not found: install Python 3 to run py-* strategies (or set %s)", EnvPython)
	}
	check, ok := interpreters.Load(path)
	if !ok {
		check = checkInterpreter(path)
		interpreters.Store(path, check)
	}
	c := check.(pythonCheck)
	if c.err != nil {
		return "", "", c.err
	}
	script, err = findScript()
	return c.executable, script, err
}

func checkInterpreter(path string) pythonCheck {
	const probe = "import sys; print(sys.executable); print(sys.version_info >= (3, 8))"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-c", probe).Output()
	if err != nil {
		return pythonCheck{err: fmt.Errorf("runner: %s does not run: %w%s", path, err, stderrOf(err))}
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		return pythonCheck{err: fmt.Errorf("runner: %s: unexpected answer %q to a version check", path, out)}
	}
	if lines[1] != "True" {
		return pythonCheck{err: fmt.Errorf("runner: %s is older than Python 3.8: install Python 3 to run py-* strategies", path)}
	}
	return pythonCheck{executable: lines[0]}
}

// findScript finds pyref.py: $CORESCALE_PYREF, else scripts/pyref/pyref.py
// in this module's root, looked for above the working directory and then
// above the executable (go test runs in the package's directory, an
// installed binary anywhere).
func findScript() (string, error) {
	if p := os.Getenv(EnvPyref); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("runner: %s=%s: %w", EnvPyref, p, err)
		}
		return p, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		if root, ok := modroot.Find(dir); ok {
			p := filepath.Join(root, pyrefPath)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("runner: %s not found above %s: run from the corescale module or set %s", pyrefPath, strings.Join(starts, " or "), EnvPyref)
}

// python is a running pyref.py serving one strategy over one workload. Like
// the other strategies it is not safe for concurrent use.
type python struct {
	name    string
	workers int
	cmd     *exec.Cmd
	stdin   *os.File
	stdout  *os.File
	lines   chan string   // from stdout; closed at EOF
	exited  chan struct{} // closed when the Python process has exited (not yet reaped)
	done    chan struct{} // closed by release: nobody reads lines any more
	stderr  *tailBuffer
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
	PythonInfo
}

// pyAnswer is pyref.py's answer to a run.
type pyAnswer struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error"`
	WallNs int64   `json:"wall_ns"`
	BusyNs []int64 `json:"busy_ns"`
}

func newPython(name string, w *Workload, workers int) (Strategy, error) {
	pythonPath, script, err := findPython()
	if err != nil {
		return nil, err
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("runner: %s: %w", name, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("runner: %s: %w", name, err)
	}
	s := &python{
		name: name, workers: workers, stdin: inW, stdout: outR,
		lines: make(chan string), exited: make(chan struct{}), done: make(chan struct{}), stderr: &tailBuffer{max: 8 << 10},
	}
	s.cmd = exec.Command(pythonPath, script,
		"--strategy", name, "--workers", strconv.Itoa(workers),
		"--fd", "3", "--size", strconv.Itoa(w.region.Size()), "--task", string(w.task))
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = inR, outW, s.stderr
	s.cmd.ExtraFiles = []*os.File{w.region.File()} // fd 3
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
		return nil, fmt.Errorf("runner: %s: starting %s: %w", name, pythonPath, err)
	}
	go s.read()
	go s.waitExit()

	line, err := s.next(context.Background(), pyStartTimeout)
	if err != nil {
		s.abort(err)
		return nil, s.withStderr(fmt.Errorf("runner: %s: start-up: %w", name, err))
	}
	if err := json.Unmarshal([]byte(line), &s.ready); err != nil || (!s.ready.Ready && s.ready.Error == "") {
		s.abort(errors.New("bad ready line"))
		return nil, s.withStderr(fmt.Errorf("runner: %s: start-up: unexpected line %q", name, line))
	}
	if !s.ready.Ready {
		s.Close()
		return nil, fmt.Errorf("runner: %s: %s", name, s.ready.Error)
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
func (s *python) Startup() time.Duration { return s.startup }

func (s *python) Run(ctx context.Context, sched procpool.Sched) (Timing, error) {
	if s.dead != nil {
		return Timing{}, s.dead
	}
	if err := ctx.Err(); err != nil {
		return Timing{}, err
	}
	if sched != procpool.Dynamic && sched != procpool.Static {
		return Timing{}, fmt.Errorf("runner: %s: unknown sched %v", s.name, sched)
	}
	if _, err := fmt.Fprintf(s.stdin, "run %v\n", sched); err != nil {
		err = s.withStderr(fmt.Errorf("runner: %s: sending the run: %w", s.name, err))
		s.abort(err)
		return Timing{}, err
	}
	line, err := s.next(ctx, 0)
	if err != nil {
		if ctx.Err() != nil {
			// multiprocessing.Pool cannot abandon a map: the only way to
			// stop a run is to kill the tree.
			s.abort(fmt.Errorf("runner: %s: killed when a run was cancelled", s.name))
			return Timing{}, ctx.Err()
		}
		err = s.withStderr(fmt.Errorf("runner: %s: %w", s.name, err))
		s.abort(err)
		return Timing{}, err
	}
	var a pyAnswer
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		err = fmt.Errorf("runner: %s: unexpected answer %q", s.name, line)
		s.abort(err)
		return Timing{}, err
	}
	if !a.OK {
		return Timing{}, fmt.Errorf("runner: %s: %s", s.name, a.Error)
	}
	if len(a.BusyNs) != s.workers || a.WallNs <= 0 {
		return Timing{}, fmt.Errorf("runner: %s: answer %q: want a wall time and %d busy times", s.name, line, s.workers)
	}
	t := Timing{Wall: time.Duration(a.WallNs), Busy: make([]time.Duration, len(a.BusyNs))}
	for i, b := range a.BusyNs {
		t.Busy[i] = time.Duration(b)
	}
	return t, nil
}

// next returns the next line from Python, waiting at most timeout (0: no
// limit) and no longer than ctx. Once Python has exited it returns what it
// wrote last, if anything.
func (s *python) next(ctx context.Context, timeout time.Duration) (string, error) {
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
func (s *python) read() {
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
func (s *python) waitExit() {
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
func (s *python) killGroup() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // ESRCH: nobody left
}

// abort kills the process tree, reaps Python and marks the strategy dead
// with why.
func (s *python) abort(why error) {
	s.closeOnce.Do(func() {
		s.dead = why
		s.killGroup()
		<-s.exited
		_ = s.cmd.Wait() // killed: its status says so and nothing more
		s.release()
	})
}

func (s *python) release() {
	close(s.done)
	s.stdin.Close()
	s.stdout.Close()
}

// Close ends the strategy: Python sees EOF on its input, closes and joins its
// pool and exits; if it has not within a grace period, the process group is
// killed. Any process left in the group is killed either way, so nothing
// outlives Close.
func (s *python) Close() error {
	s.closeOnce.Do(func() {
		s.dead = fmt.Errorf("runner: %s: closed", s.name)
		s.stdin.Close()
		timer := time.NewTimer(pyCloseGrace)
		defer timer.Stop()
		select {
		case <-s.exited:
		case <-timer.C:
			s.closeErr = s.withStderr(fmt.Errorf("runner: %s: python still running %v after its input closed; killed", s.name, pyCloseGrace))
		}
		s.killGroup() // stragglers, if Python left any
		<-s.exited
		if err := s.cmd.Wait(); err != nil && s.closeErr == nil {
			s.closeErr = s.withStderr(fmt.Errorf("runner: %s: python: %w", s.name, err))
		}
		s.release()
	})
	return s.closeErr
}

// withStderr adds the end of Python's standard error to err.
func (s *python) withStderr(err error) error {
	if tail := strings.TrimSpace(s.stderr.String()); tail != "" {
		return fmt.Errorf("%w\npython stderr:\n%s", err, tail)
	}
	return err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
