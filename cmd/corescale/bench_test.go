package main

import (
	"errors"
	"maps"
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

	"github.com/corescale/corescale/internal/modroot"
	"github.com/corescale/corescale/resultfile"
)

// benchPkg is a package with two benchmarks, Parallel (RunParallel) and
// Serial, and a Slow one that runs only when CORESCALE_TEST_SLOW is set.
const (
	benchPkg     = "./testdata/benchpkg"
	benchPkgPath = "github.com/corescale/corescale/cmd/corescale/testdata/benchpkg"
)

func TestBenchRejectsBadInput(t *testing.T) {
	tests := []badInput{
		{name: "no package", args: []string{"bench"}, want: []string{"bench needs a package"}},
		{name: "two packages", args: []string{"bench", benchPkg, "sync"}, want: []string{"bench takes one package"}},
		{name: "a pattern of several packages", args: []string{"bench", "../../internal/..."}, want: []string{"packages, want one"}},
		{name: "a pattern of no package", args: []string{"bench", "./testdata/..."}, want: []string{"matches 0 packages, want one"}},
		{name: "a package that does not exist", args: []string{"bench", "./testdata/none"}, want: []string{"bench ./testdata/none:"}},
		{name: "a package without test files", args: []string{"bench", "./testdata/notests", "-o", "{dir}/b.txt"}, want: []string{"notests: the package has no test files"}},
		{name: "no benchmark that matches", args: []string{"bench", benchPkg, "-bench", "NoSuch", "-o", "{dir}/b.txt"}, want: []string{`no benchmark matches -bench "NoSuch"`}},
		{name: "one -cpu value", args: []string{"bench", benchPkg, "-cpu", "2"}, want: []string{"-cpu \"2\": want two or more values"}},
		{name: "a -cpu value of 0", args: []string{"bench", benchPkg, "-cpu", "0,2"}, want: []string{`-cpu 0,2: "0" is no GOMAXPROCS value`}},
		{name: "a -cpu value that is no number", args: []string{"bench", "-cpu", "1,two", benchPkg}, want: []string{`"two" is no GOMAXPROCS value`}},
		{name: "no rounds", args: []string{"bench", benchPkg, "-count", "0"}, want: []string{"-count 0: want 1 or more"}},
		{name: "a -count that is no number", args: []string{"bench", benchPkg, "-count", "many"}, want: []string{"-count many: want a whole number"}},
		{name: "a -benchtime of zero", args: []string{"bench", benchPkg, "-benchtime", "0s"}, want: []string{"-benchtime 0s: want a positive duration"}},
		{name: "a -benchtime of 0x", args: []string{"bench", benchPkg, "-benchtime", "0x"}, want: []string{"-benchtime 0x: want a positive count"}},
		{name: "a bad -bench pattern", args: []string{"bench", benchPkg, "-bench", "("}, want: []string{`-bench "(":`, "missing closing )"}},
		{name: "an unknown flag", args: []string{"bench", benchPkg, "-cpus", "1,2"}, want: []string{"unknown flag -cpus"}},
		{name: "an unwritable result file", args: []string{"bench", benchPkg, "-o", "{dir}/file/b.txt"}, want: []string{"cannot create {dir}/file"}},
	}
	for _, tt := range tests {
		tt.name += " is a usage error that names it"
		t.Run(tt.name, tt.run)
	}
}

// orderLog reads benchpkg's log: the GOMAXPROCS each test binary started
// at, and their pids.
func orderLog(t *testing.T, path string) (gomaxprocs, pids []int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		pid, _ := strconv.Atoi(f[0])
		n, _ := strconv.Atoi(f[1])
		pids, gomaxprocs = append(pids, pid), append(gomaxprocs, n)
	}
	return gomaxprocs, pids
}

// sampleCounts counts a result file's samples by name.
func sampleCounts(f *resultfile.File) map[string]int {
	n := map[string]int{}
	for _, s := range f.Samples {
		n[s.Name]++
	}
	return n
}

