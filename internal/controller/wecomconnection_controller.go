package controller

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
)

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomconnections,verbs=get;list;watch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomconnections/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Event reasons of WeComConnection.
const (
	EventUntrustedIP         = "UntrustedIP"
	EventCredentialsAccepted = "CredentialsAccepted"
	EventCredentialsRefused  = "CredentialsRefused"
)

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
	before := conn.DeepCopy()
	res, err := r.check(ctx, conn)
	conn.Status.ObservedGeneration = conn.Generation
	now := metav1.Now()
	conn.Status.LastCheckedTime = &now
	if perr := r.Client.Status().Patch(ctx, conn, client.MergeFrom(before)); perr != nil && !apierrors.IsNotFound(perr) {
		return reconcile.Result{}, errors.Join(err, perr)
	}
	return res, err
}

func (r *ConnectionReconciler) check(ctx context.Context, conn *v1.WeComConnection) (reconcile.Result, error) {
	set := func(status metav1.ConditionStatus, reason, msg string) {
		for _, t := range []string{v1.ConditionReady, v1.ConditionSynced} {
			meta.SetStatusCondition(&conn.Status.Conditions, metav1.Condition{
				Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: conn.Generation,
			})
		}
	}
	c, err := r.Connector.connect(ctx, conn)
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

// SetupWithManager watches connections and the metadata of the Secrets they use.
func (r *ConnectionReconciler) SetupWithManager(mgr ctrl.Manager, o Options) error {
	secretToConnections := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return dependants(ctx, r.Client, &v1.WeComConnectionList{}, obj.GetNamespace(), indexSecret, obj.GetName())
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.WeComConnection{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, secretToConnections, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		WithOptions(controllerOptions(o)).
		Named("wecomconnection").
		Complete(r)
}
