package analysis

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/perf/benchunit"

	"github.com/corescale/corescale/resultfile"
)

// A Report is everything corescale says about a set of result files.
type Report struct {
	Set      *Set
	Scalings []*Scaling
	// Benchstat holds benchstat's own tables of the files, or why there
	// are none.
	Benchstat []BenchstatTable
}

// A BenchstatTable is the output of one benchstat invocation.
type BenchstatTable struct {
	Title string
	Args  []string
	Text  string // benchstat's output, or the error that prevented it
}

// NewReport analyses a set. Benchstat's tables, if wanted, are the
// caller's to add: running tools is not analysis.
func NewReport(s *Set) *Report {
	return &Report{Set: s, Scalings: Analyze(s)}
}

// WriteText writes the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	return r.write(w, FormatText, nil)
}

// WriteDir writes report.md and its charts (PNG) into dir, creating it.
func (r *Report) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	charts, err := r.charts(dir)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := r.write(&b, FormatMarkdown, charts); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), b.Bytes(), 0o644)
}

// charts draws a speedup and an efficiency chart per kernel configuration
// (across files) and returns their file names by configuration title.
func (r *Report) charts(dir string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, group := range r.groups() {
		if isBenchGroup(group) && !benchGroupAnalysable(group) {
			continue // one point is no curve
		}
		file := r.Set.Files[group[0].Config.File]
		ch := &chart{title: group[0].Config.String(), ncpu: file.NCPU(), boundaries: file.Boundaries()}
		for _, sc := range group {
			ch.scalings = append(ch.scalings, sc)
			label := ""
			if len(r.Set.Files) > 1 {
				label = r.Set.Files[sc.Config.File].Label
			}
			ch.labels = append(ch.labels, label)
		}
		base := strings.NewReplacer("/", "-", "=", "").Replace(ch.title)
		for _, kind := range []struct {
			name string
			draw func(string) error
		}{{"speedup", ch.speedup}, {"efficiency", ch.efficiency}} {
			name := base + "-" + kind.name + ".png"
			if err := kind.draw(filepath.Join(dir, name)); err != nil {
				return nil, err
			}
			out[ch.title] = append(out[ch.title], name)
		}
	}
	return out, nil
}

// groups gathers the scalings of one kernel configuration from every file.
func (r *Report) groups() [][]*Scaling {
	var order []string
	groups := map[string][]*Scaling{}
	for _, sc := range r.Scalings {
		key := sc.Config.String()
		if sc.IsBench() {
			key += "\x00bench" // a go test benchmark may bear a sweep configuration's name
		}
		if groups[key] == nil {
			order = append(order, key)
		}
		groups[key] = append(groups[key], sc)
	}
	var out [][]*Scaling
	for _, k := range order {
		out = append(out, groups[k])
	}
	return out
}

func (r *Report) write(w io.Writer, format string, charts map[string][]string) error {
	md := format == FormatMarkdown
	heading := func(level int, s string) {
		if md {
			fmt.Fprintf(w, "%s %s\n\n", strings.Repeat("#", level), s)
		} else {
			fmt.Fprintf(w, "%s\n%s\n\n", s, strings.Repeat("=-~"[level-1:level], len(s)))
		}
	}
	if md {
		heading(1, "corescale report")
	}
	r.writeSources(w, md)
	heading(2, "Summary")
	for _, group := range r.groups() {
		for _, sc := range group {
			if sc.IsBench() {
				continue
			}
			if err := r.summary(sc).Render(w, format); err != nil {
				return err
			}
		}
	}
	for i := range r.Set.Files {
		for _, t := range r.benchSummary(i) {
			if err := t.Render(w, format); err != nil {
				return err
			}
		}
	}
	for _, group := range r.groups() {
		title := group[0].Config.String()
		if isBenchGroup(group) && !benchGroupAnalysable(group) {
			continue // listed in the summary
		}
		heading(2, title)
		for _, name := range charts[title] {
			fmt.Fprintf(w, "![%s](%s)\n\n", strings.TrimSuffix(name, ".png"), name)
		}
		if isBenchGroup(group) {
			if err := r.benchTables(group).Render(w, format); err != nil {
				return err
			}
			for _, sc := range group {
				if sc.Analysable() {
					fmt.Fprintf(w, "%s\n\n", r.benchLine(sc))
				}
			}
			continue
		}
		for _, t := range r.groupTables(group) {
			if err := t.Render(w, format); err != nil {
				return err
			}
		}
		if t := r.pythonTable(group); len(t.Rows) > 0 {
			heading(3, "corescale vs Python multiprocessing")
			if err := t.Render(w, format); err != nil {
				return err
			}
		}
		for _, sc := range group {
			fmt.Fprintf(w, "%s\n\n", r.diagnosis(sc))
		}
	}
	if len(r.Benchstat) > 0 {
		heading(2, "benchstat")
		for _, t := range r.Benchstat {
			if md {
				fmt.Fprintf(w, "%s (`benchstat %s`):\n\n```\n%s```\n\n", t.Title, strings.Join(quoteArgs(t.Args), " "), t.Text)
			} else {
				fmt.Fprintf(w, "%s (benchstat %s):\n\n%s\n", t.Title, strings.Join(quoteArgs(t.Args), " "), t.Text)
			}
		}
	}
	if r.hasSweep() {
		r.writeHowToRead(w, md)
	}
	if r.hasBench() {
		r.writeBenchHowToRead(w, md)
	}
	return nil
}

