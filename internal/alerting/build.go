package alerting

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// DefaultMaxNotifications is how many Notifications one Alertmanager notification becomes
// at most when the receiver does not say.
const DefaultMaxNotifications = 100

// mentionSuffix names the short text Notification that carries @all or mobile mentions for
// a markdown robot message (WeCom markdown cannot @all). It sorts after the main message, so
// the pacer sends it second.
const mentionSuffix = "-at"

// Identity is a hash of the receiver's namespace, name and UID: two receivers, or a receiver
// and the one that replaced it under the same name, never name the same Notification.
func Identity(rcv *v1.AlertReceiver) string {
	h := sha256.Sum256([]byte(rcv.Namespace + "/" + rcv.Name + "/" + string(rcv.UID)))
	return hex.EncodeToString(h[:4])
}

// GroupKeyHash is what a Notification keeps of Alertmanager's group key, which can be larger
// than an annotation may be.
func GroupKeyHash(groupKey string) string {
	h := sha256.Sum256([]byte(groupKey))
	return hex.EncodeToString(h[:])
}

// Name is the Notification name for the alerts of one group in one state: the receiver's
// name (its first 40 characters), a hash of the receiver's identity, a hash of the group key,
// the status and a hash of the alerts (fingerprint, status, start, end and labels of each, in
// any order). Alertmanager retries a failed POST with the same payload, so a retry names the
// same Notification; a later notification of the group with other alerts, or the same alerts
// in another state, names a new one.
func Name(rcv *v1.AlertReceiver, groupKey, status string, alerts Alerts) string {
	prefix := rcv.Name
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
	return fmt.Sprintf("%s-%s-%s-%s-%s", prefix, Identity(rcv), hex.EncodeToString(g[:4]), status, hex.EncodeToString(h[:5]))
}

// MaxNotifications is the receiver's maxNotifications or its default.
func MaxNotifications(spec *v1.AlertReceiverSpec) int {
	if spec.MaxNotifications != nil && *spec.MaxNotifications > 0 {
		return int(*spec.MaxNotifications)
	}
	return DefaultMaxNotifications
}

// part is the alerts of one message.
type part struct {
	status string
	alerts Alerts
	// folded is set on the message that holds the alerts beyond maxNotifications.
	folded bool
}

// parts splits the alerts into messages, at most max of them: with split Alert, the alerts
// beyond the first max-1 share the last message.
func parts(spec *v1.AlertReceiverSpec, m *Message, alerts Alerts, limit int) []part {
	if spec.Split != v1.AlertSplitAlert {
		status := m.Status
		if len(alerts.Firing()) == 0 {
			status = StatusResolved
		}
		return []part{{status: status, alerts: alerts}}
	}
	var out []part
	for i, a := range alerts {
		if len(alerts) > limit && i == limit-1 {
			rest := alerts[i:]
			status := StatusResolved
			if len(rest.Firing()) > 0 {
				status = StatusFiring
			}
			return append(out, part{status: status, alerts: rest, folded: true})
		}
		out = append(out, part{status: a.Status, alerts: Alerts{a}})
	}
	return out
}

// foldNote ends the message that holds the alerts beyond maxNotifications.
func foldNote(n, limit int, markdown bool) string {
	note := fmt.Sprintf("(%d more alerts of this notification in one message: at most %d messages per notification)", n, limit)
	if markdown {
		return "\n> " + note
	}
	return "\n" + note
}

// renderer runs the receiver's template, and the built-in one when it fails, for the messages
// of one Alertmanager notification. Once the receiver's template goes over its budget, or
// over BuildTime in all, the built-in one renders the rest.
type renderer struct {
	custom, fallback *Template
	spent            time.Duration
	warnings         []string
	warned           map[string]bool
	groupKey         string
}

func (r *renderer) warn(s string) {
	if !r.warned[s] {
		r.warned[s] = true
		r.warnings = append(r.warnings, s)
	}
}

