package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner"
)

func init() {
	register(command{name: "bench", args: "PKG [flags]", summary: "a package's go test benchmarks at each -cpu value, round by round", run: benchCmd})
}

const benchSummary = `Builds the test binary of one package (go test -c) and runs its benchmarks
round after round: each round runs the binary once at every -cpu value, in a
fresh random order, so that drift of the machine hits every worker count
alike. Writes one result file in the Go benchmark format, with the machine
and the package's commit, that report, compare, gate and benchstat read
(benchstat -col /gomaxprocs FILE). Flags may come before or after PKG.`

// benchPlan is what corescale bench runs.
type benchPlan struct {
	pkg       goPackage
	bench     string // -test.bench
	cpus      []int
	rounds    int
	benchtime string
	orderSeed uint64
}

// A goPackage is a package as go list describes it.
type goPackage struct {
	ImportPath, Dir, ModuleDir string
}

func benchCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "PKG [flags]", benchSummary, stderr)
	benchRE := fs.String("bench", ".", "benchmarks to run, as go test -bench takes them")
	cpuFlag := fs.String("cpu", "", "GOMAXPROCS values, two or more (default: powers of two up to NumCPU, and NumCPU)")
	count := fs.Int("count", resultfileMinRounds, "rounds: each runs every benchmark once at every -cpu value (6 or more give 95% intervals)")
	benchtime := fs.String("benchtime", "100ms", "run time of each benchmark at each -cpu value per round, a duration or Nx, as go test -benchtime takes it")
	orderSeed := fs.Uint64("order-seed", 0, "seed of each round's random order of -cpu values (0: a fresh one, written in the file)")
	out := fs.String("o", "", "result file (default bench-<package>-<date>.txt in the working directory)")
	// Flags may follow the package, as in go test.
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("bench needs a package, e.g. corescale bench sync")
	}
	pkgArg := fs.Arg(0)
	if err := parse(fs, fs.Args()[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench takes one package, got %q and %q", pkgArg, fs.Args())
	}
	plan := benchPlan{bench: *benchRE, rounds: *count, benchtime: *benchtime, orderSeed: *orderSeed}
	if _, err := regexp.Compile(plan.bench); err != nil {
		return usagef("-bench %q: %v", plan.bench, err)
	}
	if err := checkBenchtime(plan.benchtime); err != nil {
		return err
	}
	if plan.rounds < 1 {
		return usagef("-count %d: want 1 or more rounds", plan.rounds)
	}
	var err error
	if plan.cpus, err = parseCPUs(*cpuFlag); err != nil {
		return err
	}
	if plan.orderSeed == 0 {
		plan.orderSeed = rand.Uint64()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if plan.pkg, err = listPackage(ctx, pkgArg); err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = fmt.Sprintf("bench-%s-%s.txt", sanitize(plan.pkg.ImportPath), time.Now().Format("20060102-150405"))
	}
	if err := checkWritable(path); err != nil {
		return usageError{err}
	}
	tmp, err := os.MkdirTemp("", "corescale-bench-")
	if err != nil {
		return failure{err}
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "pkg.test")
	if err := buildTest(ctx, plan.pkg, bin); err != nil {
		return err
	}
	// After the build, which is no measurement: its load is gone. The
	// warnings wait until the benchmarks are known to exist.
	env := runner.CheckEnv()
	file := &resultfile.File{Config: benchConfig(env), Notes: benchNotes(env, plan)}
	rounds, err := runRounds(ctx, plan, bin, file, stderr, func() {
		for _, w := range env.Warnings {
			fmt.Fprintln(stderr, "corescale: warning:", w)
		}
	})
	if rounds > 0 {
		file.Rounds = map[string][]int{}
		for _, s := range file.Samples {
			file.Rounds[s.Cell.ConfigName()] = []int{rounds}
		}
	}
	var interrupted interruptedError
	switch {
	case errors.As(err, &interrupted) && rounds == 0:
		return interruptedError{errors.New("interrupted before the first round finished; no result file written")}
	case errors.As(err, &interrupted):
		file.Interrupted = true
	case err != nil && rounds == 0:
		return err
	case err != nil:
		file.Failed = err.Error()
	}
	if werr := runner.WriteFileAtomic(path, func(w io.Writer) error { return resultfile.Write(w, file) }); werr != nil {
		return failure{fmt.Errorf("writing %s: %w", path, werr)}
	}
	switch {
	case file.Interrupted:
		return interruptedError{fmt.Errorf("interrupted; %d samples of the finished rounds are in %s (marked interrupted)", len(file.Samples), path)}
	case err != nil:
		return failure{fmt.Errorf("%s; %d samples of the finished rounds are in %s (marked failed)", firstLine(err.Error()), len(file.Samples), path)}
	}
	fmt.Fprintln(stdout, path)
	return nil
}

