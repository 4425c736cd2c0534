package importer

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress reports the phases of an import on a writer (stderr): a bar redrawn in place on a
// terminal, plain lines otherwise (a log, a CI job). A nil *Progress reports nothing.
type Progress struct {
	w   io.Writer
	tty bool
	now func() time.Time

	mu       sync.Mutex
	phase    string
	total    int
	done     int
	start    time.Time
	lastDraw time.Time
	lastLine int // the done count of the last plain line, by tenths of total
}

// NewProgress reports on w; tty draws a bar (see IsTerminal).
func NewProgress(w io.Writer, tty bool) *Progress {
	return &Progress{w: w, tty: tty, now: time.Now}
}

// IsTerminal says whether f is a terminal (a character device), without any dependency.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Start begins a phase of total steps (0 when unknown).
func (p *Progress) Start(phase string, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phase, p.total, p.done, p.start, p.lastLine = phase, total, 0, p.now(), 0
	p.lastDraw = time.Time{}
	if p.tty {
		p.draw()
		return
	}
	if total > 1 {
		fmt.Fprintf(p.w, "%s: reading %d\n", phase, total)
	} else {
		fmt.Fprintf(p.w, "%s: reading\n", phase)
	}
}

// Add counts n steps of the phase done.
func (p *Progress) Add(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.tty {
		// Redraw at most 10 times a second, and always at the end.
		if now := p.now(); now.Sub(p.lastDraw) >= 100*time.Millisecond || p.done == p.total {
			p.draw()
		}
		return
	}
	if p.total >= 20 {
		// A line at every tenth, so that a log of a large corp shows it moving.
		if tenth := p.done * 10 / p.total; tenth > p.lastLine && p.done < p.total {
			p.lastLine = tenth
			fmt.Fprintf(p.w, "%s: %s\n", p.phase, p.status())
		}
	}
}

// SetTotal changes the phase's total once it is known (pages of a list).
func (p *Progress) SetTotal(total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
}

// Done ends the phase with a summary line.
func (p *Progress) Done(summary string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	took := roundDuration(p.now().Sub(p.start))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s: %s in %s\n", p.phase, summary, took)
		return
	}
	fmt.Fprintf(p.w, "%s: %s in %s\n", p.phase, summary, took)
}

// Note prints a line of its own (a warning), between redraws of the bar.
func (p *Progress) Note(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
	if p.tty && p.phase != "" {
		p.draw()
	}
}

// status is "done/total (rate/s, time left)".
func (p *Progress) status() string {
	elapsed := p.now().Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed
	}
	s := fmt.Sprintf("%d/%d", p.done, p.total)
	if p.total <= 0 {
		s = fmt.Sprintf("%d", p.done)
	}
	s += fmt.Sprintf(" (%.1f/s", rate)
	if p.total > 0 && rate > 0 && p.done < p.total {
		left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		s += ", " + left.Round(time.Second).String() + " left"
	}
	return s + ")"
}

func (p *Progress) draw() {
	p.lastDraw = p.now()
	const width = 30
	bar := strings.Repeat(" ", width)
	if p.total > 0 {
		filled := min(width, p.done*width/p.total)
		bar = strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
		if filled < width {
			bar = strings.Repeat("=", filled) + ">" + strings.Repeat(" ", width-filled-1)
		}
	}
	fmt.Fprintf(p.w, "\r\033[K%-12s [%s] %s", p.phase, bar, p.status())
}

// roundDuration keeps two or three significant digits: 12.6s, 840ms, 3ms.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}
