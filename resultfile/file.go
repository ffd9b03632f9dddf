package resultfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// A File is the content of a result file.
type File struct {
	Config []Config // configuration lines, in order
	Notes  []Config // note lines of the run ("# date: ..."), in order
	// Interrupted marks a sweep ended by a signal: its samples are every
	// round finished before it.
	Interrupted bool
	// Failed says why a sweep stopped on an error (a dead or stuck
	// worker, a wrong output), if it did: its samples are every round
	// finished before it.
	Failed      string
	Samples     []Sample
	Startups    []Startup
	Ceilings    []Ceiling
	Skipped     []Skip
	Unconverged []Unconverged
	// Rounds holds, per kernel configuration (Cell.ConfigName), the rounds
	// each fork contributed, in order.
	Rounds map[string][]int
	// Rounded reports whether the samples were taken in rounds, so that
	// the k-th sample of every cell of a configuration is its sample of
	// round k: true for corescale's files (a rounds line, or no pkg line:
	// corescale run's files before the rounds lines), false for go test
	// output, which takes every sample of one -cpu value before the next
	// (Read sets it; Write writes rounds lines only for Rounds).
	Rounded bool
	// Units holds the unit metadata lines read (Write derives its own).
	Units benchfmt.UnitMetadataMap

	ceilingNotes [][2]string // name, text: read before the ceiling lines
}

// A Sample is one verified run of a cell.
type Sample struct {
	Cell Cell
	// Name is the full benchmark name as read, without "Benchmark" (with
	// go test's "-N" suffix, if any). Write writes it, or Cell.Name() if it
	// is empty and Cell.Bench is too: a go test benchmark's name cannot be
	// rebuilt from its cell, and one named just Benchmark has an empty Name.
	Name string
	// Round and Fork place the sample in the sweep; Write derives them
	// from the order of the samples, Read from their position (see the
	// package comment).
	Round, Fork int
	// Iters is the benchmark's iteration count: go test's, or the number
	// of runs whose mean corescale run's sample is; 0 stands for 1.
	Iters  int
	Values []Value
	// Unread lists the parts of the name that the cell does not hold: in
	// a corescale cell's name (one with a strategy key) the parts that are
	// none of its keys, in any name a workers= or gomaxprocs= part that is
	// no worker count. Two samples that differ only there share a cell.
	Unread []string
}

// Value returns the sample's value of a unit, as written.
func (s *Sample) Value(unit string) (float64, bool) {
	for _, v := range s.Values {
		if v.Unit == unit {
			return v.Value, true
		}
	}
	return 0, false
}

// A Startup is the measured start-up time of a strategy's workers (a
// process pool's); Cell.Sched is empty.
type Startup struct {
	Cell    Cell
	Seconds float64
}

// A Ceiling is a bound on a kernel's throughput measured or derived on the
// machine of the file.
type Ceiling struct {
	Kernel string // lower case, as in kernel=hash
	Source string // openssl-sha256, fp64-peak, memory-probe, ...
	Size   string // the kernel size it is for, or "" for any
	Lanes  int    // independent chains in flight, for latency probes; 0 if none
	Cores  int
	Value  float64
	Unit   string
	// How says how the figure was obtained, or why it is missing when
	// Skipped is set (then Value and Unit mean nothing, and a file keeps
	// neither).
	How     string
	Skipped bool
}

// Name returns the ceiling's benchmark name without "Benchmark".
func (c Ceiling) Name() string {
	name := BaseCeiling + "/" + KeyKernel + "=" + c.Kernel + "/" + KeySource + "=" + c.Source
	if c.Size != "" {
		name += "/" + KeySize + "=" + c.Size
	}
	if c.Lanes > 0 {
		name += "/" + KeyLanes + "=" + strconv.Itoa(c.Lanes)
	}
	return name + "/" + KeyCores + "=" + strconv.Itoa(c.Cores)
}

// A Skip is a cell a reference strategy could not run.
type Skip struct {
	Cell   Cell
	Reason string // one line
}

// An Unconverged cell stopped before its interval was as tight as asked.
type Unconverged struct {
	Cell      Cell
	Samples   int
	HalfWidth float64 // of the 95% interval, relative to the median
}

