package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/notify"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// goOnAlone is how soon a Notification released from a fold plan is sent on its own.
const goOnAlone = 10 * time.Millisecond

// EventFolded: a storm was folded into digests; the event is on the plan's leader.
const EventFolded = "Folded"

// Folding (docs/notifications.md, "Storms"). The leader is the Notification that got the
// quota slot when more foldable ones waited for its recipients than the window lets
// through. In order, and each step written before the next:
//
//  1. the plan (which Notifications go into which digest) in the leader's status.fold,
//     with an optimistic lock: the leader's claim;
//  2. status.deliveredIn on each other member, with an optimistic lock on its version as
//     read from the API server: a member that changed meanwhile (sent on its own, folded
//     elsewhere) is left out, and the plan is written again before anything is sent;
//  3. per digest: its attempt (claim), the send, its msgid; then the members' Sent.
//
// A restart resumes the recorded plan; a digest is a pure function of the plan and the
// members' immutable specs, so its resend is the same request and WeCom's duplicate check
// drops it. A member with deliveredIn never sends on its own while its leader lives.

// foldable says whether n may be folded (spec.fold, and nothing that a digest would lose).
func foldable(n *v1.Notification) bool {
	if n.Spec.Fold == nil || resolvesCards(n) {
		return false
	}
	if t := n.Spec.Message.Text; t != nil && (len(t.MentionedUsers) > 0 || len(t.MentionedMobiles) > 0) {
		return false
	}
	return true
}

// foldKey is equal for Notifications one digest may carry: same channel, recipients and
// connection, same safe, and text ones only with text ones.
func foldKey(n *v1.Notification) string {
	s := &n.Spec
	b, _ := json.Marshal([]any{n.Namespace, s.ConnectionRef, s.To, s.ChatRef, s.ChatID, s.Robot, s.Safe, s.Message.Text != nil})
	return string(b)
}

// mayJoin says whether m may join a fold plan of key: waiting, never attempted, in no plan.
func mayJoin(m *v1.Notification, key string) bool {
	return !finished(m) && m.DeletionTimestamp.IsZero() && foldable(m) && m.Status.Attempts == 0 &&
		m.Status.DeliveredIn == nil && m.Status.Fold == nil && foldKey(m) == key
}

// markedFor says whether m waits for leader's plan to deliver it.
func markedFor(m *v1.Notification, leader string) bool {
	return !finished(m) && m.Status.DeliveredIn != nil && m.Status.DeliveredIn.Notification == leader
}

// foldEntry is n's line in a digest.
func foldEntry(n *v1.Notification) notify.FoldEntry {
	e := notify.FoldEntry{}
	if f := n.Spec.Fold; f != nil {
		e = notify.FoldEntry{Severity: f.Severity, Title: f.Title, Summary: f.Summary, URL: f.URL}
	}
	if e.Title == "" {
		m := &n.Spec.Message
		switch {
		case m.Text != nil:
			e.Title = notify.FirstLine(m.Text.Content)
		case m.Markdown != nil:
			e.Title = notify.FirstLine(m.Markdown.Content)
		case m.TextCard != nil:
			e.Title = m.TextCard.Title
		case m.News != nil && len(m.News.Articles) > 0:
			e.Title = m.News.Articles[0].Title
		case m.TemplateCard != nil && m.TemplateCard.MainTitle != nil:
			e.Title = m.TemplateCard.MainTitle.Title
		}
	}
	if e.Title == "" {
		e.Title = n.Name
	}
	return e
}

// digestLimit is the content size WeCom accepts for the digest of n's channel.
func digestLimit(n *v1.Notification, markdown bool) int {
	switch {
	case n.Spec.Robot != nil && markdown:
		return notify.RobotMarkdownLimit
	case n.Spec.Robot != nil:
		return notify.RobotTextLimit
	case markdown:
		return notify.AppMarkdownLimit
	}
	return notify.AppTextLimit
}

func (r *NotificationReconciler) reader() client.Reader {
	if r.Connector != nil && r.Connector.APIReader != nil {
		return r.Connector.APIReader
	}
	return r.Client
}

