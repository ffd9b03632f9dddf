package analysis

import (
	"math"
	"slices"
	"strings"

	"github.com/corescale/corescale/resultfile"
)

// UnitClock is the clock probe's unit as analysis holds it (clock-sec):
// per sample, the time a fixed chain of dependent integer operations took
// around the sample's runs, higher when the CPU ran slower.
var UnitClock = resultfile.TidyUnit(resultfile.UnitClock)

// A ClockFit says how a configuration's ratios were adjusted for the speed
// the CPU ran at (see adjustClock).
type ClockFit struct {
	// Beta is the exponent fitted: a sample's time goes as its clock
	// probe to the power Beta (1: the work's time is all cycles at the
	// probed clock). Valid with Applied.
	Beta float64
	// Samples is how many samples it was fitted from.
	Samples int
	// Applied reports whether the ratios were adjusted: every sample of
	// the configuration carries a probe and the probes explain part of
	// the times' spread (Beta > 0).
	Applied bool
}

// adjustClock fits how the times of a configuration's samples follow their
// clock probes and, where they do, sets each cell's clockFactor: the
// factor (probe / reference)^Beta its samples' times are divided by (and
// rates multiplied by) in every ratio taken from them.
//
// Samples measured side by side can still run at different speeds: on a
// VM the vCPU's clock wanders by several per cent in waves of hundreds of
// milliseconds (see package runner's probe), longer than a sample and
// shorter than a round, and pairing by round does not cancel it. The
// probe measures it. Beta is the pooled within-cell least-squares slope of
// log time on log probe: fitted within cells so that what differs between
// cells (the workers, the strategy) does not enter it, and least squares
// because that is the exponent that leaves the least spread; a probe's own
// noise biases it toward 0, which under-corrects rather than inventing a
// correction. The reference is the configuration's median probe, so
// adjusted times stay at the level the machine ran at and a cell's
// absolute figures (medians, throughput) are reported as measured.
func adjustClock(cells []*Cell) ClockFit {
	for _, c := range cells {
		c.clockFactor = nil
	}
	var all []float64
	var sxy, sxx float64
	n := 0
	for _, c := range cells {
		clock, times := c.Values[UnitClock], c.Values[UnitTime]
		if len(clock) == 0 || len(clock) != len(times) {
			return ClockFit{}
		}
		xs, ys := make([]float64, len(clock)), make([]float64, len(clock))
		for i := range clock {
			if clock[i] <= 0 || times[i] <= 0 {
				return ClockFit{}
			}
			xs[i], ys[i] = math.Log(clock[i]), math.Log(times[i])
		}
		mx, my := mean(xs), mean(ys)
		for i := range xs {
			sxy += (xs[i] - mx) * (ys[i] - my)
			sxx += (xs[i] - mx) * (xs[i] - mx)
		}
		all = append(all, clock...)
		n += len(clock)
	}
	if n < 2*MinPairs || sxx <= 0 || sxy <= 0 {
		return ClockFit{Samples: n}
	}
	fit := ClockFit{Beta: sxy / sxx, Samples: n, Applied: true}
	ref := median(all)
	for _, c := range cells {
		c.clockFactor = make([]float64, len(c.Values[UnitClock]))
		for i, p := range c.Values[UnitClock] {
			c.clockFactor[i] = math.Pow(p/ref, fit.Beta)
		}
	}
	return fit
}

// adjusted returns values of unit with the clock divided out: times
// divided by the cell's clock factors, rates (units per second) multiplied
// by them; values unchanged where the cell has none.
func (c *Cell) adjusted(values []float64, unit string) []float64 {
	if c.clockFactor == nil || len(values) != len(c.clockFactor) || unit == UnitClock {
		return values
	}
	out := make([]float64, len(values))
	rate := strings.HasSuffix(unit, "/s")
	for i, v := range values {
		if rate {
			out[i] = v * c.clockFactor[i]
		} else {
			out[i] = v / c.clockFactor[i]
		}
	}
	return out
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// spreadOf is half the interquartile range of xs relative to their median.
func spreadOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	q := func(p float64) float64 { return xs[int(math.Round(p*float64(len(xs)-1)))] }
	return (q(0.75) - q(0.25)) / 2 / q(0.5)
}
