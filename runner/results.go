package runner

import (
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/resultfile"
)

// ResultFile is the outcome as a result file's content, without the
// configuration and note lines, which the caller knows.
func (o Outcome) ResultFile() *resultfile.File {
	f := &resultfile.File{Interrupted: o.Interrupted, Rounds: o.Rounds}
	for _, s := range o.Samples {
		f.Samples = append(f.Samples, resultfile.Sample{Cell: s.Cell.Record(), Iters: s.Runs, Values: s.values()})
	}
	for _, s := range o.Startups {
		cell := s.Cell.Record()
		cell.Sched = "" // a pool's start-up is the same under any sched
		f.Startups = append(f.Startups, resultfile.Startup{Cell: cell, Seconds: s.Duration.Seconds()})
	}
	for _, s := range o.Skipped {
		f.Skipped = append(f.Skipped, resultfile.Skip{Cell: s.Cell.Record(), Reason: s.Err.Error()})
	}
	for _, c := range o.Unconverged {
		f.Unconverged = append(f.Unconverged, resultfile.Unconverged{Cell: c.Cell.Record(), Samples: c.Samples, HalfWidth: c.HalfWidth})
	}
	return f
}

// values are the sample's metrics and its clock probe.
func (s Sample) values() []resultfile.Value {
	v := Metrics(s.Work, s.Timing)
	if s.Clock > 0 {
		v = append(v, resultfile.Value{Value: float64(s.Clock.Nanoseconds()), Unit: resultfile.UnitClock})
	}
	return v
}

// Metrics are the values reported for a run of the given work: the wall
// time of the parallel section, throughput, the workers' spans and, where
// the strategy measured it, the time they waited off a CPU. Result files
// and go test benchmarks report the same ones.
func Metrics(work kernels.Work, t Timing) []resultfile.Value {
	var maxSpan, sumSpan, sumWait time.Duration
	for _, b := range t.Span {
		maxSpan = max(maxSpan, b)
		sumSpan += b
	}
	for _, w := range t.Wait {
		sumWait += w
	}
	n := float64(max(1, len(t.Span)))
	values := []resultfile.Value{
		{Value: float64(t.Wall.Nanoseconds()), Unit: resultfile.UnitTime},
		{Value: work.Amount / t.Wall.Seconds(), Unit: resultfile.ThroughputUnit(work.Unit)},
		{Value: float64(maxSpan.Nanoseconds()), Unit: resultfile.UnitSpanMax},
		{Value: float64(sumSpan.Nanoseconds()) / n, Unit: resultfile.UnitSpanMean},
	}
	if t.Wait != nil {
		values = append(values, resultfile.Value{Value: float64(sumWait.Nanoseconds()) / n, Unit: resultfile.UnitWaitMean})
	}
	return values
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