func byAge(a, b *v1.Notification) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// maybeFold folds the storm n leads when more foldable Notifications wait for its
// recipients than the window has slots for, and sends the first digest with grant. folded
// is false when there is no storm: n is then sent on its own.
func (r *NotificationReconciler) maybeFold(ctx context.Context, n, before *v1.Notification, d *delivery, grant *notify.Grant, untilDeadline time.Duration) (folded bool, res ctrl.Result, err error) {
	if !foldable(n) || n.Status.Attempts > 0 {
		return false, ctrl.Result{}, nil
	}
	slots := r.Pacer.Free(d.target, r.Clock.Now()) + 1 // this grant's slot is ours
	key := foldKey(n)
	waiting := func(list *v1.NotificationList) []*v1.Notification {
		var out []*v1.Notification
		for i := range list.Items {
			m := &list.Items[i]
			if m.Name == n.Name || !mayJoin(m, key) {
				continue
			}
			out = append(out, m)
		}
		return out
	}
	// The cache first: most sends meet no storm, and need no read from the API server.
	cached := &v1.NotificationList{}
	if err := r.Client.List(ctx, cached, client.InNamespace(n.Namespace)); err != nil {
		return false, ctrl.Result{}, err
	}
	if len(waiting(cached))+1 <= slots {
		return false, ctrl.Result{}, nil
	}
	live := &v1.NotificationList{}
	if err := r.reader().List(ctx, live, client.InNamespace(n.Namespace)); err != nil {
		return false, ctrl.Result{}, err
	}
	others := waiting(live)
	if len(others)+1 <= slots {
		return false, ctrl.Result{}, nil
	}
	slices.SortFunc(others, byAge)
	members := append([]*v1.Notification{n}, others...)
	plan := packPlan(members, n, min(slots, v1.MaxFoldDigests))
	if len(plan.Digests) == 0 || len(plan.Digests[0].Members) < 2 {
		return false, ctrl.Result{}, nil
	}

	// 1. The plan, on the leader, with its optimistic lock.
	n.Status.Fold = plan
	n.Status.DeliveredIn = &v1.NotificationDeliveredIn{Notification: n.Name}
	notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFolded,
		fmt.Sprintf("Folding %d waiting messages into %d digest(s) to stay within WeCom's quota", planSize(plan), len(plan.Digests)))
	if err := r.Client.Status().Patch(ctx, n, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		grant.Requeue()
		if apierrors.IsConflict(err) {
			return true, ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
		}
		return true, ctrl.Result{}, client.IgnoreNotFound(err)
	}
	planned := n.DeepCopy()
	ctx, stop := finishing(ctx)
	defer stop()

	// 2. Each member's deliveredIn.
	byName := map[string]*v1.Notification{}
	for _, m := range others {
		byName[m.Name] = m
	}
	var dropped []string
	for _, dg := range plan.Digests {
		for _, name := range dg.Members {
			m := byName[name]
			if m == nil {
				continue
			}
			ok, err := r.markMember(ctx, m, n.Name, key)
			if err != nil {
				grant.Requeue()
				return true, ctrl.Result{}, err // resumed from the plan: marked members stay
			}
			if !ok {
				dropped = append(dropped, name)
				continue
			}
			r.Pacer.Forget(notificationKey(m))
		}
	}
	if len(dropped) > 0 {
		planned = r.dropMembers(ctx, planned, dropped)
		if planned == nil {
			grant.Requeue()
			return true, ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
		}
	}
	r.event(planned, "Normal", EventFolded, "Fold", fmt.Sprintf("%d messages waited for the same recipients and the window had %d slot(s): folded into %d digest(s)",
		planSize(planned.Status.Fold), slots, len(planned.Status.Fold.Digests)))
	notificationsFoldedTotal.WithLabelValues(d.channel).Add(float64(planSize(planned.Status.Fold)))
	res, err = r.runPlan(ctx, planned, d, grant, untilDeadline)
	return true, res, err
}

