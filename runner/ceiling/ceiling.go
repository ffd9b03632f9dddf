// Package ceiling measures, on this machine, bounds on the kernels'
// throughput that reports show beside the measured cells: openssl's SHA-256
// on one core, the FP64 peak and OpenBLAS's DGEMM on one core, and a memory
// probe shaped like the search kernel's loads. It uses the kernels'
// constants but none of the runner: ceilings run before a sweep, while
// nothing else of ours runs.
package ceiling

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/kernels/dgemm"
	"github.com/corescale/corescale/resultfile"
)

// A Ceiling is a bound on a kernel's throughput on this machine, from a tool
// that does the kernel's work as fast as anything here can (openssl for
// SHA-256), from the hardware's specification (peak FP64 for matmul), or from
// a probe of what limits the kernel (memory latency for search). Reports
// show it beside the measured cells, so that "goroutines reach 90% of
// openssl" can be read off the same result file.
//
// In the result file a Ceiling is a benchmark line
// ("Ceiling/kernel=hash/source=openssl-sha256/cores=1") with its figure in a
// base unit benchstat can scale, and a note that says how it was obtained.
type Ceiling struct {
	Kernel string // hash, matmul, search
	// Source names what gave the figure: openssl-sha256, fp64-peak,
	// memory-latency, memory-bandwidth, memory-probe.
	Source string
	Size   int // the kernel size the figure is for; 0 if it holds for any
	Lanes  int // for memory-latency: the independent chains in flight
	Cores  int // the figure is for this many cores
	Value  float64
	Unit   string // B/s, FLOP/s, queries/s; ns/load for latency
	// Derived is set for figures computed from others or from the
	// hardware's specification rather than measured.
	Derived bool
	Method  string        // how the figure was obtained, in a sentence
	Probe   time.Duration // how long its measurement took; 0 if derived
	// Skipped, when set, says why there is no figure (no openssl); Value
	// is then meaningless and only a comment line is written.
	Skipped string
}

// Record is the ceiling as the result file holds it.
func (c Ceiling) Record() resultfile.Ceiling {
	r := resultfile.Ceiling{Kernel: c.Kernel, Source: c.Source, Lanes: c.Lanes, Cores: c.Cores,
		Value: c.Value, Unit: c.Unit, Skipped: c.Skipped != ""}
	if r.Skipped {
		r.Value, r.Unit = 0, "" // a skipped figure has neither (resultfile.Ceiling)
	}
	if c.Size > 0 {
		r.Size = resultfile.FormatSize(c.Size)
	}
	switch {
	case c.Skipped != "":
		r.How = c.Skipped
	case c.Derived:
		r.How = "derived: " + c.Method
	case c.Probe > 0:
		r.How = fmt.Sprintf("measured in %v: %s", c.Probe.Round(time.Millisecond), c.Method)
	default:
		r.How = "measured: " + c.Method
	}
	return r
}

// Records converts ceilings for the result file.
func Records(cs []Ceiling) []resultfile.Ceiling {
	out := make([]resultfile.Ceiling, len(cs))
	for i, c := range cs {
		out[i] = c.Record()
	}
	return out
}

