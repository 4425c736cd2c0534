package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Finalizer keeps an object until its WeCom counterpart is deleted or released.
const Finalizer = "wecom.dev/finalizer"

const (
	// conflictRetry is how soon a reconcile whose create guard met a stale cache runs again.
	conflictRetry = 500 * time.Millisecond
	// minRateLimitRetry bounds how often an object waiting for the client's own rate limit
	// is tried again.
	minRateLimitRetry = 100 * time.Millisecond
)

// Event reasons.
const (
	EventCreated       = "Created"
	EventUpdated       = "Updated"
	EventDeleted       = "Deleted"
	EventOrphaned      = "Orphaned"
	EventAdopted       = "Adopted"
	EventCreateFailed  = "CreateFailed"
	EventUpdateFailed  = "UpdateFailed"
	EventDeleteFailed  = "DeleteFailed"
	EventObserveFailed = "ObserveFailed"
	EventDeleteBlocked = "DeleteBlocked"
	// EventRecovered: a create whose reply was lost was found in WeCom and adopted.
	EventRecovered = "Recovered"
	// EventCreateIncomplete: a create whose reply was lost cannot be found; a person decides.
	EventCreateIncomplete = "CreateIncomplete"
	// EventLateInitialized: empty spec fields were filled from WeCom's values.
	EventLateInitialized = "LateInitialized"
)

// Observation is what Observe found in WeCom.
type Observation struct {
	// Exists is true when the WeCom object exists: found by the object's external id, by the
	// kind's natural key (adoption), or as what a create whose reply was lost made.
	Exists bool
	// UpToDate is true when it matches the spec.
	UpToDate bool
	// Drift lists what differs when it does not (optional: a kind that lists nothing still
	// works, and the status then shows no fields).
	Drift []v1.DriftedField
}

// ExternalConnecter is one kind's entry point: it returns the client for one reconcile of one
// object. What Observe reads lives in that value, for the Update that follows, and goes with it.
type ExternalConnecter[T v1.Managed] interface {
	Connect(ctx context.Context, c *Connection, obj T) (ExternalClient[T], error)
}

// ExternalClient is one kind's part of a reconcile. The skeleton owns everything else:
// finalizer, deletion policy, the create guard, the external-name annotation, conditions,
// events and requeues.
//
//   - Observe only reads. It finds the WeCom object by the id in the status (GetExternalID)
//     or, when there is none, by the kind's natural key (adoption). When a create is pending
//     (createPending returns a time) and there is no id, it looks for what that create made,
//     by a key the kind controls, and records its id; a kind that cannot look returns
//     errCreateUnrecoverable. It clears an id whose object is gone, so that it is made again.
//   - Create only creates and records the new id. WeCom's "already exists" is returned as is:
//     the skeleton goes back to Observe, which adopts, and then to Update.
//   - Update makes an existing object match the spec.
//   - Delete removes it; deleting what is already gone is success.
type ExternalClient[T v1.Managed] interface {
	Observe(ctx context.Context, obj T) (Observation, error)
	Create(ctx context.Context, obj T) error
	Update(ctx context.Context, obj T) error
	Delete(ctx context.Context, obj T) error
}

// LateInitializer is implemented by the ExternalClient of a kind that has late-initialised
// fields (Crossplane's LateInitialize): spec fields a person may leave empty, which then take
// WeCom's value, so that a manifest need not spell them. The skeleton calls it after an
// Observe that found the object, when managementPolicies include LateInitialize, and writes
// the spec once when anything was filled.
//
// LateInitialize fills, from what this client's Observe read, only the fields the kind
// documents, and only those that are empty; it never changes a field that is set. It
// returns the fields it filled, named as in Observation.Drift.
type LateInitializer[T v1.Managed] interface {
	LateInitialize(obj T) []string
}

// errCreateUnrecoverable is returned by Observe when a create's reply was lost and the kind
// has no way to find what it made. The skeleton stops with CreateIncomplete rather than risk
// a second object.
type errCreateUnrecoverable struct{ how string }

func (e *errCreateUnrecoverable) Error() string { return e.how }

// requeueError asks for the reconcile to run again after a short wait, changing no condition:
// an Observe that needs a moment to pass before it can decide.
type requeueError struct{ after time.Duration }

func (e *requeueError) Error() string { return fmt.Sprintf("requeue after %s", e.after) }

// deleteBlockedError is returned by Delete when WeCom refuses for a reason that time may
// remove (a department that still has members or children).
type deleteBlockedError struct{ err error }