// markMember writes deliveredIn (leader) on m with an optimistic lock. A conflict is
// usually m's own reconcile saying it is held: m is read again from the API server and
// marked if it still waits, never sent, in no plan. ok is false when it is not marked.
func (r *NotificationReconciler) markMember(ctx context.Context, m *v1.Notification, leader, key string) (ok bool, err error) {
	for try := 0; try < 3; try++ {
		if try > 0 {
			if err := r.reader().Get(ctx, client.ObjectKeyFromObject(m), m); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			if markedFor(m, leader) {
				return true, nil // marked already (a resumed plan, or a write this cache has not seen)
			}
			if !mayJoin(m, key) {
				return false, nil
			}
		}
		before := m.DeepCopy()
		m.Status.DeliveredIn = &v1.NotificationDeliveredIn{Notification: leader}
		notificationCondition(m, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFolded, "Folded into a digest that "+leader+" sends")
		err := r.Client.Status().Patch(ctx, m, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			return true, nil
		case apierrors.IsNotFound(err):
			return false, nil
		case !apierrors.IsConflict(err):
			return false, err
		}
	}
	return false, nil
}

// dropMembers writes the plan again without names; nil when it could not.
func (r *NotificationReconciler) dropMembers(ctx context.Context, n *v1.Notification, names []string) *v1.Notification {
	before := n.DeepCopy()
	var digests []v1.NotificationDigest
	for _, dg := range n.Status.Fold.Digests {
		dg.Members = slices.DeleteFunc(slices.Clone(dg.Members), func(s string) bool { return slices.Contains(names, s) })
		if len(dg.Members) > 0 {
			digests = append(digests, dg)
		}
	}
	n.Status.Fold.Digests = digests
	if err := r.Client.Status().Patch(ctx, n, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil
	}
	return n
}

// packPlan packs members, in order, into at most slots digests.
func packPlan(members []*v1.Notification, leader *v1.Notification, slots int) *v1.NotificationFoldPlan {
	markdown := leader.Spec.Message.Text == nil
	entries := make([]notify.FoldEntry, len(members))
	for i, m := range members {
		entries[i] = foldEntry(m)
	}
	packed := notify.PackDigests(entries, markdown, digestLimit(leader, markdown), slots, v1.MaxDigestEntries)
	plan := &v1.NotificationFoldPlan{PlannedAt: metav1.Now()}
	i := 0
	for _, dg := range packed {
		names := make([]string, len(dg))
		for j := range dg {
			names[j] = members[i].Name
			i++
		}
		plan.Digests = append(plan.Digests, v1.NotificationDigest{Members: names})
	}
	return plan
}

func planSize(p *v1.NotificationFoldPlan) int {
	n := 0
	for _, dg := range p.Digests {
		n += len(dg.Members)
	}
	return n
}

// runPlan sends the digests of n's plan not sent yet, one quota slot each, and finishes
// their members. grant, when set, is the slot for the first.
func (r *NotificationReconciler) runPlan(ctx context.Context, n *v1.Notification, d *delivery, grant *notify.Grant, untilDeadline time.Duration) (ctrl.Result, error) {
	id := notificationKey(n)
	total := planSize(n.Status.Fold)
	// Every status write replaces n.Status: the plan is read from n each time.
	for i := 0; i < len(n.Status.Fold.Digests); i++ {
		dg := n.Status.Fold.Digests[i]
		if dg.SentAt != nil || dg.Failed {
			if err := r.finishMembers(ctx, n, i); err != nil {
				return ctrl.Result{}, err
			}
			continue
		}
		if grant == nil {
			dec := r.Pacer.Acquire(id, notify.Order{Created: n.CreationTimestamp.Time, Name: id}, d.target, r.Clock.Now())
			if dec.Grant == nil {
				return r.hold(ctx, n, n.DeepCopy(), d, dec, untilDeadline)
			}
			grant = dec.Grant
		}
		res, done, err := r.sendDigest(ctx, n, i, total, grant, untilDeadline)
		grant = nil
		if err != nil || !done {
			return res, err
		}
		if err := r.finishMembers(ctx, n, i); err != nil {
			return ctrl.Result{}, err
		}
	}
	if grant != nil {
		grant.Cancel()
	}
	before := n.DeepCopy()
	plan := n.Status.Fold
	first := plan.Digests[0]
	if first.SentAt == nil {
		// The leader's own digest failed for good: it goes on on its own, as its members do.
		n.Status.DeliveredIn = nil
		notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPending, "The digest of this message failed; sending it on its own")
		return ctrl.Result{RequeueAfter: goOnAlone}, r.patchStatus(ctx, n, before)
	}
	n.Status.MsgID = first.MsgID
	n.Status.DeliveredIn = &v1.NotificationDeliveredIn{Notification: n.Name, Digest: 1, Digests: int32(len(plan.Digests)), MsgID: first.MsgID}
	r.finish(n, v1.NotificationSent, v1.ReasonFolded, deliveredText(n.Name, 1, len(plan.Digests), first.MsgID))
	n.Status.SentAt = first.SentAt.DeepCopy()
	return r.writeFinal(ctx, n, before, d.channel)
}

