package alerting

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// What a template sees of a payload is bounded, so that the methods of the data (SortedPairs,
// Names, SilenceURL, …), which cannot count against a budget, make small values however big
// the payload, and escaped, because labels and annotations come from whatever is monitored,
// not from the receiver's owner.
const (
	// MaxViewPairs bounds the labels or annotations of one set a template sees; the rest
	// (by name, alertname first) are left out.
	MaxViewPairs = 64
	// MaxViewNameBytes bounds a label name a template sees.
	MaxViewNameBytes = 256
	// MaxViewValueBytes bounds a label or annotation value, group key, receiver or URL a
	// template sees; longer ones end in "…".
	MaxViewValueBytes = 2048
)

// markdownEscaper replaces what WeCom markdown would read as markup in a value with the
// full-width character that looks the same: <@userid> mentions and <font> tags, bold,
// inline code, links and quotes. A value is one line: a newline in it could start a
// heading.
var markdownEscaper = strings.NewReplacer(
	"\r\n", " ", "\n", " ", "\r", " ", "\u2028", " ", "\u2029", " ",
	"<", "＜", ">", "＞", "*", "＊", "`", "｀", "[", "［", "]", "］",
)

// EscapeMarkdown makes s plain text inside a WeCom markdown message.
func EscapeMarkdown(s string) string {
	s = markdownEscaper.Replace(s)
	// A value a template prints at the start of a line must not become a heading.
	if t := strings.TrimLeft(s, " \t"); strings.HasPrefix(t, "#") {
		lead := len(s) - len(t)
		hashes := len(t) - len(strings.TrimLeft(t, "#"))
		s = s[:lead] + strings.Repeat("＃", hashes) + t[hashes:]
	}
	return s
}

// markdownURLEscaper percent-encodes what would end a markdown link target or start markup.
var markdownURLEscaper = strings.NewReplacer(
	" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "[", "%5B", "]", "%5D",
	"\"", "%22", "'", "%27", "`", "%60", "*", "%2A", "\n", "%0A", "\r", "%0D", "\t", "%09",
)

// MarkdownURL makes s safe as a markdown link target: an http or https URL with nothing
// that ends the link, or "" (no link) for anything else.
func MarkdownURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return markdownURLEscaper.Replace(strings.TrimSpace(s))
}

// cut shortens s to at most n bytes at a rune boundary, ending in "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// viewer makes the template's view of a payload.
type viewer struct{ markdown bool }

func (v viewer) text(s string) string {
	s = cut(s, MaxViewValueBytes)
	if v.markdown {
		return EscapeMarkdown(s)
	}
	return s
}

func (v viewer) url(s string) string {
	s = cut(s, MaxViewValueBytes)
	if v.markdown {
		return MarkdownURL(s)
	}
	return s
}

// kv returns the bounded view of a set and, for silence links, the same pairs unescaped.
func (v viewer) kv(in KV) (view, raw KV) {
	view, raw = make(KV, min(len(in), MaxViewPairs)), make(KV, min(len(in), MaxViewPairs))
	pairs := in.SortedPairs()
	for _, p := range pairs[:min(len(pairs), MaxViewPairs)] {
		name, value := cut(p.Name, MaxViewNameBytes), cut(p.Value, MaxViewValueBytes)
		raw[name] = value
		if v.markdown {
			name, value = EscapeMarkdown(name), EscapeMarkdown(value)
		}
		view[name] = value
	}
	return view, raw
}

func (v viewer) alerts(in Alerts) Alerts {
	out := slices.Clone(in)
	for i := range out {
		a := &out[i]
		a.Labels, a.raw = v.kv(a.Labels)
		a.Annotations, _ = v.kv(a.Annotations)
		a.GeneratorURL = v.url(a.GeneratorURL)
		a.Fingerprint = v.text(a.Fingerprint)
	}
	return out
}
