package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/alerting"
	"github.com/wecom-dev/wecom-operator/internal/notify"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=notifications,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=wecom.dev,resources=notifications/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomappchats,verbs=get;list;watch

// Notification event reasons.
const (
	EventSent              = "Sent"
	EventSendFailed        = "SendFailed"
	EventSendRetrying      = "SendRetrying"
	EventHeld              = "Held"
	EventInvalidRecipients = "InvalidRecipients"
	EventTruncated         = "Truncated"
	EventResendAfterWindow = "ResendAfterDedupeWindow"
	// EventCardResolved: a card was updated in place to show its alerts resolved.
	EventCardResolved = "CardResolved"
	// EventCardUpdateSkipped: a card could not be updated (no usable response code, or
	// WeCom refused it); a message is sent instead, or the card is left as it is.
	EventCardUpdateSkipped = "CardUpdateSkipped"
)

// IndexCardTaskID finds the Notification of an interactive card by its task_id
// (status.card.taskID), for the card's clicks.
const IndexCardTaskID = "status.card.taskID"

// CardTaskIDs is the IndexCardTaskID indexer.
func CardTaskIDs(obj client.Object) []string {
	if c := obj.(*v1.Notification).Status.Card; c != nil && c.TaskID != "" {
		return []string{c.TaskID}
	}
	return nil
}

// responseCodeTTL is how long WeCom accepts a card's response code (§14: 72 h), less a
// margin for clocks and the call itself.
const responseCodeTTL = 72*time.Hour - 10*time.Minute

// Notification defaults (see the API docs).
const (
	defaultDeliveryDeadline = time.Hour
	defaultTTLAfterFinished = 24 * time.Hour
	// maxHoldRecheck bounds how long a held Notification sleeps (on the quota clock) before
	// it asks the pacer again, so it stays known to the pacer as a waiter.
	maxHoldRecheck = time.Minute
	// dependencyRecheck is how often a Notification waiting for a connection, a chat or a
	// Secret looks again.
	dependencyRecheck = 5 * time.Second
	// sendTimeout bounds one call to WeCom.
	sendTimeout = 30 * time.Second
)

// NotificationReconciler delivers each Notification once: Pending → Sent or Failed, never
// back. See docs/notifications.md for the exactly-once argument.
type NotificationReconciler struct {
	Client    client.Client
	Connector *Connector
	Recorder  events.EventRecorder
	Pacer     *notify.Pacer
	// Clock measures WeCom's quota windows (the wall clock in production).
	Clock notify.Clock
	// HTTPClient and Limiters are used for group robots, which have no connection.
	HTTPClient *http.Client
	Limiters   *wecom.Limiters
	// RetryBase is the first delay after a failed attempt; it doubles up to 5 minutes.
	RetryBase time.Duration

	// warmed is closed once the pacer knows the sends of the previous run (warmUp); nil
	// means there is nothing to wait for.
	warmed chan struct{}
	// wake enqueues a Notification by its namespace/name now; stalled holds those waiting
	// out a backoff after WeCom failed, which the next accepted send of their scope wakes.
	wake    func(id string)
	stalled stalledSends
}

// stalledSends holds, per quota scope (an app, a robot, a chat), the Notifications waiting
// out a backoff after WeCom was busy, limited or unreachable. Backoffs double up to minutes;
// once WeCom accepts a send of the scope again, the others need not wait that long. Entries
// go when their Notification is sent, fails, is deleted or is woken.
//
// It also counts each scope's failed sends since WeCom last accepted one (the streak). A
// Notification's backoff doubles with the smaller of its own attempts and that streak: during
// an outage both grow, but once WeCom takes the scope's sends again, a Notification whose
// next attempt meets a single fault (a lost reply, a -1) retries after the base delay instead
// of the minutes its attempts in the outage had reached.
type stalledSends struct {
	mu     sync.Mutex
	m      map[string]map[string]struct{}
	streak map[string]int32
}

// record counts one send of scope and returns the streak of failures it ends or extends.
func (s *stalledSends) record(scope string, ok bool) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streak == nil {
		s.streak = map[string]int32{}
	}
	if ok {
		delete(s.streak, scope)
		return 0
	}
	s.streak[scope]++
	return s.streak[scope]
}

func (s *stalledSends) add(scope, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]map[string]struct{}{}
	}
	if s.m[scope] == nil {
		s.m[scope] = map[string]struct{}{}
	}
	s.m[scope][id] = struct{}{}
}

// forget drops id from every scope.
func (s *stalledSends) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for scope, ids := range s.m {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.m, scope)
		}
	}
}

// take returns and drops the ids stalled in scope.
func (s *stalledSends) take(scope string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.m[scope]))
	for id := range s.m[scope] {
		ids = append(ids, id)
	}
	delete(s.m, scope)
	return ids
}

// delivery is a Notification resolved against its connection, chat or robot: what it counts
// against and how to send it.
type delivery struct {
	channel   string
	target    notify.Target
	truncated bool
	send      func(ctx context.Context) (*wecom.SendResult, error)
	// taskID is the task_id of an interactive card; conn its connection.
	taskID string
	conn   *Connection
}