func deliveredText(leader string, i, k int, msgID string) string {
	s := fmt.Sprintf("Delivered in digest %d/%d of the fold plan of %s", i, k, leader)
	if msgID != "" {
		s += " (msgid " + msgID + ")"
	}
	return s
}

// sendDigest claims, sends and records digest i of n's plan. done is false when it is to
// be tried again (res says when).
func (r *NotificationReconciler) sendDigest(ctx context.Context, n *v1.Notification, i, total int, grant *notify.Grant, untilDeadline time.Duration) (res ctrl.Result, done bool, err error) {
	defer func() { grant.Done(r.Clock.Now()) }()
	plan := n.Status.Fold
	k := len(plan.Digests)
	members := make([]*v1.Notification, 0, len(plan.Digests[i].Members))
	for _, name := range plan.Digests[i].Members {
		m := &v1.Notification{}
		if name == n.Name {
			m = n
		} else if err := r.Client.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: name}, m); err != nil {
			if !apierrors.IsNotFound(err) {
				grant.Requeue()
				return ctrl.Result{}, false, err
			}
			// Deleted by hand: its spec is gone; its line names it.
			m = &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: name}}
		}
		members = append(members, m)
	}
	if plan.Digests[i].Attempts == 0 {
		// Never tried: its members may not all be marked yet (the process that wrote the
		// plan stopped while marking them, or could not drop the ones it could not mark).
		// Those that cannot be marked now (sent on their own, folded elsewhere) leave the
		// plan before anything is sent, or they would be delivered twice.
		var dropped []string
		for _, m := range members {
			if m == n || m.CreationTimestamp.IsZero() {
				continue
			}
			if markedFor(m, n.Name) {
				continue
			}
			ok := false
			if mayJoin(m, foldKey(n)) {
				if ok, err = r.markMember(ctx, m, n.Name, foldKey(n)); err != nil {
					grant.Requeue()
					return ctrl.Result{}, false, err
				}
			}
			if !ok {
				dropped = append(dropped, m.Name)
			}
		}
		if len(dropped) > 0 {
			grant.Requeue()
			if r.dropMembers(ctx, n, dropped) == nil {
				return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, false, nil
			}
			return ctrl.Result{RequeueAfter: goOnAlone}, false, nil // the plan changed: start over
		}
	}
	markdown := n.Spec.Message.Text == nil
	entries := make([]notify.FoldEntry, len(members))
	for j, m := range members {
		entries[j] = foldEntry(m)
	}
	content := notify.RenderDigest(entries, i+1, k, total, markdown)
	digest := n.DeepCopy()
	digest.Spec.Message = v1.Message{}
	digest.Spec.Alert, digest.Spec.Fold = nil, nil
	if markdown {
		digest.Spec.Message.Markdown = &v1.MarkdownMessage{Content: content}
	} else {
		digest.Spec.Message.Text = &v1.TextMessage{Content: content}
	}
	dd, err := r.resolve(ctx, digest)
	if err != nil {
		grant.Requeue()
		return ctrl.Result{RequeueAfter: min(dependencyRecheck, untilDeadline)}, false, nil
	}

	// The claim.
	before := n.DeepCopy()
	dg := &plan.Digests[i]
	dg.Attempts++
	dg.LastAttemptTime = &metav1.Time{Time: time.Now()}
	n.Status.LastAttemptTime = dg.LastAttemptTime.DeepCopy()
	notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFolded, fmt.Sprintf("Sending digest %d/%d, attempt %d", i+1, k, dg.Attempts))
	if err := r.Client.Status().Patch(ctx, n, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		grant.Requeue()
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, false, nil
		}
		return ctrl.Result{}, false, client.IgnoreNotFound(err)
	}
	claimed := n.DeepCopy()
	ctx, stop := finishing(ctx)
	defer stop()

	sendCtx, cancel := context.WithTimeout(ctx, min(sendTimeout, untilDeadline))
	result, sendErr := dd.send(sendCtx)
	cancel()
	if sendErr != nil && !wecom.IsAmbiguous(sendErr) && !isDecodeError(sendErr) {
		grant.Cancel()
	} else {
		grant.Done(r.Clock.Now())
	}
	r.stalled.record(dd.target.Scope, sendErr == nil)
	dg = &n.Status.Fold.Digests[i]
	switch {
	case sendErr == nil:
		notificationAttemptsTotal.WithLabelValues(dd.channel, "ok").Inc()
		now := metav1.Now()
		dg.SentAt = &now
		if result != nil {
			dg.MsgID = result.MsgID
		}
		done = true
	case wecom.IsRetryable(sendErr) || wecom.IsCredential(sendErr) || wecom.IsAmbiguous(sendErr) || isDecodeError(sendErr) || !wecom.IsTerminal(sendErr):
		notificationAttemptsTotal.WithLabelValues(dd.channel, "retry").Inc()
		n.Status.LastErrorCode = wecom.Code(sendErr)
		delay := min(r.backoff(dg.Attempts), untilDeadline)
		msg := fmt.Sprintf("Digest %d/%d, attempt %d failed: %s; retrying in %s", i+1, k, dg.Attempts, describe(sendErr), delay.Round(time.Millisecond))
		notificationCondition(n, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonRetrying, msg)
		r.event(n, "Warning", EventSendRetrying, "Send", msg)
		res = ctrl.Result{RequeueAfter: delay}
	default:
		notificationAttemptsTotal.WithLabelValues(dd.channel, "failed").Inc()
		n.Status.LastErrorCode = wecom.Code(sendErr)
		dg.Failed = true
		r.event(n, "Warning", EventSendFailed, "Send", fmt.Sprintf("WeCom refused digest %d/%d: %s; its messages are sent on their own", i+1, k, describe(sendErr)))
		done = true
	}
	if err := r.Client.Status().Patch(ctx, n, client.MergeFrom(claimed)); err != nil {
		return ctrl.Result{}, false, client.IgnoreNotFound(err)
	}
	return res, done, nil
}

