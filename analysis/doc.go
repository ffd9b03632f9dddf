// Package analysis turns corescale result files into answers: how much
// faster each kernel runs on N workers under each strategy, how efficiently,
// what limits it (fits of Amdahl's law and the Universal Scalability Law,
// load imbalance, dispatch overhead), and whether that changed between two
// files.
//
// It knows nothing of how the files were made: it reads the Go benchmark
// format with golang.org/x/perf/benchfmt, keyed by the sub-benchmark keys
// corescale writes (/shape, /size, /strategy, /sched, /workers, or the -N
// GOMAXPROCS suffix that go test -cpu adds), and computes its statistics
// with golang.org/x/perf/benchmath, as benchstat does: medians with 95%
// confidence intervals and Mann-Whitney U tests.
//
// Benchmarks of any other Go package (go test -bench -cpu output, or the
// files of corescale bench) are read the same way: each benchmark name
// without its worker count is a configuration with one curve, relative to
// its own 1-CPU point (gotest.go). Files without rounds (plain go test
// output) have no same-round pairs: their ratios are unpaired (see Ratio).
package analysis
