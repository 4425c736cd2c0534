package notify

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Fold limits, per entry of a digest: a storm's digest is read at a glance, so each entry
// is one short line.
const (
	foldTitleBytes   = 120
	foldSummaryBytes = 160
	// foldURLBytes: a longer link is left out rather than let one entry eat the digest.
	foldURLBytes = 512
	// digestHeaderReserve is the most bytes a header takes (the counts at three digits).
	digestHeaderReserve = 96
)

// FoldEntry is one Notification's line in a digest.
type FoldEntry struct {
	Severity, Title, Summary, URL string
}

// PackDigests splits entries, in order, into at most slots digests, each holding at most
// maxEntries and rendering within limit bytes. It returns the digests; the entries beyond
// them are not planned (they wait for the next window). A single entry too long for a
// digest of its own gets one anyway (the send cuts it, as any long message).
func PackDigests(entries []FoldEntry, markdown bool, limit, slots, maxEntries int) [][]FoldEntry {
	var out [][]FoldEntry
	var cur []FoldEntry
	size := digestHeaderReserve
	for _, e := range entries {
		line := len(renderEntry(e, markdown)) + 1
		if len(cur) > 0 && (size+line > limit || len(cur) >= maxEntries) {
			out = append(out, cur)
			if len(out) == slots {
				return out
			}
			cur, size = nil, digestHeaderReserve
		}
		cur = append(cur, e)
		size += line
	}
	if len(cur) > 0 && len(out) < slots {
		out = append(out, cur)
	}
	return out
}

// RenderDigest renders digest i (1-based) of n, which together carry total messages. The
// text is a pure function of its arguments, so a digest sent again after a crash is the
// same request and WeCom's duplicate check drops it.
func RenderDigest(entries []FoldEntry, i, n, total int, markdown bool) string {
	var b strings.Builder
	if markdown {
		fmt.Fprintf(&b, "**%d messages at once, folded to stay within WeCom's quota (digest %d/%d, %d here)**\n", total, i, n, len(entries))
	} else {
		fmt.Fprintf(&b, "%d messages at once, folded to stay within WeCom's quota (digest %d/%d, %d here)\n", total, i, n, len(entries))
	}
	for _, e := range entries {
		b.WriteString(renderEntry(e, markdown))
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func renderEntry(e FoldEntry, markdown bool) string {
	title := oneLine(e.Title, foldTitleBytes)
	summary := oneLine(e.Summary, foldSummaryBytes)
	sev := oneLine(e.Severity, 32)
	url := e.URL
	if len(url) > foldURLBytes || strings.ContainsAny(url, " \n\r\t") {
		url = ""
	}
	var b strings.Builder
	b.WriteString("- ")
	if markdown {
		title, summary, sev = mdSafe(title), mdSafe(summary), mdSafe(sev)
		if sev != "" {
			fmt.Fprintf(&b, `<font color="%s">%s</font> `, severityColor(sev), sev)
		}
		switch {
		case url != "":
			fmt.Fprintf(&b, "[%s](%s)", strings.NewReplacer("[", "(", "]", ")").Replace(title), strings.ReplaceAll(url, ")", "%29"))
		default:
			b.WriteString("**" + strings.ReplaceAll(title, "*", "") + "**")
		}
		if summary != "" {
			b.WriteString(": " + summary)
		}
		return b.String()
	}
	if sev != "" {
		b.WriteString("[" + sev + "] ")
	}
	b.WriteString(title)
	if summary != "" {
		b.WriteString(": " + summary)
	}
	if url != "" {
		b.WriteString(" " + url)
	}
	return b.String()
}

func severityColor(sev string) string {
	switch strings.ToLower(sev) {
	case "critical", "error", "page", "high":
		return "warning"
	case "info", "none", "low", "resolved":
		return "info"
	}
	return "comment"
}

// mdSafe keeps an entry's text from opening markup of its own in the digest.
func mdSafe(s string) string {
	return strings.NewReplacer("<", "‹", ">", "›", "`", "'").Replace(s)
}

// oneLine joins s into one line of at most limit bytes (Shorten).
func oneLine(s string, limit int) string {
	return Shorten(strings.Join(strings.Fields(s), " "), limit)
}

// Shorten cuts s to at most limit bytes between UTF-8 characters, ending in "…".
func Shorten(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// FirstLine is the first non-empty line of s without markdown heading marks, for the entry
// of a message that names no title.
func FirstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "#>"))
		if l != "" {
			return l
		}
	}
	return ""
}
