package topology

import (
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSet(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Set
		text string
	}{
		{"", Set{}, ""},
		{"\n", Set{}, ""},
		{"5\n", Set{5}, "5"},
		{"0-3,8-11\n", Set{0, 1, 2, 3, 8, 9, 10, 11}, "0-3,8-11"},
		{"8,0-1,1", Set{0, 1, 8}, "0-1,8"},
		{"0-9:2/5", Set{0, 1, 5, 6}, "0-1,5-6"},
		{"0-127", span(0, 127), "0-127"},
	} {
		got, err := ParseSet(tc.in)
		if err != nil {
			t.Errorf("ParseSet(%q): %v", tc.in, err)
			continue
		}
		if !slices.Equal(got, tc.want) || got.String() != tc.text {
			t.Errorf("ParseSet(%q) = %v (%q), want %v (%q)", tc.in, got, got.String(), tc.want, tc.text)
		}
	}
	for _, bad := range []string{"a", "3-1", "-1", "0-3:5/2", "0-3:2", "1,,2", "99999999"} {
		if s, err := ParseSet(bad); err == nil {
			t.Errorf("ParseSet(%q) = %v, want an error", bad, s)
		}
	}
}

// want is what a fixture's topology should read as.
type want struct {
	packages, cores, threadsPerCore, l3, nodes int
	types                                      []CoreType
	affinity, cpuset, usable                   Set
	quota                                      float64
	usableCPUs                                 int
	boundaries                                 []Boundary
}

func TestReadFixtures(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(*testing.T) *Topology
		want want
	}{
		{"a 2-socket EPYC 7502 has 64 cores of 2 threads, 16 L3 domains and 2 nodes", readEPYC, want{
			packages: 2, cores: 64, threadsPerCore: 2, l3: 16, nodes: 2,
			affinity: span(0, 127), usable: span(0, 127), usableCPUs: 128,
			boundaries: []Boundary{{BoundL3, 4}, {BoundNUMA, 32}, {BoundCores, 64}, {BoundThreads, 128}},
		}},
		{"an Alder Lake laptop has 4 P-cores with SMT and 8 E-cores without", fixtureReader(alderLakeP()), want{
			packages: 1, cores: 12, threadsPerCore: 2, l3: 1, nodes: 1,
			types:    []CoreType{{TypePerformance, span(0, 7)}, {TypeEfficiency, span(8, 15)}},
			affinity: span(0, 15), usable: span(0, 15), usableCPUs: 16,
			boundaries: []Boundary{{BoundPerformance, 4}, {BoundCores, 12}, {BoundThreads, 16}},
		}},
		{"a container with a cpuset of 4 CPUs and a quota of 2 can use 2", fixtureReader(container()), want{
			packages: 1, cores: 8, threadsPerCore: 2, l3: 1, nodes: 1,
			affinity: span(2, 5), cpuset: span(2, 5), usable: span(2, 5), quota: 2, usableCPUs: 2,
			boundaries: []Boundary{{BoundCores, 2}, {BoundThreads, 2}},
		}},
		{"a cgroup v1 quota on a parent cgroup and a leaf cpuset both count", fixtureReader(cgroupV1()), want{
			packages: 1, cores: 8, threadsPerCore: 1,
			affinity: span(1, 7), cpuset: span(0, 2), usable: span(1, 2), quota: 1.5, usableCPUs: 1,
			boundaries: []Boundary{{BoundCores, 1}, {BoundThreads, 1}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := tc.read(t)
			w := tc.want
			got := want{
				packages: len(topo.Packages), cores: len(topo.Cores), threadsPerCore: topo.ThreadsPerCore(),
				l3: len(topo.L3), nodes: len(topo.Nodes), types: topo.Types,
				affinity: topo.Affinity, cpuset: topo.Cpuset, usable: topo.Usable, quota: topo.Quota,
				usableCPUs: topo.UsableCPUs(), boundaries: topo.Boundaries(),
			}
			if got.packages != w.packages || got.cores != w.cores || got.threadsPerCore != w.threadsPerCore || got.l3 != w.l3 || got.nodes != w.nodes {
				t.Errorf("packages, cores, threads per core, L3 domains, nodes = %d %d %d %d %d, want %d %d %d %d %d",
					got.packages, got.cores, got.threadsPerCore, got.l3, got.nodes, w.packages, w.cores, w.threadsPerCore, w.l3, w.nodes)
			}
			if !slices.EqualFunc(got.types, w.types, func(a, b CoreType) bool { return a.Name == b.Name && slices.Equal(a.CPUs, b.CPUs) }) {
				t.Errorf("types = %v, want %v", got.types, w.types)
			}
			for _, c := range []struct {
				what      string
				got, want Set
			}{{"affinity", got.affinity, w.affinity}, {"cpuset", got.cpuset, w.cpuset}, {"usable", got.usable, w.usable}} {
				if !slices.Equal(c.got, c.want) || (c.got == nil) != (c.want == nil) {
					t.Errorf("%s = %q (nil %v), want %q", c.what, c.got, c.got == nil, c.want)
				}
			}
			if got.quota != w.quota || got.usableCPUs != w.usableCPUs {
				t.Errorf("quota %v, usable CPUs %d; want %v, %d", got.quota, got.usableCPUs, w.quota, w.usableCPUs)
			}
			if !slices.Equal(got.boundaries, w.boundaries) {
				t.Errorf("boundaries = %v, want %v", got.boundaries, w.boundaries)
			}
			checkInvariants(t, topo)
		})
	}
}

