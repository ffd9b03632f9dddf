package runner

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/internal/topology"
	"github.com/corescale/corescale/resultfile"
)

// Machine returns this machine's topology and the CPUs this process may
// use, read once: a machine whose sysfs cannot be read counts as NumCPU
// single-thread cores.
var Machine = sync.OnceValue(func() *topology.Topology {
	t, err := topology.Read("/")
	if err != nil {
		return topology.Flat(runtime.NumCPU())
	}
	return t
})

// CheckPin reports whether a placement policy of that name exists.
func CheckPin(name string) (topology.Policy, error) {
	p, err := topology.ParsePolicy(name)
	if err != nil {
		return "", fmt.Errorf("runner: %w", err)
	}
	return p, nil
}

// placement returns the CPUs each worker is pinned to under policy p on
// this machine, or nil for none.
func placement(p topology.Policy, workers int) []topology.Set {
	if p == "" || p == topology.None {
		return nil
	}
	return Machine().Place(p, workers)
}

// pinThread pins the calling OS thread to cpus and returns the function
// that gives it back its former mask. The caller must be locked to its
// thread (runtime.LockOSThread) from before pinThread until after restore,
// or another goroutine inherits the pinned thread. The mask does not leak
// into threads the runtime starts meanwhile: a thread inherits its
// creator's mask, but the runtime never clones a thread locked with
// LockOSThread (newm hands the job to its template thread).
func pinThread(cpus topology.Set) (restore func(), err error) {
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, fmt.Errorf("runner: reading the thread's affinity: %w", err)
	}
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("runner: pinning a worker thread to CPUs %s: %w", cpus, err)
	}
	return func() { _ = unix.SchedSetaffinity(0, &old) }, nil
}

// topologyConfig is the configuration lines that describe the machine's
// topology: the same on every run on one machine (in one container).
func topologyConfig(t *topology.Topology) []resultfile.Config {
	count := func(n int) string {
		if n == 0 {
			return "unknown"
		}
		return strconv.Itoa(n)
	}
	types := "none"
	if len(t.Types) > 0 {
		var items []string
		for _, ct := range t.Types {
			items = append(items, ct.Name+"="+ct.CPUs.String())
		}
		types = strings.Join(items, " ")
	}
	affinity, cpuset := "unknown", "none"
	if t.Affinity != nil {
		affinity = t.Affinity.String()
	}
	if t.Cpuset != nil {
		cpuset = t.Cpuset.String()
	}
	return []resultfile.Config{
		{Key: resultfile.ConfigPackages, Value: count(len(t.Packages))},
		{Key: resultfile.ConfigCores, Value: count(len(t.Cores))},
		{Key: resultfile.ConfigThreadsPerCore, Value: strconv.Itoa(t.ThreadsPerCore())},
		{Key: resultfile.ConfigL3Domains, Value: count(len(t.L3))},
		{Key: resultfile.ConfigNUMANodes, Value: count(len(t.Nodes))},
		{Key: resultfile.ConfigCoreTypes, Value: types},
		{Key: resultfile.ConfigAffinity, Value: affinity},
		{Key: resultfile.ConfigCpuset, Value: cpuset},
		{Key: resultfile.ConfigBoundaries, Value: resultfile.FormatBoundaries(boundaries(t))},
	}
}

func boundaries(t *topology.Topology) []resultfile.Boundary {
	var bs []resultfile.Boundary
	for _, b := range t.Boundaries() {
		bs = append(bs, resultfile.Boundary{Name: b.Name, Workers: b.Workers})
	}
	return bs
}

// Boundaries returns this machine's boundaries: the worker counts where a
// worker starts to share a core, or leaves an L3 domain or a NUMA node.
func Boundaries() []resultfile.Boundary { return boundaries(Machine()) }
