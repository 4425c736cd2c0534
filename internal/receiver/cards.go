package receiver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/alerting"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Event reasons of clicks on alert cards.
const (
	EventCardAcknowledged  = "Acknowledged"
	EventCardSilenced      = "Silenced"
	EventCardActionFailed  = "CardActionFailed"
	EventCardNotRecipient  = "NotRecipient"
	EventCardUpdateSkipped = "CardUpdateSkipped"
	EventCardClicked       = "CardClicked"
)

// pendingLease is how long an action another delivery of the same click recorded as Pending
// is left to it: WeCom retries a callback it got no answer to within 5 s while the first
// delivery may still be working (on another replica); after this, that delivery is taken to
// have died and the action is finished here.
const pendingLease = 15 * time.Second

// nameTimeout bounds the user/get that finds a clicking member's name.
const nameTimeout = 2 * time.Second

// errActionFailed marks what a retry cannot fix: the action is Failed and WeCom is answered.
var errActionFailed = errors.New("action failed")

// cardClicked acts on a click on an alert card (template_card_event): it finds the card's
// Notification by task_id, refuses members who were not sent the card, and then silences
// the alerts in Alertmanager or records an acknowledgement, updates the card for every
// recipient with the click's response code, and records it all in the Notification's
// status.actions and in events on the Notification and its AlertReceiver.
//
// Exactly once: the action is recorded as Pending (keyed on the click, with an optimistic
// lock) before anything is done. A retry of the click that finds it Done does nothing; one
// that finds it Pending leaves it to the delivery working on it for pendingLease, and after
// that finishes it, adopting the silence the first delivery created if it exists (silences
// carry the action's id in their comment).
func (h *Callbacks) cardClicked(ctx context.Context, conn *v1.WeComConnection, e *wecom.TemplateCardEvent) error {
	log := logf.FromContext(ctx).WithValues("connection", client.ObjectKeyFromObject(conn), "taskID", e.TaskID, "userid", e.FromUserName)
	n, err := h.cardNotification(ctx, conn, e.TaskID)
	if err != nil || n == nil {
		if err == nil {
			log.V(1).Info("no Notification has the task_id of a card click; acknowledged")
		}
		return err
	}
	key := client.ObjectKeyFromObject(n)
	clicked, _, _ := alerting.ParseButtonKey(e.EventKey)
	if ok, byList := alerting.Recipient(n, e.FromUserName); !ok {
		if n.Spec.Alert != nil {
			countCardAction(clicked, cardRefused)
		}
		note := fmt.Sprintf("Member %s clicked %q on this card but was not sent it; nothing was done", e.FromUserName, e.EventKey)
		if !byList {
			note = fmt.Sprintf("Member %s clicked %q on this card, which was not sent to members by name; nothing was done", e.FromUserName, e.EventKey)
		}
		h.event(n, "Warning", EventCardNotRecipient, "Click", note)
		log.Info("refused a card click by a member who was not sent the card")
		return nil
	}
	if n.Spec.Alert == nil {
		h.event(n, "Normal", EventCardClicked, "Click", fmt.Sprintf("Member %s clicked %q", e.FromUserName, e.EventKey))
		return nil
	}
	action, dur, ok := alerting.ParseButtonKey(e.EventKey)
	if !ok {
		countCardAction("", cardFailed)
		h.event(n, "Warning", EventCardActionFailed, "Click", fmt.Sprintf("Member %s clicked a button this operator does not know (key %q); nothing was done", e.FromUserName, e.EventKey))
		return nil
	}
	rcv := &v1.AlertReceiver{}
	if err := h.Client.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: n.Spec.Alert.Receiver}, rcv); err != nil {
		if !apierrors.IsNotFound(err) {
			return err
		}
		rcv = nil
	}

	id := alerting.ActionID(e.ResponseCode)
	if e.ResponseCode == "" {
		id = alerting.ActionID(e.Identity)
	}
	rec := v1.NotificationAction{ID: id, Action: action, UserID: e.FromUserName, Time: metav1.Now(), State: v1.ActionPending}
	if action == v1.AlertCardSilence {
		rec.Duration = &metav1.Duration{Duration: dur}
	}
	var found *v1.NotificationAction
	if err := h.updateNotification(ctx, key, func(n *v1.Notification) bool {
		if i := alerting.FindAction(n.Status.Actions, id); i >= 0 {
			a := n.Status.Actions[i]
			found = &a
			return false
		}
		alerting.AddAction(&n.Status, rec)
		return true
	}); err != nil {
		return err
	}
	if found != nil {
		switch {
		case found.State != v1.ActionPending:
			countCardAction(action, cardDuplicate)
			log.V(1).Info("a retry of a card click already acted on; acknowledged", "action", found.Action, "state", found.State)
			return nil
		case found.Message == "" && time.Since(found.Time.Time) < pendingLease:
			// Still being acted on (a delivery that stopped for a retry says why in message).
			countCardAction(action, cardRetry)
			return fmt.Errorf("the click is being acted on by another delivery since %s", found.Time.Format(time.RFC3339))
		}
		rec = *found
	}

	c, cerr := h.Connector.Connect(ctx, n.Namespace, n.Spec.ConnectionRef.Name)
	rec.Name = h.memberName(ctx, c, e.FromUserName)
	loc := receiverLocation(rcv)
	resolved := h.alertsResolved(ctx, n)

	if action == v1.AlertCardSilence {
		silenceID, err := h.silence(ctx, rcv, n, rec)
		if err != nil {
			if !errors.Is(err, errActionFailed) {
				// Alertmanager may answer later: WeCom retries the click.
				h.setAction(ctx, key, id, func(a *v1.NotificationAction) { a.Name, a.Message = rec.Name, "retrying: "+err.Error() })
				countCardAction(action, cardRetry)
				return err
			}
			msg := strings.TrimPrefix(err.Error(), errActionFailed.Error()+": ")
			h.setAction(ctx, key, id, func(a *v1.NotificationAction) { a.Name, a.State, a.Message = rec.Name, v1.ActionFailed, msg })
			note := fmt.Sprintf("%s (%s) clicked %q on the card of %s, but no silence was made: %s", rec.Name, rec.UserID, e.EventKey, n.Name, msg)
			h.event(n, "Warning", EventCardActionFailed, "Silence", note)
			h.eventReceiver(rcv, "Warning", EventCardActionFailed, "Silence", note)
			countCardAction(action, cardFailed)
			return nil
		}
		rec.SilenceID = silenceID
	}

	text := alerting.ActionText(rec, loc)
	var notes []string
	if resolved {
		notes = append(notes, "the alerts had already resolved")
		if action == v1.AlertCardSilence {
			notes[0] += "; the silence applies if they fire again"
		}
	}
	h.setAction(ctx, key, id, func(a *v1.NotificationAction) {
		a.Name, a.State, a.SilenceID, a.Message = rec.Name, v1.ActionDone, rec.SilenceID, strings.Join(notes, "; ")
	})

	// The card, for every recipient, with the click's own code.
	updated, why := h.updateCard(ctx, c, cerr, n, e, text)
	if !updated {
		notes = append(notes, "the card was not updated: "+why)
		h.event(n, "Normal", EventCardUpdateSkipped, "UpdateCard", "The card was not updated to show "+text+": "+why)
	}
	h.setAction(ctx, key, id, func(a *v1.NotificationAction) { a.CardUpdated, a.Message = updated, strings.Join(notes, "; ") })

	reason, note := EventCardAcknowledged, text
	if action == v1.AlertCardSilence {
		reason = EventCardSilenced
		note = fmt.Sprintf("%s (%s): silence %s in Alertmanager matching %s until %s", text, rec.UserID, rec.SilenceID,
			strings.Join(matcherText(n.Spec.Alert.Labels), ", "), rec.Time.Add(dur).In(loc).Format("2006-01-02 15:04 MST"))
	}
	if len(notes) > 0 {
		note += " (" + strings.Join(notes, "; ") + ")"
	}
	countCardAction(action, cardDone)
	h.event(n, "Normal", reason, "Click", note)
	h.eventReceiver(rcv, "Normal", reason, "Click", note+" [card of "+n.Name+"]")
	log.Info("acted on a card click", "action", action, "silence", rec.SilenceID, "cardUpdated", updated)
	return nil
}

