package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner/procpool"
)

var scheds = []procpool.Sched{procpool.Dynamic, procpool.Static}

func smallParams(t *testing.T) []kernels.Params {
	t.Helper()
	var ps []kernels.Params
	for _, name := range kernels.Names() {
		info, _ := kernels.Lookup(name)
		for _, shape := range info.Shapes {
			p, err := kernels.Defaults(name, "small")
			if err != nil {
				t.Fatal(err)
			}
			p.Shape = shape
			ps = append(ps, p)
		}
	}
	return ps
}

func newWorkload(t *testing.T, p kernels.Params) *Workload {
	t.Helper()
	w, err := NewWorkload(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestEveryStrategyAndSchedGivesTheReferenceOutputs(t *testing.T) {
	for _, p := range smallParams(t) {
		w := newWorkload(t, p)
		for _, name := range Strategies() {
			for workers := 1; workers <= 4; workers++ {
				if name == "serial" && workers > 1 {
					continue
				}
				s, err := NewStrategy(name, w, workers)
				if err != nil {
					t.Fatal(err)
				}
				measureEverySched(t, s, w, Cell{Params: p, Strategy: name, Workers: workers})
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

// skipper is a strategy that forgets one chunk.
type skipper struct{ w *Workload }

func (s skipper) Run(context.Context, procpool.Sched) (Timing, error) {
	for i := 1; i < s.w.Chunks(); i++ {
		s.w.chunk(i)
	}
	return Timing{Wall: time.Millisecond, Span: []time.Duration{time.Millisecond}}, nil
}
func (skipper) Close() error { return nil }

func TestMeasureRejectsARunThatSkipsAChunk(t *testing.T) {
	for _, p := range smallParams(t) {
		w := newWorkload(t, p)
		good, _ := NewStrategy("serial", w, 1)
		if _, err := Measure(context.Background(), good, w, procpool.Dynamic); err != nil {
			t.Fatal(err)
		}
		// The outputs are right now; a run that skips chunk 0 must
		// still fail, because Measure poisons them first.
		if _, err := Measure(context.Background(), skipper{w}, w, procpool.Dynamic); err == nil || !strings.Contains(err.Error(), "wrong output") {
			t.Errorf("%v: a run that skipped chunk 0 gave %v, want a wrong-output error", p, err)
		}
	}
}

// wakeRecorder is a serial strategy that can be woken ahead, and records
// what Measure asks of it.
type wakeRecorder struct {
	Strategy
	calls []string
	ahead time.Duration
}

func (r *wakeRecorder) WakeFor(d time.Duration) error {
	r.calls, r.ahead = append(r.calls, "wake"), d
	return nil
}

func (r *wakeRecorder) Run(ctx context.Context, sched procpool.Sched) (Timing, error) {
	r.calls = append(r.calls, "run")
	return r.Strategy.Run(ctx, sched)
}

// A pool's workers are woken ahead of every run, for longer than the spin
// that settles the CPUs, so that they are still awake when the run starts.
func TestMeasureWakesAPoolAheadOfEveryRun(t *testing.T) {
	var _ waker = (*pooled)(nil) // procpool is woken ahead
	w := newWorkload(t, smallParams(t)[0])
	serial, _ := NewStrategy("serial", w, 1)
	r := &wakeRecorder{Strategy: serial}
	for range 2 {
		if _, err := Measure(context.Background(), r, w, procpool.Dynamic); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(r.calls, " "); got != "wake run wake run" {
		t.Errorf("Measure called %q, want %q", got, "wake run wake run")
	}
	if r.ahead <= settleFor {
		t.Errorf("workers woken for %v, no longer than the %v spin before the run", r.ahead, settleFor)
	}
}

func TestGoroutineStrategyReportsAPanickingChunk(t *testing.T) {
	w := newWorkload(t, smallParams(t)[0])
	w.chunk = func(i int) {
		if i == 3 {
			panic("chunk 3 is cursed")
		}
	}
	s, _ := NewStrategy("goroutines", w, 2)
	if _, err := s.Run(context.Background(), procpool.Dynamic); err == nil || !strings.Contains(err.Error(), "chunk 3 is cursed") {
		t.Errorf("Run gave %v, want the panic", err)
	}
}

func TestCheckStrategyRefusesBadWorkerCounts(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		want    string
	}{
		{"fibers", 2, `unknown strategy "fibers"`},
		{"goroutines", 0, "workers 0"},
		{"goroutines", -3, "workers -3"},
		{"procpool", MaxWorkers + 1, fmt.Sprintf("workers %d", MaxWorkers+1)},
		{"serial", 2, "serial runs 1 worker"},
	}
	for _, tt := range tests {
		err := CheckStrategy(tt.name, tt.workers)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckStrategy(%q, %d) = %v, want %q", tt.name, tt.workers, err, tt.want)
		}
	}
}

func TestPlanRunsSerialOnceAtOneWorkerWithItsTwin(t *testing.T) {
	p := kernels.Params{Kernel: "hash", Shape: "uniform", Size: 1 << 20, Chunks: 8}
	plan := Plan{Configs: []kernels.Params{p}, Strategies: []string{"serial", "goroutines"}, Scheds: scheds, Workers: []int{2, 4}}
	var names []string
	for _, c := range plan.Cells() {
		names = append(names, fmt.Sprintf("%s/%d/%v", c.Strategy, c.Workers, c.Sched))
	}
	want := "serial/1/dynamic serial-aa/1/dynamic goroutines/2/dynamic goroutines/2/static goroutines/4/dynamic goroutines/4/static"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("cells %s\nwant  %s", got, want)
	}
}

func TestSweepTakesTheAskedSamplesOfEveryCell(t *testing.T) {
	plan := Plan{
		Configs:    smallParams(t)[:2],
		Strategies: Strategies(),
		Scheds:     scheds,
		Workers:    []int{1, 2},
		Count:      3,
		Warmup:     1,
	}
	out, err := Sweep(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	counts := samplesPerCell(out)
	for _, c := range plan.Cells() {
		if counts[c.Name()] != 3 {
			t.Errorf("%s: %d samples, want 3", c.Name(), counts[c.Name()])
		}
	}
	if len(out.Startups) != 2*2 { // procpool at 1 and 2 workers, per config
		t.Errorf("%d start-ups recorded, want 4", len(out.Startups))
	}
	if out.Interrupted || len(out.Unconverged) != 0 {
		t.Errorf("outcome %+v", out)
	}
}

func TestAdaptiveSweepTakesAtLeastSixSamples(t *testing.T) {
	plan := Plan{
		Configs:    smallParams(t)[:1],
		Strategies: []string{"serial", "goroutines"},
		Scheds:     scheds[:1],
		Workers:    []int{1, 2},
		Precision:  0.02,
		Budget:     50 * time.Millisecond,
	}
	out, err := Sweep(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	counts := samplesPerCell(out)
	for name, n := range counts {
		if n < MinAdaptive {
			t.Errorf("%s: %d samples, want at least %d", name, n, MinAdaptive)
		}
	}
	if len(counts) != 4 { // serial, its A/A twin, goroutines at 1 and 2
		t.Errorf("%d cells sampled, want 4", len(counts))
	}
}

func TestInterruptedSweepKeepsWholeRoundsOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	plan := Plan{
		Configs:    smallParams(t)[:1],
		Strategies: []string{"serial", "goroutines", "procpool"},
		Scheds:     scheds,
		Workers:    []int{1, 2},
		Count:      1000,
		Progress: func(p Progress) {
			if p.Samples >= 20 {
				cancel()
			}
		},
	}
	out, err := Sweep(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	cells := len(plan.Cells())
	if !out.Interrupted || len(out.Samples) == 0 || len(out.Samples)%cells != 0 {
		t.Errorf("interrupted=%v with %d samples, want whole rounds of %d", out.Interrupted, len(out.Samples), cells)
	}
}

func TestSweepRefusesABadPlan(t *testing.T) {
	p := smallParams(t)[0]
	tests := []struct {
		name string
		plan Plan
		want string
	}{
		{"empty", Plan{}, "nothing to measure"},
		{"bad kernel", Plan{Configs: []kernels.Params{{Kernel: "fft"}}, Strategies: []string{"serial"}, Scheds: scheds, Workers: []int{1}, Count: 1}, "fft"},
		{"zero workers", Plan{Configs: []kernels.Params{p}, Strategies: []string{"goroutines"}, Scheds: scheds, Workers: []int{0}, Count: 1}, "workers 0"},
		{"no budget", Plan{Configs: []kernels.Params{p}, Strategies: []string{"serial"}, Scheds: scheds, Workers: []int{1}}, "budget"},
	}
	for _, tt := range tests {
		if _, err := Sweep(context.Background(), tt.plan); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Sweep gave %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestWeakScalingGrowsTheWorkWithTheWorkers(t *testing.T) {
	p, _ := kernels.Defaults("matmul", "small")
	plan := Plan{Configs: []kernels.Params{p}, Strategies: []string{"goroutines"}, Scheds: scheds[:1], Workers: []int{1, 2, 4}, Count: 1, Weak: true}
	out, err := Sweep(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	work := map[int]float64{}
	names := map[string]bool{}
	for _, s := range out.Samples {
		work[s.Cell.Workers] = s.Work.Amount
		names[s.Cell.Name()] = true
		// The name says the size the cell ran, and the size per worker
		// its configuration shares.
		n := s.Cell.Params.Size
		if want := fmt.Sprintf("/size=%d/per-worker=%d/", n, p.Size); !strings.Contains(s.Cell.Name(), want) {
			t.Errorf("%s: want %s in the name", s.Cell.Name(), want)
		}
	}
	for _, w := range []int{2, 4} {
		if r := work[w] / work[1]; r < 0.97*float64(w) || r > 1.03*float64(w) {
			t.Errorf("%d workers did %.2fx the work of one", w, r)
		}
	}
	if len(names) != 3 {
		t.Errorf("%d names for 3 cells of different work", len(names))
	}
	if rounds := out.Rounds[fmt.Sprintf("Matmul/shape=square/per-worker=%d", p.Size)]; len(rounds) != 1 || rounds[0] != 1 {
		t.Errorf("rounds %v", out.Rounds)
	}
}

func TestWriteFileAtomicLeavesNothingWhenTheWriteFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	boom := errors.New("boom") // a full disk, part-way
	for _, earlier := range []string{"", "an earlier result file\n"} {
		if earlier != "" {
			if err := os.WriteFile(path, []byte(earlier), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := WriteFileAtomic(path, func(w io.Writer) error {
			io.WriteString(w, "half a file")
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
		entries, _ := os.ReadDir(dir)
		if earlier == "" && len(entries) != 0 {
			t.Errorf("left %v behind", entries)
		}
		if earlier != "" {
			if b, _ := os.ReadFile(path); string(b) != earlier || len(entries) != 1 {
				t.Errorf("the earlier file reads %q and the directory holds %v, want it intact and alone", b, entries)
			}
		}
	}
}

func TestResolveBuildsTheSameChunksAsTheParent(t *testing.T) {
	p := smallParams(t)[0]
	w := newWorkload(t, p)
	chunk, err := Resolve([]byte(p.String()), w.region.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	w.poison()
	for i := range w.Chunks() {
		chunk(i)
	}
	if err := w.Verify(); err != nil {
		t.Error(err)
	}
	if _, err := Resolve([]byte(p.String()), w.region.Bytes()[:10]); err == nil {
		t.Error("Resolve accepted a region too small for the kernel")
	}
	if _, err := Resolve([]byte("nonsense"), w.region.Bytes()); err == nil {
		t.Error("Resolve accepted a malformed task")
	}
}

// samplesPerCell counts out's samples by cell name.
func samplesPerCell(out Outcome) map[string]int {
	counts := map[string]int{}
	for _, s := range out.Samples {
		counts[s.Cell.Name()]++
	}
	return counts
}

// measureEverySched measures s once per sched, each a subtest named after
// cell with that sched: Measure verifies the outputs, and the timing must
// hold a busy time per worker.
func measureEverySched(t *testing.T, s Strategy, w *Workload, cell Cell) {
	t.Helper()
	for _, sched := range scheds {
		cell.Sched = sched
		t.Run(cell.Name(), func(t *testing.T) {
			timing, err := Measure(context.Background(), s, w, sched)
			if err != nil {
				t.Fatal(err)
			}
			if len(timing.Span) != cell.Workers || timing.Wall <= 0 {
				t.Errorf("timing %+v: want %d spans and a wall time", timing, cell.Workers)
			}
		})
	}
}

func TestRoundOrderGivesNoCellAFavouriteNeighbour(t *testing.T) {
	const cells, rounds = 10, 20000
	rng := rand.New(rand.NewPCG(1, 0))
	var follows [cells][cells]int // follows[a][b]: b measured right after a
	for range rounds {
		order := roundOrder(rng, cells)
		if len(order) != cells {
			t.Fatalf("order of %d cells: %v", cells, order)
		}
		for i := 1; i < cells; i++ {
			follows[order[i-1]][order[i]]++
		}
	}
	// Each of the 90 ordered pairs is adjacent in a round with probability
	// 1/10: 2000 times expected, binomial sd about 42.
	for a := range cells {
		for b := range cells {
			if a != b && (follows[a][b] < 1800 || follows[a][b] > 2200) {
				t.Errorf("cell %d followed cell %d in %d of %d rounds, want about %d", b, a, follows[a][b], rounds, rounds/cells)
			}
		}
	}
}

// A round visits cell i runs[i] times, in passes of a fresh order each:
// the runs of a sample spread over the round, so that two cells with as
// many runs sit at the same place in it on average, whichever goes first.
func TestRoundVisitsSpreadASamplesRunsOverTheRound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 0))
	for _, runs := range [][]int{{1}, {3}, {1, 1, 1}, {7, 7, 7, 7, 1, 1}, {7, 13, 13, 1, 7}, {2, 5}, {2, 2}} {
		const rounds = 4000
		place := make([]float64, len(runs)) // mean place of a cell's runs, as a fraction of the round
		total := 0
		for _, n := range runs {
			total += n
		}
		for range rounds {
			visits := roundVisits(rng, runs)
			count := make([]int, len(runs))
			for at, i := range visits {
				count[i]++
				if total > 1 {
					place[i] += float64(at) / float64(total-1) / float64(runs[i]) / rounds
				}
				// A run follows another cell's, unless only its cell
				// has runs left.
				if at > 0 && visits[at-1] == i && count[i] <= secondMost(runs) {
					t.Fatalf("runs %v: round %v visits cell %d twice in a row", runs, visits, i)
				}
			}
			if !slices.Equal(count, runs) {
				t.Fatalf("runs %v: a round visited the cells %v times", runs, count)
			}
		}
		// Cells with as many runs share their mean place; a cell with
		// more runs takes part in later passes, so its runs sit later on
		// average than those of a cell with fewer, which are all early.
		for i := range runs {
			for j := range runs {
				switch {
				case runs[i] == runs[j] && math.Abs(place[i]-place[j]) > 0.02:
					t.Errorf("runs %v: cells %d and %d, %d runs each, sit at %.3f and %.3f of the round on average", runs, i, j, runs[i], place[i], place[j])
				case runs[i] > runs[j] && place[i] < place[j]+0.05:
					t.Errorf("runs %v: cell %d's %d runs sit at %.3f of the round on average, cell %d's %d at %.3f: want the longer sample spread later", runs, i, runs[i], place[i], j, runs[j], place[j])
				}
			}
		}
	}
}

// secondMost is the largest of runs once one of its largest is left out.
func secondMost(runs []int) int {
	sorted := slices.Sorted(slices.Values(runs))
	if len(sorted) < 2 {
		return 0
	}
	return sorted[len(sorted)-2]
}

func TestSweepSamplesAConfigurationOverTheSameRounds(t *testing.T) {
	plan := Plan{
		Configs:    smallParams(t)[:1],
		Strategies: []string{resultfile.Serial, resultfile.Goroutines},
		Scheds:     scheds,
		Workers:    []int{1, 2},
		Precision:  1e-9, // never met: the budget decides
		Budget:     20 * time.Millisecond,
	}
	out, err := Sweep(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	counts := samplesPerCell(out)
	rounds := out.Rounds[KernelName(plan.Configs[0])]
	if len(rounds) != 1 || rounds[0] < MinAdaptive {
		t.Fatalf("rounds %v, want one fork of at least %d", rounds, MinAdaptive)
	}
	for _, c := range plan.Cells() {
		if counts[c.Name()] != rounds[0] {
			t.Errorf("%s: %d samples in %d rounds", c.Name(), counts[c.Name()], rounds[0])
		}
	}
	if len(out.Unconverged) != len(plan.Cells()) {
		t.Errorf("%d cells listed as unconverged, want all %d", len(out.Unconverged), len(plan.Cells()))
	}
}

// A cell whose runs are shorter than sampleFloor is sampled as the mean of
// as many runs as fill it, and the result file says how many; a cell of
// long runs takes one run per sample.
func TestShortRunsAreSampledSeveralToASample(t *testing.T) {
	p, err := kernels.Defaults("matmul", "small") // n = 128: a fraction of a millisecond
	if err != nil {
		t.Fatal(err)
	}
	plan := Plan{Configs: []kernels.Params{p}, Strategies: []string{"serial"}, Scheds: scheds, Workers: []int{1}, Count: 2, Warmup: 1}
	out, err := Sweep(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Samples {
		// Only the count is checked here, not that each run stayed short:
		// beside another package's tests under -race, runs of 1 ms in the
		// warm-up took 32-66 ms once timed.
		if s.Runs < 2 {
			t.Errorf("%s: a sample of %d runs of %v each, want several", s.Cell.Name(), s.Runs, s.Timing.Wall)
		}
		// The count comes from the warm-up's median run, which may have
		// run beside another package's tests (go test ./... runs them in
		// parallel) and taken twice as long: a quarter of the floor, not
		// a half, is what a count that follows the warm-up fills.
		if total := time.Duration(s.Runs) * s.Timing.Wall; total < sampleFloor/4 {
			t.Errorf("%s: %d runs of %v fill %v, not about %v", s.Cell.Name(), s.Runs, s.Timing.Wall, total, sampleFloor)
		}
	}
	// serial and serial-aa: identical work, sampled alike.
	for _, s := range out.Samples {
		if s.Runs != out.Samples[0].Runs {
			t.Errorf("%s: %d runs a sample, %s %d", s.Cell.Name(), s.Runs, out.Samples[0].Cell.Name(), out.Samples[0].Runs)
		}
	}
	f := out.ResultFile()
	for i, s := range f.Samples {
		if s.Iters != out.Samples[i].Runs {
			t.Errorf("sample %d written with %d iterations, measured %d runs", i, s.Iters, out.Samples[i].Runs)
		}
	}
	tests := []struct {
		warm []float64
		want int
	}{
		{nil, 1},
		{[]float64{0.050}, 1},
		{[]float64{0.010, 0.008, 0.009}, 3},
		{[]float64{0.001}, 25},
		{[]float64{1e-9}, 1000},
	}
	for _, tt := range tests {
		if got := runsFor(tt.warm); got != tt.want {
			t.Errorf("runsFor(%v) = %d, want %d", tt.warm, got, tt.want)
		}
	}
}

func TestCellsAtOneWorkerCountTakeOneRunCount(t *testing.T) {
	ms := func(v ...float64) []float64 {
		for i := range v {
			v[i] /= 1000
		}
		return v
	}
	cell := func(strategy string, workers int, warm []float64) *cellState {
		return &cellState{Cell: Cell{Strategy: strategy, Workers: workers}, warm: warm}
	}
	cells := []*cellState{
		// Identical work at one worker, whose own warm-ups would give 7
		// and 6 runs of 25 ms.
		cell(resultfile.Serial, 1, ms(3.9, 4.0, 4.1)),
		cell(resultfile.SerialAA, 1, ms(4.2, 4.3, 4.4)),
		cell(resultfile.Procpool, 1, ms(4.1, 4.2, 4.3)),
		cell(resultfile.Goroutines, 2, ms(2.1, 2.2, 2.3)),
		// A reference at its own speed keeps its own count.
		cell(resultfile.PyPool, 1, ms(50, 51, 52)),
	}
	setRuns(cells)
	want := []int{6, 6, 6, 12, 1}
	for i, st := range cells {
		if st.runs != want[i] {
			t.Errorf("%s at %d workers: %d runs a sample, want %d", st.Strategy, st.Workers, st.runs, want[i])
		}
	}
	if a, b := runsFor(cells[0].warm), runsFor(cells[1].warm); a == b {
		t.Fatalf("the case needs identical cells whose own warm-ups differ: %d runs each", a)
	}
}

func TestTimingsAddWorkerByWorkerAndDivide(t *testing.T) {
	ms := time.Millisecond
	a := Timing{Wall: 10 * ms, Span: []time.Duration{9 * ms, 8 * ms}}
	b := Timing{Wall: 20 * ms, Span: []time.Duration{19 * ms}, Wait: []time.Duration{ms}}
	sum := Timing{}.Add(a).Add(b)
	if sum.Wall != 30*ms || !slices.Equal(sum.Span, []time.Duration{28 * ms, 8 * ms}) || !slices.Equal(sum.Wait, []time.Duration{ms}) {
		t.Errorf("sum %+v", sum)
	}
	if mean := sum.Div(2); mean.Wall != 15*ms || !slices.Equal(mean.Span, []time.Duration{14 * ms, 4 * ms}) {
		t.Errorf("mean %+v", mean)
	}
	if w := (Timing{}).Add(a).Wait; w != nil {
		t.Errorf("a strategy that reports no waits got %v", w)
	}
}

// poison leaves every output byte 0xA5, whatever the outputs' length.
func TestPoisonCoversEveryOutputByte(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 64, 1000, 4099} {
		w := &Workload{out: make([]byte, n)}
		w.poison()
		for i, b := range w.out {
			if b != 0xA5 {
				t.Fatalf("%d bytes: byte %d is %#x", n, i, b)
			}
		}
	}
}