// Reconcile sends a Pending Notification once it may, and deletes finished ones after their
// ttlAfterFinished.
func (r *NotificationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if r.warmed != nil {
		select {
		case <-r.warmed:
		case <-ctx.Done():
			return ctrl.Result{}, ctx.Err()
		}
	}
	n := &v1.Notification{}
	if err := r.Client.Get(ctx, req.NamespacedName, n); err != nil {
		if apierrors.IsNotFound(err) {
			r.Pacer.Forget(req.String())
			r.stalled.forget(req.String())
			r.updateHeldGauge()
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !n.DeletionTimestamp.IsZero() {
		r.Pacer.Forget(req.String())
		r.stalled.forget(req.String())
		r.updateHeldGauge()
		return ctrl.Result{}, nil
	}
	if finished(n) {
		return r.reconcileFinished(ctx, n)
	}
	res, err := r.reconcilePending(ctx, n)
	r.updateHeldGauge()
	return res, err
}

func finished(n *v1.Notification) bool {
	return n.Status.Phase == v1.NotificationSent || n.Status.Phase == v1.NotificationFailed
}

// reconcileFinished deletes a Sent or Failed Notification once its ttlAfterFinished passed.
func (r *NotificationReconciler) reconcileFinished(ctx context.Context, n *v1.Notification) (ctrl.Result, error) {
	r.Pacer.Forget(notificationKey(n))
	r.stalled.forget(notificationKey(n))
	ttl := defaultTTLAfterFinished
	if n.Spec.TTLAfterFinished != nil {
		ttl = n.Spec.TTLAfterFinished.Duration
	}
	done := n.CreationTimestamp.Time
	switch {
	case n.Status.CompletionTime != nil:
		done = n.Status.CompletionTime.Time
	case n.Status.SentAt != nil:
		done = n.Status.SentAt.Time
	}
	if left := time.Until(done.Add(ttl)); left > 0 {
		return ctrl.Result{RequeueAfter: left}, nil
	}
	uid := n.UID
	if err := r.Client.Delete(ctx, n, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// reconcilePending takes one step towards delivery: fail at the deadline, wait for a
// dependency, wait for a quota slot, or send once.
func (r *NotificationReconciler) reconcilePending(ctx context.Context, n *v1.Notification) (ctrl.Result, error) {
	id := notificationKey(n)
	before := n.DeepCopy()
	n.Status.Phase = v1.NotificationPending
	n.Status.ObservedGeneration = n.Generation

	if in := n.Status.DeliveredIn; in != nil && in.Notification != n.Name {
		// Folded: its leader's deadline applies, and its leader delivers or releases it.
		return r.reconcileFolded(ctx, n, before)
	}
	now := time.Now()
	deadline := n.CreationTimestamp.Add(deliveryDeadline(n))
	if !now.Before(deadline) {
		r.Pacer.Forget(id)
		msg := fmt.Sprintf("Not delivered within the deliveryDeadline of %s", deliveryDeadline(n))
		if c := meta.FindStatusCondition(n.Status.Conditions, v1.ConditionReady); c != nil && c.Reason != v1.ReasonPending {
			msg += "; last: " + c.Message
		}
		r.finish(n, v1.NotificationFailed, v1.ReasonDeadlineExceeded, msg)
		return r.writeFinal(ctx, n, before, "")
	}
	untilDeadline := time.Until(deadline)

	d, err := r.resolve(ctx, n)
	if err != nil {
		var dep *dependencyError
		switch {
		case errors.As(err, &dep):
			r.Pacer.Forget(id)
			notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, dep.reason, dep.msg+"; waiting until the deliveryDeadline")
			notificationCondition(n, v1.ConditionSynced, metav1.ConditionFalse, dep.reason, dep.msg)
			return ctrl.Result{RequeueAfter: min(dependencyRecheck, untilDeadline)}, r.patchStatus(ctx, n, before)
		case errors.Is(err, notify.ErrNoMessage) || errors.Is(err, wecom.ErrInvalidRequest):
			r.Pacer.Forget(id)
			r.finish(n, v1.NotificationFailed, v1.ReasonWeComRejected, err.Error())
			return r.writeFinal(ctx, n, before, "")
		}
		return ctrl.Result{}, err
	}

	if leadsPlan(n) {
		return r.runPlan(ctx, n, d, nil, untilDeadline)
	}
	dec := r.Pacer.Acquire(id, notify.Order{Created: n.CreationTimestamp.Time, Name: id}, d.target, r.Clock.Now())
	if dec.Grant == nil {
		return r.hold(ctx, n, before, d, dec, untilDeadline)
	}
	if n.Status.Fold == nil {
		if folded, res, err := r.maybeFold(ctx, n, before, d, dec.Grant, untilDeadline); folded {
			return res, err
		}
	}
	if resolvesCards(n) && d.conn != nil {
		updated, wait, err := r.resolveCards(ctx, n, d.conn)
		switch {
		case err != nil:
			dec.Grant.Requeue()
			return ctrl.Result{}, err
		case wait:
			// A card of these alerts is still being sent: its status (and response code)
			// comes first.
			dec.Grant.Requeue()
			return ctrl.Result{RequeueAfter: min(200*time.Millisecond, untilDeadline)}, r.patchStatus(ctx, n, before)
		case len(updated) > 0:
			dec.Grant.Cancel() // nothing was sent
			r.finish(n, v1.NotificationSent, v1.ReasonCardUpdated,
				"Not sent: the card of these alerts was updated in place to show them resolved ("+strings.Join(updated, ", ")+")")
			return r.writeFinal(ctx, n, before, d.channel)
		}
	}
	return r.sendOnce(ctx, n, before, d, dec.Grant, untilDeadline)
}

// hold keeps n Pending until the pacer has a slot for it, saying why in its status.
func (r *NotificationReconciler) hold(ctx context.Context, n, before *v1.Notification, d *delivery, dec notify.Decision, untilDeadline time.Duration) (ctrl.Result, error) {
	if dec.Busy {
		// The previous message to the same recipients is on the wire; its reply wakes this
		// one within milliseconds, so the status is left alone.
		return ctrl.Result{RequeueAfter: min(time.Second, untilDeadline)}, r.patchStatus(ctx, n, before)
	}
	if dec.FirstHold {
		notificationHoldsTotal.WithLabelValues(d.channel).Inc()
		r.event(n, "Normal", EventHeld, "Hold", "Held so that WeCom's quota is not crossed: "+dec.Reason)
	}
	notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonHeld, "Held: "+dec.Reason)
	notificationCondition(n, v1.ConditionSynced, metav1.ConditionTrue, v1.ReasonHeld, "")
	wait := dec.Next.Sub(r.Clock.Now())
	if dec.Queued > 0 && wait < time.Second {
		// Behind others: their sends wake this one; this is only the safety net.
		wait = maxHoldRecheck
	}
	wait = min(max(wait, 10*time.Millisecond), maxHoldRecheck)
	return ctrl.Result{RequeueAfter: min(r.Clock.Wall(wait), untilDeadline)}, r.patchStatus(ctx, n, before)
}

// sendOnce claims an attempt in the status, makes the one call to WeCom and records its
// outcome. The claim is written with optimistic locking before the call: if this process's
// cache is stale (it wrote a status it has not seen yet, say Sent), the claim fails with a
// conflict instead of sending again.
func (r *NotificationReconciler) sendOnce(ctx context.Context, n, before *v1.Notification, d *delivery, grant *notify.Grant, untilDeadline time.Duration) (ctrl.Result, error) {
	// Whatever happens below (even a panic), the grant is settled, or the recipients' queue
	// would wait for it forever. After an explicit Done or Cancel this does nothing.
	defer func() { grant.Done(r.Clock.Now()) }()
	if n.Status.Attempts > 0 && d.channel == "app" && n.Status.LastAttemptTime != nil &&
		time.Since(n.Status.LastAttemptTime.Time) >= time.Duration(notify.DuplicateCheckSeconds(&n.Spec))*time.Second {
		r.event(n, "Warning", EventResendAfterWindow, "Send",
			"Resending after WeCom's duplicate-check window passed since the last attempt, whose outcome is unknown; the recipients may get this message twice")
	}
	n.Status.Attempts++
	n.Status.LastAttemptTime = &metav1.Time{Time: time.Now()}
	n.Status.Truncated = d.truncated
	if d.taskID != "" && (n.Status.Card == nil || n.Status.Card.TaskID != d.taskID) {
		// Before the send: a click may come before the reply is recorded, or the reply may
		// be lost.
		n.Status.Card = &v1.NotificationCardStatus{TaskID: d.taskID}
	}
	notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPending, fmt.Sprintf("Sending, attempt %d", n.Status.Attempts))
	if err := r.Client.Status().Patch(ctx, n, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			// Usually our own last status write, not in the cache yet: ask again, first in line.
			grant.Requeue()
			return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
		}
		grant.Cancel()
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	claimed := n.DeepCopy()
	ctx, stop := finishing(ctx)
	defer stop()

	sendCtx, cancel := context.WithTimeout(ctx, min(sendTimeout, untilDeadline))
	result, sendErr := d.send(sendCtx)
	cancel()
	if sendErr != nil && !wecom.IsAmbiguous(sendErr) && !isDecodeError(sendErr) {
		grant.Cancel() // WeCom answered with an errcode, or nothing was sent: no quota used
	} else {
		grant.Done(r.Clock.Now())
	}

	streak := r.stalled.record(d.target.Scope, sendErr == nil)
	res := r.outcome(n, d, result, sendErr, untilDeadline, streak)
	r.stalled.forget(notificationKey(n))
	switch {
	case sendErr == nil && r.wake != nil:
		// WeCom takes this scope's sends again: the others need not wait out their backoff.
		for _, id := range r.stalled.take(d.target.Scope) {
			r.wake(id)
		}
	case !finished(n) && !wecom.IsCredential(sendErr):
		r.stalled.add(d.target.Scope, notificationKey(n))
	}
	if finished(n) {
		return r.writeFinal(ctx, n, claimed, d.channel)
	}
	return res, r.patchStatus(ctx, n, claimed)
}

// finishing keeps what follows a claim going when the manager stops (a deleted pod, a
// rollout): the call to WeCom and the record of its outcome, or of a fold plan's members.
// Cancelled in between, the outcome would be unknown and the next leader would have to
// resend (WeCom's duplicate check usually drops the copy) or to repair a half-written plan.
// It is bounded by the send timeout plus the status writes, within the pod's grace period.
func finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), sendTimeout+5*time.Second)
}

