package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner"
)

func TestRunRejectsBadInput(t *testing.T) {
	maxWorkers := strconv.Itoa(runner.MaxWorkers)
	tests := []badInput{
		{name: "an unknown kernel", args: []string{"run", "-kernels", "hash,nosuch"}, want: []string{`unknown kernel "nosuch"`}},
		{name: "an empty kernel list", args: []string{"run", "-kernels", ","}, want: []string{"-kernels is empty"}},
		{name: "a shape no kernel has", args: []string{"run", "-kernels", "hash", "-shapes", "round"}, want: []string{`shape "round"`}},
		{name: "an unknown strategy", args: []string{"run", "-strategies", "serial,threads"}, want: []string{`unknown strategy "threads"`}},
		{name: "an unknown sched", args: []string{"run", "-sched", "guided"}, want: []string{`unknown sched "guided"`}},
		{name: "zero workers", args: []string{"run", "-workers", "0"}, want: []string{"-workers 0: want 1 to " + maxWorkers}},
		{name: "a negative worker count", args: []string{"run", "-workers", "-1"}, want: []string{"-workers -1: want 1 to " + maxWorkers}},
		{name: "a worker count that is not a number", args: []string{"run", "-workers", "1,abc"}, want: []string{`"abc" is not a number`}},
		{name: "more workers than a pool can have", args: []string{"run", "-workers", "100000"}, want: []string{"-workers 100000: want 1 to " + maxWorkers}},
		{name: "an unknown size", args: []string{"run", "-kernels", "hash", "-size", "huge"}, want: []string{`no size "huge"`}},
		{name: "a negative count", args: []string{"run", "-count", "-1"}, want: []string{"-count -1"}},
		{name: "a precision of more than 1", args: []string{"run", "-precision", "2"}, want: []string{"-precision 2"}},
		{name: "a budget of nothing", args: []string{"run", "-budget", "0s"}, want: []string{"-budget 0s"}},
		{name: "a negative warmup", args: []string{"run", "-warmup", "-1"}, want: []string{"-warmup -1"}},
		{name: "a count that is not a number", args: []string{"run", "-count", "abc"}, want: []string{"-count abc: want a whole number"}},
		{name: "a budget without a unit", args: []string{"run", "-budget", "5"}, want: []string{"-budget 5: want a duration, e.g. 3s"}},
		{name: "an unknown flag", args: []string{"run", "-nosuch", "1"}, want: []string{"unknown flag -nosuch"}},
		{name: "no forks", args: []string{"run", "-forks", "0"}, want: []string{"-forks 0: want 1 to"}},
		{name: "an unknown scaling", args: []string{"run", "-scaling", "medium"}, want: []string{`unknown -scaling "medium"`}},
		{name: "an unknown reference", args: []string{"run", "-ref", "native,bogus"}, want: []string{`unknown -ref "bogus"`}},
		{name: "an unknown placement", args: []string{"run", "-pin", "none,scatter"}, want: []string{`-pin: unknown placement policy "scatter" (have none, cores, spread, compact)`}},
		{name: "an empty placement list", args: []string{"run", "-pin", ","}, want: []string{"-pin is empty"}},
		{name: "negative chunks", args: []string{"run", "-chunks", "-1"}, want: []string{"-chunks -1: want 1 to"}},
		{name: "arguments after the flags", args: []string{"run", "-count", "1", "extra"}, want: []string{`run takes no arguments, got ["extra"]`}},
		{
			name: "an output directory under /proc, where none can be made",
			args: []string{"run", "-o", "/proc/nonexistent/x.txt"},
			want: []string{"cannot create /proc/nonexistent"},
		},
		{
			name: "an output directory that exists and takes no files",
			args: []string{"run", "-o", "/proc/x.txt"},
			want: []string{"cannot write to /proc"},
		},
		{
			name: "an output directory under a regular file",
			args: []string{"run", "-o", "{dir}/file/sub/out.txt"},
			want: []string{"cannot create {dir}/file/sub", "not a directory"},
		},
		{
			name:     "an output directory without write permission",
			args:     []string{"run", "-o", "{dir}/readonly/out.txt"},
			want:     []string{"cannot write to {dir}/readonly"},
			needUser: true,
		},
	}
	for _, tt := range tests {
		tt.name += " is a usage error that names it"
		t.Run(tt.name, tt.run)
	}
}