// Get returns the last value of a key among the notes and, failing that,
// the configuration lines (older files kept run facts there).
func (f *File) Get(key string) string {
	for _, list := range [][]Config{f.Notes, f.Config} {
		for i := len(list) - 1; i >= 0; i-- {
			if list[i].Key == key {
				return list[i].Value
			}
		}
	}
	return ""
}

// Write writes f in the Go benchmark format. Samples must come in round
// order within each kernel configuration, each cell once per round; Rounds
// says how the rounds divide into forks (nil: one fork).
func Write(w io.Writer, f *File) error {
	var buf bytes.Buffer
	bw := benchfmt.NewWriter(&buf)
	config := make([]benchfmt.Config, 0, len(f.Config))
	for _, c := range f.Config {
		if err := checkLine(c.Key, c.Value); err != nil {
			return err
		}
		config = append(config, benchfmt.Config{Key: c.Key, Value: []byte(c.Value), File: true})
	}
	notes := f.Notes
	if f.Interrupted {
		notes = append(slices.Clip(notes), Config{NoteInterrupted, "true"})
	}
	if f.Failed != "" {
		notes = append(slices.Clip(notes), Config{NoteFailed, strings.SplitN(f.Failed, "\n", 2)[0]})
	}
	for _, n := range notes {
		if err := writeNote(&buf, n.Key, n.Value); err != nil {
			return err
		}
	}
	var units []string
	for _, s := range f.Samples {
		for _, v := range s.Values {
			if !slices.Contains(units, v.Unit) {
				units = append(units, v.Unit)
			}
		}
	}
	for _, c := range f.Ceilings {
		if !c.Skipped && !slices.Contains(units, c.Unit) {
			units = append(units, c.Unit)
		}
	}
	for _, u := range units {
		if u == UnitTime {
			continue // benchfmt knows it
		}
		better := "lower"
		if IsRate(u) {
			better = "higher"
		}
		if err := bw.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u, Key: "better"}, OrigUnit: u, Value: better}); err != nil {
			return err
		}
	}
	writeIters := func(name string, iters int, values []Value) error {
		res := &benchfmt.Result{Config: config, Name: benchfmt.Name(name), Iters: max(1, iters)} // the writer adds "Benchmark"
		for _, v := range values {
			res.Values = append(res.Values, benchfmt.Value{Value: v.Value, Unit: v.Unit})
		}
		return bw.Write(res)
	}
	write := func(name string, values []Value) error { return writeIters(name, 1, values) }
	for _, s := range f.Samples {
		name := s.Name
		if name == "" && s.Cell.Bench == "" {
			name = s.Cell.Name() // a go test name may be empty: Benchmark
		}
		if err := writeIters(name, s.Iters, s.Values); err != nil {
			return err
		}
	}
	for _, s := range f.Startups {
		if err := write(s.Cell.startupName(), []Value{{s.Seconds * 1e9, UnitTime}}); err != nil {
			return err
		}
	}
	for _, c := range f.Ceilings {
		if !c.Skipped {
			if err := write(c.Name(), []Value{{c.Value, c.Unit}}); err != nil {
				return err
			}
		}
		how := c.How
		if c.Skipped {
			how = "skipped: " + how
		}
		if err := writeNote(&buf, noteCeiling, "Benchmark"+c.Name()+": "+how); err != nil {
			return err
		}
	}
	for _, s := range f.Skipped {
		if err := writeNote(&buf, noteSkipped, "Benchmark"+s.Cell.Name()+": "+strings.SplitN(s.Reason, "\n", 2)[0]); err != nil {
			return err
		}
	}
	for _, c := range f.Unconverged {
		v := fmt.Sprintf("Benchmark%s: %d samples, 95%% interval +-%.1f%%", c.Cell.Name(), c.Samples, 100*c.HalfWidth)
		if err := writeNote(&buf, noteUnconverged, v); err != nil {
			return err
		}
	}
	configs := make([]string, 0, len(f.Rounds))
	for name := range f.Rounds {
		configs = append(configs, name)
	}
	slices.Sort(configs)
	for _, name := range configs {
		var counts []string
		for _, n := range f.Rounds[name] {
			counts = append(counts, strconv.Itoa(n))
		}
		if err := writeNote(&buf, noteRounds, name+": "+strings.Join(counts, " ")); err != nil {
			return err
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func checkLine(key, value string) error {
	if key == "" || strings.ContainsAny(key, " :\n") || key != strings.ToLower(key) {
		return fmt.Errorf("resultfile: bad key %q", key)
	}
	if strings.Contains(value, "\n") {
		return fmt.Errorf("resultfile: value of %s has a newline", key)
	}
	return nil
}

func writeNote(buf *bytes.Buffer, key, value string) error {
	if strings.Contains(value, "\n") || strings.Contains(key, ":") {
		return fmt.Errorf("resultfile: bad note %q: %q", key, value)
	}
	fmt.Fprintf(buf, "# %s: %s\n", key, value)
	return nil
}

// ErrNoResults is returned by Read for a file without benchmark lines.
var ErrNoResults = errors.New("resultfile: no benchmark results")

// ReadFile reads the result file at path (see Read).
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads a result file, or any file in the Go benchmark format (go test
// -bench output: names without keys become cells with only Kernel and
// Workers, from the "-N" suffix). Syntax errors are errors; a file with no
// benchmark line is ErrNoResults.
func Read(r io.Reader, path string) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f := &File{Units: benchfmt.UnitMetadataMap{}}
	if err := f.readNotes(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	br := benchfmt.NewReader(bytes.NewReader(data), path)
	seen := map[string]bool{}
	results := 0
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.UnitMetadata:
			f.Units[rec.UnitMetadataKey] = rec
		case *benchfmt.Result:
			for _, c := range rec.Config {
				if c.File && !seen[c.Key+"\x00"+string(c.Value)] {
					seen[c.Key+"\x00"+string(c.Value)] = true
					f.Config = append(f.Config, Config{c.Key, string(c.Value)})
				}
			}
			if f.add(rec) {
				results++
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, err
	}
	if results == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoResults)
	}
	f.Interrupted = f.Get(NoteInterrupted) == "true"
	f.Failed = f.Get(NoteFailed)
	f.Rounded = f.Rounds != nil || !slices.ContainsFunc(f.Config, func(c Config) bool { return c.Key == ConfigPkg })
	f.placeSamples()
	f.placeCeilingNotes()
	return f, nil
}

// add adds a benchmark line and reports whether it kept it: a start-up
// line without a time is no fact.
func (f *File) add(res *benchfmt.Result) bool {
	base, parts := res.Name.Parts()
	name := parseName(base, parts)
	values := make([]Value, len(res.Values))
	for i, v := range res.Values {
		values[i] = Value{v.Value, v.Unit}
		if v.OrigUnit != "" { // benchfmt tidied it: keep what was written
			values[i] = Value{v.OrigValue, v.OrigUnit}
		}
	}
	switch {
	case name.isStartup():
		v, ok := valueOf(values, UnitTime)
		if !ok {
			return false
		}
		f.Startups = append(f.Startups, Startup{Cell: name.startupCell(), Seconds: v / 1e9})
	case name.isCeiling():
		for _, v := range values {
			c := ceilingOf(name)
			c.Value, c.Unit = v.Value, v.Unit
			f.Ceilings = append(f.Ceilings, c)
		}
	default:
		f.Samples = append(f.Samples, Sample{Cell: name.cell(), Name: string(res.Name.Full()), Iters: res.Iters, Values: values, Unread: name.unread})
	}
	return true
}

func valueOf(values []Value, unit string) (float64, bool) {
	for _, v := range values {
		if v.Unit == unit {
			return v.Value, true
		}
	}
	return 0, false
}

// readNotes reads the note lines; ceilings' notes are matched to their
// lines afterwards, by name.
func (f *File) readNotes(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "# ")
		if !ok {
			continue
		}
		key, value, ok := strings.Cut(rest, ": ")
		if !ok {
			continue // a comment of someone else's
		}
		switch key {
		case noteSkipped, noteUnconverged, noteCeiling, noteRounds:
			if err := f.readRemark(key, value); err != nil {
				return fmt.Errorf("note %q: %w", line, err)
			}
		default:
			if !strings.Contains(key, " ") {
				f.Notes = append(f.Notes, Config{key, value})
			}
		}
	}
	return sc.Err()
}

