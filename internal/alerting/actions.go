package alerting

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// What a click on a card's button does is recorded in the Notification's status.actions
// before it is done (see internal/receiver), so that WeCom retrying the callback, on this
// replica or another, finds it and does not act twice. These are the pure parts of that
// bookkeeping.

// ActionID identifies a click: a hash of the single-use response code WeCom made for it
// (every click gets a new one; a retried callback carries the same). The code itself is not
// kept: it could update the card.
func ActionID(responseCode string) string {
	h := sha256.Sum256([]byte("wecom-card-click\x00" + responseCode))
	return hex.EncodeToString(h[:12])
}

// FindAction is the index of the action with id in actions, or -1.
func FindAction(actions []v1.NotificationAction, id string) int {
	return slices.IndexFunc(actions, func(a v1.NotificationAction) bool { return a.ID == id })
}

// AddAction appends a to status.actions, dropping the oldest beyond
// v1.MaxNotificationActions (a Pending one only when every one is Pending).
func AddAction(status *v1.NotificationStatus, a v1.NotificationAction) {
	status.Actions = append(status.Actions, a)
	for len(status.Actions) > v1.MaxNotificationActions {
		i := slices.IndexFunc(status.Actions, func(a v1.NotificationAction) bool { return a.State != v1.ActionPending })
		if i < 0 {
			i = 0
		}
		status.Actions = slices.Delete(status.Actions, i, i+1)
	}
}

// HumanDuration prints a silence's duration the way a person says it: "4h", "1h30m",
// "45m", "2d", "1d12h".
func HumanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days, d := d/(24*time.Hour), d%(24*time.Hour)
	h, d := d/time.Hour, d%time.Hour
	m := d / time.Minute
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if b.Len() == 0 {
		return "0m"
	}
	return b.String()
}

// ActionText says what a did, for the card's greyed-out button, the resolved card and
// events: "Silenced 4h by 张三 at 10:02", "Acknowledged by 张三 at 10:02", in loc.
func ActionText(a v1.NotificationAction, loc *time.Location) string {
	who := a.Name
	if who == "" {
		who = a.UserID
	}
	if loc == nil {
		loc = time.UTC
	}
	at := a.Time.In(loc).Format("15:04")
	if a.Action == v1.AlertCardSilence && a.Duration != nil {
		return fmt.Sprintf("Silenced %s by %s at %s", HumanDuration(a.Duration.Duration), who, at)
	}
	return fmt.Sprintf("Acknowledged by %s at %s", who, at)
}

// LastDone is the newest action that was done, or nil.
func LastDone(actions []v1.NotificationAction) *v1.NotificationAction {
	for i := len(actions) - 1; i >= 0; i-- {
		if actions[i].State == v1.ActionDone {
			return &actions[i]
		}
	}
	return nil
}

// Recipient says whether userID was sent the Notification's card. Cards sent to users are
// checked against that list (less the users WeCom reported invalid). Cards sent to
// departments, tags or everyone cannot be checked without asking WeCom who their members
// were at the time; for them WeCom's word counts: a click arrives signed and encrypted by
// WeCom, which lets only members the card reached click it. byList reports which it was.
func Recipient(n *v1.Notification, userID string) (ok, byList bool) {
	to := n.Spec.To
	if to == nil || userID == "" {
		return false, true
	}
	if to.All || len(to.Parties) > 0 || len(to.Tags) > 0 || len(to.TagRefs) > 0 {
		if slices.ContainsFunc(to.Users, func(u string) bool { return strings.EqualFold(u, userID) }) {
			return true, true
		}
		return true, false
	}
	for _, u := range to.Users {
		if strings.EqualFold(u, userID) {
			return !slices.ContainsFunc(n.Status.InvalidUsers, func(bad string) bool { return strings.EqualFold(bad, userID) }), true
		}
	}
	return false, true
}

// SilenceMarker ends the comment of a silence made by a click, so that a retry of the click
// finds the silence an interrupted attempt created instead of making a second one.
func SilenceMarker(actionID string) string {
	return "[wecom-action " + actionID + "]"
}
