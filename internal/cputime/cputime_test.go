package cputime

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestParseSchedstat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Schedstat
		ok   bool
	}{
		{"well-formed", "193372 517 12", Schedstat{193372, 517, 12}, true},
		{"trailing newline", "193372 517 12\n", Schedstat{193372, 517, 12}, true},
		{"zeros (no sched_info in this kernel)", "0 0 0\n", Schedstat{}, true},
		{"largest int64", "9223372036854775807 1 1", Schedstat{1<<63 - 1, 1, 1}, true},
		{"empty", "", Schedstat{}, false},
		{"newline only", "\n", Schedstat{}, false},
		{"two fields", "193372 517\n", Schedstat{}, false},
		{"one field", "193372", Schedstat{}, false},
		{"four fields", "1 2 3 4", Schedstat{}, false},
		{"trailing space", "1 2 3 ", Schedstat{}, false},
		{"double space", "1  2 3", Schedstat{}, false},
		{"leading space", " 1 2 3", Schedstat{}, false},
		{"tab", "1\t2 3", Schedstat{}, false},
		{"two newlines", "1 2 3\n\n", Schedstat{}, false},
		{"sign", "-1 2 3", Schedstat{}, false},
		{"plus", "+1 2 3", Schedstat{}, false},
		{"garbage", "not a schedstat", Schedstat{}, false},
		{"hex", "0x10 2 3", Schedstat{}, false},
		{"huge", "9223372036854775808 1 1", Schedstat{}, false},
		{"very huge", "1 99999999999999999999999999 1", Schedstat{}, false},
		{"NUL", "1 2 3\x00", Schedstat{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSchedstat([]byte(tt.line))
			if tt.ok {
				if err != nil || got != tt.want {
					t.Errorf("ParseSchedstat(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseSchedstat(%q) = %+v, want an error", tt.line, got)
			}
			if !errors.Is(err, ErrSchedstat) {
				t.Errorf("error %v is not ErrSchedstat", err)
			}
		})
	}
}

func TestParseSchedstatDoesNotAllocate(t *testing.T) {
	line := []byte("193372 517 12\n")
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseSchedstat(line) }); n != 0 {
		t.Errorf("ParseSchedstat allocates %v times per call", n)
	}
}

// spin keeps the CPU busy for d of wall time.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

func TestThreadCPUCountsSpinningNotSleeping(t *testing.T) {
	tests := []struct {
		name           string
		work           func()
		minCPU, maxCPU time.Duration
	}{
		// The spinning thread may wait for a CPU on a busy machine:
		// what it did not run, it spent on a run queue.
		{"spin", func() { spin(50 * time.Millisecond) }, 0, 60 * time.Millisecond},
		{"sleep", func() { time.Sleep(50 * time.Millisecond) }, 0, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A subtest runs on a goroutine of its own: lock that one.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			th, err := OpenThread()
			if err != nil {
				t.Fatal(err)
			}
			defer th.Close()
			cpu0, err := ThreadCPU()
			if err != nil {
				t.Fatal(err)
			}
			st0, err := th.Read()
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			tt.work()
			wall := time.Since(start)
			cpu1, _ := ThreadCPU()
			st1, err := th.Read()
			if err != nil {
				t.Fatal(err)
			}
			cpu, delay := cpu1-cpu0, st1.RunDelay-st0.RunDelay
			t.Logf("wall %v, cpu %v, run delay %v, slices %d", wall, cpu, delay, st1.Slices-st0.Slices)
			if cpu < tt.minCPU || cpu > tt.maxCPU {
				t.Errorf("CPU time %v over %v of wall, want %v to %v", cpu, wall, tt.minCPU, tt.maxCPU)
			}
			if tt.name == "spin" && cpu+delay < wall/2 {
				t.Errorf("a spinning thread ran %v and waited %v of %v", cpu, delay, wall)
			}
			if st1.OnCPU < st0.OnCPU || delay < 0 || st1.Slices < st0.Slices {
				t.Errorf("schedstat went backwards: %+v then %+v", st0, st1)
			}
		})
	}
}

func BenchmarkThreadCPU(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for b.Loop() {
		if _, err := ThreadCPU(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkThreadRead(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	th, err := OpenThread()
	if err != nil {
		b.Fatal(err)
	}
	defer th.Close()
	for b.Loop() {
		if _, err := th.Read(); err != nil {
			b.Fatal(err)
		}
	}
}
