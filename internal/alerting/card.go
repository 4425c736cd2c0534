package alerting

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// Card limits, in bytes. WeCom documents no hard limits for most card fields (only
// suggested display lengths); these are the Notification API's own limits, so a card the
// builder makes always passes the API's validation.
const (
	cardTitleBytes    = 128
	cardDescBytes     = 512
	cardSubTitleBytes = 512
	cardKeyNameBytes  = 64
	cardValueBytes    = 256
	cardSourceBytes   = 64
	cardURLBytes      = 2048
	// cardRows is WeCom's limit of horizontal_content_list (≤6).
	cardRows = 6
	// maxSilenceLabels and maxSilenceValueBytes bound the labels kept for a silence: a
	// card whose alerts share more, or longer ones, has no Silence buttons (a silence with
	// fewer matchers would silence more than the card shows).
	maxSilenceLabels     = 64
	maxSilenceNameBytes  = 256
	maxSilenceValueBytes = 1024
)

// Button keys: the event key of a click names the action, so a click needs nothing but the
// Notification to be acted on.
const (
	keyAcknowledge   = "ack"
	keySilencePrefix = "silence-"
)

// ButtonKey is the callback key of a card button: "ack", or "silence-" and the duration
// ("silence-4h0m0s").
func ButtonKey(b v1.AlertCardButton) string {
	if b.Action == v1.AlertCardSilence && b.Duration != nil {
		return keySilencePrefix + b.Duration.Duration.String()
	}
	return keyAcknowledge
}

// ParseButtonKey is the action and duration of a key made by ButtonKey.
func ParseButtonKey(key string) (v1.AlertCardAction, time.Duration, bool) {
	if key == keyAcknowledge {
		return v1.AlertCardAcknowledge, 0, true
	}
	if rest, ok := strings.CutPrefix(key, keySilencePrefix); ok {
		if d, err := time.ParseDuration(rest); err == nil && d > 0 {
			return v1.AlertCardSilence, d, true
		}
	}
	return "", 0, false
}

// DefaultButtons are the buttons of a card when spec.card does not list them: Acknowledge,
// and Silence 1h and 4h when the receiver has an Alertmanager API to create silences in.
func DefaultButtons(spec *v1.AlertReceiverSpec) []v1.AlertCardButton {
	out := []v1.AlertCardButton{{Text: "Acknowledge", Action: v1.AlertCardAcknowledge}}
	if spec.Alertmanager != nil {
		out = append(out,
			v1.AlertCardButton{Text: "Silence 1h", Action: v1.AlertCardSilence, Duration: &metav1.Duration{Duration: time.Hour}},
			v1.AlertCardButton{Text: "Silence 4h", Action: v1.AlertCardSilence, Duration: &metav1.Duration{Duration: 4 * time.Hour}})
	}
	return out
}

// cardButtons are the buttons of a card: the receiver's (or the defaults), without Silence
// buttons when silences cannot be made (no Alertmanager API, or no labels to match), without
// repeats, at most 6. Acknowledge is always possible, so a card never ends up without one.
func cardButtons(spec *v1.AlertReceiverSpec, canSilence bool) []v1.CardButton {
	buttons := DefaultButtons(spec)
	if spec.Card != nil && len(spec.Card.Buttons) > 0 {
		buttons = spec.Card.Buttons
	}
	var out []v1.CardButton
	seen := map[string]bool{}
	for _, b := range buttons {
		if b.Action == v1.AlertCardSilence && (!canSilence || spec.Alertmanager == nil || b.Duration == nil) {
			continue
		}
		key := ButtonKey(b)
		if seen[key] || len(out) == 6 {
			continue
		}
		seen[key] = true
		style := b.Style
		if style == 0 {
			style = 1
			if b.Action == v1.AlertCardSilence {
				style = 2
			}
		}
		out = append(out, v1.CardButton{Text: cut(oneLine(b.Text), 64), Style: style, Key: key})
	}
	if len(out) == 0 {
		out = append(out, v1.CardButton{Text: "Acknowledge", Style: 1, Key: keyAcknowledge})
	}
	return out
}

// taskIDBase is how much of a Notification's name a task_id keeps: 128 bytes less "@" and
// the 12 characters of the hash.
const taskIDBase = 128 - 1 - 12

