package alerting

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"
)

// Data is what a template sees: Alertmanager's webhook data (field names as in
// Alertmanager's own templates) plus MaxAlerts.
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
}

// NewData builds the template data of m restricted to alerts (firing ones first).
func NewData(m *Message, alerts Alerts, status string, maxAlerts int) *Data {
	sorted := slices.Clone(alerts)
	slices.SortStableFunc(sorted, func(a, b Alert) int {
		if a.Status != b.Status {
			if a.Status == StatusFiring {
				return -1
			}
			return 1
		}
		return 0
	})
	return &Data{
		Receiver: m.Receiver, Status: status, Alerts: sorted,
		GroupLabels: nonNil(m.GroupLabels), CommonLabels: nonNil(m.CommonLabels), CommonAnnotations: nonNil(m.CommonAnnotations),
		ExternalURL: m.ExternalURL, GroupKey: m.GroupKey, TruncatedAlerts: m.TruncatedAlerts, MaxAlerts: maxAlerts,
	}
}

func nonNil(kv KV) KV {
	if kv == nil {
		return KV{}
	}
	return kv
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
func (d *Data) SilenceURL(a Alert) string {
	if d.ExternalURL == "" {
		return ""
	}
	matchers := make([]string, 0, len(a.Labels))
	for _, p := range a.Labels.SortedPairs() {
		matchers = append(matchers, p.Name+"="+strconv.Quote(p.Value))
	}
	filter := url.QueryEscape("{" + strings.Join(matchers, ",") + "}")
	return strings.TrimRight(d.ExternalURL, "/") + "/#/silences/new?filter=" + strings.ReplaceAll(filter, "+", "%20")
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

// Template is a parsed message template with its time zone.
type Template struct {
	tmpl *template.Template
	loc  *time.Location
}

// Parse parses text (or the default for markdown when text is empty) for times in loc.
func Parse(text string, markdown bool, loc *time.Location) (*Template, error) {
	if text == "" {
		text = DefaultText
		if markdown {
			text = DefaultMarkdown
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	t, err := template.New("message").Option("missingkey=zero").Funcs(funcs(loc)).Parse(text)
	if err != nil {
		return nil, err
	}
	return &Template{tmpl: t, loc: loc}, nil
}

// Execute renders d. Content beyond MaxContentBytes is cut at a line boundary.
func (t *Template) Execute(d *Data) (string, error) {
	var buf bytes.Buffer
	if err := t.tmpl.Execute(&limitWriter{w: &buf, n: MaxContentBytes + 1}, d); err != nil && err != errLimit {
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

var errLimit = fmt.Errorf("template output too long")

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

func funcs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"localTime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format(TimeLayout)
		},
		"duration": func(from, to time.Time) string {
			if from.IsZero() || to.IsZero() || to.Before(from) {
				return ""
			}
			return humanize(to.Sub(from))
		},
		"color": func(status string) string {
			if status == StatusResolved {
				return "info"
			}
			return "warning"
		},
		"without": func(kv KV, names ...string) KV { return kv.Remove(names) },
		"first": func(n int, as Alerts) Alerts {
			if n > 0 && len(as) > n {
				return as[:n]
			}
			return as
		},
		"join":      func(sep string, s []string) string { return strings.Join(s, sep) },
		"toUpper":   strings.ToUpper,
		"toLower":   strings.ToLower,
		"trimSpace": strings.TrimSpace,
		"title": func(s string) string {
			r, n := utf8.DecodeRuneInString(s)
			return string(unicode.ToUpper(r)) + s[n:]
		},
		"truncate": func(n int, s string) string {
			if len(s) <= n {
				return s
			}
			for n > 0 && !utf8.RuneStart(s[n]) {
				n--
			}
			return s[:n] + "…"
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
