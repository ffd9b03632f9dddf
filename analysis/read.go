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
)

// Units as benchfmt reports them: it tidies ns/op to sec/op, and the busy
// times to sec/op alike.
const (
	UnitTime     = "sec/op"
	UnitBusyMax  = "busy-max-sec/op"
	UnitBusyMean = "busy-mean-sec/op"
)

// A Set holds the samples of one or more result files.
type Set struct {
	Files    []File
	Cells    []*Cell    // in the order their first sample appears
	Startups []*Startup // pool start-ups, when the files have any
	Ceilings []*Ceiling // throughput bounds measured in the same runs
	Units    benchfmt.UnitMetadataMap
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
}

// A Cell is every sample of one benchmark in one file.
type Cell struct {
	File     int    // index into Set.Files
	Name     string // full name without "Benchmark"
	Kernel   string // the benchmark's base name: Matmul, Hash, Search
	Shape    string
	Size     string
	Strategy string
	Sched    string
	Workers  int
	// Values holds the samples of each unit (tidied: sec/op, B/s,
	// FLOP/s, queries/s, busy-max-sec/op, ...), in file order.
	Values map[string][]float64
}

// Config returns the cell's kernel configuration, which its scaling curve
// shares with other cells: the file, kernel, shape and size.
func (c *Cell) Config() Config {
	return Config{File: c.File, Kernel: c.Kernel, Shape: c.Shape, Size: c.Size}
}

// A Config identifies a kernel configuration within a set.
type Config struct {
	File                int
	Kernel, Shape, Size string
}

func (c Config) String() string {
	return fmt.Sprintf("%s/shape=%s/size=%s", c.Kernel, c.Shape, c.Size)
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
	br := benchfmt.NewReader(r, path)
	f := File{Path: path, Config: map[string]string{}}
	results := 0
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return inputError("%v", rec)
		case *benchfmt.UnitMetadata:
			s.Units[rec.UnitMetadataKey] = rec
		case *benchfmt.Result:
			results++
			for _, c := range rec.Config {
				if c.File {
					f.Config[c.Key] = string(c.Value)
				}
			}
			s.add(rec, file, index)
		}
	}
	if err := br.Err(); err != nil {
		return inputError("%v", err)
	}
	if results == 0 {
		return inputError("%s has no benchmark results", path)
	}
	f.Interrupted = f.Config["interrupted"] == "true"
	s.Files = append(s.Files, f)
	return nil
}

func (s *Set) add(res *benchfmt.Result, file int, index map[string]*Cell) {
	name := string(res.Name.Full())
	base, parts := res.Name.Parts()
	keys := map[string]string{}
	gomaxprocs := 1
	for _, p := range parts {
		switch {
		case p[0] == '-':
			if n, err := strconv.Atoi(string(p[1:])); err == nil {
				gomaxprocs = n
			}
		default:
			if k, v, ok := strings.Cut(string(p[1:]), "="); ok {
				keys[k] = v
			}
		}
	}
	switch string(base) {
	case "Startup":
		s.addStartup(res, file, keys)
		return
	case "Ceiling":
		s.addCeiling(res, file, keys)
		return
	}
	id := strconv.Itoa(file) + "\x00" + name
	c := index[id]
	if c == nil {
		c = &Cell{
			File: file, Name: name, Kernel: string(base),
			Shape: keys["shape"], Size: keys["size"], Strategy: keys["strategy"], Sched: keys["sched"],
			Workers: workers(keys, gomaxprocs),
			Values:  map[string][]float64{},
		}
		index[id] = c
		s.Cells = append(s.Cells, c)
	}
	for _, v := range res.Values {
		c.Values[v.Unit] = append(c.Values[v.Unit], v.Value)
	}
}

// workers is the worker count of a cell: its workers key when it has one
// (corescale run), else GOMAXPROCS (go test -cpu), except for serial.
func workers(keys map[string]string, gomaxprocs int) int {
	if n, err := strconv.Atoi(keys["workers"]); err == nil {
		return n
	}
	if keys["strategy"] == "serial" {
		return 1
	}
	return gomaxprocs
}

func (s *Set) addStartup(res *benchfmt.Result, file int, keys map[string]string) {
	_, parts := res.Name.Parts()
	cfg := Config{File: file, Kernel: "", Shape: keys["shape"], Size: keys["size"]}
	if len(parts) > 0 {
		cfg.Kernel = strings.TrimPrefix(string(parts[0]), "/")
	}
	n, _ := strconv.Atoi(keys["workers"])
	sec, ok := res.Value(UnitTime)
	if !ok {
		return
	}
	for _, st := range s.Startups {
		if st.Config == cfg && st.Strategy == keys["strategy"] && st.Workers == n {
			st.Seconds = append(st.Seconds, sec)
			return
		}
	}
	s.Startups = append(s.Startups, &Startup{File: file, Config: cfg, Strategy: keys["strategy"], Workers: n, Seconds: []float64{sec}})
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
	Unit   string
	Value  float64
}

func (s *Set) addCeiling(res *benchfmt.Result, file int, keys map[string]string) {
	cores, _ := strconv.Atoi(keys["cores"])
	for _, v := range res.Values {
		s.Ceilings = append(s.Ceilings, &Ceiling{File: file, Kernel: keys["kernel"], Source: keys["source"],
			Size: keys["size"], Cores: cores, Unit: v.Unit, Value: v.Value})
	}
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
// the others (host, commit, cpu, ...), ignoring the date; a file alone, or
// one whose keys match another's, is named by its base name.
func (s *Set) label() {
	var differing []string
	seen := map[string]bool{}
	for _, f := range s.Files {
		for k := range f.Config {
			if seen[k] || k == "date" || k == "loadavg" {
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
			parts = append(parts, k+"="+s.Files[i].Config[k])
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
