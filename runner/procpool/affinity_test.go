package procpool

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// threadAffinities reads Cpus_allowed_list of every thread of pid.
func threadAffinities(t *testing.T, pid int) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "status"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no threads of pid %d: %v", pid, err)
	}
	got := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				got[filepath.Base(filepath.Dir(p))] = strings.TrimSpace(v)
			}
		}
	}
	return got
}

func TestSetAffinityPinsEveryThreadOfEachWorker(t *testing.T) {
	var mask unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mask); err != nil || !mask.IsSet(0) || !mask.IsSet(1) {
		t.Skip("needs CPUs 0 and 1")
	}
	p, _ := newPool(t, 2, 64)
	if err := p.SetAffinity([][]int{{0}, {1}}); err != nil {
		t.Fatal(err)
	}
	run(t, p, "square", 64, Dynamic) // threads a job starts inherit the mask
	for i, pid := range pidsOf(p) {
		want := strconv.Itoa(i)
		for tid, got := range threadAffinities(t, pid) {
			if got != want {
				t.Errorf("worker %d (pid %d) thread %s may run on %q, want %q", i, pid, tid, got, want)
			}
		}
	}
	// An empty list leaves a worker as it is; pinning again moves it.
	if err := p.SetAffinity([][]int{nil, {0}}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"0", "0"} {
		for tid, got := range threadAffinities(t, pidsOf(p)[i]) {
			if got != want {
				t.Errorf("after re-pinning, worker %d thread %s may run on %q, want %q", i, tid, got, want)
			}
		}
	}
	run(t, p, "square", 64, Static)
}

func TestSetAffinityRefusesWhatCannotBePinned(t *testing.T) {
	p, _ := newPool(t, 2, 8)
	for _, tc := range []struct {
		name string
		cpus [][]int
	}{
		{"a list per worker is needed", [][]int{{0}}},
		{"a CPU number must fit a mask", [][]int{{0}, {-1}}},
		{"a CPU must exist", [][]int{{0}, {1000}}},
	} {
		if err := p.SetAffinity(tc.cpus); err == nil || !strings.HasPrefix(err.Error(), "procpool: ") {
			t.Errorf("%s: SetAffinity(%v) = %v, want a procpool error", tc.name, tc.cpus, err)
		}
	}
}
