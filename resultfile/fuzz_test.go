package resultfile

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzRead reads anything without a panic, and what it reads writes and
// reads back as the same samples, start-ups, ceilings and rounds.
func FuzzRead(f *testing.F) {
	f.Add([]byte("goos: linux\n# date: x\nBenchmarkHash/shape=uniform/size=4Mi/strategy=serial/sched=dynamic/workers=1 1 2e6 ns/op 2e9 B/s 1.9e6 span-max-ns/op\n# rounds: Hash/shape=uniform/size=4Mi: 1\n"))
	f.Add([]byte("BenchmarkX-4 1 5 ns/op\n# not converged: BenchmarkX: 3 samples, 95% interval +-2.0%\n"))
	f.Add([]byte("BenchmarkStartup/Hash/shape=u/size=1/strategy=procpool/workers=2 1 3e6 ns/op\nBenchmarkCeiling/kernel=hash/source=o/cores=1 1 2e9 B/s\n# ceiling: BenchmarkCeiling/kernel=hash/source=o/cores=2: skipped: none\n"))
	// Found by the fuzzer: a ceiling without keys and a skipped-ceiling
	// note naming no ceiling merged into one ceiling when read back.
	f.Add([]byte("BenchmarkCeiling 0 0 0\n# ceiling: Benchmark: skipped: "))
	f.Add([]byte("BenchmarkCeiling 0 0 0\n# ceiling: BenchmarkCeiling: skipped: x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data), "fuzz.txt")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, file); err != nil {
			return // a key or note Write refuses (a newline in a value, say)
		}
		again, err := Read(&buf, "again.txt")
		if err != nil {
			t.Fatalf("reading what was written: %v\n%s", err, buf.String())
		}
		if len(again.Samples) != len(file.Samples) {
			t.Fatalf("%d samples read back, %d written", len(again.Samples), len(file.Samples))
		}
		for i, s := range file.Samples {
			if again.Samples[i].Cell != s.Cell || !slices.Equal(again.Samples[i].Values, s.Values) {
				t.Fatalf("sample %d: %+v read back as %+v", i, s, again.Samples[i])
			}
		}
		if !slices.Equal(again.Startups, file.Startups) || len(again.Ceilings) != len(file.Ceilings) {
			t.Fatalf("start-ups or ceilings changed:\n%+v %+v\n%+v %+v", file.Startups, file.Ceilings, again.Startups, again.Ceilings)
		}
	})
}
