package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/internal/cacheflush"
	"github.com/corescale/corescale/internal/topology"
	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/kernels/dgemm"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner/procpool"
)

// twoPinned returns where the cores policy pins two workers on this
// machine, or skips: pinning is only visible with two CPUs.
func twoPinned(t *testing.T) []topology.Set {
	t.Helper()
	cpus := placement(topology.Cores, 2)
	if len(Machine().Usable) < 2 || len(cpus) != 2 || slices.Equal(cpus[0], cpus[1]) {
		t.Skipf("needs two usable CPUs, have %q", Machine().Usable)
	}
	return cpus
}

func threadMask(t *testing.T) topology.Set {
	var m unix.CPUSet
	if err := unix.SchedGetaffinity(0, &m); err != nil {
		t.Error(err)
	}
	var cpus []int
	for c := range len(m) * 64 {
		if m.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return topology.NewSet(cpus...)
}

func TestPinnedGoroutinesRunOnTheirCPUs(t *testing.T) {
	want := twoPinned(t)
	w := newWorkload(t, smallParams(t)[0])
	masks := make([]topology.Set, w.Chunks())
	w.chunk = func(i int) { masks[i] = threadMask(t) }
	s, err := NewPinnedStrategy(resultfile.Goroutines, w, 2, topology.Cores)
	if err != nil {
		t.Fatal(err)
	}
	// Static: worker 0 runs the first half of the chunks, worker 1 the rest.
	if _, err := s.Run(context.Background(), procpool.Static); err != nil {
		t.Fatal(err)
	}
	for i, m := range masks {
		if worker := i * 2 / len(masks); !slices.Equal(m, want[worker]) {
			t.Errorf("chunk %d of worker %d ran on a thread allowed %q, want %q", i, worker, m, want[worker])
		}
	}
}

func TestPinThreadRestoresTheMask(t *testing.T) {
	cpus := twoPinned(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadMask(t)
	restore, err := pinThread(cpus[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := threadMask(t); !slices.Equal(got, cpus[1]) {
		t.Errorf("pinned thread allowed %q, want %q", got, cpus[1])
	}
	restore()
	if got := threadMask(t); !slices.Equal(got, before) {
		t.Errorf("restored thread allowed %q, want %q", got, before)
	}
}

func TestPinnedProcpoolWorkersRunOnTheirCPUs(t *testing.T) {
	want := twoPinned(t)
	p := smallParams(t)[0]
	w := newWorkload(t, p)
	s, err := NewPinnedStrategy(resultfile.Procpool, w, 2, topology.Cores)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Measure(context.Background(), s, w, procpool.Dynamic); err != nil {
		t.Fatal(err)
	}
	for i, info := range s.(*pooled).pool.Workers() {
		paths, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", info.Pid))
		if len(paths) == 0 {
			t.Fatalf("worker %d (pid %d) has no threads", i, info.Pid)
		}
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				continue // the thread ended
			}
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && strings.TrimSpace(v) != want[i].String() {
					t.Errorf("worker %d thread %s allowed %q, want %q", i, path, strings.TrimSpace(v), want[i])
				}
			}
		}
	}
}

func TestOnlyGoroutinesAndProcpoolArePinned(t *testing.T) {
	p := kernels.Params{Kernel: "hash", Shape: "uniform", Size: 1 << 20, Chunks: 8}
	plan := Plan{Configs: []kernels.Params{p}, Strategies: []string{"serial", "goroutines", "py-pool"}, Scheds: scheds[:1],
		Workers: []int{2}, Pins: []topology.Policy{topology.None, topology.Spread}}
	var names []string
	for _, c := range plan.Cells() {
		names = append(names, strings.TrimPrefix(c.Name(), "Hash/shape=uniform/size=1Mi/"))
	}
	want := []string{
		"strategy=serial/sched=dynamic/workers=1", "strategy=serial-aa/sched=dynamic/workers=1",
		"strategy=goroutines/sched=dynamic/workers=2", "strategy=goroutines/sched=dynamic/pin=spread/workers=2",
		"strategy=py-pool/sched=dynamic/workers=2",
	}
	if !slices.Equal(names, want) {
		t.Errorf("cells\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	plan.Pins = []topology.Policy{"scatter"}
	if err := plan.Check(); err == nil || !strings.Contains(err.Error(), "scatter") {
		t.Errorf("a plan pinning by scatter: %v", err)
	}
	w := newWorkload(t, smallParams(t)[0])
	if len(Machine().Usable) > 1 {
		if _, err := NewPinnedStrategy(resultfile.PyPool, w, 2, topology.Cores); err == nil || !strings.Contains(err.Error(), "cannot pin") {
			t.Errorf("pinning py-pool: %v", err)
		}
	}
}

func TestBoundaryNamesAreTopologys(t *testing.T) {
	for _, pair := range [][2]string{
		{topology.BoundPerformance, resultfile.BoundaryPerformance}, {topology.BoundL3, resultfile.BoundaryL3},
		{topology.BoundNUMA, resultfile.BoundaryNUMA}, {topology.BoundCores, resultfile.BoundaryCores},
		{topology.BoundThreads, resultfile.BoundaryThreads}, {string(topology.None), resultfile.PinNone},
	} {
		if pair[0] != pair[1] {
			t.Errorf("topology names %q, the result format %q", pair[0], pair[1])
		}
	}
}

func TestTopologyConfig(t *testing.T) {
	topo := topology.Flat(4)
	topo.Cpuset, topo.Usable, topo.Affinity = topology.NewSet(1, 2, 3), topology.NewSet(1, 2, 3), topology.NewSet(0, 1, 2, 3)
	topo.Types = []topology.CoreType{{Name: topology.TypePerformance, CPUs: topology.NewSet(0, 1)}, {Name: topology.TypeEfficiency, CPUs: topology.NewSet(2, 3)}}
	got := map[string]string{}
	for _, c := range topologyConfig(topo) {
		got[c.Key] = c.Value
	}
	want := map[string]string{
		resultfile.ConfigPackages: "1", resultfile.ConfigCores: "4", resultfile.ConfigThreadsPerCore: "1",
		resultfile.ConfigL3Domains: "unknown", resultfile.ConfigNUMANodes: "unknown",
		resultfile.ConfigCoreTypes: "performance=0-1 efficiency=2-3",
		resultfile.ConfigAffinity:  "0-3", resultfile.ConfigCpuset: "1-3",
		resultfile.ConfigBoundaries: "performance=1 cores=3 threads=3",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("config %v has keys beyond %v", got, want)
	}
}

// Configuration lines must not differ between runs on one machine, or
// benchstat old new puts the two runs in separate tables.
func TestEnvConfigIsTheSameEveryRun(t *testing.T) {
	a, b := CheckEnv(), CheckEnv()
	if !slices.Equal(a.Config, b.Config) {
		t.Errorf("two readings differ:\n%v\n%v", a.Config, b.Config)
	}
	keys := map[string]bool{}
	for _, c := range a.Config {
		keys[c.Key] = true
	}
	for _, k := range []string{resultfile.ConfigCores, resultfile.ConfigBoundaries, resultfile.ConfigUsableCPUs} {
		if !keys[k] {
			t.Errorf("no %s line in %v", k, a.Config)
		}
	}
	if a.UsableCPUs != Machine().UsableCPUs() {
		t.Errorf("env's usable CPUs %d, topology's %d", a.UsableCPUs, Machine().UsableCPUs())
	}
}

// After a pinned run, no thread of this process keeps a pinned mask: each
// worker gives its thread its mask back, and threads the runtime starts
// for the locked workers are not clones of a pinned thread.
func TestPinnedGoroutinesLeaveNoThreadPinned(t *testing.T) {
	twoPinned(t)
	w := newWorkload(t, smallParams(t)[0])
	s, err := NewPinnedStrategy(resultfile.Goroutines, w, 8, topology.Cores) // more locked workers than Ps: new threads
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := Measure(context.Background(), s, w, procpool.Dynamic); err != nil {
			t.Fatal(err)
		}
	}
	want := Machine().Affinity.String()
	paths, _ := filepath.Glob("/proc/self/task/*/status")
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && strings.TrimSpace(v) != want {
				t.Errorf("thread %s allowed %q after the run, want %q", path, strings.TrimSpace(v), want)
			}
		}
	}
}

