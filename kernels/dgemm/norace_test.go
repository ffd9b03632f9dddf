//go:build !race

package dgemm

const raceEnabled = false
