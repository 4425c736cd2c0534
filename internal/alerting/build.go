package alerting

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/notify"
)

// DefaultMaxAlerts is how many alerts a message lists when the receiver does not say.
const DefaultMaxAlerts = 10

// DefaultRetryWindow is how long the same alerts in the same state count as one message.
const DefaultRetryWindow = 10 * time.Minute

// RetryWindow is the receiver's retryWindow or its default.
func RetryWindow(spec *v1.AlertReceiverSpec) time.Duration {
	if spec.RetryWindow != nil && spec.RetryWindow.Duration > 0 {
		return spec.RetryWindow.Duration
	}
	return DefaultRetryWindow
}

// Key is the wecom.dev/alert-key label of the Notification first named name: a hash, since
// names are longer than label values may be.
func Key(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:8])
}

// mentionSuffix names the short text Notification that carries @all or mobile mentions for
// a markdown robot message (WeCom markdown cannot @all). It sorts after the main message, so
// the pacer sends it second.
const mentionSuffix = "-at"

// Name is the Notification name for the alerts of one group in one state: the receiver's
// name, a hash of the group key, the status and a hash of the alerts (fingerprint, status,
// start, end and labels of each, in any order). Alertmanager retries a failed POST with the
// same payload, so a retry names the same Notification; a later notification of the group
// with other alerts, or the same alerts in another state, names a new one.
func Name(receiver, groupKey, status string, alerts Alerts) string {
	prefix := receiver
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-.")
	}
	g := sha256.Sum256([]byte(groupKey))
	keys := make([]string, len(alerts))
	for i, a := range alerts {
		keys[i] = strings.Join([]string{a.Fingerprint, a.Status, a.StartsAt.UTC().Format(time.RFC3339Nano),
			a.EndsAt.UTC().Format(time.RFC3339Nano), a.Labels.SortedPairs().String()}, "\x00")
	}
	slices.Sort(keys)
	h := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return fmt.Sprintf("%s-%s-%s-%s", prefix, hex.EncodeToString(g[:4]), status, hex.EncodeToString(h[:5]))
}

// Build returns the Notifications rcv makes from m, in the order to create them. tmpl is the
// receiver's template; when it fails on this data, or renders nothing, the built-in template
// of the format is used and a warning says so. Nothing is returned when m has nothing to
// send (resolved alerts with sendResolved false).
func Build(rcv *v1.AlertReceiver, m *Message, tmpl *Template) (out []*v1.Notification, warnings []string) {
	spec := &rcv.Spec
	alerts := m.Alerts
	if spec.SendResolved != nil && !*spec.SendResolved {
		alerts = alerts.Firing()
	}
	if len(alerts) == 0 {
		return nil, nil
	}
	maxAlerts := DefaultMaxAlerts
	if spec.MaxAlerts != nil {
		maxAlerts = int(*spec.MaxAlerts)
	}
	markdown := spec.Format != v1.AlertFormatText

	type part struct {
		status string
		alerts Alerts
	}
	var parts []part
	if spec.Split == v1.AlertSplitAlert {
		for _, a := range alerts {
			parts = append(parts, part{a.Status, Alerts{a}})
		}
	} else {
		status := m.Status
		if len(alerts.Firing()) == 0 {
			status = StatusResolved
		}
		parts = append(parts, part{status, alerts})
	}

	limit := contentLimit(spec)
	for _, p := range parts {
		data := NewData(m, p.alerts, p.status, maxAlerts)
		content, err := tmpl.Execute(data)
		// List fewer alerts ("…and N more") rather than have WeCom's size limit cut the
		// message in the middle of one.
		for data.MaxAlerts > 1 && err == nil && len(content) > limit && len(p.alerts) > 1 {
			data.MaxAlerts = min(data.MaxAlerts, len(p.alerts)) - 1
			content, err = tmpl.Execute(data)
		}
		if err != nil || content == "" {
			if err == nil {
				err = fmt.Errorf("it rendered nothing")
			}
			warnings = append(warnings, fmt.Sprintf("the template failed for group %q (%v); the built-in template was used", m.GroupKey, err))
			fallback, _ := Parse("", markdown, tmpl.loc)
			if content, err = fallback.Execute(data); err != nil || content == "" {
				content = fmt.Sprintf("[%s] %s", strings.ToUpper(p.status), data.Title())
			}
		}
		name := Name(rcv.Name, m.GroupKey, p.status, p.alerts)
		users, mobiles := mentions(spec, p.alerts)

		n := newNotification(rcv, m, name, p.status)
		switch {
		case !markdown:
			n.Spec.Message.Text = &v1.TextMessage{Content: content, MentionedUsers: users, MentionedMobiles: mobiles}
			out = append(out, n)
			continue
		default:
			var inline []string
			for _, u := range users {
				if u != "@all" {
					inline = append(inline, "<@"+u+">")
				}
			}
			if len(inline) > 0 {
				content += "\n" + strings.Join(inline, " ")
			}
			n.Spec.Message.Markdown = &v1.MarkdownMessage{Content: content}
			out = append(out, n)
		}
		if slices.Contains(users, "@all") || len(mobiles) > 0 {
			at := newNotification(rcv, m, name+mentionSuffix, p.status)
			var atUsers []string
			if slices.Contains(users, "@all") {
				atUsers = []string{"@all"}
			}
			at.Spec.Message.Text = &v1.TextMessage{
				Content:        fmt.Sprintf("[FIRING] %s: see the message above", data.Title()),
				MentionedUsers: atUsers, MentionedMobiles: mobiles,
			}
			out = append(out, at)
		}
	}
	return out, warnings
}