// Ceilings measures the ceilings of the kernels in configs (all kernels at
// their default sizes when configs is empty) on this machine: about 2 s,
// most of it openssl's one second. A ceiling that cannot be had is returned
// with Skipped set, not as an error; only the end of ctx is an error.
// Nothing else should run meanwhile: the probes measure one core.
func Ceilings(ctx context.Context, configs []kernels.Params) ([]Ceiling, error) {
	if len(configs) == 0 {
		for _, name := range kernels.Names() {
			p, err := kernels.Defaults(name, "default")
			if err != nil {
				return nil, err
			}
			configs = append(configs, p)
		}
	}
	cores := runtime.NumCPU()
	want := map[string]bool{}
	var searchSizes, matmulSizes []int
	for _, p := range configs {
		want[p.Kernel] = true
		if p.Kernel == "search" && !slices.Contains(searchSizes, p.Size) {
			searchSizes = append(searchSizes, p.Size)
		}
		if p.Kernel == "matmul" && !slices.Contains(matmulSizes, p.Size) {
			matmulSizes = append(matmulSizes, p.Size)
		}
	}
	slices.Sort(searchSizes)
	slices.Sort(matmulSizes)

	var cs []Ceiling
	if want["hash"] {
		cs = append(cs, hashCeilings(ctx, cores)...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if want["matmul"] {
		cs = append(cs, matmulCeilings(ctx, cores)...)
		cs = append(cs, openblasCeilings(ctx, matmulSizes)...)
	}
	if want["search"] {
		cs = append(cs, searchCeilings(ctx, cores, searchSizes)...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return cs, nil
}

// perCore adds the all-core figure derived from a one-core one.
func perCore(c Ceiling, cores int, why string) []Ceiling {
	cs := []Ceiling{c}
	if cores > 1 && c.Skipped == "" {
		all := c
		all.Cores, all.Value, all.Derived, all.Probe = cores, c.Value*float64(cores), true, 0
		all.Method = fmt.Sprintf("%d x the one-core figure: %s", cores, why)
		cs = append(cs, all)
	}
	return cs
}

// hashBlock is the message length openssl hashes: the hash kernel's.
const hashBlock = kernels.HashMessageBytes

// hashCeilings runs openssl speed on one core. OpenSSL's SHA-256 uses the
// SHA extensions where the CPU has them, as Go's crypto/sha256 does, so it is
// the fastest SHA-256 on the machine, not a different algorithm.
func hashCeilings(ctx context.Context, cores int) []Ceiling {
	c := Ceiling{Kernel: "hash", Source: "openssl-sha256", Cores: 1, Unit: "B/s",
		Method: fmt.Sprintf("openssl speed -evp sha256 -bytes %d -seconds 1: one process, one core, messages as long as the hash kernel's", hashBlock)}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		c.Skipped = "openssl not found: install openssl for the hash ceiling"
		return []Ceiling{c}
	}
	start := time.Now()
	out, err := exec.CommandContext(ctx, openssl, "speed", "-evp", "sha256", "-bytes", strconv.Itoa(hashBlock), "-seconds", "1").CombinedOutput()
	c.Probe = time.Since(start)
	if err != nil {
		c.Skipped = fmt.Sprintf("openssl speed failed: %v", err)
		return []Ceiling{c}
	}
	if c.Value, err = parseOpensslSpeed(out); err != nil {
		c.Skipped = err.Error()
		return []Ceiling{c}
	}
	if v, _ := exec.CommandContext(ctx, openssl, "version").Output(); len(strings.Fields(string(v))) >= 2 {
		c.Method += " (" + strings.Join(strings.Fields(string(v))[:2], " ") + ")" // "OpenSSL 3.0.19"
	}
	return perCore(c, cores, "SHA-256 shares nothing between cores")
}

// parseOpensslSpeed reads the bytes per second from the result table of
// openssl speed, whose last line is "sha256   1577189.38k" (thousands of
// bytes per second; OpenSSL 1.1 and 3 alike, "SHA256" in some builds).
func parseOpensslSpeed(out []byte) (float64, error) {
	var value float64
	found := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || !strings.EqualFold(f[0], "sha256") || !strings.HasSuffix(f[1], "k") {
			continue
		}
		k, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "k"), 64)
		if err != nil || k <= 0 {
			return 0, fmt.Errorf("openssl speed: bad figure %q", sc.Text())
		}
		value, found = k*1000, true
	}
	if !found {
		return 0, fmt.Errorf("openssl speed: no sha256 line in its output")
	}
	return value, nil
}

// matmulCeilings measure the FP64 FMA peak (kernels/dgemm's PeakFMA: the
// widest FMA unit the CPU has, independent accumulators enough to cover
// the FMA latency) on one core and on every core at once, and derive the
// peak from the CPU's flags and clock beside it.
func matmulCeilings(ctx context.Context, cores int) []Ceiling {
	cs := []Ceiling{fmaPeak(1), fmaPeak(cores)}
	if ctx.Err() != nil {
		return nil
	}
	return append(cs, derivedPeak(cores)...)
}

