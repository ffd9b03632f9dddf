package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/corescale/corescale/resultfile"
)

// A Scaling is the analysis of one kernel configuration in one file: a
// curve per strategy x sched over the worker counts, against a baseline.
type Scaling struct {
	Config Config
	Weak   bool   // the file says scaling: weak
	Unit   string // the throughput unit speedups are computed from
	// Baseline is the point speedups are relative to: the serial
	// strategy (dynamic sched if both were run). Nil when the file has no
	// serial cell; each curve is then relative to its own 1-worker point.
	Baseline *Point
	Curves   []*Curve
}

// A Curve is one strategy x sched over worker counts.
type Curve struct {
	Strategy, Sched string
	Points          []*Point // by worker count
	// Fits are Amdahl's law (Gustafson's for weak scaling) and the USL,
	// fitted to the curve's capacity relative to its own 1-worker point.
	Fits []*Fit
	// FitNote says why there are no fits, when there are none.
	FitNote string
}

// Name is "strategy/sched".
func (c *Curve) Name() string { return c.Strategy + "/" + c.Sched }

// A Point is one cell of a curve.
type Point struct {
	Cell       *Cell
	Workers    int
	Time       benchmath.Summary // seconds per run: median and 95% CI
	Throughput benchmath.Summary // in Scaling.Unit
	// Speedup is the median throughput over the baseline's, with a
	// conservative interval from the two CIs (for strong scaling, the
	// ratio of times).
	Speedup, SpeedupLo, SpeedupHi float64
	Efficiency                    float64 // Speedup / Workers
	// KarpFlatt is the experimentally determined serial fraction
	// (1/S - 1/N)/(1 - 1/N); NaN at one worker.
	KarpFlatt float64
	// Losses split the worker time the point lost against ideal.
	Losses Losses
}

// Losses split the part of N x wall time that did not go into useful work
// (1 - efficiency), from the per-worker busy times:
//
//	Inflation  the work itself took longer than serially (memory
//	           bandwidth, caches, frequency, or a worker preempted by
//	           oversubscription): mean busy / wall - efficiency
//	Imbalance  workers idle while the busiest finished: (max - mean busy) / wall
//	Overhead   dispatch, wake-up and join: (wall - max busy) / wall
//
// Efficiency plus the three is one. Known is false when the cell has no
// busy times (go test output of other tools).
type Losses struct {
	Inflation, Imbalance, Overhead float64
	Known                          bool
}

// Main returns the name and size of the largest loss.
func (l Losses) Main() (string, float64) {
	name, v := "work inflation", l.Inflation
	if l.Imbalance > v {
		name, v = "load imbalance", l.Imbalance
	}
	if l.Overhead > v {
		name, v = "dispatch overhead", l.Overhead
	}
	return name, v
}

// Summarize returns the median of values with its 95% confidence interval
// (benchmath, assuming nothing about the distribution). It leaves values
// as they were.
func Summarize(values []float64) benchmath.Summary {
	th := benchmath.DefaultThresholds
	return benchmath.AssumeNothing.Summary(benchmath.NewSample(slices.Clone(values), &th), 0.95)
}

// Analyze computes the scaling of every kernel configuration in s.
func Analyze(s *Set) []*Scaling {
	var out []*Scaling
	byConfig := map[Config]*Scaling{}
	cells := map[Config][]*Cell{}
	for _, c := range s.Cells {
		cfg := c.Config()
		if byConfig[cfg] == nil {
			byConfig[cfg] = &Scaling{Config: cfg, Weak: s.Files[c.File].Config[resultfile.ConfigScaling] == resultfile.ScalingWeak, Unit: throughputUnit(c)}
			out = append(out, byConfig[cfg])
		}
		cells[cfg] = append(cells[cfg], c)
	}
	for _, sc := range out {
		sc.build(cells[sc.Config])
	}
	return out
}

// throughputUnit is the cell's first unit that is a rate, or "" if it has
// none (then 1/time stands in).
func throughputUnit(c *Cell) string {
	var units []string
	for u := range c.Values {
		if strings.HasSuffix(u, "/s") {
			units = append(units, u)
		}
	}
	slices.Sort(units)
	if len(units) == 0 {
		return ""
	}
	return units[0]
}

