package resultfile

import (
	"fmt"
	"strconv"
	"strings"
)

// Names of boundaries, as internal/topology names them (a runner test
// keeps the two in step: resultfile imports nothing of ours).
const (
	BoundaryPerformance = "performance" // the performance cores of a hybrid machine
	BoundaryL3          = "l3"          // the physical cores of one L3 domain
	BoundaryNUMA        = "numa"        // the physical cores of one NUMA node
	BoundaryCores       = "cores"       // every usable physical core
	BoundaryThreads     = "threads"     // every usable CPU, SMT threads included
)

// A Boundary is a worker count where something about the machine changes
// for the next worker: it shares a core with another, or leaves an L3
// domain or a NUMA node.
type Boundary struct {
	Name    string
	Workers int
}

// FormatBoundaries writes the value of a ConfigBoundaries line: "l3=4
// numa=32 cores=64 threads=128", in the given order.
func FormatBoundaries(bs []Boundary) string {
	items := make([]string, len(bs))
	for i, b := range bs {
		items[i] = b.Name + "=" + strconv.Itoa(b.Workers)
	}
	return strings.Join(items, " ")
}

// ParseBoundaries reads a ConfigBoundaries value; "" (a file from before
// boundaries were recorded) is none.
func ParseBoundaries(s string) ([]Boundary, error) {
	var bs []Boundary
	for _, item := range strings.Fields(s) {
		name, v, ok := strings.Cut(item, "=")
		n, err := strconv.Atoi(v)
		if !ok || name == "" || err != nil || n < 1 {
			return nil, fmt.Errorf("resultfile: bad boundary %q in %q", item, s)
		}
		bs = append(bs, Boundary{Name: name, Workers: n})
	}
	return bs, nil
}