// summary is the answer for one kernel configuration: each curve's
// speedup at each worker count the machine could run at once, the main
// loss at the largest, the noise floor, and whatever is flagged.
func (r *Report) summary(sc *Scaling) *Table {
	var ws []int
	for _, w := range sc.Workers() {
		if sc.UsableCPUs == 0 || w <= sc.UsableCPUs {
			ws = append(ws, w)
		}
	}
	title := sc.Config.String()
	if len(r.Set.Files) > 1 {
		title = r.Set.Files[sc.Config.File].Label + ": " + title
	}
	title += ": speedup over serial (" + ratioMethod(sc.Paired) + ")"
	if sc.UsableCPUs > 0 {
		title += fmt.Sprintf(" up to the %d usable CPUs", sc.UsableCPUs)
	}
	t := &Table{Title: title, Header: []string{"strategy", "sched"}, Right: []bool{false, false}}
	for _, w := range ws {
		t.Header = append(t.Header, plural(w, "worker"))
		t.Right = append(t.Right, true)
	}
	t.Header = append(t.Header, "main loss")
	t.Right = append(t.Right, false)
	if sc.NoiseFloor.Valid() {
		where := "at random places in the same rounds"
		if !sc.Paired {
			where = "unpaired: the file has no rounds"
		}
		t.Notes = append(t.Notes, fmt.Sprintf("Noise floor +-%.1f%%: serial-aa / serial, identical work %s, = %s (%d rounds, %d fork(s))%s; differences are judged against it.",
			100*sc.Floor(), where, sc.NoiseFloor, sc.NoiseFloor.Rounds, sc.NoiseFloor.Forks, withClock(sc)))
		if sc.Paired { // unpaired, the floor has no same-round ratios to spread
			t.Notes = append(t.Notes, noiseNote(sc.Noise, sc.Floor()))
		}
	} else {
		t.Notes = append(t.Notes, "No A/A pair in this file: no noise floor is known, and the intervals may understate the method's error.")
		if clock := clockNote(sc); clock != "" {
			t.Notes = append(t.Notes, "Ratios are taken with "+clock+".")
		}
	}
	if sc.Baseline == nil {
		t.Notes = append(t.Notes, "No serial cell: speedups are relative to each curve's own 1-worker point.")
	}
	for _, cv := range sc.Curves {
		row := []string{cv.Strategy, SchedLabel(cv.Sched, cv.Pin)}
		var last *Point
		for _, w := range ws {
			p := cv.Point(w)
			if p == nil {
				row = append(row, "-")
				continue
			}
			row = append(row, formatRatioCI(p.Speedup, "x"))
			last = p
		}
		loss := "-"
		if last != nil && last.Workers > 1 && last.Losses.Known {
			name, v := last.Losses.Main()
			loss = fmt.Sprintf("%s %.1f%%", name, 100*v)
		}
		t.Rows = append(t.Rows, append(row, loss))
		for _, p := range cv.Points {
			for _, f := range p.Flags {
				t.Notes = append(t.Notes, fmt.Sprintf("Flagged: %s at %s: %s.", cv.Name(), plural(p.Workers, "worker"), f))
			}
		}
		for _, f := range cv.Fits {
			for _, flag := range f.Flags {
				t.Notes = append(t.Notes, fmt.Sprintf("Flagged: %s %v fit: %s.", cv.Name(), f.Law, flag))
			}
		}
		if o := cv.Oversubscription; o.Valid() {
			t.Notes = append(t.Notes, fmt.Sprintf("Oversubscribed: %s at %d workers takes %s the time at %d (%s).",
				cv.Name(), 2*cv.OversubscriptionFrom, formatRatioCI(o, "x"), cv.OversubscriptionFrom, Verdict(o, sc.Floor())))
		}
	}
	if c := sc.Calibration(); c != nil {
		t.Notes = append(t.Notes, calibrationNote(c, sc.Paired))
	}
	var unconverged []Unconverged
	for _, u := range r.Set.Unconverged {
		if u.File == sc.Config.File && u.Config == sc.Config.String() {
			unconverged = append(unconverged, u)
		}
	}
	t.Notes = append(t.Notes, unconvergedNotes(unconverged)...)
	return t
}