// cardNotification finds the Notification of a card by its task_id in the connection's
// namespace: through the index, or, when the cache has not seen the status yet, by the name
// the task_id starts with. It must be sent through a connection of the same corp.
func (h *Callbacks) cardNotification(ctx context.Context, conn *v1.WeComConnection, taskID string) (*v1.Notification, error) {
	if taskID == "" {
		return nil, nil
	}
	conns, err := h.sameCorp(ctx, conn)
	if err != nil {
		return nil, err
	}
	match := func(n *v1.Notification) bool {
		return n.Status.Card != nil && n.Status.Card.TaskID == taskID && n.Spec.ConnectionRef != nil &&
			containsName(conns, n.Spec.ConnectionRef.Name) && n.DeletionTimestamp.IsZero()
	}
	list := &v1.NotificationList{}
	if err := h.Client.List(ctx, list, client.InNamespace(conn.Namespace), client.MatchingFields{controller.IndexCardTaskID: taskID}); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if match(&list.Items[i]) {
			return &list.Items[i], nil
		}
	}
	name, ok := alerting.TaskIDName(taskID)
	if !ok {
		return nil, nil
	}
	n := &v1.Notification{}
	if err := h.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: name}, n); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if !match(n) {
		return nil, nil
	}
	return n, nil
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// memberName is the member's name in WeCom (user/get), or the userid when it cannot be read.
func (h *Callbacks) memberName(ctx context.Context, c *controller.Connection, userID string) string {
	if c == nil {
		return userID
	}
	ctx, cancel := context.WithTimeout(ctx, nameTimeout)
	defer cancel()
	u, err := c.Client.GetUser(ctx, userID)
	if err != nil || strings.TrimSpace(u.Name) == "" {
		return userID
	}
	return strings.TrimSpace(u.Name)
}

