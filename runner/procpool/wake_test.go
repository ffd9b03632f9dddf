package procpool

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

// waitSleepers waits up to within for exactly want of p's workers to be
// asleep on the bell, and reports whether they were.
func waitSleepers(p *Pool, want int32, within time.Duration) bool {
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(100 * time.Microsecond) {
		if p.cb.sleepers.Load() == want {
			return true
		}
	}
	return false
}

// WakeFor keeps idle workers watching for a job, none of them asleep, for
// the time asked and no longer; a job ends it at once; a closed pool
// refuses it.
func TestWakeForKeepsIdleWorkersAwakeForTheTimeAsked(t *testing.T) {
	p, _ := newPool(t, 2, 8)
	if !waitSleepers(p, 2, 5*time.Second) {
		t.Fatalf("idle workers never went to sleep: %d asleep", p.cb.sleepers.Load())
	}
	const d = 400 * time.Millisecond
	start := time.Now()
	if err := p.WakeFor(d); err != nil {
		t.Fatal(err)
	}
	if !waitSleepers(p, 0, 5*time.Second) {
		t.Fatalf("WakeFor woke no worker: %d still asleep", p.cb.sleepers.Load())
	}
	if time.Since(start) > d/2 {
		t.Skipf("the workers took %v to wake: too slow a machine to watch them stay awake", time.Since(start))
	}
	for time.Since(start) < d-50*time.Millisecond {
		if n := p.cb.sleepers.Load(); n != 0 {
			t.Fatalf("%d workers asleep %v after WakeFor(%v)", n, time.Since(start), d)
		}
		time.Sleep(time.Millisecond)
	}
	if !waitSleepers(p, 2, 5*time.Second) {
		t.Fatalf("the workers never went back to sleep after WakeFor(%v): %d asleep", d, p.cb.sleepers.Load())
	}
	if asleep := time.Since(start); asleep < d {
		t.Fatalf("the workers slept again %v after WakeFor(%v)", asleep, d)
	}

	if err := p.WakeFor(time.Hour); err != nil {
		t.Fatal(err)
	}
	if !waitSleepers(p, 0, 5*time.Second) {
		t.Fatal("WakeFor woke no worker")
	}
	run(t, p, "square", 4, Dynamic)
	if !waitSleepers(p, 2, 5*time.Second) {
		t.Fatalf("a job did not end WakeFor(1h): %d of 2 workers asleep after it", p.cb.sleepers.Load())
	}

	p.Close()
	if err := p.WakeFor(time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("WakeFor on a closed pool: %v, want ErrClosed", err)
	}
}

func TestSpreadMovesLeaveNoTwoWorkersOnOneCPU(t *testing.T) {
	anyOf := func(cpus ...int) func(cpu int) bool {
		return func(cpu int) bool { return slices.Contains(cpus, cpu) }
	}
	tests := []struct {
		name    string
		cpus    []int                // where each worker is
		allowed []func(cpu int) bool // each worker's mask
		last    int                  // the parent's CPU
		want    map[int]int          // worker -> CPU
	}{
		{"spread already", []int{0, 1}, []func(int) bool{anyOf(0, 1), anyOf(0, 1)}, 0, map[int]int{}},
		{"two on one of two CPUs", []int{1, 1}, []func(int) bool{anyOf(0, 1), anyOf(0, 1)}, 0, map[int]int{1: 0}},
		{"the parent's CPU last", []int{0, 0, 1}, []func(int) bool{anyOf(0, 1, 2, 3), anyOf(0, 1, 2, 3), anyOf(0, 1, 2, 3)}, 2, map[int]int{1: 3}},
		{"three on one of four CPUs", []int{2, 2, 2}, []func(int) bool{anyOf(0, 1, 2, 3), anyOf(0, 1, 2, 3), anyOf(0, 1, 2, 3)}, 0, map[int]int{1: 1, 2: 3}},
		{"more workers than CPUs", []int{0, 1, 0, 1}, []func(int) bool{anyOf(0, 1), anyOf(0, 1), anyOf(0, 1), anyOf(0, 1)}, 0, map[int]int{}},
		{"pinned where it is", []int{1, 1}, []func(int) bool{anyOf(1), anyOf(1)}, 0, map[int]int{}},
		{"a mask that allows only a taken CPU", []int{0, 0, 1}, []func(int) bool{anyOf(0, 1), anyOf(0, 1), anyOf(0, 1, 2)}, 0, map[int]int{}},
		{"alone on the parent's CPU", []int{0}, []func(int) bool{anyOf(0, 1)}, 0, map[int]int{}},
		{"two on the parent's CPU of three", []int{0, 0}, []func(int) bool{anyOf(0, 1, 2), anyOf(0, 1, 2)}, 0, map[int]int{1: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := spreadMoves(tt.cpus, func(i int) func(int) bool { return tt.allowed[i] }, tt.last)
			if !maps.Equal(got, tt.want) {
				t.Errorf("spreadMoves(%v) = %v, want %v", tt.cpus, got, tt.want)
			}
		})
	}
}
