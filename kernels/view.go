package kernels

import (
	"fmt"
	"unsafe"
)

// view returns b as a []T sharing b's memory. It refuses areas whose length
// is not a whole number of T or whose start is not aligned for T: the areas
// live in shared memory, so a copy would defeat their purpose and a
// misaligned view would be undefined behaviour.
func view[T uint64 | int64 | float64](b []byte, what string) ([]T, error) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(b)%size != 0 {
		return nil, fmt.Errorf("kernels: %s is %d bytes, not a multiple of %d", what, len(b), size)
	}
	if len(b) == 0 {
		return []T{}, nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%uintptr(unsafe.Alignof(zero)) != 0 {
		return nil, fmt.Errorf("kernels: %s at %p is not %d-byte aligned", what, &b[0], unsafe.Alignof(zero))
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size), nil
}

// checkArea reports an area whose size differs from what the kernel declared.
func checkArea(b []byte, want int, what string) error {
	if len(b) != want {
		return fmt.Errorf("kernels: %s is %d bytes, want %d", what, len(b), want)
	}
	return nil
}
