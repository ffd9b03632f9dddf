// Package resultfile owns corescale's result format: what a sweep writes and
// what analysis reads. Both sides go through it, so a name, a key or a unit
// has one home, and a round-trip test keeps the writer and the reader in
// step.
//
// A result file is in the Go benchmark format (golang.org/x/perf/benchfmt),
// so benchstat and every other reader of that format take it as it is:
//
//	goos: linux
//	cpu: AMD EPYC
//	ncpu: 2
//	scaling: strong
//	# date: 2026-12-01T20:48:18Z
//	# commit: 03ac31c0e6f1
//	Unit busy-max-ns/op better=lower
//	BenchmarkHash/shape=uniform/size=64Mi/strategy=procpool/sched=dynamic/workers=2 1 21920384 ns/op 3.06e+09 B/s ...
//	BenchmarkStartup/Hash/shape=uniform/size=64Mi/strategy=procpool/workers=2 1 8812345 ns/op
//	BenchmarkCeiling/kernel=hash/source=openssl-sha256/cores=1 1 2.07e+09 B/s
//	# rounds: Hash/shape=uniform/size=64Mi: 12 12
//
// Three kinds of line carry facts:
//
//   - Configuration lines ("key: value") describe what makes two runs
//     comparable or not: the machine (cpu, ncpu, gomaxprocs, cpu-quota,
//     usable-cpus, and its topology: cpu-cores, cpu-l3-domains, ...,
//     cpu-boundaries), the Go version, the kind of scaling, the chunk count
//     and the input seed. benchstat splits its tables by them, on purpose.
//   - Note lines ("# key: value") hold what differs from run to run without
//     making the runs incomparable (date, load, commit, host, the sampling
//     settings, the order seed) and per-benchmark remarks (skipped cells,
//     cells that stopped short of their precision, how a ceiling was
//     obtained, rounds per fork). benchfmt readers skip them, so plain
//     "benchstat old.txt new.txt" compares two runs of the same sweep.
//   - Benchmark lines, one per sample: the mean of Iters verified runs back
//     to back (1 for runs of 25 ms or more; see runner's sampleFloor), every
//     dimension a sub-benchmark key so that benchstat pivots on any of them
//     (-col /strategy, -col /workers@num). A cell whose workers were pinned
//     to CPUs has a pin key (.../sched=dynamic/pin=cores/workers=2); an
//     unpinned one has none, so -col /pin sets pinned against unpinned.
//
// Rounds: a sweep measures every cell of a kernel configuration once per
// round, in a fresh order each round, and writes the rounds in order. The
// k-th line of a cell is therefore its sample of round k; the rounds line
// of its configuration says how many rounds each fork (a fresh process
// running the same sweep) contributed, in order. Files without a rounds
// line are one fork.
//
// Other tools' benchmarks: a name without a strategy key (go test -bench
// output of any package) is a benchmark of its own, whose worker count is
// go test's -N suffix (none: 1) or a workers= or gomaxprocs= part, and
// whose curve is the rest of the name (Cell.Bench). go test output (a pkg
// line and no rounds line) has no rounds: go test takes every sample of
// one -cpu value before the next (File.Rounded). corescale bench writes
// such benchmarks in rounds, with rounds lines per benchmark.
package resultfile