// outcome records the result of one call in the status and says when to try again.
// streak is the scope's failed sends since WeCom last accepted one, this one included.
func (r *NotificationReconciler) outcome(n *v1.Notification, d *delivery, res *wecom.SendResult, err error, untilDeadline time.Duration, streak int32) ctrl.Result {
	switch {
	case err == nil:
		notificationAttemptsTotal.WithLabelValues(d.channel, "ok").Inc()
		if res != nil {
			n.Status.MsgID = res.MsgID
			n.Status.InvalidUsers, n.Status.InvalidParties, n.Status.InvalidTags = res.InvalidUser, res.InvalidParty, res.InvalidTag
			n.Status.UnlicensedUsers = res.UnlicensedUser
			if d.taskID != "" && res.ResponseCode != "" {
				n.Status.Card.ResponseCode = res.ResponseCode
				n.Status.Card.ResponseCodeTime = &metav1.Time{Time: time.Now()}
			}
		}
		msg := "WeCom accepted the message"
		if n.Status.MsgID != "" {
			msg += " (msgid " + n.Status.MsgID + ")"
		}
		r.finish(n, v1.NotificationSent, v1.ReasonSent, msg)
		if bad := invalidRecipients(n); bad != "" {
			r.event(n, "Warning", EventInvalidRecipients, "Send", "Sent, but WeCom did not deliver to: "+bad)
			notificationCondition(n, v1.ConditionReady, metav1.ConditionTrue, v1.ReasonInvalidRecipients, msg+"; not delivered to: "+bad)
		}
		if n.Status.Truncated {
			r.event(n, "Warning", EventTruncated, "Send", "The content was longer than WeCom accepts and was cut at a line boundary; the message ends with "+strings.TrimSpace(notify.TruncationMarker))
		}
		return ctrl.Result{}
	case wecom.Code(err) == wecom.ErrCodeAllRecipientsBad:
		notificationAttemptsTotal.WithLabelValues(d.channel, "failed").Inc()
		n.Status.LastErrorCode = wecom.Code(err)
		r.finish(n, v1.NotificationFailed, v1.ReasonAllRecipientsInvalid, describe(err))
		return ctrl.Result{}
	case wecom.IsRetryable(err) || wecom.IsCredential(err) || wecom.IsAmbiguous(err) || isDecodeError(err) || !wecom.IsTerminal(err):
		notificationAttemptsTotal.WithLabelValues(d.channel, "retry").Inc()
		n.Status.LastErrorCode = wecom.Code(err)
		delay := r.backoff(min(n.Status.Attempts, max(streak, 1)))
		if wecom.IsCredential(err) {
			delay = max(delay, 30*time.Second) // a person has to act; do not hammer gettoken
		}
		delay = min(delay, untilDeadline)
		msg := fmt.Sprintf("Attempt %d failed: %s; retrying in %s until the deliveryDeadline", n.Status.Attempts, describe(err), delay.Round(time.Millisecond))
		notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonRetrying, msg)
		notificationCondition(n, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonRetrying, msg)
		r.event(n, "Warning", EventSendRetrying, "Send", msg)
		return ctrl.Result{RequeueAfter: delay}
	default:
		notificationAttemptsTotal.WithLabelValues(d.channel, "failed").Inc()
		n.Status.LastErrorCode = wecom.Code(err)
		r.finish(n, v1.NotificationFailed, v1.ReasonWeComRejected, describe(err))
		return ctrl.Result{}
	}
}

