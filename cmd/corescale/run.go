package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/corescale/corescale/internal/topology"
	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner"
	"github.com/corescale/corescale/runner/ceiling"
	"github.com/corescale/corescale/runner/procpool"
	"github.com/corescale/corescale/runner/pyref"
)

func init() {
	register(command{name: "run", args: "[flags]", summary: "sweep kernels x strategies x workers, write a result file", run: runCmd})
}

const runSummary = `Runs every kernel x shape x size x strategy x sched x worker count, verifies
every run, and writes one result file in the Go benchmark format.`

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "[flags]", runSummary, stderr)
	kernelsFlag := fs.String("kernels", strings.Join(kernels.Names(), ","), "kernels to run")
	shapes := fs.String("shapes", "", "shapes to run (default: every shape of each kernel); kernels with none of them are skipped")
	strategies := fs.String("strategies", strings.Join(runner.Strategies(), ","), "strategies to run")
	scheds := fs.String("sched", "dynamic,static", "scheduling policies: dynamic, static")
	workersFlag := fs.String("workers", "", "worker counts, or max for NumCPU (default: powers of two up to NumCPU, NumCPU, 2 x NumCPU and the topology's boundaries: physical cores, one L3 domain's and one NUMA node's cores, performance cores)")
	pins := fs.String("pin", "none", "placement of the goroutines and procpool workers, a list: none (the scheduler's), cores (a physical core each, then SMT siblings), spread (round-robin over L3 domains and NUMA nodes), compact (fill one domain first)")
	sizes := fs.String("size", "default", "problem sizes: small, default, large, or auto (default up to 16 usable CPUs, above each kernel's size for big machines); a list reads cost against size")
	count := fs.Int("count", 0, "samples per cell; 0 samples until the 95% CI of the median is within -precision, or -budget is spent")
	precision := fs.Float64("precision", 0.02, "adaptive sampling: wanted half-width of the 95% CI, relative to the median")
	budget := fs.Duration("budget", 3*time.Second, "adaptive sampling: time per cell before giving up on -precision")
	minRounds := fs.Int("min-rounds", runner.MinAdaptive, "adaptive sampling: the fewest rounds of each kernel configuration (forks take their share)")
	warmup := fs.Int("warmup", 1, "discarded rounds of each kernel configuration (at least 250ms of them)")
	jobTimeout := fs.Duration("job-timeout", 0, "longest one run of a cell may take before the sweep fails naming what is stuck (0: max(10s, 20 x the cell's median), a minute for its first runs)")
	scaling := fs.String("scaling", "strong", "strong: fixed work; weak: work grows with the worker count")
	chunks := fs.Int("chunks", 0, "chunks per run (0: each kernel's own default, 16 for matmul and 64 for the others, raised to 8 per worker of the largest worker count within the usable CPUs, at most one per output item)")
	seed := fs.Uint64("seed", kernels.DefaultSeed, "seed of the inputs")
	orderSeed := fs.Uint64("order-seed", 0, "seed of each round's random order of cells (0: a fresh one, written in the file)")
	refs := fs.String("ref", "native", "references measured in the same run: native (openssl SHA-256, FP64 peak, memory probe), python (the py-* strategies: Python's multiprocessing on the same work); a list, or none")
	forks := fs.Int("forks", 1, "run the sweep in this many fresh processes, one after the other, each with 1/N of the rounds or budget: intervals then cover what differs between processes")
	out := fs.String("o", "", "result file (default results/local/<date>-<host>-<commit>.txt, which git ignores: move a result to results/ to commit it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes no arguments, got %q", fs.Args())
	}

	env := runner.CheckEnv()
	plan, err := makePlan(*kernelsFlag, *shapes, *sizes, *chunks, *seed, env.UsableCPUs)
	if err != nil {
		return err
	}
	plan.Strategies = list(*strategies)
	if len(plan.Strategies) == 0 {
		return usagef("-strategies is empty")
	}
	for _, s := range plan.Strategies {
		if err := runner.CheckStrategy(s, 1); err != nil {
			return usageError{err}
		}
		if resultfile.IsReference(s) {
			if err := pyref.Available(); err != nil {
				return usagef("-strategies %s: %v", s, err)
			}
		}
	}
	native, python, err := parseRefs(*refs)
	if err != nil {
		return err
	}
	for _, s := range list(*scheds) {
		sched, err := procpool.ParseSched(s)
		if err != nil {
			return usageError{err}
		}
		plan.Scheds = append(plan.Scheds, sched)
	}
	if len(plan.Scheds) == 0 {
		return usagef("-sched is empty")
	}
	if plan.Workers, err = parseWorkers(*workersFlag); err != nil {
		return err
	}
	if plan.Pins, err = parsePins(*pins); err != nil {
		return err
	}
	switch *scaling {
	case "strong":
	case "weak":
		plan.Weak = true
	default:
		return usagef("unknown -scaling %q (have strong, weak)", *scaling)
	}
	switch {
	case *count < 0:
		return usagef("-count %d: want 0 (adaptive) or more", *count)
	case *count == 0 && (*precision <= 0 || *precision >= 1):
		return usagef("-precision %v: want a fraction between 0 and 1", *precision)
	case *count == 0 && *budget <= 0:
		return usagef("-budget %v: want a positive duration", *budget)
	case *count == 0 && *minRounds < 1:
		return usagef("-min-rounds %d: want 1 or more", *minRounds)
	case *warmup < 0:
		return usagef("-warmup %d is negative", *warmup)
	case *jobTimeout < 0:
		return usagef("-job-timeout %v is negative", *jobTimeout)
	case *forks < 1 || *forks > maxForks:
		return usagef("-forks %d: want 1 to %d", *forks, maxForks)
	}
	if *chunks == 0 {
		spread := min(slices.Max(plan.Workers), env.UsableCPUs)
		for i, p := range plan.Configs {
			info, _ := kernels.Lookup(p.Kernel) // makePlan looked it up
			plan.Configs[i].Chunks = info.ChunksFor(p.Size, spread)
		}
	}
	plan.Count, plan.Precision, plan.Budget, plan.Warmup = *count, *precision, *budget, *warmup
	plan.OrderSeed = *orderSeed
	plan.JobTimeout = *jobTimeout
	plan.MinRounds = *minRounds
	if plan.OrderSeed == 0 {
		plan.OrderSeed = rand.Uint64()
	}
	if err := plan.Check(); err != nil {
		return usageError{err}
	}

	path := *out
	if path == "" {
		path = filepath.Join("results", "local", fmt.Sprintf("%s-%s-%s.txt", time.Now().Format("20060102-150405"), sanitize(env.Host), sanitize(env.Commit)))
	}
	if err := checkWritable(path); err != nil {
		return usageError{err}
	}
	if os.Getenv(envFork) == "" { // a fork's parent has warned already
		for _, w := range env.Warnings {
			fmt.Fprintln(stderr, "corescale: warning:", w)
		}
	}
	config, notes := runConfig(plan, *scaling, *sizes)
	config = append(env.Config, config...)
	notes = append(env.Notes, notes...)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if python {
		if info, err := pyref.Describe(ctx); err != nil {
			fmt.Fprintf(stderr, "corescale: warning: -ref python: %v; the py-* strategies are left out\n", firstLine(err.Error()))
		} else {
			for _, s := range runner.ReferenceStrategies() {
				if !slices.Contains(plan.Strategies, s) {
					plan.Strategies = append(plan.Strategies, s)
				}
			}
			config = append(config,
				resultfile.Config{Key: resultfile.ConfigPython, Value: info.Implementation + " " + info.Python},
				resultfile.Config{Key: resultfile.ConfigNumpy, Value: orNone(info.Numpy)},
				resultfile.Config{Key: resultfile.ConfigBLAS, Value: orNone(info.BLAS)})
		}
	}
	var ceilings []ceiling.Ceiling
	if native {
		// Before the sweep, while nothing else of ours runs: the probes
		// measure one core.
		if ceilings, err = ceiling.Ceilings(ctx, plan.Configs); err != nil {
			fmt.Fprintf(stderr, "corescale: warning: -ref native: %v\n", firstLine(err.Error()))
		}
	}
	var file *resultfile.File
	if *forks > 1 {
		if file, err = runForks(ctx, args, plan, *forks, python, stderr); err != nil {
			return err
		}
		notes = append(notes, resultfile.Config{Key: resultfile.NoteForks, Value: strconv.Itoa(*forks)})
	} else {
		bar := newProgress(stderr)
		plan.Progress = bar.update
		outcome, err := runner.Sweep(ctx, plan)
		bar.done()
		file = outcome.ResultFile()
		if err != nil {
			// What the finished rounds measured is kept, marked.
			if len(file.Samples) == 0 {
				return failure{err}
			}
			file.Failed = err.Error()
			file.Config, file.Notes, file.Ceilings = config, notes, ceiling.Records(ceilings)
			if werr := runner.WriteFileAtomic(path, func(w io.Writer) error { return resultfile.Write(w, file) }); werr != nil {
				return failure{fmt.Errorf("%s; writing %s: %v", firstLine(err.Error()), path, werr)}
			}
			return failure{fmt.Errorf("%s; %d samples of the finished rounds are in %s (marked failed)", firstLine(err.Error()), len(file.Samples), path)}
		}
	}

	for _, s := range file.Skipped {
		fmt.Fprintf(stderr, "corescale: skipped %s: %s\n", s.Cell.Name(), s.Reason)
	}
	if len(file.Samples) > 0 {
		file.Config, file.Notes, file.Ceilings = config, notes, ceiling.Records(ceilings)
		if err := runner.WriteFileAtomic(path, func(w io.Writer) error {
			return resultfile.Write(w, file)
		}); err != nil {
			return failure{fmt.Errorf("writing %s: %w", path, err)}
		}
	}
	for _, c := range file.Unconverged {
		if os.Getenv(envFork) != "" {
			break // the parent judges the merged rounds
		}
		fmt.Fprintf(stderr, "corescale: %s stopped at %d samples with its 95%% CI at +-%.1f%% (asked +-%.1f%%)\n",
			c.Cell.Name(), c.Samples, 100*c.HalfWidth, 100*plan.Precision)
	}
	if file.Interrupted {
		if len(file.Samples) == 0 {
			return interruptedError{fmt.Errorf("interrupted before the first round finished; no result file written")}
		}
		return interruptedError{fmt.Errorf("interrupted; %d samples of the finished rounds are in %s (marked interrupted)", len(file.Samples), path)}
	}
	fmt.Fprintln(stdout, path)
	return nil
}

