package alerting

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

func TestDecode(t *testing.T) {
	ok := `{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[{"status":"firing","labels":{"alertname":"A"}}]}`
	if _, err := Decode(strings.NewReader(ok)); err != nil {
		t.Fatalf("a good payload: %v", err)
	}
	for name, body := range map[string]string{
		"not JSON":            `alerts: []`,
		"version 3":           strings.Replace(ok, `"4"`, `"3"`, 1),
		"no group key":        strings.Replace(ok, `"groupKey":"g"`, `"groupKey":""`, 1),
		"unknown status":      strings.Replace(ok, `"status":"firing","receiver"`, `"status":"pending","receiver"`, 1),
		"no alerts":           `{"version":"4","groupKey":"g","status":"firing","alerts":[]}`,
		"alert status":        strings.Replace(ok, `[{"status":"firing"`, `[{"status":"x"`, 1),
		"two objects":         ok + ok,
		"wrong type":          `{"version":4}`,
		"startsAt not a time": strings.Replace(ok, `"labels"`, `"startsAt":"yesterday","labels"`, 1),
	} {
		if _, err := Decode(strings.NewReader(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestName(t *testing.T) {
	m := exampleMessage()
	rcv := func(ns, name, uid string) *v1.AlertReceiver {
		return &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}}
	}
	oncall := rcv("ops", "wecom-oncall", "u1")
	a := Name(oncall, m.GroupKey, "firing", m.Alerts)
	if a != Name(oncall, m.GroupKey, "firing", Alerts{m.Alerts[1], m.Alerts[0]}) {
		t.Error("the order of the alerts changes the name")
	}
	changed := exampleMessage()
	changed.Alerts[0].EndsAt = t0.Add(time.Hour)
	for what, other := range map[string]string{
		"status":    Name(oncall, m.GroupKey, "resolved", m.Alerts),
		"group key": Name(oncall, m.GroupKey+"x", "firing", m.Alerts),
		"an end":    Name(oncall, m.GroupKey, "firing", changed.Alerts),
		"receiver":  Name(rcv("ops", "other", "u1"), m.GroupKey, "firing", m.Alerts),
		"namespace": Name(rcv("dev", "wecom-oncall", "u1"), m.GroupKey, "firing", m.Alerts),
		"uid":       Name(rcv("ops", "wecom-oncall", "u2"), m.GroupKey, "firing", m.Alerts),
	} {
		if other == a {
			t.Errorf("a different %s gives the same name %s", what, a)
		}
	}
	long := Name(rcv("ops", strings.Repeat("a", 60)+".b", "u1"), "g", "firing", m.Alerts)
	if len(long) > 80 || !strings.HasPrefix(long, strings.Repeat("a", 40)+"-") {
		t.Errorf("long receiver name: %s", long)
	}
}

// Two receivers whose names share their first 40 characters once shared Notifications, and
// the second receiver's members got nothing (issue 11, finding 2).
func TestNameLongCommonPrefix(t *testing.T) {
	m := exampleMessage()
	prefix := "team-payments-production-critical-alerts-receiver"
	robot := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: prefix + "-robot", UID: "1"}}
	app := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: prefix + "-app", UID: "2"}}
	a, b := Name(robot, m.GroupKey, "firing", m.Alerts), Name(app, m.GroupKey, "firing", m.Alerts)
	if a == b || Key(a) == Key(b) {
		t.Errorf("both receivers name %s (key %s)", a, Key(a))
	}
}

const wantMarkdown = `## <font color="warning">[FIRING:1]</font> HighCPU

**HighCPU** · critical · <font color="warning">firing</font>
> Summary: CPU usage above 90% on node-1
> Description: node-1 has used more than 90% CPU for 5 minutes.
> Labels: instance=node-1, job=node
> Started: 2026-03-02 18:00:00 CST
> [Source](http://prometheus.example.com/graph?g0.expr=cpu) · [Silence](http://alertmanager.example.com/#/silences/new?filter=%7Balertname%3D%22HighCPU%22%2Cinstance%3D%22node-1%22%2Cjob%3D%22node%22%2Cseverity%3D%22critical%22%7D)

**HighCPU** · critical · <font color="info">resolved</font>
> Summary: CPU usage above 90% on node-2
> Labels: instance=node-2, job=node
> Started: 2026-03-02 17:50:00 CST
> Resolved: 2026-03-02 17:57:30 CST (after 7m30s)
> [Source](http://prometheus.example.com/graph?g0.expr=cpu)`

func receiver(mutate func(*v1.AlertReceiverSpec)) *v1.AlertReceiver {
	r := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "wecom-oncall", Namespace: "ops"}}
	r.Spec.ConnectionRef = &v1.ConnectionReference{Name: "app"}
	r.Spec.To = &v1.Recipients{Users: []string{"lisi"}}
	r.Spec.Format = v1.AlertFormatMarkdown
	r.Spec.Timezone = "Asia/Shanghai"
	if mutate != nil {
		mutate(&r.Spec)
	}
	return r
}

