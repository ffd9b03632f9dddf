package analysis

import (
	"cmp"
	"errors"
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
	// UsableCPUs is the CPUs the run could use at once (the file's
	// usable-cpus; older files: the least of ncpu and the cgroup quota);
	// 0 if unknown. Laws are fitted only up to it.
	UsableCPUs int
	// Baseline is the point speedups are relative to: the serial cell,
	// pooled with its A/A twin round by round where the file has one.
	// Nil when the file has no serial cell; each curve is then relative
	// to its own 1-worker point.
	Baseline *Point
	// Twin is the baseline's A/A twin (serial-aa; in older files, serial
	// under the other sched), or nil.
	Twin *Point
	// NoiseFloor is the twin's time over the baseline's, paired by round:
	// identical work, so the distance of its interval from 1 is the
	// smallest difference the sweep can tell from none.
	NoiseFloor Ratio
	// Noise says where the noise floor comes from (valid with it).
	Noise NoiseSource
	// Clock says how the ratios were adjusted for the CPU's clock; where
	// they were, RawNoiseFloor is the noise floor without it.
	Clock         ClockFit
	RawNoiseFloor Ratio
	Curves        []*Curve
	// Paired reports whether every ratio is a same-round pair: the file
	// was taken in rounds (go test output is not; see Ratio).
	Paired bool
	// baseRates is the pooled baseline's throughput, per sample;
	// baseCPURates its throughput per second on a CPU (span less wait),
	// the work the losses are measured against, or empty where the
	// baseline has no spans.
	baseRates, baseCPURates series
}

// A NoiseSource says where a noise floor comes from, so that a reader can
// tell a method's error from a host's: runs of identical work in one round
// that spread while on a CPU the whole time ran at a varying speed (on a VM
// most often another tenant on the host's core, or its clock), which
// pairing by round does not remove; only more rounds narrow it.
type NoiseSource struct {
	// Spread is half the interquartile range of the A/A pair's
	// same-round ratios, relative to their median: how far apart two
	// samples of identical work in one round typically are (forks
	// pooled).
	Spread float64
	// RawSpread is Spread without the clock adjustment (equal to it
	// where there was none).
	RawSpread float64
	// OffCPU is the median share of the baseline's runs spent off a CPU
	// (wait over span: the host's steal, another thread, a wake-up); NaN
	// where the file has no waits.
	OffCPU float64
	// RoundsForOnePercent is about how many rounds the A/A interval would
	// need to narrow to +-1%, its half-width shrinking as one over the
	// square root of the rounds; 0 where it is already that narrow.
	RoundsForOnePercent int
	// Expected is the half-width the spread alone would give the median's
	// interval over the rounds measured, were the ratios normal
	// (1.96 x 1.2533 x sigma / sqrt(rounds), sigma = spread / 0.6745): a
	// floor far wider comes from forks that differ, or from luck.
	Expected float64
}

// noiseSource describes the A/A ratio twin/base.
func noiseSource(twin, base *Cell, floor Ratio) NoiseSource {
	ns := NoiseSource{OffCPU: math.NaN()}
	ns.Spread = spreadOf(slices.Concat(pairs(twin.series(UnitTime), base.series(UnitTime))...))
	ns.RawSpread = spreadOf(slices.Concat(pairs(twin.rawSeries(UnitTime), base.rawSeries(UnitTime))...))
	span, wait := base.Values[UnitSpanMean], base.Values[UnitWaitMean]
	if len(wait) > 0 && len(wait) == len(span) {
		shares := make([]float64, 0, len(span))
		for i, s := range span {
			if s > 0 {
				shares = append(shares, wait[i]/s)
			}
		}
		if len(shares) > 0 {
			ns.OffCPU = median(shares)
		}
	}
	if floor.Rounds > 0 {
		ns.Expected = 1.96 * 1.2533 * ns.Spread / 0.6745 / math.Sqrt(float64(floor.Rounds))
	}
	const target = 0.01
	if hw := floor.HalfWidth(); hw > target {
		ns.RoundsForOnePercent = int(math.Ceil(float64(floor.Rounds) * (hw / target) * (hw / target)))
	}
	return ns
}