func TestBenchRunsRoundsThatReportCompareAndBenchstatRead(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp) // where the test binary is built
	log := filepath.Join(dir, "order.log")
	t.Setenv("CORESCALE_TEST_LOG", log)
	path := filepath.Join(dir, "b.txt")
	const rounds = 6
	code, stdout, stderr := runCorescale(t, "bench", benchPkg, "-bench", "Parallel|Serial", "-cpu", "1,2", "-count", strconv.Itoa(rounds),
		"-benchtime", "2ms", "-order-seed", "3", "-o", path)
	if code != exitOK || stdout != path+"\n" {
		t.Fatalf("corescale bench: exit status %d, stdout %q; want 0 and the file's path\nstderr:\n%s", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		t.Errorf("corescale bench left %s in the temporary directory", entries[0].Name())
	}

	f, err := resultfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"Parallel-1": rounds, "Parallel-2": rounds, "Serial-1": rounds, "Serial-2": rounds}
	if got := sampleCounts(f); !f.Rounded || !maps.Equal(got, want) {
		t.Errorf("samples %v, rounded %v; want %v, rounded", got, f.Rounded, want)
	}
	for _, bench := range []string{"Parallel", "Serial"} {
		if got := f.Rounds[bench]; !slices.Equal(got, []int{rounds}) {
			t.Errorf("rounds of %s: %v, want one fork of %d", bench, got, rounds)
		}
	}
	config := map[string]string{}
	for _, c := range append(slices.Clone(f.Config), f.Notes...) {
		config[c.Key] = c.Value
	}
	for key, want := range map[string]string{"pkg": benchPkgPath, "order-seed": "3", "count": "6", "benchtime": "2ms", "ncpu": strconv.Itoa(runtime.NumCPU()), "gomaxprocs": ""} {
		if config[key] != want {
			t.Errorf("%s: %q, want %q", key, config[key], want)
		}
	}
	if rev, ok := gitHead(); ok && !strings.HasPrefix(config["commit"], rev) {
		t.Errorf("commit %q, want the module's %s", config["commit"], rev)
	}

	// Each round runs the binary at every -cpu value, each started at its
	// GOMAXPROCS (golang/go#49980), in a fresh order.
	started, _ := orderLog(t, log)
	if len(started) != 2*rounds {
		t.Fatalf("%d test binaries ran, want %d", len(started), 2*rounds)
	}
	orders := map[[2]int]int{}
	for r := range rounds {
		pair := [2]int{started[2*r], started[2*r+1]}
		if pair != [2]int{1, 2} && pair != [2]int{2, 1} {
			t.Errorf("round %d started binaries at GOMAXPROCS %v, want 1 and 2", r+1, pair)
		}
		orders[pair]++
	}
	if len(orders) != 2 {
		t.Errorf("orders of the rounds %v: want both orders among %d rounds (order seed 3)", orders, rounds)
	}

	rep := filepath.Join(dir, "rep")
	code, stdout, stderr = runCorescale(t, "report", "-benchstat=false", "-o", rep, path)
	if code != exitOK {
		t.Fatalf("corescale report: exit status %d\nstderr:\n%s", code, stderr)
	}
	for _, want := range []string{"package " + benchPkgPath, "median of same-round ratios", "Parallel at -cpu 2:", "Serial at -cpu 2:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
	for _, args := range [][]string{{"compare", path, path}, {"gate", path, path}} {
		if code, _, stderr := runCorescale(t, args...); code != exitOK {
			t.Errorf("corescale %s: exit status %d\nstderr:\n%s", strings.Join(args, " "), code, stderr)
		}
	}

	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, ok := modroot.Find(wd)
	if !ok {
		t.Fatal("no corescale module above the working directory")
	}
	abs, _ := filepath.Abs(path)
	cmd := exec.Command("go", "tool", "benchstat", "-col", "/gomaxprocs", abs)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool benchstat: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`│\s+1\s+│\s+2\s+│`).Match(out) || !strings.Contains(string(out), "Parallel") {
		t.Errorf("benchstat -col /gomaxprocs does not show columns 1 and 2 of Parallel:\n%s", out)
	}
}

// gitHead is the commit of the checkout the test runs in, if it is one.
func gitHead() (string, bool) {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	return strings.TrimSpace(string(out)), err == nil
}

