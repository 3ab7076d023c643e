package icommands

import (
	"io"
	"sync/atomic"

	"github.com/schollz/progressbar/v3"
)

// progress counts transferred bytes and, on a terminal, draws a bar with
// rate and ETA. Off a terminal, or with --json, it only counts.
type progress struct {
	bar   *progressbar.ProgressBar
	bytes atomic.Int64
	files atomic.Int64
}

func newProgress(a *app, total int64, what string) *progress {
	p := &progress{}
	if !a.json && isTerminal(a.Err) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(a.Err),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100_000_000),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) add(n int) {
	p.bytes.Add(int64(n))
	if p.bar != nil {
		p.bar.Add(n)
	}
}

func (p *progress) fileDone() { p.files.Add(1) }

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// countingReader reports what passes through it to a progress.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(n)
	return n, err
}