func (f *File) readRemark(key, value string) error {
	subject, rest, ok := strings.Cut(value, ": ")
	if !ok {
		return errors.New("no subject")
	}
	if key == noteRounds {
		if f.Rounds == nil {
			f.Rounds = map[string][]int{}
		}
		for _, field := range strings.Fields(rest) {
			n, err := strconv.Atoi(field)
			if err != nil || n < 0 {
				return fmt.Errorf("bad round count %q", field)
			}
			f.Rounds[subject] = append(f.Rounds[subject], n)
		}
		return nil
	}
	name, ok := strings.CutPrefix(subject, "Benchmark")
	if !ok {
		return errors.New("no benchmark name")
	}
	parsed := parseName(benchfmt.Name(name).Parts())
	switch key {
	case noteSkipped:
		f.Skipped = append(f.Skipped, Skip{Cell: parsed.cell(), Reason: rest})
	case noteUnconverged:
		var n int
		var pct float64
		if _, err := fmt.Sscanf(rest, "%d samples, 95%% interval +-%g%%", &n, &pct); err != nil {
			return err
		}
		f.Unconverged = append(f.Unconverged, Unconverged{Cell: parsed.cell(), Samples: n, HalfWidth: pct / 100})
	case noteCeiling:
		if !parsed.isCeiling() {
			return fmt.Errorf("%q is not a ceiling's name", subject)
		}
		// Kept until the ceiling lines are read: see placeCeilingNotes.
		f.ceilingNotes = append(f.ceilingNotes, [2]string{name, rest})
	}
	return nil
}

