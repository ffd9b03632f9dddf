package ceiling

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
)

func TestParseOpensslSpeedReadsTheResultTable(t *testing.T) {
	out := `Doing sha256 for 1s on 16384 size blocks: 96265 sha256's in 1.00s
version: 3.0.19
The 'numbers' are in 1000s of bytes per second processed.
type          16384 bytes
sha256         1577189.38k
`
	got, err := parseOpensslSpeed([]byte(out))
	if err != nil || got != 1577189.38e3 {
		t.Errorf("parseOpensslSpeed = %v, %v; want 1.57718938e9", got, err)
	}
	if _, err := parseOpensslSpeed([]byte("Doing sha256 for 1s\n")); err == nil {
		t.Error("parseOpensslSpeed without a table: no error")
	}
}

func TestFlopsPerCycleTakesTheWidestVectors(t *testing.T) {
	for _, tt := range []struct {
		flags string
		want  int
	}{
		{"fpu sse2 avx avx2 fma avx512f", 32},
		{"fpu sse2 avx avx2 fma", 16},
		{"fpu sse2 avx avx2", 8}, // AVX2 without FMA: adds and multiplies
		{"fpu sse2 avx", 8},
		{"fpu sse2", 4},
		{"fpu", 2},
	} {
		if got, _ := flopsPerCycle(strings.Fields(tt.flags)); got != tt.want {
			t.Errorf("flopsPerCycle(%s) = %d, want %d", tt.flags, got, tt.want)
		}
	}
}

func TestCeilingsWithoutOpensslSkipTheHashCeiling(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	cs, err := Ceilings(context.Background(), []kernels.Params{{Kernel: "hash", Shape: "uniform", Size: 1 << 20, Chunks: 4, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Skipped == "" || !strings.Contains(cs[0].Skipped, "openssl not found") {
		t.Fatalf("Ceilings without openssl = %+v, want one skipped hash ceiling", cs)
	}
	var buf bytes.Buffer
	if err := resultfile.Write(&buf, &resultfile.File{Ceilings: Records(cs)}); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.HasPrefix(s, "# ceiling: BenchmarkCeiling/kernel=hash/source=openssl-sha256/cores=1: skipped: openssl not found") {
		t.Errorf("written: %q", s)
	}
}

func TestCeilingsAreResultLinesAfterTheSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for about 1.5 s")
	}
	configs := []kernels.Params{
		{Kernel: "hash", Shape: "uniform", Size: 1 << 20, Chunks: 4, Seed: 1},
		{Kernel: "matmul", Shape: "square", Size: 64, Chunks: 4, Seed: 1},
		{Kernel: "search", Shape: "uniform", Size: 1 << 22, Chunks: 4, Seed: 1},
	}
	cs, err := Ceilings(context.Background(), configs)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cs {
		t.Logf("%s: %.4g %s (%s)%s", c.Record().Name(), c.Value, c.Unit, c.Method, c.Skipped)
		seen[c.Kernel+"/"+c.Source] = true
		if c.Skipped == "" && !(c.Value > 0) {
			t.Errorf("%s = %v", c.Record().Name(), c.Value)
		}
	}
	for _, want := range []string{"hash/openssl-sha256", "matmul/fma-peak", "matmul/fp64-peak", "search/memory-latency", "search/memory-bandwidth", "search/memory-probe"} {
		if !seen[want] {
			t.Errorf("no %s ceiling", want)
		}
	}

	// In a result file, the ceilings read back with their figures and
	// how they were obtained.
	var buf bytes.Buffer
	if err := resultfile.Write(&buf, &resultfile.File{Config: []resultfile.Config{{Key: "cpu", Value: "test"}}, Ceilings: Records(cs)}); err != nil {
		t.Fatal(err)
	}
	t.Logf("result file:\n%s", buf.String())
	f, err := resultfile.Read(&buf, "ceilings.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Ceilings, Records(cs)) {
		t.Errorf("read back\n%+v\nwant\n%+v", f.Ceilings, Records(cs))
	}
	if f.Units.GetBetter(resultfile.TidyUnit(resultfile.UnitLoad)) != -1 || f.Units.GetBetter("queries/s") != 1 {
		t.Errorf("unit metadata %v", f.Units)
	}
}

func TestSearchQueryTimeChargesEachLevelItsFootprint(t *testing.T) {
	// A machine whose loads cost 1 ns while they fit in 4096 lines and
	// 10 ns beyond.
	perLoad := func(lines int) float64 {
		if lines <= 4096 {
			return 1
		}
		return 10
	}
	tests := []struct {
		keys int
		want float64
	}{
		{1, 1},                  // one level, one line
		{1 << 12, 13},           // 13 levels over 512 lines: all cached
		{1 << 15, 16},           // 16 levels over 4096 lines: all cached
		{1 << 16, 13*1 + 4*10},  // 17 levels over 8192 lines: levels 13-16 can touch more than 4096
		{1 << 22, 13*1 + 10*10}, // 23 levels: levels 13-22 spill
	}
	for _, tt := range tests {
		if got := searchQueryTime(tt.keys, perLoad); got != tt.want {
			t.Errorf("searchQueryTime(%d) = %v, want %v", tt.keys, got, tt.want)
		}
	}
}
