package resultfile_test

import (
	"errors"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corescale/corescale/analysis"
	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner"
	"github.com/corescale/corescale/runner/procpool"
)

// outcome is what a sweep of two forks could have measured: every kind of
// fact a result file holds.
func outcome() runner.Outcome {
	p := kernels.Params{Kernel: "hash", Shape: "uniform", Size: 64 << 20, Chunks: 64, Seed: 1}
	work := kernels.Work{Amount: 64 << 20, Unit: "B"}
	cells := []runner.Cell{
		{Params: p, Strategy: resultfile.Serial, Sched: procpool.Dynamic, Workers: 1},
		{Params: p, Strategy: resultfile.SerialAA, Sched: procpool.Dynamic, Workers: 1},
	}
	for _, s := range []string{resultfile.Goroutines, resultfile.Procpool} {
		for _, sched := range []procpool.Sched{procpool.Dynamic, procpool.Static} {
			for _, w := range []int{1, 2, 4} {
				cells = append(cells, runner.Cell{Params: p, Strategy: s, Sched: sched, Workers: w})
			}
		}
	}
	out := runner.Outcome{Interrupted: true, Rounds: map[string][]int{runner.KernelName(p): {4, 3}}}
	for round := range 7 {
		for i, c := range cells {
			wall := time.Duration(40e6/c.Workers + 1e5*round + 1e3*i)
			t := runner.Timing{Wall: wall}
			for w := range c.Workers {
				t.Span = append(t.Span, wall*9/10-time.Duration(w)*time.Microsecond)
				t.Wait = append(t.Wait, time.Duration(w)*time.Millisecond)
			}
			clock := time.Duration(650e3 + 1e3*round)
			out.Samples = append(out.Samples, runner.Sample{Cell: c, Work: work, Timing: t, Clock: clock})
		}
	}
	out.Startups = []runner.Startup{
		{Cell: runner.Cell{Params: p, Strategy: resultfile.Procpool, Workers: 2}, Duration: 3 * time.Millisecond},
		{Cell: runner.Cell{Params: p, Strategy: resultfile.Procpool, Workers: 4}, Duration: 5 * time.Millisecond},
	}
	out.Unconverged = []runner.Convergence{{Cell: cells[3], Samples: 100, HalfWidth: 0.031}}
	out.Skipped = []runner.Skip{{Cell: runner.Cell{Params: p, Strategy: resultfile.PyPool, Sched: procpool.Static, Workers: 4}, Err: errors.New("no numpy\nsecond line")}}
	return out
}

func ceilings() []resultfile.Ceiling {
	return []resultfile.Ceiling{
		{Kernel: "hash", Source: "openssl-sha256", Cores: 1, Value: 2.07e9, Unit: "B/s", How: "measured in 1s: openssl speed"},
		// A skipped ceiling between measured ones reads back in its place.
		{Kernel: "matmul", Source: "openblas-dgemm", Cores: 1, How: "OpenBLAS not found", Skipped: true},
		{Kernel: "search", Source: "memory-latency", Lanes: 32, Cores: 1, Value: 27.5, Unit: resultfile.UnitLoad, How: "measured: a probe"},
		{Kernel: "search", Source: "memory-probe", Size: "4Mi", Cores: 2, Value: 1.2e7, Unit: "queries/s", How: "derived: 2 x"},
		{Kernel: "hash", Source: "openssl-sha256", Cores: 2, How: "openssl not found", Skipped: true},
	}
}