// contentLimit is the size WeCom accepts for the receiver's channel and format.
func contentLimit(spec *v1.AlertReceiverSpec) int {
	if spec.Robot != nil && spec.Format != v1.AlertFormatText {
		return notify.RobotMarkdownLimit
	}
	return notify.AppTextLimit
}

// mentions collects the users and mobiles of the mention rules that match a firing alert of
// alerts. Resolved messages mention nobody.
func mentions(spec *v1.AlertReceiverSpec, alerts Alerts) (users, mobiles []string) {
	if spec.Robot == nil {
		return nil, nil
	}
	firing := alerts.Firing()
	if len(firing) == 0 {
		return nil, nil
	}
	for _, rule := range spec.Mentions {
		match := len(rule.Severities) == 0
		for _, a := range firing {
			if slices.Contains(rule.Severities, a.Labels["severity"]) {
				match = true
			}
		}
		if !match {
			continue
		}
		for _, u := range rule.Users {
			if !slices.Contains(users, u) {
				users = append(users, u)
			}
		}
		for _, m := range rule.Mobiles {
			if !slices.Contains(mobiles, m) {
				mobiles = append(mobiles, m)
			}
		}
	}
	return users, mobiles
}

func newNotification(rcv *v1.AlertReceiver, m *Message, name, status string) *v1.Notification {
	spec := &rcv.Spec
	n := &v1.Notification{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: rcv.Namespace,
			Labels: map[string]string{
				v1.LabelAlertReceiver: labelValue(rcv.Name),
				v1.LabelAlertStatus:   status,
				v1.LabelAlertKey:      Key(name),
			},
			Annotations: map[string]string{v1.AnnotationAlertGroupKey: m.GroupKey, v1.AnnotationAlertRepeat: "0"},
		},
	}
	n.Spec.ConnectionRef = spec.ConnectionRef.DeepCopy()
	n.Spec.To = spec.To.DeepCopy()
	n.Spec.ChatRef = spec.ChatRef.DeepCopy()
	n.Spec.ChatID = spec.ChatID
	n.Spec.Robot = spec.Robot.DeepCopy()
	n.Spec.Safe = spec.Safe && spec.Robot == nil
	n.Spec.DuplicateCheckInterval = &metav1.Duration{Duration: RetryWindow(spec)}
	n.Spec.DeliveryDeadline = spec.DeliveryDeadline.DeepCopy()
	n.Spec.TTLAfterFinished = spec.TTLAfterFinished.DeepCopy()
	return n
}

// labelValue fits a name into a label value (at most 63 characters, ending alphanumeric).
func labelValue(s string) string {
	if len(s) <= 63 {
		return s
	}
	return strings.TrimRight(s[:63], "-._")
}
