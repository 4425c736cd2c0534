package importer

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock advances by step at every reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, false)
	p.now = fakeClock(100 * time.Millisecond)
	p.Start("members", 100)
	for range 100 {
		p.Add(1)
	}
	p.Done("100 members")
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// A start line, one line at each tenth but the last, and the summary.
	if len(lines) != 11 || lines[0] != "members: reading 100" || !strings.HasPrefix(lines[10], "members: 100 members in") {
		t.Fatalf("lines:\n%s", out)
	}
	if !strings.Contains(lines[1], "members: 10/100 (") || !strings.Contains(lines[1], "/s, ") || !strings.Contains(lines[1], "left)") {
		t.Errorf("a progress line has no count, rate or time left: %q", lines[1])
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "\033") {
		t.Error("plain lines contain terminal controls")
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, true)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.Start("members", 40)
	step := func() { now = now.Add(30 * time.Millisecond); p.Add(1) }
	for range 20 {
		step()
	}
	p.Note("warning: %s", "something")
	for range 20 {
		step()
	}
	p.Done("40 members")
	out := buf.String()
	if !strings.Contains(out, "\r\033[K") || !strings.Contains(out, "[===============>") || !strings.Contains(out, "/40 (33.3/s, ") {
		t.Errorf("no bar with count, rate and time left drawn in place:\n%q", out)
	}
	if !strings.Contains(out, "\r\033[Kwarning: something\n") {
		t.Errorf("a note is not on a line of its own:\n%q", out)
	}
	if !strings.HasSuffix(out, "[==============================] 40/40 (33.3/s)\r\033[Kmembers: 40 members in 1.2s\n") {
		t.Errorf("the bar does not end full, then with the summary:\n%q", out)
	}
	// Redrawn at most every 100 ms: not once per step.
	if n := strings.Count(out, "\r\033[K"); n > 20 {
		t.Errorf("redrawn %d times for 40 steps 30 ms apart", n)
	}
}

func TestNilProgress(t *testing.T) {
	var p *Progress
	p.Start("x", 1)
	p.Add(1)
	p.SetTotal(2)
	p.Note("n")
	p.Done("d")
}
