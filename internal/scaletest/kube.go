package scaletest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// APIServer is a local kube-apiserver and etcd (the envtest binaries in bin/k8s) with the
// operator's CRDs installed, and a kubeconfig for the manager binary.
type APIServer struct {
	Config     *rest.Config
	Client     client.Client
	Scheme     *kruntime.Scheme
	Kubeconfig string
	env        *envtest.Environment
}

// StartAPIServer starts the API server with the CRDs of root/config/crd/bases, writing the
// kubeconfig into dir. KUBEBUILDER_ASSETS defaults to root/bin/k8s.
func StartAPIServer(root, dir string) (*APIServer, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		assets := filepath.Join(root, "bin", "k8s")
		if !exists(filepath.Join(assets, "kube-apiserver")) {
			return nil, fmt.Errorf("no kube-apiserver in %s: run `make envtest`", assets)
		}
		os.Setenv("KUBEBUILDER_ASSETS", assets)
	}
	scheme := kruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	a := &APIServer{Config: cfg, Scheme: scheme, env: env}
	fail := func(err error) (*APIServer, error) { _ = env.Stop(); return nil, err }
	// The harness creates thousands of objects at once: no client-side throttling.
	cfg.QPS, cfg.Burst = -1, 0
	if a.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}
	admin, err := env.AddUser(envtest.User{Name: "scale-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fail(err)
	}
	data, err := admin.KubeConfig()
	if err != nil {
		return fail(err)
	}
	a.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(a.Kubeconfig, data, 0o600); err != nil {
		return fail(err)
	}
	return a, nil
}

// Stop stops the API server and etcd.
func (a *APIServer) Stop() error { return a.env.Stop() }

// CreateNamespace makes a namespace.
func (a *APIServer) CreateNamespace(ctx context.Context, name string) error {
	return a.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

// CreateAll creates objs with workers in parallel, the way a large `kubectl apply` or a GitOps
// sync does, and returns the first error.
func CreateAll(ctx context.Context, c client.Client, objs []client.Object, workers int) error {
	work := make(chan client.Object)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := c.Create(ctx, o); err != nil {
					once.Do(func() { first = fmt.Errorf("creating %T %s: %w", o, o.GetName(), err) })
				}
			}
		}()
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	return first
}

// Kinds are the WeCom-backed kinds a Fleet makes, with Notifications, in the order reports
// list them.
var Kinds = append(slices.Clone(ManagedKinds), "Notification")

// lists returns an empty list of each kind.
func lists() map[string]client.ObjectList {
	return map[string]client.ObjectList{
		"WeComDepartment":      &v1.WeComDepartmentList{},
		"WeComUser":            &v1.WeComUserList{},
		"WeComAppChat":         &v1.WeComAppChatList{},
		"ContactWay":           &v1.ContactWayList{},
		"Schedule":             &v1.ScheduleList{},
		"WeComTag":             &v1.WeComTagList{},
		"WeComCalendar":        &v1.WeComCalendarList{},
		"CustomerTagGroup":     &v1.CustomerTagGroupList{},
		"GroupWelcomeTemplate": &v1.GroupWelcomeTemplateList{},
		"WeComApp":             &v1.WeComAppList{},
		"Notification":         &v1.NotificationList{},
	}
}

// Progress counts one kind's objects and how many are done: Ready (for a Notification: Sent).
type Progress struct {
	Total, Done int
	// Failed names objects that gave up, with their reason: Notifications Failed, objects
	// whose Ready condition says WeCom refused the spec or the credentials.
	Failed []string
	// NotDone names a few objects that are not done, with their Ready condition's reason.
	NotDone []string
}

// Tally counts the objects of every kind in namespace and how many are done; kinds the API
// server does not serve are left out.
func Tally(ctx context.Context, r client.Reader, namespace string) (map[string]Progress, error) {
	out := map[string]Progress{}
	for kind, list := range lists() {
		if err := r.List(ctx, list, client.InNamespace(namespace)); meta.IsNoMatchError(err) {
			continue // an older release's CRDs (the upgrade test) lack the newer kinds
		} else if err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		p := Progress{Total: len(items)}
		for _, it := range items {
			o := it.(client.Object)
			done, failed, why := State(o)
			switch {
			case done:
				p.Done++
			case failed:
				p.Failed = append(p.Failed, o.GetName()+" ("+why+")")
			}
			if !done && len(p.NotDone) < 5 {
				p.NotDone = append(p.NotDone, o.GetName()+" ("+why+")")
			}
		}
		out[kind] = p
	}
	return out, nil
}

// State says whether obj is done (Ready with its current generation; a Notification: Sent),
// whether it gave up (Failed, or not Ready because WeCom refused the spec or credentials),
// and the reason its Ready condition gives.
func State(obj client.Object) (done, failed bool, reason string) {
	if n, ok := obj.(*v1.Notification); ok {
		c := meta.FindStatusCondition(n.Status.Conditions, v1.ConditionReady)
		if c != nil {
			reason = c.Reason
		}
		return n.Status.Phase == v1.NotificationSent, n.Status.Phase == v1.NotificationFailed, reason
	}
	m, ok := obj.(v1.Managed)
	if !ok {
		return false, false, ""
	}
	c := meta.FindStatusCondition(m.GetResourceStatus().Conditions, v1.ConditionReady)
	if c == nil {
		return false, false, "no Ready condition"
	}
	done = c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.GetGeneration()
	failed = !done && (c.Reason == v1.ReasonWeComRejected || c.Reason == v1.ReasonCredentialsInvalid || c.Reason == v1.ReasonPermissionDenied)
	return done, failed, c.Reason
}