func (e *deleteBlockedError) Error() string { return e.err.Error() }
func (e *deleteBlockedError) Unwrap() error { return e.err }

// createPending returns when the pending create of obj started, or the zero time.
func createPending(obj metav1.Object) time.Time {
	t, err := time.Parse(time.RFC3339Nano, obj.GetAnnotations()[v1.AnnotationCreatePending])
	if err != nil {
		return time.Time{}
	}
	return t
}

// ManagedReconciler is the one reconcile skeleton every WeCom-backed kind shares: connection
// and Secret, finalizer, deletion policy, the create guard, external names, conditions,
// events, requeue and drift checks.
type ManagedReconciler[T v1.Managed] struct {
	Client        client.Client
	Connector     ConnectionResolver
	Recorder      events.EventRecorder
	External      ExternalConnecter[T]
	NewObject     func() T
	DriftInterval time.Duration
	// CallbackDriftInterval replaces DriftInterval (when longer) for objects whose
	// connection's callbacks are in use.
	CallbackDriftInterval time.Duration
	// Now is the clock of the create guard's timestamps; nil is time.Now.
	Now func() time.Time
}

// ConnectionResolver turns an object's connectionRef into a Connection (see Connector).
type ConnectionResolver interface {
	Connect(ctx context.Context, namespace, name string) (*Connection, error)
	// ConnectForDelete may use the values last read from a Secret deleted since.
	ConnectForDelete(ctx context.Context, namespace, name string) (*Connection, error)
	// NamespaceTerminating says whether the namespace is being deleted.
	NamespaceTerminating(ctx context.Context, namespace string) (bool, error)
}

// terminatingGrace is how long an object of a namespace being deleted waits for a
// connection or Secret it cannot resolve before it is released without deleting from
// WeCom: nothing can be created in that namespace any more, so waiting longer would only
// keep the namespace from going.
const terminatingGrace = time.Minute

// Reconcile brings one object and its WeCom counterpart in line and writes status once.
func (r *ManagedReconciler[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.NewObject()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := obj.DeepCopyObject().(T)

	var (
		res ctrl.Result
		err error
	)
	if !obj.GetDeletionTimestamp().IsZero() {
		res, err = r.reconcileDelete(ctx, obj)
	} else {
		res, err = r.reconcileNormal(ctx, obj)
	}
	res, err = r.setConditions(ctx, obj, res, err)

	if obj.GetDeletionTimestamp().IsZero() || controllerutil.ContainsFinalizer(obj, Finalizer) {
		// The patch carries no resourceVersion (metadata patches may have changed it): a
		// status write must not fail, and lose the WeCom ids a create just stored, because
		// the object changed during the reconcile.
		before.SetResourceVersion(obj.GetResourceVersion())
		before.SetAnnotations(obj.GetAnnotations())
		before.SetFinalizers(obj.GetFinalizers())
		// A drift check that changed nothing writes nothing to the API server either.
		patch := client.MergeFrom(before)
		if data, derr := patch.Data(obj); derr != nil || string(data) != "{}" {
			if perr := r.Client.Status().Patch(ctx, obj, patch); perr != nil && !apierrors.IsNotFound(perr) {
				return ctrl.Result{}, errors.Join(err, perr)
			}
		}
	}
	return res, err
}

// reconcileNormal creates or updates the WeCom object.
func (r *ManagedReconciler[T]) reconcileNormal(ctx context.Context, obj T) (ctrl.Result, error) {
	conn, err := r.Connector.Connect(ctx, obj.GetNamespace(), obj.GetConnectionName())
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.patchMeta(ctx, obj, false, func() { controllerutil.AddFinalizer(obj, Finalizer) }); err != nil {
		return ctrl.Result{}, err
	}
	if err := restoreExternalID(obj); err != nil {
		return ctrl.Result{}, err
	}
	ext, err := r.External.Connect(ctx, conn, obj)
	if err != nil {
		return ctrl.Result{}, err
	}

	hadID := obj.GetExternalID() != ""
	obs, err := r.observe(ctx, ext, obj, hadID)
	if err != nil {
		return ctrl.Result{}, err
	}
	policies := obj.GetManagedSpec()
	if obs.Exists && policies.Allows(v1.ManagementLateInitialize) {
		if obs, err = r.lateInitialize(ctx, ext, obj, obs); err != nil {
			return ctrl.Result{}, err
		}
	}
	obj.GetManagedStatus().Drift = boundDrift(obs.Drift)
	switch {
	case !obs.Exists && !policies.Allows(v1.ManagementCreate):
		r.setReady(obj, metav1.ConditionFalse, v1.ReasonNotInWeCom,
			"WeCom has no such object, and managementPolicies do not include Create, so the operator does not make it; create it in WeCom, bind an existing one with the annotation "+v1.AnnotationExternalName+", or add Create")
		return ctrl.Result{RequeueAfter: jitter(r.driftInterval(conn))}, r.endRefresh(ctx, obj)
	case obs.Exists && !obs.UpToDate && !policies.Allows(v1.ManagementUpdate):
		r.setReady(obj, metav1.ConditionFalse, v1.ReasonDrifted, driftMessage(obs.Drift))
		return ctrl.Result{RequeueAfter: jitter(r.driftInterval(conn))}, r.endRefresh(ctx, obj)
	case !obs.Exists:
		if obs, err = r.create(ctx, ext, obj); err != nil {
			return ctrl.Result{}, err
		}
		if obs.UpToDate {
			break
		}
		fallthrough
	case !obs.UpToDate:
		if err := ext.Update(ctx, obj); err != nil {
			if wecom.IsTerminal(err) && !wecom.IsCredential(err) {
				// WeCom refused the spec: the object exists but does not match it.
				r.setReady(obj, metav1.ConditionFalse, v1.ReasonWeComRejected, describe(err))
			}
			return ctrl.Result{}, r.failed(obj, EventUpdateFailed, "update", err)
		}
		r.event(obj, "Normal", EventUpdated, "Update", updatedMessage(obs.Drift))
	}
	obj.GetManagedStatus().Drift = nil
	r.setReady(obj, metav1.ConditionTrue, v1.ReasonAvailable, "The WeCom object exists and matches the spec")
	if err := r.endRefresh(ctx, obj); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: jitter(r.driftInterval(conn))}, nil
}