// Floor returns the noise floor as a fraction (0 if the file has no A/A
// pair).
func (sc *Scaling) Floor() float64 {
	if !sc.NoiseFloor.Valid() {
		return 0
	}
	return sc.NoiseFloor.Floor()
}

// A Curve is one strategy x sched (x placement) over worker counts.
type Curve struct {
	Strategy, Sched string
	Pin             string   // the placement policy; "" when unpinned
	Points          []*Point // by worker count
	// Fits are Amdahl's law (Gustafson's for weak scaling) and the USL,
	// fitted to the curve's capacity relative to its own 1-worker point,
	// over the worker counts the machine could run at once.
	Fits []*Fit
	// FitNote says why there are no fits (or fewer), when so.
	FitNote string
	// Oversubscription is the time at twice the usable CPUs over the time
	// at the usable CPUs (per unit of work, under weak scaling), paired by
	// round, where both were measured.
	Oversubscription     Ratio
	OversubscriptionFrom int // the usable CPUs it starts from
}

// Name is "strategy/sched", or "strategy/sched/pin=policy" when pinned,
// or "measured" for a go test benchmark's curve, which has neither.
func (c *Curve) Name() string {
	if c.Strategy == "" && c.Sched == "" {
		return "measured"
	}
	return c.Strategy + "/" + SchedLabel(c.Sched, c.Pin)
}

// SchedLabel is how tables and charts name a sched and a placement:
// "dynamic", or "dynamic/pin=cores" when pinned.
func SchedLabel(sched, pin string) string {
	if pin == "" {
		return sched
	}
	return sched + "/" + resultfile.KeyPin + "=" + pin
}

// A Point is one cell of a curve.
type Point struct {
	Cell       *Cell
	Workers    int
	Time       benchmath.Summary // seconds per run: median and 95% CI
	Throughput benchmath.Summary // in Scaling.Unit
	// Speedup is the point's throughput over the baseline's, paired by
	// round (for strong scaling, the baseline's time over the point's).
	Speedup Ratio
	// Efficiency is Speedup / Workers.
	Efficiency Ratio
	// KarpFlatt is the experimentally determined serial fraction
	// (1/S - 1/N)/(1 - 1/N); NaN at one worker.
	KarpFlatt float64
	// Losses split the worker time the point lost against ideal.
	Losses Losses
	// Oversubscribed marks more workers than the usable CPUs.
	Oversubscribed bool
	// Flags name what is wrong with the point's figures.
	Flags []string
}

// Losses split each run's worker time, N x wall, into the share that did
// the baseline's work (the time the baseline spent on a CPU, its span less
// its wait, in the same round) and four losses, from the workers' spans
// (dispatch to last chunk done) and waits (off a CPU within the span):
//
//	Inflation  on a CPU longer than the baseline was for the same work
//	           (memory bandwidth, caches, a clock not divided out): mean (span - wait) / wall
//	           - work
//	Waiting    runnable but not running, or not yet woken: mean wait / wall
//	Imbalance  done while the last worker still ran: (max - mean span) / wall
//	Overhead   after the last worker was done (join): (wall - max span) / wall
//
// Each run's shares sum to one; Losses holds their means over the runs
// paired with the baseline, so they sum to one as well. Measuring work by
// the baseline's time on a CPU, not its wall time, keeps the baseline's own
// waits out of the losses: a baseline that waited 3% for a CPU would
// otherwise give an identical cell that did not wait -3% "inflation".
// Files whose baseline has no spans measure work by its wall time. Known is false
// when the cell has no spans (go test output of other tools). Files from
// before the spans carried time inside chunks and no wait: there waiting
// counts as inflation.
type Losses struct {
	Work                                    float64
	Inflation, Waiting, Imbalance, Overhead float64
	Runs                                    int
	Known                                   bool
}

