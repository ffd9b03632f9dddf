package analysis

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/corescale/corescale/resultfile"
)

func TestBoundaryMarks(t *testing.T) {
	epyc := []resultfile.Boundary{{Name: "l3", Workers: 4}, {Name: "numa", Workers: 32}, {Name: "cores", Workers: 64}, {Name: "threads", Workers: 128}}
	for _, tc := range []struct {
		name       string
		boundaries []resultfile.Boundary
		maxWorkers float64
		want       []boundaryMark
	}{
		{"boundaries past the axis are not drawn", epyc, 64, []boundaryMark{{4, "l3"}, {32, "numa"}, {64, "cores"}}},
		{"boundaries at one count share a line", []resultfile.Boundary{{Name: "cores", Workers: 2}, {Name: "threads", Workers: 2}}, 4, []boundaryMark{{2, "cores, threads"}}},
		{"a boundary at one worker is the axis's start", []resultfile.Boundary{{Name: "cores", Workers: 1}, {Name: "threads", Workers: 1}}, 2, nil},
	} {
		if got := boundaryMarks(tc.boundaries, tc.maxWorkers); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// pinnedFile writes a file with unpinned and pinned cells of goroutines
// and procpool, and the machine's boundaries.
func pinnedFile(t *testing.T) string {
	var b strings.Builder
	b.WriteString("ncpu: 8\nusable-cpus: 8\ncpu-boundaries: cores=4 threads=8\nUnit B/s better=higher\n")
	for round := range 8 {
		for _, strategy := range []string{"serial", "serial-aa"} {
			fmt.Fprintf(&b, "BenchmarkHash/shape=uniform/size=64Mi/strategy=%s/sched=dynamic/workers=1 1 %g ns/op\n", strategy, 1e8+float64(round))
		}
		for _, strategy := range []string{"goroutines", "procpool"} {
			for _, pin := range []string{"", "/pin=cores"} {
				for _, w := range []int{1, 2, 4, 8} {
					wall := 1e8 / float64(w)
					if pin != "" {
						wall *= 0.9
					}
					fmt.Fprintf(&b, "BenchmarkHash/shape=uniform/size=64Mi/strategy=%s/sched=dynamic%s/workers=%d 1 %g ns/op\n", strategy, pin, w, wall+float64(round))
				}
			}
		}
	}
	return writeFile(t, "pinned.txt", b.String())
}

func TestPinnedCellsAreCurvesOfTheirOwn(t *testing.T) {
	s, err := Read(pinnedFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if bs := s.Files[0].Boundaries(); !slices.Equal(bs, []resultfile.Boundary{{Name: "cores", Workers: 4}, {Name: "threads", Workers: 8}}) {
		t.Errorf("boundaries %v", bs)
	}
	scs := Analyze(s)
	if len(scs) != 1 {
		t.Fatalf("%d scalings", len(scs))
	}
	var names []string
	for _, cv := range scs[0].Curves {
		names = append(names, cv.Name())
		if len(cv.Points) != 4 {
			t.Errorf("%s has %d points, want 4", cv.Name(), len(cv.Points))
		}
	}
	slices.Sort(names)
	want := []string{"goroutines/dynamic", "goroutines/dynamic/pin=cores", "procpool/dynamic", "procpool/dynamic/pin=cores"}
	if !slices.Equal(names, want) {
		t.Errorf("curves %v, want %v", names, want)
	}
	for _, c := range scs[0].Contrasts() {
		if c.Strategy != "procpool" || c.Base != "goroutines" {
			t.Errorf("contrast %+v: want procpool against goroutines", c)
		}
		// Same placement on both sides: the ratio is the strategies', 1.
		if c.Ratio.Center < 0.99 || c.Ratio.Center > 1.01 {
			t.Errorf("contrast at %d workers pin %q: %v, want about 1", c.Workers, c.Pin, c.Ratio.Center)
		}
	}
	dir := t.TempDir()
	if err := NewReport(s).WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !strings.Contains(string(md), "dynamic/pin=cores") {
		t.Errorf("report.md names no pinned curve (%v)", err)
	}
}