// TaskID is the task_id of a Notification's interactive card: its name (dots, which task_ids
// may not hold, as underscores, which names may not hold; cut to 115 bytes), "@", and a hash
// of its namespace, name and UID. The hash makes it unique per app across namespaces, and
// across a Notification deleted after its ttlAfterFinished and made again with the same
// name: WeCom refuses a task_id an app has used before (42014).
func TaskID(namespace, name string, uid types.UID) string {
	base := strings.ReplaceAll(name, ".", "_")
	if len(base) > taskIDBase {
		base = base[:taskIDBase]
	}
	h := sha256.Sum256([]byte(namespace + "/" + name + "/" + string(uid)))
	return base + "@" + hex.EncodeToString(h[:6])
}

// TaskIDName is the Notification name a task_id made by TaskID starts with. It is the whole
// name unless the name was longer than the task_id could hold; callers check the
// Notification's status.card.taskID.
func TaskIDName(taskID string) (string, bool) {
	i := strings.LastIndexByte(taskID, '@')
	if i <= 0 {
		return "", false
	}
	return strings.ReplaceAll(taskID[:i], "_", "."), true
}

// CardKey is the wecom.dev/alert-card label of the cards showing the alerts of p: one
// group of one receiver, or with split Alert one alert of it (the alerts folded into the
// last message share one key).
func cardKey(rcv *v1.AlertReceiver, groupKey string, p part) string {
	parts := []string{Identity(rcv), groupKey}
	switch {
	case rcv.Spec.Split != v1.AlertSplitAlert:
	case p.folded:
		parts = append(parts, "folded")
	case len(p.alerts) == 1:
		a := p.alerts[0]
		id := a.Fingerprint
		if id == "" {
			id = a.Labels.SortedPairs().String()
		}
		parts = append(parts, id)
	}
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// commonLabels are the labels every alert of as has with the same value.
func commonLabels(as Alerts) KV {
	if len(as) == 0 {
		return nil
	}
	out := KV{}
	for k, v := range as[0].Labels {
		out[k] = v
	}
	for _, a := range as[1:] {
		for k, v := range out {
			if w, ok := a.Labels[k]; !ok || w != v {
				delete(out, k)
			}
		}
	}
	return out
}

// silenceLabels are the labels a silence made from the card matches: the common labels of
// its alerts, or nil when there are none or too many or too long to keep.
func silenceLabels(as Alerts) map[string]string {
	common := commonLabels(as)
	if len(common) == 0 || len(common) > maxSilenceLabels {
		return nil
	}
	out := make(map[string]string, len(common))
	for k, v := range common {
		if len(k) > maxSilenceNameBytes || len(v) > maxSilenceValueBytes {
			return nil
		}
		out[k] = v
	}
	return out
}

// severityColor is the source line's colour (desc_color: 0 grey, 1 black, 2 red, 3 green):
// red for firing alerts of a severe level, black for other firing alerts, green resolved.
func severityColor(status, severity string) int32 {
	if status == StatusResolved {
		return 3
	}
	switch strings.ToLower(severity) {
	case "critical", "error", "page", "high", "emergency", "alert", "p1", "p0", "fatal":
		return 2
	}
	return 1
}

// oneLine makes s one line: card fields are plain text, and a line break in a title or
// key would break the card's layout.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cardURL is s when it is an http or https URL a card can link to, else "".
func cardURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > cardURLBytes {
		return ""
	}
	return s
}

// AlertmanagerAlertsURL links to Alertmanager's alert list filtered to labels, or "" when
// externalURL is not usable.
func AlertmanagerAlertsURL(externalURL string, labels map[string]string) string {
	base := cardURL(externalURL)
	if base == "" {
		return ""
	}
	out := strings.TrimRight(base, "/") + "/#/alerts"
	if len(labels) > 0 {
		filter := url.QueryEscape("{" + strings.Join(matcherStrings(labels), ",") + "}")
		out += "?filter=" + strings.ReplaceAll(filter, "+", "%20")
	}
	return cardURL(out)
}

// matcherStrings are name="value" matchers of labels, alertname first.
func matcherStrings(labels map[string]string) []string {
	pairs := KV(labels).SortedPairs()
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.Name + "=" + strconv.Quote(p.Value)
	}
	return out
}

// card is what one card shows, before it becomes a TemplateCardMessage.
type card struct {
	status   string
	title    string
	alerts   Alerts // firing first
	common   KV
	group    KV
	external string
	loc      *time.Location
	more     int
}

