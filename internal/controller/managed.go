package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Finalizer keeps an object until its WeCom counterpart is deleted or released.
const Finalizer = "wecom.dev/finalizer"

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
)

// Observation is what Observe found in WeCom.
type Observation struct {
	// Exists is true when the WeCom object exists (found by its id, or adopted).
	Exists bool
	// UpToDate is true when it matches the spec.
	UpToDate bool
	// Adopted is true when Observe found an object the operator did not create and
	// recorded its id in the status.
	Adopted bool
}

// External is one kind's part of the reconcile: Observe (read-only), Create, Update and
// Delete of one object in WeCom. Implementations write WeCom ids into the object's status,
// never its spec; Delete of an object that is already gone succeeds.
type External[T v1.Managed] interface {
	Observe(ctx context.Context, c *Connection, obj T) (Observation, error)
	Create(ctx context.Context, c *Connection, obj T) error
	Update(ctx context.Context, c *Connection, obj T) error
	Delete(ctx context.Context, c *Connection, obj T) error
}

// CreatePreparer is implemented by an External whose Create has no natural key in WeCom
// (add_contact_way): PrepareCreate records in the status a marker by which a later Observe
// can find what a Create whose reply was lost made. The skeleton writes that status to the
// API server before it calls Create, since it otherwise writes status only at the end.
type CreatePreparer[T v1.Managed] interface {
	PrepareCreate(ctx context.Context, c *Connection, obj T) error
}

// errAdopted is returned by a Create that found the object already in WeCom (WeCom said
// "already exists": made by hand since the last look, or an earlier create whose reply was
// lost) and adopted it instead of making another. The reconcile counts it as success.
var errAdopted = errors.New("adopted the existing WeCom object")

// deleteBlockedError is returned by Delete when WeCom refuses for a reason that time may
// remove (a department that still has members or children).
type deleteBlockedError struct{ err error }

func (e *deleteBlockedError) Error() string { return e.err.Error() }
func (e *deleteBlockedError) Unwrap() error { return e.err }

// ManagedReconciler is the one reconcile skeleton every WeCom-backed kind shares: connection
// and Secret, finalizer, deletion policy, conditions, events, requeue and drift checks.
type ManagedReconciler[T v1.Managed] struct {
	Client        client.Client
	Connector     *Connector
	Recorder      events.EventRecorder
	External      External[T]
	NewObject     func() T
	DriftInterval time.Duration
}

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
		res, err = r.reconcileNormal(ctx, obj, before)
	}
	res, err = r.setConditions(ctx, obj, res, err)

	if obj.GetDeletionTimestamp().IsZero() || controllerutil.ContainsFinalizer(obj, Finalizer) {
		// The patch carries no resourceVersion (the finalizer patch may have changed it): a
		// status write must not fail, and lose the WeCom ids a create just stored, because
		// the object changed during the reconcile.
		before.SetResourceVersion(obj.GetResourceVersion())
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

// reconcileNormal creates or updates the WeCom object. before is the baseline of the status
// patch written at the end; a write made earlier (prepareCreate) is applied to it as well.
func (r *ManagedReconciler[T]) reconcileNormal(ctx context.Context, obj, before T) (ctrl.Result, error) {
	conn, err := r.Connector.Connect(ctx, obj.GetNamespace(), obj.GetConnectionName())
	if err != nil {
		return ctrl.Result{}, err
	}
	if controllerutil.AddFinalizer(obj, Finalizer) {
		// Patch only metadata, keeping the status changes of this reconcile for the end.
		status := obj.DeepCopyObject().(T)
		if err := r.Client.Patch(ctx, obj, client.MergeFrom(withoutFinalizer(obj))); err != nil {
			return ctrl.Result{}, err
		}
		*obj.GetResourceStatus() = *status.GetResourceStatus()
	}

	obs, err := r.External.Observe(ctx, conn, obj)
	if err != nil {
		return ctrl.Result{}, r.failed(obj, EventObserveFailed, "observe", err)
	}
	if obs.Adopted {
		r.event(obj, "Normal", EventAdopted, "Adopt", "Adopted the existing WeCom object instead of creating another")
	}
	switch {
	case !obs.Exists:
		if err := r.prepareCreate(ctx, conn, obj, before); err != nil {
			return ctrl.Result{}, err
		}
		switch err := r.External.Create(ctx, conn, obj); {
		case errors.Is(err, errAdopted):
			r.event(obj, "Normal", EventAdopted, "Adopt", "Adopted the existing WeCom object instead of creating another")
		case err != nil:
			return ctrl.Result{}, r.failed(obj, EventCreateFailed, "create", err)
		default:
			r.event(obj, "Normal", EventCreated, "Create", "Created in WeCom")
		}
	case !obs.UpToDate:
		if err := r.External.Update(ctx, conn, obj); err != nil {
			if wecom.IsTerminal(err) && !wecom.IsCredential(err) {
				// WeCom refused the spec: the object exists but does not match it.
				r.setReady(obj, metav1.ConditionFalse, v1.ReasonWeComRejected, describe(err))
			}
			return ctrl.Result{}, r.failed(obj, EventUpdateFailed, "update", err)
		}
		r.event(obj, "Normal", EventUpdated, "Update", "Updated in WeCom to match the spec")
	}
	r.setReady(obj, metav1.ConditionTrue, v1.ReasonAvailable, "The WeCom object exists and matches the spec")
	return ctrl.Result{RequeueAfter: jitter(r.DriftInterval)}, nil
}

func (r *ManagedReconciler[T]) reconcileDelete(ctx context.Context, obj T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return ctrl.Result{}, nil
	}
	if obj.GetDeletionPolicy() == v1.DeletionOrphan {
		r.event(obj, "Normal", EventOrphaned, "Orphan", orphanMessage(obj))
		return ctrl.Result{}, r.removeFinalizer(ctx, obj)
	}
	r.setReady(obj, metav1.ConditionFalse, v1.ReasonDeleting, "Deleting the WeCom object")
	conn, err := r.Connector.Connect(ctx, obj.GetNamespace(), obj.GetConnectionName())
	if err != nil {
		var dep *dependencyError
		if errors.As(err, &dep) {
			return ctrl.Result{}, waitFor(dep.reason, "cannot delete the WeCom object: %s. Restore the connection, or set deletionPolicy: Orphan to release it", dep.msg)
		}
		return ctrl.Result{}, err
	}
	if err := r.External.Delete(ctx, conn, obj); err != nil {
		return ctrl.Result{}, r.failed(obj, EventDeleteFailed, "delete", err)
	}
	// Deletion is confirmed by Observe before the finalizer goes.
	obs, err := r.External.Observe(ctx, conn, obj)
	if err != nil {
		return ctrl.Result{}, r.failed(obj, EventObserveFailed, "observe", err)
	}
	if obs.Exists {
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}
	r.event(obj, "Normal", EventDeleted, "Delete", "Deleted from WeCom")
	return ctrl.Result{}, r.removeFinalizer(ctx, obj)
}

