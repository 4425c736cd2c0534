package controller

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// The metrics endpoint (cmd/manager, --metrics-secure) asks the API server who a scraper is
// and whether it may GET /metrics.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// SetupWithManager registers every reconciler and the field indexes they use, and returns
// the Connector they share (internal/receiver reads Secrets through it too).
func SetupWithManager(mgr ctrl.Manager, o Options) (*Connector, error) {
	ctx := context.Background()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &v1.WeComConnection{}, indexSecret, func(obj client.Object) []string {
		return []string{obj.(*v1.WeComConnection).Spec.SecretRef.Name}
	}); err != nil {
		return nil, err
	}
	for _, list := range []client.Object{&v1.WeComDepartment{}, &v1.WeComUser{}, &v1.WeComAppChat{}, &v1.ContactWay{}, &v1.Schedule{}} {
		if err := idx.IndexField(ctx, list, indexConnection, connectionNames); err != nil {
			return nil, err
		}
	}

	if err := idx.IndexField(ctx, &v1.WeComConnection{}, indexCallbackSecret, func(obj client.Object) []string {
		if cb := obj.(*v1.WeComConnection).Spec.Callback; cb != nil {
			return []string{cb.SecretRef.Name}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, list := range []client.Object{&v1.WeComDepartment{}, &v1.WeComUser{}, &v1.WeComTag{}} {
		if err := idx.IndexField(ctx, list, IndexExternalID, ExternalIDs); err != nil {
			return nil, err
		}
	}
	if err := idx.IndexField(ctx, &v1.ContactWay{}, IndexWayState, WayStates); err != nil {
		return nil, err
	}

	allowed, err := NewURLAllowlist(o.AllowedAPIURLs)
	if err != nil {
		return nil, err
	}
	limiters := wecom.NewLimiters(wecom.LimitersOptions{Default: wecom.RateLimit{PerSecond: o.ClientQPS, Burst: o.ClientBurst}})
	connector := &Connector{
		Allowed:    allowed,
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}},
		Tokens:     wecom.DefaultTokenCache,
		Limiters:   limiters,
	}
	recorder := mgr.GetEventRecorder("wecom-operator")

	if err := (&ConnectionReconciler{Client: mgr.GetClient(), Connector: connector, Recorder: recorder, CheckInterval: o.DriftInterval}).SetupWithManager(mgr, o); err != nil {
		return nil, err
	}
	snaps := &snapshots{}
	if err := setupDepartments(mgr, o, connector, recorder, snaps); err != nil {
		return nil, err
	}
	if err := setupUsers(mgr, o, connector, recorder, snaps); err != nil {
		return nil, err
	}
	for _, setup := range []func(ctrl.Manager, Options, *Connector, events.EventRecorder, *snapshots) error{
		setupAppChats, setupContactWays, setupSchedules,
		setupTags,
		// issue 12: calendars
		setupCalendars,
		// Customer contact configuration (issue 12).
		setupCustomerTagGroups, setupGroupWelcomeTemplates,
		// issue 12: apps and menus
		setupApps,
	} {
		if err := setup(mgr, o, connector, recorder, snaps); err != nil {
			return nil, err
		}
	}
	if err := setupAlerting(mgr, o, connector, recorder); err != nil {
		return nil, err
	}
	objectState.use(mgr.GetCache(), mgr.Elected())
	return connector, nil
}

// connectionNames are the WeComConnections obj uses: its connectionRef, and for a WeComUser
// the app that hands its customers over when it is deleted (spec.offboarding.connectionRef).
// The indexConnection indexer.
func connectionNames(obj client.Object) []string {
	names := []string{obj.(v1.Managed).GetConnectionName()}
	if u, ok := obj.(*v1.WeComUser); ok && u.Spec.Offboarding != nil && u.Spec.Offboarding.ConnectionRef != nil {
		names = nonEmpty(append(names, u.Spec.Offboarding.ConnectionRef.Name)...)
	}
	return names
}

// ExternalIDs are the WeCom ids an object is known by, in lower case (userids are not case
// sensitive): its status id and its external-name annotation. The IndexExternalID indexer.
func ExternalIDs(obj client.Object) []string {
	m := obj.(v1.Managed)
	return nonEmpty(strings.ToLower(m.GetExternalID()), strings.ToLower(m.GetAnnotations()[v1.AnnotationExternalName]))
}

// WayStates is the IndexWayState indexer: the state WeCom knows the way by.
func WayStates(obj client.Object) []string {
	w := obj.(*v1.ContactWay)
	return nonEmpty(w.Status.State, w.Spec.State)
}

// nonEmpty returns the distinct non-empty values.
func nonEmpty(values ...string) []string {
	var out []string
	for _, v := range values {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// maxRetryDelay caps the backoff of an object whose reconcile keeps failing for a reason that
// time removes (WeCom busy, limited or unreachable). client-go's default grows to 1,000 s, so
// after a WeCom outage of a minute some objects would wait a quarter of an hour.
const maxRetryDelay = time.Minute

func controllerOptions(o Options) controller.Options {
	return controller.Options{
		MaxConcurrentReconciles: max(o.Concurrency, 1),
		RateLimiter: workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxRetryDelay),
			// The overall bucket of client-go's default limiter.
			&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
		),
	}
}

// dependants lists the objects of list's kind in namespace whose field index matches value.
func dependants(ctx context.Context, c client.Client, list client.ObjectList, namespace, index, value string) []reconcile.Request {
	if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{index: value}); err != nil {
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(items))
	for _, it := range items {
		o := it.(client.Object)
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}})
	}
	return out
}

// connectionDependants enqueues the objects of list's kind that use a connection. When an
// update leaves the connection Ready (it became Ready, or its Secret was rotated), objects
// that are already Ready with their current spec are left to their drift checks: nothing
// changed for them, and reconciling them all at once costs a WeCom read each for kinds that
// WeCom cannot list (app chats). Objects still waiting or failing are reconciled.
func connectionDependants(c client.Client, list func() client.ObjectList) handler.EventHandler {
	enqueue := func(ctx context.Context, conn client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request], skipCurrent bool) {
		l := list()
		if err := c.List(ctx, l, client.InNamespace(conn.GetNamespace()), client.MatchingFields{indexConnection: conn.GetName()}); err != nil {
			return
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return
		}
		for _, it := range items {
			if m, ok := it.(v1.Managed); ok && skipCurrent && readyAndCurrent(m) {
				continue
			}
			o := it.(client.Object)
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}})
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q, false)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.ObjectNew, q, strings.HasPrefix(readyStatus(e.ObjectNew), string(metav1.ConditionTrue)+"/"))
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q, false)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q, false)
		},
	}
}

// readyChanged passes connection updates whose Ready condition changed, and new or deleted
// connections: what dependants waiting on a connection need to hear about.
var readyChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return readyStatus(e.ObjectOld) != readyStatus(e.ObjectNew)
	},
}

func readyStatus(obj client.Object) string {
	conn, ok := obj.(*v1.WeComConnection)
	if !ok {
		return ""
	}
	c := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionReady)
	if c == nil {
		return ""
	}
	return string(c.Status) + "/" + conn.Status.SecretVersion + "/" + conn.Status.CalendarID
}