// alertsResolved says whether the card's alerts resolved: the card was updated to show it,
// or a resolved Notification of the same alerts exists.
func (h *Callbacks) alertsResolved(ctx context.Context, n *v1.Notification) bool {
	if n.Status.Card != nil && n.Status.Card.ResolvedBy != "" {
		return true
	}
	key := n.Labels[v1.LabelAlertCard]
	if key == "" {
		return false
	}
	list := &v1.NotificationList{}
	if err := h.Client.List(ctx, list, client.InNamespace(n.Namespace),
		client.MatchingLabels{v1.LabelAlertCard: key, v1.LabelAlertStatus: alerting.StatusResolved}); err != nil {
		return false
	}
	for _, r := range list.Items {
		if r.CreationTimestamp.After(n.CreationTimestamp.Time) || r.CreationTimestamp.Equal(&n.CreationTimestamp) {
			return true
		}
	}
	return false
}

// silence creates the card's silence in the receiver's Alertmanager, or adopts the one an
// interrupted delivery of the same click created. Errors wrapping errActionFailed cannot be
// fixed by a retry.
func (h *Callbacks) silence(ctx context.Context, rcv *v1.AlertReceiver, n *v1.Notification, a v1.NotificationAction) (string, error) {
	switch {
	case rcv == nil:
		return "", fmt.Errorf("%w: AlertReceiver %q no longer exists, so there is no Alertmanager to silence the alerts in", errActionFailed, n.Spec.Alert.Receiver)
	case rcv.Spec.Alertmanager == nil:
		return "", fmt.Errorf("%w: AlertReceiver %q has no spec.alertmanager", errActionFailed, rcv.Name)
	case len(n.Spec.Alert.Labels) == 0:
		return "", fmt.Errorf("%w: the card's alerts share no labels, and a silence without matchers would silence everything", errActionFailed)
	}
	auth, err := controller.AlertmanagerCredentials(ctx, h.Connector, rcv)
	if err != nil {
		if _, msg, waiting := controller.IsWaiting(err); waiting {
			return "", fmt.Errorf("%w: spec.alertmanager.authSecretRef: %s", errActionFailed, msg)
		}
		return "", err
	}
	am := &alerting.AlertmanagerClient{URL: rcv.Spec.Alertmanager.URL, HTTP: h.AlertmanagerHTTP,
		BearerToken: auth.BearerToken, Username: auth.Username, Password: auth.Password}
	matchers := alerting.Matchers(n.Spec.Alert.Labels)
	marker := alerting.SilenceMarker(a.ID)
	if a.SilenceID == "" {
		// A delivery before this one may have created it and died before recording it.
		if id, err := am.FindSilence(ctx, matchers, marker); err != nil {
			return "", amError(err)
		} else if id != "" {
			return id, nil
		}
	}
	now := time.Now()
	id, err := am.CreateSilence(ctx, alerting.Silence{
		Matchers: matchers, StartsAt: now, EndsAt: now.Add(a.Duration.Duration), CreatedBy: a.Name,
		Comment: fmt.Sprintf("Silenced from WeCom by %s (%s) on the alert card of Notification %s/%s (task %s) %s",
			a.Name, a.UserID, n.Namespace, n.Name, n.Status.Card.TaskID, marker),
	})
	if err != nil {
		return "", amError(err)
	}
	return id, nil
}

