package analysis

import (
	"math"
	"strings"
	"testing"
)

func TestUnconvergedCellsAreFlaggedWithoutBuryingTheSummary(t *testing.T) {
	const config = "Hash/shape=uniform/size=64Mi"
	cell := func(strategy string, samples int, half float64) Unconverged {
		return Unconverged{Config: config, Name: config + "/strategy=" + strategy + "/sched=dynamic/workers=1", Samples: samples, HalfWidth: half}
	}
	for _, tt := range []struct {
		name  string
		cells []Unconverged
		want  []string // one per note
	}{
		{"none", nil, nil},
		{"a few, one line each", []Unconverged{cell("serial", 24, 0.155), cell("procpool", 24, 0.03)}, []string{
			"Flagged: " + config + "/strategy=serial/sched=dynamic/workers=1 stopped at 24 samples with its 95% CI at +-15.5%.",
			"Flagged: " + config + "/strategy=procpool/sched=dynamic/workers=1 stopped at 24 samples with its 95% CI at +-3.0%.",
		}},
		{"many, one line", []Unconverged{cell("serial", 24, 0.155), cell("serial-aa", 23, 0.088), cell("goroutines", 24, 0.026), cell("procpool", 24, 0.05)}, []string{
			"Flagged: 4 cells stopped at 23-24 samples with their time's 95% CI at +-2.6% to +-15.5% (widest: strategy=serial/sched=dynamic/workers=1)",
		}},
	} {
		notes := unconvergedNotes(tt.cells)
		if len(notes) != len(tt.want) {
			t.Errorf("%s: %d notes %q, want %d", tt.name, len(notes), notes, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.HasPrefix(notes[i], w) {
				t.Errorf("%s: note %q, want it to begin %q", tt.name, notes[i], w)
			}
		}
	}
}

func TestCalibrationNoteSaysWhenNoPairCouldBeTaken(t *testing.T) {
	few := &Calibration{Cells: make([]*Point, 4), Pairs: make([]CalibrationPair, 6), Across: 3}
	if note := calibrationNote(few, true); !strings.Contains(note, "too few samples") || strings.Contains(note, "0.0%") {
		t.Errorf("no valid pair: %q", note)
	}
	some := &Calibration{Cells: make([]*Point, 4), Pairs: make([]CalibrationPair, 6), Across: 3, Valid: 6, Gap: 0.1, GapWithin: 0.01}
	for paired, want := range map[bool]string{true: "1.0% apart on one side of a process boundary and 10.0% in all (medians of same-round ratios)", false: "(ratios of medians)"} {
		if note := calibrationNote(some, paired); !strings.Contains(note, want) {
			t.Errorf("paired %v: %q, want %q in it", paired, note, want)
		}
	}
	if note := calibrationNote(some, true); strings.Contains(note, "on a CPU") {
		t.Errorf("no on-CPU ratio: %q", note)
	}
	some.AcrossOnCPU, some.DifferOnCPU = 3, 1
	if note, want := calibrationNote(some, true), "on a CPU, which leaves that cost out, 1 of 3 differ"; !strings.Contains(note, want) {
		t.Errorf("%q, want %q in it", note, want)
	}
}

func TestRatiosAreWrittenWithTheirIntervals(t *testing.T) {
	nan := math.NaN()
	for _, tt := range []struct {
		r      Ratio
		digits int
		want   string
	}{
		{Ratio{Center: 1.98, Lo: 1.961, Hi: 2.004, Rounds: 30}, 2, "1.98x (1.96-2.00)"},
		// A calibration pair's 0.3% shows at three decimals, not at two.
		{Ratio{Center: 0.9968, Lo: 0.9934, Hi: 0.9991, Rounds: 30}, 3, "0.997x (0.993-0.999)"},
		{Ratio{Center: 0.9968, Lo: 0.9934, Hi: 0.9991, Rounds: 30}, 2, "1.00x (0.99-1.00)"},
		{Ratio{Center: 1.5, Lo: nan, Hi: nan, Rounds: 1}, 2, "1.50x"},
		{Ratio{Center: nan}, 3, "-"},
	} {
		if got := formatRatioCIDigits(tt.r, "x", tt.digits); got != tt.want {
			t.Errorf("%v at %d digits: %q, want %q", tt.r, tt.digits, got, tt.want)
		}
	}
}
