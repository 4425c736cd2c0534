package alerting

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"
)

// Data is what a template sees: Alertmanager's webhook data (field names as in
// Alertmanager's own templates) plus MaxAlerts. It is a bounded view of the payload (see
// view.go), escaped for markdown when the message is markdown.
type Data struct {
	Receiver          string
	Status            string
	Alerts            Alerts
	GroupLabels       KV
	CommonLabels      KV
	CommonAnnotations KV
	ExternalURL       string
	GroupKey          string
	// TruncatedAlerts is how many alerts Alertmanager left out of the payload (max_alerts).
	TruncatedAlerts int
	// MaxAlerts is how many alerts a message lists; see More.
	MaxAlerts int

	// st is the account of the execution using the data, for SilenceURL.
	st *execState
}

// NewData builds the template data of m restricted to alerts (firing ones first), escaped
// for markdown when markdown is set.
func NewData(m *Message, alerts Alerts, status string, maxAlerts int, markdown bool) *Data {
	v := viewer{markdown: markdown}
	sorted := v.alerts(alerts)
	slices.SortStableFunc(sorted, func(a, b Alert) int {
		if a.Status != b.Status {
			if a.Status == StatusFiring {
				return -1
			}
			return 1
		}
		return 0
	})
	d := &Data{
		Receiver: v.text(m.Receiver), Status: status, Alerts: sorted,
		ExternalURL: v.url(m.ExternalURL), GroupKey: v.text(m.GroupKey), TruncatedAlerts: m.TruncatedAlerts, MaxAlerts: maxAlerts,
	}
	d.GroupLabels, _ = v.kv(m.GroupLabels)
	d.CommonLabels, _ = v.kv(m.CommonLabels)
	d.CommonAnnotations, _ = v.kv(m.CommonAnnotations)
	return d
}

// More is how many alerts of the group the message does not list.
func (d *Data) More() int {
	return max(len(d.Alerts)-d.MaxAlerts, 0) + d.TruncatedAlerts
}

// Title is the group's alert name: the common alertname, else the first alert's.
func (d *Data) Title() string {
	if n := d.CommonLabels["alertname"]; n != "" {
		return n
	}
	for _, a := range d.Alerts {
		if n := a.Labels["alertname"]; n != "" {
			return n
		}
	}
	return "alert"
}

// SilenceURL links to Alertmanager's "new silence" page for the alert's labels, or "" when
// Alertmanager sent no externalURL.
func (d *Data) SilenceURL(a Alert) (string, error) {
	if d.ExternalURL == "" {
		return "", d.st.step()
	}
	labels := a.raw
	if labels == nil {
		labels = a.Labels
	}
	matchers := make([]string, 0, len(labels))
	for _, p := range labels.SortedPairs() {
		matchers = append(matchers, p.Name+"="+strconv.Quote(p.Value))
	}
	filter := url.QueryEscape("{" + strings.Join(matchers, ",") + "}")
	out := strings.TrimRight(d.ExternalURL, "/") + "/#/silences/new?filter=" + strings.ReplaceAll(filter, "+", "%20")
	return out, d.st.account("SilenceURL", len(out))
}

// DefaultMarkdown is the built-in Markdown template. Firing is orange-red, resolved green
// (WeCom's <font color="warning"> and <font color="info">).
const DefaultMarkdown = `{{- if eq .Status "firing" -}}
## <font color="warning">[FIRING:{{ len .Alerts.Firing }}]</font> {{ .Title }}
{{- else -}}
## <font color="info">[RESOLVED]</font> {{ .Title }}
{{- end }}
{{- with without .GroupLabels "alertname" }}
> {{ range $i, $p := .SortedPairs }}{{ if $i }}, {{ end }}{{ $p.Name }}: **{{ $p.Value }}**{{ end }}
{{- end }}
{{ range $a := first $.MaxAlerts .Alerts }}
**{{ or $a.Labels.alertname $.Title }}**{{ with $a.Labels.severity }} · {{ . }}{{ end }} · <font color="{{ color $a.Status }}">{{ $a.Status }}</font>
{{- with $a.Annotations.summary }}
> Summary: {{ . }}
{{- end }}
{{- with $a.Annotations.description }}
> Description: {{ . }}
{{- end }}
{{- with without $a.Labels "alertname" "severity" }}
> Labels: {{ .SortedPairs }}
{{- end }}
> Started: {{ localTime $a.StartsAt }}
{{- if eq $a.Status "resolved" }}
> Resolved: {{ localTime $a.EndsAt }} (after {{ duration $a.StartsAt $a.EndsAt }})
{{- end }}
{{- $silence := "" }}{{ if eq $a.Status "firing" }}{{ $silence = $.SilenceURL $a }}{{ end }}
{{- if or $a.GeneratorURL $silence }}
> {{ with $a.GeneratorURL }}[Source]({{ . }}){{ end }}{{ if and $a.GeneratorURL $silence }} · {{ end }}{{ with $silence }}[Silence]({{ . }}){{ end }}
{{- end }}
{{ end }}
{{- with .More }}…and {{ . }} more{{ end }}`