// fmaPeak runs PeakFMA on cores goroutines, each locked to its thread, for
// peakFor, in calls of about a millisecond (assembly cannot be preempted),
// and sums their rates.
func fmaPeak(cores int) Ceiling {
	const peakFor = 200 * time.Millisecond
	iters := 1 << 10
	for start := time.Now(); time.Since(start) < time.Millisecond; iters *= 2 {
		start = time.Now()
		dgemm.PeakFMA(iters)
	}
	rates := make([]float64, cores)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range cores {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var flops float64
			t0 := time.Now()
			for time.Since(t0) < peakFor {
				flops += dgemm.PeakFMA(iters)
			}
			rates[i] = flops / time.Since(t0).Seconds()
		})
	}
	wg.Wait()
	var sum float64
	for _, r := range rates {
		sum += r
	}
	return Ceiling{Kernel: "matmul", Source: "fma-peak", Cores: cores, Unit: "FLOP/s", Value: sum, Probe: time.Since(start),
		Method: fmt.Sprintf("kernels/dgemm's FMA loop (%s, independent accumulators), one goroutine locked to its thread per core, %d at once", dgemm.PeakUnit(), cores)}
}

// derivedPeak derives the peak FP64 rate from the CPU's flags and clock:
// the number the specification promises, beside the measured one.
func derivedPeak(cores int) []Ceiling {
	c := Ceiling{Kernel: "matmul", Source: "fp64-peak", Cores: 1, Unit: "FLOP/s", Derived: true}
	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	ghz, clockFrom := cpuClock(cpuinfo)
	flops, flag := flopsPerCycle(cpuFlags(cpuinfo))
	if ghz == 0 {
		c.Skipped = "no CPU clock in /sys cpufreq or /proc/cpuinfo"
		return []Ceiling{c}
	}
	c.Value = ghz * 1e9 * float64(flops)
	c.Method = fmt.Sprintf("clock x FLOP/cycle = %.3g GHz (%s) x %d (%s), assumed, not measured; "+
		"vCPUs that are SMT siblings share these pipes, and turbo or throttling moves the clock", ghz, clockFrom, flops, flag)
	return perCore(c, cores, "peak FP64 of every vCPU at once")
}

// cpuClock returns the clock in GHz: the maximum from cpufreq when the
// kernel exposes it, else the first "cpu MHz" of /proc/cpuinfo (on virtual
// machines without cpufreq, the nominal clock).
func cpuClock(cpuinfo []byte) (ghz float64, from string) {
	if b, err := os.ReadFile("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"); err == nil {
		if khz, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil && khz > 0 {
			return khz / 1e6, "cpufreq cpuinfo_max_freq"
		}
	}
	if v, ok := cpuinfoField(cpuinfo, "cpu MHz"); ok {
		if mhz, err := strconv.ParseFloat(v, 64); err == nil && mhz > 0 {
			return mhz / 1e3, `/proc/cpuinfo "cpu MHz"`
		}
	}
	return 0, ""
}

func cpuFlags(cpuinfo []byte) []string {
	v, _ := cpuinfoField(cpuinfo, "flags")
	return strings.Fields(v)
}

