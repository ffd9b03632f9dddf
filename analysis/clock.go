package analysis

import (
	"math"
	"slices"

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
	// probed clock).
	Beta float64
	// Samples is how many samples it was fitted from.
	Samples int
	// RawSpread and Spread are the spread of the samples' times about
	// their cell's and their round's medians (half the interquartile
	// range, pooled over the configuration's cells) before and after the
	// clock is divided out: the spread same-round ratios feel.
	RawSpread, Spread float64
	// Applied reports whether the ratios were adjusted: every sample of
	// the configuration carries a probe, and dividing the clock out
	// narrows the spread by more than chance would (clockGainNeeded).
	Applied bool
}

// minClockGain is the least narrowing of the pooled spread for which the
// clock is divided out: on a steady clock the probes are noise of their
// own, and a fit to noise narrows the spread of its own samples a little
// by chance (the search below always finds at least Beta = 0). With few
// samples chance does more: the interquartile range of n normal samples
// has a relative standard error of 1.17/sqrt(n), and the narrowing must
// be twice that too (18% over 160 samples, 11% over 420).
const minClockGain = 0.1

// clockGainNeeded is the narrowing n samples must show.
func clockGainNeeded(n int) float64 {
	return max(minClockGain, 2*1.17/math.Sqrt(float64(n)))
}

// adjustClock fits how the times of a configuration's samples follow their
// clock probes and, where dividing the clock out narrows their spread,
// sets each cell's clockFactor: the factor (probe / reference)^Beta its
// samples' times are divided by (and rates multiplied by) in every ratio
// taken from them.
//
// Samples measured side by side can still run at different speeds: on a
// VM the vCPU's clock wanders by several per cent in waves of hundreds of
// milliseconds (see package runner's probe), longer than a sample and
// shorter than a round, and pairing by round does not cancel it. The
// probe measures it. Beta is the exponent that leaves the least spread of
// log time about each cell's median and, in a file taken in rounds, each
// round's (half the interquartile range, pooled over cells): within cells,
// so that what differs between cells (the workers, the strategy) does not
// enter it; within rounds, because what a round's samples share cancels in
// the same-round ratios the report takes (fitting it too let the probes'
// own noise into ratios that had none); and by the interquartile range, the spread the report's order-statistic intervals feel, so that
// a few slow samples whose probes were slow too cannot buy a correction
// that adds the probes' own noise to all the others (least squares did:
// on a quiet host it fitted 0.73 to matmul and widened its A/A spread).
// Adjusted values are read only in ratios, where the reference probe (the
// configuration's median) cancels; it keeps them near the measured ones
// all the same. A cell's absolute figures (medians, throughput) are
// reported as measured, from its raw values.
func adjustClock(cells []*Cell) ClockFit {
	for _, c := range cells {
		c.clockFactor = nil
	}
	type logs struct {
		clock, time []float64
		places      []place // nil: unpaired
	}
	var per []logs
	var all []float64
	n := 0
	for _, c := range cells {
		clock, times := c.Values[UnitClock], c.Values[UnitTime]
		if len(clock) == 0 || len(clock) != len(times) {
			return ClockFit{}
		}
		l := logs{clock: make([]float64, len(clock)), time: make([]float64, len(clock))}
		for i := range clock {
			if clock[i] <= 0 || times[i] <= 0 {
				return ClockFit{}
			}
			l.clock[i], l.time[i] = math.Log(clock[i]), math.Log(times[i])
		}
		if c.Paired && len(c.Rounds) == len(clock) && len(c.Forks) == len(clock) {
			for i := range clock {
				l.places = append(l.places, place{c.Forks[i], c.Rounds[i]})
			}
		}
		per = append(per, l)
		all = append(all, clock...)
		n += len(clock)
	}
	if n < 2*MinPairs {
		return ClockFit{Samples: n}
	}
	residuals := make([][]float64, len(per))
	rounds := map[place][]float64{}
	var pooled []float64
	spread := func(beta float64) float64 {
		clear(rounds)
		for j, l := range per {
			r := residuals[j][:0]
			for i := range l.time {
				r = append(r, l.time[i]-beta*l.clock[i])
			}
			m := median(slices.Clone(r))
			for i := range r {
				r[i] -= m
				if l.places != nil {
					rounds[l.places[i]] = append(rounds[l.places[i]], r[i])
				}
			}
			residuals[j] = r
		}
		// What a round shares (the cells' ratios cancel it) is no
		// spread the clock needs to explain.
		shared := map[place]float64{}
		for p, rs := range rounds {
			if len(rs) > 1 {
				shared[p] = median(rs)
			}
		}
		pooled = pooled[:0]
		for j, l := range per {
			for i, r := range residuals[j] {
				if l.places != nil {
					r -= shared[l.places[i]]
				}
				pooled = append(pooled, r)
			}
		}
		slices.Sort(pooled)
		return halfIQR(pooled)
	}
	fit := ClockFit{Samples: n, RawSpread: spread(0)}
	fit.Spread = fit.RawSpread
	// Exponents from 0 (the time owes nothing to the clock) to 2 (more
	// than cycles: memory stalls that slow with it); 0.02 apart is finer
	// than the probes can tell.
	for k := 1; k <= 100; k++ {
		beta := float64(k) / 50
		if s := spread(beta); s < fit.Spread {
			fit.Beta, fit.Spread = beta, s
		}
	}
	if fit.Beta == 0 || fit.Spread > (1-clockGainNeeded(n))*fit.RawSpread {
		return fit // Beta and Spread say what it would have done
	}
	fit.Applied = true
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
	rate := resultfile.IsRate(unit)
	for i, v := range values {
		if rate {
			out[i] = v * c.clockFactor[i]
		} else {
			out[i] = v / c.clockFactor[i]
		}
	}
	return out
}

// spreadOf is half the interquartile range of xs relative to their median.
func spreadOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return halfIQR(xs) / median(xs)
}

// halfIQR is half the interquartile range of sorted, non-empty xs.
func halfIQR(xs []float64) float64 {
	q := func(p float64) float64 { return xs[int(math.Round(p*float64(len(xs)-1)))] }
	return (q(0.75) - q(0.25)) / 2
}
