package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The interval of a paired ratio covers the true ratio at least about as
// often as it says: for A/A pairs (true ratio 1) with drift that every
// round shares, noise of their own, and a heavy tail (a tenth of the runs
// hit by up to 20% more), it may miss 1 in at most 6.5% of 400 simulated
// sweeps of one process. A percentile bootstrap of the median missed in
// 6-9%.
func TestPairedIntervalsCoverTheTrueRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for _, rounds := range []int{6, 10, 30} {
		const trials = 400
		miss := 0
		for range trials {
			var num, den series
			num.paired, den.paired = true, true
			for r := range rounds {
				noise := func() float64 {
					if rng.Float64() < 0.1 {
						return math.Exp(0.2 * rng.ExpFloat64())
					}
					return math.Exp(0.03 * rng.NormFloat64())
				}
				drift := 1 + 0.01*float64(r)
				num.values, den.values = append(num.values, drift*noise()), append(den.values, drift*noise())
				num.rounds, den.rounds = append(num.rounds, r), append(den.rounds, r)
				num.forks, den.forks = append(num.forks, 0), append(den.forks, 0)
			}
			if r := ratioOf(num, den); !(r.Lo <= 1 && 1 <= r.Hi) {
				miss++
			}
		}
		if rate := float64(miss) / trials; rate > 0.065 {
			t.Errorf("%d rounds: the interval missed the true ratio in %.1f%% of %d sweeps, want about 5%% at most", rounds, 100*rate, trials)
		}
	}
}

// With forks the interval covers the true ratio too when each process
// shifts it by luck of its own (memory placement, the CPUs its workers
// landed on): the bootstrap over forks and rounds alone missed in 16% of
// these sweeps of 3 forks and 9% of those of 5, resampling too few forks to
// see their spread (with the t interval over forks: 3% and 5%).
func TestPairedIntervalsCoverTheTrueRatioAcrossForks(t *testing.T) {
	for _, tt := range []struct {
		forks, rounds int
		shift         float64 // sd of each fork's own factor on the ratio
	}{
		{3, 9, 0},
		{3, 9, 0.05},
		{5, 6, 0.05},
	} {
		rng := rand.New(rand.NewPCG(11, uint64(tt.forks)))
		const trials = 300
		miss := 0
		for range trials {
			var num, den series
			num.paired, den.paired = true, true
			for f := range tt.forks {
				luck := math.Exp(tt.shift * rng.NormFloat64())
				for r := range tt.rounds {
					noise := func() float64 {
						if rng.Float64() < 0.1 {
							return math.Exp(0.2 * rng.ExpFloat64())
						}
						return math.Exp(0.03 * rng.NormFloat64())
					}
					drift := 1 + 0.01*float64(r)
					num.values, den.values = append(num.values, luck*drift*noise()), append(den.values, drift*noise())
					num.rounds, den.rounds = append(num.rounds, r), append(den.rounds, r)
					num.forks, den.forks = append(num.forks, f), append(den.forks, f)
				}
			}
			if r := ratioOf(num, den); !(r.Lo <= 1 && 1 <= r.Hi) {
				miss++
			}
		}
		if rate := float64(miss) / trials; rate > 0.065 {
			t.Errorf("%d forks of %d rounds, processes shifting the ratio by %.0f%%: the interval missed the true ratio in %.1f%% of %d sweeps, want about 5%% at most",
				tt.forks, tt.rounds, 100*tt.shift, 100*rate, trials)
		}
	}
}

func TestForkIntervalLeavesOutForksTooShortToCount(t *testing.T) {
	for _, tt := range []struct {
		name   string
		groups [][]float64
		ok     bool
	}{
		{"one fork", [][]float64{{1, 1.01, 0.99}}, false},
		{"a second fork of one pair", [][]float64{{1, 1.01, 0.99}, {1.5}}, false},
		{"no spread", [][]float64{{1, 1.01, 0.99}, {0.98, 1, 1.02}}, false},
		{"two forks", [][]float64{{1, 1.01, 0.99}, {1.02, 1.03, 1.01}}, true},
	} {
		lo, hi, ok := forkInterval(tt.groups)
		if ok != tt.ok {
			t.Errorf("%s: ok %v, want %v", tt.name, ok, tt.ok)
		}
		// Two forks, medians 1 and 1.02: one degree of freedom, half
		// width 12.71 x sd / sqrt(2) = 12.71 x |log 1.02| / 2 in logs.
		if tt.ok && !(math.Abs(math.Log(hi/lo)/2-12.706*math.Log(1.02)/2) < 1e-3) {
			t.Errorf("%s: [%v, %v], want a t interval of one degree of freedom", tt.name, lo, hi)
		}
	}
}