// smallHash is the kernel configuration of the test sweeps, as result files
// name it.
const smallHash = "Hash/shape=uniform/size=4Mi"

// smallSweep runs a sweep of smallHash at 1 and 2 workers, with every
// strategy and sched and count samples per cell, writing its result file
// to path.
func smallSweep(t *testing.T, path string, count int) {
	t.Helper()
	args := []string{"run", "-kernels", "hash", "-shapes", "uniform", "-size", "small",
		"-workers", "1,2", "-count", strconv.Itoa(count), "-ref", "none", "-o", path}
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := runCorescale(t, args...)
		done <- result{code, stdout, stderr}
	}()
	// The sweep takes well under a second; fail rather than wait for go
	// test's timeout if a pool hangs (see knownBugs).
	const limit = time.Minute
	var r result
	select {
	case r = <-done:
	case <-time.After(limit):
		t.Fatalf("corescale %s still runs after %v", strings.Join(args, " "), limit)
	}
	code, stdout, stderr := r.code, r.stdout, r.stderr
	if code != exitOK {
		t.Fatalf("corescale run: exit status %d\nstderr:\n%s", code, stderr)
	}
	if stdout != path+"\n" {
		t.Errorf("corescale run printed %q, want the result file's path %q", stdout, path)
	}
}

// smallSweepCells returns the names of the cells of smallSweep.
func smallSweepCells(t *testing.T) []string {
	t.Helper()
	strategies := runner.Strategies()
	for _, s := range []string{"serial", "goroutines", "procpool"} {
		if !slices.Contains(strategies, s) {
			t.Fatalf("strategies %v lack %s", strategies, s)
		}
	}
	// The baseline runs once per round under dynamic scheduling, and again
	// as its A/A twin.
	cells := []string{smallHash + "/strategy=serial/sched=dynamic/workers=1", smallHash + "/strategy=serial-aa/sched=dynamic/workers=1"}
	for _, s := range strategies {
		for _, workers := range []int{1, 2} {
			if s == "serial" {
				continue
			}
			for _, sched := range []string{"dynamic", "static"} {
				cells = append(cells, fmt.Sprintf("%s/strategy=%s/sched=%s/workers=%d", smallHash, s, sched, workers))
			}
		}
	}
	return cells
}

// resultFile is what a result file holds, as package resultfile reads it.
type resultFile struct {
	config  map[string]string // configuration and note lines
	samples map[string]int    // result lines by benchmark name, without start-ups and ceilings
	total   int               // of samples
}

func readResultFile(t *testing.T, path string) resultFile {
	t.Helper()
	file, err := resultfile.ReadFile(path)
	if err != nil {
		t.Fatalf("result file: %v", err)
	}
	rf := resultFile{config: map[string]string{}, samples: map[string]int{}}
	for _, c := range append(file.Config, file.Notes...) {
		rf.config[c.Key] = c.Value
	}
	for _, s := range file.Samples {
		rf.samples[s.Name]++
		rf.total++
	}
	return rf
}

// checkCells checks that rf has rounds samples of every cell and no other
// cell.
func (rf resultFile) checkCells(t *testing.T, cells []string, rounds int) {
	t.Helper()
	for _, c := range cells {
		if rf.samples[c] != rounds {
			t.Errorf("%d samples of %s, want %d", rf.samples[c], c, rounds)
		}
	}
	for name := range rf.samples {
		if !slices.Contains(cells, name) {
			t.Errorf("unexpected benchmark %s", name)
		}
	}
}

func TestRunWritesOneLinePerSample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.txt")
	smallSweep(t, path, 2)
	rf := readResultFile(t, path)
	rf.checkCells(t, smallSweepCells(t), 2)

	for key, want := range map[string]string{"goos": runtime.GOOS, "ncpu": strconv.Itoa(runtime.NumCPU()), "count": "2", "scaling": "strong"} {
		if got := rf.config[key]; got != want {
			t.Errorf("config %s: %q, want %q", key, got, want)
		}
	}
	for _, key := range []string{"cpu", "commit"} {
		if rf.config[key] == "" {
			t.Errorf("config %s is missing or empty", key)
		}
	}
	if _, err := time.Parse(time.RFC3339, rf.config["date"]); err != nil {
		t.Errorf("config date: %v", err)
	}
	if v, ok := rf.config["interrupted"]; ok {
		t.Errorf("a finished run is marked interrupted: %q", v)
	}
}

