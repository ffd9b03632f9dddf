package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// synthetic writes a result file of a kernel that follows Amdahl's law
// with the given serial fraction, with 1% noise, for serial and a
// goroutines strategy whose workers are busy for the parallel share.
func synthetic(t *testing.T, serial float64, workers []int, extra string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("ncpu: 8\n" + extra + "Unit B/s better=higher\n")
	const t1 = 0.1 // seconds at one worker
	line := func(strategy string, n int) {
		for range 10 {
			wall := t1 * (serial + (1-serial)/float64(n)) * (1 + 0.01*rng.NormFloat64())
			busy := wall * 0.98
			fmt.Fprintf(&b, "BenchmarkHash/shape=uniform/size=64Mi/strategy=%s/sched=dynamic/workers=%d 1 %g ns/op %g B/s %g busy-max-ns/op %g busy-mean-ns/op\n",
				strategy, n, wall*1e9, 64e6/wall, busy*1e9, busy*0.9*1e9)
		}
	}
	line("serial", 1)
	for _, n := range workers {
		line("goroutines", n)
	}
	return writeFile(t, "amdahl.txt", b.String())
}

func TestAnalyzeComputesSpeedupAndFits(t *testing.T) {
	s, err := Read(synthetic(t, 0.1, []int{1, 2, 4, 8}, ""))
	if err != nil {
		t.Fatal(err)
	}
	scs := Analyze(s)
	if len(scs) != 1 {
		t.Fatalf("%d scalings", len(scs))
	}
	sc := scs[0]
	if sc.Baseline == nil || sc.Baseline.Cell.Strategy != "serial" || sc.Unit != "B/s" {
		t.Fatalf("baseline %+v, unit %q", sc.Baseline, sc.Unit)
	}
	var cv *Curve
	for _, c := range sc.Curves {
		if c.Strategy == "goroutines" {
			cv = c
		}
	}
	p8 := cv.Point(8)
	if want := amdahl(8, 0.1); !within(p8.Speedup, want, 0.03) {
		t.Errorf("speedup at 8 = %.3f, want %.3f", p8.Speedup, want)
	}
	if !within(p8.Efficiency, p8.Speedup/8, 1e-9) || !within(p8.KarpFlatt, 0.1, 0.15) {
		t.Errorf("efficiency %.3f, Karp-Flatt %.3f (want about 0.1)", p8.Efficiency, p8.KarpFlatt)
	}
	if !(p8.SpeedupLo <= p8.Speedup && p8.Speedup <= p8.SpeedupHi) {
		t.Errorf("speedup %.3f outside its interval [%.3f, %.3f]", p8.Speedup, p8.SpeedupLo, p8.SpeedupHi)
	}
	l := p8.Losses
	if !l.Known || !within(p8.Efficiency+l.Inflation+l.Imbalance+l.Overhead, 1, 1e-9) {
		t.Errorf("losses %+v do not add up with efficiency %.3f to 1", l, p8.Efficiency)
	}
	if name, _ := l.Main(); name != "work inflation" {
		t.Errorf("main loss %q, want work inflation (the serial part shows as longer busy times)", name)
	}
	amd := cv.Fit("Amdahl")
	if amd == nil || !within(amd.Serial, 0.1, 0.1) {
		t.Errorf("Amdahl fit %v, want serial fraction 0.1", amd)
	}
	if cv.Fit("USL") == nil {
		t.Error("no USL fit")
	}
	if !math.IsNaN(cv.Point(1).KarpFlatt) {
		t.Error("Karp-Flatt defined at one worker")
	}
	if d := sc.Diagnosis(8); !strings.Contains(d, "at 8 workers") || !strings.Contains(d, "goroutines/dynamic") {
		t.Errorf("diagnosis %q", d)
	}
}

func TestAnalyzeSaysWhenItCannotFit(t *testing.T) {
	s, err := Read(synthetic(t, 0.1, []int{1, 2}, ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range Analyze(s)[0].Curves {
		if cv.Strategy == "goroutines" && (len(cv.Fits) != 0 || !strings.Contains(cv.FitNote, "at least 3")) {
			t.Errorf("curve with 2 worker counts: fits %v, note %q", cv.Fits, cv.FitNote)
		}
	}
}

func TestWeakScalingFitsGustafson(t *testing.T) {
	s, err := Read(synthetic(t, 0.1, []int{1, 2, 4}, "scaling: weak\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc := Analyze(s)[0]
	if !sc.Weak {
		t.Fatal("scaling: weak not seen")
	}
	for _, cv := range sc.Curves {
		if cv.Strategy == "goroutines" && cv.Fit("Gustafson") == nil {
			t.Errorf("no Gustafson fit: %v %q", cv.Fits, cv.FitNote)
		}
	}
}

func TestContrastsCarryPValues(t *testing.T) {
	a := synthetic(t, 0.1, []int{1, 2}, "")
	content, _ := os.ReadFile(a)
	// A procpool strategy 10% slower than goroutines at every count.
	var extra strings.Builder
	for _, line := range strings.Split(string(content), "\n") {
		if strings.Contains(line, "strategy=goroutines") {
			f := strings.Fields(line)
			var ns float64
			fmt.Sscan(f[2], &ns)
			f[0] = strings.Replace(f[0], "goroutines", "procpool", 1)
			f[2] = fmt.Sprint(ns * 1.1)
			extra.WriteString(strings.Join(f, " ") + "\n")
		}
	}
	s, err := Read(writeFile(t, "two.txt", string(content)+extra.String()))
	if err != nil {
		t.Fatal(err)
	}
	cs := Analyze(s)[0].Contrasts()
	if len(cs) != 2 {
		t.Fatalf("%d contrasts, want one per worker count", len(cs))
	}
	for _, c := range cs {
		if c.Strategy != "procpool" || c.Base != "goroutines" || !within(c.Delta, 0.1, 0.2) || c.Comparison.P >= 0.05 {
			t.Errorf("contrast %+v: want procpool about 10%% slower than goroutines, p < 0.05", c)
		}
	}
}

func TestReportWritesMarkdownAndCharts(t *testing.T) {
	s, err := Read(synthetic(t, 0.05, []int{1, 2, 4}, "commit: aaa\n"), synthetic(t, 0.2, []int{1, 2, 4}, "commit: bbb\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReport(s)
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"commit=aaa", "commit=bbb", "Karp-Flatt", "USL sigma", "Hash/shape=uniform/size=64Mi at 4 workers"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	dir := t.TempDir()
	if err := r.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, chart := range []string{"Hash-shapeuniform-size64Mi-speedup.png", "Hash-shapeuniform-size64Mi-efficiency.png"} {
		if !strings.Contains(string(md), "]("+chart+")") {
			t.Errorf("report.md does not show %s", chart)
		}
		png, err := os.ReadFile(filepath.Join(dir, chart))
		if err != nil || len(png) < 1000 || string(png[1:4]) != "PNG" {
			t.Errorf("%s is not a PNG chart (%d bytes, %v)", chart, len(png), err)
		}
	}
}