// lateInitialize lets a kind that has late-initialised fields fill the empty ones and writes
// the spec when it did, with an optimistic lock: a spec a person changed since it was read
// is not overwritten (the conflict brings the object back). A drift that lay only in the
// filled fields is gone with them.
func (r *ManagedReconciler[T]) lateInitialize(ctx context.Context, ext ExternalClient[T], obj T, obs Observation) (Observation, error) {
	li, ok := ext.(LateInitializer[T])
	if !ok {
		return obs, nil
	}
	orig := obj.DeepCopyObject().(T)
	filled := li.LateInitialize(obj)
	if len(filled) == 0 {
		return obs, nil
	}
	status := obj.DeepCopyObject().(T)
	if err := r.Client.Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return obs, err
	}
	restoreStatus(obj, status)
	r.event(obj, "Normal", EventLateInitialized, "LateInitialize", "Filled "+strings.Join(filled, ", ")+" from WeCom")
	var rest []v1.DriftedField
	for _, f := range obs.Drift {
		if !slices.Contains(filled, f.Field) {
			rest = append(rest, f)
		}
	}
	if !obs.UpToDate && len(obs.Drift) > 0 && len(rest) == 0 {
		obs.UpToDate = true
	}
	obs.Drift = rest
	return obs, nil
}

// boundDrift keeps at most v1.MaxDriftedFields fields of at most 256 characters each.
func boundDrift(d []v1.DriftedField) []v1.DriftedField {
	if len(d) == 0 {
		return nil
	}
	out := make([]v1.DriftedField, 0, min(len(d), v1.MaxDriftedFields))
	for _, f := range d[:min(len(d), v1.MaxDriftedFields)] {
		out = append(out, v1.DriftedField{Field: f.Field, WeCom: clip(f.WeCom), Spec: clip(f.Spec)})
	}
	return out
}

func clip(s string) string { return clipTo(s, 256) }