// alertKey is how a row names one alert: the values of the labels that set it apart from
// the others of the card (instance, pod, …), else its alertname.
func (c *card) alertKey(a Alert) string {
	var vals []string
	for _, p := range a.Labels.SortedPairs() {
		if _, shared := c.common[p.Name]; shared || p.Name == "alertname" || p.Name == "severity" {
			continue
		}
		vals = append(vals, p.Value)
	}
	if len(vals) == 0 {
		if n := a.Labels["alertname"]; n != "" {
			return n
		}
		return c.title
	}
	return strings.Join(vals, " ")
}

func (c *card) localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(c.loc).Format("01-02 15:04 MST")
}

// row is one horizontal_content_list entry for an alert: its key, its summary (or its state
// and time), and its source as the link.
func (c *card) row(a Alert) v1.CardHorizontalContent {
	value := oneLine(a.Annotations["summary"])
	switch {
	case value == "" || value == oneLine(c.common["summary"]):
		if a.Status == StatusResolved {
			value = "resolved " + c.localTime(a.EndsAt)
		} else {
			value = "firing since " + c.localTime(a.StartsAt)
		}
	case a.Status == StatusResolved && c.status == StatusFiring:
		// Among firing ones, a resolved alert says so.
		value = "resolved: " + value
	}
	h := v1.CardHorizontalContent{KeyName: cut(oneLine(c.alertKey(a)), cardKeyNameBytes), Value: cut(value, cardValueBytes)}
	if h.KeyName == "" {
		h.KeyName = "alert"
	}
	if u := cardURL(a.GeneratorURL); u != "" {
		h.Type, h.URL = 1, u
	}
	return h
}

// rows are the card's horizontal content: when it started (or resolved), then one row per
// alert, the last row saying how many more there are when they do not all fit.
func (c *card) rows() []v1.CardHorizontalContent {
	var out []v1.CardHorizontalContent
	var first, last time.Time
	for _, a := range c.alerts {
		if first.IsZero() || (!a.StartsAt.IsZero() && a.StartsAt.Before(first)) {
			first = a.StartsAt
		}
		if a.EndsAt.After(last) {
			last = a.EndsAt
		}
	}
	if c.status == StatusResolved && !last.IsZero() {
		out = append(out, v1.CardHorizontalContent{KeyName: "Resolved", Value: cut(c.localTime(last), cardValueBytes)})
	} else if !first.IsZero() {
		out = append(out, v1.CardHorizontalContent{KeyName: "Since", Value: cut(c.localTime(first), cardValueBytes)})
	}
	room := cardRows - len(out)
	more := c.more
	shown := c.alerts
	if len(shown) > room {
		shown = shown[:room-1]
		more += len(c.alerts) - len(shown)
	} else if more > 0 && len(shown) == room {
		shown = shown[:room-1]
		more++
	}
	for _, a := range shown {
		out = append(out, c.row(a))
	}
	if more > 0 {
		out = append(out, v1.CardHorizontalContent{KeyName: "More", Value: fmt.Sprintf("…and %d more", more)})
	}
	return out
}