// Main returns the name and size of the largest loss.
func (l Losses) Main() (string, float64) {
	name, v := "work inflation", l.Inflation
	for _, c := range []struct {
		name string
		v    float64
	}{{"waiting for a CPU", l.Waiting}, {"load imbalance", l.Imbalance}, {"dispatch and join overhead", l.Overhead}} {
		if c.v > v {
			name, v = c.name, c.v
		}
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
			f := s.Files[c.File]
			byConfig[cfg] = &Scaling{Config: cfg, Weak: f.Config[resultfile.ConfigScaling] == resultfile.ScalingWeak,
				Unit: throughputUnit(c), UsableCPUs: f.UsableCPUs(), Paired: true}
			out = append(out, byConfig[cfg])
		}
		cells[cfg] = append(cells[cfg], c)
		byConfig[cfg].Paired = byConfig[cfg].Paired && c.Paired
	}
	for _, sc := range out {
		sc.Clock = adjustClock(cells[sc.Config])
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
	var serial []*Cell
	for _, c := range cells {
		if resultfile.IsBaseline(c.Strategy) {
			serial = append(serial, c)
			continue
		}
		key := c.Strategy + "/" + c.Sched + "/" + c.Pin
		if curves[key] == nil {
			curves[key] = &Curve{Strategy: c.Strategy, Sched: c.Sched, Pin: c.Pin}
			sc.Curves = append(sc.Curves, curves[key])
		}
		curves[key].Points = append(curves[key].Points, sc.point(c))
	}
	sc.baseline(serial)
	for _, cv := range sc.Curves {
		slices.SortFunc(cv.Points, func(a, b *Point) int { return cmp.Compare(a.Workers, b.Workers) })
		base, baseCPU := sc.baseRates, sc.baseCPURates
		if sc.Baseline == nil && cv.Points[0].Workers == 1 {
			base, baseCPU = cv.Points[0].Cell.rates(sc.Unit), cv.Points[0].Cell.cpuRates(sc.Unit)
		}
		for _, p := range cv.Points {
			p.relate(base, baseCPU, sc)
		}
		sc.fit(cv)
		sc.oversubscription(cv)
	}
}

// baseline sets the baseline from the serial cells: serial and its A/A
// twin (serial-aa, or in older files serial under a second sched), pooled
// round by round.
func (sc *Scaling) baseline(serial []*Cell) {
	if len(serial) == 0 {
		return
	}
	slices.SortStableFunc(serial, func(a, b *Cell) int {
		// serial before serial-aa, dynamic before static
		return cmp.Or(cmp.Compare(a.Strategy, b.Strategy), cmp.Compare(a.Sched, b.Sched))
	})
	sc.Baseline = sc.point(serial[0])
	sc.Baseline.Speedup = Ratio{Center: 1, Lo: 1, Hi: 1, Rounds: len(serial[0].Rounds)}
	sc.baseRates = serial[0].rates(sc.Unit)
	sc.baseCPURates = serial[0].cpuRates(sc.Unit)
	if len(serial) < 2 {
		return
	}
	sc.Twin = sc.point(serial[1])
	sc.NoiseFloor = ratioOf(serial[1].series(UnitTime), serial[0].series(UnitTime))
	sc.RawNoiseFloor = ratioOf(serial[1].rawSeries(UnitTime), serial[0].rawSeries(UnitTime))
	if sc.NoiseFloor.Valid() {
		sc.Noise = noiseSource(serial[1], serial[0], sc.NoiseFloor)
	}
	pooled := geoMean(serial[0].rates(sc.Unit), serial[1].rates(sc.Unit))
	if len(pooled.values) >= MinPairs {
		sc.baseRates = pooled
		if cpu := geoMean(serial[0].cpuRates(sc.Unit), serial[1].cpuRates(sc.Unit)); len(cpu.values) >= MinPairs {
			sc.baseCPURates = cpu
		}
	}
	sc.Twin.Speedup = ratioOf(serial[1].rates(sc.Unit), sc.baseRates)
}