// calibrationNote sums up the identical-work cells: their largest gaps
// and how many pairs differ, against what chance gives.
func calibrationNote(c *Calibration, paired bool) string {
	if c.Valid == 0 {
		return fmt.Sprintf("Identical work: %d one-worker cells, too few samples in common (fewer than %d) for a ratio of any two.", len(c.Cells), MinPairs)
	}
	how := "medians of same-round ratios"
	if !paired {
		how = "ratios of medians"
	}
	within := len(c.Pairs) - c.Across
	gap := fmt.Sprintf("at most %.1f%% apart (%s)", 100*c.Gap, how)
	if c.Across > 0 && within > 0 {
		gap = fmt.Sprintf("at most %.1f%% apart on one side of a process boundary and %.1f%% in all (%s)", 100*c.GapWithin, 100*c.Gap, how)
	}
	note := fmt.Sprintf("Identical work: %d one-worker cells, %s; %d of %d pairs on one side of a process boundary differ at the 95%% level (chance alone: about %.1f)",
		len(c.Cells), gap, c.Differ-c.DifferAcross, within, 0.05*float64(within))
	if c.Across > 0 {
		note += fmt.Sprintf(", and %d of %d between the measuring process and a worker process, which also differ by what reaching that process costs a run", c.DifferAcross, c.Across)
		if c.AcrossOnCPU > 0 {
			note += fmt.Sprintf("; in their time on a CPU, which leaves that cost out, %d of %d differ", c.DifferOnCPU, c.AcrossOnCPU)
		}
	}
	return note + "."
}

// unconvergedNotes flags the cells of one configuration that stopped short
// of their precision: one line each for a few, one line for them all
// beyond that (a budget that runs out runs out for most cells at once, and
// thirty lines would bury the summary).
func unconvergedNotes(us []Unconverged) []string {
	if len(us) <= 3 {
		var notes []string
		for _, u := range us {
			notes = append(notes, fmt.Sprintf("Flagged: %s stopped at %d samples with its 95%% CI at +-%.1f%%.", u.Name, u.Samples, 100*u.HalfWidth))
		}
		return notes
	}
	widest, narrowest := us[0], us[0]
	fewest, most := us[0].Samples, us[0].Samples
	for _, u := range us[1:] {
		if u.HalfWidth > widest.HalfWidth {
			widest = u
		}
		if u.HalfWidth < narrowest.HalfWidth {
			narrowest = u
		}
		fewest, most = min(fewest, u.Samples), max(most, u.Samples)
	}
	samples := fmt.Sprint(fewest)
	if most != fewest {
		samples = fmt.Sprintf("%d-%d", fewest, most)
	}
	return []string{fmt.Sprintf("Flagged: %d cells stopped at %s samples with their time's 95%% CI at +-%.1f%% to +-%.1f%% (widest: %s), wider than asked: their medians are that uncertain; the ratios are paired and carry intervals of their own.",
		len(us), samples, 100*narrowest.HalfWidth, 100*widest.HalfWidth, strings.TrimPrefix(widest.Name, widest.Config+"/"))}
}