// prepareCreate lets a CreatePreparer mark the object and writes the mark to the API server
// before Create runs. The patch goes through a copy so that its reply does not replace the
// status changes this reconcile has made so far; those are written at the end as usual,
// from a baseline that now includes the mark, so that Create clearing it is written too.
func (r *ManagedReconciler[T]) prepareCreate(ctx context.Context, c *Connection, obj, before T) error {
	p, ok := r.External.(CreatePreparer[T])
	if !ok {
		return nil
	}
	orig := obj.DeepCopyObject().(T)
	if err := p.PrepareCreate(ctx, c, obj); err != nil {
		return err
	}
	mark, err := client.MergeFrom(orig).Data(obj)
	if err != nil {
		return err
	}
	if err := r.Client.Status().Patch(ctx, obj.DeepCopyObject().(T), client.RawPatch(types.MergePatchType, mark)); err != nil {
		return err
	}
	return applyMergePatch(before, mark)
}

// applyMergePatch applies a JSON merge patch to obj in place.
func applyMergePatch(obj client.Object, patch []byte) error {
	cur, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	merged, err := jsonpatch.MergePatch(cur, patch)
	if err != nil {
		return err
	}
	reflect.ValueOf(obj).Elem().SetZero()
	return json.Unmarshal(merged, obj)
}

func orphanMessage(obj v1.Managed) string {
	if _, ok := any(obj).(*v1.WeComAppChat); ok {
		return "Released the chat: WeCom has no API to dissolve an app chat, so it stays in WeCom"
	}
	return "Left the WeCom object in place (deletionPolicy: Orphan)"
}

func (r *ManagedReconciler[T]) removeFinalizer(ctx context.Context, obj T) error {
	orig := obj.DeepCopyObject().(T)
	if controllerutil.RemoveFinalizer(obj, Finalizer) {
		return client.IgnoreNotFound(r.Client.Patch(ctx, obj, client.MergeFrom(orig)))
	}
	return nil
}

func withoutFinalizer[T v1.Managed](obj T) T {
	c := obj.DeepCopyObject().(T)
	controllerutil.RemoveFinalizer(c, Finalizer)
	return c
}

// failed records a Warning event for a WeCom failure and passes the error on.
func (r *ManagedReconciler[T]) failed(obj T, reason, action string, err error) error {
	var dep *dependencyError
	if !errors.As(err, &dep) {
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
		dep     *dependencyError
		blocked *deleteBlockedError
		limited *wecom.RateLimitError
	)
	switch {
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
		return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
	case wecom.IsCredential(err):
		reason := v1.ReasonCredentialsInvalid
		if wecom.Code(err) == wecom.ErrCodeNoAPIPermission || wecom.Code(err) == wecom.ErrCodeAgentNotOwned {
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
