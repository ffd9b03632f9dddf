package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"golang.org/x/perf/benchmath"

	"github.com/corescale/corescale/kernels"
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
	// Weak makes the work grow with the worker count (weak scaling: the
	// ideal time stays flat); otherwise it is fixed (strong scaling).
	Weak bool
	// Count is the number of samples per cell; 0 means adaptive: sample
	// until the 95% confidence interval of the median is within
	// +-Precision of it, or Budget is spent, whichever comes first, and
	// never fewer than MinAdaptive.
	Count     int
	Precision float64
	Budget    time.Duration
	// Warmup rounds of each kernel configuration are measured and verified
	// but not kept; with any, they go on for at least minWarmup.
	Warmup int
	// Progress, if set, is told about every sample.
	Progress func(Progress)
}

// minWarmup is the least time the warm-up rounds of a kernel configuration
// take, however fast its runs: a machine that was idle (or busy with
// something else) takes a while to reach the state it measures in: clock
// frequency, caches, page tables, a vCPU's share of its host. Runs of a
// millisecond need many rounds to get there.
const minWarmup = 250 * time.Millisecond

// MinAdaptive is the fewest samples an adaptive cell takes: benchmath needs
// 6 for a 95% confidence interval of the median.
const MinAdaptive = 6

// maxAdaptive stops cells that converge on nothing, whatever the budget.
const maxAdaptive = 100

// Progress tells where a sweep is.
type Progress struct {
	Cells    int    // in the whole plan
	Finished int    // cells that need no more samples
	Samples  int    // kept so far
	Current  string // the kernel configuration being measured
}

// A Sample is one verified run of a cell.
type Sample struct {
	Cell   Cell
	Work   kernels.Work // of the run: under weak scaling it grows with Workers
	Timing Timing
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
	// Rounds holds, per kernel configuration (its KernelName), the rounds
	// measured by each fork; a sweep in one process has one.
	Rounds map[string][]int
}