// A corescaleProcess is corescale in a subprocess: this test binary,
// started with envRunMain, in a process group of its own as a shell starts
// a job.
type corescaleProcess struct {
	cmd            *exec.Cmd
	exe            string // the executable, which its pool workers run too
	stdout, stderr bytes.Buffer
	exited         chan struct{} // closed once it has exited and its output is in
}

func startCorescale(t *testing.T, args ...string) *corescaleProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &corescaleProcess{exe: exe, exited: make(chan struct{})}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Env = append(os.Environ(), envRunMain+"=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	return p
}

// kill kills the process group, corescale and any worker of it, if
// corescale still runs, and waits for corescale.
func (p *corescaleProcess) kill() {
	select {
	case <-p.exited:
	default:
		_ = unix.Kill(-p.cmd.Process.Pid, unix.SIGKILL)
		<-p.exited
	}
}

func (p *corescaleProcess) String() string { return "corescale " + strings.Join(p.cmd.Args[1:], " ") }

// wait waits up to timeout for corescale to exit and returns its exit
// status; past timeout it kills it and fails the test.
func (p *corescaleProcess) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.kill()
		t.Fatalf("%s still ran %v later; killed\nstderr:\n%s", p, timeout, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// A proc is a process, told apart from a later one with the same pid by
// its start time.
type proc struct {
	pid   int
	start uint64 // clock ticks after boot
}

// procStat reads a process's state, parent and start time from
// /proc/PID/stat.
func procStat(pid int) (state string, ppid int, start uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, 0, err
	}
	// Field 2, the command name in parentheses, may hold spaces and
	// parentheses itself; the fields after it start with field 3.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 20 {
		return "", 0, 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, b)
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, b)
	}
	return f[0], ppid, start, nil
}

// workers returns the live pool workers of corescale: its children that run
// its executable (workers are the program re-executed).
func (p *corescaleProcess) workers(t *testing.T) []proc {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var ws []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, ppid, start, err := procStat(pid)
		if err != nil || ppid != p.cmd.Process.Pid || state == "Z" || state == "X" {
			continue
		}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || exe != p.exe {
			continue
		}
		ws = append(ws, proc{pid, start})
	}
	return ws
}

// awaitWorkers waits up to timeout until corescale has n workers, and
// returns them.
func (p *corescaleProcess) awaitWorkers(t *testing.T, n int, timeout time.Duration) []proc {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ws := p.workers(t)
		if len(ws) >= n {
			return ws
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited with status %d before it had %d workers\nstderr:\n%s", p, p.cmd.ProcessState.ExitCode(), n, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d workers after %v, want %d", p, len(ws), timeout, n)
		}
	}
}

// adoptOrphans makes this process, for the rest of the test, the reaper of
// its orphaned descendants: a worker that outlives corescale comes to it,
// where it can be told from a dead one and reaped.
func adoptOrphans(t *testing.T) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		// Orphans go to init then; gone still tells the dead ones.
		t.Logf("cannot become a subreaper: %v", err)
		return
	}
	t.Cleanup(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
}

// gone reports whether pr has exited, reaping it if it is an orphan that
// came to this process.
func gone(pr proc) bool {
	state, ppid, start, err := procStat(pr.pid)
	switch {
	case err != nil || start != pr.start:
		return true // reaped, and its pid maybe reused
	case state == "Z" && ppid == os.Getpid():
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pr.pid, &ws, unix.WNOHANG, nil)
		return true
	}
	return state == "Z" || state == "X"
}

