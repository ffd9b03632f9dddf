package analysis

import (
	"bytes"
	"io"
	"os"
	"testing"

	"golang.org/x/perf/benchfmt"
)

func FuzzRead(f *testing.F) {
	seed, err := os.ReadFile("testdata/small.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("BenchmarkX-4 1 5 ns/op\n"))
	f.Add([]byte("BenchmarkHash/shape=u/size=1/strategy=serial/sched=dynamic/workers=1 1 -1 ns/op 0 B/s\nUnit B/s better=sideways\n"))
	f.Add([]byte("scaling: weak\nBenchmarkA/strategy=goroutines/workers=0 1 NaN ns/op\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set := &Set{Units: benchfmt.UnitMetadataMap{}}
		if err := set.read(bytes.NewReader(data), "fuzz.txt", 0, map[string]*Cell{}); err != nil {
			return
		}
		set.label()
		for _, c := range set.Cells {
			if len(c.Values) == 0 {
				t.Fatalf("cell %s without values", c.Name)
			}
		}
		// Whatever reads must analyse and render without a panic.
		if err := NewReport(set).WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
