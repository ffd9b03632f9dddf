package analysis

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/corescale/corescale/resultfile"
)

// Units as analysis holds them: tidied as benchfmt reports them (ns/op is
// sec/op, the busy times busy-max-sec/op and so on).
var (
	UnitTime     = resultfile.TidyUnit(resultfile.UnitTime)
	UnitSpanMax  = resultfile.TidyUnit(resultfile.UnitSpanMax)
	UnitSpanMean = resultfile.TidyUnit(resultfile.UnitSpanMean)
	UnitWaitMean = resultfile.TidyUnit(resultfile.UnitWaitMean)
	// Files before the spans had busy times: time inside chunks.
	UnitBusyMax  = resultfile.TidyUnit(resultfile.UnitBusyMax)
	UnitBusyMean = resultfile.TidyUnit(resultfile.UnitBusyMean)
)

// A Set holds the samples of one or more result files.
type Set struct {
	Files    []File
	Cells    []*Cell    // in the order their first sample appears
	Startups []*Startup // pool start-ups, when the files have any
	Ceilings []*Ceiling // throughput bounds measured in the same runs
	// Unconverged lists cells that stopped short of their precision.
	Unconverged []Unconverged
	Units       benchfmt.UnitMetadataMap
}

// An Unconverged cell stopped before its interval was as tight as asked.
type Unconverged struct {
	File      int
	Config    string // its kernel configuration, as Config.String writes it
	Name      string
	Samples   int
	HalfWidth float64
}

// A File is one result file that was read.
type File struct {
	Path string
	// Label tells the file apart from the others read with it: the
	// configuration keys whose values differ between the files (such as
	// "commit=abc123"), or else its name.
	Label       string
	Config      map[string]string // the last value of each configuration key
	Interrupted bool
	Failed      string // why the sweep stopped on an error, if it did
	// Packages are the packages whose benchmarks the file holds (go
	// test's pkg lines), in order.
	Packages []string
}

// A Cell is every sample of one benchmark in one file.
type Cell struct {
	File   int    // index into Set.Files
	Name   string // full name without "Benchmark"
	Kernel string // the benchmark's base name: Matmul, Hash, Search
	Shape  string
	Size   string // the size it ran
	// PerWorker is, under weak scaling, the size per worker its size
	// grew from: the cells of a configuration share it.
	PerWorker string
	Strategy  string
	Sched     string
	// Pin is the placement policy that pinned the workers to CPUs; ""
	// when they were not pinned.
	Pin     string
	Workers int
	// Bench is, for a benchmark that is not a corescale cell (go test
	// output of any package), its name without the worker count: each is
	// a scaling curve of its own (see resultfile.Cell.Bench).
	Bench string
	// Paired reports whether the samples were taken in rounds, so that
	// same-round samples of two cells pair up; go test output has none.
	Paired bool
	// Unread are the parts of the name the cell does not hold (see
	// resultfile.Sample.Unread).
	Unread []string
	// Values holds the samples of each unit (tidied: sec/op, B/s,
	// FLOP/s, queries/s, busy-max-sec/op, ...), in file order.
	Values map[string][]float64
	// Rounds and Forks place each sample (in the order of Values) in its
	// sweep: same-round samples of two cells were measured side by side.
	Rounds, Forks []int
	// clockFactor is, per sample, the factor its time is divided by in
	// ratios (see adjustClock); nil: not adjusted.
	clockFactor []float64
}

// Config returns the cell's kernel configuration, which its scaling curve
// shares with other cells: the file, kernel, shape and size.
func (c *Cell) Config() Config {
	return configOf(c.File, resultfile.Cell{Kernel: c.Kernel, Shape: c.Shape, Size: c.Size, PerWorker: c.PerWorker, Bench: c.Bench})
}

