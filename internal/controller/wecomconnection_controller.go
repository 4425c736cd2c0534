package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Field indexes for finding dependants without listing everything.
const (
	indexConnection = "spec.connectionRef.name"
	indexSecret     = "spec.secretRef.name"
	// indexCallbackSecret finds the connections whose callbacks use a Secret.
	indexCallbackSecret = "spec.callback.secretRef.name"
	// IndexExternalID finds WeComUsers, WeComDepartments and WeComTags by their WeCom id
	// (userid in lower case, department or tag id in decimal), from the status or the
	// external-name annotation: a WeCom callback names the object it concerns this way.
	IndexExternalID = "wecom.dev/external-id"
	// IndexWayState finds the ContactWay whose state a customer's add_external_contact
	// callback carries.
	IndexWayState = "wecom.dev/contact-way-state"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomconnections,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomconnections/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// InUseFinalizer keeps a deleted WeComConnection until the objects that use it are gone.
const InUseFinalizer = "wecom.dev/in-use"

// Event reasons of WeComConnection.
const (
	EventUntrustedIP         = "UntrustedIP"
	EventCredentialsAccepted = "CredentialsAccepted"
	EventCredentialsRefused  = "CredentialsRefused"
	EventCalendarCreated     = "CalendarCreated"
)

// Annotations of WeComConnection for the calendar the operator creates for Schedules.
const (
	// AnnotationCalendarID holds the cal_id of that calendar; set by hand, it binds an
	// existing calendar of the connection's app instead.
	AnnotationCalendarID = "wecom.dev/calendar-id"
	// AnnotationCalendarCreatePending is set while oa/calendar/add is in flight.
	AnnotationCalendarCreatePending = "wecom.dev/calendar-create-pending"
)

// operatorCalendarColor is the colour of the calendar the operator creates.
const operatorCalendarColor = "#3F51B5"

// ConnectionReconciler checks that a WeComConnection's credentials get an access token.
type ConnectionReconciler struct {
	Client        client.Client
	Connector     *Connector
	Recorder      events.EventRecorder
	CheckInterval time.Duration
}

// Reconcile fetches (or reuses) a token with the connection's Secret and reports the result.
func (r *ConnectionReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	conn := &v1.WeComConnection{}
	if err := r.Client.Get(ctx, req.NamespacedName, conn); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !conn.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, conn)
	}
	if !controllerutil.ContainsFinalizer(conn, InUseFinalizer) {
		orig := conn.DeepCopy()
		controllerutil.AddFinalizer(conn, InUseFinalizer)
		if err := r.Client.Patch(ctx, conn, client.MergeFrom(orig)); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
	}
	before := conn.DeepCopy()
	res, err := r.check(ctx, conn)
	if cerr := r.checkCallback(ctx, conn); cerr != nil {
		err = errors.Join(err, cerr)
	}
	conn.Status.ObservedGeneration = conn.Generation
	now := metav1.Now()
	conn.Status.LastCheckedTime = &now
	if perr := r.Client.Status().Patch(ctx, conn, client.MergeFrom(before)); perr != nil && !apierrors.IsNotFound(perr) {
		return reconcile.Result{}, errors.Join(err, perr)
	}
	return res, err
}

// inUseRecheck is how often a deleted connection that is still in use looks for its users
// again; their deletions usually bring it back sooner.
const inUseRecheck = 30 * time.Second

// reconcileDelete keeps a deleted connection, with the finalizer InUseFinalizer, until no
// object that needs it to delete its WeCom counterpart is left (what crossplane's
// ProviderConfig usage tracking does). In a namespace being deleted, the namespace controller
// deletes the connection as early as its users; without this they could not delete from WeCom.
func (r *ConnectionReconciler) reconcileDelete(ctx context.Context, conn *v1.WeComConnection) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(conn, InUseFinalizer) {
		return reconcile.Result{}, nil
	}
	users, err := connectionUsers(ctx, r.Client, conn.Namespace, conn.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	if len(users) == 0 {
		orig := conn.DeepCopy()
		controllerutil.RemoveFinalizer(conn, InUseFinalizer)
		return reconcile.Result{}, client.IgnoreNotFound(r.Client.Patch(ctx, conn, client.MergeFrom(orig)))
	}
	before := conn.DeepCopy()
	shown := users[:min(len(users), 5)]
	msg := fmt.Sprintf("Deleted, and kept until the %d objects that use it have deleted or released their WeCom objects: %s", len(users), strings.Join(shown, ", "))
	if len(users) > len(shown) {
		msg += ", …"
	}
	meta.SetStatusCondition(&conn.Status.Conditions, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: v1.ReasonInUse, Message: msg, ObservedGeneration: conn.Generation})
	if err := r.Client.Status().Patch(ctx, conn, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: inUseRecheck}, nil
}

