package ceiling

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// openblasSource is a C program that times OpenBLAS's cblas_dgemm on the
// matmul kernel's products (see its comment for running it by hand).
//
//go:embed csrc/openblas_dgemm.c
var openblasSource []byte

// openblasSizes are the sizes OpenBLAS is timed at in one process; more
// than this many matmul sizes get the first ones.
const openblasSizes = 4

// openblasCeilings times OpenBLAS's DGEMM on one core at each matmul size,
// where a C compiler and OpenBLAS's headers and library are installed
// (Debian: libopenblas-dev): the library numpy users get, beside
// kernels/dgemm, measured on the same machine before the sweep. It is
// built from openblas_dgemm.c into a temporary directory and run with
// OPENBLAS_NUM_THREADS=1 on one CPU (the last this process may use: CPU 0
// takes most interrupts), as one whole-matrix call: median of 5 rounds of
// 0.1 s. OpenBLAS picks its kernel from the CPU at start-up, and an
// OpenBLAS older than the CPU picks a generic one (0.3.21 runs SSE3
// "Prescott" code on Emerald Rapids, at a fifth of its AVX-512 kernel):
// the method says which it ran, and OPENBLAS_CORETYPE in the environment
// passes through to choose another.
func openblasCeilings(ctx context.Context, sizes []int) []Ceiling {
	skip := func(why string) []Ceiling {
		return []Ceiling{{Kernel: "matmul", Source: "openblas-dgemm", Cores: 1, Unit: "FLOP/s", Skipped: why}}
	}
	if len(sizes) == 0 {
		return nil
	}
	sizes = sizes[:min(len(sizes), openblasSizes)]
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			return skip("no C compiler (cc) to build the OpenBLAS reference")
		}
	}
	dir, err := os.MkdirTemp("", "corescale-openblas-")
	if err != nil {
		return skip(fmt.Sprintf("OpenBLAS reference: %v", err))
	}
	defer os.RemoveAll(dir)
	src, bin := filepath.Join(dir, "openblas_dgemm.c"), filepath.Join(dir, "openblas_dgemm")
	if err := os.WriteFile(src, openblasSource, 0o600); err != nil {
		return skip(fmt.Sprintf("OpenBLAS reference: %v", err))
	}
	if out, err := exec.CommandContext(ctx, cc, "-O2", "-o", bin, src, "-lopenblas").CombinedOutput(); err != nil {
		why := "OpenBLAS not found (cblas.h and -lopenblas): install libopenblas-dev for the OpenBLAS reference"
		if !bytes.Contains(out, []byte("cblas.h")) && !bytes.Contains(out, []byte("lopenblas")) {
			why = fmt.Sprintf("building the OpenBLAS reference failed: %v: %s", err, firstLine(out))
		}
		return skip(why)
	}
	args := make([]string, len(sizes))
	for i, n := range sizes {
		args[i] = strconv.Itoa(n)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	start := time.Now()
	out, on, err := outputOnOneCPU(cmd)
	probe := time.Since(start)
	if err != nil {
		return skip(fmt.Sprintf("the OpenBLAS reference failed: %v: %s", err, firstLine(out)))
	}
	lines, err := parseOpenblasDgemm(out)
	if err != nil {
		return skip(err.Error())
	}
	var cs []Ceiling
	for _, l := range lines {
		if !slices.Contains(sizes, l.n) || l.mode != "whole" {
			continue
		}
		method := fmt.Sprintf("OpenBLAS's cblas_dgemm, one whole-matrix call, OPENBLAS_NUM_THREADS=1 on CPU %d, median of 5 rounds of 0.1 s; core type %s (%s)", on, l.core, l.config)
		if genericCore(l.core) && cpu.X86.HasAVX2 {
			method += "; a generic core type on a CPU with AVX2: this OpenBLAS does not know the CPU (OPENBLAS_CORETYPE chooses another)"
		}
		cs = append(cs, Ceiling{Kernel: "matmul", Source: "openblas-dgemm", Size: l.n, Cores: 1, Unit: "FLOP/s",
			Value: l.median * 1e9, Probe: probe, Method: method})
	}
	if len(cs) == 0 {
		return skip("the OpenBLAS reference printed no figure")
	}
	return cs
}

// genericCore reports whether an OpenBLAS core type is one of the generic
// x86 ones it falls back to for a CPU it does not recognise.
func genericCore(core string) bool {
	switch strings.ToLower(core) {
	case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood", "banias":
		return true
	}
	return false
}

// outputOnOneCPU runs cmd pinned to one CPU, the last this process may
// use, and returns its standard output and the CPU. The child inherits the
// affinity of the thread that starts it, so that thread is pinned for the
// start and restored after.
func outputOnOneCPU(cmd *exec.Cmd) ([]byte, int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var mask unix.CPUSet
	on := -1
	if err := unix.SchedGetaffinity(0, &mask); err == nil {
		for c := range len(mask) * 64 {
			if mask.IsSet(c) {
				on = c
			}
		}
	}
	if on >= 0 {
		var one unix.CPUSet
		one.Set(on)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			on = -1
		} else {
			defer func() { _ = unix.SchedSetaffinity(0, &mask) }()
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, on, err
	}
	if on >= 0 {
		_ = unix.SchedSetaffinity(0, &mask) // the child has its own copy
	}
	if err := cmd.Wait(); err != nil {
		return stderr.Bytes(), on, err
	}
	return stdout.Bytes(), on, nil
}

// openblasLine is one line of openblas_dgemm's output.
type openblasLine struct {
	n            int
	mode         string
	best, median float64 // GFLOP/s
	core, config string
}

// parseOpenblasDgemm reads openblas_dgemm's lines:
//
//	n=512 mode=whole best=69.50 median=68.40 GFLOP/s core=SkylakeX config=OpenBLAS 0.3.21 DYNAMIC_ARCH ...
func parseOpenblasDgemm(out []byte) ([]openblasLine, error) {
	var lines []openblasLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		text := sc.Text()
		head, config, ok := strings.Cut(text, " config=")
		f := strings.Fields(head)
		if !ok || len(f) != 6 || f[4] != "GFLOP/s" {
			return nil, fmt.Errorf("OpenBLAS reference: unexpected line %q", text)
		}
		var l openblasLine
		var err error
		field := func(s, key string) string {
			v, found := strings.CutPrefix(s, key+"=")
			if !found && err == nil {
				err = fmt.Errorf("OpenBLAS reference: no %s in %q", key, text)
			}
			return v
		}
		n, mode, best, median, core := field(f[0], "n"), field(f[1], "mode"), field(f[2], "best"), field(f[3], "median"), field(f[5], "core")
		if err != nil {
			return nil, err
		}
		l.mode, l.core, l.config = mode, core, strings.TrimSpace(config)
		if l.n, err = strconv.Atoi(n); err != nil || l.n < 1 {
			return nil, fmt.Errorf("OpenBLAS reference: bad n in %q", text)
		}
		if l.best, err = strconv.ParseFloat(best, 64); err != nil || !(l.best > 0) {
			return nil, fmt.Errorf("OpenBLAS reference: bad figure in %q", text)
		}
		if l.median, err = strconv.ParseFloat(median, 64); err != nil || !(l.median > 0) {
			return nil, fmt.Errorf("OpenBLAS reference: bad figure in %q", text)
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// firstLine is the first line of a command's output, for an error message.
func firstLine(out []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
