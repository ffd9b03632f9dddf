//go:build !linux

package kernels

// corescale runs on Linux only: the pool's regions are memfds, its workers
// die with their parent through Pdeathsig, kernels check their footprint
// with sysinfo and the runner reads /proc. On other systems the build stops
// here, with this name in its first error.
var _ = corescale_runs_on_Linux_only
