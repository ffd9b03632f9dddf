package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"golang.org/x/perf/benchmath"

	"github.com/corescale/corescale/internal/topology"
	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner/procpool"
)

// A Plan says what a sweep measures and how long it may take.
type Plan struct {
	// Configs are the kernel configurations, one per kernel x shape x size.
	Configs    []kernels.Params
	Strategies []string
	Scheds     []procpool.Sched
	// Workers are the worker counts of the parallel strategies. Serial
	// (any one-worker strategy) runs at one worker only, as the baseline.
	Workers []int
	// Pins are the placement policies of the goroutines and procpool
	// cells, each a dimension of its own (nil: topology.None only). The
	// baseline and the reference strategies are never pinned.
	Pins []topology.Policy
	// Weak makes the work grow with the worker count (weak scaling: the
	// ideal time stays flat); otherwise it is fixed (strong scaling).
	Weak bool
	// Count is the number of rounds of each kernel configuration (one
	// sample of every cell per round); 0 means adaptive: add rounds until
	// the 95% confidence interval of every cell's median is within
	// +-Precision of it, or the configuration has spent Budget per cell,
	// whichever comes first, and never fewer than MinRounds or more than
	// MaxAdaptive rounds. A configuration stops as a whole, so that all
	// its cells are sampled over the same rounds.
	Count     int
	Precision float64
	Budget    time.Duration
	// MinRounds is the fewest rounds adaptive sampling takes (0:
	// MinAdaptive). A fork of a sweep takes its share of them.
	MinRounds int
	// Warmup rounds of each kernel configuration are measured and verified
	// but not kept; with any, they go on for at least minWarmup.
	Warmup int
	// OrderSeed seeds the order of the cells in each round: a fresh random
	// order every round, so that no cell keeps one neighbour.
	OrderSeed uint64
	// JobTimeout bounds one run of a cell; a run that takes longer fails
	// the sweep, naming what is stuck. 0 derives it from what the cell
	// has shown: max(10 s, 20 x its median), and a minute while it has
	// fewer than three samples (warm-up included).
	JobTimeout time.Duration
	// Progress, if set, is told about every sample.
	Progress func(Progress)
}

// minWarmup is the least time the warm-up rounds of a kernel configuration
// take, however fast its runs: a machine that was idle (or busy with
// something else) takes a while to reach the state it measures in: clock
// frequency, caches, page tables, a vCPU's share of its host. Runs of a
// millisecond need many rounds to get there.
const minWarmup = 250 * time.Millisecond

// MinAdaptive is the fewest rounds adaptive sampling takes: benchmath needs
// 6 samples for a 95% confidence interval of the median.
const MinAdaptive = 6

// MaxAdaptive stops configurations that converge on nothing, whatever the
// budget.
const MaxAdaptive = 100

// Progress tells where a sweep is.
type Progress struct {
	Cells    int    // in the whole plan
	Finished int    // cells that need no more samples
	Samples  int    // kept so far
	Current  string // the kernel configuration being measured
	// Job is the run in progress: its cell, when it started and its
	// cell's median so far (0 before it has any), so that a display can
	// show a run that takes far longer than usual before the watchdog
	// ends it.
	Job      string
	JobStart time.Time
	JobUsual time.Duration
}

// A Sample is one verified run of a cell.
type Sample struct {
	Cell   Cell
	Work   kernels.Work // of the run: under weak scaling it grows with Workers
	Timing Timing       // of one run: the mean of Runs
	// Runs is how many runs the sample is the mean of, spread over its
	// round (see sampleFloor and roundVisits); 0 means 1.
	Runs int
	// Clock is the mean time of the clock probes taken around its runs
	// (see probeClock): higher when the CPU ran slower. 0: not probed.
	Clock time.Duration
}