func isDecodeError(err error) bool {
	var de *wecom.DecodeError
	return errors.As(err, &de)
}

// finish moves the Notification to its final phase.
func (r *NotificationReconciler) finish(n *v1.Notification, phase v1.NotificationPhase, reason, msg string) {
	now := metav1.Now()
	n.Status.Phase = phase
	n.Status.CompletionTime = &now
	if phase == v1.NotificationSent {
		n.Status.SentAt = &now
		notificationCondition(n, v1.ConditionReady, metav1.ConditionTrue, reason, msg)
		notificationCondition(n, v1.ConditionSynced, metav1.ConditionTrue, reason, "")
		return
	}
	notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, reason, msg)
	notificationCondition(n, v1.ConditionSynced, metav1.ConditionTrue, reason, "")
}

// writeFinal writes a Sent or Failed status, then counts it and says so in an event.
func (r *NotificationReconciler) writeFinal(ctx context.Context, n *v1.Notification, before *v1.Notification, channel string) (ctrl.Result, error) {
	if err := r.Client.Status().Patch(ctx, n, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if channel == "" {
		channel = notificationChannel(&n.Spec)
	}
	notificationsTotal.WithLabelValues(channel, string(n.Status.Phase)).Inc()
	ready := meta.FindStatusCondition(n.Status.Conditions, v1.ConditionReady)
	if n.Status.Phase == v1.NotificationSent {
		notificationLatency.WithLabelValues(channel).Observe(n.Status.SentAt.Sub(n.CreationTimestamp.Time).Seconds())
		r.event(n, "Normal", EventSent, "Send", ready.Message)
	} else {
		r.event(n, "Warning", EventSendFailed, "Send", ready.Message)
	}
	ttl := defaultTTLAfterFinished
	if n.Spec.TTLAfterFinished != nil {
		ttl = n.Spec.TTLAfterFinished.Duration
	}
	return ctrl.Result{RequeueAfter: max(ttl, time.Millisecond)}, nil
}

func (r *NotificationReconciler) patchStatus(ctx context.Context, n, before *v1.Notification) error {
	if apiequality.Semantic.DeepEqual(n.Status, before.Status) {
		return nil
	}
	return client.IgnoreNotFound(r.Client.Status().Patch(ctx, n, client.MergeFrom(before)))
}

// backoff is RetryBase·2^(failures-1), at most 5 minutes, ±10%.
func (r *NotificationReconciler) backoff(failures int32) time.Duration {
	d := r.RetryBase
	if d <= 0 {
		d = 2 * time.Second
	}
	for i := int32(1); i < failures && d < 5*time.Minute; i++ {
		d *= 2
	}
	return jitter(min(d, 5*time.Minute))
}

func (r *NotificationReconciler) event(n *v1.Notification, typ, reason, action, note string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(n, nil, typ, reason, action, "%s", note)
	}
}