// finishMembers writes the outcome of digest i of n's plan to its members (not n): Sent
// with deliveredIn, or, when the digest failed, free to go on their own.
func (r *NotificationReconciler) finishMembers(ctx context.Context, n *v1.Notification, i int) error {
	plan := n.Status.Fold
	dg := plan.Digests[i]
	for _, name := range dg.Members {
		if name == n.Name {
			continue
		}
		m := &v1.Notification{}
		if err := r.reader().Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: name}, m); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return err
		}
		if err := r.finishMember(ctx, m, n.Name, i, dg, len(plan.Digests)); err != nil {
			return err
		}
	}
	return nil
}

// finishMember records the outcome of digest i (of k, led by leader) on its member m.
func (r *NotificationReconciler) finishMember(ctx context.Context, m *v1.Notification, leader string, i int, dg v1.NotificationDigest, k int) error {
	if finished(m) || m.Status.DeliveredIn == nil || m.Status.DeliveredIn.Notification != leader {
		return nil
	}
	before := m.DeepCopy()
	if dg.Failed {
		m.Status.DeliveredIn = nil
		notificationCondition(m, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPending, "Its digest was refused by WeCom; sending it on its own")
		if err := r.Client.Status().Patch(ctx, m, client.MergeFrom(before)); err != nil {
			return client.IgnoreNotFound(err)
		}
		if r.wake != nil {
			r.wake(notificationKey(m))
		}
		return nil
	}
	m.Status.DeliveredIn = &v1.NotificationDeliveredIn{Notification: leader, Digest: int32(i + 1), Digests: int32(k), MsgID: dg.MsgID}
	m.Status.MsgID = dg.MsgID
	r.finish(m, v1.NotificationSent, v1.ReasonFolded, deliveredText(leader, i+1, k, dg.MsgID))
	m.Status.SentAt = dg.SentAt.DeepCopy()
	// Locked: the leader and the member itself may both finish it; one counts it.
	if err := r.Client.Status().Patch(ctx, m, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return client.IgnoreNotFound(ignoreConflict(err))
	}
	channel := notificationChannel(&m.Spec)
	notificationsTotal.WithLabelValues(channel, string(v1.NotificationSent)).Inc()
	notificationLatency.WithLabelValues(channel).Observe(m.Status.SentAt.Sub(m.CreationTimestamp.Time).Seconds())
	r.Pacer.Forget(notificationKey(m))
	return nil
}