// sampleFloor is the least time a sample's runs take: a cell whose runs
// are shorter measures as many as fill it in each round, and its sample is
// their mean. A single run of a few milliseconds is at the mercy of
// whatever else the machine does in those milliseconds (matmul's 8 ms runs
// spread +-4% to +-12% on a 2-vCPU VM, where 50 ms hash runs spread 2%),
// and a run of microseconds would be timer noise; the mean of a few is
// steadier, and every run is still verified. Each run starts with its
// region flushed from the caches and the machine settled (see Measure).
const sampleFloor = 25 * time.Millisecond

// setRuns sets how many runs each cell's samples take: for corescale's own
// cells, one count per worker count, from their warm-up walls pooled; for
// a reference, which runs other code at its own speed, its own. Cells that
// do the same work are so sampled alike: when a sample's runs were back to
// back and only its first followed another cell, identical cells at one
// worker were measured with 6 runs a sample beside 7, each count from its
// own warm-up, and weighed that first run differently.
func setRuns(cells []*cellState) {
	pooled := map[int][]float64{}
	for _, st := range cells {
		if !resultfile.IsReference(st.Strategy) {
			pooled[st.Workers] = append(pooled[st.Workers], st.warm...)
		}
	}
	for _, st := range cells {
		warm := st.warm
		if !resultfile.IsReference(st.Strategy) {
			warm = pooled[st.Workers]
		}
		st.runs = runsFor(warm)
	}
}

// runsFor returns how many runs fill sampleFloor, from a cell's warm-up
// walls (seconds): at least 1, at most 1000.
func runsFor(warm []float64) int {
	if len(warm) == 0 {
		return 1
	}
	w := slices.Clone(warm)
	slices.Sort(w)
	median := w[len(w)/2]
	if median <= 0 {
		return 1000
	}
	return min(1000, max(1, int(math.Ceil(sampleFloor.Seconds()/median))))
}

// A Startup is the measured set-up time of a strategy that reports one.
type Startup struct {
	Cell     Cell // Sched is not meaningful
	Duration time.Duration
}

// A Convergence describes a cell that stopped before its confidence
// interval was as tight as asked.
type Convergence struct {
	Cell      Cell
	Samples   int
	HalfWidth float64 // of the 95% interval, relative to the median
}

// A Skip is a cell a reference strategy could not run (Python without
// numpy for a large matmul, say): reported, not fatal.
type Skip struct {
	Cell Cell
	Err  error
}

// Outcome is what a sweep measured.
type Outcome struct {
	Samples     []Sample
	Startups    []Startup
	Unconverged []Convergence
	Skipped     []Skip
	// Interrupted is set when the context ended the sweep; Samples then
	// hold every round finished before it.
	Interrupted bool
	// Rounds holds, per kernel configuration (its Cell.Record().ConfigName()), the rounds
	// measured by each fork; a sweep in one process has one.
	Rounds map[string][]int
}

// Cells lists the plan's cells, grouped by kernel configuration. A
// one-worker strategy (serial) is a baseline, not a curve: it runs once per
// configuration, under dynamic scheduling (for one worker every policy
// runs the chunks in order), and the serial baseline is followed by its
// A/A twin, which a sweep measures with the same strategy.
func (p Plan) Cells() []Cell {
	var cells []Cell
	pins := p.Pins
	if len(pins) == 0 {
		pins = []topology.Policy{topology.None}
	}
	add := func(params kernels.Params, s string, sched procpool.Sched, pin topology.Policy, workers int) {
		c := Cell{Params: params, Strategy: s, Sched: sched, Pin: pin, Workers: workers}
		if p.Weak {
			info, _ := kernels.Lookup(params.Kernel)
			c.PerWorker, c.Params.Size = params.Size, info.ScaledSize(params.Size, workers)
		}
		cells = append(cells, c)
	}
	for _, params := range p.Configs {
		for _, s := range p.Strategies {
			if def, ok := strategies[s]; ok && def.maxWorkers == 1 {
				add(params, s, procpool.Dynamic, topology.None, 1)
				if s == resultfile.Serial {
					add(params, resultfile.SerialAA, procpool.Dynamic, topology.None, 1)
				}
				continue
			}
			cellPins := pins
			if !Pinnable(s) {
				cellPins = []topology.Policy{topology.None}
			}
			for _, workers := range p.Workers {
				for _, sched := range p.Scheds {
					for _, pin := range cellPins {
						add(params, s, sched, pin, workers)
					}
				}
			}
		}
	}
	return cells
}