// resultfileMinRounds is the default round count: the fewest samples a
// 95% interval of a median (benchmath) or of a paired ratio needs.
const resultfileMinRounds = 6

// checkBenchtime accepts what go test's -benchtime does: a positive
// duration or a positive count of iterations, Nx.
func checkBenchtime(s string) error {
	if n, ok := strings.CutSuffix(s, "x"); ok {
		if v, err := strconv.Atoi(n); err == nil && v > 0 {
			return nil
		}
		return usagef("-benchtime %s: want a positive count, e.g. 100x", s)
	}
	if d, err := time.ParseDuration(s); err != nil || d <= 0 {
		return usagef("-benchtime %s: want a positive duration or Nx, e.g. 100ms", s)
	}
	return nil
}

// parseCPUs reads -cpu: two or more distinct GOMAXPROCS values.
func parseCPUs(s string) ([]int, error) {
	if s == "" {
		ncpu := max(2, runtime.NumCPU()) // on one CPU, 2 shows time slicing: there is no scaling to see
		var cpus []int
		for n := 1; n < ncpu; n *= 2 {
			cpus = append(cpus, n)
		}
		return append(cpus, ncpu), nil
	}
	var cpus []int
	for _, item := range list(s) {
		n, err := strconv.Atoi(item)
		if err != nil || n < 1 || n > runner.MaxWorkers {
			return nil, usagef("-cpu %s: %q is no GOMAXPROCS value (want 1 to %d)", s, item, runner.MaxWorkers)
		}
		if !slices.Contains(cpus, n) {
			cpus = append(cpus, n)
		}
	}
	if len(cpus) < 2 {
		return nil, usagef("-cpu %q: want two or more values, e.g. 1,2, to measure scaling", s)
	}
	slices.Sort(cpus)
	return cpus, nil
}

// listPackage resolves PKG with go list: exactly one package.
func listPackage(ctx context.Context, pkg string) (goPackage, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{with .Module}}{{.Dir}}{{end}}", "--", pkg)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return goPackage{}, interruptedError{errors.New("interrupted before the first round")}
	}
	if err != nil {
		return goPackage{}, usagef("bench %s: %s", pkg, firstLine(strings.TrimSpace(cmp.Or(errOut.String(), err.Error()))))
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		lines = nil
	}
	if len(lines) != 1 {
		return goPackage{}, usagef("bench %s: the pattern matches %d packages, want one", pkg, len(lines))
	}
	f := strings.Split(lines[0], "\t")
	if len(f) != 3 {
		return goPackage{}, failure{fmt.Errorf("go list %s printed %q", pkg, lines[0])}
	}
	return goPackage{ImportPath: f[0], Dir: f[1], ModuleDir: f[2]}, nil
}

// groupCommand returns a command that runs in a process group of its own
// and is killed with the whole group when ctx is done: a test binary's
// children (pool workers, tools it runs) go with it.
func groupCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// buildTest builds the package's test binary once.
func buildTest(ctx context.Context, pkg goPackage, bin string) error {
	cmd := groupCommand(ctx, "go", "test", "-c", "-o", bin, pkg.ImportPath)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return interruptedError{errors.New("interrupted while building the test binary; no result file written")}
	}
	if err != nil {
		return failure{fmt.Errorf("go test -c %s: %v: %s", pkg.ImportPath, err, firstLine(strings.TrimSpace(string(out))))}
	}
	if _, err := os.Stat(bin); err != nil {
		return usagef("bench %s: the package has no test files", pkg.ImportPath)
	}
	return nil
}