// DefaultText is the built-in Text template.
const DefaultText = `{{- if eq .Status "firing" -}}
[FIRING:{{ len .Alerts.Firing }}] {{ .Title }}
{{- else -}}
[RESOLVED] {{ .Title }}
{{- end }}
{{- with without .GroupLabels "alertname" }}
{{ .SortedPairs }}
{{- end }}
{{ range $a := first $.MaxAlerts .Alerts }}
● {{ or $a.Labels.alertname $.Title }}{{ with $a.Labels.severity }} ({{ . }}){{ end }}: {{ $a.Status }}
{{- with $a.Annotations.summary }}
Summary: {{ . }}
{{- end }}
{{- with $a.Annotations.description }}
Description: {{ . }}
{{- end }}
{{- with without $a.Labels "alertname" "severity" }}
Labels: {{ .SortedPairs }}
{{- end }}
Started: {{ localTime $a.StartsAt }}
{{- if eq $a.Status "resolved" }}
Resolved: {{ localTime $a.EndsAt }} (after {{ duration $a.StartsAt $a.EndsAt }})
{{- end }}
{{- with $a.GeneratorURL }}
Source: {{ . }}
{{- end }}
{{- if eq $a.Status "firing" }}{{ with $.SilenceURL $a }}
Silence: {{ . }}
{{- end }}{{ end }}
{{ end }}
{{- with .More }}…and {{ . }} more{{ end }}`

// TimeLayout is how localTime prints a time.
const TimeLayout = "2006-01-02 15:04:05 MST"

// MaxContentBytes bounds rendered content. The Notification cuts it further to the
// channel's limit; this only keeps a runaway template within the API's 65536 characters.
const MaxContentBytes = 60000

// Template is a parsed message template with its time zone, run under a Budget.
type Template struct {
	tmpl   *template.Template
	loc    *time.Location
	budget Budget
	// builtin is one of the built-in templates (the receiver has none of its own). They are
	// ours, not a tenant's, and bounded by the step budget: the wall clock, which a loaded
	// node or a GC pause can stretch, does not stop them.
	builtin bool

	// mu serialises executions: the functions of tmpl count against st.
	mu sync.Mutex
	st *execState
}

// Parse parses text (or the default for markdown when text is empty) for times in loc, and
// refuses, with ErrBudget, a template that could exceed its budget in ways that cannot be
// counted while it runs: recursion, deep nesting, many variables, printf widths.
func Parse(text string, markdown bool, loc *time.Location) (*Template, error) {
	builtin := text == ""
	if builtin {
		text = DefaultText
		if markdown {
			text = DefaultMarkdown
		}
	}
	if len(text) > MaxTemplateBytes {
		return nil, fmt.Errorf("%w: it has %d bytes, more than %d", ErrBudget, len(text), MaxTemplateBytes)
	}
	if loc == nil {
		loc = time.UTC
	}
	t := &Template{loc: loc, budget: DefaultBudget, builtin: builtin}
	fm := t.funcs()
	tmpl, err := template.New("message").Option("missingkey=zero").Funcs(fm).Parse(text)
	if err != nil {
		return nil, err
	}
	if err := check(tmpl, t.budget.Steps); err != nil {
		return nil, err
	}
	step, err := template.New("step").Funcs(fm).Parse("{{" + stepFunc + "}}")
	if err != nil {
		return nil, err
	}
	instrument(tmpl, step.Root.Nodes[0])
	t.tmpl = tmpl
	return t, nil
}

// Execute renders d within the template's budget: an execution over it returns an error
// that wraps ErrBudget and says what to change. Content beyond MaxContentBytes is cut at a
// line boundary.
func (t *Template) Execute(d *Data) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	deadline := time.Now().Add(t.budget.Time)
	if t.builtin {
		deadline = time.Time{}
	}
	t.st = &execState{b: t.budget, deadline: deadline}
	d.st = t.st
	defer func() { t.st, d.st = nil, nil }()

	var buf bytes.Buffer
	err := t.tmpl.Execute(&limitWriter{w: &buf, n: MaxContentBytes + 1}, d)
	if t.st.err != nil {
		return "", t.st.err
	}
	if err != nil && !errors.Is(err, errLimit) {
		return "", err
	}
	out := strings.TrimSpace(buf.String())
	if len(out) > MaxContentBytes {
		cut := MaxContentBytes
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut]
		if i := strings.LastIndexByte(out, '\n'); i > 0 {
			out = out[:i]
		}
	}
	return out, nil
}

