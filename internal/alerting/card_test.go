package alerting

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

func cardReceiver(mutate func(*v1.AlertReceiverSpec)) *v1.AlertReceiver {
	return receiver(func(s *v1.AlertReceiverSpec) {
		s.Format = v1.AlertFormatCard
		s.Alertmanager = &v1.AlertmanagerAPI{URL: "http://alertmanager.monitoring.svc:9093"}
		if mutate != nil {
			mutate(s)
		}
	})
}

// The card of the documented example group (docs/alerting.md draws it).
func TestCardExample(t *testing.T) {
	r := cardReceiver(nil)
	ns, warn := Build(r, exampleMessage(), parse(t, r))
	if len(ns) != 1 || len(warn) != 0 {
		t.Fatalf("got %d notifications, warnings %v", len(ns), warn)
	}
	n := ns[0]
	src := "http://prometheus.example.com/graph?g0.expr=cpu"
	am := "http://alertmanager.example.com/#/alerts?filter=%7Balertname%3D%22HighCPU%22%2Cjob%3D%22node%22%2Cseverity%3D%22critical%22%7D"
	want := &v1.TemplateCardMessage{
		CardType:        "button_interaction",
		Source:          &v1.CardSource{Desc: "Alertmanager · critical", DescColor: 2},
		MainTitle:       &v1.CardTitle{Title: "[FIRING:1] HighCPU"},
		EmphasisContent: &v1.CardTitle{Title: "critical", Desc: "severity · 1 firing"},
		SubTitleText:    "CPU usage above 90% on node-1",
		HorizontalContentList: []v1.CardHorizontalContent{
			{KeyName: "Since", Value: "03-02 17:50 CST"},
			{CardLink: v1.CardLink{Type: 1, URL: src}, KeyName: "node-1", Value: "CPU usage above 90% on node-1"},
			{CardLink: v1.CardLink{Type: 1, URL: src}, KeyName: "node-2", Value: "resolved: CPU usage above 90% on node-2"},
		},
		JumpList: []v1.CardJump{
			{CardLink: v1.CardLink{Type: 1, URL: src}, Title: "Source"},
			{CardLink: v1.CardLink{Type: 1, URL: am}, Title: "Alertmanager"},
		},
		CardAction: v1.CardLink{Type: 1, URL: am},
		ButtonList: []v1.CardButton{
			{Text: "Acknowledge", Style: 1, Key: "ack"},
			{Text: "Silence 1h", Style: 2, Key: "silence-1h0m0s"},
			{Text: "Silence 4h", Style: 2, Key: "silence-4h0m0s"},
		},
	}
	if d := cmp.Diff(want, n.Spec.Message.TemplateCard); d != "" {
		t.Errorf("card (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&v1.NotificationAlert{Receiver: "wecom-oncall", Labels: map[string]string{"alertname": "HighCPU", "severity": "critical", "job": "node"}}, n.Spec.Alert); d != "" {
		t.Errorf("alert (-want +got):\n%s", d)
	}
	if n.Spec.Message.Markdown != nil || n.Labels[v1.LabelAlertCard] == "" || n.Spec.To.Users[0] != "lisi" {
		t.Errorf("notification: %+v", n)
	}
	if n.Spec.Message.TemplateCard.TaskID != "" {
		t.Error("the task_id is the controller's to derive from the UID")
	}
}

// A group whose alerts all resolved is a text_notice card of the same alerts (the card the
// firing one is replaced with), with the same wecom.dev/alert-card label.
func TestCardResolved(t *testing.T) {
	r := cardReceiver(nil)
	firing, _ := Build(r, exampleMessage(), parse(t, r))
	m := exampleMessage()
	m.Status = StatusResolved
	m.Alerts[0].Status, m.Alerts[0].EndsAt = StatusResolved, t0.Add(5*time.Minute)
	ns, _ := Build(r, m, parse(t, r))
	if len(ns) != 1 {
		t.Fatalf("%d notifications", len(ns))
	}
	n := ns[0]
	c := n.Spec.Message.TemplateCard
	if c == nil || c.CardType != "text_notice" || len(c.ButtonList) != 0 || c.CardAction.Type != 1 {
		t.Fatalf("resolved card: %+v", c)
	}
	if c.MainTitle.Title != "[RESOLVED] HighCPU" || c.Source.DescColor != 3 || c.EmphasisContent.Title != "resolved" ||
		c.HorizontalContentList[0] != (v1.CardHorizontalContent{KeyName: "Resolved", Value: "03-02 18:05 CST"}) {
		t.Errorf("resolved card: %+v %+v %+v", c.MainTitle, c.Source, c.HorizontalContentList)
	}
	if n.Labels[v1.LabelAlertCard] != firing[0].Labels[v1.LabelAlertCard] || n.Labels[v1.LabelAlertStatus] != StatusResolved {
		t.Errorf("labels %v, firing %v", n.Labels, firing[0].Labels)
	}

	// Nothing to link to: a notice card needs a card_action, so markdown is sent.
	m.ExternalURL = ""
	for i := range m.Alerts {
		m.Alerts[i].GeneratorURL = ""
	}
	ns, _ = Build(r, m, parse(t, r))
	if ns[0].Spec.Message.TemplateCard != nil || ns[0].Spec.Message.Markdown == nil {
		t.Errorf("without links: %+v", ns[0].Spec.Message)
	}

	// While some fire, a firing card without links still has its buttons.
	m = exampleMessage()
	m.ExternalURL = ""
	m.Alerts[0].GeneratorURL, m.Alerts[1].GeneratorURL = "javascript:alert(1)", ""
	ns, _ = Build(r, m, parse(t, r))
	if c := ns[0].Spec.Message.TemplateCard; c == nil || c.CardAction.Type != 0 || len(c.JumpList) != 0 || c.HorizontalContentList[1].Type != 0 {
		t.Errorf("firing card without links: %+v", c)
	}
}

var taskIDPattern = regexp.MustCompile(`^[0-9A-Za-z_@-]{1,128}$`)

func TestTaskID(t *testing.T) {
	short := TaskID("ops", "oncall-9f3e2a17-2b7c91d4-firing-5e0a4c17d2", "u1")
	if !strings.HasPrefix(short, "oncall-9f3e2a17-2b7c91d4-firing-5e0a4c17d2@") || len(short) != len("oncall-9f3e2a17-2b7c91d4-firing-5e0a4c17d2")+13 {
		t.Errorf("task id %q", short)
	}
	seen := map[string]string{}
	for _, c := range []struct{ ns, name, uid string }{
		{"ops", "oncall-9f3e2a17-2b7c91d4-firing-5e0a4c17d2", "u1"},
		{"dev", "oncall-9f3e2a17-2b7c91d4-firing-5e0a4c17d2", "u1"}, // another namespace
		{"ops", "oncall-9f3e2a17-2b7c91d4-firing-5e0a4c17d2", "u2"}, // made again after its TTL
		{"ops", "a.b", "u1"},
		{"ops", strings.Repeat("n", 253), "u1"},
		{"ops", strings.Repeat("n", 252) + "m", "u1"},
		{"ops", strings.Repeat("x.", 126) + "y", "u1"},
	} {
		id := TaskID(c.ns, c.name, types.UID(c.uid))
		if !taskIDPattern.MatchString(id) {
			t.Errorf("%s/%s: %q is not a task_id", c.ns, c.name, id)
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("%s/%s/%s and %s share %q", c.ns, c.name, c.uid, prev, id)
		}
		seen[id] = c.ns + "/" + c.name + "/" + c.uid
		name, ok := TaskIDName(id)
		if !ok || !strings.HasPrefix(c.name, name) || (len(c.name) <= taskIDBase && name != c.name) {
			t.Errorf("TaskIDName(%q) = %q, %v; want (a prefix of) %q", id, name, ok, c.name)
		}
	}
	if _, ok := TaskIDName("no-at-sign"); ok {
		t.Error("a task id without @ names a Notification")
	}
}

func TestCardButtons(t *testing.T) {
	dur := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	keys := func(bs []v1.CardButton) string {
		var out []string
		for _, b := range bs {
			out = append(out, fmt.Sprintf("%s=%s/%d", b.Key, b.Text, b.Style))
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		name       string
		mutate     func(*v1.AlertReceiverSpec)
		canSilence bool
		want       string
	}{
		{"defaults", nil, true, "ack=Acknowledge/1 silence-1h0m0s=Silence 1h/2 silence-4h0m0s=Silence 4h/2"},
		{"no alertmanager: acknowledge only", func(s *v1.AlertReceiverSpec) { s.Alertmanager = nil }, true, "ack=Acknowledge/1"},
		{"no labels to match: no silence", nil, false, "ack=Acknowledge/1"},
		{"configured", func(s *v1.AlertReceiverSpec) {
			s.Card = &v1.AlertCard{Buttons: []v1.AlertCardButton{
				{Text: "静默 30 分钟", Action: v1.AlertCardSilence, Duration: dur(30 * time.Minute), Style: 4},
				{Text: "我来处理", Action: v1.AlertCardAcknowledge},
				{Text: "Again", Action: v1.AlertCardAcknowledge}, // the same key: left out
				{Text: "Silence a day", Action: v1.AlertCardSilence, Duration: dur(24 * time.Hour)},
			}}
		}, true, "silence-30m0s=静默 30 分钟/4 ack=我来处理/1 silence-24h0m0s=Silence a day/2"},
		{"only silences, none possible: acknowledge", func(s *v1.AlertReceiverSpec) {
			s.Card = &v1.AlertCard{Buttons: []v1.AlertCardButton{{Text: "S", Action: v1.AlertCardSilence, Duration: dur(time.Hour)}}}
		}, false, "ack=Acknowledge/1"},
	} {
		r := cardReceiver(c.mutate)
		if got := keys(cardButtons(&r.Spec, c.canSilence)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	for _, b := range cardButtons(&cardReceiver(nil).Spec, true) {
		action, d, ok := ParseButtonKey(b.Key)
		if !ok || ButtonKey(v1.AlertCardButton{Action: action, Duration: dur(d)}) != b.Key && action == v1.AlertCardSilence {
			t.Errorf("key %q does not parse back", b.Key)
		}
	}
	for _, bad := range []string{"", "silence-", "silence-x", "silence--1h", "ACK", "delete"} {
		if _, _, ok := ParseButtonKey(bad); ok {
			t.Errorf("key %q parsed", bad)
		}
	}
}

// A group the card cannot show whole: at most 6 rows (the last says how many more), every
// field within its limit, and no silence for alerts that share no labels.
func TestCardLimits(t *testing.T) {
	m := exampleMessage()
	m.TruncatedAlerts = 3
	long := strings.Repeat("长", 400) + "\nline two"
	m.GroupLabels = KV{"alertname": "HighCPU", "cluster": long}
	m.Alerts = nil
	for i := range 30 {
		m.Alerts = append(m.Alerts, Alert{Status: StatusFiring, StartsAt: t0,
			Labels:       KV{"alertname": long, "instance": fmt.Sprintf("node-%d-%s", i, long)},
			Annotations:  KV{"summary": fmt.Sprintf("%d %s", i, long), "description": long},
			GeneratorURL: "http://prometheus.example.com/" + strings.Repeat("p", 3000), Fingerprint: fmt.Sprint(i)})
	}
	m.CommonLabels = KV{}
	r := cardReceiver(nil)
	ns, _ := Build(r, m, parse(t, r))
	c := ns[0].Spec.Message.TemplateCard
	if len(c.HorizontalContentList) != 6 || c.HorizontalContentList[5] != (v1.CardHorizontalContent{KeyName: "More", Value: "…and 29 more"}) {
		t.Errorf("rows: %+v", c.HorizontalContentList)
	}
	for _, f := range []struct {
		what  string
		s     string
		limit int
	}{
		{"main title", c.MainTitle.Title, 128}, {"main desc", c.MainTitle.Desc, 512}, {"subtitle", c.SubTitleText, 512},
		{"emphasis", c.EmphasisContent.Title, 128}, {"source", c.Source.Desc, 64},
	} {
		if len(f.s) > f.limit || !utf8.ValidString(f.s) || strings.Contains(f.s, "\n") && f.what != "subtitle" {
			t.Errorf("%s: %d bytes (limit %d): %q", f.what, len(f.s), f.limit, f.s)
		}
	}
	for _, h := range c.HorizontalContentList {
		if len(h.KeyName) > 64 || len(h.Value) > 256 || h.KeyName == "" || !utf8.ValidString(h.KeyName+h.Value) || h.URL != "" {
			t.Errorf("row %+v (the 3 KB source URL is too long to link)", h)
		}
	}
	if len(c.JumpList) > 3 || len(c.ButtonList) != 1 || c.ButtonList[0].Key != "ack" {
		t.Errorf("jumps %+v, buttons %+v: alerts sharing no labels get no Silence buttons", c.JumpList, c.ButtonList)
	}
	if ns[0].Spec.Alert.Labels != nil {
		t.Errorf("silence labels %v", ns[0].Spec.Alert.Labels)
	}
}

// With split Alert each alert is a card of its own, silenced by its own labels, and its
// resolved message finds it by the alert, not the group.
func TestCardSplitAlert(t *testing.T) {
	r := cardReceiver(func(s *v1.AlertReceiverSpec) { s.Split = v1.AlertSplitAlert })
	m := exampleMessage()
	m.Alerts[1].Status, m.Alerts[1].EndsAt = StatusFiring, time.Time{}
	ns, _ := Build(r, m, parse(t, r))
	if len(ns) != 2 {
		t.Fatalf("%d notifications", len(ns))
	}
	if ns[0].Labels[v1.LabelAlertCard] == ns[1].Labels[v1.LabelAlertCard] {
		t.Error("two alerts share a card key")
	}
	if ns[0].Spec.Alert.Labels["instance"] != "node-1" || ns[1].Spec.Alert.Labels["instance"] != "node-2" {
		t.Errorf("silence labels %v %v", ns[0].Spec.Alert.Labels, ns[1].Spec.Alert.Labels)
	}
	resolved := exampleMessage()
	resolved.Alerts = resolved.Alerts[1:]
	rs, _ := Build(r, resolved, parse(t, r))
	if rs[0].Labels[v1.LabelAlertCard] != ns[1].Labels[v1.LabelAlertCard] {
		t.Error("the resolved alert does not name its card")
	}
}
