// Package topology reads how a Linux machine's CPUs are arranged and which
// of them a process may use: packages (sockets), physical cores and their
// SMT threads, last-level (L3) cache domains, NUMA nodes, hybrid core types,
// the process's affinity mask and its cgroup's cpuset and CPU quota.
//
// Everything comes from files, read below a root directory that is "/" for
// the machine itself and a fixture tree in tests:
//
//	sys/devices/system/cpu/online                      online CPUs
//	sys/devices/system/cpu/cpuN/topology/              physical_package_id, core_cpus_list
//	                                                    (thread_siblings_list on older kernels)
//	sys/devices/system/cpu/cpuN/cache/indexK/          the index whose level is 3: shared_cpu_list
//	sys/devices/system/cpu/cpuN/cpu_capacity           relative capacity (arm64 big.LITTLE)
//	sys/devices/system/node/nodeN/cpulist              NUMA nodes
//	sys/devices/cpu_core/cpus, sys/devices/cpu_atom/cpus  Intel hybrid core types (PMU devices)
//	proc/self/status                                    Cpus_allowed_list: the affinity mask
//	proc/self/cgroup and sys/fs/cgroup/...              cpuset and quota, cgroup v2 or v1
//
// The formats are those of the kernel's Documentation/ABI/stable/
// sysfs-devices-system-cpu, Documentation/admin-guide/cputopology.rst and
// Documentation/admin-guide/cgroup-v2.rst. A file the kernel does not
// provide leaves its part unknown (nil), never an error: only the online
// list is required.
//
// The package imports only the standard library.
package topology

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Core types, as Topology.Types names them.
const (
	TypePerformance = "performance" // Intel P-cores (cpu_core), arm64's biggest capacity
	TypeEfficiency  = "efficiency"  // Intel E-cores (cpu_atom), arm64's smaller capacities
)

// A CoreType is one kind of core of a hybrid machine and its CPUs.
type CoreType struct {
	Name string // TypePerformance or TypeEfficiency
	CPUs Set
}

// A Topology describes a machine's CPUs and the ones a process may use.
// Domains (Packages, Cores, L3, Nodes) hold online CPUs only and are sorted
// by their first CPU. A Topology is plain data: the caller may share it,
// never modify it.
type Topology struct {
	Online   Set
	Packages []Set // CPUs of each physical package (socket)
	Cores    []Set // physical cores: the SMT threads of each
	L3       []Set // CPUs sharing each L3 cache; nil if sysfs has no level-3 cache
	Nodes    []Set // NUMA nodes; nil if sysfs has no node directory
	// Types are the core types of a hybrid machine, performance first;
	// nil when all cores are alike or the kernel does not say.
	Types []CoreType
	// Affinity is the process's CPU affinity mask; nil if unknown.
	Affinity Set
	// Cpuset is the cgroup's effective cpuset; nil if no cgroup limits it
	// (a cpuset equal to the online CPUs limits nothing and reads as nil).
	Cpuset Set
	// Quota is the CPUs' worth of time per period the cgroup allows
	// (cpu.max, or cfs_quota_us / cfs_period_us under cgroup v1), the
	// least along the cgroup's path; 0 if unlimited.
	Quota float64
	// Usable is Online limited by Affinity and Cpuset: the CPUs the
	// process may run on. The quota limits how many at once (UsableCPUs).
	Usable Set
}

// UsableCPUs is how many CPUs the process can use at once: the size of
// Usable, or the quota rounded down when that is less, and at least 1.
func (t *Topology) UsableCPUs() int {
	n := len(t.Usable)
	if t.Quota > 0 {
		n = min(n, int(math.Floor(t.Quota)))
	}
	return max(1, n)
}

// ThreadsPerCore is the most SMT threads of one physical core (1 without
// SMT); hybrid machines mix cores with two threads and cores with one.
func (t *Topology) ThreadsPerCore() int {
	n := 1
	for _, c := range t.Cores {
		n = max(n, len(c))
	}
	return n
}

