package tail

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestBufferKeepsTheLastBytes(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"nothing written", 8, nil, ""},
		{"under the limit", 8, []string{"ab", "cd"}, "abcd"},
		{"exactly the limit", 4, []string{"ab", "cd"}, "abcd"},
		{"over, across writes", 4, []string{"abc", "def"}, "cdef"},
		{"one write over the limit", 4, []string{"abcdefgh"}, "efgh"},
		{"a big write after small ones", 3, []string{"a", "b", "cdefg"}, "efg"},
		{"many small writes", 5, strings.Split(strings.Repeat("x", 1000)+"12345", ""), "12345"},
		{"empty writes", 4, []string{"", "ab", ""}, "ab"},
		{"zero max keeps nothing", 0, []string{"abc"}, ""},
		{"negative max keeps nothing", -1, []string{"abc"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.max)
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := b.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBufferStaysSmall(t *testing.T) {
	b := New(16)
	for range 10000 {
		b.Write([]byte("0123456789"))
	}
	if c := cap(b.buf); c > 64 {
		t.Errorf("after 100 kB of writes the buffer holds %d bytes of capacity for a 16-byte tail", c)
	}
}

type failingWriter struct{ got strings.Builder }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.got.Write(p)
	return 0, errors.New("disk full")
}

func TestThroughPassesWritesOnAndHidesTheirErrors(t *testing.T) {
	next := &failingWriter{}
	b := Through(next, 4)
	for _, w := range []string{"hello ", "world"} {
		if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
			t.Errorf("Write(%q) = %d, %v; want %d, nil whatever next does", w, n, err, len(w))
		}
	}
	if next.got.String() != "hello world" {
		t.Errorf("next got %q, want every byte", next.got.String())
	}
	if b.String() != "orld" {
		t.Errorf("kept %q, want %q", b.String(), "orld")
	}
}

func TestBufferIsSafeForConcurrentUse(t *testing.T) {
	b := New(64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				b.Write([]byte("line\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); len(got) != 64 || strings.Trim(got, "line\n") != "" {
		t.Errorf("kept %q", got)
	}
}