func TestReadEPYCDomains(t *testing.T) {
	topo := readEPYC(t)
	if want := NewSet(0, 64); !slices.Equal(topo.Cores[0], want) {
		t.Errorf("first core = %v, want %v", topo.Cores[0], want)
	}
	if want := union(span(4, 7), span(68, 71)); !slices.Equal(topo.L3[1], want) {
		t.Errorf("second L3 domain = %v, want %v", topo.L3[1], want)
	}
	if want := union(span(32, 63), span(96, 127)); !slices.Equal(topo.Nodes[1], want) || !slices.Equal(topo.Packages[1], want) {
		t.Errorf("node 1 = %v, package 1 = %v, want %v", topo.Nodes[1], topo.Packages[1], want)
	}
}

func TestReadNeedsOnlineList(t *testing.T) {
	if _, err := Read(t.TempDir()); err == nil {
		t.Error("Read of an empty tree succeeded")
	}
	f := fixture{"sys/devices/system/cpu/online": "0-x\n"}
	if _, err := Read(f.write(t)); err == nil {
		t.Error("Read of a malformed online list succeeded")
	}
}

// A machine whose sysfs has nothing but the online list (some containers
// mask the rest) reads as one package of single-thread cores.
func TestReadBareOnlineList(t *testing.T) {
	f := fixture{"sys/devices/system/cpu/online": "0-3\n"}
	topo, err := Read(f.write(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Cores) != 4 || len(topo.Packages) != 1 || topo.L3 != nil || topo.Nodes != nil || topo.Affinity != nil || topo.UsableCPUs() != 4 {
		t.Errorf("bare tree read as %+v", topo)
	}
	checkInvariants(t, topo)
}

// Capacities that differ (arm64 big.LITTLE) tell the core types apart.
func TestCoreTypesFromCapacity(t *testing.T) {
	f := fixture{}
	var cpus []fixtureCPU
	for id := range 8 {
		c := fixtureCPU{id: id, coreID: id, siblings: Set{id}, l3: span(0, 7), capacity: 1024}
		if id < 6 {
			c.capacity = 446
		}
		cpus = append(cpus, c)
	}
	f.addCPUs(cpus, false)
	topo, err := Read(f.write(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []CoreType{{TypePerformance, span(6, 7)}, {TypeEfficiency, span(0, 5)}}
	if !slices.EqualFunc(topo.Types, want, func(a, b CoreType) bool { return a.Name == b.Name && slices.Equal(a.CPUs, b.CPUs) }) {
		t.Errorf("types = %v, want %v", topo.Types, want)
	}
	if b := topo.Boundaries(); b[0] != (Boundary{BoundPerformance, 2}) {
		t.Errorf("boundaries = %v, want the 2 big cores first", b)
	}
}

// On this machine only invariants can be checked, and that the affinity
// mask agrees with the kernel's answer to sched_getaffinity.
func TestReadThisMachine(t *testing.T) {
	if _, err := os.Stat("/sys/devices/system/cpu/online"); err != nil {
		t.Skip("no sysfs:", err)
	}
	topo, err := Read("/")
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, topo)
	var mask unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mask); err != nil {
		t.Fatal(err)
	}
	if len(topo.Affinity) != mask.Count() {
		t.Errorf("affinity %q has %d CPUs, sched_getaffinity %d", topo.Affinity, len(topo.Affinity), mask.Count())
	}
	for _, c := range topo.Affinity {
		if !mask.IsSet(c) {
			t.Errorf("affinity %q has CPU %d, which sched_getaffinity has not", topo.Affinity, c)
		}
	}
}

// checkInvariants checks what holds of any topology: the cores partition
// the online CPUs, so do the packages and the L3 domains where known; what
// is usable is online; the boundaries are sorted and within the usable
// CPUs; every placement order is a permutation of the usable CPUs.
func checkInvariants(t *testing.T, topo *Topology) {
	t.Helper()
	for _, d := range []struct {
		what    string
		domains []Set
	}{{"cores", topo.Cores}, {"packages", topo.Packages}, {"L3 domains", topo.L3}, {"nodes", topo.Nodes}} {
		if d.domains == nil && (d.what == "L3 domains" || d.what == "nodes") {
			continue
		}
		if all := union(d.domains...); !slices.Equal(all, topo.Online) {
			t.Errorf("%s cover %q, want the online CPUs %q", d.what, all, topo.Online)
		}
		n := 0
		for _, s := range d.domains {
			n += len(s)
		}
		if n != len(topo.Online) {
			t.Errorf("%s overlap: %d CPUs in all, %d online", d.what, n, len(topo.Online))
		}
	}
	if len(topo.Usable) == 0 || !slices.Equal(topo.Usable.Intersect(topo.Online), topo.Usable) {
		t.Errorf("usable %q is empty or not within online %q", topo.Usable, topo.Online)
	}
	if u := topo.UsableCPUs(); u < 1 || u > len(topo.Usable) {
		t.Errorf("UsableCPUs = %d with %d usable CPUs", u, len(topo.Usable))
	}
	bs := topo.Boundaries()
	if len(bs) == 0 || bs[len(bs)-1].Name != BoundThreads {
		t.Errorf("boundaries %v do not end with %s", bs, BoundThreads)
	}
	for i, b := range bs {
		if b.Workers < 1 || b.Workers > topo.UsableCPUs() || i > 0 && b.Workers < bs[i-1].Workers {
			t.Errorf("boundaries %v: %v is unsorted or outside 1-%d", bs, b, topo.UsableCPUs())
		}
	}
	for _, p := range Policies()[1:] {
		order := topo.Order(p)
		if !slices.Equal(NewSet(order...), topo.Usable) || len(order) != len(topo.Usable) {
			t.Errorf("%s order %v is not a permutation of the usable CPUs %q", p, order, topo.Usable)
		}
	}
}

func fixtureReader(f fixture) func(*testing.T) *Topology {
	return func(t *testing.T) *Topology { return readFixture(t, f) }
}