// Check reports the first thing wrong with the plan.
func (p Plan) Check() error {
	if len(p.Configs) == 0 || len(p.Strategies) == 0 || len(p.Scheds) == 0 || len(p.Workers) == 0 {
		return errors.New("runner: the plan has nothing to measure")
	}
	for _, params := range p.Configs {
		if _, err := kernels.New(params); err != nil {
			return err
		}
	}
	for _, s := range p.Strategies {
		if err := CheckStrategy(s, 1); err != nil {
			return err
		}
	}
	for _, pin := range p.Pins {
		if _, err := CheckPin(string(pin)); err != nil {
			return err
		}
	}
	for _, c := range p.Cells() {
		if err := CheckStrategy(strategyOf(c), c.Workers); err != nil {
			return err
		}
	}
	if p.Count < 0 {
		return fmt.Errorf("runner: count %d is negative", p.Count)
	}
	if p.Count == 0 && (p.Precision <= 0 || p.Budget <= 0) {
		return errors.New("runner: adaptive sampling needs a precision and a budget")
	}
	return nil
}

// Sweep measures every cell of the plan. Cells of one kernel configuration
// are measured together, one sample per cell per round, in a fresh random
// order every round (seeded by OrderSeed). A failed run (a dead worker, a wrong output) ends the
// sweep with an error naming the cell; the end of ctx ends it with
// Outcome.Interrupted set and no error.
func Sweep(ctx context.Context, plan Plan) (Outcome, error) {
	if err := plan.Check(); err != nil {
		return Outcome{}, err
	}
	out := Outcome{Rounds: map[string][]int{}}
	all := plan.Cells()
	tracker := &progress{plan: plan, total: len(all)}
	for i, params := range plan.Configs {
		var cells []Cell
		for _, c := range all {
			if c.Config() == params {
				cells = append(cells, c)
			}
		}
		tracker.current = KernelName(params)
		order := rand.New(rand.NewPCG(plan.OrderSeed, uint64(i)))
		if err := sweepConfig(ctx, plan, cells, order, &out, tracker); err != nil || out.Interrupted {
			return out, err
		}
	}
	return out, nil
}

type progress struct {
	plan     Plan
	total    int
	finished int
	samples  int
	current  string
}

func (p *progress) report() { p.job("", time.Time{}, nil) }

// job reports the run of a cell that starts now.
func (p *progress) job(cell string, start time.Time, walls []float64) {
	if p.plan.Progress == nil {
		return
	}
	pr := Progress{Cells: p.total, Finished: p.finished, Samples: p.samples, Current: p.current, Job: cell, JobStart: start}
	if len(walls) > 0 {
		pr.JobUsual = time.Duration(median(walls) * float64(time.Second))
	}
	p.plan.Progress(pr)
}

// cellState is a cell under measurement.
type cellState struct {
	Cell
	workload *Workload
	strategy Strategy  // nil for a skipped cell
	walls    []float64 // seconds, kept samples
	warm     []float64 // seconds, runs of the warm-up rounds
	runs     int       // runs per sample, from the warm-up (runsFor)
}

// strategyOf is the strategy that measures a cell: the baseline's A/A twin
// is the baseline measured again.
func strategyOf(c Cell) string {
	if c.Strategy == resultfile.SerialAA {
		return resultfile.Serial
	}
	return c.Strategy
}