// clipTo cuts s to at most limit bytes at a rune boundary, ending with "…" when cut.
func clipTo(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// updatedMessage is the Updated event's message: what was repaired, so that a fully managed
// object's drift (cleared in the reconcile that repairs it) can still be read afterwards, in
// its events. At most five fields, each value cut to 64 bytes: an Event's note holds 1 KiB.
func updatedMessage(d []v1.DriftedField) string {
	const fields, value = 5, 64
	msg := "Updated in WeCom to match the spec"
	if len(d) == 0 {
		return msg
	}
	parts := make([]string, 0, min(len(d), fields))
	for _, f := range d[:min(len(d), fields)] {
		parts = append(parts, fmt.Sprintf("%s (WeCom %q, spec %q)", f.Field, clipTo(f.WeCom, value), clipTo(f.Spec, value)))
	}
	msg += "; it differed in " + strings.Join(parts, ", ")
	if more := len(d) - fields; more > 0 {
		msg += fmt.Sprintf(" and %d more", more)
	}
	return msg
}

// driftMessage is the Ready message of an object that differs and may not be repaired.
func driftMessage(d []v1.DriftedField) string {
	msg := "WeCom differs from the spec and managementPolicies do not include Update, so nothing is repaired"
	if len(d) > 0 {
		fields := make([]string, 0, len(d))
		for _, f := range d {
			fields = append(fields, f.Field)
		}
		msg += ": " + strings.Join(fields, ", ") + " (see status.drift)"
	}
	return msg + "; add Update to managementPolicies to repair it"
}

// driftInterval is the time to the next drift check of an object of conn.
func (r *ManagedReconciler[T]) driftInterval(conn *Connection) time.Duration {
	if conn.CallbacksInUse {
		return max(r.DriftInterval, r.CallbackDriftInterval)
	}
	return r.DriftInterval
}

// refreshAdded passes the updates that set or change the refresh annotation (a WeCom
// callback named the object); its removal, by the reconcile itself, passes nothing.
var refreshAdded = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		v := e.ObjectNew.GetAnnotations()[v1.AnnotationRefresh]
		return v != "" && v != e.ObjectOld.GetAnnotations()[v1.AnnotationRefresh]
	},
}

// bindingChanged passes updates that change the external-name or create-pending annotation
// of an object that waits for a person: stopped with CreateIncomplete, or NotInWeCom. Those
// edits (bind the object to a WeCom object, or allow a new create) leave the generation
// alone, and such an object is not requeued, so without this it would wait for a resync.
// The skeleton's own writes of the same annotations, around every create, do not pass: a
// create WeCom refused removes its pending mark, and waking the object for that would try
// the create again at once, in a loop.
var bindingChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		if !waitsForPerson(e.ObjectNew) {
			return false
		}
		for _, k := range []string{v1.AnnotationExternalName, v1.AnnotationCreatePending} {
			if e.ObjectOld.GetAnnotations()[k] != e.ObjectNew.GetAnnotations()[k] {
				return true
			}
		}
		return false
	},
}

// waitsForPerson says whether obj's last reconcile stopped for something only a person can
// do with its annotations.
func waitsForPerson(obj client.Object) bool {
	m, ok := obj.(v1.Managed)
	if !ok {
		return false
	}
	conds := m.GetResourceStatus().Conditions
	if c := meta.FindStatusCondition(conds, v1.ConditionSynced); c != nil && c.Reason == v1.ReasonCreateIncomplete {
		return true
	}
	c := meta.FindStatusCondition(conds, v1.ConditionReady)
	return c != nil && c.Reason == v1.ReasonNotInWeCom
}

// managedChanges is the predicate of every managed kind's own objects: spec changes, a
// person's binding (bindingChanged) and refresh requests (refreshAdded; only the kinds WeCom
// callbacks name receive them).
var managedChanges = predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, bindingChanged, refreshAdded)

// managedController is the controller of one managed kind, named name: its objects (obj)
// through managedChanges, and those of list's kind that use a WeComConnection whose
// readiness changed. The kind adds watches of its own dependencies and completes it with its
// ManagedReconciler.
func managedController(mgr manager.Manager, o Options, name string, obj client.Object, list func() client.ObjectList) *builder.Builder {
	return builder.ControllerManagedBy(mgr).
		For(obj, builder.WithPredicates(managedChanges)).
		Watches(&v1.WeComConnection{}, connectionDependants(mgr.GetClient(), list), builder.WithPredicates(readyChanged)).
		WithOptions(controllerOptions(o)).
		Named(name)
}

// refreshRequested says whether a WeCom callback asked for the object to be read from WeCom
// itself (v1.AnnotationRefresh): Observe then reads it alone, not a shared list.
func refreshRequested(obj metav1.Object) bool {
	return obj.GetAnnotations()[v1.AnnotationRefresh] != ""
}

