package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corescale/corescale/internal/cputime"
	"github.com/corescale/corescale/internal/topology"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner/procpool"
	"github.com/corescale/corescale/runner/pyref"
)

// A Strategy runs every chunk of its workload once per Run. It is built for
// one workload and one worker count, and reused across runs.
type Strategy interface {
	// Run runs the workload's chunks, dealt out by sched, and returns the
	// wall time of the parallel section and each worker's busy time. It
	// does not verify the outputs; the caller does.
	Run(ctx context.Context, sched procpool.Sched) (Timing, error)
	Close() error
}

// Timing is what a strategy measured in one run.
type Timing struct {
	Wall time.Duration // the parallel section, from dispatch to the last worker done
	// Span is, per worker, the time from dispatch to its last chunk done:
	// the time it had, or could have had, work. Wall minus the longest
	// span is the join; the longest minus the others is imbalance.
	Span []time.Duration
	// Wait is, per worker, the part of its span it was not on a CPU
	// (runnable but not running, or not yet woken); nil where the
	// strategy cannot tell.
	Wait []time.Duration
}

// Add returns the sum of t and u, worker by worker.
func (t Timing) Add(u Timing) Timing {
	sum := Timing{Wall: t.Wall + u.Wall}
	for i := range max(len(t.Span), len(u.Span)) {
		sum.Span = append(sum.Span, at(t.Span, i)+at(u.Span, i))
	}
	if t.Wait != nil || u.Wait != nil {
		for i := range max(len(t.Wait), len(u.Wait)) {
			sum.Wait = append(sum.Wait, at(t.Wait, i)+at(u.Wait, i))
		}
	}
	return sum
}

// Div returns t divided by n: the mean of n runs whose sum t is.
func (t Timing) Div(n int) Timing {
	d := time.Duration(max(1, n))
	mean := Timing{Wall: t.Wall / d}
	for _, s := range t.Span {
		mean.Span = append(mean.Span, s/d)
	}
	for _, w := range t.Wait {
		mean.Wait = append(mean.Wait, w/d)
	}
	return mean
}

func at(ds []time.Duration, i int) time.Duration {
	if i < len(ds) {
		return ds[i]
	}
	return 0
}

// A Starter is a strategy whose set-up is worth reporting (a process pool's
// start-up). It is measured once and never included in Run's timings.
type Starter interface {
	Startup() time.Duration
}

type strategyDef struct {
	// build makes the strategy; cpus, when not nil, holds the CPUs each
	// worker is pinned to.
	build func(w *Workload, workers int, cpus []topology.Set) (Strategy, error)
	// maxWorkers is the largest worker count that makes sense; 0 for no
	// limit of the strategy's own.
	maxWorkers int
	// reference marks strategies that measure other tools for comparison
	// (Python's), which run only when asked for.
	reference bool
	// pinnable marks strategies whose workers can be pinned to CPUs.
	pinnable bool
}

// strategies is every strategy a sweep can run, registered here and only
// here. The baseline's A/A twin (resultfile.SerialAA) is not one of them:
// the sweep measures it with the serial strategy whenever serial runs.
var strategies = map[string]strategyDef{
	resultfile.Serial:     {build: newSerial, maxWorkers: 1},
	resultfile.Goroutines: {build: newGoroutines, pinnable: true},
	resultfile.Procpool:   {build: newProcpool, pinnable: true},
	resultfile.PySerial:   {build: newPython(resultfile.PySerial), maxWorkers: 1, reference: true},
	resultfile.PyThreads:  {build: newPython(resultfile.PyThreads), reference: true},
	resultfile.PyPool:     {build: newPython(resultfile.PyPool), reference: true},
	resultfile.PyPoolShm:  {build: newPython(resultfile.PyPoolShm), reference: true},
}

// Strategies returns the names of corescale's own strategies, serial
// first: what a sweep runs unless told otherwise.
func Strategies() []string {
	return strategyNames(false)
}

// ReferenceStrategies returns the names of the strategies that measure
// other tools on the same workloads (Python's py-*), sorted.
func ReferenceStrategies() []string {
	return strategyNames(true)
}

