package resultfile_test

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/corescale/corescale/internal/topology"
	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner"
)

func TestBoundariesRoundTrip(t *testing.T) {
	bs := []resultfile.Boundary{{Name: resultfile.BoundaryL3, Workers: 4}, {Name: resultfile.BoundaryNUMA, Workers: 32}, {Name: resultfile.BoundaryCores, Workers: 64}, {Name: resultfile.BoundaryThreads, Workers: 128}}
	s := resultfile.FormatBoundaries(bs)
	if s != "l3=4 numa=32 cores=64 threads=128" {
		t.Errorf("FormatBoundaries = %q", s)
	}
	if got, err := resultfile.ParseBoundaries(s); err != nil || !slices.Equal(got, bs) {
		t.Errorf("ParseBoundaries(%q) = %v, %v", s, got, err)
	}
	if got, err := resultfile.ParseBoundaries(""); err != nil || got != nil {
		t.Errorf("ParseBoundaries of nothing = %v, %v", got, err)
	}
	for _, bad := range []string{"cores", "cores=x", "=4", "cores=0"} {
		if _, err := resultfile.ParseBoundaries(bad); err == nil {
			t.Errorf("ParseBoundaries(%q) succeeded", bad)
		}
	}
}

// A pinned cell's name carries its policy, read back into Cell.Pin; an
// unpinned one's name is as before placement existed. benchstat pivots on
// the pin key.
func TestPinIsASubBenchmarkKey(t *testing.T) {
	out := outcome()
	var pinned []runner.Sample
	for _, s := range out.Samples {
		if s.Cell.Strategy == resultfile.Procpool && s.Cell.Sched.String() == resultfile.SchedDynamic {
			s.Cell.Pin = topology.Cores
			pinned = append(pinned, s)
		}
	}
	out.Samples = append(out.Samples, pinned...)
	path := writeOutcome(t, out, nil, nil)
	f, err := resultfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range f.Samples {
		hasKey := strings.Contains(s.Name, "/pin=cores/workers=")
		if (s.Cell.Pin == "cores") != hasKey || s.Cell.Pin != "" && s.Cell.Pin != "cores" {
			t.Errorf("%s read back with pin %q", s.Name, s.Cell.Pin)
		}
		if hasKey {
			n++
		}
	}
	if n != len(pinned) {
		t.Errorf("%d pinned samples read back, wrote %d", n, len(pinned))
	}
	if testing.Short() {
		return
	}
	if _, err := exec.LookPath("go"); err != nil {
		return
	}
	b, err := exec.Command("go", "tool", "benchstat", "-col", "/pin", "-filter", ".name:Hash /strategy:procpool /sched:dynamic", path).CombinedOutput()
	if err != nil {
		t.Fatalf("benchstat -col /pin: %v\n%s", err, b)
	}
	if !regexp.MustCompile(`│\s+cores\s+│`).Match(b) {
		t.Errorf("benchstat -col /pin has no cores column:\n%s", b)
	}
}