// execute renders data with the receiver's template while it is within its budget.
func (r *renderer) execute(data *Data) (string, error) {
	if r.custom == nil {
		return "", errors.New("the template is over its budget")
	}
	start := time.Now()
	content, err := r.custom.Execute(data)
	if !r.custom.builtin {
		r.spent += time.Since(start)
	}
	switch {
	case errors.Is(err, ErrBudget):
		r.custom = nil
		r.warn(fmt.Sprintf("the template was stopped (%v); the built-in template was used", err))
	case r.spent > BuildTime:
		r.custom = nil
		r.warn(fmt.Sprintf("the template took more than %v over one notification; the built-in template was used for the rest", BuildTime))
	}
	return content, err
}

// fit renders data with the most alerts listed (up to its MaxAlerts) that fit limit bytes,
// so that WeCom's size limit does not cut the message in the middle of an alert.
func fit(data *Data, limit int, execute func(*Data) (string, error)) (string, error) {
	content, err := execute(data)
	if err != nil || len(content) <= limit || len(data.Alerts) <= 1 || data.MaxAlerts <= 1 {
		return content, err
	}
	best := ""
	lo, hi := 1, min(data.MaxAlerts, len(data.Alerts))-1
	for lo <= hi {
		data.MaxAlerts = (lo + hi) / 2
		c, err := execute(data)
		if err != nil {
			return "", err
		}
		if len(c) <= limit || data.MaxAlerts == 1 {
			best = c
		}
		if len(c) <= limit {
			lo = data.MaxAlerts + 1
		} else {
			hi = data.MaxAlerts - 1
		}
	}
	if best == "" {
		data.MaxAlerts = 1
		return execute(data)
	}
	return best, nil
}

// render renders one message: the receiver's template, else the built-in one, else a line.
func (r *renderer) render(data *Data, limit int) string {
	maxAlerts := data.MaxAlerts
	content, err := fit(data, limit, r.execute)
	if err == nil && content != "" {
		return content
	}
	if err == nil {
		r.warn("the template rendered nothing; the built-in template was used")
	} else if r.custom != nil {
		r.warn(fmt.Sprintf("the template failed for group %q (%v); the built-in template was used", cut(r.groupKey, 200), err))
	}
	data.MaxAlerts = maxAlerts
	if content, err = fit(data, limit, r.fallback.Execute); err != nil || content == "" {
		content = fmt.Sprintf("[%s] %s", strings.ToUpper(data.Status), data.Title())
	}
	return content
}

// Build returns the Notifications rcv makes from m, in the order to create them: at most
// maxNotifications messages (each with its "-at" mention companion where one is needed).
// tmpl is the receiver's template; when it fails on this data, goes over its budget, or
// renders nothing, the built-in template of the format is used and a warning says so.
// Nothing is returned when m has nothing to send (resolved alerts with sendResolved false).
// With format Card each message is a template card (see card.go); resolved alerts with
// nothing to link to fall back to the built-in markdown.
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
	fallback, err := Parse("", markdown, tmpl.loc)
	if err != nil {
		panic(err) // the built-in templates parse; alerting_test.go runs them
	}
	r := &renderer{custom: tmpl, fallback: fallback, warned: map[string]bool{}, groupKey: m.GroupKey}

	maxMessages := MaxNotifications(spec)
	limit := contentLimit(spec)
	for _, p := range parts(spec, m, alerts, maxMessages) {
		name := Name(rcv, m.GroupKey, p.status, p.alerts)
		if spec.Format == v1.AlertFormatCard {
			if n := cardNotification(rcv, m, p, name, tmpl.loc); n != nil {
				n.Spec.Fold = foldEntry(rcv, m, p)
				out = append(out, n)
				continue
			}
		}
		data := NewData(m, p.alerts, p.status, maxAlerts, markdown)
		note := ""
		if p.folded {
			note = foldNote(len(p.alerts), maxMessages, markdown)
		}
		content := r.render(data, limit-len(note)) + note
		users, mobiles := mentions(spec, p.alerts)

		n := newNotification(rcv, m, name, p.status)
		if len(users) == 0 && len(mobiles) == 0 {
			// A digest would lose the mentions.
			n.Spec.Fold = foldEntry(rcv, m, p)
		}
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
	return out, r.warnings
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
			Annotations: map[string]string{v1.AnnotationAlertGroupKey: GroupKeyHash(m.GroupKey), v1.AnnotationAlertRepeat: "0"},
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
