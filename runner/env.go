package runner

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/internal/cacheflush"
	"github.com/corescale/corescale/internal/procstat"
	"github.com/corescale/corescale/kernels/dgemm"
	"github.com/corescale/corescale/resultfile"
)

// Env is what a sweep records about the machine it ran on, and what it
// should warn about before it starts.
type Env struct {
	Config   []resultfile.Config // what makes runs comparable: configuration lines
	Notes    []resultfile.Config // what differs from run to run: note lines
	Warnings []string
	// UsableCPUs is the CPUs the run can use at once: the online CPUs
	// within the affinity mask and the cgroup's cpuset, or the cgroup
	// quota rounded down where that is less, at least 1 (Machine's
	// UsableCPUs).
	UsableCPUs int
	Host       string
	Commit     string
}

// CheckEnv reads the machine's state: CPU model and count, its topology
// (Machine), the cgroup CPU quota and cpuset (containers often allow fewer
// CPUs than they show), GOMAXPROCS, the load average and the frequency
// governor where readable, the Go version and the commit of the code.
func CheckEnv() Env {
	var e Env
	add := func(k, v string) { e.Config = append(e.Config, resultfile.Config{Key: k, Value: v}) }
	note := func(k, v string) { e.Notes = append(e.Notes, resultfile.Config{Key: k, Value: v}) }
	warn := func(format string, args ...any) { e.Warnings = append(e.Warnings, fmt.Sprintf(format, args...)) }

	ncpu, procs := runtime.NumCPU(), runtime.GOMAXPROCS(0)
	e.Host, _ = os.Hostname()
	e.Commit = Commit()
	add(resultfile.ConfigGoos, runtime.GOOS)
	add(resultfile.ConfigGoarch, runtime.GOARCH)
	add(resultfile.ConfigCPU, cpuModel())
	add(resultfile.ConfigNCPU, strconv.Itoa(ncpu))
	add(resultfile.ConfigGomaxprocs, strconv.Itoa(procs))
	topo := Machine()
	e.UsableCPUs = topo.UsableCPUs()
	if procs < ncpu {
		warn("GOMAXPROCS is %d of %d CPUs: goroutine strategies cannot use them all", procs, ncpu)
	}
	quota := "none"
	if q := topo.Quota; q > 0 {
		quota = strconv.FormatFloat(q, 'f', 2, 64)
		if q < float64(ncpu) {
			warn("the cgroup CPU quota allows %.2f CPUs of the %d this machine shows: more workers than that only queue", q, ncpu)
		}
	}
	add(resultfile.ConfigCPUQuota, quota)
	add(resultfile.ConfigUsableCPUs, strconv.Itoa(e.UsableCPUs))
	e.Config = append(e.Config, topologyConfig(topo)...)
	if load, ok := loadAverage(); ok {
		note(resultfile.NoteLoadavg, strconv.FormatFloat(load, 'f', 2, 64))
	}
	// The load average lags by a minute, so it counts a corescale run that
	// just ended (ci-perf runs several in a row) as competition: what
	// competes is what is runnable now, besides ourselves.
	if others, ok := othersRunnable(); ok {
		note(resultfile.NoteRunnable, strconv.Itoa(others))
		if others > 0 && float64(others) >= 0.25*float64(ncpu) {
			warn("%d other tasks are runnable at start: other work competes for the %d CPUs and will blur the results", others, ncpu)
		}
	}
	governor := "unknown"
	if b, err := os.ReadFile("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"); err == nil {
		governor = strings.TrimSpace(string(b))
		if governor != "performance" {
			warn("CPU frequency governor is %q, not \"performance\": clock changes add noise", governor)
		}
	}
	add(resultfile.ConfigGovernor, governor)
	add(resultfile.ConfigGo, runtime.Version())
	note(resultfile.NoteDgemm, dgemm.Blocking()+", "+dgemm.Pages())
	note(resultfile.NoteFlush, cacheflush.Used())
	if k := kernelNote(); k != "" {
		note(resultfile.NoteKernel, k)
	}
	note(resultfile.NoteCommit, e.Commit)
	note(resultfile.NoteHost, e.Host)
	note(resultfile.NoteDate, time.Now().UTC().Format(time.RFC3339))
	return e
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// othersRunnable is the median over a few readings of /proc/stat's
// procs_running, less this process's own runnable threads (the reading
// one among them).
func othersRunnable() (int, bool) {
	var counts []int
	for i := range 5 {
		if i > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, false
		}
		if n, ok := procsRunning(b); ok {
			counts = append(counts, n-ownRunnable())
		}
	}
	if len(counts) == 0 {
		return 0, false
	}
	slices.Sort(counts)
	return max(0, counts[len(counts)/2]), true
}

// ownRunnable counts this process's threads that are runnable (state R).
func ownRunnable() int {
	tasks, _ := os.ReadDir("/proc/self/task")
	n := 0
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/stat")
		if err != nil {
			continue
		}
		if st, err := procstat.Parse(b); err == nil && st.State == 'R' {
			n++
		}
	}
	return max(1, n)
}

// procsRunning reads the runnable tasks from /proc/stat.
func procsRunning(stat []byte) (int, bool) {
	for _, line := range strings.Split(string(stat), "\n") {
		if v, ok := strings.CutPrefix(line, "procs_running "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}

// kernelNote returns the kernel's release followed by the boot parameters
// of its command line that bear on where and how soon threads run, or ""
// where neither is readable.
func kernelNote() string {
	var u unix.Utsname
	release := ""
	if unix.Uname(&u) == nil {
		release = unix.ByteSliceToString(u.Release[:])
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	params := schedParams(string(cmdline))
	switch {
	case release == "":
		return strings.Join(params, " ")
	case len(params) == 0:
		return release
	}
	return release + "; " + strings.Join(params, " ")
}

// schedParams picks from a kernel command line the parameters that bear on
// scheduling: the scheduler's own (sched*, isolcpus, nohz*, irqaffinity,
// rcu_nocbs), idle (idle, cpuidle*, haltpoll*, intel_idle*, processor*)
// and frequency (*pstate*). The rest of the line (consoles, init's
// arguments after "--") is left out.
func schedParams(cmdline string) []string {
	var out []string
	for _, f := range strings.Fields(cmdline) {
		if f == "--" {
			break
		}
		name, _, _ := strings.Cut(f, "=")
		name = strings.ToLower(name)
		for _, p := range []string{"sched", "isolcpus", "nohz", "irqaffinity", "rcu_nocbs", "idle", "cpuidle", "haltpoll", "intel_idle", "processor.", "intel_pstate", "amd_pstate"} {
			if strings.HasPrefix(name, p) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func loadAverage() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// Commit returns the commit the running binary was built from (from its
// build information, or else from git in the working directory), with
// "-dirty" when the tree had changes, or "unknown".
func Commit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if modified == "true" {
				rev += "-dirty"
			}
			return rev
		}
	}
	if rev, ok := GitCommit(""); ok {
		return rev
	}
	return "unknown"
}

// GitCommit returns the commit checked out in the git work tree at dir
// ("" for the working directory), with "-dirty" when tracked files have
// changes, if dir is in one and git runs.
func GitCommit(dir string) (string, bool) {
	out, err := exec.Command("git", "-C", cmp.Or(dir, "."), "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "", false
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", cmp.Or(dir, "."), "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += "-dirty"
	}
	return rev, rev != ""
}
