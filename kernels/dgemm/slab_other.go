//go:build !linux

package dgemm

// mapSlab is Linux's alone: elsewhere the packing buffers are on the heap.
func mapSlab(int) []byte { return nil }

// HugePages reports false: only Linux maps the packing buffers itself.
func HugePages() (bool, error) { return false, nil }

// Pages describes the pages of the packing buffers, for a result file.
func Pages() string { return "packing on the heap" }
