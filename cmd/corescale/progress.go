package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/sys/unix"

	"github.com/corescale/corescale/runner"
)

// progress draws a bar of finished cells on stderr when stderr is a
// terminal, and stays silent otherwise (logs and CI).
type progress struct {
	p    *mpb.Progress
	bar  *mpb.Bar
	last atomic.Pointer[runner.Progress] // drawn by mpb's goroutine
}

func newProgress(stderr io.Writer) *progress {
	f, ok := stderr.(*os.File)
	if !ok || !isTerminal(f) {
		return &progress{}
	}
	return &progress{p: mpb.New(mpb.WithOutput(stderr), mpb.WithWidth(40))}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func (p *progress) update(pr runner.Progress) {
	if p.p == nil {
		return
	}
	p.last.Store(&pr)
	if p.bar == nil {
		p.bar = p.p.AddBar(int64(pr.Cells),
			mpb.PrependDecorators(decor.Name("cells "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return note(*p.last.Load(), time.Now()) }), decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace)),
		)
	}
	p.bar.SetCurrent(int64(pr.Finished))
}

// note is the text beside the bar: samples and the configuration, or a
// run that has taken ten times its cell's usual time (and a second or
// more), which the watchdog may soon end.
func note(pr runner.Progress, now time.Time) string {
	if pr.Job != "" && pr.JobUsual > 0 {
		if took := now.Sub(pr.JobStart); took > time.Second && took > 10*pr.JobUsual {
			return fmt.Sprintf("SLOW: %s running for %v (usually %v)", pr.Job, took.Round(100*time.Millisecond), pr.JobUsual.Round(10*time.Microsecond))
		}
	}
	return fmt.Sprintf("%d samples  %s", pr.Samples, pr.Current)
}

func (p *progress) done() {
	if p.p == nil {
		return
	}
	if p.bar != nil {
		p.bar.Abort(false)
	}
	p.p.Wait()
}