// Cells lists the plan's cells, grouped by kernel configuration in the
// order they are measured.
func (p Plan) Cells() []Cell {
	var cells []Cell
	for _, params := range p.Configs {
		for _, s := range p.Strategies {
			counts := p.Workers
			if def, ok := strategies[s]; ok && def.maxWorkers == 1 {
				counts = []int{1} // a one-worker strategy is a baseline, not a curve
			}
			for _, workers := range counts {
				for _, sched := range p.Scheds {
					cells = append(cells, Cell{Params: params, Strategy: s, Sched: sched, Workers: workers})
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
	for _, c := range p.Cells() {
		if err := CheckStrategy(c.Strategy, c.Workers); err != nil {
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
// are measured together, one sample per cell per round, in an order that
// rotates every round. A failed run (a dead worker, a wrong output) ends the
// sweep with an error naming the cell; the end of ctx ends it with
// Outcome.Interrupted set and no error.
func Sweep(ctx context.Context, plan Plan) (Outcome, error) {
	if err := plan.Check(); err != nil {
		return Outcome{}, err
	}
	var out Outcome
	all := plan.Cells()
	tracker := &progress{plan: plan, total: len(all)}
	for _, params := range plan.Configs {
		var cells []Cell
		for _, c := range all {
			if c.Params == params {
				cells = append(cells, c)
			}
		}
		tracker.current = KernelName(params)
		if err := sweepConfig(ctx, plan, cells, &out, tracker); err != nil || out.Interrupted {
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

func (p *progress) report() {
	if p.plan.Progress != nil {
		p.plan.Progress(Progress{Cells: p.total, Finished: p.finished, Samples: p.samples, Current: p.current})
	}
}

// cellState is a cell under measurement.
type cellState struct {
	Cell
	workload *Workload
	strategy Strategy
	walls    []float64 // seconds, kept samples
	spent    time.Duration
	done     bool
}

func sweepConfig(ctx context.Context, plan Plan, cells []Cell, out *Outcome, tracker *progress) (err error) {
	info, _ := kernels.Lookup(cells[0].Params.Kernel)
	workloads := map[int]*Workload{}    // by run size
	strategies := map[string]Strategy{} // by strategy/workers/size
	defer func() {
		for _, s := range strategies {
			if cerr := s.Close(); err == nil && ctx.Err() == nil {
				err = cerr
			}
		}
		for _, w := range workloads {
			w.Close()
		}
	}()

	states := make([]*cellState, len(cells))
	for i, c := range cells {
		params := c.Params
		if plan.Weak {
			params.Size = info.ScaledSize(params.Size, c.Workers)
		}
		w := workloads[params.Size]
		if w == nil {
			if w, err = NewWorkload(params); err != nil {
				return err
			}
			workloads[params.Size] = w
		}
		key := fmt.Sprintf("%s/%d/%d", c.Strategy, c.Workers, params.Size)
		s := strategies[key]
		if s == nil {
			if s, err = NewStrategy(c.Strategy, w, c.Workers); err != nil {
				if !isReference(c.Strategy) {
					return fmt.Errorf("%s: %w", c.Name(), err)
				}
				// Another tool that cannot run this cell is a gap in
				// the comparison, not a failure of the sweep.
				out.Skipped = append(out.Skipped, Skip{Cell: c, Err: err})
				states[i] = &cellState{Cell: c, done: true}
				tracker.finished++
				err = nil
				continue
			}
			strategies[key] = s
			if st, ok := s.(Starter); ok {
				out.Startups = append(out.Startups, Startup{Cell: c, Duration: st.Startup()})
			}
		}
		states[i] = &cellState{Cell: c, workload: w, strategy: s}
	}

	measure := func(st *cellState) (Timing, error) {
		start := time.Now()
		t, err := Measure(ctx, st.strategy, st.workload, st.Sched)
		st.spent += time.Since(start)
		if err != nil && ctx.Err() == nil {
			err = fmt.Errorf("%s: %w", st.Name(), err)
		}
		return t, err
	}
	warmStart := time.Now()
	for round := 0; round < plan.Warmup || round > 0 && time.Since(warmStart) < minWarmup; round++ {
		for _, st := range activeCells(states) {
			if _, err := measure(st); err != nil {
				return interrupted(ctx, out, err)
			}
			st.spent = 0
		}
	}
	for round := 0; ; round++ {
		if len(activeCells(states)) == 0 {
			break
		}
		active := plan.sampled(states)
		var kept []Sample
		for i := range active {
			st := active[(i+round)%len(active)]
			t, err := measure(st)
			if err != nil {
				return interrupted(ctx, out, err)
			}
			kept = append(kept, Sample{Cell: st.Cell, Work: st.workload.Kernel.Work(), Timing: t})
			st.walls = append(st.walls, t.Wall.Seconds())
		}
		// A round counts only once it is complete.
		out.Samples = append(out.Samples, kept...)
		tracker.samples += len(kept)
		for _, st := range activeCells(states) {
			if stop, conv := plan.stop(st); stop {
				st.done = true
				tracker.finished++
				if conv != nil {
					out.Unconverged = append(out.Unconverged, *conv)
				}
			}
		}
		tracker.report()
	}
	return nil
}

func isReference(name string) bool { return strategies[name].reference }

// sampled returns the cells a round samples: every cell still short of its
// stop condition and, with adaptive sampling, every cell that converged but
// has budget left. A cell that converged early keeps the others company:
// without it the last rounds would hold only the noisiest cells (the Python
// references, say), and the cells sampled then would be measured beside
// different neighbours than the cells that stopped early, which biased
// procpool's median by 4% in a full sweep.
func (p Plan) sampled(states []*cellState) []*cellState {
	var cells []*cellState
	for _, st := range states {
		if st.strategy == nil { // skipped
			continue
		}
		if !st.done || p.Count == 0 && st.spent < p.Budget && len(st.walls) < maxAdaptive {
			cells = append(cells, st)
		}
	}
	return cells
}

func activeCells(states []*cellState) []*cellState {
	var active []*cellState
	for _, st := range states {
		if !st.done {
			active = append(active, st)
		}
	}
	return active
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

// stop decides whether a cell has enough samples; for a cell that stops
// short of the asked precision it also returns how short.
func (p Plan) stop(st *cellState) (bool, *Convergence) {
	n := len(st.walls)
	if p.Count > 0 {
		return n >= p.Count, nil
	}
	if n < MinAdaptive {
		return false, nil
	}
	half := HalfWidth(st.walls)
	if half <= p.Precision {
		return true, nil
	}
	if st.spent >= p.Budget || n >= maxAdaptive {
		return true, &Convergence{Cell: st.Cell, Samples: n, HalfWidth: half}
	}
	return false, nil
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