func parse(t *testing.T, r *v1.AlertReceiver) *Template {
	t.Helper()
	loc, err := time.LoadLocation(r.Spec.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Parse(r.Spec.Template, r.Spec.Format != v1.AlertFormatText, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestBuildGroup(t *testing.T) {
	r := receiver(nil)
	ns, warn := Build(r, exampleMessage(), parse(t, r))
	if len(ns) != 1 || len(warn) != 0 {
		t.Fatalf("got %d notifications, warnings %v", len(ns), warn)
	}
	n := ns[0]
	if got := n.Spec.Message.Markdown.Content; got != wantMarkdown {
		t.Errorf("markdown:\n%s\n--- want:\n%s", got, wantMarkdown)
	}
	if n.Namespace != "ops" || n.Labels[v1.LabelAlertReceiver] != "wecom-oncall" || n.Labels[v1.LabelAlertStatus] != "firing" ||
		n.Spec.To.Users[0] != "lisi" || n.Spec.ConnectionRef.Name != "app" {
		t.Errorf("notification: %+v", n.ObjectMeta)
	}
}

func TestBuildSplitAndResolved(t *testing.T) {
	no := false
	r := receiver(func(s *v1.AlertReceiverSpec) { s.Split = v1.AlertSplitAlert })
	ns, _ := Build(r, exampleMessage(), parse(t, r))
	if len(ns) != 2 || ns[0].Labels[v1.LabelAlertStatus] != "firing" || ns[1].Labels[v1.LabelAlertStatus] != "resolved" {
		t.Fatalf("split per alert: %d notifications", len(ns))
	}
	if !strings.Contains(ns[1].Spec.Message.Markdown.Content, `<font color="info">[RESOLVED]</font>`) {
		t.Errorf("resolved alert: %s", ns[1].Spec.Message.Markdown.Content)
	}

	r = receiver(func(s *v1.AlertReceiverSpec) { s.SendResolved = &no })
	ns, _ = Build(r, exampleMessage(), parse(t, r))
	if len(ns) != 1 || strings.Contains(ns[0].Spec.Message.Markdown.Content, "node-2") {
		t.Errorf("sendResolved false still lists the resolved alert")
	}
	resolved := exampleMessage()
	resolved.Status = StatusResolved
	resolved.Alerts = resolved.Alerts[1:]
	if ns, _ = Build(r, resolved, parse(t, r)); len(ns) != 0 {
		t.Errorf("sendResolved false made %d notifications for a resolved group", len(ns))
	}
}

func TestBuildFitsTheChannel(t *testing.T) {
	m := exampleMessage()
	for i := range 30 {
		a := m.Alerts[0]
		a.Labels = KV{"alertname": "HighCPU", "instance": strings.Repeat("x", 20) + string(rune('a'+i))}
		m.Alerts = append(m.Alerts, a)
	}
	r := receiver(nil)
	ns, _ := Build(r, m, parse(t, r))
	got := ns[0].Spec.Message.Markdown.Content
	if len(got) > 2048 || !strings.Contains(got, "more") {
		t.Errorf("%d bytes, ends %q", len(got), got[len(got)-30:])
	}
}

func TestBuildMentions(t *testing.T) {
	robot := func(format v1.AlertFormat) *v1.AlertReceiver {
		return receiver(func(s *v1.AlertReceiverSpec) {
			s.To, s.ConnectionRef = nil, nil
			s.Robot = &v1.RobotTarget{WebhookSecretRef: v1.SecretKeySelector{Name: "bot", Key: "url"}}
			s.Format = format
			s.Mentions = []v1.AlertMention{
				{Severities: []string{"critical"}, Users: []string{"@all", "lisi"}},
				{Severities: []string{"warning"}, Mobiles: []string{"13800000002"}},
			}
		})
	}
	r := robot(v1.AlertFormatText)
	ns, _ := Build(r, exampleMessage(), parse(t, r))
	if len(ns) != 1 || strings.Join(ns[0].Spec.Message.Text.MentionedUsers, ",") != "@all,lisi" || len(ns[0].Spec.Message.Text.MentionedMobiles) != 0 {
		t.Fatalf("text: %+v", ns[0].Spec.Message.Text)
	}

	r = robot(v1.AlertFormatMarkdown)
	ns, _ = Build(r, exampleMessage(), parse(t, r))
	if len(ns) != 2 {
		t.Fatalf("markdown with @all: %d notifications, want the message and a text @all", len(ns))
	}
	if !strings.HasSuffix(ns[0].Spec.Message.Markdown.Content, "\n<@lisi>") {
		t.Errorf("markdown does not mention lisi inline")
	}
	if ns[1].Name != ns[0].Name+"-at" || ns[1].Spec.Message.Text.MentionedUsers[0] != "@all" {
		t.Errorf("companion: %s %+v", ns[1].Name, ns[1].Spec.Message.Text)
	}

	resolved := exampleMessage()
	resolved.Status, resolved.Alerts = StatusResolved, resolved.Alerts[1:]
	ns, _ = Build(r, resolved, parse(t, r))
	if len(ns) != 1 || strings.Contains(ns[0].Spec.Message.Markdown.Content, "<@") {
		t.Errorf("a resolved message mentions people")
	}
}

func TestBuildFallsBackWhenTheTemplateFails(t *testing.T) {
	r := receiver(func(s *v1.AlertReceiverSpec) { s.Template = `{{ index .Alerts 5 }}` })
	ns, warn := Build(r, exampleMessage(), parse(t, r))
	if len(ns) != 1 || len(warn) != 1 || ns[0].Spec.Message.Markdown.Content != wantMarkdown {
		t.Errorf("got %d notifications, warnings %v", len(ns), warn)
	}
	r = receiver(func(s *v1.AlertReceiverSpec) {
		s.Format = v1.AlertFormatText
		s.Template = `{{ .Status | toUpper }}: {{ range .Alerts }}{{ .Labels.alertname }}@{{ localTime .StartsAt }} {{ end }}`
	})
	ns, _ = Build(r, exampleMessage(), parse(t, r))
	if got := ns[0].Spec.Message.Text.Content; got != "FIRING: HighCPU@2026-03-02 18:00:00 CST HighCPU@2026-03-02 17:50:00 CST" {
		t.Errorf("custom template: %q", got)
	}
}