func (sc *Scaling) build(cells []*Cell) {
	curves := map[string]*Curve{}
	for _, c := range cells {
		p := sc.point(c)
		if c.Strategy == resultfile.Serial {
			if sc.Baseline == nil || c.Sched == resultfile.SchedDynamic {
				sc.Baseline = p
			}
		}
		key := c.Strategy + "/" + c.Sched
		if curves[key] == nil {
			curves[key] = &Curve{Strategy: c.Strategy, Sched: c.Sched}
			sc.Curves = append(sc.Curves, curves[key])
		}
		curves[key].Points = append(curves[key].Points, p)
	}
	for _, cv := range sc.Curves {
		slices.SortFunc(cv.Points, func(a, b *Point) int { return cmp.Compare(a.Workers, b.Workers) })
		base := sc.Baseline
		if base == nil && cv.Points[0].Workers == 1 {
			base = cv.Points[0]
		}
		for _, p := range cv.Points {
			p.relate(base)
		}
		sc.fit(cv)
	}
}

func (sc *Scaling) point(c *Cell) *Point {
	p := &Point{Cell: c, Workers: c.Workers, Time: Summarize(c.Values[UnitTime]), KarpFlatt: math.NaN()}
	if sc.Unit != "" {
		p.Throughput = Summarize(c.Values[sc.Unit])
	} else {
		// Without a rate, runs per second stand in: the ratios are the same.
		t := p.Time
		p.Throughput = benchmath.Summary{Center: 1 / t.Center, Lo: 1 / t.Hi, Hi: 1 / t.Lo, Confidence: t.Confidence, Warnings: t.Warnings}
	}
	return p
}

// relate computes the point's speedup and what follows from it against
// base (nil: no baseline).
func (p *Point) relate(base *Point) {
	if base == nil {
		p.Speedup, p.SpeedupLo, p.SpeedupHi, p.Efficiency = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		return
	}
	b, x := base.Throughput, p.Throughput
	p.Speedup = x.Center / b.Center
	p.SpeedupLo, p.SpeedupHi = x.Center/b.Center, x.Center/b.Center
	if b.Lo > 0 && b.Hi > 0 && !math.IsInf(b.Lo, 0) {
		p.SpeedupLo, p.SpeedupHi = x.Lo/b.Hi, x.Hi/b.Lo
	}
	n := float64(p.Workers)
	p.Efficiency = p.Speedup / n
	if p.Workers > 1 {
		p.KarpFlatt = (1/p.Speedup - 1/n) / (1 - 1/n)
	}
	maxBusy, mean := p.Cell.Values[UnitBusyMax], p.Cell.Values[UnitBusyMean]
	if len(maxBusy) > 0 && len(mean) > 0 {
		wall := p.Time.Center
		bx, bm := Summarize(maxBusy).Center, Summarize(mean).Center
		p.Losses = Losses{
			Inflation: bm/wall - p.Efficiency,
			Imbalance: (bx - bm) / wall,
			Overhead:  (wall - bx) / wall,
			Known:     true,
		}
	}
}

// fit fits the scaling laws to the curve's capacity relative to its own
// 1-worker point, so that a strategy's fixed cost at one worker does not
// pass for a serial fraction.
func (sc *Scaling) fit(cv *Curve) {
	if len(cv.Points) < MinFitPoints {
		cv.FitNote = fmt.Sprintf("not fitted: %s", errFewPoints(len(cv.Points)))
		return
	}
	if cv.Points[0].Workers != 1 {
		cv.FitNote = "not fitted: no 1-worker point to measure capacity against"
		return
	}
	one := cv.Points[0].Throughput.Center
	n, c := make([]float64, len(cv.Points)), make([]float64, len(cv.Points))
	for i, p := range cv.Points {
		n[i], c[i] = float64(p.Workers), p.Throughput.Center/one
	}
	law := FitAmdahl
	if sc.Weak {
		law = FitGustafson
	}
	for _, f := range []func(n, c []float64) (*Fit, error){law, FitUSL} {
		if fit, err := f(n, c); err == nil {
			cv.Fits = append(cv.Fits, fit)
		} else {
			cv.FitNote = "not fitted: " + err.Error()
		}
	}
}

// Fit returns the curve's fit of the named law, or nil.
func (c *Curve) Fit(law string) *Fit {
	for _, f := range c.Fits {
		if f.Law == law {
			return f
		}
	}
	return nil
}

