package procpool

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRawReaderReadsUntilEOF(t *testing.T) {
	for _, nonblocking := range []bool{false, true} {
		name := "blocking"
		if nonblocking {
			name = "non-blocking"
		}
		t.Run(name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			fd := int(r.Fd()) // Fd makes it blocking
			if nonblocking {
				if err := unix.SetNonblock(fd, true); err != nil {
					t.Fatal(err)
				}
			}
			go func() {
				for _, part := range []string{"wake ", "up ", "twice"} {
					_, _ = w.Write([]byte(part))
				}
				w.Close()
			}()
			got, err := io.ReadAll(rawReader(fd))
			if err != nil || string(got) != "wake up twice" {
				t.Errorf("read %q, %v; want %q and EOF", got, err, "wake up twice")
			}
		})
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
