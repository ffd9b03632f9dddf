//go:build !amd64 || purego

package dgemm

func registerAsm() {}

func peak(iters int) (flops float64, unit string) {
	return peakGeneric(iters), "generic"
}