var errLimit = errors.New("template output too long")

// limitWriter keeps the first n bytes and then stops the execution: what a template prints
// past the message limit would be cut anyway.
type limitWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		l.w.Write(p[:l.n])
		l.n = 0
		return 0, errLimit
	}
	l.n -= len(p)
	return l.w.Write(p)
}

// stringBytes is the length of the string arguments of a function: what fmt copies at least.
func stringBytes(args []any) int {
	n := 0
	for _, a := range args {
		if s, ok := a.(string); ok {
			n += len(s)
		}
	}
	return n
}

// funcs are the functions a template may call. Each one counts a step and the bytes it
// makes against the current execution; the built-ins that make strings (printf, print,
// println, html, js, urlquery) are replaced by counted ones.
func (t *Template) funcs() template.FuncMap {
	st := func() *execState { return t.st }
	loc := t.loc
	counted := func(name string, f func(args ...any) string, factor int) func(args ...any) (string, error) {
		return func(args ...any) (string, error) {
			if err := st().precheck(name, factor*stringBytes(args)); err != nil {
				return "", err
			}
			out := f(args...)
			return out, st().account(name, len(out))
		}
	}
	str := func(name string, f func(string) string) func(string) (string, error) {
		return func(s string) (string, error) {
			if err := st().step(); err != nil {
				return "", err
			}
			out := f(s)
			return out, st().account(name, len(out))
		}
	}
	return template.FuncMap{
		stepFunc: func() (string, error) { return "", st().step() },
		"printf": func(format string, args ...any) (string, error) {
			if err := checkFormat(format); err != nil {
				return "", st().fail("%s", strings.TrimPrefix(err.Error(), ErrBudget.Error()+": "))
			}
			if err := st().precheck("printf", len(format)+stringBytes(args)); err != nil {
				return "", err
			}
			out := fmt.Sprintf(format, args...)
			return out, st().account("printf", len(out))
		},
		"print":   counted("print", fmt.Sprint, 1),
		"println": counted("println", fmt.Sprintln, 1),
		// The escapers make at most six bytes of one.
		"html":     counted("html", template.HTMLEscaper, 6),
		"js":       counted("js", template.JSEscaper, 6),
		"urlquery": counted("urlquery", template.URLQueryEscaper, 3),
		"localTime": func(tm time.Time) (string, error) {
			if tm.IsZero() {
				return "", st().step()
			}
			return tm.In(loc).Format(TimeLayout), st().step()
		},
		"duration": func(from, to time.Time) (string, error) {
			if from.IsZero() || to.IsZero() || to.Before(from) {
				return "", st().step()
			}
			return humanize(to.Sub(from)), st().step()
		},
		"color": func(status string) (string, error) {
			if status == StatusResolved {
				return "info", st().step()
			}
			return "warning", st().step()
		},
		"without": func(kv KV, names ...string) (KV, error) {
			out := kv.Remove(names)
			return out, st().account("without", 16*len(out))
		},
		"first": func(n int, as Alerts) (Alerts, error) {
			if n > 0 && len(as) > n {
				return as[:n:n], st().step()
			}
			return as, st().step()
		},
		"join": func(sep string, s []string) (string, error) {
			n := len(sep) * max(len(s)-1, 0)
			for _, x := range s {
				n += len(x)
			}
			if err := st().precheck("join", n); err != nil {
				return "", err
			}
			return strings.Join(s, sep), st().account("join", n)
		},
		"toUpper":   str("toUpper", strings.ToUpper),
		"toLower":   str("toLower", strings.ToLower),
		"trimSpace": str("trimSpace", strings.TrimSpace),
		"title": str("title", func(s string) string {
			r, n := utf8.DecodeRuneInString(s)
			return string(unicode.ToUpper(r)) + s[n:]
		}),
		"truncate": func(n int, s string) (string, error) {
			if err := st().step(); err != nil {
				return "", err
			}
			if n < 0 || len(s) <= n {
				return s, nil
			}
			for n > 0 && !utf8.RuneStart(s[n]) {
				n--
			}
			return s[:n] + "…", st().account("truncate", n+3)
		},
	}
}

// humanize prints a duration as "1d2h", "3h4m", "5m6s" or "7s".
func humanize(d time.Duration) string {
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	s := (d - m*time.Minute) / time.Second
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
