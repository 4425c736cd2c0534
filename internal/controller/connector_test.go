package controller

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

func TestURLAllowlist(t *testing.T) {
	for _, tc := range []struct {
		allowed []string
		url     string
		want    bool
	}{
		{nil, "https://qyapi.weixin.qq.com", true},
		{nil, "", true}, // the CRD default
		{nil, "https://QYAPI.weixin.qq.com:443/", true},
		{nil, "http://qyapi.weixin.qq.com", false},
		{nil, "https://qyapi.weixin.qq.com.attacker.example", false},
		{nil, "https://qyapi.weixin.qq.com@attacker.example", false},
		{nil, "https://attacker.example/qyapi.weixin.qq.com", false},
		{nil, "https://qyapi.weixin.qq.com:8443", false},
		{nil, "https://qyapi.weixin.qq.com/prefix", false},
		{[]string{"http://127.0.0.1:8080"}, "http://127.0.0.1:8080/", true},
		{[]string{"http://127.0.0.1:8080"}, "http://127.0.0.1:8081", false},
		{[]string{"http://127.0.0.1:8080"}, "https://qyapi.weixin.qq.com", false},
		{[]string{"https://proxy.example/wecom/"}, "https://proxy.example/wecom", true},
		{[]string{"https://proxy.example/wecom"}, "https://proxy.example/wecom/../other", false},
		{[]string{"https://proxy.example/wecom"}, "https://proxy.example/other/../wecom", true},
		{[]string{"https://proxy.example/wecom"}, "https://proxy.example/wecom%2F..%2Fother", false},
		{[]string{"https://proxy.example/wecom"}, "https://proxy.example", false},
		{[]string{"http://[::1]:80"}, "http://[::1]", true},
	} {
		a, err := NewURLAllowlist(tc.allowed)
		if err != nil {
			t.Fatalf("NewURLAllowlist(%q): %v", tc.allowed, err)
		}
		if got := a.Allows(tc.url); got != tc.want {
			t.Errorf("allowlist %q: Allows(%q) = %v, want %v", tc.allowed, tc.url, got, tc.want)
		}
	}
	var none *URLAllowlist
	if !none.Allows(wecom.DefaultBaseURL) || none.Allows("http://127.0.0.1:1") {
		t.Error("a nil allowlist allows WeCom's URL and nothing else")
	}
}

func TestNewURLAllowlistRefusesWhatIsNotABaseURL(t *testing.T) {
	for _, bad := range []string{"qyapi.weixin.qq.com", "ftp://example.com", "https://user:pw@example.com", "https://example.com/?x=1", "https://example.com/#f"} {
		if _, err := NewURLAllowlist([]string{bad}); err == nil {
			t.Errorf("NewURLAllowlist(%q) accepted it", bad)
		}
	}
}