// amError marks Alertmanager's refusals that a retry cannot fix.
func amError(err error) error {
	if alerting.IsRetryableAlertmanager(err) {
		return err
	}
	return fmt.Errorf("%w: %w", errActionFailed, err)
}

// updateCard greys out the card's buttons for every recipient under text, with the click's
// response code. It says why when it could not.
func (h *Callbacks) updateCard(ctx context.Context, c *controller.Connection, connErr error, n *v1.Notification, e *wecom.TemplateCardEvent, text string) (bool, string) {
	switch {
	case connErr != nil:
		return false, "the connection is not usable: " + connErr.Error()
	case n.Status.Card != nil && n.Status.Card.ResolvedBy != "":
		return false, "it already shows the alerts resolved"
	case e.ResponseCode == "":
		return false, "the click carried no response code"
	}
	_, err := c.Client.UpdateTemplateCard(ctx, wecom.UpdateTemplateCardRequest{
		AtAll: true, AgentID: int(c.AgentID), ResponseCode: e.ResponseCode, ReplaceName: text})
	switch {
	case err == nil:
		return true, ""
	case wecom.Code(err) == wecom.ErrCodeInvalidResponseCode && wecom.IsAmbiguous(err):
		return true, "" // an earlier attempt of this call went through
	case wecom.Code(err) == wecom.ErrCodeInvalidResponseCode:
		return false, "WeCom no longer accepts the click's response code (60140: used, or over 72 hours old)"
	}
	// Not used: it is the card's newest code, for the resolved update.
	_ = h.updateNotification(ctx, client.ObjectKeyFromObject(n), func(n *v1.Notification) bool {
		if n.Status.Card == nil {
			return false
		}
		n.Status.Card.ResponseCode, n.Status.Card.ResponseCodeTime = e.ResponseCode, &metav1.Time{Time: time.Now()}
		return true
	})
	return false, "WeCom refused the update: " + err.Error()
}

// setAction changes the action with id, logging a failure: what it records is a report, and
// the action itself is done.
func (h *Callbacks) setAction(ctx context.Context, key types.NamespacedName, id string, change func(*v1.NotificationAction)) {
	if err := h.updateNotification(ctx, key, func(n *v1.Notification) bool {
		i := alerting.FindAction(n.Status.Actions, id)
		if i < 0 {
			return false
		}
		change(&n.Status.Actions[i])
		return true
	}); err != nil {
		logf.FromContext(ctx).Error(err, "recording a card action", "notification", key)
	}
}

// updateNotification is updateStatus for a Notification.
func (h *Callbacks) updateNotification(ctx context.Context, key types.NamespacedName, mutate func(*v1.Notification) bool) error {
	_, err := updateStatus(ctx, h, key, func() *v1.Notification { return &v1.Notification{} }, mutate)
	return err
}

func (h *Callbacks) eventReceiver(rcv *v1.AlertReceiver, typ, reason, action, note string) {
	if rcv != nil {
		h.event(rcv, typ, reason, action, note)
	}
}

// receiverLocation is the receiver's time zone, UTC when unknown.
func receiverLocation(rcv *v1.AlertReceiver) *time.Location {
	if rcv == nil {
		return time.UTC
	}
	loc, err := time.LoadLocation(controller.ReceiverTimezone(rcv))
	if err != nil {
		return time.UTC
	}
	return loc
}

func matcherText(labels map[string]string) []string {
	var out []string
	for _, m := range alerting.Matchers(labels) {
		out = append(out, fmt.Sprintf("%s=%q", m.Name, m.Value))
	}
	return out
}
