package controller

import (
	"context"
	"errors"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/alerting"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=alertreceivers,verbs=get;list;watch
// +kubebuilder:rbac:groups=wecom.dev,resources=alertreceivers/status,verbs=get;update;patch

// indexAuthSecret finds the AlertReceivers that use a Secret (authSecretRef or
// alertmanager.authSecretRef).
const indexAuthSecret = "spec.authSecretRef.name"

// AlertReceiverReconciler checks an AlertReceiver's template, time zone and credentials, so
// that its status says whether Alertmanager can post to it. The posts themselves are served
// by alertServer.
type AlertReceiverReconciler struct {
	Client    client.Client
	Connector *Connector
}

// Reconcile reports whether the receiver is ready to take alerts.
func (r *AlertReceiverReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	rcv := &v1.AlertReceiver{}
	if err := r.Client.Get(ctx, req.NamespacedName, rcv); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	before := rcv.DeepCopy()
	rcv.Status.ObservedGeneration = rcv.Generation
	rcv.Status.WebhookPath = webhookPath(rcv.Namespace, rcv.Name)

	reason, msg, err := r.check(ctx, rcv)
	var res reconcile.Result
	switch {
	case err != nil:
		reason, msg = v1.ReasonRetrying, err.Error()
	case reason != "":
		res.RequeueAfter = 30 * time.Second // a Secret watch usually comes first
	default:
		reason, msg = v1.ReasonAvailable, "Alertmanager may post to "+rcv.Status.WebhookPath+" on the manager's Alertmanager port"
	}
	status := metav1.ConditionTrue
	if reason != v1.ReasonAvailable {
		status = metav1.ConditionFalse
	}
	for _, t := range []string{v1.ConditionReady, v1.ConditionSynced} {
		meta.SetStatusCondition(&rcv.Status.Conditions, metav1.Condition{
			Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: rcv.Generation,
		})
	}
	if !apiequality.Semantic.DeepEqual(before.Status, rcv.Status) {
		if perr := r.Client.Status().Patch(ctx, rcv, client.MergeFrom(before)); perr != nil && !apierrors.IsNotFound(perr) {
			return reconcile.Result{}, perr
		}
	}
	return res, err
}

// check returns a reason and message when the receiver cannot take alerts as configured.
func (r *AlertReceiverReconciler) check(ctx context.Context, rcv *v1.AlertReceiver) (string, string, error) {
	loc, err := time.LoadLocation(ReceiverTimezone(rcv))
	if err != nil {
		return v1.ReasonTimezoneInvalid, "timezone " + rcv.Spec.Timezone + " is not an IANA time zone such as Asia/Shanghai", nil
	}
	if err := alerting.Check(rcv.Spec.Template, rcv.Spec.Format != v1.AlertFormatText, loc); err != nil {
		what := "template does not parse: "
		if errors.Is(err, alerting.ErrBudget) {
			what = "template refused: "
		}
		return v1.ReasonTemplateInvalid, what + err.Error() + "; alerts are rendered with the built-in template until it is fixed", nil
	}
	if _, err := ReceiverCredentials(ctx, r.Connector, rcv); err != nil {
		var dep *dependencyError
		if errors.As(err, &dep) {
			return dep.reason, dep.msg + "; Alertmanager gets 401 until it exists", nil
		}
		return "", "", err
	}
	if rcv.Spec.Format == v1.AlertFormatCard && rcv.Spec.ConnectionRef != nil {
		conn := &v1.WeComConnection{}
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: rcv.Namespace, Name: rcv.Spec.ConnectionRef.Name}, conn)
		switch {
		case err == nil && conn.Spec.Callback == nil:
			return v1.ReasonCallbackNotConfigured, "format Card needs WeCom callbacks on WeComConnection " + conn.Name +
				" (spec.callback, and its URL saved for the app in WeCom; see docs/callbacks.md): WeCom refuses interactive cards from an app without a callback URL (43012), and clicks would reach no one", nil
		case err != nil && !apierrors.IsNotFound(err):
			return "", "", err
		}
	}
	if _, err := AlertmanagerCredentials(ctx, r.Connector, rcv); err != nil {
		var dep *dependencyError
		if errors.As(err, &dep) {
			return dep.reason, "spec.alertmanager.authSecretRef: " + dep.msg + "; the Silence buttons of cards fail until it is fixed", nil
		}
		return "", "", err
	}
	return "", "", nil
}

// AlertmanagerAuth is what the operator presents to Alertmanager's API.
type AlertmanagerAuth struct {
	BearerToken, Username, Password string
}

