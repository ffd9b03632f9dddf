package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// kindsAndNames lists findings as "KIND name", for comparing with a want list.
func kindsAndNames(findings []Finding) []string {
	var out []string
	for _, f := range findings {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%v %s", f.Kind, f.Name)))
	}
	return out
}

func TestGate(t *testing.T) {
	suite := cmpSuite(10, 0.01)
	five := GateOptions{Threshold: 0.05, Alpha: 0.05}
	allow := func(o GateOptions, missing, undecided bool) GateOptions {
		o.AllowMissing, o.AllowUndecided = missing, undecided
		return o
	}
	tests := []struct {
		name         string
		old, new     []cmpBench
		opts         GateOptions
		wantFailures []string // "KIND name" of each failure, in order
		wantNotes    []string
	}{
		{
			name: "a benchmark 20% slower fails and is named",
			old:  suite, new: changed(suite, cmpMatmulPool, func(b *cmpBench) { b.sec *= 1.2 }),
			opts:         five,
			wantFailures: []string{"REGRESSION " + cmpMatmulPool},
		},
		{
			name: "1% noise everywhere passes",
			old:  suite, new: suite,
			opts: five,
		},
		{
			name: "2% noise everywhere passes",
			old:  cmpSuite(10, 0.02), new: cmpSuite(10, 0.02),
			opts: five,
		},
		{
			name: "a significant slowdown within the threshold passes",
			old:  suite, new: changed(suite, cmpHash, func(b *cmpBench) { b.sec *= 1.03 }),
			opts: five,
		},
		{
			name: "a zero threshold fails any significant slowdown",
			old:  suite, new: changed(suite, cmpHash, func(b *cmpBench) { b.sec *= 1.03 }),
			opts:         GateOptions{Threshold: 0, Alpha: 0.05},
			wantFailures: []string{"REGRESSION " + cmpHash},
		},
		{
			name: "a faster benchmark passes and is noted",
			old:  suite, new: changed(suite, cmpSearch, func(b *cmpBench) { b.sec *= 0.8 }),
			opts:      five,
			wantNotes: []string{"IMPROVEMENT " + cmpSearch},
		},
		{
			name: "a throughput drop at the same time per operation fails",
			old:  suite, new: changed(suite, cmpHash, func(b *cmpBench) { b.work *= 0.8 }),
			opts:         five,
			wantFailures: []string{"REGRESSION " + cmpHash},
		},
		{
			name: "a throughput rise passes",
			old:  suite, new: changed(suite, cmpHash, func(b *cmpBench) { b.work *= 1.2 }),
			opts:      five,
			wantNotes: []string{"IMPROVEMENT " + cmpHash},
		},
		{
			name: "more busy time alone passes: it is a diagnostic",
			old:  suite, new: changed(suite, cmpMatmulPool, func(b *cmpBench) { b.busy = 0.99 }),
			opts: five,
		},
		{
			name: "a benchmark missing from new fails",
			old:  suite, new: without(suite, cmpHash),
			opts:         five,
			wantFailures: []string{"MISSING " + cmpHash},
		},
		{
			name: "a missing benchmark passes when allowed",
			old:  suite, new: without(suite, cmpHash),
			opts:      allow(five, true, false),
			wantNotes: []string{"MISSING " + cmpHash},
		},
		{
			name: "a throughput missing from new fails",
			old:  suite, new: changed(suite, cmpSearch, func(b *cmpBench) { b.unit = "" }),
			opts:         five,
			wantFailures: []string{"MISSING " + cmpSearch},
		},
		{
			name: "a benchmark only in new passes",
			old:  without(suite, cmpSearch), new: suite,
			opts:      five,
			wantNotes: []string{"ADDED " + cmpSearch},
		},
		{
			name: "too few samples are undecided and fail",
			old:  changed(suite, cmpHash, func(b *cmpBench) { b.n = 3 }), new: changed(suite, cmpHash, func(b *cmpBench) { b.n = 3 }),
			opts:         five,
			wantFailures: []string{"UNDECIDED " + cmpHash},
		},
		{
			name: "too few samples pass when undecided is allowed",
			old:  cmpSuite(3, 0.01), new: cmpSuite(3, 0.01),
			opts: allow(five, false, true),
			wantNotes: []string{
				"UNDECIDED " + cmpMatmulSerial, "UNDECIDED " + cmpMatmulPool,
				"UNDECIDED " + cmpHash, "UNDECIDED " + cmpSearch,
			},
		},
		{
			name: "files with no benchmark in common fail even when missing is allowed",
			old:  suite[:2], new: suite[2:],
			opts:         allow(five, true, false),
			wantFailures: []string{"NOTHING JUDGED"},
			wantNotes: []string{
				"MISSING " + cmpMatmulSerial, "MISSING " + cmpMatmulPool,
				"ADDED " + cmpHash, "ADDED " + cmpSearch,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Gate(compareSuites(t, tt.old, tt.new), tt.opts)
			if got := kindsAndNames(r.Failures); !slices.Equal(got, tt.wantFailures) {
				t.Errorf("failures %q, want %q", got, tt.wantFailures)
			}
			if got := kindsAndNames(r.Notes); !slices.Equal(got, tt.wantNotes) {
				t.Errorf("notes %q, want %q", got, tt.wantNotes)
			}
			if r.Passed() != (len(tt.wantFailures) == 0) {
				t.Errorf("passed %v with failures %q", r.Passed(), kindsAndNames(r.Failures))
			}
		})
	}
}

