package resultfile

import (
	"fmt"
	"strconv"
	"strings"
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
}

// ConfigName names the cell's kernel configuration:
// "Hash/shape=uniform/size=64Mi", or under weak scaling
// "Hash/shape=uniform/per-worker=4Mi".
func (c Cell) ConfigName() string {
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
}

func parseName(base []byte, parts [][]byte) parsedName {
	n := parsedName{base: string(base), keys: map[string]string{}, gomaxprocs: 1}
	for _, p := range parts {
		if p[0] == '-' {
			if v, err := strconv.Atoi(string(p[1:])); err == nil {
				n.gomaxprocs = v
			}
			continue
		}
		part := string(p[1:])
		n.rest = append(n.rest, part)
		if k, v, ok := strings.Cut(part, "="); ok {
			n.keys[k] = v
		}
	}
	return n
}

// cell is the sample cell the name describes. The worker count is the
// workers key when there is one (corescale run), else GOMAXPROCS (go test
// -cpu), except for the baseline, which has one worker.
func (n parsedName) cell() Cell {
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
	c := n.cell()
	if len(n.rest) > 0 {
		c.Kernel = n.rest[0]
	}
	return c
}

// PinNone is the placement policy that pins nothing: cells under it have
// no pin key.
const PinNone = "none"
