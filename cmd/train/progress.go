package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mnist-trainer/mnist/model"
)

// progressBar draws one line that rewrites itself on a terminal; elsewhere (CI logs, pipes) it prints
// a plain line every logEvery instead of flooding the log.
type progressBar struct {
	w        io.Writer
	terminal bool
	last     time.Time
	drawn    bool
}

const (
	redrawEvery = 200 * time.Millisecond
	logEvery    = 15 * time.Second
	barWidth    = 24
)

func newProgressBar(w io.Writer) *progressBar {
	b := &progressBar{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.terminal = true
		}
	}
	return b
}

func (b *progressBar) update(p model.Progress) {
	every := logEvery
	if b.terminal {
		every = redrawEvery
	}
	if time.Since(b.last) < every && p.Step != p.Steps {
		return
	}
	b.last = time.Now()
	done := barWidth * p.Step / p.Steps
	line := fmt.Sprintf("epoch %d/%d [%s%s] %3d%% step %d/%d · loss %.4f (smoothed %.4f) · %.0f img/s · ETA %s",
		p.Epoch, p.Epochs, strings.Repeat("=", done), strings.Repeat(" ", barWidth-done), 100*p.Step/p.Steps,
		p.Step, p.Steps, p.Loss, p.SmoothLoss, p.ImagesPerSec, p.ETA.Round(time.Second))
	if b.terminal {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
		b.drawn = true
	} else {
		fmt.Fprintln(b.w, line)
	}
}

// clear removes the bar so the next line of output starts clean.
func (b *progressBar) clear() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}