func TestGateFailsBothTimeAndThroughputOfASlowerBenchmark(t *testing.T) {
	suite := cmpSuite(10, 0.01)
	r := Gate(compareSuites(t, suite, changed(suite, cmpMatmulPool, func(b *cmpBench) { b.sec *= 1.2 })), GateOptions{Threshold: 0.05})
	if len(r.Failures) != 1 {
		t.Fatalf("failures %q, want one", kindsAndNames(r.Failures))
	}
	var units []string
	for _, c := range r.Failures[0].Comparisons {
		units = append(units, c.Unit)
	}
	if want := []string{UnitTime, UnitFLOP}; !slices.Equal(units, want) {
		t.Errorf("regressed units %v, want %v", units, want)
	}
	if r.Judged != 4 || r.Threshold != 0.05 || r.Alpha != 0.05 {
		t.Errorf("judged %d at threshold %v alpha %v; want 4 at 0.05, 0.05 (alpha from the comparisons)", r.Judged, r.Threshold, r.Alpha)
	}
}

func TestGateDoesNotFailOnNoiseWhateverTheSeed(t *testing.T) {
	// 2% noise, 10 samples a side: the median moves by about 1%, far from
	// the 5% threshold. A false alarm here would be a bug, not bad luck.
	for seed := uint64(1); seed <= 30; seed++ {
		suite := cmpSuite(10, 0.02)
		old := readCmpSet(t, writeCmpFile(t, seed, true, suite...))
		new := readCmpSet(t, writeCmpFile(t, seed+1000, true, suite...))
		if r := Gate(Compare(old, new, 0.05), GateOptions{Threshold: 0.05}); !r.Passed() {
			t.Errorf("seed %d: failures %q", seed, kindsAndNames(r.Failures))
		}
	}
}

func TestFindingsSayWhatHappenedAndWhatToDo(t *testing.T) {
	suite := cmpSuite(10, 0.01)
	few := changed(suite, cmpHash, func(b *cmpBench) { b.n = 3 })
	tests := []struct {
		name     string
		old, new []cmpBench
		wantKind FindingKind
		want     []string
	}{
		{"a regression gives the change, both medians and the test",
			suite, changed(suite, cmpMatmulPool, func(b *cmpBench) { b.sec *= 1.2 }), Regression,
			[]string{"REGRESSION " + cmpMatmulPool + ": sec/op +", "ms → ", "p=0.000 n=10", "; FLOP/s -", "G FLOP/s"}},
		{"a missing benchmark says where it is missing",
			suite, without(suite, cmpHash), Missing,
			[]string{"MISSING " + cmpHash + ": in OLD, missing from NEW"}},
		{"a missing unit names it",
			suite, changed(suite, cmpSearch, func(b *cmpBench) { b.unit = "" }), Missing,
			[]string{"MISSING " + cmpSearch + ": queries/s in OLD, missing from NEW"}},
		{"an undecided benchmark asks for more samples",
			few, few, Undecided,
			[]string{"UNDECIDED " + cmpHash + ": sec/op", "n=3+3", "too few samples for p < 0.05", "at least 4 per side"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Gate(compareSuites(t, tt.old, tt.new), GateOptions{Threshold: 0.05})
			if len(r.Failures) != 1 || r.Failures[0].Kind != tt.wantKind {
				t.Fatalf("failures %q, want one %v", kindsAndNames(r.Failures), tt.wantKind)
			}
			msg := r.Failures[0].String()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestSamplesNeededMatchesBenchmath(t *testing.T) {
	// benchmath documents 4 samples a side for alpha 0.05 (its uTestMinP
	// table); 5 for 0.01.
	for alpha, want := range map[float64]int{0.05: 4, 0.01: 5} {
		if got := samplesNeeded(alpha); got != want {
			t.Errorf("alpha %v: %d samples, want %d", alpha, got, want)
		}
	}
}

func TestHolmAdjustsForTheNumberOfBenchmarksJudged(t *testing.T) {
	byName := map[string][]Comparison{}
	names := []string{"a", "b", "c", "d"}
	for name, p := range map[string]float64{"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.5} {
		byName[name] = []Comparison{{Name: name, Unit: UnitTime, P: p, Old: Side{N: 10}, New: Side{N: 10}}}
	}
	got := holm(names, byName)
	// Sorted: a 0.01*4 = 0.04; c 0.03*3 = 0.09; b 0.04*2 = 0.08 -> 0.09 (monotone); d 0.5.
	want := map[string]float64{"a": 0.04, "c": 0.09, "b": 0.09, "d": 0.5}
	for name, w := range want {
		if math.Abs(got[name]-w) > 1e-12 {
			t.Errorf("adjusted p of %s = %g, want %g", name, got[name], w)
		}
	}
}