// endRefresh removes the refresh request once the object matches WeCom again, and measures
// the time since the callback arrived. The optimistic lock keeps a request that arrived
// during this reconcile: the conflict brings the object back.
func (r *ManagedReconciler[T]) endRefresh(ctx context.Context, obj T) error {
	value := obj.GetAnnotations()[v1.AnnotationRefresh]
	if value == "" {
		return nil
	}
	if err := r.patchMeta(ctx, obj, true, func() { removeAnnotation(obj, v1.AnnotationRefresh) }); err != nil {
		return err
	}
	if at, err := time.Parse(time.RFC3339Nano, value); err == nil {
		callbackRepairSeconds.WithLabelValues(kindOf(obj)).Observe(time.Since(at).Seconds())
	}
	return nil
}

// observe runs Observe and records what it found in the annotations: the external name of an
// object that exists, and the end of a pending create that it found (or that made nothing).
func (r *ManagedReconciler[T]) observe(ctx context.Context, ext ExternalClient[T], obj T, hadID bool) (Observation, error) {
	pending := !createPending(obj).IsZero()
	obs, err := ext.Observe(ctx, obj)
	if err != nil {
		return Observation{}, r.failed(obj, EventObserveFailed, "observe", err)
	}
	if obs.Exists && !hadID {
		if pending {
			r.event(obj, "Normal", EventRecovered, "Observe", "Found the WeCom object that a create whose reply was lost made, instead of creating another")
		} else {
			r.event(obj, "Normal", EventAdopted, "Adopt", "Adopted the existing WeCom object instead of creating another")
		}
	}
	if !obs.Exists {
		return obs, nil
	}
	return obs, r.recordExternalName(ctx, obj)
}

// create runs Create behind the create guard: the pending mark is written with an optimistic
// lock first, so two workers or two replicas cannot both pass it, and a reconcile that reads
// a stale object (without the id a create just stored) fails here instead of creating again.
// WeCom's "already exists" goes back to Observe, which adopts.
func (r *ManagedReconciler[T]) create(ctx context.Context, ext ExternalClient[T], obj T) (Observation, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if err := r.patchMeta(ctx, obj, true, func() {
		setAnnotation(obj, v1.AnnotationCreatePending, now().UTC().Format(time.RFC3339Nano))
	}); err != nil {
		return Observation{}, err
	}
	err := ext.Create(ctx, obj)
	switch {
	case wecom.IsAlreadyExists(err):
		obs, oerr := ext.Observe(ctx, obj)
		if oerr != nil {
			return Observation{}, r.failed(obj, EventObserveFailed, "observe", oerr)
		}
		if !obs.Exists {
			return Observation{}, r.failed(obj, EventCreateFailed, "create", err)
		}
		r.event(obj, "Normal", EventAdopted, "Adopt", "Adopted the existing WeCom object instead of creating another")
		return obs, r.recordExternalName(ctx, obj)
	case err != nil && !wecom.IsAmbiguous(err):
		// WeCom made nothing: the next attempt creates without looking first.
		if perr := r.patchMeta(ctx, obj, false, func() { removeAnnotation(obj, v1.AnnotationCreatePending) }); perr != nil {
			return Observation{}, errors.Join(err, perr)
		}
		return Observation{}, r.failed(obj, EventCreateFailed, "create", err)
	case err != nil:
		// The reply was lost: the pending mark stays and the next Observe looks for the object.
		return Observation{}, r.failed(obj, EventCreateFailed, "create", err)
	}
	r.event(obj, "Normal", EventCreated, "Create", "Created in WeCom")
	return Observation{Exists: true, UpToDate: true}, r.recordExternalName(ctx, obj)
}

// recordExternalName writes the external-name annotation from the status id and ends a
// pending create, in one metadata patch when anything changed.
func (r *ManagedReconciler[T]) recordExternalName(ctx context.Context, obj T) error {
	return r.patchMeta(ctx, obj, false, func() {
		if id := obj.GetExternalID(); id != "" {
			setAnnotation(obj, v1.AnnotationExternalName, id)
		}
		removeAnnotation(obj, v1.AnnotationCreatePending)
	})
}

// restoreExternalID fills an empty status id from the external-name annotation: after a
// restore that dropped status, or when a person binds the object to an existing WeCom object.
func restoreExternalID(obj v1.Managed) error {
	name := obj.GetAnnotations()[v1.AnnotationExternalName]
	if name == "" || obj.GetExternalID() != "" {
		return nil
	}
	if err := obj.SetExternalID(name); err != nil {
		return ctrl.TerminalError(err)
	}
	return nil
}