func (sc *Scaling) point(c *Cell) *Point {
	p := &Point{Cell: c, Workers: c.Workers, Time: Summarize(c.Values[UnitTime]), KarpFlatt: math.NaN(),
		Oversubscribed: sc.UsableCPUs > 0 && c.Workers > sc.UsableCPUs}
	if sc.Unit != "" {
		p.Throughput = Summarize(c.Values[sc.Unit])
	} else {
		// Without a rate, runs per second stand in: the ratios are the same.
		t := p.Time
		p.Throughput = benchmath.Summary{Center: 1 / t.Center, Lo: 1 / t.Hi, Hi: 1 / t.Lo, Confidence: t.Confidence, Warnings: t.Warnings}
	}
	return p
}

// relate computes the point's speedup over base (the baseline's rates),
// and what follows from it, round by round; its losses are measured
// against baseCPU (the baseline's rates on a CPU) where there is one.
func (p *Point) relate(base, baseCPU series, sc *Scaling) {
	n := float64(p.Workers)
	p.Speedup = ratioOf(p.Cell.rates(sc.Unit), base)
	p.Efficiency = p.Speedup.Scale(1 / n)
	if p.Workers > 1 && p.Speedup.Valid() {
		p.KarpFlatt = (1/p.Speedup.Center - 1/n) / (1 - 1/n)
	}
	// Judged like every other ratio: identical cells of this sweep differ
	// by up to the noise floor, so an efficiency inside it is no anomaly.
	// A reference runs other code than the baseline (Python's hashlib is
	// OpenSSL's SHA-256, 11% faster than Go's at one worker on a 2-vCPU
	// Intel guest): above 100% it compares implementations, which its
	// speedup already says, and is no sign of a slow baseline.
	if len(baseCPU.values) == 0 {
		baseCPU = base
	}
	p.Losses = runLosses(p.Cell, baseCPU, sc.Unit)
	if floor := sc.Floor(); p.Efficiency.Valid() && p.Efficiency.Lo > 1+floor && !resultfile.IsReference(p.Cell.Strategy) {
		why := "the baseline ran slow, or the work is not the same"
		// Each worker on its CPU for less time than the baseline was for
		// the same work: the work itself ran faster with company. On a
		// 2-vCPU guest search's workers did, because the cache the CPUs
		// share kept more of the keys that two of them read (see
		// scripts/cacheshare).
		if p.Workers > 1 && p.Losses.Known && p.Losses.Inflation < -floor {
			why = fmt.Sprintf("inflation %.0f%% of worker time, so the workers were on their CPUs for less time than the baseline was for the same work: work that runs faster beside other workers, such as data that a cache they share keeps better when more of them read it, or a baseline that ran slow", 100*p.Losses.Inflation)
		}
		p.Flags = append(p.Flags, fmt.Sprintf("efficiency %.1f%% [%.1f%%, %.1f%%] is above 100%% beyond its interval and the noise floor (+-%.1f%%): %s",
			100*p.Efficiency.Center, 100*p.Efficiency.Lo, 100*p.Efficiency.Hi, 100*floor, why))
	}
}

// runLosses decomposes each run paired with the baseline (see Losses) and
// averages the shares.
func runLosses(c *Cell, base series, unit string) Losses {
	spanMax, spanMean := c.Values[UnitSpanMax], c.Values[UnitSpanMean]
	if len(spanMax) == 0 {
		spanMax, spanMean = c.Values[UnitBusyMax], c.Values[UnitBusyMean]
	}
	wall, wait := c.Values[UnitTime], c.Values[UnitWaitMean]
	rates := c.rates(unit)
	if len(spanMax) != len(wall) || len(spanMean) != len(wall) || len(rates.values) != len(wall) {
		return Losses{}
	}
	b := base.byPlace()
	var l Losses
	for i, w := range wall {
		br, ok := b[place{rates.forks[i], rates.rounds[i]}]
		if !ok || w <= 0 || br <= 0 {
			continue
		}
		var wt float64
		if i < len(wait) {
			wt = wait[i]
		}
		work := rates.values[i] / (float64(c.Workers) * br)
		l.Work += work
		l.Inflation += (spanMean[i]-wt)/w - work
		l.Waiting += wt / w
		l.Imbalance += (spanMax[i] - spanMean[i]) / w
		l.Overhead += (w - spanMax[i]) / w
		l.Runs++
	}
	if l.Runs == 0 {
		return Losses{}
	}
	k := 1 / float64(l.Runs)
	l.Work, l.Inflation, l.Waiting, l.Imbalance, l.Overhead = l.Work*k, l.Inflation*k, l.Waiting*k, l.Imbalance*k, l.Overhead*k
	l.Known = true
	return l
}