// AlertmanagerCredentials reads the credentials of the receiver's spec.alertmanager (none
// when it names no Secret). The Secret must be opted in (wecom.dev/use) and carry the
// annotation wecom.dev/alertmanager-url with spec.alertmanager.url: the credentials go only
// where whoever wrote the Secret said they may, so a receiver cannot send another
// opted-in Secret of its namespace (a WeCom app secret, say) to a URL of its choosing. An
// error that IsWaiting says what is missing.
func AlertmanagerCredentials(ctx context.Context, c *Connector, rcv *v1.AlertReceiver) (AlertmanagerAuth, error) {
	am := rcv.Spec.Alertmanager
	if am == nil || am.AuthSecretRef == nil {
		return AlertmanagerAuth{}, nil
	}
	ref := am.AuthSecretRef
	m, err := c.secretMeta(ctx, rcv.Namespace, ref.Name)
	switch {
	case apierrors.IsNotFound(err):
		return AlertmanagerAuth{}, waitFor(v1.ReasonSecretNotFound, "Secret %q not found in namespace %q", ref.Name, rcv.Namespace)
	case err != nil:
		return AlertmanagerAuth{}, err
	case !SecretOptedIn(m.Labels):
		return AlertmanagerAuth{}, secretNotOptedIn(rcv.Namespace, ref.Name)
	case !sameURL(m.Annotations[v1.AnnotationAlertmanagerURL], am.URL):
		return AlertmanagerAuth{}, waitFor(v1.ReasonCredentialsNotForURL,
			"Secret %q does not say its credentials are for %s: annotate it with %s=%s (kubectl annotate secret -n %s %s %s=%s)",
			ref.Name, am.URL, v1.AnnotationAlertmanagerURL, am.URL, rcv.Namespace, ref.Name, v1.AnnotationAlertmanagerURL, am.URL)
	}
	read := func(key string) (string, error) {
		v, _, err := c.readSecret(ctx, rcv.Namespace, v1.SecretKeySelector{Name: ref.Name, Key: key})
		return strings.TrimSpace(v), err
	}
	var out AlertmanagerAuth
	if ref.BearerTokenKey != "" {
		out.BearerToken, err = read(ref.BearerTokenKey)
		return out, err
	}
	if out.Username, err = read(ref.UsernameKey); err != nil {
		return AlertmanagerAuth{}, err
	}
	out.Password, err = read(ref.PasswordKey)
	return out, err
}

// sameURL compares two base URLs, ignoring a trailing slash.
func sameURL(a, b string) bool {
	a, b = strings.TrimRight(strings.TrimSpace(a), "/"), strings.TrimRight(strings.TrimSpace(b), "/")
	return a != "" && a == b
}

// ReceiverCredentials reads the receiver's bearer token, or user name and password. An error
// that IsWaiting means the Secret is missing, not opted in, or lacks a key.
func ReceiverCredentials(ctx context.Context, c *Connector, rcv *v1.AlertReceiver) ([]string, error) {
	ref := rcv.Spec.AuthSecretRef
	keys := []string{ref.BearerTokenKey}
	if ref.BearerTokenKey == "" {
		keys = []string{ref.UsernameKey, ref.PasswordKey}
	}
	var out []string
	for _, k := range keys {
		v, _, err := c.readSecret(ctx, rcv.Namespace, v1.SecretKeySelector{Name: ref.Name, Key: k})
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ReceiverTimezone is the IANA time zone the receiver's template renders times in.
func ReceiverTimezone(rcv *v1.AlertReceiver) string {
	if rcv.Spec.Timezone == "" {
		return "UTC"
	}
	return rcv.Spec.Timezone
}

// Paths the manager's receiver listener serves (internal/receiver).
const (
	// AlertmanagerPathPrefix is followed by <namespace>/<name> of an AlertReceiver.
	AlertmanagerPathPrefix = "/alertmanager/"
	// CallbackPathPrefix is followed by <namespace>/<name> of a WeComConnection.
	CallbackPathPrefix = "/wecom/callback/"
)

func webhookPath(namespace, name string) string {
	return AlertmanagerPathPrefix + namespace + "/" + name
}

// CallbackPath is where the manager serves a connection's WeCom callbacks.
func CallbackPath(namespace, name string) string {
	return CallbackPathPrefix + namespace + "/" + name
}

// SetupWithManager watches receivers and the metadata of their Secrets.
func (r *AlertReceiverReconciler) SetupWithManager(mgr ctrl.Manager, o Options) error {
	secretToReceivers := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return dependants(ctx, r.Client, &v1.AlertReceiverList{}, obj.GetNamespace(), indexAuthSecret, obj.GetName())
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.AlertReceiver{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, secretToReceivers, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		WithOptions(controllerOptions(o)).
		Named("alertreceiver").
		Complete(errorWins(r))
}

// setupAlerting registers the Notification and AlertReceiver controllers. The Alertmanager
// webhook server is internal/receiver's.
func setupAlerting(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder) error {
	if err := setupNotifications(mgr, o, connector, recorder); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.AlertReceiver{}, indexAuthSecret, func(obj client.Object) []string {
		spec := &obj.(*v1.AlertReceiver).Spec
		if am := spec.Alertmanager; am != nil && am.AuthSecretRef != nil && am.AuthSecretRef.Name != spec.AuthSecretRef.Name {
			return []string{spec.AuthSecretRef.Name, am.AuthSecretRef.Name}
		}
		return []string{spec.AuthSecretRef.Name}
	}); err != nil {
		return err
	}
	if err := (&AlertReceiverReconciler{Client: mgr.GetClient(), Connector: connector}).SetupWithManager(mgr, o); err != nil {
		return err
	}
	return nil
}
