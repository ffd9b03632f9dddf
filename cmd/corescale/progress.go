package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

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
	note atomic.Pointer[string] // drawn by mpb's goroutine
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
	note := fmt.Sprintf("%d samples  %s", pr.Samples, pr.Current)
	p.note.Store(&note)
	if p.bar == nil {
		p.bar = p.p.AddBar(int64(pr.Cells),
			mpb.PrependDecorators(decor.Name("cells "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return *p.note.Load() }), decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace)),
		)
	}
	p.bar.SetCurrent(int64(pr.Finished))
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
