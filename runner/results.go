package runner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/corescale/corescale/kernels"
)

// Metric units every sample line carries besides ns/op and the kernel's
// throughput. Busy times are per worker inside chunk functions: max over
// mean is the load imbalance, wall minus max is dispatch and join overhead.
// Readers of the file see them tidied to busy-max-sec/op and
// busy-mean-sec/op, as ns/op becomes sec/op.
const (
	UnitBusyMax  = "busy-max-ns/op"
	UnitBusyMean = "busy-mean-ns/op"
)

// A Config is a file configuration line ("key: value") of a result file.
type Config struct {
	Key, Value string
}

// WriteResults writes the outcome as Go benchmark results: the
// configuration lines, unit metadata, one line per sample and one per
// measured start-up. Cells that stopped short of their precision are listed
// in comment lines, which benchmark readers skip.
func WriteResults(w io.Writer, config []Config, out Outcome) error {
	var buf bytes.Buffer
	bw := benchfmt.NewWriter(&buf)
	file := make([]benchfmt.Config, 0, len(config)+1)
	for _, c := range config {
		file = append(file, benchfmt.Config{Key: c.Key, Value: []byte(c.Value), File: true})
	}
	if out.Interrupted {
		file = append(file, benchfmt.Config{Key: "interrupted", Value: []byte("true"), File: true})
	}
	units := []string{UnitBusyMax, UnitBusyMean}
	for _, s := range out.Samples {
		if u := ThroughputUnit(s.Work); !slices.Contains(units, u) {
			units = append(units, u)
		}
	}
	for _, u := range units {
		better := "lower"
		if u != UnitBusyMax && u != UnitBusyMean {
			better = "higher"
		}
		if err := bw.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u, Key: "better"}, OrigUnit: u, Value: better}); err != nil {
			return err
		}
	}
	for _, s := range out.Samples {
		if err := bw.Write(sampleResult(file, s)); err != nil {
			return err
		}
	}
	for _, s := range out.Startups {
		name := fmt.Sprintf("Startup/%s/strategy=%s/workers=%d", KernelName(s.Cell.Params), s.Cell.Strategy, s.Cell.Workers)
		res := &benchfmt.Result{Config: file, Name: benchfmt.Name(name), Iters: 1,
			Values: []benchfmt.Value{{Value: float64(s.Duration.Nanoseconds()), Unit: "ns/op"}}}
		if err := bw.Write(res); err != nil {
			return err
		}
	}
	for _, s := range out.Skipped {
		fmt.Fprintf(&buf, "# skipped: Benchmark%s: %s\n", s.Cell.Name(), firstLine(s.Err.Error()))
	}
	for _, c := range out.Unconverged {
		fmt.Fprintf(&buf, "# not converged: Benchmark%s: %d samples, 95%% interval +-%.1f%%\n", c.Cell.Name(), c.Samples, 100*c.HalfWidth)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func sampleResult(file []benchfmt.Config, s Sample) *benchfmt.Result {
	res := &benchfmt.Result{Config: file, Name: benchfmt.Name(s.Cell.Name()), Iters: 1} // the writer adds "Benchmark"
	for _, m := range Metrics(s.Work, s.Timing) {
		res.Values = append(res.Values, benchfmt.Value{Value: m.Value, Unit: m.Unit})
	}
	return res
}

// A Metric is one value of a result line.
type Metric struct {
	Value float64
	Unit  string
}

// Metrics are the values reported for a run of the given work: ns/op of the
// parallel section, throughput and the busy times. Result files and go test
// benchmarks report the same ones.
func Metrics(work kernels.Work, t Timing) []Metric {
	var maxBusy, sumBusy time.Duration
	for _, b := range t.Busy {
		maxBusy = max(maxBusy, b)
		sumBusy += b
	}
	return []Metric{
		{float64(t.Wall.Nanoseconds()), "ns/op"},
		{work.Amount / t.Wall.Seconds(), ThroughputUnit(work)},
		{float64(maxBusy.Nanoseconds()), UnitBusyMax},
		{float64(sumBusy.Nanoseconds()) / float64(max(1, len(t.Busy))), UnitBusyMean},
	}
}

// WriteFileAtomic writes a file by writing a temporary file beside it and
// renaming it into place: readers see the old file or the whole new one,
// never a torn one.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
