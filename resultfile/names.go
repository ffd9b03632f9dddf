package resultfile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Strategy names. The baseline runs twice per round, as Serial and as
// SerialAA, at two random places in the round: the two do identical work,
// so their paired ratio is the sweep's noise floor (an A/A test).
const (
	Serial     = "serial"
	SerialAA   = "serial-aa"
	Goroutines = "goroutines"
	Procpool   = "procpool"
	// The Python references: the same work done the way a Python
	// programmer would, on the same shared region.
	PySerial  = "py-serial"
	PyThreads = "py-threads"
	PyPool    = "py-pool"
	PyPoolShm = "py-pool-shm"
)

// referencePrefix starts the names of strategies that measure other tools.
const referencePrefix = "py-"

// IsBaseline reports whether a strategy is the serial baseline or its A/A
// twin.
func IsBaseline(strategy string) bool { return strategy == Serial || strategy == SerialAA }

// IsReference reports whether a strategy measures another tool (Python's).
func IsReference(strategy string) bool { return strings.HasPrefix(strategy, referencePrefix) }

// InWorkerProcesses reports whether a strategy's workers are processes of
// their own (procpool's, Python's), not goroutines of the process that
// measures: reaching them costs a wake-up of another process each run.
func InWorkerProcesses(strategy string) bool { return strategy == Procpool || IsReference(strategy) }

// Scheduling policies, as runner/procpool's Sched writes them (a test keeps
// the two in step: procpool imports nothing of ours).
const (
	SchedDynamic = "dynamic"
	SchedStatic  = "static"
)

// Keys of benchmark names.
const (
	KeyShape = "shape"
	KeySize  = "size"
	// KeyPerWorker is the size per worker under weak scaling.
	KeyPerWorker = "per-worker"
	KeyStrategy  = "strategy"
	KeySched     = "sched"
	// KeyPin names the placement policy of a cell whose workers were
	// pinned to CPUs; cells left to the scheduler (policy none) have no
	// pin key, so that their names are those of files from before
	// placement existed and benchstat pairs them across files.
	KeyPin     = "pin"
	KeyWorkers = "workers"
	// KeyGomaxprocs names a worker count in other tools' benchmark names,
	// as KeyWorkers does (go test's -N suffix is GOMAXPROCS too).
	KeyGomaxprocs = "gomaxprocs"
	// Ceiling lines.
	KeyKernel = "kernel"
	KeySource = "source"
	KeyLanes  = "lanes"
	KeyCores  = "cores"
)

// Base names of the lines that are not samples.
const (
	BaseStartup = "Startup"
	BaseCeiling = "Ceiling"
)

// A Cell names what a sample measured: a kernel configuration run by one
// strategy with one scheduling policy and worker count.
type Cell struct {
	Kernel string // the benchmark's base name: Matmul, Hash, Search
	Shape  string
	Size   string // the size it ran, as FormatSize writes it
	// PerWorker is, under weak scaling, the size per worker that Size grew
	// from; "" under strong scaling. The cells of a configuration share it,
	// and their names differ in Size: no two cells of different work share
	// a name.
	PerWorker string
	Strategy  string
	Sched     string
	// Pin is the placement policy that pinned the cell's workers to CPUs
	// (cores, spread, compact); "" when they were not pinned.
	Pin     string
	Workers int
	// Bench is set for a benchmark that is not a corescale cell (its name
	// has no strategy key: go test output of any package): its name
	// without "Benchmark" and without its worker count (the -N suffix, or
	// a workers= or gomaxprocs= part), the scaling curve it is a point of.
	// Kernel is then its base name, and the other fields but Workers are
	// empty.
	Bench string
}

