package resultfile_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/corescale/corescale/resultfile"
)

func TestGoTestNamesGiveTheirCurveAndWorkerCount(t *testing.T) {
	tests := []struct {
		name, line string
		want       resultfile.Cell
		unread     []string
	}{
		{"no suffix is one CPU", "BenchmarkIndexByte 100 7.7 ns/op",
			resultfile.Cell{Kernel: "IndexByte", Bench: "IndexByte", Workers: 1}, nil},
		{"the -N suffix is the worker count", "BenchmarkIndexByte-4 100 7.7 ns/op",
			resultfile.Cell{Kernel: "IndexByte", Bench: "IndexByte", Workers: 4}, nil},
		{"a benchmark named just Benchmark is a curve", "Benchmark 100 7.7 ns/op",
			resultfile.Cell{Bench: "Benchmark", Workers: 1}, nil},
		{"a benchmark named just Benchmark has a worker count", "Benchmark-2 100 7.7 ns/op",
			resultfile.Cell{Bench: "Benchmark", Workers: 2}, nil},
		{"sub-benchmarks are curves of their own", "BenchmarkEqualFold/ASCII-2 100 22 ns/op",
			resultfile.Cell{Kernel: "EqualFold", Bench: "EqualFold/ASCII", Workers: 2}, nil},
		{"a workers key is the worker count and leaves the rest of the name", "BenchmarkPool/workers=8/size=1k 100 22 ns/op",
			resultfile.Cell{Kernel: "Pool", Bench: "Pool/size=1k", Workers: 8}, nil},
		{"a gomaxprocs key is the worker count", "BenchmarkPool/gomaxprocs=3 100 22 ns/op",
			resultfile.Cell{Kernel: "Pool", Bench: "Pool", Workers: 3}, nil},
		{"a workers key wins over the suffix, which stays in the curve", "BenchmarkPool/workers=4-2 100 22 ns/op",
			resultfile.Cell{Kernel: "Pool", Bench: "Pool-2", Workers: 4}, nil},
		{"a workers key wins over a gomaxprocs key", "BenchmarkPool/gomaxprocs=2/workers=4 100 22 ns/op",
			resultfile.Cell{Kernel: "Pool", Bench: "Pool/gomaxprocs=2", Workers: 4}, nil},
		{"a workers part that is no count is unread", "BenchmarkPool/workers=two-2 100 22 ns/op",
			resultfile.Cell{Kernel: "Pool", Bench: "Pool/workers=two", Workers: 2}, []string{"workers=two"}},
		{"a strategy key makes a corescale cell, whose worker count is GOMAXPROCS under go test", "BenchmarkHash/shape=uniform/size=4Mi/strategy=goroutines/sched=dynamic-2 1 5 ns/op",
			resultfile.Cell{Kernel: "Hash", Shape: "uniform", Size: "4Mi", Strategy: "goroutines", Sched: "dynamic", Workers: 2}, nil},
		{"a corescale cell's unknown key is unread", "BenchmarkHash/shape=uniform/size=4Mi/strategy=serial/sched=dynamic/color=red/workers=1 1 5 ns/op",
			resultfile.Cell{Kernel: "Hash", Shape: "uniform", Size: "4Mi", Strategy: "serial", Sched: "dynamic", Workers: 1}, []string{"color=red"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := resultfile.Read(strings.NewReader("pkg: x\n"+tt.line+"\n"), "x.txt")
			if err != nil {
				t.Fatal(err)
			}
			s := f.Samples[0]
			if s.Cell != tt.want {
				t.Errorf("cell %+v, want %+v", s.Cell, tt.want)
			}
			if !slices.Equal(s.Unread, tt.unread) {
				t.Errorf("unread %q, want %q", s.Unread, tt.unread)
			}
			if got, want := s.Cell.ConfigName(), tt.want.ConfigName(); got != want || tt.want.Bench != "" && got != tt.want.Bench {
				t.Errorf("configuration %q, want %q", got, want)
			}
		})
	}
}