// The result file says which micro-kernel and blocking matmul ran with
// (its speed depends on them as much as on the CPU), and which flush every
// run started from.
func TestEnvNotesNameTheDgemmKernelAndTheFlush(t *testing.T) {
	got := map[string]string{}
	for _, n := range CheckEnv().Notes {
		got[n.Key] = n.Value
	}
	if d := got[resultfile.NoteDgemm]; d != dgemm.Blocking()+", "+dgemm.Pages() || !strings.HasPrefix(d, dgemm.Kernel()+" ") {
		t.Errorf("dgemm note %q, want %q", d, dgemm.Blocking()+", "+dgemm.Pages())
	}
	if f := got[resultfile.NoteFlush]; f == "" || f != cacheflush.Used() {
		t.Errorf("cache-flush note %q, want %q", f, cacheflush.Used())
	}
}

func TestSchedParamsKeepWhatBearsOnScheduling(t *testing.T) {
	for _, tt := range []struct{ cmdline, want string }{
		{"", ""},
		{"console=ttyS0 quiet root=/dev/vda", ""},
		{"console=ttyS0 cpuidle_haltpoll.force=1 haltpoll.guest_halt_poll_ns=0 sched_vcpu_pack=15 rdinit=/init -- --sched=x",
			"cpuidle_haltpoll.force=1 haltpoll.guest_halt_poll_ns=0 sched_vcpu_pack=15"},
		{"isolcpus=2-3 nohz_full=2-3 rcu_nocbs=2-3 irqaffinity=0 idle=poll processor.max_cstate=1 intel_pstate=disable mitigations=off",
			"isolcpus=2-3 nohz_full=2-3 rcu_nocbs=2-3 irqaffinity=0 idle=poll processor.max_cstate=1 intel_pstate=disable"},
		{"Intel_Idle.max_cstate=0\n", "Intel_Idle.max_cstate=0"},
	} {
		if got := strings.Join(schedParams(tt.cmdline), " "); got != tt.want {
			t.Errorf("schedParams(%q) = %q, want %q", tt.cmdline, got, tt.want)
		}
	}
}

func TestEnvNotesNameTheKernel(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Skip(err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	for _, n := range CheckEnv().Notes {
		if n.Key == resultfile.NoteKernel {
			if !strings.HasPrefix(n.Value, release) {
				t.Errorf("kernel note %q, want it to start with the release %q", n.Value, release)
			}
			return
		}
	}
	t.Errorf("no %q note", resultfile.NoteKernel)
}