// Point returns the curve's point at the given worker count, or nil.
func (c *Curve) Point(workers int) *Point {
	for _, p := range c.Points {
		if p.Workers == workers {
			return p
		}
	}
	return nil
}

// Workers returns every worker count in the scaling, sorted.
func (sc *Scaling) Workers() []int {
	var ws []int
	for _, cv := range sc.Curves {
		for _, p := range cv.Points {
			if !slices.Contains(ws, p.Workers) {
				ws = append(ws, p.Workers)
			}
		}
	}
	slices.Sort(ws)
	return ws
}

// A Contrast compares two strategies at one worker count and sched.
type Contrast struct {
	Workers        int
	Sched          string
	Strategy, Base string
	// Delta is the relative change of median time from Base to Strategy
	// (negative: Strategy is faster).
	Delta float64
	// Comparison holds the Mann-Whitney U test's p-value and the sample
	// sizes, as benchstat reports them.
	Comparison benchmath.Comparison
}

// Contrasts compares, at every worker count and sched, each parallel
// strategy with the goroutines strategy (or, without it, the first
// parallel strategy), on time per run.
func (sc *Scaling) Contrasts() []Contrast {
	base := ""
	for _, cv := range sc.Curves {
		if cv.Strategy == resultfile.Goroutines {
			base = resultfile.Goroutines
		}
	}
	for _, cv := range sc.Curves {
		if base == "" && cv.Strategy != resultfile.Serial {
			base = cv.Strategy
		}
	}
	th := benchmath.DefaultThresholds
	var out []Contrast
	for _, w := range sc.Workers() {
		for _, ref := range sc.Curves {
			if ref.Strategy != base || ref.Point(w) == nil {
				continue
			}
			for _, cv := range sc.Curves {
				p := cv.Point(w)
				if cv.Sched != ref.Sched || cv.Strategy == base || cv.Strategy == resultfile.Serial || p == nil {
					continue
				}
				rp := ref.Point(w)
				s1 := benchmath.NewSample(slices.Clone(rp.Cell.Values[UnitTime]), &th)
				s2 := benchmath.NewSample(slices.Clone(p.Cell.Values[UnitTime]), &th)
				out = append(out, Contrast{
					Workers: w, Sched: cv.Sched, Strategy: cv.Strategy, Base: base,
					Delta:      p.Time.Center/rp.Time.Center - 1,
					Comparison: benchmath.AssumeNothing.Compare(s1, s2),
				})
			}
		}
	}
	return out
}

// Diagnosis is one sentence on the configuration: how close to ideal the
// best curve gets at the largest worker count within the machine's CPUs
// (ncpu; 0 for no limit), and what the worst curve there loses most to.
func (sc *Scaling) Diagnosis(ncpu int) string {
	var at int
	for _, w := range sc.Workers() {
		if w > 1 && (ncpu == 0 || w <= ncpu) {
			at = w
		}
	}
	if at == 0 {
		return fmt.Sprintf("%s: no parallel point within %d CPUs to judge.", sc.Config, ncpu)
	}
	var best, worst *Point
	var bestCurve, worstCurve *Curve
	for _, cv := range sc.Curves {
		p := cv.Point(at)
		if p == nil || cv.Strategy == resultfile.Serial || math.IsNaN(p.Efficiency) {
			continue
		}
		if best == nil || p.Efficiency > best.Efficiency {
			best, bestCurve = p, cv
		}
		if worst == nil || p.Efficiency < worst.Efficiency {
			worst, worstCurve = p, cv
		}
	}
	if best == nil {
		return fmt.Sprintf("%s: no speedup to judge at %d workers.", sc.Config, at)
	}
	s := fmt.Sprintf("%s at %d workers: best %s %.2fx (%.0f%% efficient)", sc.Config, at, bestCurve.Name(), best.Speedup, 100*best.Efficiency)
	if !worst.Losses.Known {
		return s + "."
	}
	name, loss := worst.Losses.Main()
	if worst == best {
		return s + fmt.Sprintf("; its main loss is %s, %.1f%% of worker time.", name, 100*loss)
	}
	return s + fmt.Sprintf("; worst %s %.2fx, whose main loss is %s, %.1f%% of worker time.", worstCurve.Name(), worst.Speedup, name, 100*loss)
}

// NCPU returns the file's ncpu configuration, or 0.
func (f File) NCPU() int {
	n, _ := strconv.Atoi(f.Config[resultfile.ConfigNCPU])
	return n
}
