package resultfile

import (
	"strings"

	"golang.org/x/perf/benchunit"
)

// Units of the values a sample line carries, as written. Readers that tidy
// units (benchfmt, benchstat) see ns/op as sec/op and the busy and wait
// times as busy-max-sec/op and so on; Tidy gives that form.
const (
	// UnitTime is the wall time of the parallel section of one run.
	UnitTime = "ns/op"
	// UnitSpanMax and UnitSpanMean are the longest and the mean of the
	// workers' spans: the time from dispatch to a worker's last chunk
	// done. Wall minus the longest is the join; the longest minus the mean
	// is load imbalance.
	UnitSpanMax  = "span-max-ns/op"
	UnitSpanMean = "span-mean-ns/op"
	// UnitWaitMean is the mean over the workers of the part of their span
	// they were not on a CPU: runnable but not running (time slicing when
	// workers outnumber CPUs), or not yet woken.
	UnitWaitMean = "wait-mean-ns/op"
	// UnitBusyMax and UnitBusyMean are what files before the spans
	// carried: per-worker time inside chunk functions.
	UnitBusyMax  = "busy-max-ns/op"
	UnitBusyMean = "busy-mean-ns/op"
	// UnitClock is the time of a fixed chain of dependent integer
	// operations, timed around a sample's runs: the inverse of the speed
	// the CPU ran at then. It is per sample, not per op.
	UnitClock = "clock-ns"
	// UnitLoad is the unit of a memory latency ceiling: nanoseconds per
	// dependent load.
	UnitLoad = "ns/load"
)

// ThroughputUnit is the unit of a kernel's throughput: its work unit per
// second (FLOP/s, B/s, queries/s), a base unit that benchstat scales with
// SI prefixes.
func ThroughputUnit(workUnit string) string { return workUnit + "/s" }

// IsRate reports whether a unit is per second: a throughput, better higher.
func IsRate(unit string) bool { return strings.HasSuffix(unit, "/s") }

// Tidy converts a value to the unit benchfmt readers see: ns/op becomes
// sec/op, busy-max-ns/op busy-max-sec/op, MB/s B/s.
func Tidy(value float64, unit string) (float64, string) { return benchunit.Tidy(value, unit) }

// TidyUnit is the unit as benchfmt readers see it.
func TidyUnit(unit string) string {
	_, u := benchunit.Tidy(1, unit)
	return u
}

// A Value is one metric of a line, in the unit it was written in.
type Value struct {
	Value float64
	Unit  string
}