func TestBenchStopsCleanlyOnCtrlC(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	t.Setenv("CORESCALE_TEST_SLOW", "1") // a second a run
	log := filepath.Join(dir, "order.log")
	t.Setenv("CORESCALE_TEST_LOG", log)
	path := filepath.Join(dir, "b.txt")
	p := startCorescale(t, "bench", benchPkg, "-bench", "Slow|Serial", "-cpu", "1,2", "-count", "100", "-benchtime", "1x", "-o", path)
	// The third test binary to start is round 2's first: round 1 is done.
	// (Its stderr is corescale's to write until it exits.)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, _ := os.ReadFile(log); strings.Count(string(b), "\n") >= 3 {
			break
		}
		if time.Now().After(deadline) {
			p.kill()
			t.Fatalf("no round finished within a minute\nstderr:\n%s", p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // into round 2's slow benchmark
	if err := unix.Kill(-p.cmd.Process.Pid, unix.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != exitInterrupted {
		t.Fatalf("exit status %d, want %d\nstderr:\n%s", code, exitInterrupted, p.stderr.String())
	}
	last := lastLine(p.stderr.String())
	m := interruptedIn.FindStringSubmatch(last)
	if m == nil || m[2] != path {
		t.Fatalf("stderr ends with %q, want it to say how many samples are in %s", last, path)
	}
	f, err := resultfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	counts := sampleCounts(f)
	rounds := counts["Slow-1"]
	want := map[string]int{"Slow-1": rounds, "Slow-2": rounds, "Serial-1": rounds, "Serial-2": rounds}
	if !f.Interrupted || rounds < 1 || !maps.Equal(counts, want) || strconv.Itoa(len(f.Samples)) != m[1] {
		t.Errorf("interrupted %v, samples %v (%s said); want whole rounds, marked interrupted", f.Interrupted, counts, m[1])
	}
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		t.Errorf("the test binary's directory %s is left behind", entries[0].Name())
	}
	// The test binary runs in a process group of its own, which Ctrl-C
	// does not reach: corescale must have killed it.
	_, pids := orderLog(t, log)
	time.Sleep(100 * time.Millisecond)
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			if state, _, _, serr := procStat(pid); serr == nil && state != "Z" {
				t.Errorf("test binary %d is still there (state %s)", pid, state)
			}
		}
	}
}

// goTestFixture is a path to one of analysis' go test -bench captures.
func goTestFixture(name string) string {
	return filepath.Join("..", "..", "analysis", "testdata", "gotest", name)
}

func TestReportRejectsGoTestOutputItCannotAnalyse(t *testing.T) {
	tests := []badInput{
		{name: "benchmarks at one worker count only", args: []string{"report", "-benchstat=false", "-o", "{dir}/rep", goTestFixture("strings-one-cpu.txt")},
			want: []string{"strings-one-cpu.txt has no benchmark at two or more worker counts"}},
		{name: "no benchmark lines", args: []string{"report", "-benchstat=false", "-o", "{dir}/rep", goTestFixture("nobench.txt")},
			want: []string{"nobench.txt has no benchmark results"}},
		{name: "an unknown key", args: []string{"report", "-benchstat=false", "-o", "{dir}/rep", goTestFixture("badkey.txt")},
			want: []string{"badkey.txt: BenchmarkHash/shape=uniform/size=4Mi/chunks=64/strategy=serial/sched=dynamic: unknown key chunks=64"}},
		{name: "a good file with one that cannot be analysed", args: []string{"report", "-benchstat=false", "-o", "{dir}/rep", goTestFixture("sync.txt"), goTestFixture("strings-one-cpu.txt")},
			want: []string{"strings-one-cpu.txt has no benchmark at two or more worker counts"}},
	}
	for _, tt := range tests {
		tt.name += " is a usage error that says why"
		t.Run(tt.name, tt.run)
	}
}

func TestReportOfGoTestOutputChartsEveryBenchmark(t *testing.T) {
	rep := filepath.Join(t.TempDir(), "rep")
	code, stdout, stderr := runCorescale(t, "report", "-o", rep, goTestFixture("sync.txt"))
	if code != exitOK {
		t.Fatalf("corescale report: exit status %d\nstderr:\n%s", code, stderr)
	}
	// benchstat's table of the worker counts: go test writes no -1, so
	// its first column has no heading.
	for _, want := range []string{"sync.txt: linux/amd64, AMD EPYC, package sync\n", "benchstat -col /gomaxprocs@num", "MutexUncontended   "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
	md, err := os.ReadFile(filepath.Join(rep, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	var charts []string
	for _, m := range chartLink.FindAllSubmatch(md, -1) {
		charts = append(charts, string(m[1]))
		if _, err := os.Stat(filepath.Join(rep, string(m[1]))); err != nil {
			t.Errorf("report.md shows a chart that is not there: %v", err)
		}
	}
	want := []string{"MutexUncontended-speedup.png", "MutexUncontended-efficiency.png", "Pool-speedup.png", "Pool-efficiency.png",
		"RWMutexUncontended-speedup.png", "RWMutexUncontended-efficiency.png"}
	if !slices.Equal(charts, want) {
		t.Errorf("charts %q, want %q", charts, want)
	}
}
