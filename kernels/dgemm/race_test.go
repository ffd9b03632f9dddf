//go:build race

package dgemm

const raceEnabled = true