func (r *ManagedReconciler[T]) reconcileDelete(ctx context.Context, obj T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return ctrl.Result{}, nil
	}
	if obj.GetDeletionPolicy() == v1.DeletionOrphan || !obj.GetManagedSpec().Allows(v1.ManagementDelete) {
		r.event(obj, "Normal", EventOrphaned, "Orphan", orphanMessage(obj))
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	r.setReady(obj, metav1.ConditionFalse, v1.ReasonDeleting, "Deleting the WeCom object")
	conn, err := r.Connector.ConnectForDelete(ctx, obj.GetNamespace(), obj.GetConnectionName())
	if err != nil {
		var dep *dependencyError
		if !errors.As(err, &dep) {
			return ctrl.Result{}, err
		}
		if release, terr := r.unresolvable(ctx, obj); terr != nil || release {
			if terr != nil {
				return ctrl.Result{}, terr
			}
			msg := fmt.Sprintf("Released without deleting the WeCom object (id %q): its namespace is being deleted and %s", obj.GetExternalID(), dep.msg)
			logf.FromContext(ctx).Info(msg)
			r.event(obj, "Warning", EventOrphaned, "Orphan", msg)
			return ctrl.Result{}, r.removeFinalizer(ctx, obj)
		}
		return ctrl.Result{}, waitFor(dep.reason, "cannot delete the WeCom object: %s. Restore the connection, or %s (in a namespace being deleted, where nothing can be restored, it is released after %s)", dep.msg, releaseHint(obj), terminatingGrace)
	}
	if err := restoreExternalID(obj); err != nil {
		return ctrl.Result{}, err
	}
	ext, err := r.External.Connect(ctx, conn, obj)
	if err != nil {
		return ctrl.Result{}, err
	}
	if obj.GetExternalID() == "" && !createPending(obj).IsZero() {
		// What a create whose reply was lost made is found first, so that it goes too.
		if _, err := r.observe(ctx, ext, obj, false); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := ext.Delete(ctx, obj); err != nil {
		return ctrl.Result{}, r.failed(obj, EventDeleteFailed, "delete", err)
	}
	// Deletion is confirmed by Observe before the finalizer goes.
	obs, err := ext.Observe(ctx, obj)
	if err != nil {
		return ctrl.Result{}, r.failed(obj, EventObserveFailed, "observe", err)
	}
	if obs.Exists {
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}
	r.event(obj, "Normal", EventDeleted, "Delete", deletedMessage(obj))
	return ctrl.Result{}, r.removeFinalizer(ctx, obj)
}

// unresolvable says whether obj, whose connection or Secret cannot be resolved, is to be
// released: its namespace is being deleted (so they cannot come back) and it has waited
// terminatingGrace since its own deletion.
func (r *ManagedReconciler[T]) unresolvable(ctx context.Context, obj T) (bool, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if now().Sub(obj.GetDeletionTimestamp().Time) < terminatingGrace {
		return false, nil
	}
	return r.Connector.NamespaceTerminating(ctx, obj.GetNamespace())
}

// patchMeta applies mutate to obj's metadata and patches it when anything changed, keeping
// this reconcile's status changes (written at the end) in obj. With optimistic, the patch
// carries the resourceVersion obj was read at and fails with a conflict if it is stale.
func (r *ManagedReconciler[T]) patchMeta(ctx context.Context, obj T, optimistic bool, mutate func()) error {
	orig := obj.DeepCopyObject().(T)
	mutate()
	if reflect.DeepEqual(orig.GetAnnotations(), obj.GetAnnotations()) && reflect.DeepEqual(orig.GetFinalizers(), obj.GetFinalizers()) {
		return nil
	}
	patch := client.MergeFrom(orig)
	if optimistic {
		patch = client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	}
	status := obj.DeepCopyObject().(T)
	if err := r.Client.Patch(ctx, obj, patch); err != nil {
		return err
	}
	restoreStatus(obj, status)
	return nil
}

// restoreStatus copies from's status into obj (a patch reply replaces the whole object).
func restoreStatus[T v1.Managed](obj, from T) {
	v := reflect.ValueOf(obj).Elem().FieldByName("Status")
	v.Set(reflect.ValueOf(from).Elem().FieldByName("Status"))
}

func setAnnotation(obj metav1.Object, k, v string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	obj.SetAnnotations(a)
}

func removeAnnotation(obj metav1.Object, k string) {
	a := obj.GetAnnotations()
	if _, ok := a[k]; !ok {
		return
	}
	delete(a, k)
	obj.SetAnnotations(a)
}

func orphanMessage(obj v1.Managed) string {
	if _, ok := any(obj).(*v1.WeComAppChat); ok {
		return "Released the chat: WeCom has no API to dissolve an app chat, so it stays in WeCom"
	}
	if _, ok := any(obj).(*v1.WeComApp); ok {
		return "Released the app: WeCom has no API to delete an app, so it stays in WeCom with its settings and menu"
	}
	if !obj.GetManagedSpec().Allows(v1.ManagementDelete) {
		return "Left the WeCom object in place (managementPolicies do not include Delete)"
	}
	return "Left the WeCom object in place (deletionPolicy: Orphan)"
}

// deletedMessage is the note of the Deleted event.
func deletedMessage(obj v1.Managed) string {
	if _, ok := any(obj).(*v1.WeComApp); ok {
		return "Removed the app's menu (spec.menu.removeOnDelete) and released the app: WeCom has no API to delete an app"
	}
	return "Deleted from WeCom"
}

// releaseHint says how to release an object whose deletion cannot reach WeCom.
func releaseHint(obj v1.Managed) string {
	if _, ok := any(obj).(*v1.WeComApp); ok {
		return "set spec.menu.removeOnDelete: false to release the app and leave its menu"
	}
	return "set deletionPolicy: Orphan to release it"
}

func (r *ManagedReconciler[T]) removeFinalizer(ctx context.Context, obj T) error {
	orig := obj.DeepCopyObject().(T)
	if controllerutil.RemoveFinalizer(obj, Finalizer) {
		return client.IgnoreNotFound(r.Client.Patch(ctx, obj, client.MergeFrom(orig)))
	}
	return nil
}

// failed records a Warning event for a WeCom failure and passes the error on.
func (r *ManagedReconciler[T]) failed(obj T, reason, action string, err error) error {
	var (
		dep        *dependencyError
		incomplete *errCreateUnrecoverable
	)
	var again *requeueError
	if !errors.As(err, &dep) && !errors.As(err, &incomplete) && !errors.As(err, &again) {
		r.event(obj, "Warning", reason, action, describe(err))
	}
	return err
}

func (r *ManagedReconciler[T]) event(obj T, typ, reason, action, note string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, typ, reason, action, "%s", note)
	}
}

