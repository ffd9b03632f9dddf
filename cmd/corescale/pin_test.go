package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner"
)

func TestDefaultWorkersIncludeTheBoundaries(t *testing.T) {
	b := func(pairs ...any) []resultfile.Boundary {
		var bs []resultfile.Boundary
		for i := 0; i < len(pairs); i += 2 {
			bs = append(bs, resultfile.Boundary{Name: pairs[i].(string), Workers: pairs[i+1].(int)})
		}
		return bs
	}
	for _, tc := range []struct {
		name         string
		ncpu, usable int
		boundaries   []resultfile.Boundary
		want         []int
	}{
		{"2 vCPUs add nothing", 2, 2, b("cores", 2, "threads", 2), []int{1, 2, 4}},
		{"a 2-socket EPYC adds none beyond powers of two", 128, 128, b("l3", 4, "numa", 32, "cores", 64, "threads", 128), []int{1, 2, 4, 8, 16, 32, 64, 128, 256}},
		{"a hybrid laptop adds its 12 cores", 16, 16, b("performance", 4, "cores", 12, "threads", 16), []int{1, 2, 4, 8, 12, 16, 32}},
		{"a 24-core Xeon with SMT adds its L3 and node sizes", 48, 48, b("l3", 6, "numa", 12, "cores", 24, "threads", 48), []int{1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 96}},
		{"boundaries beyond the usable CPUs are left out", 8, 4, b("cores", 6, "threads", 8), []int{1, 2, 4, 8, 16}},
	} {
		if got := defaultWorkers(tc.ncpu, tc.usable, tc.boundaries); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A sweep with -pin none,cores measures every goroutines and procpool cell
// both ways, names the pinned ones with pin=cores, and records the
// machine's topology in the configuration lines.
func TestRunPinsWorkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.txt")
	code, _, stderr := runCorescale(t, "run", "-kernels", "hash", "-shapes", "uniform", "-size", "small",
		"-workers", "2", "-sched", "dynamic", "-pin", "none,cores", "-count", "1", "-warmup", "0", "-ref", "none", "-o", path)
	if code != exitOK {
		t.Fatalf("corescale run -pin none,cores: exit status %d\nstderr:\n%s", code, stderr)
	}
	rf := readResultFile(t, path)
	cells := []string{smallHash + "/strategy=serial/sched=dynamic/workers=1", smallHash + "/strategy=serial-aa/sched=dynamic/workers=1"}
	for _, s := range []string{"goroutines", "procpool"} {
		cells = append(cells, smallHash+"/strategy="+s+"/sched=dynamic/workers=2", smallHash+"/strategy="+s+"/sched=dynamic/pin=cores/workers=2")
	}
	rf.checkCells(t, cells, 1)
	if got, want := rf.config[resultfile.ConfigBoundaries], resultfile.FormatBoundaries(runner.Boundaries()); got != want || !strings.Contains(got, "threads=") {
		t.Errorf("cpu-boundaries: %q, want %q", got, want)
	}
	for _, key := range []string{resultfile.ConfigCores, resultfile.ConfigPackages, resultfile.ConfigAffinity, resultfile.ConfigCpuset} {
		if rf.config[key] == "" {
			t.Errorf("config %s is missing or empty", key)
		}
	}
	// The report reads what -pin wrote: pinned cells are curves of their
	// own, not unknown keys.
	code, stdout, stderr := runCorescale(t, "report", "-benchstat=false", "-o", filepath.Join(t.TempDir(), "report"), path)
	if code != exitOK || !strings.Contains(stdout, "dynamic/pin=cores") {
		t.Errorf("corescale report of a pinned run: exit status %d, stderr %q; want the pinned curves\n%s", code, stderr, stdout)
	}
}