// clockNote says how the ratios were adjusted for the CPU's clock, and what
// the noise floor would be without it; why not, where probes were taken
// and left out; "" where there were none to use.
func clockNote(sc *Scaling) string {
	c := sc.Clock
	if !c.Applied {
		if c.RawSpread == 0 {
			return ""
		}
		return fmt.Sprintf("the CPU's clock left in: its probes would narrow the spread of %d samples within their cells and rounds from +-%.1f%% only to +-%.1f%%", c.Samples, 100*c.RawSpread, 100*c.Spread)
	}
	note := fmt.Sprintf("the CPU's clock divided out of every ratio (times as the clock probe to the power %.2f, which narrows the spread of %d samples within their cells and rounds from +-%.1f%% to +-%.1f%%)", c.Beta, c.Samples, 100*c.RawSpread, 100*c.Spread)
	if sc.RawNoiseFloor.Valid() {
		note += fmt.Sprintf(": +-%.1f%% without", 100*sc.RawNoiseFloor.Floor())
	}
	return note
}

// withClock is clockNote as a clause of the noise floor's line.
func withClock(sc *Scaling) string {
	if note := clockNote(sc); note != "" {
		return ", with " + note
	}
	return ""
}

// noiseNote says where the noise floor comes from.
func noiseNote(ns NoiseSource, floor float64) string {
	raw := ""
	if ns.RawSpread != ns.Spread {
		raw = fmt.Sprintf("; +-%.1f%% before the clock was divided out", 100*ns.RawSpread)
	}
	note := fmt.Sprintf("Its source: samples of identical work in one round are +-%.1f%% apart (half the interquartile range of their ratios%s)", 100*ns.Spread, raw)
	switch {
	case ns.Spread <= 0.01:
		note += ": they agree"
	case math.IsNaN(ns.OffCPU):
	case ns.OffCPU >= ns.Spread/2:
		note += fmt.Sprintf(", and serial spent %.1f%% of a run off its CPU (median): time taken by the host or another thread", 100*ns.OffCPU)
	default:
		note += fmt.Sprintf(" while serial spent only %.1f%% of a run off its CPU (median): the same work ran at a varying speed on its CPU (on a VM most often another tenant on the host's core, or its clock; the caches a neighbouring cell left can add to it), which pairing by round does not remove", 100*ns.OffCPU)
	}
	if floor > 2*ns.Expected {
		note += fmt.Sprintf("; the floor is wider than the +-%.1f%% that spread gives over these rounds: the luck of few rounds, or forks that differ", 100*ns.Expected)
	}
	if ns.RoundsForOnePercent > 0 {
		note += fmt.Sprintf("; about %d rounds would narrow the floor's interval to +-1%%", ns.RoundsForOnePercent)
	}
	return note + "."
}

func (r *Report) diagnosis(sc *Scaling) string {
	s := sc.Diagnosis()
	if len(r.Set.Files) > 1 {
		s = r.Set.Files[sc.Config.File].Label + ": " + s
	}
	return s
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " :") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

func (r *Report) writeSources(w io.Writer, md bool) {
	for _, f := range r.Set.Files {
		line := f.Label + ": " + describe(f.Config)
		if f.Interrupted {
			line += " (INTERRUPTED: rounds after the interruption are missing)"
		}
		if f.Failed != "" {
			line += " (FAILED, rounds after it are missing: " + f.Failed + ")"
		}
		if md {
			fmt.Fprintf(w, "- `%s`: %s\n", f.Path, line)
		} else {
			fmt.Fprintf(w, "%s\n", line)
		}
	}
	fmt.Fprintln(w)
}

