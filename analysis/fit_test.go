package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// noisy returns the law's capacities at n with multiplicative noise of the
// given relative size, as repeated medians would have.
func noisy(n []float64, law func(float64) float64, noise float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0))
	c := make([]float64, len(n))
	for i, x := range n {
		c[i] = law(x) * (1 + noise*rng.NormFloat64())
	}
	return c
}

func within(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

func TestFitsRecoverKnownParameters(t *testing.T) {
	n := []float64{1, 2, 4, 8, 16, 32}
	tests := []struct {
		name          string
		fit           func(n, c []float64) (*Fit, error)
		law           func(float64) float64
		serial, kappa float64
		peak          int
	}{
		{"Amdahl at 5% serial", FitAmdahl, func(x float64) float64 { return amdahl(x, 0.05) }, 0.05, 0, 0},
		{"Amdahl at 20% serial", FitAmdahl, func(x float64) float64 { return amdahl(x, 0.2) }, 0.2, 0, 0},
		{"Gustafson at 10% serial", FitGustafson, func(x float64) float64 { return x - 0.1*(x-1) }, 0.1, 0, 0},
		{"USL with contention and crosstalk", FitUSL, func(x float64) float64 { return usl(x, 0.05, 0.002) }, 0.05, 0.002, 21},
		{"USL with contention only", FitUSL, func(x float64) float64 { return usl(x, 0.08, 0) }, 0.08, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(5) {
				c := noisy(n, tt.law, 0.002, seed)
				f, err := tt.fit(n, c)
				if err != nil {
					t.Fatal(err)
				}
				if !within(f.Serial, tt.serial, 0.05) || (tt.kappa > 0 && !within(f.Kappa, tt.kappa, 0.05)) || (tt.kappa == 0 && f.Kappa > 1e-4) {
					t.Errorf("seed %d: %v; want serial %g, kappa %g within 5%%", seed, f, tt.serial, tt.kappa)
				}
				if tt.peak > 0 && (f.Peak < tt.peak-1 || f.Peak > tt.peak+1) {
					t.Errorf("seed %d: peak at %d, want %d", seed, f.Peak, tt.peak)
				}
				if f.R2 < 0.99 {
					t.Errorf("seed %d: R2 %.4f on near-exact data", seed, f.R2)
				}
			}
		})
	}
}

func TestFitsRefuseTooFewWorkerCounts(t *testing.T) {
	for name, fit := range map[string]func(n, c []float64) (*Fit, error){"Amdahl": FitAmdahl, "Gustafson": FitGustafson, "USL": FitUSL} {
		if f, err := fit([]float64{1, 2}, []float64{1, 1.9}); err == nil {
			t.Errorf("%s fitted two points: %v", name, f)
		}
	}
}

func TestFitsFlagParametersOutOfRangeOrAtABound(t *testing.T) {
	// Faster than linear (caches): Amdahl's serial fraction comes out
	// negative and the USL's sigma and kappa sit at their bound 0.
	n := []float64{1, 2, 4, 8}
	c := []float64{1, 2.1, 4.4, 9}
	amd, err := FitAmdahl(n, c)
	if err != nil {
		t.Fatal(err)
	}
	amd.flag(8)
	if len(amd.Flags) != 1 || !strings.Contains(amd.Flags[0], "< 0") {
		t.Errorf("Amdahl serial fraction %.3f: flags %q", amd.Serial, amd.Flags)
	}
	usl, err := FitUSL(n, c)
	if err != nil {
		t.Fatal(err)
	}
	usl.flag(8)
	if !slices.Contains(usl.Flags, "kappa at its bound 0") {
		t.Errorf("USL sigma %.3g kappa %.3g: flags %q", usl.Serial, usl.Kappa, usl.Flags)
	}
	// A peak far beyond the points is not predicted.
	far := &Fit{Law: USL, Serial: 0.01, Kappa: 1e-5, Peak: 314}
	far.flag(8)
	if far.Peak != 0 {
		t.Errorf("peak at %d predicted from 8 workers", far.Peak)
	}
}

func TestRatesReadAsBenchstatPrintsThem(t *testing.T) {
	// benchstat scales units with bytes in them by powers of 1024 and the
	// others by powers of 1000; the report must print the same digits.
	for _, tt := range []struct {
		v    float64
		unit string
		want string
	}{
		{1.411e9, "B/s", "1.314Gi B/s"},
		{2.7e10, "FLOP/s", "27.00G FLOP/s"},
		{9.9e6, "queries/s", "9.900M queries/s"},
	} {
		if got := formatRate(tt.v, tt.unit); got != tt.want {
			t.Errorf("formatRate(%g, %s) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}