// checkGone fails the test for every process of procs still alive within
// the given time, and kills it.
func checkGone(t *testing.T, procs []proc, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, pr := range procs {
		for !gone(pr) {
			if time.Now().After(deadline) {
				t.Errorf("worker pid %d still runs %v after corescale exited", pr.pid, within)
				_ = unix.Kill(pr.pid, unix.SIGKILL)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// checkNoTempFiles checks that dir holds only the files named keep: no
// temporary result file, no check file.
func checkNoTempFiles(t *testing.T, dir string, keep ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(keep, e.Name()) {
			t.Errorf("%s left in %s", e.Name(), dir)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// interruptedIn matches the message of a run interrupted after its first
// round.
var interruptedIn = regexp.MustCompile(`^corescale: interrupted; (\d+) samples of the finished rounds are in (.+) \(marked interrupted\)$`)

func TestRunStopsCleanlyOnSignal(t *testing.T) {
	adoptOrphans(t)
	tests := []struct {
		name  string
		sig   syscall.Signal
		group bool // signal the process group, as a terminal's Ctrl-C does
	}{
		{"Ctrl-C, which signals the whole process group,", unix.SIGINT, true},
		{"SIGINT to corescale alone", unix.SIGINT, false},
		{"SIGTERM to corescale alone", unix.SIGTERM, false},
		{"SIGTERM from timeout, which signals the whole process group,", unix.SIGTERM, true},
	}
	for _, tt := range tests {
		t.Run(tt.name+" stops the sweep with status 130, whole rounds and no worker left", func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "r.txt")
			p := startCorescale(t, "run", "-kernels", "hash", "-shapes", "uniform", "-size", "small",
				"-workers", "1,2", "-count", "100000", "-ref", "none", "-o", path)
			workers := p.awaitWorkers(t, 3, 10*time.Second) // procpool at 1 and 2 workers
			time.Sleep(500 * time.Millisecond)              // some rounds in, and mid-round

			target := p.cmd.Process.Pid
			if tt.group {
				target = -target
			}
			if err := unix.Kill(target, tt.sig); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			code := p.wait(t, 10*time.Second)
			took := time.Since(sent)
			checkGone(t, workers, 2*time.Second)
			stderr := p.stderr.String()

			if code != exitInterrupted {
				t.Fatalf("exit status %d, want %d\nstderr:\n%s", code, exitInterrupted, stderr)
			}
			if took > 5*time.Second {
				t.Errorf("corescale took %v to stop, want a few seconds at most", took.Round(time.Millisecond))
			}
			if p.stdout.Len() > 0 {
				t.Errorf("an interrupted run printed %q on stdout, want nothing", p.stdout.String())
			}
			last := lastLine(stderr)
			if _, err := os.Stat(path); os.IsNotExist(err) {
				t.Logf("interrupted before the first round finished")
				if last != "corescale: interrupted before the first round finished; no result file written" {
					t.Errorf("no result file, and stderr ends with %q", last)
				}
				checkNoTempFiles(t, dir)
				return
			}
			checkNoTempFiles(t, dir, "r.txt")
			m := interruptedIn.FindStringSubmatch(last)
			if m == nil || m[2] != path {
				t.Fatalf("stderr ends with %q, want it to say how many samples are in %s", last, path)
			}
			rf := readResultFile(t, path)
			if rf.config["interrupted"] != "true" {
				t.Errorf("the result file of an interrupted run has interrupted: %q, want true", rf.config["interrupted"])
			}
			if strconv.Itoa(rf.total) != m[1] {
				t.Errorf("the result file has %d samples, corescale said %s", rf.total, m[1])
			}
			cells := smallSweepCells(t)
			rounds := rf.samples[cells[0]]
			rf.checkCells(t, cells, rounds) // whole rounds only
			t.Logf("%d rounds, stopped in %v", rounds, took.Round(time.Millisecond))
		})
	}
}

func TestRunFailsWhenAWorkerDies(t *testing.T) {
	adoptOrphans(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "r.txt")
	p := startCorescale(t, "run", "-kernels", "hash", "-shapes", "uniform", "-size", "small",
		"-strategies", "procpool", "-workers", "2", "-count", "100000", "-ref", "none", "-o", path)
	seen := p.awaitWorkers(t, 2, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // past the warm-up

	// The workers are busy most of the time, but a worker killed between
	// two jobs is replaced before the next one and the sweep goes on: kill
	// until one dies holding a job.
	var killed []int
	deadline := time.Now().Add(5 * time.Second)
	for stopped := false; !stopped; {
		if time.Now().After(deadline) {
			// Or the pool hung before the first kill (see knownBugs):
			// workers that finished their job may die unnoticed.
			t.Fatalf("%s still runs 5s after its workers %v were killed", p, killed)
		}
		if ws := p.workers(t); len(ws) > 0 {
			if err := unix.Kill(ws[0].pid, unix.SIGKILL); err == nil {
				killed = append(killed, ws[0].pid)
			}
			for _, w := range ws {
				if !slices.Contains(seen, w) {
					seen = append(seen, w)
				}
			}
		}
		select {
		case <-p.exited:
			stopped = true
		case <-time.After(300 * time.Millisecond):
		}
	}
	t.Logf("killed %d worker(s) before the run failed", len(killed))

	code := p.wait(t, time.Second)
	checkGone(t, seen, 2*time.Second)
	stderr := p.stderr.String()
	if code != exitFailure {
		t.Fatalf("exit status %d, want %d\nstderr:\n%s", code, exitFailure, stderr)
	}
	last := lastLine(stderr)
	if !strings.HasPrefix(last, "corescale: ") {
		t.Errorf("stderr ends with %q, want corescale's error", last)
	}
	if !strings.Contains(last, smallHash+"/strategy=procpool/sched=") {
		t.Errorf("error %q does not name the cell", last)
	}
	if !strings.Contains(last, "died") && !strings.Contains(last, "killed") {
		t.Errorf("error %q does not say the worker died", last)
	}
	if !slices.ContainsFunc(killed, func(pid int) bool { return strings.Contains(last, fmt.Sprintf("(pid %d)", pid)) }) {
		t.Errorf("error %q names none of the killed workers %v", last, killed)
	}
	if p.stdout.Len() > 0 {
		t.Errorf("a failed run printed %q on stdout, want nothing", p.stdout.String())
	}
	// What the finished rounds measured is kept, marked failed.
	if strings.Contains(last, "marked failed") {
		checkNoTempFiles(t, dir, "r.txt")
		if rf := readResultFile(t, path); rf.config["failed"] == "" || rf.total == 0 {
			t.Errorf("the result file of a failed run: failed note %q, %d samples", rf.config["failed"], rf.total)
		}
	} else {
		checkNoTempFiles(t, dir) // failed before the first round finished
	}
}

func TestSizeAutoPicksBigSizesOnlyOnBigMachines(t *testing.T) {
	tests := []struct {
		usable int
		want   map[string]string // kernel -> named size
	}{
		{2, map[string]string{"hash": "default", "matmul": "default", "search": "default"}},
		{16, map[string]string{"hash": "default", "matmul": "default", "search": "default"}},
		{128, map[string]string{"hash": "large", "matmul": "large", "search": "large"}},
	}
	for _, tt := range tests {
		plan, err := makePlan("hash,matmul,search", "", "auto,default", 0, 1, tt.usable)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]int{}
		for _, p := range plan.Configs {
			if !slices.Contains(got[p.Kernel], p.Size) {
				got[p.Kernel] = append(got[p.Kernel], p.Size)
			}
		}
		for kernel, size := range tt.want {
			info, _ := kernels.Lookup(kernel)
			want := []int{info.Sizes[size]}
			if size != "default" {
				want = append(want, info.Sizes["default"])
			}
			if !slices.Equal(got[kernel], want) {
				t.Errorf("%d usable CPUs: %s sizes %v, want %v (auto = %s, then default, once each)", tt.usable, kernel, got[kernel], want, size)
			}
		}
	}
}

// Pools of up to 256 workers start, run and close within one sweep, and
// leave nothing behind: no process of corescale's process group (its
// workers are in it) outlives it, and it wrote its result file.
func TestRunWithPoolsOfUpTo256WorkersLeavesNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 427 worker processes")
	}
	path := filepath.Join(t.TempDir(), "r.txt")
	p := startCorescale(t, "run", "-kernels", "hash", "-shapes", "uniform", "-size", "small",
		"-strategies", "procpool", "-sched", "dynamic", "-workers", "1,2,8,32,128,256",
		"-count", "2", "-warmup", "0", "-ref", "none", "-o", path)
	if code := p.wait(t, 3*time.Minute); code != 0 {
		t.Fatalf("exit status %d\nstderr:\n%s", code, p.stderr.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for unix.Kill(-p.cmd.Process.Pid, 0) != unix.ESRCH {
		if time.Now().After(deadline) {
			t.Fatalf("processes of corescale's group outlive it by 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rf := readResultFile(t, path)
	for _, n := range []int{1, 2, 8, 32, 128, 256} {
		if got := rf.samples[fmt.Sprintf("%s/strategy=procpool/sched=dynamic/workers=%d", smallHash, n)]; got != 2 {
			t.Errorf("%d workers: %d runs in the file, want 2", n, got)
		}
	}
}