// describe says what a file's configuration and notes hold, leaving out
// what they do not (go test output has goos, goarch, pkg and cpu only).
func describe(c map[string]string) string {
	var parts []string
	add := func(format string, keys ...string) {
		var args []any
		for _, k := range keys {
			if c[k] == "" {
				return
			}
			args = append(args, c[k])
		}
		parts = append(parts, fmt.Sprintf(format, args...))
	}
	add("%s/%s", resultfile.ConfigGoos, resultfile.ConfigGoarch)
	add("%s", resultfile.ConfigCPU)
	add("%s CPUs", resultfile.ConfigNCPU)
	add("%s usable", resultfile.ConfigUsableCPUs)
	add("GOMAXPROCS %s", resultfile.ConfigGomaxprocs)
	add("cgroup quota %s", resultfile.ConfigCPUQuota)
	add("%s", resultfile.ConfigGo)
	add("dgemm %s", resultfile.NoteDgemm)
	add("cache flush %s", resultfile.NoteFlush)
	add("kernel %s", resultfile.NoteKernel)
	add("package %s", resultfile.ConfigPkg)
	add("commit %s", resultfile.NoteCommit)
	add("%s scaling", resultfile.ConfigScaling)
	add("%s rounds per configuration", resultfile.NoteCount)
	add("%s forks", resultfile.NoteForks)
	add("load %s at start", resultfile.NoteLoadavg)
	add("%s other tasks runnable", resultfile.NoteRunnable)
	if len(parts) == 0 {
		return "no configuration lines"
	}
	return strings.Join(parts, ", ")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// groupTables returns the tables of one kernel configuration: the cells,
// the fits, the strategy contrasts and the start-ups.
func (r *Report) groupTables(group []*Scaling) []*Table {
	multi := len(r.Set.Files) > 1
	paired := !slices.ContainsFunc(group, func(sc *Scaling) bool { return !sc.Paired })
	cells := &Table{
		Title: "Cells: median time per run with its 95% CI; speedup over serial and efficiency (" + ratioMethod(paired) + "); Karp-Flatt serial fraction; " +
			"where the worker time went (means of each run's shares)",
		Header: []string{"strategy", "sched", "workers", "time", "95% CI", "throughput", "of ceiling", "speedup", "efficiency", "Karp-Flatt", "inflation", "waiting", "imbalance", "overhead"},
		Right:  []bool{false, false, true, true, true, true, true, true, true, true, true, true, true, true},
	}
	fits := &Table{
		Title:  "Scaling-law fits to each curve's capacity relative to its own 1-worker point, over the worker counts within the usable CPUs",
		Header: []string{"strategy", "sched", "law", "serial fraction", "USL sigma", "USL kappa", "peak at", "R2 (law / USL)"},
		Right:  []bool{false, false, false, true, true, true, true, true},
	}
	contrasts := &Table{
		Title:  "Strategies compared at equal workers and sched: time over the other's (" + ratioMethod(paired) + "), against the noise floor",
		Header: []string{"workers", "sched", "strategy", "vs", "time ratio", "verdict"},
		Right:  []bool{true, false, false, false, true, false},
	}
	startups := &Table{
		Title:  "Worker start-up, reported apart from the timings above",
		Header: []string{"strategy", "workers", "start-up"},
		Right:  []bool{false, true, true},
	}
	for _, t := range []*Table{cells, fits, contrasts, startups} {
		if multi {
			t.Header = append([]string{"file"}, t.Header...)
			t.Right = append([]bool{false}, t.Right...)
		}
	}
	row := func(t *Table, sc *Scaling, cols ...string) {
		if multi {
			cols = append([]string{r.Set.Files[sc.Config.File].Label}, cols...)
		}
		t.Rows = append(t.Rows, cols)
	}
	for _, sc := range group {
		point := func(p *Point) {
			c := p.Cell
			row(cells, sc, c.Strategy, SchedLabel(c.Sched, c.Pin), fmt.Sprint(p.Workers),
				formatTime(p.Time.Center), formatCI(p.Time), formatRate(p.Throughput.Center, sc.Unit),
				r.ofCeiling(sc, p), formatRatioCI(p.Speedup, "x"), formatPercentCI(p.Efficiency), formatFraction(p.KarpFlatt),
				formatLoss(p, p.Losses.Inflation), formatLoss(p, p.Losses.Waiting), formatLoss(p, p.Losses.Imbalance), formatLoss(p, p.Losses.Overhead))
		}
		for _, p := range []*Point{sc.Baseline, sc.Twin} {
			if p != nil {
				point(p)
			}
		}
		for _, cv := range sc.Curves {
			for _, p := range cv.Points {
				point(p)
			}
			if cv.Points[len(cv.Points)-1].Workers == 1 {
				continue // a one-worker strategy has no curve to fit
			}
			law, usl := cv.Fit(Amdahl), cv.Fit(USL)
			if sc.Weak {
				law = cv.Fit(Gustafson)
			}
			switch {
			case law == nil:
				row(fits, sc, cv.Strategy, SchedLabel(cv.Sched, cv.Pin), "-", "-", "-", "-", "-", cv.FitNote)
				continue
			case usl == nil:
				row(fits, sc, cv.Strategy, SchedLabel(cv.Sched, cv.Pin), law.Law.String(), fmt.Sprintf("%.4f", law.Serial), "-", "-", "-",
					fmt.Sprintf("%.3f / - (%s)", law.R2, cv.FitNote))
				continue
			}
			peak := "none (kappa = 0)"
			if usl.Peak > 0 {
				peak = fmt.Sprintf("%d workers", usl.Peak)
			} else if usl.Kappa > 0 {
				peak = "beyond 2x the workers fitted"
			}
			row(fits, sc, cv.Strategy, SchedLabel(cv.Sched, cv.Pin), law.Law.String(), fmt.Sprintf("%.4f", law.Serial),
				fmt.Sprintf("%.4f", usl.Serial), fmt.Sprintf("%.5f", usl.Kappa), peak,
				fmt.Sprintf("%.3f / %.3f", law.R2, usl.R2))
		}
		for _, c := range sc.Contrasts() {
			row(contrasts, sc, fmt.Sprint(c.Workers), SchedLabel(c.Sched, c.Pin), c.Strategy, c.Base, formatRatioCI(c.Ratio, "x"), Verdict(c.Ratio, sc.Floor()))
		}
		for _, st := range r.Set.Startups {
			if st.File == sc.Config.File && st.Config.Kernel == sc.Config.Kernel && st.Config.Shape == sc.Config.Shape && st.Config.Size == sc.Config.Size {
				row(startups, sc, st.Strategy, fmt.Sprint(st.Workers), formatTime(Summarize(st.Seconds).Center))
			}
		}
	}
	tables := []*Table{cells, fits}
	if t := r.calibrationTable(group); len(t.Rows) > 0 {
		tables = append(tables, t)
	}
	if len(contrasts.Rows) > 0 {
		tables = append(tables, contrasts)
	}
	if len(startups.Rows) > 0 {
		tables = append(tables, startups)
	}
	if t := r.ceilingTable(group); len(t.Rows) > 0 {
		tables = append(tables, t)
	}
	return tables
}

// calibrationTable compares the cells that do identical work, pair by
// pair.
func (r *Report) calibrationTable(group []*Scaling) *Table {
	t := &Table{
		Title:  "Identical work (one worker): time over the other's (" + ratioMethod(!slices.ContainsFunc(group, func(sc *Scaling) bool { return !sc.Paired })) + "), and on a CPU (time in chunks less time off a CPU, run by run, which leaves out what reaching a worker process costs); on one side of a process boundary they should differ only by chance, across it on a CPU",
		Header: []string{"cell", "vs", "time ratio", "verdict", "on-CPU ratio", "process boundary"},
		Right:  []bool{false, false, true, false, true, false},
	}
	multi := len(r.Set.Files) > 1
	if multi {
		t.Header = append([]string{"file"}, t.Header...)
		t.Right = append([]bool{false}, t.Right...)
	}
	name := func(p *Point) string { return p.Cell.Strategy + "/" + SchedLabel(p.Cell.Sched, p.Cell.Pin) }
	for _, sc := range group {
		c := sc.Calibration()
		if c == nil {
			continue
		}
		for _, pair := range c.Pairs {
			where := "same side"
			if pair.Across {
				where = "crossed"
			}
			// Three decimals: these pairs differ, if at all, by
			// fractions of a per cent, which 1.00x (1.00-1.00) hides.
			row := []string{name(pair.B), name(pair.A), formatRatioCIDigits(pair.Ratio, "x", 3), Verdict(pair.Ratio, sc.Floor()), formatRatioCIDigits(pair.OnCPU, "x", 3), where}
			if multi {
				row = append([]string{r.Set.Files[sc.Config.File].Label}, row...)
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// pythonStrategies are the strategies the Python comparison sets beside
// procpool, in the order shown.
var pythonStrategies = []string{resultfile.Procpool, resultfile.PyPool, resultfile.PyPoolShm, resultfile.PyThreads}

// pythonTable sets procpool beside Python's pools at each worker count,
// under dynamic scheduling (Pool.map's): time per run, how many times
// faster procpool is (same-round pairs), the per-job overhead (wall time
// minus the longest worker span: dispatch, pickling, wake-up and join) and
// start-up.
func (r *Report) pythonTable(group []*Scaling) *Table {
	t := &Table{
		Title:  "Dynamic scheduling; procpool speedup = the strategy's time over procpool's, same-round pairs, 95% CI; overhead = wall time minus the longest worker span, per job",
		Header: []string{"workers", "strategy", "time", "procpool speedup", "overhead per job", "start-up"},
		Right:  []bool{true, false, true, true, true, true},
	}
	multi := len(r.Set.Files) > 1
	if multi {
		t.Header = append([]string{"file"}, t.Header...)
		t.Right = append([]bool{false}, t.Right...)
	}
	for _, sc := range group {
		curves := map[string]*Curve{}
		for _, cv := range sc.Curves {
			if cv.Sched == resultfile.SchedDynamic && cv.Pin == "" {
				curves[cv.Strategy] = cv
			}
		}
		if curves[resultfile.Procpool] == nil || curves[resultfile.PyPool] == nil && curves[resultfile.PyPoolShm] == nil {
			continue
		}
		for _, w := range sc.Workers() {
			ref := curves[resultfile.Procpool].Point(w)
			if ref == nil {
				continue
			}
			for _, name := range pythonStrategies {
				cv := curves[name]
				if cv == nil || cv.Point(w) == nil {
					continue
				}
				p := cv.Point(w)
				row := []string{fmt.Sprint(w), name, formatTime(p.Time.Center),
					formatRatioCI(ratioOf(p.Cell.series(UnitTime), ref.Cell.series(UnitTime)), "x"), formatTime(overheadPerJob(p)), r.startup(sc, name, w)}
				if multi {
					row = append([]string{r.Set.Files[sc.Config.File].Label}, row...)
				}
				t.Rows = append(t.Rows, row)
			}
		}
	}
	return t
}

// overheadPerJob is the median of wall time minus the longest worker span
// (in older files, the busiest worker's busy time), in seconds.
func overheadPerJob(p *Point) float64 {
	wall, busy := p.Cell.Values[UnitTime], p.Cell.Values[UnitSpanMax]
	if len(busy) == 0 {
		busy = p.Cell.Values[UnitBusyMax]
	}
	if len(busy) != len(wall) || len(wall) == 0 {
		return math.NaN()
	}
	d := make([]float64, len(wall))
	for i := range wall {
		d[i] = wall[i] - busy[i]
	}
	return Summarize(d).Center
}

func (r *Report) startup(sc *Scaling, strategy string, workers int) string {
	for _, st := range r.Set.Startups {
		if st.File == sc.Config.File && st.Config.Kernel == sc.Config.Kernel && st.Config.Shape == sc.Config.Shape &&
			st.Config.Size == sc.Config.Size && st.Strategy == strategy && st.Workers == workers {
			return formatTime(Summarize(st.Seconds).Center)
		}
	}
	return "-"
}

// ofCeiling is a point's throughput as a share of its ceiling on the
// cores its workers can use.
func (r *Report) ofCeiling(sc *Scaling, p *Point) string {
	ce := r.Set.Ceiling(p.Cell, sc.Unit, r.Set.Files[p.Cell.File].NCPU())
	if ce == nil || ce.Value <= 0 || math.IsNaN(p.Throughput.Center) {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*p.Throughput.Center/ce.Value)
}

// ceilingTable lists the ceilings measured for the group's kernel.
func (r *Report) ceilingTable(group []*Scaling) *Table {
	t := &Table{
		Title:  "Ceilings measured or derived in the same run (the result file's comments say how)",
		Header: []string{"source", "size", "cores", "value"},
		Right:  []bool{false, false, true, true},
	}
	if len(r.Set.Files) > 1 {
		t.Header = append([]string{"file"}, t.Header...)
		t.Right = append([]bool{false}, t.Right...)
	}
	for _, sc := range group {
		for _, ce := range r.Set.Ceilings {
			if ce.File != sc.Config.File || !strings.EqualFold(ce.Kernel, sc.Config.Kernel) || (ce.Size != "" && ce.Size != sc.Config.Size) {
				continue
			}
			value := formatRate(ce.Value, ce.Unit)
			if ce.Unit == resultfile.TidyUnit(resultfile.UnitLoad) {
				value = formatTime(ce.Value) + " per load"
			}
			row := []string{ce.Source, orDefault(ce.Size, "any"), fmt.Sprint(ce.Cores), value}
			if len(r.Set.Files) > 1 {
				row = append([]string{r.Set.Files[sc.Config.File].Label}, row...)
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

func formatTime(sec float64) string {
	if math.IsNaN(sec) || sec <= 0 {
		return "-"
	}
	return benchunit.Scale(sec, benchunit.Decimal) + "s"
}

func formatCI(s interface{ PctRangeString() string }) string { return s.PctRangeString() }

func formatRate(v float64, unit string) string {
	if unit == "" || math.IsNaN(v) {
		return "-"
	}
	return benchunit.Scale(v, benchunit.ClassOf(unit)) + " " + unit
}

// formatRatioCI writes a ratio with its interval: "2.01x (1.99-2.03)".
func formatRatioCI(r Ratio, suffix string) string {
	return formatRatioCIDigits(r, suffix, 2)
}

// formatRatioCIDigits is formatRatioCI with digits decimals.
func formatRatioCIDigits(r Ratio, suffix string, digits int) string {
	if !r.Valid() {
		return "-"
	}
	if math.IsNaN(r.Lo) {
		return fmt.Sprintf("%.*f%s", digits, r.Center, suffix)
	}
	return fmt.Sprintf("%.*f%s (%.*f-%.*f)", digits, r.Center, suffix, digits, r.Lo, digits, r.Hi)
}

// formatPercentCI writes a ratio as a percentage with its interval.
func formatPercentCI(r Ratio) string {
	if !r.Valid() {
		return "-"
	}
	if math.IsNaN(r.Lo) {
		return fmt.Sprintf("%.0f%%", 100*r.Center)
	}
	return fmt.Sprintf("%.0f%% (%.0f-%.0f)", 100*r.Center, 100*r.Lo, 100*r.Hi)
}

func formatFraction(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

func formatLoss(p *Point, v float64) string {
	if !p.Losses.Known || p.Workers == 1 && resultfile.IsBaseline(p.Cell.Strategy) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func (r *Report) writeHowToRead(w io.Writer, md bool) {
	text := []string{
		"How to read this: every round measures every cell of a configuration once, in a random order; a ratio (speedup, strategy vs strategy, oversubscription) is the median of the per-round ratios, and its 95% interval a bootstrap over forks and, within them, rounds.",
		"Speedup is throughput over the serial baseline's (serial pooled with its A/A twin serial-aa); efficiency is speedup over workers. The A/A ratio serial-aa / serial is the noise floor: a difference whose interval covers 1 reads \"no difference\", one beyond the floor \"X% slower\", one in between \"X% slower, not beyond the noise floor\".",
		"Karp-Flatt is the serial fraction implied by one point: flat across worker counts means inherent serial work (Amdahl), rising means overhead that grows with workers.",
		"Each run's worker time splits into work (the baseline's time on a CPU for the same work, in the same round), inflation (on a CPU longer than the baseline for the same work: memory bandwidth, caches, clock), waiting (off a CPU within the worker's span: time slicing when workers outnumber CPUs, or a wake-up), imbalance (done while another worker still ran) and overhead (after the last worker was done: join); the tables show the means over runs, which sum to one.",
		"Fits use each curve's capacity relative to its own 1-worker point, over the worker counts within the usable CPUs only, and need the law's parameters plus two points: Amdahl's law (Gustafson's for weak scaling) and the Universal Scalability Law, whose kappa > 0 means throughput peaks and then falls (a peak beyond twice the workers fitted is not predicted).",
	}
	for _, t := range text {
		if md {
			fmt.Fprintf(w, "%s\n\n", t)
		} else {
			fmt.Fprintf(w, "%s\n", t)
		}
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
