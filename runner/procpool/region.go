package procpool

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// A Region is a block of memory shared with worker processes: an anonymous
// memory file (memfd) mapped into every process that uses it. It has no name
// in any file system, so nothing outlives the last process that maps it: no
// file is left in /dev/shm whatever happens to the processes.
//
// The parent fills the region before a job and reads it after; during a job
// the workers write into it. Which bytes a chunk may write is the caller's
// business: the pool only carries the region to the workers.
type Region struct {
	file *os.File
	mem  []byte // the whole mapping, as Mmap returned it
	size int
}

// NewRegion creates a zero-filled region of size bytes and maps it with its
// pages faulted in, so that first touches do not land in timed sections.
func NewRegion(size int) (*Region, error) {
	if size < 0 {
		return nil, fmt.Errorf("procpool: region size %d is negative", size)
	}
	fd, err := unix.MemfdCreate("corescale-region", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("procpool: memfd_create: %w", err)
	}
	file := os.NewFile(uintptr(fd), "corescale-region")
	mapped := max(size, 1) // mmap refuses empty mappings
	if err := unix.Ftruncate(fd, int64(mapped)); err != nil {
		file.Close()
		return nil, fmt.Errorf("procpool: sizing region to %d bytes: %w", size, err)
	}
	mem, err := mapShared(fd, mapped)
	if err != nil {
		file.Close()
		return nil, err
	}
	return &Region{file: file, mem: mem, size: size}, nil
}

func mapShared(fd, size int) ([]byte, error) {
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("procpool: mapping %d bytes: %w", size, err)
	}
	return mem, nil
}

// Bytes returns the region's memory. The slice is valid until Close; its
// start is page-aligned.
func (r *Region) Bytes() []byte { return r.mem[:r.size] }

// File returns the memory file behind the region, for programs of other
// kinds that map the region themselves (a child inherits it through
// exec.Cmd.ExtraFiles). The region keeps owning it: do not close it.
func (r *Region) File() *os.File { return r.file }

// Size returns the region's length in bytes.
func (r *Region) Size() int { return r.size }

// Close unmaps the region and closes its file. Workers keep their own
// mappings until their pool is closed; the memory is freed when the last
// mapping goes.
func (r *Region) Close() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	r.mem = nil
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	return err
}