// fit fits the scaling laws to the curve's capacity relative to its own
// 1-worker point (paired by round), so that a strategy's fixed cost at one
// worker does not pass for a serial fraction, over the worker counts the
// machine could run at once: above them time slicing, which no scaling
// law models, would decide the fit. A law with k parameters needs k + 2
// such points.
func (sc *Scaling) fit(cv *Curve) {
	if cv.Points[0].Workers != 1 {
		cv.FitNote = "not fitted: no 1-worker point to measure capacity against"
		return
	}
	one := cv.Points[0].Cell.rates(sc.Unit)
	var n, c []float64
	for _, p := range cv.Points {
		if p.Oversubscribed {
			continue
		}
		r := ratioOf(p.Cell.rates(sc.Unit), one)
		if p.Workers == 1 {
			r.Center = 1
		}
		if r.Valid() {
			n, c = append(n, float64(p.Workers)), append(c, r.Center)
		}
	}
	within := "measured worker counts"
	if sc.UsableCPUs > 0 {
		within = fmt.Sprintf("worker counts within the %d usable CPUs", sc.UsableCPUs)
	}
	law := FitAmdahl
	if sc.Weak {
		law = FitGustafson
	}
	var refused []string
	for _, f := range []func(n, c []float64) (*Fit, error){law, FitUSL} {
		fit, err := f(n, c)
		var few errFewPoints
		switch {
		case errors.As(err, &few):
			refused = append(refused, fmt.Sprintf("%v needs %d", few.law, few.law.MinPoints()))
		case err != nil:
			refused = append(refused, err.Error())
		default:
			fit.flag(slices.Max(n))
			cv.Fits = append(cv.Fits, fit)
		}
	}
	if len(refused) > 0 {
		cv.FitNote = fmt.Sprintf("%d %s (%s)", len(n), within, strings.Join(refused, ", "))
		if len(cv.Fits) == 0 {
			cv.FitNote = "not fitted: " + cv.FitNote + "; Karp-Flatt per point instead"
		}
	}
}

// oversubscription compares the curve at twice the usable CPUs with the
// curve at the usable CPUs.
func (sc *Scaling) oversubscription(cv *Curve) {
	c := sc.UsableCPUs
	lo, hi := cv.Point(c), cv.Point(2*c)
	if c == 0 || lo == nil || hi == nil {
		return
	}
	// Throughput at c over throughput at 2c: under strong scaling the time
	// at 2c over the time at c, under weak the time per unit of work.
	cv.Oversubscription = ratioOf(lo.Cell.rates(sc.Unit), hi.Cell.rates(sc.Unit))
	cv.OversubscriptionFrom = c
}

