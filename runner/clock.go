package runner

import "time"

// The CPU a sweep runs on may not keep one speed: on a 2-vCPU KVM guest
// (Intel family 6 model 167, 2026-12-02) a loop of dependent integer
// operations, timed in 1 ms slices, ran +-5% about its median in a wave of
// about 350 ms, on both vCPUs at once (their slices correlated 0.8-0.9)
// and alike for SHA-256 and floating-point multiply-adds, with nothing off
// the CPU. Runs of 60 ms then land on different phases of the wave:
// identical runs measured side by side were 3-5% apart, and no order of
// cells or pairing by round removes that. What the clock was doing during
// a run can be measured, though, close to it: the probe below, timed
// before and after the run, is slow when the clock is slow.
//
// A sample carries the mean of its probes (Sample.Clock); the analysis
// divides it out of the ratios it takes (package analysis, adjustClock).

// clockChain is the length of the probe's chain: about 0.65 ms at 2 GHz.
// Shorter probes follow the clock less well (a 0.16 ms chain left the
// A/A spread of hash samples where it was; 0.65 ms halved it), longer ones
// cost more than they gain.
const clockChain = 1 << 18

// probeEvery is the longest a sample's runs go unprobed: a sample is
// probed before its first run and after its last, and before or after any
// other when its last probe is that old (its runs are spread over the
// round, so with other cells' runs between them that is most of them),
// so that its probes follow the wave its runs ran in without a probe (0.4
// ms) before each of many short runs.
const probeEvery = 10 * time.Millisecond

var clockSink uint64

// probeClock times a chain of dependent integer operations (a
// xorshift generator): no memory, no special unit, so its time is the
// chain's cycles over the clock the CPU ran at.
func probeClock(chain int) time.Duration {
	x := clockSink | 1
	start := time.Now()
	for range chain {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	d := time.Since(start)
	clockSink += x // the chain's result is used: the compiler keeps the loop
	return d
}

// A clockMeter collects the probes of one sample.
type clockMeter struct {
	sum  time.Duration
	n    int
	last time.Time
}

// probe probes the clock when forced, or when the last probe is probeEvery
// old.
func (m *clockMeter) probe(force bool) {
	if !force && time.Since(m.last) < probeEvery {
		return
	}
	m.sum += probeClock(clockChain)
	m.n++
	m.last = time.Now()
}

// mean is the mean probe; 0 without any.
func (m *clockMeter) mean() time.Duration {
	if m.n == 0 {
		return 0
	}
	return m.sum / time.Duration(m.n)
}