// writeOutcome writes the outcome as corescale run does and returns the
// file's path.
func writeOutcome(t *testing.T, out runner.Outcome, config, notes []resultfile.Config) string {
	t.Helper()
	f := out.ResultFile()
	f.Config, f.Notes, f.Ceilings = config, notes, ceilings()
	path := filepath.Join(t.TempDir(), "results.txt")
	if err := runner.WriteFileAtomic(path, func(w io.Writer) error { return resultfile.Write(w, f) }); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWhatRunnerWritesAnalysisReads writes a sweep's outcome the way
// corescale run does and reads it back the way corescale report does:
// every fact must survive, so that neither side can change a name, a key
// or a unit alone.
func TestWhatRunnerWritesAnalysisReads(t *testing.T) {
	out := outcome()
	config := []resultfile.Config{{Key: resultfile.ConfigNCPU, Value: "2"}, {Key: resultfile.ConfigScaling, Value: "strong"}}
	notes := []resultfile.Config{{Key: resultfile.NoteCommit, Value: "abc123"}, {Key: resultfile.NoteOrderSeed, Value: "7"}}
	path := writeOutcome(t, out, config, notes)

	set, err := analysis.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f := set.Files[0]
	if !f.Interrupted || f.Config[resultfile.ConfigNCPU] != "2" || f.Config[resultfile.NoteCommit] != "abc123" || f.Config[resultfile.NoteOrderSeed] != "7" {
		t.Errorf("file facts: %+v", f)
	}

	byName := map[string]*analysis.Cell{}
	for _, c := range set.Cells {
		byName[c.Name] = c
	}
	seen := map[string]int{}
	for _, s := range out.Samples {
		c := byName[s.Cell.Name()]
		if c == nil {
			t.Fatalf("no cell %s read back", s.Cell.Name())
		}
		k := seen[c.Name]
		seen[c.Name]++
		if c.Kernel != "Hash" || c.Shape != "uniform" || c.Size != "64Mi" || c.Strategy != s.Cell.Strategy || c.Sched != s.Cell.Sched.String() || !strings.Contains(c.Name, "/sched=") || c.Workers != s.Cell.Workers {
			t.Errorf("%s read back as %+v", s.Cell.Name(), c)
		}
		if wantFork := min(1, k/4); c.Rounds[k] != k || c.Forks[k] != wantFork {
			t.Errorf("%s sample %d: round %d fork %d, want %d and %d", c.Name, k, c.Rounds[k], c.Forks[k], k, wantFork)
		}
		var busyMax, busyMean, waitMean float64
		for i, b := range s.Timing.Span {
			busyMax = max(busyMax, b.Seconds())
			busyMean += b.Seconds() / float64(len(s.Timing.Span))
			waitMean += s.Timing.Wait[i].Seconds() / float64(len(s.Timing.Span))
		}
		for unit, want := range map[string]float64{
			analysis.UnitTime:     s.Timing.Wall.Seconds(),
			"B/s":                 s.Work.Amount / s.Timing.Wall.Seconds(),
			analysis.UnitSpanMax:  busyMax,
			analysis.UnitSpanMean: busyMean,
			analysis.UnitWaitMean: waitMean,
			analysis.UnitClock:    s.Clock.Seconds(),
		} {
			if got := c.Values[unit]; len(got) <= k || math.Abs(got[k]-want) > 1e-9*math.Abs(want) {
				t.Errorf("%s sample %d: %s = %v, want %g", c.Name, k, unit, got, want)
			}
		}
	}
	if len(set.Cells) != len(seen) {
		t.Errorf("read %d cells, wrote %d", len(set.Cells), len(seen))
	}

	if len(set.Startups) != len(out.Startups) {
		t.Fatalf("start-ups read back: %d, want %d", len(set.Startups), len(out.Startups))
	}
	for i, s := range out.Startups {
		got := set.Startups[i]
		if got.Config.String() != runner.KernelName(s.Cell.Params) || got.Strategy != s.Cell.Strategy || got.Workers != s.Cell.Workers || got.Seconds[0] != s.Duration.Seconds() {
			t.Errorf("start-up %d read back as %+v", i, got)
		}
	}
	var measured []string
	for _, c := range ceilings() {
		if !c.Skipped {
			measured = append(measured, c.Kernel+"/"+c.Source+"/"+c.Size)
		}
	}
	var got []string
	for _, c := range set.Ceilings {
		got = append(got, c.Kernel+"/"+c.Source+"/"+c.Size)
	}
	if !slices.Equal(got, measured) {
		t.Errorf("ceilings read back: %v, want %v", got, measured)
	}
	if set.Units.GetBetter("B/s") != 1 || set.Units.GetBetter(analysis.UnitSpanMax) != -1 {
		t.Error("unit metadata lost")
	}
}

// TestFileRoundTrip writes a file and reads it back with resultfile alone:
// the notes (skips, unconverged cells, ceilings' methods, rounds) too.
func TestFileRoundTrip(t *testing.T) {
	out := outcome()
	path := writeOutcome(t, out, nil, []resultfile.Config{{Key: resultfile.NoteDate, Value: "2026-12-01T00:00:00Z"}})
	f, err := resultfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := out.ResultFile()
	if len(f.Samples) != len(want.Samples) {
		t.Fatalf("read %d samples, wrote %d", len(f.Samples), len(want.Samples))
	}
	for i, s := range want.Samples {
		if f.Samples[i].Cell != s.Cell || !slices.Equal(f.Samples[i].Values, s.Values) {
			t.Errorf("sample %d: %+v, want %+v", i, f.Samples[i], s)
		}
	}
	if !slices.Equal(f.Startups, want.Startups) || !slices.Equal(f.Unconverged, want.Unconverged) {
		t.Errorf("start-ups %+v unconverged %+v; want %+v %+v", f.Startups, f.Unconverged, want.Startups, want.Unconverged)
	}
	if len(f.Skipped) != 1 || f.Skipped[0].Cell != want.Skipped[0].Cell || f.Skipped[0].Reason != "no numpy" {
		t.Errorf("skipped: %+v", f.Skipped)
	}
	if !slices.Equal(f.Ceilings, ceilings()) {
		t.Errorf("ceilings:\n%+v\nwant\n%+v", f.Ceilings, ceilings())
	}
	if !f.Interrupted || f.Get(resultfile.NoteDate) != "2026-12-01T00:00:00Z" || !slices.Equal(f.Rounds["Hash/shape=uniform/size=64Mi"], []int{4, 3}) {
		t.Errorf("interrupted %v, date %q, rounds %v", f.Interrupted, f.Get(resultfile.NoteDate), f.Rounds)
	}
}

func TestSchedNamesAreProcpools(t *testing.T) {
	if procpool.Dynamic.String() != resultfile.SchedDynamic || procpool.Static.String() != resultfile.SchedStatic {
		t.Errorf("procpool writes %v and %v, the result format %s and %s", procpool.Dynamic, procpool.Static, resultfile.SchedDynamic, resultfile.SchedStatic)
	}
}

// TestBenchstatReadsResults runs the module's pinned benchstat on a file:
// it pivots on the strategy and on the worker count.
func TestBenchstatReadsResults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds benchstat")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	path := writeOutcome(t, outcome(), nil, nil)
	for _, tt := range []struct {
		col  string
		want []string
	}{
		{"/strategy", []string{resultfile.Serial, resultfile.SerialAA, resultfile.Goroutines, resultfile.Procpool}},
		{"/workers", []string{"1", "2", "4"}},
	} {
		out, err := exec.Command("go", "tool", "benchstat", "-col", tt.col, "-filter", ".name:Hash", path).CombinedOutput()
		if err != nil {
			t.Fatalf("benchstat -col %s: %v\n%s", tt.col, err, out)
		}
		header := ""
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "│") && strings.Contains(line, tt.want[0]) {
				header = line
				break
			}
		}
		for _, w := range tt.want {
			if !strings.Contains(header, w) {
				t.Errorf("benchstat -col %s header %q lacks %q\n%s", tt.col, header, w, out)
			}
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int]string{128: "128", 512: "512", 1024: "1024", 645: "645", 1 << 16: "64Ki", 1 << 22: "4Mi", 64 << 20: "64Mi", 100_003: "100003"} {
		if got := resultfile.FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestPlainBenchstatComparesTwoRuns runs benchstat old new, as Go users do,
// on two runs of one sweep that differ in date, load and commit: one table
// with a vs base column. Runs of other sizes are not compared with them.
func TestPlainBenchstatComparesTwoRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds benchstat")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	config := []resultfile.Config{{Key: resultfile.ConfigCPU, Value: "test CPU"}, {Key: resultfile.ConfigNCPU, Value: "2"}}
	run := func(date, commit, load string) []resultfile.Config {
		return []resultfile.Config{{Key: resultfile.NoteDate, Value: date}, {Key: resultfile.NoteCommit, Value: commit}, {Key: resultfile.NoteLoadavg, Value: load}}
	}
	old := writeOutcome(t, outcome(), config, run("2026-12-01T10:00:00Z", "aaa", "0.10"))
	new := writeOutcome(t, outcome(), config, run("2026-12-01T11:00:00Z", "bbb", "0.93"))
	out, err := exec.Command("go", "tool", "benchstat", old, new).CombinedOutput()
	if err != nil {
		t.Fatalf("benchstat old new: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`sec/op.*sec/op\s+vs base`).Match(out) || !strings.Contains(string(out), "~ (p=") {
		t.Errorf("benchstat old new: want a sec/op table comparing new with old:\n%s", out)
	}

	other := outcome()
	for i := range other.Samples {
		other.Samples[i].Cell.Params.Size = 4 << 20
	}
	other.Rounds = map[string][]int{runner.KernelName(other.Samples[0].Cell.Params): {4, 3}}
	small := writeOutcome(t, other, config, run("2026-12-01T12:00:00Z", "bbb", "0.50"))
	out, err = exec.Command("go", "tool", "benchstat", "-filter", ".name:Hash", old, small).CombinedOutput()
	if err != nil {
		t.Fatalf("benchstat old small: %v\n%s", err, out)
	}
	delta := regexp.MustCompile(`\s(~|[+-]\d+\.\d+%)\s`)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "size=") && delta.MatchString(line+" ") {
			t.Errorf("benchstat compared cells of different sizes: %q", line)
		}
	}
}

