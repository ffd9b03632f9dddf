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

func TestDoorbellWakesItsWaiter(t *testing.T) {
	b, err := newDoorbell()
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	b.ring()
	b.ring() // rings coalesce
	b.wait()
	fds := []unix.PollFd{{Fd: int32(b.fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 0); n != 0 || err != nil {
		t.Errorf("after wait the bell still holds a ring: poll = %d, %v", n, err)
	}
	b.wait() // no ring: returns after a nap instead of hanging
	b.close()
	b.ring() // a ring after close is dropped, not written to a reused fd
}

// park returns once the bell rings and leaves no ring behind; close ends a
// park in progress, and a park on a closed bell returns at once.
func TestDoorbellParkEndsAtARingOrClose(t *testing.T) {
	b, err := newDoorbell()
	if err != nil {
		t.Fatal(err)
	}
	for _, ringFirst := range []bool{true, false} {
		parked := make(chan struct{})
		go func() {
			b.park()
			close(parked)
		}()
		if ringFirst {
			b.ring()
		} else {
			time.Sleep(20 * time.Millisecond) // into the park, most likely
			b.ring()
		}
		select {
		case <-parked:
		case <-time.After(10 * time.Second):
			t.Fatalf("ring first %v: park missed the ring", ringFirst)
		}
		fds := []unix.PollFd{{Fd: int32(b.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 0); n != 0 || err != nil {
			t.Errorf("ring first %v: after park the bell still holds a ring: poll = %d, %v", ringFirst, n, err)
		}
	}
	parked := make(chan struct{})
	go func() {
		b.park()
		close(parked)
	}()
	time.Sleep(20 * time.Millisecond)
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-parked:
	case <-time.After(10 * time.Second):
		t.Fatal("close left a park blocked")
	}
	done := make(chan struct{})
	go func() {
		b.park()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a park on a closed bell blocked")
	}
}
