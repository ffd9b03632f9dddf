package analysis

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadGroupsSamplesByCell(t *testing.T) {
	s, err := Read("testdata/small.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cells) != 2 || len(s.Startups) != 1 {
		t.Fatalf("%d cells, %d start-ups; want 2 and 1", len(s.Cells), len(s.Startups))
	}
	c := s.Cells[0]
	if c.Kernel != "Matmul" || c.Shape != "square" || c.Size != "128" || c.Strategy != "serial" || c.Sched != "dynamic" || c.Workers != 1 {
		t.Errorf("cell %+v", c)
	}
	if got := c.Values[UnitTime]; len(got) != 2 || got[0] != 0.001 {
		t.Errorf("sec/op samples %v", got)
	}
	if got := c.Values[UnitBusyMax]; len(got) != 2 {
		t.Errorf("busy-max samples %v", got)
	}
	if st := s.Startups[0]; st.Config.Kernel != "Matmul" || st.Workers != 2 || st.Seconds[0] != 0.003 {
		t.Errorf("start-up %+v", st)
	}
	if s.Files[0].Config["commit"] != "abc123" || s.Files[0].Label != "small.txt" {
		t.Errorf("file %+v", s.Files[0])
	}
	if s.Units.GetBetter("FLOP/s") != 1 {
		t.Error("unit metadata lost")
	}
}

func TestReadTakesWorkersFromTheGOMAXPROCSSuffix(t *testing.T) {
	path := writeFile(t, "bench.txt", `BenchmarkHash/shape=uniform/size=64Mi/strategy=goroutines/sched=dynamic-4 3 100 ns/op
BenchmarkHash/shape=uniform/size=64Mi/strategy=goroutines/sched=dynamic 3 400 ns/op
BenchmarkHash/shape=uniform/size=64Mi/strategy=serial/sched=dynamic-4 3 400 ns/op
`)
	s, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{4, 1, 1} {
		if got := s.Cells[i].Workers; got != want {
			t.Errorf("%s: workers %d, want %d", s.Cells[i].Name, got, want)
		}
	}
}

func TestReadLabelsFilesByWhatDiffers(t *testing.T) {
	a := writeFile(t, "a.txt", "commit: aaa\nhost: x\ndate: 1\nBenchmarkX 1 1 ns/op\n")
	b := writeFile(t, "b.txt", "commit: bbb\nhost: x\ndate: 2\nBenchmarkX 1 1 ns/op\n")
	s, err := Read(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if s.Files[0].Label != "commit=aaa" || s.Files[1].Label != "commit=bbb" {
		t.Errorf("labels %q, %q", s.Files[0].Label, s.Files[1].Label)
	}
}

func TestLabelsLeaveOutKeysAFileLacksAndRunFacts(t *testing.T) {
	// go test output has no commit, corescale's files have order seeds
	// that differ between any two runs.
	a := writeFile(t, "a.txt", "pkg: sync\nBenchmarkX 1 1 ns/op\n")
	b := writeFile(t, "b.txt", "pkg: sync\n# commit: bbb\n# order-seed: 7\n# runnable: 1\nBenchmarkX 1 1 ns/op\n")
	s, err := Read(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if s.Files[0].Label != "a.txt" || s.Files[1].Label != "commit=bbb" {
		t.Errorf("labels %q, %q; want a.txt and commit=bbb", s.Files[0].Label, s.Files[1].Label)
	}
}

func TestReadRefusesBadFiles(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "no benchmark results"},
		{"no results", "goos: linux\nPASS\n", "no benchmark results"},
		{"malformed", "BenchmarkX 1 notanumber ns/op\n", "parsing measurement"},
		{"odd fields", "BenchmarkX 1 1\n", "missing units"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(writeFile(t, "r.txt", tt.content))
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read gave %v, want an input error mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.txt")); !errors.Is(err, ErrInput) {
		t.Errorf("a missing file gave %v", err)
	}
	if _, err := Read(); !errors.Is(err, ErrInput) {
		t.Errorf("no files gave %v", err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A line that names a unit twice keeps its first value: a unit's values
// stay one per sample, in the samples' order (the fuzzer found a report
// that indexed rounds by such a unit's second value and panicked).
func TestReadKeepsOneValueOfAUnitPerSample(t *testing.T) {
	path := writeFile(t, "twice.txt", "BenchmarkHash/strategy=serial/workers=1 1 5 ns/op 7 ns/op\nBenchmarkHash/strategy=serial/workers=1 1 6 ns/op\n")
	s, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Cells[0].Values[UnitTime]; len(got) != 2 || math.Abs(got[0]-5e-9) > 1e-15 || math.Abs(got[1]-6e-9) > 1e-15 {
		t.Errorf("sec/op values %v, want the first of each line: [5e-09 6e-09]", got)
	}
	NewReport(s) // analyses without panicking
}