// reconcileFolded handles a member whose digest another Notification (its leader) sends:
// it never sends on its own while the leader's plan holds it. It finishes itself when the
// leader recorded the digest but died before writing the members, and goes on on its own
// when the leader is gone or finished without it.
func (r *NotificationReconciler) reconcileFolded(ctx context.Context, m, before *v1.Notification) (ctrl.Result, error) {
	r.Pacer.Forget(notificationKey(m))
	leaderName := m.Status.DeliveredIn.Notification
	leader := &v1.Notification{}
	err := r.reader().Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: leaderName}, leader)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	if err == nil && leader.Status.Fold != nil {
		for i, dg := range leader.Status.Fold.Digests {
			if !slices.Contains(dg.Members, m.Name) {
				continue
			}
			if dg.SentAt != nil {
				return ctrl.Result{}, r.finishMember(ctx, m, leaderName, i, dg, len(leader.Status.Fold.Digests))
			}
			if dg.Failed {
				return ctrl.Result{RequeueAfter: goOnAlone}, r.finishMember(ctx, m, leaderName, i, dg, len(leader.Status.Fold.Digests))
			}
			if !finished(leader) {
				// The leader sends it; its status write wakes this one.
				return ctrl.Result{RequeueAfter: 5 * time.Second}, r.patchStatus(ctx, m, before)
			}
		}
	}
	// Not in a live plan (the leader was deleted, failed, or dropped it before sending).
	m.Status.DeliveredIn = nil
	notificationCondition(m, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPending, "Its fold plan's leader "+leaderName+" no longer sends it; sending it on its own")
	if err := r.Client.Status().Patch(ctx, m, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, client.IgnoreNotFound(client.IgnoreAlreadyExists(ignoreConflict(err)))
	}
	return ctrl.Result{RequeueAfter: goOnAlone}, nil
}

func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// leadsPlan says whether n leads a fold plan still being sent.
func leadsPlan(n *v1.Notification) bool {
	return n.Status.Fold != nil && n.Status.DeliveredIn != nil && n.Status.DeliveredIn.Notification == n.Name
}

// warmDigests records the digests n's plan sent (or may have sent) since since in the pacer.
func (r *NotificationReconciler) warmDigests(ctx context.Context, n *v1.Notification, since time.Time) {
	d, err := r.resolve(ctx, n)
	if err != nil {
		return
	}
	for _, dg := range n.Status.Fold.Digests {
		at := dg.SentAt
		if at == nil && !dg.Failed && dg.Attempts > 0 {
			at = dg.LastAttemptTime // outcome unknown: assume it counted
		}
		if at != nil && at.Time.After(since) {
			r.Pacer.Record(d.target, at.Time)
		}
	}
}
