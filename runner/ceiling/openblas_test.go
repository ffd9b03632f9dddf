package ceiling

import (
	"context"
	"strings"
	"testing"
)

func TestParseOpenblasDgemmReadsEveryLine(t *testing.T) {
	out := "n=512 mode=whole best=69.50 median=68.40 GFLOP/s core=SkylakeX config=OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64\n" +
		"n=512 mode=bands best=24.40 median=23.80 GFLOP/s core=SkylakeX config=OpenBLAS 0.3.21\n"
	lines, err := parseOpenblasDgemm([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []openblasLine{
		{n: 512, mode: "whole", best: 69.5, median: 68.4, core: "SkylakeX", config: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64"},
		{n: 512, mode: "bands", best: 24.4, median: 23.8, core: "SkylakeX", config: "OpenBLAS 0.3.21"},
	}
	if len(lines) != len(want) || lines[0] != want[0] || lines[1] != want[1] {
		t.Errorf("parseOpenblasDgemm = %+v, want %+v", lines, want)
	}
	for _, bad := range []string{
		"n=512 mode=whole best=69.50 GFLOP/s core=SkylakeX config=x", // a field missing
		"n=0 mode=whole best=1 median=1 GFLOP/s core=x config=y",
		"n=512 mode=whole best=1 median=-1 GFLOP/s core=x config=y",
		"n=512 mode=whole best=1 median=NaN GFLOP/s core=x config=y",
		"segmentation fault",
	} {
		if _, err := parseOpenblasDgemm([]byte(bad + "\n")); err == nil {
			t.Errorf("parseOpenblasDgemm(%q): no error", bad)
		}
	}
}

// TestOpenblasCeilingsBuildAndRunWhereInstalled runs the real reference:
// where cc and OpenBLAS are installed it must give a figure per size with
// the core type OpenBLAS chose, elsewhere a skip that says what to install.
func TestOpenblasCeilingsBuildAndRunWhereInstalled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a C program for about a second")
	}
	cs := openblasCeilings(context.Background(), []int{64, 96})
	for _, c := range cs {
		t.Logf("%s: %.4g %s (%s)%s", c.Record().Name(), c.Value, c.Unit, c.Method, c.Skipped)
	}
	if len(cs) == 1 && cs[0].Skipped != "" {
		if !strings.Contains(cs[0].Skipped, "install") && !strings.Contains(cs[0].Skipped, "C compiler") {
			t.Errorf("skipped for a reason that names no remedy: %q", cs[0].Skipped)
		}
		t.Skipf("no OpenBLAS here: %s", cs[0].Skipped)
	}
	if len(cs) != 2 {
		t.Fatalf("%d ceilings for 2 sizes", len(cs))
	}
	for i, c := range cs {
		if c.Size != []int{64, 96}[i] || !(c.Value > 1e8) || c.Skipped != "" || !strings.Contains(c.Method, "core type ") {
			t.Errorf("ceiling %d: %+v", i, c)
		}
	}
}

func TestOpenblasCeilingsWithoutACompilerSayWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	cs := openblasCeilings(context.Background(), []int{512})
	if len(cs) != 1 || !strings.Contains(cs[0].Skipped, "no C compiler") {
		t.Errorf("openblasCeilings without cc = %+v", cs)
	}
	if cs := openblasCeilings(context.Background(), nil); cs != nil {
		t.Errorf("openblasCeilings without matmul sizes = %+v, want none", cs)
	}
}