func TestAllowedAPIURLsFlag(t *testing.T) {
	var o Options
	fs := newFlagSet(&o)
	if got := strings.Join(o.AllowedAPIURLs, ","); got != wecom.DefaultBaseURL {
		t.Fatalf("default = %q, want only WeCom's URL", got)
	}
	if err := fs.Parse([]string{"--allowed-api-urls=https://qyapi.weixin.qq.com, http://127.0.0.1:9000"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(o.AllowedAPIURLs, "|"); got != "https://qyapi.weixin.qq.com|http://127.0.0.1:9000" {
		t.Fatalf("parsed %q", got)
	}
}

func newFlagSet(o *Options) *flag.FlagSet {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	BindFlags(fs, o)
	return fs
}

// countingReader counts the reads of full Secrets, which carry their data.
type countingReader struct {
	client.Reader
	secretReads atomic.Int32
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.Secret); ok {
		r.secretReads.Add(1)
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func secret(name string, labels map[string]string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team", Labels: labels},
		Data: map[string][]byte{"secret": []byte("app-secret-value")}}
}

var optedIn = map[string]string{v1.SecretUseLabel: v1.SecretUseValue}

func wantReason(t *testing.T, err error, reason string, msg ...string) {
	t.Helper()
	var dep *dependencyError
	if !errors.As(err, &dep) || dep.reason != reason {
		t.Fatalf("err = %v, want a wait with reason %s", err, reason)
	}
	for _, m := range msg {
		if !strings.Contains(dep.msg, m) {
			t.Errorf("message %q does not say %q", dep.msg, m)
		}
	}
}

func TestReadSecretChecksTheLabelBeforeReadingData(t *testing.T) {
	ctx := context.Background()
	ref := v1.SecretKeySelector{Name: "s", Key: "secret"}
	for _, tc := range []struct {
		name string
		// cached is what the manager's cache shows (nil: nothing); stored is the Secret.
		cached, stored *corev1.Secret
		reason         string
		wantReads      int32
	}{
		{"no label", secret("s", nil), secret("s", nil), v1.ReasonSecretNotOptedIn, 0},
		{"another value", secret("s", map[string]string{v1.SecretUseLabel: "yes"}), secret("s", map[string]string{v1.SecretUseLabel: "yes"}), v1.ReasonSecretNotOptedIn, 0},
		{"not in the label-filtered cache, no label", nil, secret("s", nil), v1.ReasonSecretNotOptedIn, 0},
		{"label removed since the cache saw it", secret("s", optedIn), secret("s", nil), v1.ReasonSecretNotOptedIn, 1},
		{"missing", nil, nil, v1.ReasonSecretNotFound, 0},
		{"labelled", secret("s", optedIn), secret("s", optedIn), "", 1},
		{"labelled, the cache not caught up", nil, secret("s", optedIn), "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cached := fake.NewClientBuilder().WithScheme(testScheme(t))
			if tc.cached != nil {
				cached = cached.WithObjects(tc.cached)
			}
			stored := fake.NewClientBuilder().WithScheme(testScheme(t))
			if tc.stored != nil {
				stored = stored.WithObjects(tc.stored)
			}
			reader := &countingReader{Reader: stored.Build()}
			c := &Connector{Client: cached.Build(), APIReader: reader}
			value, _, err := c.readSecret(ctx, "team", ref)
			if tc.reason == "" {
				if err != nil || value != "app-secret-value" {
					t.Fatalf("readSecret = %q, %v", value, err)
				}
			} else {
				wantReason(t, err, tc.reason)
				if value != "" {
					t.Fatalf("readSecret returned the value of a Secret it refused")
				}
			}
			if tc.reason == v1.ReasonSecretNotOptedIn {
				wantReason(t, err, tc.reason, "kubectl label secret -n team s wecom.dev/use=true")
			}
			if got := reader.secretReads.Load(); got != tc.wantReads {
				t.Fatalf("read the Secret's data %d times, want %d", got, tc.wantReads)
			}
		})
	}
}

// A connection naming a URL outside the allowlist is refused before its Secret is read, and
// no request goes to that URL.
func TestConnectionToAURLNotAllowedSendsNothing(t *testing.T) {
	var hits atomic.Int32
	listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"errcode":0,"access_token":"t","expires_in":7200}`))
	}))
	defer listener.Close()

	conn := &v1.WeComConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "team", Generation: 1},
		Spec:       v1.WeComConnectionSpec{CorpID: "ww1", APIURL: listener.URL, SecretRef: v1.SecretKeySelector{Name: "s", Key: "secret"}},
	}
	kube := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(conn, secret("s", optedIn)).WithStatusSubresource(conn).Build()
	reader := &countingReader{Reader: kube}
	allowed, err := NewURLAllowlist(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &ConnectionReconciler{Client: kube, Recorder: events.NewFakeRecorder(10),
		Connector: &Connector{Client: kube, APIReader: reader, HTTPClient: listener.Client(), Allowed: allowed,
			Tokens: wecom.NewTokenCache(wecom.TokenCacheOptions{})}}
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(conn)}); err != nil {
		t.Fatal(err)
	}
	got := &v1.WeComConnection{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(conn), got); err != nil {
		t.Fatal(err)
	}
	ready := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != v1.ReasonAPIURLNotAllowed {
		t.Fatalf("Ready = %+v, want False/%s", ready, v1.ReasonAPIURLNotAllowed)
	}
	for _, want := range []string{listener.URL, "--allowed-api-urls", "allowedAPIURLs", wecom.DefaultBaseURL} {
		if !strings.Contains(ready.Message, want) {
			t.Errorf("message %q does not say %q", ready.Message, want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the URL that is not allowed received %d requests", n)
	}
	if n := reader.secretReads.Load(); n != 0 {
		t.Fatalf("the Secret's data was read %d times for a connection that cannot use it", n)
	}
}

func TestParseWebhookBaseMustBeAllowed(t *testing.T) {
	allowed, err := NewURLAllowlist([]string{wecom.DefaultBaseURL})
	if err != nil {
		t.Fatal(err)
	}
	for value, want := range map[string]bool{
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K":      true,
		"https://attacker.example/cgi-bin/webhook/send?key=K":         false,
		"https://attacker.example/x/cgi-bin/webhook/send?key=K":       false,
		"http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K":       false,
		"https://qyapi.weixin.qq.com.evil/cgi-bin/webhook/send?key=K": false,
	} {
		base, _, ok := parseWebhook(value)
		if !ok {
			t.Fatalf("parseWebhook(%q) refused it", value)
		}
		if got := allowed.Allows(base); got != want {
			t.Errorf("webhook %q: base %q allowed = %v, want %v", value, base, got, want)
		}
	}
}

func TestCacheTransformStripsWhatIsNeverRead(t *testing.T) {
	obj := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{
		Name: "li",
		Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation: `{"apiVersion":"wecom.dev/v1alpha1","kind":"WeComUser"}`,
			v1.AnnotationExternalName:          "li",
		},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}}
	out, err := CacheOptions(nil).DefaultTransform(obj)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*v1.WeComUser)
	if len(got.ManagedFields) != 0 {
		t.Errorf("managedFields kept: %v", got.ManagedFields)
	}
	if diff := cmp.Diff(map[string]string{v1.AnnotationExternalName: "li"}, got.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
}

// The cache keeps no managedFields and no last-applied-configuration (most of a small
// object's size), and everything else of the object.
func TestCacheDropsWhatIsNeverRead(t *testing.T) {
	o := CacheOptions([]string{"team", "ops"})
	if _, ok := o.DefaultNamespaces["ops"]; !ok || len(o.DefaultNamespaces) != 2 {
		t.Errorf("namespaces %v", o.DefaultNamespaces)
	}
	u := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Name: "bob", Namespace: "team",
		Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation: `{"apiVersion":"wecom.dev/v1alpha1","kind":"WeComUser"}`,
			v1.AnnotationExternalName:          "bob",
		},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}, Spec: v1.WeComUserSpec{UserID: "bob"}}
	got, err := o.DefaultTransform(u)
	if err != nil {
		t.Fatal(err)
	}
	g := got.(*v1.WeComUser)
	if len(g.ManagedFields) != 0 {
		t.Errorf("managedFields kept: %v", g.ManagedFields)
	}
	if _, ok := g.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		t.Error("last-applied-configuration kept")
	}
	if g.Annotations[v1.AnnotationExternalName] != "bob" || g.Spec.UserID != "bob" || g.Name != "bob" {
		t.Errorf("the transform dropped what the operator reads: %+v", g)
	}
	if _, ok := CacheOptions(nil).DefaultNamespaces["team"]; ok {
		t.Error("no namespaces given, yet some are set: all namespaces are watched")
	}
}