func cpuinfoField(cpuinfo []byte, key string) (string, bool) {
	for line := range bytes.Lines(cpuinfo) {
		k, v, ok := strings.Cut(string(line), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// flopsPerCycle returns the FP64 operations one core can retire per cycle
// with the widest vector instructions its flags announce, assuming two
// vector pipes (two FMA units for FMA, else one add and one multiply unit),
// as on Intel cores since Haswell and AMD cores since Zen 2. An FMA counts
// two operations per lane.
func flopsPerCycle(flags []string) (int, string) {
	has := func(f string) bool { return slices.Contains(flags, f) }
	switch {
	case has("avx512f"):
		return 32, "avx512f: 2 FMA pipes x 8 lanes x 2"
	case has("avx2") && has("fma"):
		return 16, "avx2+fma: 2 FMA pipes x 4 lanes x 2"
	case has("avx"):
		return 8, "avx: 1 add + 1 multiply pipe x 4 lanes"
	case has("sse2"):
		return 4, "sse2: 1 add + 1 multiply pipe x 2 lanes"
	}
	return 2, "scalar: 1 add + 1 multiply"
}

// Memory probe sizes: the array is four times the effective last-level
// cache of the machines we run on, so that random loads miss it; the
// lanes are kernels.SearchLanes, the loads the kernel keeps in
// flight.
const (
	probeBytes = 64 << 20
	probeLine  = 64
	probeLanes = kernels.SearchLanes
)

// searchCeilings probe memory with one goroutine and derive the search
// kernel's ceiling from the probe.
//
// A query of the search kernel is bits.Len(keys) dependent loads (the count
// Work().Bytes uses), and the kernel interleaves searchLanes = 32 queries so
// that 32 loads are in flight. Level i of a search can touch at most 2^i
// cache lines, so the first levels live in the caches and only the deep ones
// reach memory. The probe chases 32 independent pointer chains through a
// random cycle over F cache lines, for F from L1-sized to the keys' size,
// which gives t32(F), the time per load with 32 in flight when the loads
// are spread over F lines. The ceiling is 1 / sum over the levels of
// t32(lines level i can touch): the kernel's access pattern without the
// comparisons, each level with the caches to itself and its lines packed
// together, so no search runs faster.
func searchCeilings(ctx context.Context, cores int, sizes []int) []Ceiling {
	maxLines := probeBytes / probeLine
	for _, keys := range sizes {
		maxLines = max(maxLines, searchLines(keys))
	}
	p := newMemProbe(maxLines)
	if ctx.Err() != nil {
		return nil
	}
	runtime.LockOSThread() // one core for the whole probe
	whole := probeBytes / probeLine
	lat1, d1 := p.latency(whole, 1, 1<<19)
	lat32, d32 := p.latency(whole, probeLanes, 1<<16)
	bw, dbw := p.bandwidth(200 * time.Millisecond)
	perLoad := map[int]float64{} // t32 by footprint in lines, powers of two
	var dLevels time.Duration
	for _, keys := range sizes {
		for f := minFootprint; ; f *= 2 {
			f = min(f, searchLines(keys))
			if _, ok := perLoad[f]; !ok {
				t, d := p.latency(f, probeLanes, max(1<<12, 4*f/probeLanes))
				perLoad[f], dLevels = t, dLevels+d
			}
			if f == searchLines(keys) {
				break
			}
		}
	}
	runtime.UnlockOSThread()

	chase := fmt.Sprintf("dependent loads through a random cycle over the cache lines of a %d MiB array", probeBytes>>20)
	cs := []Ceiling{
		{Kernel: "search", Source: "memory-latency", Lanes: 1, Cores: 1, Value: lat1, Unit: resultfile.UnitLoad, Probe: d1,
			Method: chase + ", one chain: the latency of a miss"},
		{Kernel: "search", Source: "memory-latency", Lanes: probeLanes, Cores: 1, Value: lat32, Unit: resultfile.UnitLoad, Probe: d32,
			Method: chase + fmt.Sprintf(", %d chains interleaved like the search kernel's lanes: time per load with misses overlapped", probeLanes)},
		{Kernel: "search", Source: "memory-bandwidth", Cores: 1, Value: bw, Unit: "B/s", Probe: dbw,
			Method: fmt.Sprintf("sequential read of a %d MiB array by one goroutine, 8 words per iteration", len(p.words)>>17)},
	}
	for _, keys := range sizes {
		perQuery := searchQueryTime(keys, func(lines int) float64 { return perLoad[lines] })
		c := Ceiling{Kernel: "search", Source: "memory-probe", Size: keys, Cores: 1, Unit: "queries/s", Probe: dLevels,
			Value: 1e9 / perQuery,
			Method: fmt.Sprintf("1 / %.4g ns: the sum over the %d levels of a query of the time per load with %d chains in flight "+
				"through a random cycle over as many cache lines as the level can touch (%d B lines, at least %d, at most the keys' %d)",
				perQuery, bits.Len(uint(keys)), probeLanes, probeLine, minFootprint, searchLines(keys))}
		cs = append(cs, perCore(c, cores, "each core chases its own loads; two cores' misses are far from the memory's bandwidth")...)
	}
	return cs
}

// minFootprint is the smallest probed footprint in cache lines (32 KiB, an
// L1 data cache): below it the time per load no longer falls.
const minFootprint = 512

// searchLines is the number of cache lines keys uint64 keys occupy.
func searchLines(keys int) int { return (keys*8 + probeLine - 1) / probeLine }

// searchQueryTime is the time of one query over keys keys, as the sum over
// its levels of perLoad(the lines the level can touch, rounded up to a power
// of two and clamped to [minFootprint, searchLines(keys)]).
func searchQueryTime(keys int, perLoad func(lines int) float64) float64 {
	var t float64
	for level := range bits.Len(uint(keys)) {
		f := minFootprint
		for f < 1<<level {
			f *= 2
		}
		t += perLoad(min(f, searchLines(keys)))
	}
	return t
}

// memProbe is an array of cache lines; latency links the first F of them
// into one random cycle, the first word of each line holding the index of
// the next line's first word.
type memProbe struct {
	words []uint64
	order []uint32 // the cycle's lines in order, to start chains evenly apart
	rng   *rand.Rand
}

func newMemProbe(lines int) *memProbe {
	return &memProbe{words: make([]uint64, lines*probeLine/8), rng: rand.New(rand.NewPCG(1, 2))}
}

// link makes the first lines lines one random cycle.
func (p *memProbe) link(lines int) {
	per := probeLine / 8
	p.order = p.order[:0]
	for i := range lines {
		p.order = append(p.order, uint32(i))
	}
	p.rng.Shuffle(lines, func(i, j int) { p.order[i], p.order[j] = p.order[j], p.order[i] })
	for i, line := range p.order {
		p.words[int(line)*per] = uint64(p.order[(i+1)%lines]) * uint64(per)
	}
}

// latency links a cycle over the first lines lines, chases lanes chains
// through it for steps steps each after a pass that warms the caches, and
// returns the time per load in ns and the time the timed part took.
func (p *memProbe) latency(lines, lanes, steps int) (float64, time.Duration) {
	p.link(lines)
	var pos [probeLanes]uint64
	per := uint64(probeLine / 8)
	for l := range lanes {
		pos[l] = uint64(p.order[l*len(p.order)/lanes]) * per
	}
	words := p.words
	chase := func(steps int) {
		if lanes == 1 {
			x := pos[0]
			for range steps {
				x = words[x]
			}
			pos[0] = x
			return
		}
		for range steps {
			for l := range lanes {
				pos[l] = words[pos[l]]
			}
		}
	}
	chase(min(steps, lines/lanes+1)) // warm: every line once
	start := time.Now()
	chase(steps)
	took := time.Since(start)
	runtime.KeepAlive(pos) // the loads are the point: keep their results live
	return float64(took.Nanoseconds()) / float64(lanes*steps), took
}

// bandwidth reads the array from start to end until at least d has passed
// and returns bytes per second and the time it took.
func (p *memProbe) bandwidth(d time.Duration) (float64, time.Duration) {
	words := p.words
	var total uint64
	var bytesRead float64
	start := time.Now()
	for time.Since(start) < d {
		var s0, s1, s2, s3, s4, s5, s6, s7 uint64
		for i := 0; i+8 <= len(words); i += 8 {
			w := words[i : i+8 : i+8]
			s0 += w[0]
			s1 += w[1]
			s2 += w[2]
			s3 += w[3]
			s4 += w[4]
			s5 += w[5]
			s6 += w[6]
			s7 += w[7]
		}
		total += s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
		bytesRead += float64(len(words) * 8)
	}
	took := time.Since(start)
	runtime.KeepAlive(total)
	return bytesRead / took.Seconds(), took
}
