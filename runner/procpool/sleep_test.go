package procpool

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The bell wakes every sleeper with one ring, whichever way each sleeps,
// and a sleeper that misses the ring still sees the job: the order of
// sleepers, bell and jobSeq in workerProc.await loses no wake-up.
func TestTheBellWakesEverySleeper(t *testing.T) {
	var c control
	const sleepers = 8
	woke := make(chan time.Duration, sleepers)
	for i := range sleepers {
		go func() {
			start := time.Now()
			for {
				c.sleepers.Add(1)
				bell := c.bell.Load()
				if c.jobSeq.Load() == 0 {
					futexWait(&c.bell, bell, time.Hour, i%2 == 0)
				}
				c.sleepers.Add(-1)
				if c.jobSeq.Load() != 0 {
					woke <- time.Since(start)
					return
				}
			}
		}()
	}
	for c.sleepers.Load() < sleepers {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // into their waits, most likely
	c.jobSeq.Store(1)
	c.ringWorkers()
	timeout := time.After(10 * time.Second)
	for range sleepers {
		select {
		case <-woke:
		case <-timeout:
			t.Fatalf("a sleeper missed the ring (%d sleepers left)", c.sleepers.Load())
		}
	}
}

func TestFutexWaitEndsAtItsTimeoutOrAChangedWord(t *testing.T) {
	var word atomic.Uint32
	for _, raw := range []bool{false, true} {
		// A signal (the runtime preempts goroutines with one) may end a
		// wait early; waits that sleep take a few calls to pass 50 ms,
		// waits that do not would take thousands.
		start, calls := time.Now(), 0
		for ; time.Since(start) < 50*time.Millisecond; calls++ {
			futexWait(&word, 0, 20*time.Millisecond, raw)
		}
		if d := time.Since(start); calls > 20 || d > 5*time.Second {
			t.Errorf("raw %v: %d waits of at most 20ms took %v", raw, calls, d)
		}
		start = time.Now()
		futexWait(&word, 1, time.Hour, raw) // the word is not 1: no sleep
		if d := time.Since(start); d > time.Second {
			t.Errorf("raw %v: a wait on a word that differs took %v", raw, d)
		}
	}
}

func TestDoorbellRingsAfterCloseAreDropped(t *testing.T) {
	b, err := newDoorbell()
	if err != nil {
		t.Fatal(err)
	}
	b.ring()
	b.ring() // rings coalesce: one hold takes both
	b.hold()
	fds := []unix.PollFd{{Fd: int32(b.fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 0); n != 0 || err != nil {
		t.Errorf("after a hold the bell still holds a ring: poll = %d, %v", n, err)
	}
	b.close()
	b.ring() // a ring after close is dropped, not written to a reused fd
}

// hold returns at once after a ring and leaves no ring behind; without one
// it returns after a nap; on a closed bell at once; and close waits for a
// hold in progress to end.
func TestDoorbellHoldEndsAtARingOrANap(t *testing.T) {
	b, err := newDoorbell()
	if err != nil {
		t.Fatal(err)
	}
	b.ring()
	start := time.Now()
	b.hold() // a ring first: returns at once
	if d := time.Since(start); d > holdNap/2 {
		t.Errorf("a hold after a ring took %v", d)
	}
	fds := []unix.PollFd{{Fd: int32(b.fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 0); n != 0 || err != nil {
		t.Errorf("after a hold the bell still holds a ring: poll = %d, %v", n, err)
	}
	start = time.Now()
	b.hold() // no ring: a nap (or less, if sysmon interrupts it)
	if d := time.Since(start); d > 50*holdNap {
		t.Errorf("a hold without a ring took %v, want at most about %v", d, holdNap)
	}
	holding := make(chan struct{})
	go func() {
		close(holding)
		b.hold()
	}()
	<-holding
	if err := b.close(); err != nil { // waits for that hold
		t.Fatal(err)
	}
	start = time.Now()
	b.hold()
	if d := time.Since(start); d > holdNap/2 {
		t.Errorf("a hold on a closed bell took %v", d)
	}
}
