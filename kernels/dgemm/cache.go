package dgemm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// caches holds the per-core cache sizes the blocking is derived from, in
// bytes.
type caches struct {
	l1d, l2, l3 int
}

// Defaults where the machine reports nothing: the smallest sizes of the x86
// cores of the last decade (32 KiB L1d, 256 KiB L2 as on Skylake client
// cores, 8 MiB of L3), so that blocks sized from them fit everywhere.
const (
	defaultL1D = 32 << 10
	defaultL2  = 256 << 10
	defaultL3  = 8 << 20
)

// Sanity limits on what /sys reports. VMs can report anything: one host here
// reported 260 MiB of L3 and behaved like 8-16 MiB, and this one reports
// 32 MiB shared by its 2 vCPUs. The L3 figure only sizes NC, and for L3 the
// cap is the DESIGN.md figure for the effective L3 of these VMs; L1d and L2
// are clamped to the range real cores have had.
const (
	minL1D, maxL1D = 16 << 10, 64 << 10
	minL2, maxL2   = 128 << 10, 4 << 20
	minL3, maxL3   = 1 << 20, 8 << 20
)

var sysCacheDir = "/sys/devices/system/cpu/cpu0/cache"

// detectCaches reads cpu0's caches from sysfs (index*/level, type, size and
// shared_cpu_list) and applies the defaults and limits above. The L3 is
// divided among the CPUs that share it, since all of them may be running
// a chunk at once.
func detectCaches() caches {
	c := caches{}
	dirs, _ := filepath.Glob(filepath.Join(sysCacheDir, "index*"))
	for _, d := range dirs {
		level := readSys(d, "level")
		typ := readSys(d, "type")
		size, ok := parseSize(readSys(d, "size"))
		if !ok || typ == "Instruction" {
			continue
		}
		switch level {
		case "1":
			c.l1d = size
		case "2":
			c.l2 = size
		case "3":
			if n := countCPUs(readSys(d, "shared_cpu_list")); n > 1 {
				size /= n
			}
			c.l3 = size
		}
	}
	c.l1d = sane(c.l1d, defaultL1D, minL1D, maxL1D)
	c.l2 = sane(c.l2, defaultL2, minL2, maxL2)
	c.l3 = sane(c.l3, defaultL3, minL3, maxL3)
	return c
}

func sane(v, def, lo, hi int) int {
	if v <= 0 {
		return def
	}
	return min(max(v, lo), hi)
}

func readSys(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// parseSize parses sysfs cache sizes: "32K", "512K", "32768K", "1M" or a
// plain byte count.
func parseSize(s string) (int, bool) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 || v > 1<<40/mult {
		return 0, false
	}
	return v * mult, true
}

// countCPUs counts the CPUs in a sysfs list such as "0-3,8-11"; 0 if it
// cannot parse it.
func countCPUs(list string) int {
	n := 0
	for part := range strings.SplitSeq(list, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0
			}
		}
		n += b - a + 1
	}
	return n
}

// blocking is the cache blocking for one micro-kernel shape.
type blocking struct {
	kc, mc, nc int
}

// shares says what part of a cache level the blocking gives to the operand
// that should stay there: the sliver of B 1/l1 of L1d, the block of A 1/l2
// of L2 (see blockFor).
type shares struct {
	l1, l2 int
}

// halves is BLIS's model as published: half of each level for the operand
// reused from it, the other half for what streams through.
var halves = shares{l1: 2, l2: 2}

// avx512Shares gives the avx512 kernel's sliver of B all of L1d and its
// block of A a quarter of L2, not BLIS's halves. Its tile does 384 FLOPs a
// step, twice the avx2 tile's, so each load and store of the C tile must
// serve more steps, and its block of A streams from L2 twice as fast.
// Measured on an Emerald Rapids core (48 KiB L1d, 2 MiB L2; 40 rounds
// alternated, GemmPacked): KC = 256 and MC = 256 ran 4.5% (n = 512) and
// 6% (n = 1024) faster than the halves' KC = 128 and MC = 1024, and MC =
// 128 or 256 beat 1024 at either KC. The avx2 kernel on the same core ran
// within 1-2% at any of KC 168-512 and MC 64-512.
var avx512Shares = shares{l1: 1, l2: 4}

// blockFor derives KC, MC and NC for an mr x nr micro-kernel (BLIS's
// analytical model, Low et al., "Analytical modeling is enough for
// high-performance BLIS", TOMS 2016, simplified):
//
//   - KC: the kc x nr sliver of B that the micro-kernel reuses for every
//     mr-row sliver of A should occupy its share of L1d (half, in the
//     model), leaving the rest for the A slivers streaming through and the
//     C tile. A multiple of 8 (whole cache lines of packed A), at least 64
//     so that loading and storing the C tile once per call stays a few
//     percent of the call, at most 512.
//   - MC: the packed mc x kc block of A is reused for every sliver of B and
//     should stay in L2: its share (half, in the model), leaving room for
//     the B and C lines streaming through. A multiple of mr.
//   - NC: the kc x nc panel of B is read again for every MC block of A and
//     should stay in (this core's share of) L3, half of it. A multiple of
//     nr. The L3 figure is capped (see maxL3) because VMs overstate it.
//
// Gemm then balances the blocks it actually uses (k = 512 with KC = 168 runs
// four blocks of 128, not three of 168 and one of 8).
func blockFor(c caches, mr, nr int, s shares) blocking {
	kc := c.l1d / s.l1 / (nr * 8)
	kc = min(max(kc/8*8, 64), 512)
	mc := c.l2 / s.l2 / (kc * 8)
	mc = max(mc/mr*mr, mr)
	nc := c.l3 / 2 / (kc * 8)
	nc = max(nc/nr*nr, nr)
	return blocking{kc: kc, mc: mc, nc: nc}
}
