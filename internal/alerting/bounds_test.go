package alerting

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// Labels and annotations come from whatever is monitored; in a markdown message they must not
// mention people, add links, bold text or headings (issue 11, finding 6).
func TestMarkdownEscapesLabelsAndAnnotations(t *testing.T) {
	m := exampleMessage()
	m.CommonLabels["alertname"] = "HighCPU\n# Pay now <@zhangsan>"
	m.GroupLabels["alertname"] = m.CommonLabels["alertname"]
	a := &m.Alerts[0]
	a.Labels["alertname"] = m.CommonLabels["alertname"]
	a.Labels["instance"] = "node-1 <@lisi> **urgent** [login](http://evil.example.com)"
	a.Annotations["summary"] = "ok\n## <font color=\"warning\">fake heading</font>"
	a.Annotations["description"] = "`code` > quote"
	a.GeneratorURL = "http://prometheus.example.com/graph) [phish](http://evil.example.com"
	m.ExternalURL = "javascript:alert(1)"

	r := receiver(nil)
	ns, _ := Build(r, m, parse(t, r))
	got := ns[0].Spec.Message.Markdown.Content
	t.Log(got)
	for _, bad := range []string{"<@zhangsan>", "<@lisi>", "**urgent**", "[login]", "[phish]", "](http://evil", "`code`", "javascript:", "<font color=\"warning\">fake"} {
		if strings.Contains(got, bad) {
			t.Errorf("the message contains %q", bad)
		}
	}
	for i, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, "#") && i > 0 {
			t.Errorf("line %d is a heading: %q", i, line)
		}
	}
	for _, want := range []string{
		"## <font color=\"warning\">[FIRING:1]</font> HighCPU # Pay now ＜@zhangsan＞\n",
		"> Labels: instance=node-1 ＜@lisi＞ ＊＊urgent＊＊ ［login］(http://evil.example.com), job=node",
		"> Summary: ok ## ＜font color=\"warning\"＞fake heading＜/font＞",
		"> Description: ｀code｀ ＞ quote",
		"[Source](http://prometheus.example.com/graph%29%20%5Bphish%5D%28http://evil.example.com)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the message lacks %q", want)
		}
	}
	if strings.Contains(got, "[Silence]") {
		t.Error("a javascript: externalURL makes a link")
	}

	// Text messages show the values as they are: nothing in them is markup.
	r = receiver(func(s *v1.AlertReceiverSpec) { s.Format = v1.AlertFormatText })
	ns, _ = Build(r, m, parse(t, r))
	if got := ns[0].Spec.Message.Text.Content; !strings.Contains(got, "instance=node-1 <@lisi> **urgent**") {
		t.Errorf("text: %s", got)
	}
}

func TestEscapeMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"node-1":           "node-1",
		"90% on db_1.x":    "90% on db_1.x",
		"## title":         "＃＃ title",
		"  # title":        "  ＃ title",
		"a # b":            "a # b",
		"a\r\nb\nc\rd":     "a b c d",
		"<@all>":           "＜@all＞",
		"[a](b) *c* `d` >": "［a］(b) ＊c＊ ｀d｀ ＞",
	} {
		if got := EscapeMarkdown(in); got != want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", in, got, want)
		}
	}
}

// A template sees at most MaxViewPairs labels of a set and values of at most
// MaxViewValueBytes, however large the payload.
func TestTemplateViewIsBounded(t *testing.T) {
	m := exampleMessage()
	for i := range 1000 {
		m.Alerts[0].Labels[fmt.Sprintf("l%04d", i)] = strings.Repeat("v", 10000)
	}
	d := NewData(m, m.Alerts, StatusFiring, 10, true)
	if n := len(d.Alerts[0].Labels); n != MaxViewPairs {
		t.Errorf("%d labels in view", n)
	}
	for k, v := range d.Alerts[0].Labels {
		if len(v) > MaxViewValueBytes {
			t.Errorf("label %s: %d bytes", k, len(v))
		}
	}
}