// setConditions sorts the reconcile's error by what comes next and records it in Synced
// (and in Ready when the object is not known to be in WeCom):
//   - dependencies not there yet: wait, with a short requeue; watches usually come first;
//   - credentials, permissions and WeCom refusing the spec: terminal, no retry until the
//     spec, connection or Secret changes (plus a slow safety requeue at the drift interval);
//   - WeCom busy, rate limits and network errors: returned, so the queue backs off.
func (r *ManagedReconciler[T]) setConditions(ctx context.Context, obj T, res ctrl.Result, err error) (ctrl.Result, error) {
	status := obj.GetResourceStatus()
	status.ObservedGeneration = obj.GetGeneration()
	if err == nil {
		r.setSynced(obj, metav1.ConditionTrue, v1.ReasonReconcileSuccess, "")
		return res, nil
	}

	var (
		dep        *dependencyError
		blocked    *deleteBlockedError
		limited    *wecom.RateLimitError
		incomplete *errCreateUnrecoverable
	)
	var again *requeueError
	switch {
	case errors.As(err, &again):
		return ctrl.Result{RequeueAfter: again.after}, nil
	case apierrors.IsConflict(err):
		// The create guard met a newer version of the object than the cache had (a create
		// just finished): try again once the cache has it, changing no condition.
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	case errors.As(err, &incomplete):
		msg := fmt.Sprintf("A create call's reply was lost and %s. Nothing more is created. Find the object in WeCom and set the annotation %s to its id, or, if it does not exist, remove the annotation %s to create it",
			incomplete.how, v1.AnnotationExternalName, v1.AnnotationCreatePending)
		r.setSynced(obj, metav1.ConditionFalse, v1.ReasonCreateIncomplete, msg)
		r.setReadyUnlessKnown(obj, v1.ReasonCreateIncomplete, msg)
		r.event(obj, "Warning", EventCreateIncomplete, "Observe", msg)
		return ctrl.Result{}, ctrl.TerminalError(err)
	case errors.Is(err, ctrl.TerminalError(nil)) && wecom.Code(err) == 0:
		r.setSynced(obj, metav1.ConditionFalse, v1.ReasonReconcileError, err.Error())
		r.setReadyUnlessKnown(obj, v1.ReasonReconcileError, err.Error())
		return ctrl.Result{}, err
	case errors.As(err, &dep):
		r.setSynced(obj, metav1.ConditionFalse, dep.reason, dep.msg)
		r.setReadyUnlessKnown(obj, dep.reason, dep.msg)
		return ctrl.Result{RequeueAfter: 10 * time.Second}, nil
	case errors.As(err, &blocked):
		retry := deleteBlockedRetry(r.DriftInterval)
		msg := fmt.Sprintf("%s; the delete is retried every %s", describe(err), retry)
		r.setSynced(obj, metav1.ConditionFalse, v1.ReasonDeleteBlocked, msg)
		r.event(obj, "Warning", EventDeleteBlocked, "Delete", msg)
		return ctrl.Result{RequeueAfter: retry}, nil
	case errors.As(err, &limited):
		// Ready too, unless known: a reason left from an earlier wait (a Secret not created
		// yet) would otherwise tell a person to fix what is no longer wrong.
		msg := "Waiting for the operator's own WeCom rate limit"
		r.setSynced(obj, metav1.ConditionFalse, v1.ReasonRetrying, msg)
		r.setReadyUnlessKnown(obj, v1.ReasonRetrying, msg)
		return ctrl.Result{RequeueAfter: max(limited.RetryAfter, minRateLimitRetry)}, nil
	case wecom.IsCredential(err):
		reason := v1.ReasonCredentialsInvalid
		if wecom.IsPermissionDenied(err) {
			reason = v1.ReasonPermissionDenied
		}
		r.setSynced(obj, metav1.ConditionFalse, reason, describe(err))
		r.setReadyUnlessKnown(obj, reason, describe(err))
		return ctrl.Result{RequeueAfter: jitter(r.DriftInterval)}, nil
	case wecom.IsTerminal(err):
		r.setSynced(obj, metav1.ConditionFalse, v1.ReasonWeComRejected, describe(err))
		r.setReadyUnlessKnown(obj, v1.ReasonWeComRejected, describe(err))
		return ctrl.Result{RequeueAfter: jitter(r.DriftInterval)}, nil
	default:
		logf.FromContext(ctx).V(1).Info("retrying", "error", describe(err))
		r.setSynced(obj, metav1.ConditionFalse, v1.ReasonRetrying, describe(err)+"; retrying with backoff")
		r.setReadyUnlessKnown(obj, v1.ReasonRetrying, describe(err)+"; retrying with backoff")
		return ctrl.Result{}, err
	}
}