// Fit returns the curve's fit of the given law, or nil.
func (c *Curve) Fit(law Law) *Fit {
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

// A Contrast compares two strategies at one worker count and sched: the
// time of Strategy over the time of Base, paired by round.
type Contrast struct {
	Workers        int
	Sched          string
	Pin            string // "" when unpinned: a strategy is compared with the base under the same placement
	Strategy, Base string
	Ratio          Ratio
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
	if base == "" && len(sc.Curves) > 0 {
		base = sc.Curves[0].Strategy
	}
	var out []Contrast
	for _, w := range sc.Workers() {
		for _, ref := range sc.Curves {
			rp := ref.Point(w)
			if ref.Strategy != base || rp == nil {
				continue
			}
			for _, cv := range sc.Curves {
				p := cv.Point(w)
				if cv.Sched != ref.Sched || cv.Pin != ref.Pin || cv.Strategy == base || p == nil {
					continue
				}
				out = append(out, Contrast{Workers: w, Sched: cv.Sched, Pin: cv.Pin, Strategy: cv.Strategy, Base: base,
					Ratio: ratioOf(p.Cell.series(UnitTime), rp.Cell.series(UnitTime))})
			}
		}
	}
	return out
}

// Verdict says what a ratio of times means against the noise floor: how
// much slower or faster when its whole interval lies beyond the floor; "no
// difference" when the interval covers 1 or lies inside the floor; and
// otherwise, an interval that excludes 1 but reaches into the floor, the
// difference with a warning that the sweep cannot tell it from the
// method's own error.
func Verdict(r Ratio, floor float64) string {
	if !r.Valid() {
		return "too few pairs"
	}
	how := fmt.Sprintf("%.1f%% faster", 100*(1-r.Center))
	if r.Center > 1 {
		how = fmt.Sprintf("%.1f%% slower", 100*(r.Center-1))
	}
	switch {
	case r.Differs(floor):
		return how
	case r.Lo <= 1 && r.Hi >= 1, r.Lo >= 1-floor && r.Hi <= 1+floor:
		return "no difference"
	}
	return how + ", not beyond the noise floor"
}

// Diagnosis is one sentence on the configuration: how close to ideal the
// best curve gets at the largest worker count within the usable CPUs, and
// what the worst curve there loses most to.
func (sc *Scaling) Diagnosis() string {
	var at int
	for _, w := range sc.Workers() {
		if w > 1 && (sc.UsableCPUs == 0 || w <= sc.UsableCPUs) {
			at = w
		}
	}
	if at == 0 {
		return fmt.Sprintf("%s: no parallel point within %d CPUs to judge.", sc.Config, sc.UsableCPUs)
	}
	var best, worst *Point
	var bestCurve, worstCurve *Curve
	for _, cv := range sc.Curves {
		p := cv.Point(at)
		if p == nil || !p.Efficiency.Valid() {
			continue
		}
		if best == nil || p.Efficiency.Center > best.Efficiency.Center {
			best, bestCurve = p, cv
		}
		if worst == nil || p.Efficiency.Center < worst.Efficiency.Center {
			worst, worstCurve = p, cv
		}
	}
	if best == nil {
		return fmt.Sprintf("%s: no speedup to judge at %d workers.", sc.Config, at)
	}
	s := fmt.Sprintf("%s at %d workers: best %s %.2fx (%.0f%% efficient)", sc.Config, at, bestCurve.Name(), best.Speedup.Center, 100*best.Efficiency.Center)
	if !worst.Losses.Known {
		return s + "."
	}
	name, loss := worst.Losses.Main()
	if worst == best {
		return s + fmt.Sprintf("; its main loss is %s, %.1f%% of worker time.", name, 100*loss)
	}
	return s + fmt.Sprintf("; worst %s %.2fx, whose main loss is %s, %.1f%% of worker time.", worstCurve.Name(), worst.Speedup.Center, name, 100*loss)
}

// NCPU returns the file's ncpu configuration, or 0.
func (f File) NCPU() int {
	n, _ := strconv.Atoi(f.Config[resultfile.ConfigNCPU])
	return n
}

// Boundaries returns the worker counts where the file's machine changes
// (its cpu-boundaries configuration: physical cores, one L3 domain, ...);
// none for files from before they were recorded, or a value that does not
// parse.
func (f File) Boundaries() []resultfile.Boundary {
	bs, err := resultfile.ParseBoundaries(f.Config[resultfile.ConfigBoundaries])
	if err != nil {
		return nil
	}
	return bs
}

// UsableCPUs returns the CPUs the file's run could use at once: its
// usable-cpus, or for older files the least of ncpu and the cgroup quota;
// 0 if the file says nothing.
func (f File) UsableCPUs() int {
	if n, err := strconv.Atoi(f.Config[resultfile.ConfigUsableCPUs]); err == nil && n > 0 {
		return n
	}
	n := f.NCPU()
	if q, err := strconv.ParseFloat(f.Config[resultfile.ConfigCPUQuota], 64); err == nil && q >= 1 && n > 0 {
		n = min(n, int(q))
	}
	return n
}

// A Calibration compares every pair of cells that do identical work: the
// baseline, its A/A twin and each strategy at one worker. Pairs on one side
// of a process boundary (two cells run by goroutines of the measuring
// process, or two by worker processes) should differ only by chance, and
// by no more than the noise floor; if they do, the intervals are not
// honest about the method's error. A pair across it (a goroutine against a
// worker process) also carries what reaching another process costs each
// run: its dispatch and join, tens of microseconds, which the paired
// rounds resolve on runs of a few milliseconds.
type Calibration struct {
	Cells []*Point
	Pairs []CalibrationPair
	// Gap is the largest relative difference between two of the cells,
	// the center of their paired ratio (the cells' own medians, taken
	// apart, carry what their rounds shared), GapWithin the largest
	// between two on one side of a process boundary (which the method
	// alone should keep inside the noise floor; across it, reaching a
	// worker process adds its cost).
	Gap, GapWithin float64
	// Valid counts the pairs with enough same-round samples for a ratio
	// (MinPairs); the gaps and counts above are over those alone.
	Valid int
	// Differ counts the pairs whose paired interval excludes 1: at the 95%
	// level, about one in twenty by chance alone. DifferAcross counts
	// those of them that cross a process boundary, Across all such pairs.
	Differ, DifferAcross, Across int
	// DifferOnCPU counts the pairs across a process boundary whose time on
	// a CPU differs (OnCPU's interval excludes 1): the work itself ran at
	// another speed there, beyond what reaching the process costs.
	// AcrossOnCPU counts those with an on-CPU ratio at all (a file needs
	// spans for it).
	DifferOnCPU, AcrossOnCPU int
}

// A CalibrationPair is the time of B over the time of A, paired by round.
// Across is set when one of the two runs in worker processes and the other
// does not.
type CalibrationPair struct {
	A, B  *Point
	Ratio Ratio
	// OnCPU is the ratio of the cells' time on a CPU in their chunks
	// (span less time off a CPU, run by run), which leaves out a worker
	// process's dispatch and join and its wake-up: across a process
	// boundary, what is left to differ is the speed of the work itself.
	OnCPU  Ratio
	Across bool
}

// Calibration returns the comparison of the configuration's identical-work
// cells, or nil when it has fewer than two.
func (sc *Scaling) Calibration() *Calibration {
	var cells []*Point
	for _, p := range []*Point{sc.Baseline, sc.Twin} {
		if p != nil {
			cells = append(cells, p)
		}
	}
	for _, cv := range sc.Curves {
		if p := cv.Point(1); p != nil && !resultfile.IsReference(cv.Strategy) {
			cells = append(cells, p)
		}
	}
	if len(cells) < 2 {
		return nil
	}
	c := &Calibration{Cells: cells}
	for i, a := range cells {
		for _, b := range cells[i+1:] {
			r := ratioOf(b.Cell.series(UnitTime), a.Cell.series(UnitTime))
			onCPU := ratioOf(a.Cell.cpuRates(""), b.Cell.cpuRates(""))
			across := resultfile.InWorkerProcesses(a.Cell.Strategy) != resultfile.InWorkerProcesses(b.Cell.Strategy)
			c.Pairs = append(c.Pairs, CalibrationPair{A: a, B: b, Ratio: r, OnCPU: onCPU, Across: across})
			if across {
				c.Across++
			}
			if !r.Valid() {
				continue
			}
			c.Valid++
			gap := max(r.Center, 1/r.Center) - 1
			c.Gap = max(c.Gap, gap)
			if !across {
				c.GapWithin = max(c.GapWithin, gap)
			}
			if r.Lo > 1 || r.Hi < 1 {
				c.Differ++
				if across {
					c.DifferAcross++
				}
			}
			if across && onCPU.Valid() {
				c.AcrossOnCPU++
				if onCPU.Lo > 1 || onCPU.Hi < 1 {
					c.DifferOnCPU++
				}
			}
		}
	}
	return c
}