// With split Alert, one POST of 1,000 alerts made 1,000 Notifications (issue 11, finding 4).
func TestBuildBoundsNotificationsPerPost(t *testing.T) {
	m := exampleMessage()
	m.Alerts = nil
	for i := range 1000 {
		m.Alerts = append(m.Alerts, Alert{Status: StatusFiring, Fingerprint: fmt.Sprintf("%04d", i), StartsAt: t0,
			Labels: KV{"alertname": "HighCPU", "instance": fmt.Sprintf("node-%d", i)}})
	}
	for _, c := range []struct {
		max      *int32
		want     int
		markdown bool
	}{{nil, DefaultMaxNotifications, true}, {ptr(int32(5)), 5, false}, {ptr(int32(1)), 1, true}} {
		r := receiver(func(s *v1.AlertReceiverSpec) {
			s.Split = v1.AlertSplitAlert
			s.MaxNotifications = c.max
			if !c.markdown {
				s.Format = v1.AlertFormatText
			}
		})
		ns, warn := Build(r, m, parse(t, r))
		if len(ns) != c.want || len(warn) != 0 {
			t.Fatalf("max %d: %d notifications, warnings %v", c.want, len(ns), warn)
		}
		last := ns[len(ns)-1].Spec.Message
		content := ""
		if last.Markdown != nil {
			content = last.Markdown.Content
		} else {
			content = last.Text.Content
		}
		folded := 1000 - (c.want - 1)
		note := fmt.Sprintf("(%d more alerts of this notification in one message: at most %d messages per notification)", folded, c.want)
		if !strings.HasSuffix(content, note) || !strings.Contains(content, fmt.Sprintf("[FIRING:%d]", folded)) {
			t.Errorf("max %d: the last message ends %q", c.want, content[max(len(content)-200, 0):])
		}
		if len(content) > contentLimit(&r.Spec) {
			t.Errorf("max %d: the last message has %d bytes", c.want, len(content))
		}
		again, _ := Build(r, m, parse(t, r))
		if again[len(again)-1].Name != ns[len(ns)-1].Name {
			t.Error("a retried POST names the folded message differently")
		}
	}
}

func ptr[T any](v T) *T { return &v }

// A 300 KB groupKey made the annotation too large: the API server refused the Notification
// and Alertmanager retried forever (issue 11, finding 6).
func TestBuildStoresAHashOfTheGroupKey(t *testing.T) {
	m := exampleMessage()
	m.GroupKey = strings.Repeat("{}:{alertname=\"x\"}", 300<<10/18)
	r := receiver(nil)
	ns, _ := Build(r, m, parse(t, r))
	size := 0
	for k, v := range ns[0].Annotations {
		size += len(k) + len(v)
	}
	if got := ns[0].Annotations[v1.AnnotationAlertGroupKey]; got != GroupKeyHash(m.GroupKey) || size > 1024 {
		t.Errorf("annotations of %d bytes, group key %q", size, got)
	}
}

// A body over the limit is "too large" whichever reader notices: http.MaxBytesReader's error
// stays wrapped, so the server answers 413 and not 400 (issue 11, finding 6).
func TestDecodeTooLarge(t *testing.T) {
	big := `{"version":"4","groupKey":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	_, err := Decode(http.MaxBytesReader(nil, readCloser{strings.NewReader(big)}, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if !errors.As(err, &tooBig) {
		t.Errorf("MaxBytesReader: %v", err)
	}
	if _, err := Decode(bytes.NewReader([]byte(big))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a plain reader: %v", err)
	}
	if _, err := Decode(strings.NewReader(`{"version":`)); !errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
		t.Errorf("a short body: %v", err)
	}
}

// cpuTime is the CPU time the test process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// No template runs past its budget. Checking a template parses it and renders two sample
// groups; each rendering is stopped at DefaultBudget.Time, checked at every step.
func FuzzTemplateCheck(f *testing.F) {
	for _, h := range hostile {
		f.Add(h.text)
	}
	f.Add(DefaultMarkdown)
	f.Add(DefaultText)
	f.Add(`{{ range $i, $a := .Alerts }}{{ range $k, $v := $a.Labels }}{{ printf "%-10s=%q" $k $v }}{{ end }}{{ end }}`)
	f.Fuzz(func(t *testing.T, text string) {
		start := cpuTime()
		_ = Check(text, true, time.UTC)
		// Two renderings and the garbage collector's share: the process's CPU time, since
		// the wall clock of a loaded machine says more about the machine.
		if took := cpuTime() - start; took > 2*DefaultBudget.Time+500*time.Millisecond {
			t.Fatalf("checked in %v of CPU: %q", took, text)
		}
	})
}
