package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner"
)

func TestRunInForksMergesTheirRounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.txt")
	p := startCorescale(t, "run", "-kernels", "hash", "-shapes", "uniform", "-size", "small", "-strategies", "serial,goroutines,procpool",
		"-sched", "dynamic", "-workers", "1,2", "-count", "6", "-forks", "3", "-ref", "none", "-o", path)
	if code := p.wait(t, time.Minute); code != exitOK {
		t.Fatalf("exit status %d\nstderr:\n%s", code, p.stderr.String())
	}
	f, err := resultfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Rounds[smallHash]; !slices.Equal(got, []int{2, 2, 2}) {
		t.Errorf("rounds %v, want 2 from each of 3 forks", got)
	}
	if f.Get(resultfile.NoteForks) != "3" {
		t.Errorf("forks note %q", f.Get(resultfile.NoteForks))
	}
	forks := map[string][]int{}
	for _, s := range f.Samples {
		forks[s.Name] = append(forks[s.Name], s.Fork)
	}
	if len(forks) != 6 { // serial, serial-aa, goroutines and procpool at 1 and 2
		t.Errorf("%d cells, want 6", len(forks))
	}
	for name, fs := range forks {
		if !slices.Equal(fs, []int{0, 0, 1, 1, 2, 2}) {
			t.Errorf("%s: samples from forks %v, want two from each in order", name, fs)
		}
	}
	// One start-up per fork of each pool.
	if len(f.Startups) != 3*2 {
		t.Errorf("%d start-ups, want 6", len(f.Startups))
	}
	if n := strings.Count(p.stderr.String(), "warning: load average"); n > 1 {
		t.Errorf("the load warning came %d times: forks must not repeat the parent's warnings", n)
	}
}

func TestInterruptedForksLeaveWholeRoundsAndNoProcess(t *testing.T) {
	adoptOrphans(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "r.txt")
	p := startCorescale(t, "run", "-kernels", "hash", "-shapes", "uniform", "-size", "small",
		"-workers", "1,2", "-count", "100000", "-forks", "2", "-ref", "none", "-o", path)
	time.Sleep(2 * time.Second) // the first fork is into its rounds, unless the machine is slow
	if err := unix.Kill(p.cmd.Process.Pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 20*time.Second); code != exitInterrupted {
		t.Fatalf("exit status %d, want %d\nstderr:\n%s", code, exitInterrupted, p.stderr.String())
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := groupMembers(p.cmd.Process.Pid)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v of corescale's group still run", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		// A loaded machine (go test runs packages side by side) may not
		// have finished the first fork's first round yet.
		if last := lastLine(p.stderr.String()); last != "corescale: interrupted before the first round finished; no result file written" {
			t.Errorf("no result file, and stderr ends with %q", last)
		}
		checkNoTempFiles(t, dir)
		return
	}
	f, err := resultfile.ReadFile(path)
	if err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, p.stderr.String())
	}
	if !f.Interrupted || len(f.Samples) == 0 || len(f.Rounds[smallHash]) != 1 {
		t.Errorf("interrupted %v, %d samples, rounds %v: want the first fork's whole rounds, marked interrupted", f.Interrupted, len(f.Samples), f.Rounds)
	}
	checkNoTempFiles(t, dir, "r.txt")
}

// groupMembers returns the live processes of process group pgid, reaping
// the ones that came to this process as orphans.
func groupMembers(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if f[0] == "Z" {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func TestRunFailsNamingAStoppedWorker(t *testing.T) {
	adoptOrphans(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "r.txt")
	p := startCorescale(t, "run", "-kernels", "hash", "-shapes", "uniform", "-size", "small", "-strategies", "procpool",
		"-sched", "dynamic", "-workers", "2", "-count", "100000", "-job-timeout", "1s", "-ref", "none", "-o", path)
	workers := p.awaitWorkers(t, 2, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // past the warm-up
	if err := unix.Kill(workers[0].pid, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	code := p.wait(t, 15*time.Second)
	took := time.Since(stopped)
	checkGone(t, workers, 2*time.Second)
	last := lastLine(p.stderr.String())
	t.Logf("%v after SIGSTOP: %s", took.Round(time.Millisecond), last)
	if code != exitFailure || !strings.Contains(last, "job timed out") || !strings.Contains(last, "T stopped") || !strings.Contains(last, "killed and replaced") {
		t.Fatalf("exit status %d, stderr ends with %q: want 1 and the stopped worker named", code, last)
	}
	if took > 5*time.Second {
		t.Errorf("the stuck job took %v to report, want about the 1s timeout", took)
	}
	if !strings.Contains(last, "marked failed") {
		// Stopped in the first round (a loaded machine is slow to get
		// past the warm-up): nothing finished, nothing written.
		checkNoTempFiles(t, dir)
		return
	}
	if f, err := resultfile.ReadFile(path); err != nil {
		t.Errorf("result file: %v", err)
	} else if f.Failed == "" || len(f.Samples) == 0 {
		t.Errorf("result file: %d samples, failed %q: want the finished rounds, marked failed", len(f.Samples), f.Failed)
	}
}

func TestProgressShowsARunFarSlowerThanUsual(t *testing.T) {
	start := time.Now()
	pr := runner.Progress{Samples: 40, Current: smallHash, Job: smallHash + "/strategy=procpool", JobStart: start, JobUsual: 2 * time.Millisecond}
	if got := note(pr, start.Add(10*time.Millisecond)); strings.Contains(got, "SLOW") {
		t.Errorf("a run at 5x its usual time: %q", got)
	}
	if got := note(pr, start.Add(3*time.Second)); !strings.Contains(got, "SLOW: "+pr.Job+" running for 3s (usually 2ms)") {
		t.Errorf("a run at 1500x its usual time: %q", got)
	}
}