// Read reads the topology below root ("/" for this machine and this process).
func Read(root string) (*Topology, error) {
	cpuDir := filepath.Join(root, "sys/devices/system/cpu")
	online, err := readSet(filepath.Join(cpuDir, "online"))
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	if len(online) == 0 {
		return nil, fmt.Errorf("topology: %s lists no online CPU", filepath.Join(cpuDir, "online"))
	}
	t := &Topology{Online: online}
	packages := map[int]Set{}
	var cores, l3 []Set
	capacity := map[int]int{}
	for _, cpu := range online {
		dir := filepath.Join(cpuDir, "cpu"+strconv.Itoa(cpu))
		pkg, err := readInt(filepath.Join(dir, "topology/physical_package_id"))
		if err != nil {
			pkg = 0 // a kernel without topology files has one package
		}
		packages[pkg] = append(packages[pkg], cpu)
		siblings, err := readSet(filepath.Join(dir, "topology/core_cpus_list"))
		if err != nil {
			siblings, err = readSet(filepath.Join(dir, "topology/thread_siblings_list"))
		}
		if err != nil || !siblings.Contains(cpu) {
			siblings = Set{cpu}
		}
		cores = addDomain(cores, siblings.Intersect(online))
		if shared, ok := l3Shared(dir); ok {
			l3 = addDomain(l3, shared.Intersect(online))
		}
		if c, err := readInt(filepath.Join(dir, "cpu_capacity")); err == nil {
			capacity[cpu] = c
		}
	}
	for _, id := range sortedKeys(packages) {
		t.Packages = append(t.Packages, NewSet(packages[id]...))
	}
	t.Cores = sortDomains(cores)
	t.L3 = sortDomains(l3)
	t.Nodes = readNodes(filepath.Join(root, "sys/devices/system/node"), online)
	t.Types = coreTypes(root, online, capacity)

	t.Affinity = readAffinity(filepath.Join(root, "proc/self/status"))
	cg := readCgroup(root)
	t.Quota = cg.quota
	if cg.cpuset != nil && !slices.Equal(cg.cpuset.Intersect(online), online) {
		t.Cpuset = cg.cpuset
	}
	t.Usable = online
	if t.Affinity != nil {
		t.Usable = t.Usable.Intersect(t.Affinity)
	}
	if t.Cpuset != nil {
		t.Usable = t.Usable.Intersect(t.Cpuset)
	}
	return t, nil
}

// Flat is the topology of n CPUs that sysfs says nothing about: each CPU a
// core of one package, all usable.
func Flat(n int) *Topology {
	t := &Topology{}
	for cpu := range max(1, n) {
		t.Online = append(t.Online, cpu)
		t.Cores = append(t.Cores, Set{cpu})
	}
	t.Packages = []Set{t.Online}
	t.Usable = t.Online
	return t
}

// l3Shared returns the CPUs that share cpuDir's level-3 cache. The index of
// the L3 cache differs between machines (index3 on most x86, but an index
// is only a position): the level file says which.
func l3Shared(cpuDir string) (Set, bool) {
	indexes, _ := filepath.Glob(filepath.Join(cpuDir, "cache/index[0-9]*"))
	for _, dir := range indexes {
		level, err := readInt(filepath.Join(dir, "level"))
		if err != nil || level != 3 {
			continue
		}
		if s, err := readSet(filepath.Join(dir, "shared_cpu_list")); err == nil && len(s) > 0 {
			return s, true
		}
	}
	return nil, false
}

func readNodes(dir string, online Set) []Set {
	paths, _ := filepath.Glob(filepath.Join(dir, "node[0-9]*", "cpulist"))
	var nodes []Set
	for _, p := range paths {
		s, err := readSet(p)
		if err != nil {
			continue
		}
		if s = s.Intersect(online); len(s) > 0 { // memory-only nodes have no CPU
			nodes = addDomain(nodes, s)
		}
	}
	return sortDomains(nodes)
}

// coreTypes reads Intel's hybrid PMU devices (cpu_core, cpu_atom), or else
// tells core types apart by cpu_capacity: the largest is performance.
func coreTypes(root string, online Set, capacity map[int]int) []CoreType {
	var types []CoreType
	for _, d := range []struct{ dev, name string }{{"cpu_core", TypePerformance}, {"cpu_atom", TypeEfficiency}} {
		if s, err := readSet(filepath.Join(root, "sys/devices", d.dev, "cpus")); err == nil {
			if s = s.Intersect(online); len(s) > 0 {
				types = append(types, CoreType{Name: d.name, CPUs: s})
			}
		}
	}
	if len(types) > 0 {
		return types
	}
	if len(capacity) != len(online) {
		return nil
	}
	top := 0
	for _, c := range capacity {
		top = max(top, c)
	}
	var big, little []int
	for cpu, c := range capacity {
		if c == top {
			big = append(big, cpu)
		} else {
			little = append(little, cpu)
		}
	}
	if len(little) == 0 {
		return nil
	}
	return []CoreType{{TypePerformance, NewSet(big...)}, {TypeEfficiency, NewSet(little...)}}
}

// readAffinity reads Cpus_allowed_list from a /proc status file: the mask
// of the process's main thread, which its other threads inherit.
func readAffinity(path string) Set {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			if s, err := ParseSet(v); err == nil {
				return s
			}
		}
	}
	return nil
}

func readSet(path string) (Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSet(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// addDomain adds s to domains unless it is empty or already there.
func addDomain(domains []Set, s Set) []Set {
	if len(s) == 0 || slices.ContainsFunc(domains, func(d Set) bool { return slices.Equal(d, s) }) {
		return domains
	}
	return append(domains, s)
}

func sortDomains(domains []Set) []Set {
	slices.SortFunc(domains, func(a, b Set) int { return a[0] - b[0] })
	return domains
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