func (r *NotificationReconciler) updateHeldGauge() {
	w := r.Pacer.Waiting()
	for _, ch := range []string{"app", "chat", "robot"} {
		notificationsHeld.WithLabelValues(ch).Set(float64(w[ch]))
	}
}

func notificationCondition(n *v1.Notification, typ string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&n.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: n.Generation,
	})
}

func notificationKey(n *v1.Notification) string {
	return types.NamespacedName{Namespace: n.Namespace, Name: n.Name}.String()
}

func deliveryDeadline(n *v1.Notification) time.Duration {
	if n.Spec.DeliveryDeadline != nil && n.Spec.DeliveryDeadline.Duration > 0 {
		return n.Spec.DeliveryDeadline.Duration
	}
	return defaultDeliveryDeadline
}

func notificationChannel(spec *v1.NotificationSpec) string {
	switch {
	case spec.To != nil:
		return "app"
	case spec.Robot != nil:
		return "robot"
	default:
		return "chat"
	}
}

func invalidRecipients(n *v1.Notification) string {
	var parts []string
	for _, p := range []struct {
		what string
		ids  []string
	}{{"users", n.Status.InvalidUsers}, {"departments", n.Status.InvalidParties}, {"tags", n.Status.InvalidTags},
		{"unlicensed users", n.Status.UnlicensedUsers}} {
		if len(p.ids) > 0 {
			parts = append(parts, p.what+" "+strings.Join(p.ids, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// resolve finds the connection, chat or robot of n and renders its message.
func (r *NotificationReconciler) resolve(ctx context.Context, n *v1.Notification) (*delivery, error) {
	spec := &n.Spec
	switch {
	case spec.To != nil:
		conn, err := r.Connector.Connect(ctx, n.Namespace, spec.ConnectionRef.Name)
		if err != nil {
			return nil, err
		}
		if conn.AgentID == 0 {
			return nil, waitFor(v1.ReasonConnectionNotReady, "WeComConnection %q has no agentID; app messages need the agentID of the app whose secret it uses", conn.Name)
		}
		to, err := resolveTagRefs(ctx, r.Client, n.Namespace, spec.To)
		if err != nil {
			return nil, err
		}
		resolved := *spec
		resolved.To = to
		msg, err := notify.AppMessage(&resolved, conn.AgentID)
		if err != nil {
			return nil, err
		}
		taskID := interactiveCard(n, msg.Body.TemplateCard)
		t := notify.Target{Scope: "app|" + conn.Scope, Name: fmt.Sprintf("app %d", conn.AgentID), Channel: "app",
			Rules: notify.MemberRules, Members: to.Users,
			Everyone: to.All || len(to.Parties) > 0 || len(to.Tags) > 0}
		return &delivery{channel: "app", target: t, truncated: msg.Truncated, taskID: taskID, conn: conn,
			send: func(ctx context.Context) (*wecom.SendResult, error) { return conn.Client.SendMessage(ctx, msg.Body) }}, nil

	case spec.ChatRef != nil || spec.ChatID != "":
		chatID, connName := spec.ChatID, ""
		if spec.ConnectionRef != nil {
			connName = spec.ConnectionRef.Name
		}
		if spec.ChatRef != nil {
			chat := &v1.WeComAppChat{}
			if err := r.Client.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: spec.ChatRef.Name}, chat); err != nil {
				if apierrors.IsNotFound(err) {
					return nil, waitFor(v1.ReasonDependencyNotReady, "WeComAppChat %q not found in namespace %q", spec.ChatRef.Name, n.Namespace)
				}
				return nil, err
			}
			if chat.Status.ChatID == "" {
				return nil, waitFor(v1.ReasonDependencyNotReady, "WeComAppChat %q has no chat id yet", spec.ChatRef.Name)
			}
			chatID = chat.Status.ChatID
			if connName == "" {
				connName = chat.Spec.ConnectionRef.Name
			}
		}
		conn, err := r.Connector.Connect(ctx, n.Namespace, connName)
		if err != nil {
			return nil, err
		}
		msg, err := notify.ChatMessage(spec, chatID)
		if err != nil {
			return nil, err
		}
		t := notify.Target{Scope: "chat|" + conn.Scope + "|" + chatID, Name: "chat " + chatID, Channel: "chat",
			Rules: notify.ChatRules, Everyone: true}
		return &delivery{channel: "chat", target: t, truncated: msg.Truncated,
			send: func(ctx context.Context) (*wecom.SendResult, error) {
				return nil, conn.Client.SendAppChat(ctx, msg.Body)
			}}, nil

	case spec.Robot != nil:
		base, key, err := r.robot(ctx, n)
		if err != nil {
			return nil, err
		}
		msg, err := notify.RobotMessage(spec)
		if err != nil {
			return nil, err
		}
		wh, err := wecom.NewWebhookClient(wecom.WebhookConfig{BaseURL: base, HTTPClient: r.HTTPClient,
			Retry: wecom.RetryPolicy{MaxAttempts: 1}, Limiters: r.Limiters})
		if err != nil {
			return nil, waitFor(v1.ReasonSecretNotFound, "the webhook URL in Secret %q key %q is not usable: %v", spec.Robot.WebhookSecretRef.Name, spec.Robot.WebhookSecretRef.Key, wecom.ErrInvalidRequest)
		}
		t := notify.Target{Scope: "robot|" + robotID(base, key), Name: "robot (Secret " + spec.Robot.WebhookSecretRef.Name + ")",
			Channel: "robot", Rules: notify.RobotRules, Everyone: true}
		return &delivery{channel: "robot", target: t, truncated: msg.Truncated,
			send: func(ctx context.Context) (*wecom.SendResult, error) { return nil, wh.Send(ctx, key, msg.Body) }}, nil
	}
	return nil, notify.ErrNoMessage
}

// robot reads a group robot's base URL and key from its Secret, which holds the key (the
// key= part of the webhook URL) or the whole webhook URL. With only a key, the base URL is
// the connectionRef's apiURL, else WeCom's.
func (r *NotificationReconciler) robot(ctx context.Context, n *v1.Notification) (base, key string, err error) {
	ref := n.Spec.Robot.WebhookSecretRef
	value, _, err := r.Connector.readSecret(ctx, n.Namespace, ref)
	if err != nil {
		return "", "", err
	}
	base, key, ok := parseWebhook(value)
	if !ok {
		return "", "", waitFor(v1.ReasonSecretNotFound, "Secret %q key %q holds neither a robot key nor a webhook URL with key=", ref.Name, ref.Key)
	}
	if base == "" && n.Spec.ConnectionRef != nil {
		conn := &v1.WeComConnection{}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: n.Spec.ConnectionRef.Name}, conn); err != nil {
			if apierrors.IsNotFound(err) {
				return "", "", waitFor(v1.ReasonConnectionNotReady, "WeComConnection %q not found in namespace %q", n.Spec.ConnectionRef.Name, n.Namespace)
			}
			return "", "", err
		}
		base = conn.Spec.APIURL
	}
	if base == "" {
		base = wecom.DefaultBaseURL
	}
	// The key travels in the URL's query: a webhook URL of the tenant's choosing would get it.
	if !r.Connector.Allowed.Allows(base) {
		return "", "", waitFor(v1.ReasonAPIURLNotAllowed,
			"the robot webhook in Secret %q key %q points at %s, which is not one of the WeCom API URLs this operator may call (%s), so nothing is sent to it; use a webhook URL there, or ask the operator's administrator to add it to the manager flag --allowed-api-urls (Helm value allowedAPIURLs)",
			ref.Name, ref.Key, webhookHost(base), r.Connector.Allowed)
	}
	return base, key, nil
}

// pacingWarmUp runs warmUp once the manager starts, as the leader like the controller, and
// then lets the reconciles go on.
type pacingWarmUp struct{ r *NotificationReconciler }

// Start implements manager.Runnable.
func (w pacingWarmUp) Start(ctx context.Context) error {
	defer close(w.r.warmed)
	w.r.warmUp(ctx)
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: only the leader sends, so
// only its pacer needs the history.
func (pacingWarmUp) NeedLeaderElection() bool { return true }

var _ manager.LeaderElectionRunnable = pacingWarmUp{}

// warmUp records in the pacer the sends of the last day found in Notification statuses, so
// that a restarted manager does not grant quota that its previous run already used.
func (r *NotificationReconciler) warmUp(ctx context.Context) {
	list := &v1.NotificationList{}
	if err := r.Client.List(ctx, list); err != nil {
		logf.FromContext(ctx).Error(err, "listing Notifications to restore quota pacing")
		return
	}
	since := time.Now().Add(-24 * time.Hour)
	for i := range list.Items {
		n := &list.Items[i]
		if in := n.Status.DeliveredIn; in != nil {
			// Folded: the sends are the leader's digests.
			if in.Notification == n.Name && n.Status.Fold != nil {
				r.warmDigests(ctx, n, since)
			}
			continue
		}
		at := n.Status.SentAt
		if at == nil && n.Status.Phase != v1.NotificationFailed && n.Status.Attempts > 0 {
			at = n.Status.LastAttemptTime // outcome unknown: assume it counted
		}
		if at == nil || at.Time.Before(since) {
			continue
		}
		if d, err := r.resolve(ctx, n); err == nil {
			r.Pacer.Record(d.target, at.Time)
		}
	}
}

// setupNotifications registers the Notification controller and the warm-up of its pacer. Its
// WeCom clients make exactly one HTTP request per attempt (the client's own retries are off),
// so that every request is claimed in the status first. They share the rate limiters of
// every other client, because WeCom counts calls per corp; group robot sends are paced by the
// Pacer instead, so the shared registry does not limit them.
func setupNotifications(mgr ctrl.Manager, o Options, shared *Connector, recorder events.EventRecorder) error {
	limiters := shared.Limiters
	if limiters == nil {
		limiters = wecom.DefaultLimiters // what the shared clients use then
	}
	limiters.SetEndpointLimit("webhook/send", wecom.RateLimit{PerSecond: -1})
	connector := &Connector{
		Client:     shared.Client,
		APIReader:  shared.APIReader,
		HTTPClient: shared.HTTPClient,
		Tokens:     shared.Tokens,
		Limiters:   limiters,
		Retry:      wecom.RetryPolicy{MaxAttempts: 1},
		Allowed:    shared.Allowed,
	}
	clock := o.NotificationClock
	if clock == nil {
		clock = notify.RealClock{}
	}
	wake := make(chan event.GenericEvent, 4096)
	wakeID := func(id string) {
		ns, name, _ := strings.Cut(id, "/")
		select {
		case wake <- event.GenericEvent{Object: &v1.Notification{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}}:
		default: // full: the waiter's own requeue brings it back
		}
	}
	pacer := &notify.Pacer{Wake: wakeID}
	r := &NotificationReconciler{
		Client:     mgr.GetClient(),
		Connector:  connector,
		Recorder:   recorder,
		Pacer:      pacer,
		Clock:      clock,
		HTTPClient: shared.HTTPClient,
		Limiters:   limiters,
		RetryBase:  o.NotificationRetryBase,
		warmed:     make(chan struct{}),
		wake:       wakeID,
	}
	if err := mgr.Add(pacingWarmUp{r}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.Notification{}, IndexCardTaskID, CardTaskIDs); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.Notification{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.Channel(wake, &handler.EnqueueRequestForObject{})).
		WithOptions(controllerOptions(o)).
		Named("notification").
		Complete(errorWins(r))
}

// interactiveCard completes a button_interaction card, which the shared renderer leaves as a
// notice card: its buttons and its task_id (the spec's, or one derived from the
// Notification). It returns the task_id, or "" for any other message.
func interactiveCard(n *v1.Notification, card *wecom.TemplateCard) string {
	spec := n.Spec.Message.TemplateCard
	if card == nil || spec == nil || spec.CardType != wecom.CardTypeButtonInteraction {
		return ""
	}
	card.ButtonList = card.ButtonList[:0]
	for _, b := range spec.ButtonList {
		card.ButtonList = append(card.ButtonList, wecom.CardButton{Type: int(b.Type), Text: b.Text, Style: int(b.Style), Key: b.Key, URL: b.URL})
	}
	card.TaskID = spec.TaskID
	if card.TaskID == "" {
		card.TaskID = alerting.TaskID(n.Namespace, n.Name, n.UID)
	}
	if card.CardAction != nil && card.CardAction.Type == 0 && card.CardAction.URL == "" && card.CardAction.AppID == "" {
		card.CardAction = nil
	}
	return card.TaskID
}

// resolvesCards says whether n, once sent, would tell of resolved alerts whose firing cards
// may be updated in place instead: a resolved Notification of an AlertReceiver with format
// Card.
func resolvesCards(n *v1.Notification) bool {
	return n.Spec.Alert != nil && n.Labels[v1.LabelAlertStatus] == alerting.StatusResolved &&
		n.Labels[v1.LabelAlertCard] != "" && n.Spec.Message.TemplateCard != nil && n.Spec.To != nil
}

// resolveCards updates the firing cards of n's alerts (the Sent Notifications with the same
// wecom.dev/alert-card label) in place with n's resolved card, each with its newest unused
// response code. It returns the cards that show the alerts resolved now, or none when any
// card could not be updated (no unused code within 72 h, or WeCom refused it): then n is
// sent as a message, as without cards. wait is set while a card of the alerts is still
// being sent.
//
// Each code is claimed (cleared in the card's status with an optimistic lock) before it is
// used, so no two reconciles use one code; a code claimed by a reconcile that then died is
// lost, and the resolved message is sent instead.
func (r *NotificationReconciler) resolveCards(ctx context.Context, n *v1.Notification, conn *Connection) (updated []string, wait bool, err error) {
	list := &v1.NotificationList{}
	reader := r.Connector.APIReader
	if reader == nil {
		reader = r.Client
	}
	if err := reader.List(ctx, list, client.InNamespace(n.Namespace), client.MatchingLabels{
		v1.LabelAlertCard: n.Labels[v1.LabelAlertCard], v1.LabelAlertStatus: alerting.StatusFiring}); err != nil {
		return nil, false, err
	}
	var cards []*v1.Notification
	for i := range list.Items {
		c := &list.Items[i]
		switch {
		case c.Spec.Alert == nil || c.Spec.Message.TemplateCard == nil || c.Spec.Message.TemplateCard.CardType != wecom.CardTypeButtonInteraction:
		case c.Status.Phase == v1.NotificationFailed:
		case c.Status.Phase != v1.NotificationSent:
			return nil, true, nil
		case c.Status.Card != nil && c.Status.Card.TaskID != "":
			cards = append(cards, c)
		}
	}
	if len(cards) == 0 {
		return nil, false, nil
	}
	rendered, err := notify.AppMessage(&n.Spec, conn.AgentID)
	if err != nil || rendered.Body.TemplateCard == nil {
		return nil, false, nil
	}
	all := true
	for _, c := range cards {
		ok, again, err := r.resolveCard(ctx, n, c, conn, rendered.Body.TemplateCard)
		if err != nil || again {
			return nil, again, err
		}
		if ok {
			updated = append(updated, c.Name)
		} else {
			all = false
		}
	}
	if !all {
		return nil, false, nil
	}
	return updated, false, nil
}

// resolveCard updates one card c with resolved (n's card). ok is false when c still shows
// its alerts firing.
func (r *NotificationReconciler) resolveCard(ctx context.Context, n, c *v1.Notification, conn *Connection, resolved *wecom.TemplateCard) (ok, again bool, err error) {
	cs := c.Status.Card
	if cs.ResolvedBy != "" {
		return true, false, nil
	}
	if cs.ResponseCode == "" || cs.ResponseCodeTime == nil || time.Since(cs.ResponseCodeTime.Time) >= responseCodeTTL {
		r.event(c, "Normal", EventCardUpdateSkipped, "ResolveCard",
			"The alerts resolved, but WeCom takes no update of this card any more (its response codes are used or over 72 hours old); "+n.Name+" is sent as a message instead")
		return false, false, nil
	}
	code := cs.ResponseCode
	before := c.DeepCopy()
	cs.ResponseCode, cs.ResponseCodeTime = "", nil
	if err := r.Client.Status().Patch(ctx, c, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return false, true, nil // a click changed it: read it again
		}
		return false, false, client.IgnoreNotFound(err)
	}

	card := *resolved
	card.TaskID = c.Status.Card.TaskID
	card.HorizontalContentList = slices.Clone(resolved.HorizontalContentList)
	if a := alerting.LastDone(c.Status.Actions); a != nil {
		row := wecom.CardHorizontal{KeyName: "Handled", Value: alerting.ActionText(*a, r.receiverLocation(ctx, c))}
		if len(card.HorizontalContentList) >= 6 {
			card.HorizontalContentList = card.HorizontalContentList[:5]
		}
		card.HorizontalContentList = append(card.HorizontalContentList, row)
	}
	callCtx, cancel := context.WithTimeout(ctx, sendTimeout)
	_, uerr := conn.Client.UpdateTemplateCard(callCtx, wecom.UpdateTemplateCardRequest{
		AtAll: true, AgentID: int(conn.AgentID), ResponseCode: code, TemplateCard: &card})
	cancel()
	if uerr != nil {
		r.event(c, "Warning", EventCardUpdateSkipped, "ResolveCard",
			"The alerts resolved, but WeCom refused to update this card: "+describe(uerr)+"; "+n.Name+" is sent as a message instead")
		return false, false, nil
	}
	before = c.DeepCopy()
	now := metav1.Now()
	c.Status.Card.ResolvedBy, c.Status.Card.ResolvedTime = n.Name, &now // the patch above replaced cs
	if err := r.Client.Status().Patch(ctx, c, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return false, false, err
	}
	r.event(c, "Normal", EventCardResolved, "ResolveCard", "The alerts resolved: the card now shows them resolved for every recipient ("+n.Name+")")
	return true, false, nil
}

// receiverLocation is the time zone of the AlertReceiver that made c, UTC when unknown.
func (r *NotificationReconciler) receiverLocation(ctx context.Context, c *v1.Notification) *time.Location {
	if c.Spec.Alert == nil {
		return time.UTC
	}
	rcv := &v1.AlertReceiver{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: c.Spec.Alert.Receiver}, rcv); err != nil {
		return time.UTC
	}
	loc, err := time.LoadLocation(ReceiverTimezone(rcv))
	if err != nil {
		return time.UTC
	}
	return loc
}