func sweepConfig(ctx context.Context, plan Plan, cells []Cell, order *rand.Rand, out *Outcome, tracker *progress) (err error) {
	workloads := map[int]*Workload{} // by run size
	built := map[string]Strategy{}   // by strategy/workers/size
	stuck := false                   // a goroutine still runs a chunk in a workload
	defer func() {
		for _, s := range built {
			if cerr := s.Close(); err == nil && ctx.Err() == nil {
				err = cerr
			}
		}
		if stuck {
			return // unmapped under the stuck goroutine, its region would crash the process before it reports
		}
		for _, w := range workloads {
			w.Close()
		}
	}()

	var active []*cellState
	for _, c := range cells {
		params := c.Params
		w := workloads[params.Size]
		if w == nil {
			if w, err = NewWorkload(params); err != nil {
				return err
			}
			workloads[params.Size] = w
		}
		name := strategyOf(c)
		key := fmt.Sprintf("%s/%d/%d/%s", name, c.Workers, params.Size, c.Pin)
		s := built[key]
		if s == nil {
			if s, err = NewPinnedStrategy(name, w, c.Workers, c.Pin); err != nil {
				if !strategies[name].reference {
					return fmt.Errorf("%s: %w", c.Name(), err)
				}
				// Another tool that cannot run this cell is a gap in
				// the comparison, not a failure of the sweep.
				out.Skipped = append(out.Skipped, Skip{Cell: c, Err: err})
				tracker.finished++
				err = nil
				continue
			}
			built[key] = s
			if st, ok := s.(Starter); ok {
				out.Startups = append(out.Startups, Startup{Cell: c, Duration: st.Startup()})
			}
		}
		active = append(active, &cellState{Cell: c, workload: w, strategy: s})
	}
	if len(active) == 0 {
		return nil
	}

	var spent time.Duration
	round := func(keep bool) error {
		runs := make([]int, len(active))
		for i, st := range active {
			runs[i] = 1
			if keep {
				runs[i] = max(1, st.runs)
			}
		}
		sums := make([]Timing, len(active)) // in the cells' order, whatever the measuring order
		clocks := make([]clockMeter, len(active))
		done := make([]int, len(active))
		for _, i := range roundVisits(order, runs) {
			st := active[i]
			start := time.Now()
			tracker.job(st.Name(), start, st.walls)
			jobCtx, cancel := context.WithTimeout(ctx, plan.jobTimeout(st.walls))
			one, err := measure(jobCtx, st.strategy, st.workload, st.Sched, &clocks[i], done[i] == 0, done[i] == runs[i]-1)
			cancel()
			spent += time.Since(start)
			if errors.Is(err, ErrStuck) {
				stuck = true
			}
			if err != nil {
				if ctx.Err() == nil {
					err = fmt.Errorf("%s: %w", st.Name(), err)
				}
				return interrupted(ctx, out, err)
			}
			if !keep {
				st.warm = append(st.warm, one.Wall.Seconds())
			}
			sums[i] = sums[i].Add(one)
			done[i]++
		}
		if !keep {
			return nil
		}
		// A round counts only once it is complete: the k-th sample of
		// every cell is round k.
		kept := make([]Sample, len(active))
		for i, st := range active {
			kept[i] = Sample{Cell: st.Cell, Work: st.workload.Kernel.Work(), Timing: sums[i].Div(done[i]), Runs: done[i], Clock: clocks[i].mean()}
			st.walls = append(st.walls, kept[i].Timing.Wall.Seconds())
		}
		out.Samples = append(out.Samples, kept...)
		tracker.samples += len(kept)
		return nil
	}
	warmStart := time.Now()
	for r := 0; r < plan.Warmup || r > 0 && time.Since(warmStart) < minWarmup; r++ {
		if err := round(false); err != nil || out.Interrupted {
			return err
		}
	}
	setRuns(active)
	spent = 0
	rounds := 0
	for {
		if err := round(true); err != nil || out.Interrupted {
			if out.Interrupted && rounds > 0 {
				out.Rounds[cells[0].Record().ConfigName()] = []int{rounds}
			}
			return err
		}
		rounds++
		out.Rounds[cells[0].Record().ConfigName()] = []int{rounds}
		tracker.report()
		if plan.stop(rounds, spent, active, out) {
			tracker.finished += len(active)
			tracker.report()
			return nil
		}
	}
}