func strategyNames(reference bool) []string {
	var names []string
	for name, def := range strategies {
		if def.reference == reference {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == resultfile.Serial:
			return -1
		case b == resultfile.Serial:
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// MaxWorkers bounds worker counts: more would be absurd on any machine we
// know, and the process pool's control block has room for no more.
const MaxWorkers = procpool.MaxWorkers

// CheckStrategy reports whether a strategy of that name exists and can run
// with the given number of workers.
func CheckStrategy(name string, workers int) error {
	def, ok := strategies[name]
	if !ok {
		return fmt.Errorf("runner: unknown strategy %q (have %s)", name, strings.Join(append(Strategies(), ReferenceStrategies()...), ", "))
	}
	if workers < 1 || workers > MaxWorkers {
		return fmt.Errorf("runner: workers %d: want 1 to %d", workers, MaxWorkers)
	}
	if def.maxWorkers > 0 && workers > def.maxWorkers {
		return fmt.Errorf("runner: strategy %s runs %d worker, not %d", name, def.maxWorkers, workers)
	}
	return nil
}

// NewStrategy builds the named strategy over w with the given workers,
// left to the scheduler.
func NewStrategy(name string, w *Workload, workers int) (Strategy, error) {
	return NewPinnedStrategy(name, w, workers, topology.None)
}

// NewPinnedStrategy builds the named strategy over w with the given
// workers, each pinned to CPUs of this machine (Machine) by the placement
// policy: goroutine workers pin their thread while they run, worker
// processes are pinned once started.
func NewPinnedStrategy(name string, w *Workload, workers int, pin topology.Policy) (Strategy, error) {
	if err := CheckStrategy(name, workers); err != nil {
		return nil, err
	}
	cpus := placement(pin, workers)
	if cpus != nil && !Pinnable(name) {
		return nil, fmt.Errorf("runner: strategy %s cannot pin its workers (-pin %s)", name, pin)
	}
	return strategies[name].build(w, workers, cpus)
}

// Pinnable reports whether the named strategy's workers can be pinned to
// CPUs: goroutines and procpool. The serial baseline stays unpinned, so
// that every curve has the same baseline.
func Pinnable(name string) bool { return strategies[name].pinnable }

// inProcess runs chunks on goroutines of this process: one, on the caller's
// goroutine, for serial; n new goroutines per run for goroutines, which is
// what a Go programmer would write.
type inProcess struct {
	w       *Workload
	workers int
	spawn   bool
	cpus    []topology.Set // each worker's CPUs; nil: unpinned
}

func newSerial(w *Workload, _ int, _ []topology.Set) (Strategy, error) {
	return &inProcess{w: w, workers: 1}, nil
}

func newGoroutines(w *Workload, workers int, cpus []topology.Set) (Strategy, error) {
	return &inProcess{w: w, workers: workers, spawn: true, cpus: cpus}, nil
}

func (s *inProcess) Close() error { return nil }

func (s *inProcess) Run(ctx context.Context, sched procpool.Sched) (Timing, error) {
	var next atomic.Int64
	var stop atomic.Bool
	span := make([]time.Duration, s.workers)
	wait := make([]time.Duration, s.workers)
	errs := make([]error, s.workers)
	holding := make([]atomic.Int64, s.workers) // chunk in hand, or -1
	since := make([]atomic.Int64, s.workers)   // when it was claimed, ns after start
	chunks := s.w.Chunks()
	var start time.Time
	work := func(w int) {
		// Locked to its thread, a worker's thread CPU time is its own:
		// the rest of its span it waited (for a CPU, or for the Go
		// scheduler when workers outnumber GOMAXPROCS).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu0 := threadCPU()
		defer func() {
			if r := recover(); r != nil {
				errs[w] = fmt.Errorf("runner: worker %d: panic: %v\n\n%s", w, r, debug.Stack())
				stop.Store(true)
			}
			holding[w].Store(-1)
			span[w] = time.Since(start)
			wait[w] = min(span[w], max(0, span[w]-(threadCPU()-cpu0)))
		}()
		if s.cpus != nil {
			// Pinned for this run only: the thread goes back to the
			// runtime with its old mask (deferred before the unlock).
			restore, err := pinThread(s.cpus[w])
			if err != nil {
				errs[w] = fmt.Errorf("runner: worker %d: %w", w, err)
				stop.Store(true)
				return
			}
			defer restore()
		}
		for i := range sched.Claim(&next, w, s.workers, chunks) {
			if stop.Load() {
				return
			}
			since[w].Store(int64(time.Since(start)))
			holding[w].Store(int64(i))
			s.w.chunk(i)
		}
	}
	done := context.AfterFunc(ctx, func() { stop.Store(true) })
	defer done()

	start = time.Now()
	for w := range holding {
		holding[w].Store(-1)
	}
	finished := make(chan struct{})
	if s.spawn {
		var wg sync.WaitGroup
		for w := range s.workers {
			wg.Go(func() { work(w) })
		}
		go func() { wg.Wait(); close(finished) }()
	} else {
		go func() { work(0); close(finished) }()
	}
	select {
	case <-finished:
	case <-ctx.Done():
		// Workers stop at their next claim; one that does not come back
		// within a grace period is stuck in a chunk, and a goroutine
		// cannot be killed.
		select {
		case <-finished:
		case <-time.After(stuckGrace):
			return Timing{}, stuckGoroutines(ctx, time.Since(start), holding, since)
		}
	}
	wall := time.Since(start)

	if err := ctx.Err(); err != nil {
		return Timing{}, err
	}
	for _, err := range errs {
		if err != nil {
			return Timing{}, err
		}
	}
	return Timing{Wall: wall, Span: span, Wait: wait}, nil
}

// stuckGrace is how long goroutine workers get to stop after a run's
// context ends before they are reported stuck.
const stuckGrace = time.Second

// ErrStuck marks a run whose goroutine workers did not stop: they still
// run a chunk, and the workload must not be released under them.
var ErrStuck = errors.New("stuck")

func stuckGoroutines(ctx context.Context, elapsed time.Duration, holding, since []atomic.Int64) error {
	var b strings.Builder
	what := "timed out"
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		what = "stopped"
	}
	fmt.Fprintf(&b, "runner: job %s after %v", what, elapsed.Round(time.Millisecond))
	sep := ": "
	for w := range holding {
		if c := holding[w].Load(); c >= 0 {
			held := elapsed - time.Duration(since[w].Load())
			fmt.Fprintf(&b, "%sgoroutine worker %d holding chunk %d for %v", sep, w, c, held.Round(time.Millisecond))
			sep = ", "
		}
	}
	b.WriteString(" (a goroutine cannot be killed)")
	return fmt.Errorf("%s: %w", b.String(), ErrStuck)
}

// threadCPU is the CPU time of the calling thread so far; 0 if it cannot
// be read (the figure is a diagnostic, never a reason to fail a run).
func threadCPU() time.Duration {
	d, _ := cputime.ThreadCPU()
	return d
}

// pooled runs chunks in a pool of worker processes over the workload's
// region, started once and reused for every run.
type pooled struct {
	pool *procpool.Pool
	job  procpool.Job
}

func newProcpool(w *Workload, workers int, cpus []topology.Set) (Strategy, error) {
	pool, err := procpool.New(w.region, workers)
	if err != nil {
		return nil, err
	}
	if cpus != nil {
		lists := make([][]int, len(cpus))
		for i, c := range cpus {
			lists[i] = c
		}
		if err := pool.SetAffinity(lists); err != nil {
			pool.Terminate()
			return nil, err
		}
	}
	return &pooled{pool: pool, job: procpool.Job{Task: w.task, Chunks: w.Chunks()}}, nil
}

func (s *pooled) Startup() time.Duration { return s.pool.Startup() }

func (s *pooled) Run(ctx context.Context, sched procpool.Sched) (Timing, error) {
	job := s.job
	job.Sched = sched
	res, err := s.pool.Run(ctx, job)
	if err != nil {
		return Timing{}, err
	}
	if len(res.Replaced) > 0 {
		// The run itself went well on a replacement, but a worker died
		// between runs: a measurement of this pool is not to be trusted
		// without saying so.
		return Timing{}, fmt.Errorf("%w; it died between runs and was replaced", res.Replaced[0])
	}
	t := Timing{Wall: res.Wall, Span: make([]time.Duration, len(res.Workers)), Wait: make([]time.Duration, len(res.Workers))}
	for i, w := range res.Workers {
		t.Span[i] = min(w.Span, res.Wall)
		t.Wait[i] = min(t.Span[i], max(0, t.Span[i]-w.CPU))
	}
	return t, nil
}

func (s *pooled) WakeFor(d time.Duration) error { return s.pool.WakeFor(d) }

func (s *pooled) Close() error {
	s.pool.Close()
	return s.pool.Wait()
}

// Measure runs s once over w and verifies the outputs: a wrong output is an
// error, never a timing. Before the run it poisons the outputs, flushes the
// region out of the caches, and settles the machine (see settle).
func Measure(ctx context.Context, s Strategy, w *Workload, sched procpool.Sched) (Timing, error) {
	return measure(ctx, s, w, sched, nil, false, false)
}

// measure is Measure with the clock probed (clock not nil) after the flush
// and before the settle, and after the run: as close to the run as a probe
// gets without leaving the CPUs idle before it. first and last force the
// probes of a sample's first run and last.
func measure(ctx context.Context, s Strategy, w *Workload, sched procpool.Sched, clock *clockMeter, first, last bool) (Timing, error) {
	w.poison()
	w.evict()
	if clock != nil {
		clock.probe(first)
	}
	settle(s)
	t, err := s.Run(ctx, sched)
	if clock != nil {
		clock.probe(last)
	}
	if err != nil {
		return Timing{}, err
	}
	if err := w.Verify(); err != nil {
		return Timing{}, fmt.Errorf("wrong output: %w", err)
	}
	return t, nil
}

// python runs a Python reference strategy (package pyref) over the
// workload's region.
type python struct{ p *pyref.Process }

func newPython(name string) func(w *Workload, workers int, _ []topology.Set) (Strategy, error) {
	return func(w *Workload, workers int, _ []topology.Set) (Strategy, error) {
		p, err := pyref.Start(name, w.region, w.task, workers)
		if err != nil {
			return nil, err
		}
		return python{p}, nil
	}
}

func (s python) Run(ctx context.Context, sched procpool.Sched) (Timing, error) {
	wall, busy, err := s.p.Run(ctx, sched)
	return Timing{Wall: wall, Span: busy}, err // Python's busy time: its workers' time in chunks
}

func (s python) Startup() time.Duration { return s.p.Startup() }
func (s python) Close() error           { return s.p.Close() }

// settleFor is how long settle keeps the CPUs busy before a run.
const settleFor = 300 * time.Microsecond

// settle readies the machine for a run of s as a stream of runs that follow
// each other closely finds it: every CPU the run may use busy a moment ago,
// and a pool's workers awake. Between two timed runs Measure spends
// milliseconds on one CPU poisoning, flushing and verifying: long enough
// for the other CPUs to go idle and for a pool's workers to fall asleep. A
// core that was idle runs the next run's first milliseconds slower, and a
// sleeping worker takes long to wake, which a stream of runs would not pay,
// and which serial, running on the core that was just busy, never pays: on
// a 2-vCPU KVM guest, procpool's one worker used 3-9% more CPU time than
// serial on the same chunks, and started 150-200 us late.
//
// So before every run of every strategy as many goroutines as GOMAXPROCS
// spin for settleFor each; then a pool's workers are woken
// (procpool.Pool.WakeFor) onto CPUs that were busy microseconds ago and
// spread one to a CPU, and the run starts once they are awake. The wake
// comes after the spin, not before it: workers woken first spun beside the
// spinning goroutines and began runs stacked two to a CPU (a full sweep:
// procpool at 2 workers on 2 CPUs waited 17.5% of its worker time for a
// CPU, against goroutines' 4.5%). The wake-up a pool pays when its jobs do
// come apart is measured on its own (BenchmarkRoundTripAfterIdle).
func settle(s Strategy) {
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for end := time.Now().Add(settleFor); time.Now().Before(end); {
			}
		})
	}
	wg.Wait()
	if w, ok := s.(waker); ok {
		// WakeFor returns once the workers are awake; the bound is
		// for a machine too loaded to wake them soon, and the run's
		// publication sends them back to their usual wait.
		_ = w.WakeFor(10 * settleFor)
	}
}

// A waker can wake its idle workers ahead of a run: a procpool pool.
type waker interface {
	WakeFor(time.Duration) error
}