// message is the card: a button_interaction card with buttons while alerts fire, a
// text_notice card once they all resolved (nil when it has nothing to link to, which a
// notice card needs: the caller sends markdown instead).
func (c *card) message(buttons []v1.CardButton) *v1.TemplateCardMessage {
	severity := c.common["severity"]
	if severity == "" && len(c.alerts) > 0 {
		severity = c.alerts[0].Labels["severity"]
	}
	firing := len(c.alerts.Firing())
	out := &v1.TemplateCardMessage{}

	source := "Alertmanager"
	if severity != "" {
		source += " · " + oneLine(severity)
	}
	out.Source = &v1.CardSource{Desc: cut(source, cardSourceBytes), DescColor: severityColor(c.status, severity)}

	title := fmt.Sprintf("[FIRING:%d] %s", firing, oneLine(c.title))
	if c.status == StatusResolved {
		title = "[RESOLVED] " + oneLine(c.title)
	}
	var groupLine []string
	for _, p := range c.group.Remove([]string{"alertname"}).SortedPairs() {
		groupLine = append(groupLine, p.Name+"="+p.Value)
	}
	out.MainTitle = &v1.CardTitle{Title: cut(title, cardTitleBytes), Desc: cut(oneLine(strings.Join(groupLine, ", ")), cardDescBytes)}

	emphasis := &v1.CardTitle{Title: "firing", Desc: fmt.Sprintf("%d of %d alerts", firing, len(c.alerts)+c.more)}
	if severity != "" {
		emphasis = &v1.CardTitle{Title: oneLine(severity), Desc: fmt.Sprintf("severity · %d firing", firing)}
	}
	if c.status == StatusResolved {
		emphasis = &v1.CardTitle{Title: "resolved", Desc: fmt.Sprintf("%d alerts", len(c.alerts)+c.more)}
	}
	emphasis.Title, emphasis.Desc = cut(emphasis.Title, cardTitleBytes), cut(emphasis.Desc, cardDescBytes)
	out.EmphasisContent = emphasis

	summary := oneLine(c.common["summary"])
	if summary == "" && len(c.alerts) > 0 {
		summary = oneLine(c.alerts[0].Annotations["summary"])
	}
	if d := oneLine(c.common["description"]); d != "" {
		summary = strings.TrimSpace(summary + "\n" + d)
	}
	out.SubTitleText = cut(summary, cardSubTitleBytes)
	out.HorizontalContentList = c.rows()

	source0 := ""
	for _, a := range c.alerts {
		if source0 = cardURL(a.GeneratorURL); source0 != "" {
			break
		}
	}
	am := AlertmanagerAlertsURL(c.external, map[string]string(c.common))
	if source0 != "" {
		out.JumpList = append(out.JumpList, v1.CardJump{CardLink: v1.CardLink{Type: 1, URL: source0}, Title: "Source"})
	}
	if am != "" {
		out.JumpList = append(out.JumpList, v1.CardJump{CardLink: v1.CardLink{Type: 1, URL: am}, Title: "Alertmanager"})
	}
	switch {
	case am != "":
		out.CardAction = v1.CardLink{Type: 1, URL: am}
	case source0 != "":
		out.CardAction = v1.CardLink{Type: 1, URL: source0}
	}

	if c.status == StatusResolved {
		if out.CardAction.Type == 0 {
			return nil
		}
		out.CardType = "text_notice"
		return out
	}
	out.CardType = "button_interaction"
	out.ButtonList = buttons
	return out
}

// newCard collects what the card of part p shows.
func newCard(m *Message, p part, loc *time.Location) *card {
	v := viewer{}
	alerts := v.alerts(p.alerts)
	for i := range alerts {
		// The view cuts long values with "…"; a cut URL would link somewhere else.
		alerts[i].GeneratorURL = p.alerts[i].GeneratorURL
	}
	sortFiringFirst(alerts)
	common, _ := v.kv(commonLabels(p.alerts))
	group, _ := v.kv(m.GroupLabels)
	c := &card{status: p.status, alerts: alerts, common: common, group: group, external: m.ExternalURL, loc: loc, more: m.TruncatedAlerts}
	if ann := commonAnnotations(alerts); ann != nil {
		for k, val := range ann {
			c.common[k] = val
		}
	}
	c.title = (&Data{CommonLabels: common, Alerts: alerts}).Title()
	return c
}

// commonAnnotations are the summary and description every alert shares, kept beside the
// common labels for the card's subtitle.
func commonAnnotations(as Alerts) KV {
	if len(as) == 0 {
		return nil
	}
	out := KV{}
	for _, k := range []string{"summary", "description"} {
		v := as[0].Annotations[k]
		if v == "" {
			continue
		}
		same := true
		for _, a := range as[1:] {
			if a.Annotations[k] != v {
				same = false
				break
			}
		}
		if same {
			out[k] = v
		}
	}
	return out
}

func sortFiringFirst(as Alerts) {
	i := 0
	firing := make(Alerts, 0, len(as))
	var resolved Alerts
	for _, a := range as {
		if a.Status == StatusFiring {
			firing = append(firing, a)
		} else {
			resolved = append(resolved, a)
		}
	}
	i += copy(as, firing)
	copy(as[i:], resolved)
}

// cardNotification is the Notification of part p as a card, or nil when p has resolved
// alerts only and nothing to link to (then the caller sends markdown).
func cardNotification(rcv *v1.AlertReceiver, m *Message, p part, name string, loc *time.Location) *v1.Notification {
	labels := silenceLabels(p.alerts)
	c := newCard(m, p, loc)
	msg := c.message(cardButtons(&rcv.Spec, labels != nil))
	if msg == nil {
		return nil
	}
	n := newNotification(rcv, m, name, p.status)
	n.Labels[v1.LabelAlertCard] = cardKey(rcv, m.GroupKey, p)
	n.Spec.Message.TemplateCard = msg
	n.Spec.Alert = &v1.NotificationAlert{Receiver: rcv.Name, Labels: labels}
	return n
}
