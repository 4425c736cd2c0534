package receiver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
)

// namespacedCache is the manager's cache with watchNamespaces: [team]. Reads of other
// namespaces fail in it before any request leaves, so no API server is needed for them.
func namespacedCache(t *testing.T, scheme *runtime.Scheme) cache.Cache {
	t.Helper()
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, kind := range []string{"AlertReceiver", "WeComConnection"} {
		mapper.Add(v1.GroupVersion.WithKind(kind), meta.RESTScopeNamespace)
	}
	c, err := cache.New(&rest.Config{Host: "http://127.0.0.1:1"}, cache.Options{Scheme: scheme, Mapper: mapper,
		DefaultNamespaces: controller.CacheOptions([]string{"team"}).DefaultNamespaces})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// asWatching makes reads of namespaces other than team go to the namespaced cache, as the
// manager's client does with watchNamespaces.
func asWatching(t *testing.T, kube client.WithWatch) client.Client {
	scoped := namespacedCache(t, kube.Scheme())
	return interceptor.NewClient(kube, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if key.Namespace != "team" {
				return scoped.Get(ctx, key, obj, opts...)
			}
			return c.Get(ctx, key, obj, opts...)
		},
	})
}

// errorLog collects the error lines logged while serving.
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *errorLog) context() context.Context {
	return logf.IntoContext(context.Background(), funcr.New(func(prefix, args string) {
		if strings.Contains(args, `"error"`) {
			l.mu.Lock()
			l.lines = append(l.lines, args)
			l.mu.Unlock()
		}
	}, funcr.Options{Verbosity: 1}))
}

// With watchNamespaces, a POST naming a namespace the operator does not watch is answered
// as one naming a receiver or connection that does not exist, and logs no error (the
// namespaced cache's "unknown namespace for the cache" was a 503 with a stack trace, which
// Alertmanager retries forever).
func TestUnwatchedNamespaceLooksLikeUnknown(t *testing.T) {
	watches := controller.Options{WatchNamespaces: []string{"team"}}.Watches
	var logged errorLog

	rcv := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: "team"},
		Spec: v1.AlertReceiverSpec{AuthSecretRef: v1.AlertReceiverAuth{Name: "s", BearerTokenKey: "secret"}}}
	kube := asWatching(t, fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(rcv, secret("s", optedIn)).Build())
	am := &Alertmanager{Client: kube, Connector: &controller.Connector{Client: kube, APIReader: kube}, Watches: watches}
	post := func(h http.Handler, path string) (int, string) {
		req := httptest.NewRequestWithContext(logged.context(), http.MethodPost, path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer guess")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	unknownCode, unknownBody := post(am, "/alertmanager/team/nobody")
	if code, body := post(am, "/alertmanager/elsewhere/oncall"); code != unknownCode || body != unknownBody {
		t.Errorf("Alertmanager, unwatched namespace: %d %q, want what an unknown receiver gets: %d %q", code, body, unknownCode, unknownBody)
	}

	f := newCallbackFixture(t)
	f.h.Client = asWatching(t, f.kube.(client.WithWatch))
	f.h.Watches = watches
	unknownCode, unknownBody = post(f.h, "/wecom/callback/team/nobody")
	if code, body := post(f.h, "/wecom/callback/elsewhere/contacts"); code != unknownCode || body != unknownBody {
		t.Errorf("callback, unwatched namespace: %d %q, want what an unknown connection gets: %d %q", code, body, unknownCode, unknownBody)
	}
	if len(logged.lines) > 0 {
		t.Errorf("errors logged for requests naming an unwatched namespace:\n%s", strings.Join(logged.lines, "\n"))
	}
}