// connectionUsers names ("Kind/name") the objects in namespace that use the connection name
// (connectionRef, or a WeComUser's offboarding.connectionRef: see connectionNames) and still
// hold Finalizer: those that may need it to delete from WeCom.
func connectionUsers(ctx context.Context, c client.Client, namespace, name string) ([]string, error) {
	var out []string
	for _, k := range connectionUserKinds {
		list := k.list()
		if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{indexConnection: name}); err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			o := it.(client.Object)
			if controllerutil.ContainsFinalizer(o, Finalizer) {
				out = append(out, kindOf(o)+"/"+o.GetName())
			}
		}
	}
	return out, nil
}

// connectionUserKinds are the kinds that use a connection and hold Finalizer: every
// v1.Managed kind (TestConnectionUserKindsAreEveryManagedKind).
var connectionUserKinds = []struct {
	object func() client.Object
	list   func() client.ObjectList
}{
	{func() client.Object { return &v1.WeComDepartment{} }, func() client.ObjectList { return &v1.WeComDepartmentList{} }},
	{func() client.Object { return &v1.WeComUser{} }, func() client.ObjectList { return &v1.WeComUserList{} }},
	{func() client.Object { return &v1.WeComTag{} }, func() client.ObjectList { return &v1.WeComTagList{} }},
	{func() client.Object { return &v1.WeComAppChat{} }, func() client.ObjectList { return &v1.WeComAppChatList{} }},
	{func() client.Object { return &v1.ContactWay{} }, func() client.ObjectList { return &v1.ContactWayList{} }},
	{func() client.Object { return &v1.Schedule{} }, func() client.ObjectList { return &v1.ScheduleList{} }},
	{func() client.Object { return &v1.WeComApp{} }, func() client.ObjectList { return &v1.WeComAppList{} }},
	{func() client.Object { return &v1.WeComCalendar{} }, func() client.ObjectList { return &v1.WeComCalendarList{} }},
	{func() client.Object { return &v1.CustomerTagGroup{} }, func() client.ObjectList { return &v1.CustomerTagGroupList{} }},
	{func() client.Object { return &v1.GroupWelcomeTemplate{} }, func() client.ObjectList { return &v1.GroupWelcomeTemplateList{} }},
}