func configOf(file int, c resultfile.Cell) Config {
	if c.Bench != "" {
		return Config{File: file, Kernel: c.Kernel, Bench: c.Bench}
	}
	if c.PerWorker != "" {
		return Config{File: file, Kernel: c.Kernel, Shape: c.Shape, Size: c.PerWorker, PerWorker: true}
	}
	return Config{File: file, Kernel: c.Kernel, Shape: c.Shape, Size: c.Size}
}

// A Config identifies a kernel configuration within a set.
type Config struct {
	File                int
	Kernel, Shape, Size string
	// PerWorker marks Size as the size per worker (weak scaling).
	PerWorker bool
	// Bench names a go test benchmark (see Cell.Bench), which is a
	// configuration of its own.
	Bench string
}

// String is the configuration's name, as result files write it.
func (c Config) String() string {
	r := resultfile.Cell{Kernel: c.Kernel, Shape: c.Shape, Size: c.Size, Bench: c.Bench}
	if c.PerWorker {
		r.PerWorker = c.Size
	}
	return r.ConfigName()
}

// A Startup is the measured start-up time of one strategy's workers.
type Startup struct {
	File     int
	Config   Config
	Strategy string
	Workers  int
	Seconds  []float64
}

// ErrInput marks errors in the files given: unreadable, empty, malformed or
// without results. Commands report them with exit status 2.
var ErrInput = errors.New("bad input")

func inputError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, args...)...)
}

// Read reads result files. Every file must be readable, well formed and
// hold at least one benchmark result.
func Read(paths ...string) (*Set, error) {
	if len(paths) == 0 {
		return nil, inputError("no result files given")
	}
	s := &Set{Units: benchfmt.UnitMetadataMap{}}
	index := map[string]*Cell{}
	for i, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, inputError("%v", err)
		}
		err = s.read(f, path, i, index)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	s.label()
	return s, nil
}

func (s *Set) read(r io.Reader, path string, file int, index map[string]*Cell) error {
	rf, err := resultfile.Read(r, path)
	if errors.Is(err, resultfile.ErrNoResults) {
		return inputError("%s has no benchmark results", path)
	}
	if err != nil {
		return inputError("%v", err)
	}
	f := File{Path: path, Config: map[string]string{}, Interrupted: rf.Interrupted, Failed: rf.Failed}
	for _, list := range [][]resultfile.Config{rf.Config, rf.Notes} {
		for _, c := range list {
			f.Config[c.Key] = c.Value
			if c.Key == resultfile.ConfigPkg && !slices.Contains(f.Packages, c.Value) {
				f.Packages = append(f.Packages, c.Value)
			}
		}
	}
	for k, u := range rf.Units {
		s.Units[k] = u
	}
	for _, smp := range rf.Samples {
		s.add(smp, file, rf.Rounded, index)
	}
	for _, st := range rf.Startups {
		s.addStartup(st, file)
	}
	for _, u := range rf.Unconverged {
		s.Unconverged = append(s.Unconverged, Unconverged{File: file, Config: u.Cell.ConfigName(), Name: u.Cell.Name(), Samples: u.Samples, HalfWidth: u.HalfWidth})
	}
	for _, c := range rf.Ceilings {
		if !c.Skipped {
			value, unit := resultfile.Tidy(c.Value, c.Unit)
			s.Ceilings = append(s.Ceilings, &Ceiling{File: file, Kernel: c.Kernel, Source: c.Source,
				Size: c.Size, Cores: c.Cores, Unit: unit, Value: value})
		}
	}
	s.Files = append(s.Files, f)
	return nil
}

