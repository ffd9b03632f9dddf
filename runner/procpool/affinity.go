package procpool

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// SetAffinity pins worker i to the CPUs of cpus[i] (CPU numbers, as
// sched_setaffinity takes them); an empty list leaves that worker alone.
// It sets the mask of every thread the worker has, and threads it starts
// later inherit it. Workers that replace dead ones start unpinned: after a
// job reports replacements (Result.Replaced), call SetAffinity again.
//
// Pinning is done from the parent, after the workers started, so that the
// pool's start-up and its workers' protocol stay as they are; a worker's
// first job may find its threads just migrated.
func (p *Pool) SetAffinity(cpus [][]int) error {
	if len(cpus) != p.size {
		return fmt.Errorf("procpool: SetAffinity: %d CPU lists for %d workers", len(cpus), p.size)
	}
	p.mu.Lock()
	workers := slices.Clone(p.workers)
	p.mu.Unlock()
	for i, w := range workers {
		if len(cpus[i]) == 0 {
			continue
		}
		if err := setProcessAffinity(w.pid, cpus[i]); err != nil {
			return fmt.Errorf("procpool: pinning worker %d (pid %d) to CPUs %v: %w", i, w.pid, cpus[i], err)
		}
	}
	return nil
}

// maxAffinityPasses bounds the passes over a process's threads: a pass
// that finds no thread it has not pinned ends the loop, and a Go program
// starts its few threads within the first milliseconds.
const maxAffinityPasses = 16

// setProcessAffinity sets the affinity of every thread of pid. A thread
// started between listing the threads and pinning them inherits the mask
// of the thread that started it, which may not have been pinned yet: the
// threads are listed again until a pass finds none new.
func setProcessAffinity(pid int, cpus []int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		if c < 0 || c >= len(set)*64 {
			return fmt.Errorf("CPU %d out of range", c)
		}
		set.Set(c)
	}
	done := map[int]bool{}
	for range maxAffinityPasses {
		entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			return err
		}
		fresh := false
		for _, e := range entries {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			fresh = true
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return err // ESRCH: the thread ended meanwhile
			}
			done[tid] = true
		}
		if !fresh {
			return nil
		}
	}
	return nil
}