// TestAnOldResultFileStillReports reads a committed result file written
// before this package existed (run facts as configuration lines, busy
// times, serial under two scheds): analysis must still report it.
func TestAnOldResultFileStillReports(t *testing.T) {
	path := "../results/old-format-20261126-175620-vm-7b463e7001f6.txt"
	set, err := analysis.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if set.Files[0].Config[resultfile.NoteCommit] != "7b463e7001f6" || len(set.Cells) == 0 {
		t.Errorf("old file: commit %q, %d cells", set.Files[0].Config[resultfile.NoteCommit], len(set.Cells))
	}
	var text strings.Builder
	if err := analysis.NewReport(set).WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Noise floor", "Hash/shape=uniform/size=64Mi", "serial/static"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the old file's report lacks %q", want)
		}
	}
}

func TestWhichStrategiesRunInWorkerProcesses(t *testing.T) {
	for _, tt := range []struct {
		strategy string
		want     bool
	}{
		{resultfile.Serial, false}, {resultfile.SerialAA, false}, {resultfile.Goroutines, false},
		{resultfile.Procpool, true}, {resultfile.PySerial, true}, {resultfile.PyThreads, true}, {resultfile.PyPool, true}, {resultfile.PyPoolShm, true},
	} {
		if got := resultfile.InWorkerProcesses(tt.strategy); got != tt.want {
			t.Errorf("InWorkerProcesses(%q) = %v, want %v", tt.strategy, got, tt.want)
		}
	}
}