// ConfigName names the cell's kernel configuration:
// "Hash/shape=uniform/size=64Mi", or under weak scaling
// "Hash/shape=uniform/per-worker=4Mi".
//
// A benchmark of another tool (Bench set) is its own configuration: its
// name without the worker count.
func (c Cell) ConfigName() string {
	if c.Bench != "" {
		return c.Bench
	}
	if c.PerWorker != "" {
		return fmt.Sprintf("%s/%s=%s/%s=%s", c.Kernel, KeyShape, c.Shape, KeyPerWorker, c.PerWorker)
	}
	return fmt.Sprintf("%s/%s=%s/%s=%s", c.Kernel, KeyShape, c.Shape, KeySize, c.Size)
}

// sizes is the size part of a name: size=, and per-worker= under weak
// scaling.
func (c Cell) sizes() string {
	s := KeySize + "=" + c.Size
	if c.PerWorker != "" {
		s += "/" + KeyPerWorker + "=" + c.PerWorker
	}
	return s
}

// Name returns the cell's benchmark name without "Benchmark":
//
//	Hash/shape=uniform/size=64Mi/strategy=procpool/sched=dynamic/workers=2
//	Hash/shape=uniform/size=16Mi/per-worker=4Mi/strategy=procpool/sched=dynamic/workers=4  (weak scaling)
//	Hash/shape=uniform/size=64Mi/strategy=procpool/sched=dynamic/pin=cores/workers=2  (pinned)
//
// The worker count is always named: go test -cpu omits a "-1" suffix, which
// leaves benchstat's /gomaxprocs column for one CPU without a header.
func (c Cell) Name() string {
	return fmt.Sprintf("%s/%s=%s/%s/%s=%s/%s=%s%s/%s=%d", c.Kernel, KeyShape, c.Shape, c.sizes(), KeyStrategy, c.Strategy, KeySched, c.Sched, c.pin(), KeyWorkers, c.Workers)
}

// pin is the pin part of a name, with its leading '/': "" when unpinned.
func (c Cell) pin() string {
	if c.Pin == "" {
		return ""
	}
	return "/" + KeyPin + "=" + c.Pin
}

// startupName names the start-up line of the cell's strategy and workers.
func (c Cell) startupName() string {
	return fmt.Sprintf("%s/%s/%s=%s/%s/%s=%s%s/%s=%d", BaseStartup, c.Kernel, KeyShape, c.Shape, c.sizes(), KeyStrategy, c.Strategy, c.pin(), KeyWorkers, c.Workers)
}

// KernelName is a kernel's base name in benchmark names: "hash" -> "Hash".
func KernelName(kernel string) string {
	if kernel == "" {
		return ""
	}
	return strings.ToUpper(kernel[:1]) + kernel[1:]
}

// FormatSize writes sizes the way benchstat's @num sort reads them: 64Mi,
// 64Ki, or plain numbers (matrix orders such as 1024 stay plain).
func FormatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMi", n>>20)
	case n >= 1<<16 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKi", n>>10)
	}
	return strconv.Itoa(n)
}

// parsedName is a benchmark name taken apart: its base, its key=value parts
// and the GOMAXPROCS of a "-N" suffix (1 without one, as go test writes).
type parsedName struct {
	base       string
	rest       []string // the parts after the base, without their '/'
	keys       map[string]string
	gomaxprocs int
	// bench is the name without the part that gives its worker count,
	// workers the count (for names without a strategy key: see Cell.Bench).
	bench   string
	workers int
	// unread are the parts the cell does not hold (see Sample.Unread).
	unread []string
}

// SweepKeys returns the keys of a corescale cell's name, in their order.
func SweepKeys() []string { return slices.Clone(sweepKeys) }

// sweepKeys are the keys of a corescale cell's name.
var sweepKeys = []string{KeyShape, KeySize, KeyPerWorker, KeyStrategy, KeySched, KeyPin, KeyWorkers}