// runRounds runs the rounds and appends their samples to file, whole
// rounds only, and returns how many finished. A round runs the test binary
// once at each -cpu value, in an order drawn afresh from the seeded
// generator; the k-th sample of every benchmark is then round k's, which
// is how result files place samples (see resultfile).
func runRounds(ctx context.Context, plan benchPlan, bin string, file *resultfile.File, stderr io.Writer, started func()) (int, error) {
	rng := rand.New(rand.NewPCG(plan.orderSeed, plan.orderSeed^0x636f726573))
	start := time.Now()
	for round := range plan.rounds {
		order := slices.Clone(plan.cpus)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var samples []resultfile.Sample
		byCPU := map[int][]resultfile.Sample{}
		for _, n := range order {
			got, err := runTestBinary(ctx, plan, bin, n)
			if err != nil {
				return round, fmt.Errorf("round %d, -cpu %d: %w", round+1, n, err)
			}
			if round == 0 && len(samples) == 0 {
				if len(got.Samples) == 0 {
					return 0, usagef("bench %s: no benchmark matches -bench %q", plan.pkg.ImportPath, plan.bench)
				}
				started()
			}
			for _, c := range got.Config {
				if c.Key == resultfile.ConfigPkg && !slices.Contains(file.Config, c) {
					file.Config = append(file.Config, c)
				}
			}
			for _, s := range got.Samples {
				s.Name = resultfile.NameWithGomaxprocs(s.Name, n)
				byCPU[n] = append(byCPU[n], s)
			}
			samples = append(samples, byCPU[n]...)
		}
		// Written in -cpu order (the order they ran in follows from the
		// seed), so that benchstat's columns come in that order too.
		for _, n := range plan.cpus {
			file.Samples = append(file.Samples, byCPU[n]...)
		}
		fmt.Fprintf(stderr, "corescale: round %d of %d done (%v)\n", round+1, plan.rounds, time.Since(start).Round(time.Second))
	}
	return plan.rounds, nil
}

// runTestBinary runs the test binary's benchmarks once at GOMAXPROCS n.
// GOMAXPROCS is set in its environment as well as by -test.cpu: testing
// makes a benchmark's first call before it sets GOMAXPROCS to the -cpu
// value (golang/go#49980), and with b.Loop that call is the measured one.
func runTestBinary(ctx context.Context, plan benchPlan, bin string, n int) (*resultfile.File, error) {
	cmd := groupCommand(ctx, bin, "-test.run", "^$", "-test.bench", plan.bench, "-test.benchtime", plan.benchtime,
		"-test.count", "1", "-test.cpu", strconv.Itoa(n))
	cmd.Dir = plan.pkg.Dir // as go test runs it: tests read testdata/ relative to it
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(n))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, interruptedError{ctx.Err()}
	}
	if err != nil {
		why := strings.TrimSpace(errOut.String())
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, "FAIL") || strings.HasPrefix(strings.TrimSpace(line), "panic:") {
				why = strings.TrimSpace(line)
				break
			}
		}
		return nil, fmt.Errorf("the test binary failed (%v): %s", err, firstLine(why))
	}
	f, err := resultfile.Read(&out, "the test binary's output")
	if errors.Is(err, resultfile.ErrNoResults) {
		return &resultfile.File{}, nil
	}
	return f, err
}

// benchConfig is the file's configuration: the machine, as corescale run
// records it, without corescale's own GOMAXPROCS (each sample's is in its
// name); go test's pkg line joins it from the first run.
func benchConfig(env runner.Env) []resultfile.Config {
	return slices.DeleteFunc(slices.Clone(env.Config), func(c resultfile.Config) bool { return c.Key == resultfile.ConfigGomaxprocs })
}

// benchNotes are the run's notes: corescale run's, with the commit of the
// package's module (when it is in a git work tree) instead of corescale's,
// and how the rounds were run.
func benchNotes(env runner.Env, plan benchPlan) []resultfile.Config {
	notes := slices.DeleteFunc(slices.Clone(env.Notes), func(c resultfile.Config) bool { return c.Key == resultfile.NoteCommit })
	if plan.pkg.ModuleDir != "" {
		if rev, ok := runner.GitCommit(plan.pkg.ModuleDir); ok {
			notes = append(notes, resultfile.Config{Key: resultfile.NoteCommit, Value: rev})
		}
	}
	return append(notes,
		resultfile.Config{Key: resultfile.NoteCount, Value: strconv.Itoa(plan.rounds)},
		resultfile.Config{Key: resultfile.NoteBenchtime, Value: plan.benchtime},
		resultfile.Config{Key: resultfile.NoteOrderSeed, Value: strconv.FormatUint(plan.orderSeed, 10)})
}
