package procstat

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	// The tail after the parent pid is shortened: Parse reads no further.
	tests := []struct {
		name string
		line string
		want Stat
		ok   bool
	}{
		{"plain", "7915 (cat) R 7912 7912 2663 0 -1 4194304\n", Stat{7915, "cat", 'R', 7912}, true},
		{"no newline", "12 (sh) S 1 12 12", Stat{12, "sh", 'S', 1}, true},
		{"stopped", "1234 (procpool.test) T 1000 1234", Stat{1234, "procpool.test", 'T', 1000}, true},
		{"traced", "1234 (a) t 1000 1", Stat{1234, "a", 't', 1000}, true},
		{"zombie", "99 (worker) Z 98 0", Stat{99, "worker", 'Z', 98}, true},
		{"comm with spaces", "42 (Web Content) S 1 42", Stat{42, "Web Content", 'S', 1}, true},
		{"comm with parens", "42 (a) b (c)) D 7 42", Stat{42, "a) b (c)", 'D', 7}, true},
		{"comm that looks like fields", "42 (x) R 1 2) S 9 1", Stat{42, "x) R 1 2", 'S', 9}, true},
		{"empty comm", "42 () R 1 2", Stat{42, "", 'R', 1}, true},
		{"parent 0", "1 (init) S 0 1", Stat{1, "init", 'S', 0}, true},
		{"empty", "", Stat{}, false},
		{"no parens", "42 cat R 1", Stat{}, false},
		{"no closing paren", "42 (cat R 1", Stat{}, false},
		{"no pid", "(cat) R 1", Stat{}, false},
		{"bad pid", "x (cat) R 1", Stat{}, false},
		{"nothing after the name", "42 (cat)", Stat{}, false},
		{"no parent", "42 (cat) R", Stat{}, false},
		{"long state", "42 (cat) RS 1", Stat{}, false},
		{"bad parent", "42 (cat) R one", Stat{}, false},
		{"huge parent", "42 (cat) R 99999999999999999999999", Stat{}, false},
		{"garbage", "\x00\xff garbage", Stat{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.line))
			if tt.ok {
				if err != nil || got != tt.want {
					t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.line, got)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v is not ErrMalformed", err)
			}
		})
	}
}

func TestStateNames(t *testing.T) {
	tests := map[State]string{
		'R': "R running", 'S': "S sleeping", 'D': "D uninterruptible", 'T': "T stopped",
		't': "t traced", 'Z': "Z zombie", 'X': "X dead", '?': "? unknown",
	}
	for s, want := range tests {
		if got := s.String(); got != want {
			t.Errorf("State(%q).String() = %q, want %q", byte(s), got, want)
		}
	}
}

func TestReadSeesAStoppedChild(t *testing.T) {
	self, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// The thread that reads runs, whichever thread is the main one.
	if self.State != 'R' || self.PPid != os.Getppid() {
		t.Errorf("this process: %+v, want running with parent %d", self, os.Getppid())
	}
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep to start: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := Read(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == 'T' && st.PPid == os.Getpid() && st.Comm == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stopped child: %+v, want state T, parent %d, comm sleep", st, os.Getpid())
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := Read(cmd.Process.Pid); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reading a reaped process: %v, want os.ErrNotExist", err)
	}
}

// spinChildEnv makes the test binary a child whose main thread sleeps
// while another thread spins: a Go worker's busy loop seldom runs on the
// main thread, which /proc/<pid>/stat describes.
const spinChildEnv = "PROCSTAT_SPIN_CHILD"

func init() {
	if os.Getenv(spinChildEnv) == "" {
		return
	}
	runtime.LockOSThread() // the main goroutine keeps the main thread
	go func() {
		//lint:ignore SA5002 the child's whole job is to spin on a thread other than the main one
		for {
		}
	}()
	select {} // the main thread sleeps here for good
}

func TestReadSeesASpinningThread(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), spinChildEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for {
		main, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		leader, _ := Parse(main)
		st, err := Read(pid)
		if err != nil {
			t.Fatal(err)
		}
		// Wait for the main thread to be asleep, so that the test shows
		// Read looking past it.
		if leader.State == 'S' {
			if st.State != 'R' || st.Pid != pid {
				t.Fatalf("Read = %+v with its main thread asleep and another spinning, want state R", st)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child's main thread never slept: %+v", leader)
		}
		time.Sleep(time.Millisecond)
	}
}