// maxForks bounds -forks: each fork pays its set-up (inputs, references,
// pools, warm-up) again.
const maxForks = 64

// parseRefs reads -ref.
func parseRefs(s string) (native, python bool, err error) {
	for _, r := range list(s) {
		switch r {
		case "native":
			native = true
		case "python":
			python = true
		case "none":
		default:
			return false, false, usagef("unknown -ref %q (have native, python, none)", r)
		}
	}
	return native, python, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// makePlan turns the kernel, shape and size flags into kernel configurations.
func makePlan(kernelList, shapeList, sizeList string, chunks int, seed uint64, usableCPUs int) (runner.Plan, error) {
	var plan runner.Plan
	names, shapes, sizes := list(kernelList), list(shapeList), list(sizeList)
	if len(names) == 0 {
		return plan, usagef("-kernels is empty")
	}
	if len(sizes) == 0 {
		return plan, usagef("-size is empty")
	}
	if chunks < 0 || chunks > kernels.MaxChunks {
		return plan, usagef("-chunks %d: want 1 to %d, or 0 for each kernel's default", chunks, kernels.MaxChunks)
	}
	used := map[string]bool{}
	for _, name := range names {
		info, err := kernels.Lookup(name)
		if err != nil {
			return plan, usageError{err}
		}
		kernelShapes := info.Shapes
		if len(shapes) > 0 {
			kernelShapes = nil
			for _, s := range shapes {
				if slices.Contains(info.Shapes, s) {
					kernelShapes = append(kernelShapes, s)
					used[s] = true
				}
			}
		}
		for _, size := range sizes {
			if size == "auto" {
				size = info.AutoSize(usableCPUs)
			}
			n, err := info.NamedSize(size)
			if err != nil {
				return plan, usageError{err}
			}
			for _, shape := range kernelShapes {
				c := chunks
				if c == 0 {
					c = info.DefaultChunks()
				}
				if p := (kernels.Params{Kernel: name, Shape: shape, Size: n, Chunks: c, Seed: seed}); !slices.Contains(plan.Configs, p) {
					plan.Configs = append(plan.Configs, p) // auto may name a listed size
				}
			}
		}
	}
	for _, s := range shapes {
		if !used[s] {
			return plan, usagef("no kernel of %s has shape %q", strings.Join(names, ", "), s)
		}
	}
	return plan, nil
}

// parsePins reads -pin: a list of placement policies.
func parsePins(s string) ([]topology.Policy, error) {
	var pins []topology.Policy
	for _, item := range list(s) {
		p, err := runner.CheckPin(item)
		if err != nil {
			return nil, usagef("-pin: %v", strings.TrimPrefix(err.Error(), "runner: topology: "))
		}
		if !slices.Contains(pins, p) {
			pins = append(pins, p)
		}
	}
	if len(pins) == 0 {
		return nil, usagef("-pin is empty")
	}
	return pins, nil
}

// parseWorkers reads -workers: a list of counts, "max" meaning NumCPU.
func parseWorkers(s string) ([]int, error) {
	ncpu := runtime.NumCPU()
	if s == "" {
		return defaultWorkers(ncpu, runner.Machine().UsableCPUs(), runner.Boundaries()), nil
	}
	var counts []int
	for _, item := range list(s) {
		n := ncpu
		if item != "max" {
			var err error
			if n, err = strconv.Atoi(item); err != nil {
				return nil, usagef("-workers %q: %q is not a number", s, item)
			}
		}
		if n < 1 || n > runner.MaxWorkers {
			return nil, usagef("-workers %d: want 1 to %d", n, runner.MaxWorkers)
		}
		if !slices.Contains(counts, n) {
			counts = append(counts, n)
		}
	}
	if len(counts) == 0 {
		return nil, usagef("-workers is empty")
	}
	slices.Sort(counts)
	return counts, nil
}

// defaultWorkers is powers of two up to ncpu, ncpu itself, 2 x ncpu to
// show oversubscription, and the topology's boundaries within the usable
// CPUs (where the next worker shares a core or leaves an L3 domain or a
// NUMA node), sorted.
func defaultWorkers(ncpu, usable int, boundaries []resultfile.Boundary) []int {
	var counts []int
	for n := 1; n <= ncpu; n *= 2 {
		counts = append(counts, n)
	}
	extra := []int{ncpu, 2 * ncpu}
	for _, b := range boundaries {
		if b.Workers <= usable {
			extra = append(extra, b.Workers)
		}
	}
	for _, n := range extra {
		if !slices.Contains(counts, n) && n >= 1 && n <= runner.MaxWorkers {
			counts = append(counts, n)
		}
	}
	slices.Sort(counts)
	return counts
}

// runConfig returns the configuration and note lines of the plan: what
// changes the work is configuration, how it was sampled is a note.
func runConfig(plan runner.Plan, scaling, sizes string) (config, notes []resultfile.Config) {
	count := "adaptive"
	if plan.Count > 0 {
		count = strconv.Itoa(plan.Count)
	}
	config = []resultfile.Config{
		{Key: resultfile.ConfigScaling, Value: scaling},
		{Key: resultfile.ConfigChunks, Value: chunkList(plan)},
		{Key: resultfile.ConfigSeed, Value: strconv.FormatUint(plan.Configs[0].Seed, 10)},
	}
	notes = []resultfile.Config{
		{Key: resultfile.NoteSizes, Value: sizes},
		{Key: resultfile.NoteCount, Value: count},
		{Key: resultfile.NotePrecision, Value: strconv.FormatFloat(plan.Precision, 'g', -1, 64)},
		{Key: resultfile.NoteBudget, Value: plan.Budget.String()},
		{Key: resultfile.NoteOrderSeed, Value: strconv.FormatUint(plan.OrderSeed, 10)},
	}
	return config, notes
}

// chunkList is the chunk count of each kernel in the plan: "hash=64
// matmul=16".
func chunkList(plan runner.Plan) string {
	var items []string
	for _, p := range plan.Configs {
		if item := p.Kernel + "=" + strconv.Itoa(p.Chunks); !slices.Contains(items, item) {
			items = append(items, item)
		}
	}
	slices.Sort(items)
	return strings.Join(items, " ")
}

// checkWritable fails early, before a long sweep, when the result file's
// directory cannot be created or written.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".corescale-check-*")
	if err != nil {
		return fmt.Errorf("cannot write to %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == os.PathSeparator {
			return '_'
		}
		return r
	}, s)
}
