package topology

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// Fixture trees are generated, not committed: a 128-CPU machine is some
// 3000 small files. Each writes, below a temporary root, the files the
// kernel would, in the formats of Documentation/ABI/stable/
// sysfs-devices-system-cpu, Documentation/admin-guide/cputopology.rst and
// Documentation/admin-guide/cgroup-v2.rst (one value or CPU list per file,
// ending in a newline).

// fixtureCPU is one logical CPU as sysfs describes it.
type fixtureCPU struct {
	id, pkg, coreID int
	siblings        Set // core_cpus_list
	l3              Set // cache/index3/shared_cpu_list; nil for none
	capacity        int // cpu_capacity; 0 for none
}

// fixture is a tree of files, by path below the root.
type fixture map[string]string

func (f fixture) write(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	made := map[string]bool{}
	for path, content := range f {
		p := filepath.Join(root, path)
		if dir := filepath.Dir(p); !made[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			made[dir] = true
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// epycTopology is the EPYC fixture read once: writing its 3000 files takes
// seconds on a loaded machine, and several tests read it.
var epycTopology = sync.OnceValues(func() (*Topology, error) {
	root, err := os.MkdirTemp("", "topology-epyc-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	for path, content := range epyc2x7502() {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	return Read(root)
})

func readEPYC(t *testing.T) *Topology {
	t.Helper()
	topo, err := epycTopology()
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// addCPUs writes the cpu directory. With oldKernel, the siblings are only in
// thread_siblings_list, as before Linux 5.7 added core_cpus_list.
func (f fixture) addCPUs(cpus []fixtureCPU, oldKernel bool) {
	var online []int
	for _, c := range cpus {
		online = append(online, c.id)
		dir := "sys/devices/system/cpu/cpu" + strconv.Itoa(c.id) + "/"
		f[dir+"topology/physical_package_id"] = strconv.Itoa(c.pkg) + "\n"
		f[dir+"topology/core_id"] = strconv.Itoa(c.coreID) + "\n"
		f[dir+"topology/thread_siblings_list"] = c.siblings.String() + "\n"
		if !oldKernel {
			f[dir+"topology/core_cpus_list"] = c.siblings.String() + "\n"
		}
		// L1d, L1i and L2 are private to the core; the L3 is where the
		// level file says, which need not be index3.
		for i, level := range []int{1, 1, 2} {
			idx := dir + "cache/index" + strconv.Itoa(i) + "/"
			f[idx+"level"] = strconv.Itoa(level) + "\n"
			f[idx+"shared_cpu_list"] = c.siblings.String() + "\n"
		}
		if c.l3 != nil {
			f[dir+"cache/index3/level"] = "3\n"
			f[dir+"cache/index3/shared_cpu_list"] = c.l3.String() + "\n"
		}
		if c.capacity > 0 {
			f[dir+"cpu_capacity"] = strconv.Itoa(c.capacity) + "\n"
		}
	}
	s := NewSet(online...).String() + "\n"
	f["sys/devices/system/cpu/online"] = s
	f["sys/devices/system/cpu/possible"] = s
	f["sys/devices/system/cpu/present"] = s
}

func (f fixture) addNodes(nodes ...Set) {
	for i, n := range nodes {
		f["sys/devices/system/node/node"+strconv.Itoa(i)+"/cpulist"] = n.String() + "\n"
	}
}

func (f fixture) setAffinity(s Set) {
	f["proc/self/status"] = "Name:\tcorescale\nState:\tR (running)\nCpus_allowed:\tffff\nCpus_allowed_list:\t" + s.String() + "\nMems_allowed_list:\t0\n"
}

func span(lo, hi int) Set {
	var s []int
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return NewSet(s...)
}

func union(sets ...Set) Set {
	var all []int
	for _, s := range sets {
		all = append(all, s...)
	}
	return NewSet(all...)
}

// epyc2x7502 is a 2-socket AMD EPYC 7502 (Zen 2): 32 cores and 64 threads
// per socket, a CCX of 4 cores sharing 16 MiB of L3, so 8 L3 domains per
// socket, NPS1 (one NUMA node per socket). Linux numbers the first thread
// of every core first (0-63, socket 0 then 1), then their siblings
// (64-127): CPU n and n+64 share a core. cgroup v2, no limits.
func epyc2x7502() fixture {
	f := fixture{}
	var cpus []fixtureCPU
	for id := range 128 {
		core := id % 64
		ccx := core / 4
		cpus = append(cpus, fixtureCPU{
			id: id, pkg: core / 32, coreID: core % 32,
			siblings: NewSet(core, core+64),
			l3:       union(span(4*ccx, 4*ccx+3), span(64+4*ccx, 64+4*ccx+3)),
			capacity: 1024, // x86 kernels write it too, alike for every CPU
		})
	}
	f.addCPUs(cpus, false)
	f.addNodes(union(span(0, 31), span(64, 95)), union(span(32, 63), span(96, 127)))
	f.setAffinity(span(0, 127))
	f["proc/self/cgroup"] = "0::/user.slice/user-1000.slice/session-3.scope\n"
	f["sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu io memory pids\n"
	f["sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/cpu.max"] = "max 100000\n"
	f["sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/cpuset.cpus.effective"] = "0-127\n"
	return f
}

// alderLakeP is an Intel Core i7-1260P laptop: 4 P-cores with two threads
// (CPUs 0-7, siblings 0/1, 2/3, ...) and 8 E-cores of one thread (8-15),
// one L3 for all, one NUMA node, the core types in the hybrid PMU devices
// cpu_core and cpu_atom. An older kernel: no core_cpus_list, and no cgroup
// file.
func alderLakeP() fixture {
	f := fixture{}
	var cpus []fixtureCPU
	for id := range 16 {
		c := fixtureCPU{id: id, pkg: 0, l3: span(0, 15)}
		if id < 8 {
			c.coreID, c.siblings = 4*(id/2), NewSet(id&^1, id|1)
		} else {
			c.coreID, c.siblings = 8+id, Set{id}
		}
		cpus = append(cpus, c)
	}
	f.addCPUs(cpus, true)
	f.addNodes(span(0, 15))
	f["sys/devices/cpu_core/cpus"] = "0-7\n"
	f["sys/devices/cpu_atom/cpus"] = "8-15\n"
	f.setAffinity(span(0, 15))
	return f
}

// container is a 16-CPU host (8 cores, CPU n and n+8 siblings, one L3)
// seen from a container started with --cpuset-cpus=2-5 --cpus=2: cgroup v2
// in a cgroup namespace (the process's cgroup is the mount's root), the
// affinity mask narrowed to the cpuset by the kernel.
func container() fixture {
	f := fixture{}
	var cpus []fixtureCPU
	for id := range 16 {
		cpus = append(cpus, fixtureCPU{id: id, pkg: 0, coreID: id % 8, siblings: NewSet(id%8, id%8+8), l3: span(0, 15)})
	}
	f.addCPUs(cpus, false)
	f.addNodes(span(0, 15))
	f.setAffinity(span(2, 5))
	f["proc/self/cgroup"] = "0::/\n"
	f["sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu memory pids\n"
	f["sys/fs/cgroup/cpu.max"] = "200000 100000\n"
	f["sys/fs/cgroup/cpuset.cpus.effective"] = "2-5\n"
	return f
}

// cgroupV1 is an 8-CPU VM without SMT (no cache or node files, as some
// hypervisors show) under cgroup v1 with cpu,cpuacct mounted together: a
// quota of 1.5 CPUs on the parent of the process's cgroup and a looser one
// on the cgroup itself, a cpuset of 0-2 at the leaf, and an affinity mask
// (taskset 1-7) that the cpuset narrows further.
func cgroupV1() fixture {
	f := fixture{}
	var cpus []fixtureCPU
	for id := range 8 {
		cpus = append(cpus, fixtureCPU{id: id, coreID: id, siblings: Set{id}})
	}
	f.addCPUs(cpus, false)
	f.setAffinity(span(1, 7))
	f["proc/self/cgroup"] = "12:cpuset:/ci/job\n4:cpu,cpuacct:/ci/job\n1:name=systemd:/ci/job\n0::/ci/job\n"
	f["sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"] = "-1\n"
	f["sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us"] = "100000\n"
	f["sys/fs/cgroup/cpu,cpuacct/ci/cpu.cfs_quota_us"] = "150000\n"
	f["sys/fs/cgroup/cpu,cpuacct/ci/cpu.cfs_period_us"] = "100000\n"
	f["sys/fs/cgroup/cpu,cpuacct/ci/job/cpu.cfs_quota_us"] = "400000\n"
	f["sys/fs/cgroup/cpu,cpuacct/ci/job/cpu.cfs_period_us"] = "100000\n"
	f["sys/fs/cgroup/cpuset/cpuset.effective_cpus"] = "0-7\n"
	f["sys/fs/cgroup/cpuset/ci/job/cpuset.effective_cpus"] = "0-2\n"
	return f
}
