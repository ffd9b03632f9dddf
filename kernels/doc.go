// Package kernels holds the CPU-bound work that corescale measures: dense
// float64 matrix multiply, SHA-256 hashing and binary search.
//
// A [Kernel] is built from [Params] (name, shape, size, chunk count, seed) and
// knows nothing of how it will be run. It declares the byte sizes of its input
// and output areas; the caller owns both areas (in corescale they live in one
// shared-memory mapping that several processes see) and the kernel only views
// them as typed slices, never copying them. Fill writes the inputs
// deterministically from the seed, so any process can rebuild the same kernel
// from its Params alone. Bind splits the work into Params.Chunks independent
// chunks: chunk i reads the inputs and writes only its own part of the outputs,
// so chunks may run in any order, on any goroutine or in any process.
//
// Every run is checked: Reference computes the expected outputs with an
// implementation independent of the chunked one, and Verify compares a run's
// outputs with it (exactly for hash and search, within a rounding-error bound
// for matmul).
//
// A new kernel is one file that registers a definition in its init function;
// nothing else in the module changes.
package kernels