// jobTimeout is how long one run of a cell with the given samples may
// take.
func (p Plan) jobTimeout(walls []float64) time.Duration {
	if p.JobTimeout > 0 {
		return p.JobTimeout
	}
	if len(walls) < 3 {
		return time.Minute
	}
	median := time.Duration(median(walls) * float64(time.Second))
	return max(10*time.Second, 20*median)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// roundOrder is the order in which a pass of a round measures n cells: a
// uniformly random permutation, so that every cell follows every other
// equally often over the rounds and drift or a noisy neighbour hits all
// cells alike (a fixed order rotated by one each round left a cell behind
// the same neighbour in 84 of 87 rounds, and 2-5% slower than its
// identical twin).
func roundOrder(rng *rand.Rand, n int) []int { return rng.Perm(n) }

// roundVisits is the order of a round's runs, runs[i] of cell i: in passes,
// each a fresh roundOrder of the cells with runs left, so that a sample's
// runs are spread over its round rather than taken back to back. The
// machine's speed wanders over a round (on a 2-vCPU KVM guest, by +-5% in
// a wave of about 350 ms), and two cells whose runs were back to back at
// two places in the round caught it at two phases: matmul's A/A samples
// spread +-1.8-2.5% within a round that way, +-1.0% spread over it
// (noise floors +-1.2-2.2% against +-0.8-1.0%, three sweeps each).
// Spread, every run also follows another cell (unless one cell has more
// runs than every other, whose last runs then have only each other), as a
// sample of one run always did: back to back, a sample's later runs found what its own first
// run left (matmul's packing workspace in the core's caches, the runtime's
// threads just used), 1-2.5% faster at 2 workers than a run that followed
// another cell.
func roundVisits(rng *rand.Rand, runs []int) []int {
	var visits []int
	for pass := 0; ; pass++ {
		var left []int
		for i, n := range runs {
			if n > pass {
				left = append(left, i)
			}
		}
		if len(left) == 0 {
			return visits
		}
		order := roundOrder(rng, len(left))
		if n := len(visits); n > 0 && len(left) > 1 && left[order[0]] == visits[n-1] {
			// A pass does not begin with the cell that ended the last.
			order[0], order[1] = order[1], order[0]
		}
		for _, j := range order {
			visits = append(visits, left[j])
		}
	}
}

// stop decides whether a configuration has enough rounds; when it stops
// with cells short of the asked precision, it lists them in out.
func (p Plan) stop(rounds int, spent time.Duration, active []*cellState, out *Outcome) bool {
	if p.Count > 0 {
		return rounds >= p.Count
	}
	if rounds < cmp.Or(p.MinRounds, MinAdaptive) {
		return false
	}
	var short []Convergence
	for _, st := range active {
		if half := HalfWidth(st.walls); half > p.Precision {
			short = append(short, Convergence{Cell: st.Cell, Samples: len(st.walls), HalfWidth: half})
		}
	}
	if len(short) == 0 {
		return true
	}
	if spent >= p.Budget*time.Duration(len(active)) || rounds >= MaxAdaptive {
		out.Unconverged = append(out.Unconverged, short...)
		return true
	}
	return false
}

// interrupted turns the end of ctx into an interrupted outcome, and lets any
// other error through.
func interrupted(ctx context.Context, out *Outcome, err error) error {
	if ctx.Err() != nil {
		out.Interrupted = true
		return nil
	}
	return err
}

// HalfWidth returns the larger side of the 95% confidence interval of the
// median of values, relative to the median (benchmath, no distributional
// assumption). It is +Inf when there are too few values for an interval.
func HalfWidth(values []float64) float64 {
	th := benchmath.DefaultThresholds
	s := benchmath.NewSample(slices.Clone(values), &th) // NewSample sorts in place
	sum := benchmath.AssumeNothing.Summary(s, 0.95)
	if len(sum.Warnings) > 0 || sum.Center <= 0 {
		return inf
	}
	return max(sum.Hi-sum.Center, sum.Center-sum.Lo) / sum.Center
}

var inf = math.Inf(1)