func (r *ConnectionReconciler) check(ctx context.Context, conn *v1.WeComConnection) (reconcile.Result, error) {
	set := func(status metav1.ConditionStatus, reason, msg string) {
		for _, t := range []string{v1.ConditionReady, v1.ConditionSynced} {
			meta.SetStatusCondition(&conn.Status.Conditions, metav1.Condition{
				Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: conn.Generation,
			})
		}
	}
	c, err := r.Connector.connect(ctx, conn, false)
	var dep *dependencyError
	if errors.As(err, &dep) {
		set(metav1.ConditionFalse, dep.reason, dep.msg)
		return reconcile.Result{}, nil // the Secret watch brings us back
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	conn.Status.SecretVersion = c.SecretVersion
	wasReady := meta.IsStatusConditionTrue(conn.Status.Conditions, v1.ConditionReady)
	switch err := c.Client.CheckCredentials(ctx); {
	case err == nil:
		// gettoken does not check the app's trusted IPs (企业可信IP); every other call does.
		// One cheap read shows a 60020 here, where a person looks first, instead of only on
		// the objects that use the connection.
		if _, perr := c.Client.SimpleListDepartments(ctx, 0); wecom.Code(perr) == wecom.ErrCodeUntrustedIP {
			msg := describe(perr)
			set(metav1.ConditionFalse, v1.ReasonUntrustedIP, msg)
			r.Recorder.Eventf(conn, nil, "Warning", EventUntrustedIP, "CheckCredentials", "%s", msg)
			return reconcile.Result{RequeueAfter: jitter(r.CheckInterval)}, nil
		}
		set(metav1.ConditionTrue, v1.ReasonAvailable, "An access token was issued for these credentials")
		if !wasReady {
			r.Recorder.Eventf(conn, nil, "Normal", EventCredentialsAccepted, "CheckCredentials", "WeCom issued an access token")
		}
		if err := r.ensureCalendar(ctx, conn, c); err != nil {
			var incomplete *errCreateUnrecoverable
			if errors.As(err, &incomplete) {
				msg := incomplete.how
				meta.SetStatusCondition(&conn.Status.Conditions, metav1.Condition{Type: v1.ConditionSynced, Status: metav1.ConditionFalse,
					Reason: v1.ReasonCreateIncomplete, Message: msg, ObservedGeneration: conn.Generation})
				r.Recorder.Eventf(conn, nil, "Warning", EventCreateIncomplete, "CreateCalendar", "%s", msg)
				return reconcile.Result{RequeueAfter: jitter(r.CheckInterval)}, nil
			}
			if apierrors.IsConflict(err) {
				return reconcile.Result{RequeueAfter: conflictRetry}, nil
			}
			meta.SetStatusCondition(&conn.Status.Conditions, metav1.Condition{Type: v1.ConditionSynced, Status: metav1.ConditionFalse,
				Reason: v1.ReasonRetrying, Message: "creating the calendar for Schedules: " + describe(err), ObservedGeneration: conn.Generation})
			return reconcile.Result{}, err
		}
		return reconcile.Result{RequeueAfter: jitter(r.CheckInterval)}, nil
	case wecom.IsCredential(err) || wecom.IsTerminal(err):
		msg := describe(err)
		// A wrong apiURL (HTTP 404, a reply that is not WeCom's) is not a credential problem.
		reason := v1.ReasonCredentialsInvalid
		if !wecom.IsCredential(err) {
			reason = v1.ReasonWeComRejected
		}
		set(metav1.ConditionFalse, reason, msg)
		r.Recorder.Eventf(conn, nil, "Warning", EventCredentialsRefused, "CheckCredentials", "%s", msg)
		// Not retried until the connection or its Secret changes (or a slow safety check):
		// WeCom bans an IP for an hour after repeated wrong secrets.
		return reconcile.Result{RequeueAfter: jitter(r.CheckInterval)}, nil
	default:
		set(metav1.ConditionFalse, v1.ReasonRetrying, describe(err)+"; retrying with backoff")
		return reconcile.Result{}, err
	}
}

// ensureCalendar gives a connection with a self-built app the calendar that its Schedules
// without spec.calendarID go into, once one needs it. The create is guarded like every
// other: the pending mark is written with an optimistic lock first, and a create whose
// reply was lost is never repeated (WeCom cannot list calendars, so it cannot be found).
func (r *ConnectionReconciler) ensureCalendar(ctx context.Context, conn *v1.WeComConnection, c *Connection) error {
	if conn.Spec.AgentID == nil {
		return nil
	}
	if id := conn.Annotations[AnnotationCalendarID]; id != "" {
		conn.Status.CalendarID = id
		return nil
	}
	if conn.Status.CalendarID != "" {
		// Recorded by a create whose annotation patch failed: record it now.
		return r.patchConnMeta(ctx, conn, false, func(a map[string]string) {
			a[AnnotationCalendarID] = conn.Status.CalendarID
			delete(a, AnnotationCalendarCreatePending)
		})
	}
	if need, err := r.needsCalendar(ctx, conn); err != nil || !need {
		return err
	}
	if conn.Annotations[AnnotationCalendarCreatePending] != "" {
		return &errCreateUnrecoverable{how: fmt.Sprintf(
			"The reply of the oa/calendar/add call for Schedules without spec.calendarID was lost, and WeCom cannot list calendars to find it. Set the annotation %s to its cal_id if you know it (WeCom's admin console shows the app's calendars), or remove the annotation %s to create it again",
			AnnotationCalendarID, AnnotationCalendarCreatePending)}
	}
	if err := r.patchConnMeta(ctx, conn, true, func(a map[string]string) {
		a[AnnotationCalendarCreatePending] = time.Now().UTC().Format(time.RFC3339Nano)
	}); err != nil {
		return err
	}
	res, err := c.Client.AddCalendar(ctx, wecom.Calendar{
		Summary:     truncateRunes("Kubernetes "+conn.Namespace+"/"+conn.Name, 128),
		Color:       operatorCalendarColor,
		Description: "Schedules that wecom-operator keeps in line with Schedule objects of WeComConnection " + conn.Namespace + "/" + conn.Name + ".",
	})
	if err != nil {
		if !wecom.IsAmbiguous(err) {
			if perr := r.patchConnMeta(ctx, conn, false, func(a map[string]string) { delete(a, AnnotationCalendarCreatePending) }); perr != nil {
				return errors.Join(err, perr)
			}
		}
		return err
	}
	conn.Status.CalendarID = res.CalID
	r.Recorder.Eventf(conn, nil, "Normal", EventCalendarCreated, "CreateCalendar", "Created calendar %s for Schedules without spec.calendarID", res.CalID)
	return r.patchConnMeta(ctx, conn, false, func(a map[string]string) {
		a[AnnotationCalendarID] = res.CalID
		delete(a, AnnotationCalendarCreatePending)
	})
}

// needsCalendar says whether a Schedule of the connection is waiting to be created without
// a spec.calendarID.
func (r *ConnectionReconciler) needsCalendar(ctx context.Context, conn *v1.WeComConnection) (bool, error) {
	list := &v1.ScheduleList{}
	if err := r.Client.List(ctx, list, client.InNamespace(conn.Namespace), client.MatchingFields{indexConnection: conn.Name}); err != nil {
		return false, err
	}
	for _, s := range list.Items {
		if needsOperatorCalendar(&s) {
			return true, nil
		}
	}
	return false, nil
}

// needsOperatorCalendar says whether s waits for its connection's calendar to be created.
func needsOperatorCalendar(s *v1.Schedule) bool {
	return s.Spec.CalendarID == "" && s.Spec.CalendarRef == nil && s.Status.ScheduleID == "" && s.DeletionTimestamp.IsZero()
}

// patchConnMeta changes the connection's annotations, keeping its status in memory.
func (r *ConnectionReconciler) patchConnMeta(ctx context.Context, conn *v1.WeComConnection, optimistic bool, mutate func(map[string]string)) error {
	orig := conn.DeepCopy()
	a := conn.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	mutate(a)
	conn.SetAnnotations(a)
	patch := client.MergeFrom(orig)
	if optimistic {
		patch = client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	}
	status := conn.Status.DeepCopy()
	if err := r.Client.Patch(ctx, conn, patch); err != nil {
		return err
	}
	conn.Status = *status
	return nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// SetupWithManager watches connections and the metadata of the Secrets they use.
// checkCallback reports in status.callback whether the callback Secret holds a Token and
// EncodingAESKey WeCom would accept. lastReceivedTime is the receiver's (internal/receiver),
// kept while the callback stays configured.
func (r *ConnectionReconciler) checkCallback(ctx context.Context, conn *v1.WeComConnection) error {
	cb := conn.Spec.Callback
	if cb == nil {
		conn.Status.Callback = nil
		return nil
	}
	st := conn.Status.Callback
	if st == nil {
		st = &v1.CallbackStatus{}
		conn.Status.Callback = st
	}
	st.Path = CallbackPath(conn.Namespace, conn.Name)
	_, err := CallbackCrypto(ctx, r.Connector, conn)
	if reason, msg, waiting := IsWaiting(err); waiting {
		st.Configured, st.Message, st.LastReceivedTime = false, reason+": "+msg, nil
		return nil
	}
	if err != nil {
		return err
	}
	st.Configured, st.Message = true, ""
	return nil
}

// CallbackCrypto reads the connection's callback Token and EncodingAESKey and returns what
// verifies and decrypts its callbacks. An error that IsWaiting says what is missing or wrong.
func CallbackCrypto(ctx context.Context, c *Connector, conn *v1.WeComConnection) (*wecom.CallbackCrypto, error) {
	cb := conn.Spec.Callback
	if cb == nil {
		return nil, waitFor(v1.ReasonCallbackNotConfigured, "WeComConnection %q has no spec.callback", conn.Name)
	}
	tokenKey, aesKey := cmp.Or(cb.TokenKey, "token"), cmp.Or(cb.EncodingAESKeyKey, "encodingAESKey")
	token, _, err := c.readSecret(ctx, conn.Namespace, v1.SecretKeySelector{Name: cb.SecretRef.Name, Key: tokenKey})
	if err != nil {
		return nil, err
	}
	key, _, err := c.readSecret(ctx, conn.Namespace, v1.SecretKeySelector{Name: cb.SecretRef.Name, Key: aesKey})
	if err != nil {
		return nil, err
	}
	crypto, err := wecom.NewCallbackCrypto(strings.TrimSpace(token), strings.TrimSpace(key), conn.Spec.CorpID)
	if err != nil {
		// The error names what is wrong with the value, never the value.
		return nil, waitFor(v1.ReasonCallbackNotConfigured, "Secret %q: %v; copy the Token and EncodingAESKey from the callback settings (接收事件服务器) in WeCom's admin console", cb.SecretRef.Name, err)
	}
	return crypto, nil
}

func (r *ConnectionReconciler) SetupWithManager(mgr ctrl.Manager, o Options) error {
	secretToConnections := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return append(dependants(ctx, r.Client, &v1.WeComConnectionList{}, obj.GetNamespace(), indexSecret, obj.GetName()),
			dependants(ctx, r.Client, &v1.WeComConnectionList{}, obj.GetNamespace(), indexCallbackSecret, obj.GetName())...)
	})
	// A Schedule that needs the connection's calendar wakes the connection, once: a
	// connection that has its calendar (or is making it) is not checked again for it.
	scheduleToConnection := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		s := obj.(*v1.Schedule)
		if !needsOperatorCalendar(s) {
			return nil
		}
		key := types.NamespacedName{Namespace: s.Namespace, Name: s.Spec.ConnectionRef.Name}
		conn := &v1.WeComConnection{}
		if err := r.Client.Get(ctx, key, conn); err != nil || conn.Status.CalendarID != "" ||
			conn.Annotations[AnnotationCalendarID] != "" || conn.Annotations[AnnotationCalendarCreatePending] != "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: key}}
	})
	// A user that let go of its WeCom object wakes its connection, if that was deleted and
	// waits for its users; a connection in service is not checked again for it.
	userToDeletedConnection := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		var out []reconcile.Request
		for _, name := range connectionNames(obj) {
			key := types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}
			conn := &v1.WeComConnection{}
			if err := r.Client.Get(ctx, key, conn); err == nil && !conn.DeletionTimestamp.IsZero() {
				out = append(out, reconcile.Request{NamespacedName: key})
			}
		}
		return out
	})
	releasedFinalizer := predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return controllerutil.ContainsFinalizer(e.ObjectOld, Finalizer) && !controllerutil.ContainsFinalizer(e.ObjectNew, Finalizer)
		},
	}
	b := ctrl.NewControllerManagedBy(mgr).
		// Deletion sets the deletionTimestamp, which changes no generation.
		For(&v1.WeComConnection{}, builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionStarted))).
		WatchesMetadata(&corev1.Secret{}, secretToConnections, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Watches(&v1.Schedule{}, scheduleToConnection, builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	for _, k := range connectionUserKinds {
		b = b.Watches(k.object(), userToDeletedConnection, builder.WithPredicates(releasedFinalizer))
	}
	return b.WithOptions(controllerOptions(o)).
		Named("wecomconnection").
		Complete(errorWins(r))
}

// deletionStarted passes the update that sets an object's deletionTimestamp.
var deletionStarted = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	},
}