func TestABenchmarkNamedBenchmarkRoundTrips(t *testing.T) {
	text := "pkg: x\nBenchmark 10 100 ns/op\nBenchmark-2 10 60 ns/op\n"
	f, err := resultfile.Read(strings.NewReader(text), "x.txt")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := resultfile.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nBenchmark 10 100 ns/op\n", "\nBenchmark-2 10 60 ns/op\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("written back, the file lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestOnlyCorescalesFilesHaveRounds(t *testing.T) {
	tests := []struct {
		name, text string
		rounded    bool
	}{
		{"go test output (a pkg line, no rounds line)", "pkg: sync\nBenchmarkA 1 1 ns/op\nBenchmarkA-2 1 1 ns/op\n", false},
		{"corescale bench's file (a pkg line and rounds lines)", "pkg: sync\nBenchmarkA-1 1 1 ns/op\nBenchmarkA-2 1 1 ns/op\n# rounds: A: 1\n", true},
		{"corescale run's file before rounds lines (no pkg line)", "cpu: x\nBenchmarkHash/shape=u/size=1/strategy=serial/sched=dynamic/workers=1 1 1 ns/op\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := resultfile.Read(strings.NewReader(tt.text), "x.txt")
			if err != nil {
				t.Fatal(err)
			}
			if f.Rounded != tt.rounded {
				t.Errorf("Rounded = %v, want %v", f.Rounded, tt.rounded)
			}
		})
	}
}

func TestNameWithGomaxprocsNamesOneCPU(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"Mutex", 1, "Mutex-1"},
		{"EqualFold/ASCII", 1, "EqualFold/ASCII-1"},
		{"Mutex-2", 2, "Mutex-2"},
		{"Size/n=1-4", 4, "Size/n=1-4"},
		{"Size/n-1024", 1, "Size/n-1024-1"}, // the name's own -1024 is no GOMAXPROCS
	}
	for _, tt := range tests {
		if got := resultfile.NameWithGomaxprocs(tt.name, tt.n); got != tt.want {
			t.Errorf("NameWithGomaxprocs(%q, %d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
	}
}

func TestGoTestSamplesWriteTheirNamesAndRounds(t *testing.T) {
	// Two rounds of a go test benchmark at -cpu 1 and 2, as corescale
	// bench writes them: the names as go test wrote them (with -1 named),
	// the k-th line of each name round k.
	in := &resultfile.File{
		Config: []resultfile.Config{{Key: resultfile.ConfigPkg, Value: "sync"}},
		Rounds: map[string][]int{"Mutex": {2}},
	}
	for round := range 2 {
		for _, n := range []int{2, 1} {
			name := resultfile.NameWithGomaxprocs("Mutex", n)
			in.Samples = append(in.Samples, resultfile.Sample{
				Cell: resultfile.Cell{Kernel: "Mutex", Bench: "Mutex", Workers: n}, Name: name, Iters: 1000 * n,
				Values: []resultfile.Value{{Value: float64(10*n + round), Unit: resultfile.UnitTime}, {Value: 3, Unit: "allocs/op"}},
			})
		}
	}
	var buf bytes.Buffer
	if err := resultfile.Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pkg: sync\n", "BenchmarkMutex-1 1000 10 ns/op 3 allocs/op\n", "BenchmarkMutex-2 2000 21 ns/op 3 allocs/op\n", "# rounds: Mutex: 2\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the file lacks %q:\n%s", want, buf.String())
		}
	}
	out, err := resultfile.Read(&buf, "x.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !out.Rounded || len(out.Samples) != 4 {
		t.Fatalf("read back %d samples, rounded %v: want 4, rounded", len(out.Samples), out.Rounded)
	}
	for _, s := range out.Samples {
		v, _ := s.Value(resultfile.UnitTime)
		if want := float64(10*s.Cell.Workers + s.Round); v != want || s.Cell.Bench != "Mutex" || s.Iters != 1000*s.Cell.Workers {
			t.Errorf("%s round %d: %v ns/op, %d iterations, curve %q; want %v, %d, Mutex", s.Name, s.Round, v, s.Iters, s.Cell.Bench, want, 1000*s.Cell.Workers)
		}
	}
}
