package topology

import (
	"fmt"
	"slices"
	"strings"
)

// A Policy places workers on CPUs. Every policy but None is an order of
// the usable CPUs: worker i runs on the i-th CPU of it, and when workers
// outnumber the CPUs they wrap around (two workers share a CPU, as they
// would unpinned).
type Policy string

const (
	// None leaves placement to the kernel's scheduler.
	None Policy = "none"
	// Cores gives each worker a physical core of its own while there are
	// any (the first thread of every core, in CPU order), then the cores'
	// second threads, and so on: SMT siblings come last.
	Cores Policy = "cores"
	// Spread deals workers round-robin over the cache domains (L3
	// domains, alternating between NUMA nodes; NUMA nodes or packages
	// where sysfs lists no L3), each domain's physical cores before their
	// SMT siblings: neighbouring workers share as little as they can.
	Spread Policy = "spread"
	// Compact fills one domain before the next, a core's SMT threads
	// together: neighbouring workers share caches (and cores).
	Compact Policy = "compact"
)

// Policies lists the placement policies, None first.
func Policies() []Policy { return []Policy{None, Cores, Spread, Compact} }

// ParsePolicy reads a policy's name.
func ParsePolicy(s string) (Policy, error) {
	if p := Policy(s); slices.Contains(Policies(), p) {
		return p, nil
	}
	names := make([]string, 0, 4)
	for _, p := range Policies() {
		names = append(names, string(p))
	}
	return "", fmt.Errorf("topology: unknown placement policy %q (have %s)", s, strings.Join(names, ", "))
}

// Place returns the CPUs of each of the given number of workers under
// policy p: one CPU each, from Order. It returns nil for None, and for a
// topology with no usable CPU.
func (t *Topology) Place(p Policy, workers int) []Set {
	order := t.Order(p)
	if len(order) == 0 {
		return nil
	}
	sets := make([]Set, workers)
	for w := range sets {
		sets[w] = Set{order[w%len(order)]}
	}
	return sets
}

// Order returns the usable CPUs in the order policy p hands them to
// workers; nil for None.
func (t *Topology) Order(p Policy) []int {
	switch p {
	case Cores:
		return coresFirst(t.usableCores(t.Usable))
	case Compact:
		var order []int
		for _, d := range t.domains() {
			for _, core := range t.usableCores(d) {
				order = append(order, core...)
			}
		}
		return order
	case Spread:
		var lists [][]int
		for _, d := range t.interleaved(t.domains()) {
			lists = append(lists, coresFirst(t.usableCores(d)))
		}
		return roundRobin(lists)
	}
	return nil
}

// usableCores returns the usable threads of each physical core that has
// any in within, in CPU order.
func (t *Topology) usableCores(within Set) []Set {
	var cores []Set
	for _, c := range t.Cores {
		if u := c.Intersect(within).Intersect(t.Usable); len(u) > 0 {
			cores = append(cores, u)
		}
	}
	return cores
}

// coresFirst is each core's first thread, then each core's second, and so
// on.
func coresFirst(cores []Set) []int {
	lists := make([][]int, len(cores))
	for i, c := range cores {
		lists[i] = c
	}
	return roundRobin(lists)
}

// roundRobin takes the first of each list, then the second of each, and
// so on, skipping lists that ran out.
func roundRobin(lists [][]int) []int {
	var order []int
	for k := 0; ; k++ {
		n := len(order)
		for _, l := range lists {
			if k < len(l) {
				order = append(order, l[k])
			}
		}
		if len(order) == n {
			return order
		}
	}
}

// domains are the finest cache domains that have usable CPUs: the L3
// domains if there are several, else the NUMA nodes, else the packages,
// else all usable CPUs as one.
func (t *Topology) domains() []Set {
	for _, level := range [][]Set{t.L3, t.Nodes, t.Packages} {
		var ds []Set
		for _, d := range level {
			if u := d.Intersect(t.Usable); len(u) > 0 {
				ds = append(ds, u)
			}
		}
		if len(ds) > 1 {
			return ds
		}
	}
	if len(t.Usable) == 0 {
		return nil
	}
	return []Set{t.Usable}
}

// interleaved orders domains so that consecutive ones lie in different
// NUMA nodes where there are several: node 0's first domain, node 1's
// first, ..., node 0's second, and so on.
func (t *Topology) interleaved(domains []Set) []Set {
	if len(t.Nodes) < 2 {
		return domains
	}
	groups := make([][]Set, len(t.Nodes)+1) // the last for domains in no node
	for _, d := range domains {
		g := len(t.Nodes)
		for i, n := range t.Nodes {
			if n.Contains(d[0]) {
				g = i
				break
			}
		}
		groups[g] = append(groups[g], d)
	}
	var out []Set
	for k := 0; len(out) < len(domains); k++ {
		for _, g := range groups {
			if k < len(g) {
				out = append(out, g[k])
			}
		}
	}
	return out
}

// Names of boundaries.
const (
	BoundPerformance = "performance" // the performance cores of a hybrid machine
	BoundL3          = "l3"          // the physical cores of one L3 domain
	BoundNUMA        = "numa"        // the physical cores of one NUMA node
	BoundCores       = "cores"       // every physical core
	BoundThreads     = "threads"     // every usable CPU, SMT threads included
)

// A Boundary is a worker count where something about the machine changes
// for the next worker: past it, a worker shares a core with another, or
// leaves an L3 domain or NUMA node.
type Boundary struct {
	Name    string
	Workers int
}

// Boundaries returns the machine's boundaries among its usable CPUs, by
// worker count (then in the order of the Bound* constants), none above
// UsableCPUs: past that, workers only queue. L3, NUMA and performance
// boundaries are named only where the machine has more than one domain or
// type; each counts the physical cores of the largest such domain (or of
// the performance type). A capped boundary equals UsableCPUs.
func (t *Topology) Boundaries() []Boundary {
	limit := t.UsableCPUs()
	var bs []Boundary
	add := func(name string, n int) {
		if n > 0 {
			bs = append(bs, Boundary{name, min(n, limit)})
		}
	}
	largest := func(domains []Set) int {
		n, with := 0, 0
		for _, d := range domains {
			if c := len(t.usableCores(d)); c > 0 {
				n, with = max(n, c), with+1
			}
		}
		if with < 2 {
			return 0
		}
		return n
	}
	if len(t.Types) > 1 {
		add(BoundPerformance, len(t.usableCores(t.Types[0].CPUs)))
	}
	add(BoundL3, largest(t.L3))
	add(BoundNUMA, largest(t.Nodes))
	add(BoundCores, len(t.usableCores(t.Usable)))
	add(BoundThreads, len(t.Usable))
	slices.SortStableFunc(bs, func(a, b Boundary) int { return a.Workers - b.Workers })
	return bs
}
