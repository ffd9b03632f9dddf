package dgemm

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAnonHugeReadsTheMappingThatHoldsTheAddress(t *testing.T) {
	const smaps = `00400000-00600000 r-xp 00000000 fd:00 123 /bin/corescale
Size:               2048 kB
AnonHugePages:         0 kB
7f0000000000-7f0000600000 rw-p 00000000 00:00 0
Size:               6144 kB
Rss:                2048 kB
AnonHugePages:      2048 kB
7f0000600000-7f0000800000 rw-p 00000000 00:00 0
AnonHugePages:         0 kB
`
	path := filepath.Join(t.TempDir(), "smaps")
	if err := os.WriteFile(path, []byte(smaps), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr uintptr
		huge bool
		err  bool
	}{
		{0x00500000, false, false},
		{0x7f0000000000, true, false},
		{0x7f00005fffff, true, false},
		{0x7f0000600000, false, false},
		{0x7f0000800000, false, true}, // past the last mapping
	} {
		huge, err := anonHuge(path, tt.addr)
		if huge != tt.huge || (err != nil) != tt.err {
			t.Errorf("anonHuge(%#x) = %v, %v; want %v, error %v", tt.addr, huge, err, tt.huge, tt.err)
		}
	}
}
