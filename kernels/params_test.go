package kernels

import "testing"

func TestParseParamsRoundTrip(t *testing.T) {
	p := Params{Kernel: "hash", Shape: "skewed", Size: 1 << 26, Chunks: 64, Seed: 1<<64 - 1}
	got, err := ParseParams(p.String())
	if err != nil || got != p {
		t.Fatalf("ParseParams(%q) = %v, %v; want %v", p.String(), got, err, p)
	}
}

func TestParseParamsRejectsMalformedText(t *testing.T) {
	for _, s := range []string{
		"",
		"shape=uniform size=1 chunks=1 seed=1",
		"hash shape=uniform size=1 chunks=1",
		"hash shape=uniform size=x chunks=1 seed=1",
		"hash shape=uniform size=1 chunks=1 seed=-1",
		"hash shape=uniform size=1 size=2 chunks=1 seed=1",
		"hash shape=uniform size=1 chunks=1 seed=1 colour=red",
		"hash shape=uniform size=1 chunks=1 seed=1 stray",
		"hash shape=uniform size=99999999999999999999 chunks=1 seed=1",
	} {
		if p, err := ParseParams(s); err == nil {
			t.Errorf("ParseParams(%q) = %v, want an error", s, p)
		}
	}
}

func FuzzParseParams(f *testing.F) {
	f.Add("hash shape=uniform size=67108864 chunks=64 seed=1")
	f.Add("matmul shape=square size=512 chunks=64 seed=0")
	f.Add("search size=1 shape=uniform seed=2 chunks=3")
	f.Add("x =")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseParams(s)
		if err != nil {
			return
		}
		// Whatever parses must survive a round trip, and New must answer
		// with a kernel or an error, never a panic.
		again, err := ParseParams(p.String())
		if err != nil {
			t.Fatalf("ParseParams(%q) = %v, but its String %q does not parse: %v", s, p, p.String(), err)
		}
		if again != p {
			t.Fatalf("round trip of %q: %v became %v", s, p, again)
		}
		if p.Size <= 1<<16 {
			_, _ = New(p)
		}
	})
}
