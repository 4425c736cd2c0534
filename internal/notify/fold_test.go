package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func entries(n int, summary string) []FoldEntry {
	out := make([]FoldEntry, n)
	for i := range out {
		out[i] = FoldEntry{Severity: "critical", Title: fmt.Sprintf("HighLatency-%03d db-%d", i, i), Summary: summary,
			URL: fmt.Sprintf("https://prometheus.example.com/graph?g0.expr=up%%7Bi%%3D%d%%7D", i)}
	}
	return out
}

// every digest of a plan, rendered with its final numbers, fits the limit; the entries stay
// in order, each once; no more digests than slots.
func TestPackDigestsFitsLimitsInOrder(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		n, limit, slots, max   int
		markdown               bool
		wantDigests, wantCount int
	}{
		{"100 alerts, app markdown, plenty of slots", 100, AppMarkdownLimit, 30, 100, true, -1, 100},
		{"100 alerts, robot markdown", 100, RobotMarkdownLimit, 20, 100, true, -1, 100},
		{"100 alerts, app text", 100, AppTextLimit, 30, 100, false, -1, 100},
		{"more than the slots hold: the rest waits", 400, AppMarkdownLimit, 3, 100, true, 3, -1},
		{"one slot", 50, AppMarkdownLimit, 1, 100, true, 1, -1},
		{"entry cap per digest", 30, RobotMarkdownLimit, 30, 4, true, 8, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := entries(tc.n, strings.Repeat("p99 latency above 2s for 10 minutes ", 3))
			got := PackDigests(in, tc.markdown, tc.limit, tc.slots, tc.max)
			if len(got) > tc.slots {
				t.Fatalf("%d digests for %d slots", len(got), tc.slots)
			}
			if tc.wantDigests >= 0 && len(got) != tc.wantDigests {
				t.Fatalf("digests = %d, want %d", len(got), tc.wantDigests)
			}
			total, i := 0, 0
			for _, dg := range got {
				total += len(dg)
			}
			if tc.wantCount >= 0 && total != tc.wantCount {
				t.Fatalf("entries planned = %d, want %d", total, tc.wantCount)
			}
			for k, dg := range got {
				if len(dg) == 0 || len(dg) > tc.max {
					t.Fatalf("digest %d has %d entries (max %d)", k+1, len(dg), tc.max)
				}
				text := RenderDigest(dg, k+1, len(got), total, tc.markdown)
				if len(text) > tc.limit {
					t.Fatalf("digest %d is %d bytes, over %d", k+1, len(text), tc.limit)
				}
				for _, e := range dg {
					if e.Title != in[i].Title {
						t.Fatalf("entry %d is %q, want %q (order)", i, e.Title, in[i].Title)
					}
					if strings.Count(text, e.Title) != 1 {
						t.Fatalf("digest %d shows %q %d times", k+1, e.Title, strings.Count(text, e.Title))
					}
					i++
				}
			}
			// Packing is tight: each digest but the last has no room for the next entry.
			for k := 0; k+1 < len(got); k++ {
				if len(got[k]) == tc.max {
					continue
				}
				more := append(append([]FoldEntry{}, got[k]...), got[k+1][0])
				if len(RenderDigest(more, 99, 99, 999, tc.markdown)) <= tc.limit-digestHeaderReserve+len(RenderDigest(nil, 99, 99, 999, tc.markdown)) {
					t.Fatalf("digest %d had room for one more entry", k+1)
				}
			}
		})
	}
}

func TestRenderDigestIsDeterministicAndEscapes(t *testing.T) {
	e := []FoldEntry{{Severity: "critical", Title: "Disk [full] <@all>\non db-1", Summary: "99% `full`", URL: "https://x.example.com/a)b"}}
	a, b := RenderDigest(e, 1, 2, 7, true), RenderDigest(e, 1, 2, 7, true)
	if a != b {
		t.Fatal("two renders of one digest differ")
	}
	want := "**7 messages at once, folded to stay within WeCom's quota (digest 1/2, 1 here)**\n" +
		`- <font color="warning">critical</font> [Disk (full) ‹@all› on db-1](https://x.example.com/a%29b): 99% 'full'`
	if a != want {
		t.Fatalf("markdown digest:\n%s\nwant\n%s", a, want)
	}
	text := RenderDigest(e, 2, 2, 7, false)
	if want := "7 messages at once, folded to stay within WeCom's quota (digest 2/2, 1 here)\n- [critical] Disk [full] <@all> on db-1: 99% `full` https://x.example.com/a)b"; text != want {
		t.Fatalf("text digest:\n%s\nwant\n%s", text, want)
	}
}

func TestEntriesAreCompact(t *testing.T) {
	long := FoldEntry{Title: strings.Repeat("标题", 200), Summary: strings.Repeat("s", 2000), URL: "https://x.example.com/" + strings.Repeat("u", 1000)}
	line := renderEntry(long, true)
	if len(line) > foldTitleBytes+foldSummaryBytes+64 {
		t.Fatalf("entry is %d bytes", len(line))
	}
	if strings.Contains(line, "uuuu") {
		t.Fatal("a link over 512 bytes is kept")
	}
	if !strings.Contains(line, "…") {
		t.Fatal("no ellipsis where the title was cut")
	}
}

func TestFreeCountsTheWindow(t *testing.T) {
	p := &Pacer{}
	now := t0
	target := Target{Scope: "app|c|1", Channel: "app", Members: []string{"Ann"}, Rules: MemberRules}
	if got := p.Free(target, now); got != 30 {
		t.Fatalf("free = %d on an empty window", got)
	}
	for i := range 12 {
		p.Record(target, now.Add(-time.Duration(i)*time.Second))
	}
	g := p.Acquire("x", Order{Created: now, Name: "x"}, target, now).Grant
	if g == nil {
		t.Fatal("no grant")
	}
	if got := p.Free(target, now); got != 17 {
		t.Fatalf("free = %d after 12 sends and one in flight, want 17", got)
	}
	if got := p.Free(target, now.Add(61*time.Second)); got != 29 {
		t.Fatalf("free = %d a minute later (only the open grant counts), want 29", got)
	}
}