func (r *ManagedReconciler[T]) setSynced(obj T, status metav1.ConditionStatus, reason, msg string) {
	setCondition(obj, v1.ConditionSynced, status, reason, msg)
}

func (r *ManagedReconciler[T]) setReady(obj T, status metav1.ConditionStatus, reason, msg string) {
	setCondition(obj, v1.ConditionReady, status, reason, msg)
}

// setReadyUnlessKnown marks the object not Ready when no observation has said it is; a
// failure to update an object that exists does not make it vanish.
func (r *ManagedReconciler[T]) setReadyUnlessKnown(obj T, reason, msg string) {
	if c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, v1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		setCondition(obj, v1.ConditionReady, metav1.ConditionFalse, reason, msg)
	}
}

func setCondition(obj v1.Managed, typ string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&obj.GetResourceStatus().Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: obj.GetGeneration(),
	})
}

// describe renders an error for a condition or event: the WeCom errcode, its meaning and
// what to do. The client guarantees no token, secret or key is in err.
func describe(err error) string {
	if code := wecom.Code(err); code != 0 {
		if hint := wecom.Hint(err); hint != "" {
			return fmt.Sprintf("%v. %s", err, hint)
		}
	}
	return err.Error()
}

// deleteBlockedRetry is how long a blocked delete waits before it is tried again: 30s, or
// the drift interval when that is shorter. Watches usually bring it back sooner.
func deleteBlockedRetry(driftInterval time.Duration) time.Duration {
	if driftInterval > 0 && driftInterval < 30*time.Second {
		return driftInterval
	}
	return 30 * time.Second
}

// driftWindow is the longest time between two drift checks of an object: the interval plus
// its jitter.
func driftWindow(d time.Duration) time.Duration { return d + d/10 }

// jitter spreads periodic drift checks by ±10% so objects do not all wake together.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}

// readyAndCurrent says whether the last reconcile found the object matching this generation
// of its spec.
func readyAndCurrent(obj v1.Managed) bool {
	c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, v1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.GetGeneration() &&
		meta.IsStatusConditionTrue(obj.GetResourceStatus().Conditions, v1.ConditionSynced)
}