// placeSamples gives each sample its round and fork: the k-th sample of a
// cell is round k of its kernel configuration, and the configuration's
// rounds line divides the rounds into forks.
func (f *File) placeSamples() {
	seen := map[string]int{}
	for i := range f.Samples {
		s := &f.Samples[i]
		s.Round = seen[s.Name]
		seen[s.Name]++
		start := 0
		for fork, n := range f.Rounds[s.Cell.ConfigName()] {
			s.Fork = fork // past the last fork's rounds: still the last fork's
			if s.Round < start+n {
				break
			}
			start += n
		}
	}
}

// isStartup and isCeiling report whether a name is one of corescale's
// start-up or ceiling lines: their base names alone are not enough, since
// any package may have a BenchmarkStartup of its own.
func (n parsedName) isStartup() bool { return n.base == BaseStartup && n.keys[KeyStrategy] != "" }
func (n parsedName) isCeiling() bool {
	return n.base == BaseCeiling && n.keys[KeyKernel] != "" && n.keys[KeySource] != ""
}

// ceilingOf is the ceiling a parsed name describes, without its value.
func ceilingOf(n parsedName) Ceiling {
	lanes, _ := strconv.Atoi(n.keys[KeyLanes])
	cores, _ := strconv.Atoi(n.keys[KeyCores])
	return Ceiling{Kernel: n.keys[KeyKernel], Source: n.keys[KeySource], Size: n.keys[KeySize], Lanes: lanes, Cores: cores}
}

func (f *File) placeCeilingNotes() {
	at := 0 // where a skipped ceiling goes: after the last one its notes followed
	for _, note := range f.ceilingNotes {
		// Names are compared as the writer writes them, so that a name
		// with keys missing or in another order matches the same ceiling
		// in every reading.
		c := ceilingOf(parseName(benchfmt.Name(note[0]).Parts()))
		how := note[1]
		found := false
		for i := range f.Ceilings {
			if f.Ceilings[i].Name() == c.Name() {
				f.Ceilings[i].How, found, at = how, true, i+1
			}
		}
		reason, skipped := strings.CutPrefix(how, "skipped: ")
		if found || !skipped {
			continue
		}
		c.How, c.Skipped = reason, true
		f.Ceilings = slices.Insert(f.Ceilings, at, c)
		at++
	}
	f.ceilingNotes = nil
}