func (s *Set) add(smp resultfile.Sample, file int, rounded bool, index map[string]*Cell) {
	id := strconv.Itoa(file) + "\x00" + smp.Name
	c := index[id]
	if c == nil {
		r := smp.Cell
		c = &Cell{
			File: file, Name: smp.Name, Kernel: r.Kernel,
			Shape: r.Shape, Size: r.Size, PerWorker: r.PerWorker, Strategy: r.Strategy, Sched: r.Sched, Pin: r.Pin, Workers: r.Workers,
			Bench: r.Bench, Paired: rounded, Unread: smp.Unread, Values: map[string][]float64{},
		}
		index[id] = c
		s.Cells = append(s.Cells, c)
	}
	c.Rounds = append(c.Rounds, smp.Round)
	c.Forks = append(c.Forks, smp.Fork)
	// A unit's k-th value is the cell's k-th sample's, placed by Rounds[k]
	// and Forks[k]: a line that names a unit twice gives it its first
	// value only, so that no unit holds more values than the cell has
	// samples.
	seen := map[string]bool{}
	for _, v := range smp.Values {
		value, unit := resultfile.Tidy(v.Value, v.Unit)
		if !seen[unit] {
			seen[unit] = true
			c.Values[unit] = append(c.Values[unit], value)
		}
	}
}

func (s *Set) addStartup(st resultfile.Startup, file int) {
	cfg := configOf(file, st.Cell)
	for _, have := range s.Startups {
		if have.Config == cfg && have.Strategy == st.Cell.Strategy && have.Workers == st.Cell.Workers {
			have.Seconds = append(have.Seconds, st.Seconds)
			return
		}
	}
	s.Startups = append(s.Startups, &Startup{File: file, Config: cfg, Strategy: st.Cell.Strategy, Workers: st.Cell.Workers, Seconds: []float64{st.Seconds}})
}

// A Ceiling is a bound on a kernel's throughput on the machine of a file:
// a tool doing the same work (openssl), the hardware's peak, or a probe of
// what limits the kernel.
type Ceiling struct {
	File   int
	Kernel string // lower case, as in kernel=hash
	Source string // openssl-sha256, fp64-peak, memory-probe, ...
	Size   string // the kernel size it is for, or "" for any
	Cores  int
	Unit   string // tidied
	Value  float64
}

// Ceiling returns the ceiling of a point's throughput: for its kernel, unit
// and size, on as many cores as its workers can use (at most ncpu; 0 for no
// limit), or nil.
func (s *Set) Ceiling(c *Cell, unit string, ncpu int) *Ceiling {
	cores := c.Workers
	if ncpu > 0 {
		cores = min(cores, ncpu)
	}
	for _, ce := range s.Ceilings {
		if ce.File == c.File && strings.EqualFold(ce.Kernel, c.Kernel) && ce.Unit == unit && ce.Cores == cores && (ce.Size == "" || ce.Size == c.Size) {
			return ce
		}
	}
	return nil
}

// label names each file by the configuration keys that tell it apart from
// the others (host, commit, cpu, ...) and that it has, ignoring the date,
// load and order seed, which differ between any two runs; a file alone, or
// one whose keys match another's, is named by its base name.
func (s *Set) label() {
	var differing []string
	seen := map[string]bool{}
	for _, f := range s.Files {
		for k := range f.Config {
			if seen[k] || k == resultfile.NoteDate || k == resultfile.NoteLoadavg || k == resultfile.NoteRunnable || k == resultfile.NoteOrderSeed {
				continue
			}
			seen[k] = true
			for _, g := range s.Files {
				if g.Config[k] != f.Config[k] {
					differing = append(differing, k)
					break
				}
			}
		}
	}
	slices.Sort(differing)
	for i := range s.Files {
		var parts []string
		for _, k := range differing {
			if v := s.Files[i].Config[k]; v != "" { // a key the file lacks says nothing of it
				parts = append(parts, k+"="+v)
			}
		}
		s.Files[i].Label = strings.Join(parts, " ")
		if s.Files[i].Label == "" || len(s.Files) == 1 {
			s.Files[i].Label = filepath.Base(s.Files[i].Path)
		}
	}
	count := map[string]int{}
	for _, f := range s.Files {
		count[f.Label]++
	}
	for i, f := range s.Files {
		if count[f.Label] > 1 && f.Label != filepath.Base(f.Path) {
			s.Files[i].Label += " (" + filepath.Base(f.Path) + ")"
		}
	}
}