func parseName(base []byte, parts [][]byte) parsedName {
	n := parsedName{base: string(base), keys: map[string]string{}, gomaxprocs: 1, workers: 1}
	// The part that gives the worker count: a workers= key, else a
	// gomaxprocs= key, else the -N suffix; the others stay in the name.
	at := map[string]int{}
	counts := map[int]int{}
	for i, p := range parts {
		if p[0] == '-' {
			if v, err := strconv.Atoi(string(p[1:])); err == nil {
				n.gomaxprocs = v
				at["-"], counts[i] = i, v
			}
			continue
		}
		part := string(p[1:])
		n.rest = append(n.rest, part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		n.keys[k] = v
		if k != KeyWorkers && k != KeyGomaxprocs {
			continue
		}
		if w, err := strconv.Atoi(v); err != nil || w < 1 {
			n.unread = append(n.unread, part)
		} else if _, seen := at[k]; !seen {
			at[k], counts[i] = i, w
		}
	}
	if _, ok := n.keys[KeyStrategy]; ok {
		n.unread = nil
		for _, part := range n.rest {
			if k, _, _ := strings.Cut(part, "="); !slices.Contains(sweepKeys, k) {
				n.unread = append(n.unread, part)
			}
		}
		return n
	}
	countAt := -1
	for _, k := range []string{KeyWorkers, KeyGomaxprocs, "-"} {
		if i, ok := at[k]; ok {
			countAt, n.workers = i, counts[i]
			break
		}
	}
	var b strings.Builder
	b.WriteString(n.base)
	for i, p := range parts {
		if i != countAt {
			b.Write(p)
		}
	}
	n.bench = b.String()
	if n.bench == "" {
		// A function named just Benchmark: nothing is left of its name
		// to name its curve but the name itself.
		n.bench = "Benchmark"
	}
	return n
}

// cell is the sample cell the name describes. The worker count is the
// workers key when there is one (corescale run), else GOMAXPROCS (go test
// -cpu), except for the baseline, which has one worker. A name without a
// strategy key is another tool's benchmark (see Cell.Bench).
func (n parsedName) cell() Cell {
	if n.bench != "" {
		return Cell{Kernel: n.base, Bench: n.bench, Workers: n.workers}
	}
	return n.sweepCell()
}

// sweepCell is the corescale cell the name describes, strategy key or not.
func (n parsedName) sweepCell() Cell {
	c := Cell{Kernel: n.base, Shape: n.keys[KeyShape], Size: n.keys[KeySize], PerWorker: n.keys[KeyPerWorker],
		Strategy: n.keys[KeyStrategy], Sched: n.keys[KeySched], Pin: n.keys[KeyPin], Workers: n.gomaxprocs}
	if w, err := strconv.Atoi(n.keys[KeyWorkers]); err == nil {
		c.Workers = w
	} else if IsBaseline(c.Strategy) {
		c.Workers = 1
	}
	return c
}

// startupCell is the cell of a start-up line: its first part is the kernel.
func (n parsedName) startupCell() Cell {
	c := n.sweepCell()
	if len(n.rest) > 0 {
		c.Kernel = n.rest[0]
	}
	return c
}

// PinNone is the placement policy that pins nothing: cells under it have
// no pin key.
const PinNone = "none"

// NameWithGomaxprocs returns a go test benchmark's name (without
// "Benchmark") with its GOMAXPROCS suffix, which go test leaves out at 1:
// "Mutex" at 1 is "Mutex-1", so that benchstat's -col /gomaxprocs heads
// that column too. At any other count go test wrote the suffix, and the
// name is returned as it is; at 1 it never did, so a name that ends in
// "-<digits>" of its own ("Size/n-1024") gets "-1" all the same.
func NameWithGomaxprocs(name string, gomaxprocs int) string {
	if gomaxprocs != 1 {
		if _, parts := benchfmt.Name(name).Parts(); len(parts) > 0 && parts[len(parts)-1][0] == '-' {
			return name
		}
	}
	return name + "-" + strconv.Itoa(gomaxprocs)
}
