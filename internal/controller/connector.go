package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Connection is a resolved WeComConnection: its spec and a client that speaks for its app.
type Connection struct {
	Name    string
	CorpID  string
	AgentID int64 // 0 when the connection names no self-built app
	Client  *wecom.Client
	// Scope identifies the corp and app for caches shared by every object of the connection.
	Scope string
	// SecretVersion is the resourceVersion of the Secret the client was built from.
	SecretVersion string
	// CalendarID is the calendar the operator created for the connection's app (see
	// WeComConnectionStatus.CalendarID), or "".
	CalendarID string
	// CallbacksInUse: WeCom callbacks reach the operator for this connection (see
	// WeComConnectionStatus.CallbacksInUse), so hand edits are pushed, not only polled.
	CallbacksInUse bool
}

// dependencyError means something the object needs is not there yet. It is not WeCom's
// fault and not the user's for long: the object waits, with a condition that says for what.
type dependencyError struct {
	reason string
	msg    string
}

func (e *dependencyError) Error() string { return e.msg }

// IsWaiting says whether err means something the object needs is not there yet (a Secret, a
// connection), and returns the condition reason and message that say what.
func IsWaiting(err error) (reason, msg string, ok bool) {
	var dep *dependencyError
	if errors.As(err, &dep) {
		return dep.reason, dep.msg, true
	}
	return "", "", false
}

func waitFor(reason, format string, args ...any) error {
	return &dependencyError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// Connector turns a connectionRef into a Connection. Secrets are not cached by the manager:
// only their metadata is watched, and a Secret's data is read through the uncached API
// reader when its resourceVersion changes, and only when the Secret opted in (see
// readSecret).
type Connector struct {
	Client     client.Client // cached: WeComConnections and Secret metadata
	APIReader  client.Reader // uncached: Secret data
	HTTPClient *http.Client
	Tokens     *wecom.TokenCache
	Limiters   *wecom.Limiters
	Retry      wecom.RetryPolicy
	// Allowed are the API base URLs connections and robots may use; nil allows only
	// wecom.DefaultBaseURL.
	Allowed *URLAllowlist

	mu      sync.Mutex
	secrets map[types.NamespacedName]secretEntry
}

type secretEntry struct {
	version string
	data    map[string][]byte
}

// Connect resolves the connection named by name in namespace.
func (c *Connector) Connect(ctx context.Context, namespace, name string) (*Connection, error) {
	return c.resolve(ctx, namespace, name, false)
}

// ConnectForDelete is Connect for an object being deleted. When the connection's Secret is
// gone, it uses the values last read from it: in a namespace being deleted, the namespace
// controller deletes Secrets as early as the objects that still need them to delete from
// WeCom. The operator has no write access to Secrets (an in-use finalizer on them would need
// it), so this rests on the manager having read the Secret before; a manager started after
// the Secret went has nothing to use, and the object waits (see ManagedReconciler).
func (c *Connector) ConnectForDelete(ctx context.Context, namespace, name string) (*Connection, error) {
	return c.resolve(ctx, namespace, name, true)
}

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get

// NamespaceTerminating says whether namespace is being deleted, when nothing can be
// created in it any more (a missing connection or Secret included).
func (c *Connector) NamespaceTerminating(ctx context.Context, namespace string) (bool, error) {
	ns := &corev1.Namespace{}
	if err := c.APIReader.Get(ctx, types.NamespacedName{Name: namespace}, ns); err != nil {
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}
	return !ns.DeletionTimestamp.IsZero() || ns.Status.Phase == corev1.NamespaceTerminating, nil
}

func (c *Connector) resolve(ctx context.Context, namespace, name string, deleting bool) (*Connection, error) {
	conn := &v1.WeComConnection{}
	if err := c.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, conn); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitFor(v1.ReasonConnectionNotReady, "WeComConnection %q not found in namespace %q (references are same-namespace only)", name, namespace)
		}
		return nil, err
	}
	// A connection whose credentials WeCom refused is not tried again by its dependants:
	// repeated wrong secrets get the operator's IP banned by WeCom for an hour.
	if cond := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionReady); cond != nil &&
		cond.Status == metav1.ConditionFalse && cond.Reason == v1.ReasonCredentialsInvalid &&
		cond.ObservedGeneration == conn.Generation {
		if m, err := c.secretMeta(ctx, namespace, conn.Spec.SecretRef.Name); err == nil && m.ResourceVersion == conn.Status.SecretVersion {
			return nil, waitFor(v1.ReasonConnectionNotReady, "WeComConnection %q is not ready: %s", name, cond.Message)
		}
	}
	return c.connect(ctx, conn, deleting)
}

// connect builds the Connection; lastKnown allows the values last read from a Secret that
// has been deleted since (see ConnectForDelete).
func (c *Connector) connect(ctx context.Context, conn *v1.WeComConnection, lastKnown bool) (*Connection, error) {
	// Checked before the Secret is read: the request would carry its value.
	if !c.Allowed.Allows(conn.Spec.APIURL) {
		return nil, waitFor(v1.ReasonAPIURLNotAllowed,
			"apiURL %q is not one of the WeCom API URLs this operator may call (%s), so nothing is sent to it; use one of those, or ask the operator's administrator to add it to the manager flag --allowed-api-urls (Helm value allowedAPIURLs)",
			conn.Spec.APIURL, c.Allowed)
	}
	secret, version, err := c.readSecretAt(ctx, conn.Namespace, conn.Spec.SecretRef, lastKnown)
	if err != nil {
		return nil, err
	}
	cl, err := wecom.New(wecom.Config{
		BaseURL:    conn.Spec.APIURL,
		CorpID:     conn.Spec.CorpID,
		Secret:     secret,
		HTTPClient: c.HTTPClient,
		Tokens:     c.Tokens,
		Limiters:   c.Limiters,
		Retry:      c.Retry,
	})
	if err != nil {
		return nil, err
	}
	out := &Connection{Name: conn.Name, CorpID: conn.Spec.CorpID, Client: cl, SecretVersion: version, CalendarID: conn.Status.CalendarID,
		CallbacksInUse: conn.Status.CallbacksInUse()}
	if conn.Spec.AgentID != nil {
		out.AgentID = *conn.Spec.AgentID
	}
	out.Scope = fmt.Sprintf("%s|%s|%d", conn.Spec.APIURL, conn.Spec.CorpID, out.AgentID)
	return out, nil
}

// secretMeta returns the metadata of a Secret. The manager's cache holds only Secrets that
// opted in (see CacheOptions), so one it does not know is looked up once more uncached, to
// tell a Secret without the label from a missing one.
func (c *Connector) secretMeta(ctx context.Context, namespace, name string) (*metav1.PartialObjectMetadata, error) {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := c.Client.Get(ctx, key, m)
	if apierrors.IsNotFound(err) && c.APIReader != nil {
		err = c.APIReader.Get(ctx, key, m)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// SecretOptedIn says whether a Secret's labels allow the operator to read it: the label
// wecom.dev/use: "true". Check it on the Secret's metadata before reading its data.
func SecretOptedIn(l map[string]string) bool {
	return l[v1.SecretUseLabel] == v1.SecretUseValue
}

// secretNotOptedIn is the condition of an object whose Secret lacks the label.
func secretNotOptedIn(namespace, name string) error {
	return waitFor(v1.ReasonSecretNotOptedIn,
		"Secret %q in namespace %q is not labelled %s=%s, so the operator does not read it; label it if it is meant for wecom-operator: kubectl label secret -n %s %s %s=%s",
		name, namespace, v1.SecretUseLabel, v1.SecretUseValue, namespace, name, v1.SecretUseLabel, v1.SecretUseValue)
}

// ReadSecret returns the selected key's value and the Secret's resourceVersion. It is the
// only way the operator reads a Secret's data: connection secrets, robot webhook secrets and
// AlertReceiver auth secrets all come through here. The label wecom.dev/use: "true" is
// checked on the metadata first, so an object naming any other Secret of its namespace makes
// the operator read nothing (SecretNotOptedIn). The data is read again only when the
// resourceVersion differs from the one last read.
func (c *Connector) ReadSecret(ctx context.Context, namespace string, ref v1.SecretKeySelector) (value, version string, err error) {
	return c.readSecret(ctx, namespace, ref)
}

func (c *Connector) readSecret(ctx context.Context, namespace string, ref v1.SecretKeySelector) (string, string, error) {
	return c.readSecretAt(ctx, namespace, ref, false)
}

func (c *Connector) readSecretAt(ctx context.Context, namespace string, ref v1.SecretKeySelector, lastKnown bool) (string, string, error) {
	key := types.NamespacedName{Namespace: namespace, Name: ref.Name}
	m, err := c.secretMeta(ctx, namespace, ref.Name)
	if apierrors.IsNotFound(err) && lastKnown {
		c.mu.Lock()
		entry, ok := c.secrets[key]
		c.mu.Unlock()
		if value := entry.data[ref.Key]; ok && len(value) > 0 {
			return string(value), entry.version, nil
		}
	}
	if apierrors.IsNotFound(err) {
		return "", "", waitFor(v1.ReasonSecretNotFound, "Secret %q not found in namespace %q; create it with the value under key %q and the label %s=%s", ref.Name, namespace, ref.Key, v1.SecretUseLabel, v1.SecretUseValue)
	}
	if err != nil {
		return "", "", err
	}
	if !SecretOptedIn(m.Labels) {
		return "", "", secretNotOptedIn(namespace, ref.Name)
	}
	version := m.ResourceVersion
	c.mu.Lock()
	entry, ok := c.secrets[key]
	c.mu.Unlock()
	if !ok || entry.version != version {
		s := &corev1.Secret{}
		if err := c.APIReader.Get(ctx, key, s); err != nil {
			if apierrors.IsNotFound(err) && lastKnown && len(entry.data[ref.Key]) > 0 {
				return string(entry.data[ref.Key]), entry.version, nil
			}
			if apierrors.IsNotFound(err) {
				return "", "", waitFor(v1.ReasonSecretNotFound, "Secret %q not found in namespace %q", ref.Name, namespace)
			}
			return "", "", err
		}
		if !SecretOptedIn(s.Labels) { // the label was removed since the metadata was read
			return "", "", secretNotOptedIn(namespace, ref.Name)
		}
		entry = secretEntry{version: s.ResourceVersion, data: s.Data}
		c.mu.Lock()
		if c.secrets == nil {
			c.secrets = map[types.NamespacedName]secretEntry{}
		}
		c.secrets[key] = entry
		c.mu.Unlock()
	}
	value, ok := entry.data[ref.Key]
	if !ok || len(value) == 0 {
		return "", "", waitFor(v1.ReasonSecretNotFound, "Secret %q has no key %q (or it is empty)", ref.Name, ref.Key)
	}
	return string(value), entry.version, nil
}

// CacheOptions are the manager's cache options: the watched namespaces (none: all) and, for
// Secrets, only those labelled wecom.dev/use=true. The operator watches Secret metadata only
// and would otherwise hold that of every Secret in the cluster; the others it never reads.
func CacheOptions(namespaces []string) cache.Options {
	o := cache.Options{
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{v1.SecretUseLabel: v1.SecretUseValue})},
		},
		DefaultTransform: stripUnread,
	}
	if len(namespaces) > 0 {
		o.DefaultNamespaces = map[string]cache.Config{}
		for _, n := range namespaces {
			o.DefaultNamespaces[n] = cache.Config{}
		}
	}
	return o
}

// stripUnread drops from every cached object what the operator never reads: managedFields
// and kubectl's last-applied-configuration annotation (a copy of the whole object as applied).
// Together they are most of a small object's size in memory (docs/performance.md). Nothing is
// lost on write: the operator writes with merge patches, which only carry what it changed.
func stripUnread(obj any) (any, error) {
	obj, err := cache.TransformStripManagedFields()(obj)
	if m, ok := obj.(metav1.Object); ok && err == nil {
		if a := m.GetAnnotations(); a[corev1.LastAppliedConfigAnnotation] != "" {
			delete(a, corev1.LastAppliedConfigAnnotation)
			m.SetAnnotations(a)
		}
	}
	return obj, err
}

// URLAllowlist is the set of WeCom API base URLs the operator may send requests to. A
// WeComConnection's apiURL and a robot's webhook URL are written by whoever may create those
// objects; without this list they could have a Secret's value sent (as corpsecret= or key=)
// to a host of their choosing. Entries and candidates are compared after normalising scheme
// and host case, default ports, trailing slashes and dot segments.
type URLAllowlist struct {
	bases map[string]bool
	list  []string
}

// NewURLAllowlist parses the allowed base URLs: http(s), a host, an optional path prefix, no
// query, fragment or user info. An empty list allows only wecom.DefaultBaseURL.
func NewURLAllowlist(urls []string) (*URLAllowlist, error) {
	if len(urls) == 0 {
		urls = []string{wecom.DefaultBaseURL}
	}
	a := &URLAllowlist{bases: map[string]bool{}}
	for _, raw := range urls {
		n, err := normalizeBaseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("allowed API URL: %w", err)
		}
		if !a.bases[n] {
			a.bases[n] = true
			a.list = append(a.list, n)
		}
	}
	return a, nil
}

var defaultAllowlist = func() *URLAllowlist {
	a, _ := NewURLAllowlist(nil)
	return a
}()

// Allows says whether requests may go to the base URL raw ("" is wecom.DefaultBaseURL).
// A nil list allows only wecom.DefaultBaseURL.
func (a *URLAllowlist) Allows(raw string) bool {
	if a == nil {
		a = defaultAllowlist
	}
	if raw == "" {
		raw = wecom.DefaultBaseURL
	}
	n, err := normalizeBaseURL(raw)
	return err == nil && a.bases[n]
}

func (a *URLAllowlist) String() string {
	if a == nil {
		a = defaultAllowlist
	}
	return strings.Join(a.list, ", ")
}

// normalizeBaseURL returns raw as scheme://host[:port][/prefix] in a canonical form.
func normalizeBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an http(s) URL with a host", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%q has user info, a query or a fragment", raw)
	}
	if u.RawPath != "" {
		return "", fmt.Errorf("%q has escaped characters in its path", raw)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	p := ""
	if u.Path != "" && u.Path != "/" {
		p = strings.TrimRight(path.Clean("/"+u.Path), "/")
	}
	return scheme + "://" + host + p, nil
}

// snapshotMaxAge is the age past which a drift check lists again: 90% of the interval, the
// shortest jittered drift check (see jitter). So a connection lists at most once per 90% of
// the interval whatever its objects' phases, and each object's drift check still reads a
// list taken after its previous check. (Half the interval, as before, made two lists per
// interval once the objects' checks had spread over the interval.)
func snapshotMaxAge(driftInterval time.Duration) time.Duration {
	return driftInterval - driftInterval/10
}

// snapshots caches one WeCom list per (connection scope, kind) for up to maxAge, so that
// drift checks cost one list call per connection per interval, whatever the number of
// objects. At most one fetch per key is in flight.
type snapshots struct {
	mu      sync.Mutex
	entries map[string]*snapshot
}

type snapshot struct {
	mu      sync.Mutex // held while fetching
	fetched time.Time
	value   any
}

// get returns the cached value for key if it is younger than maxAge, else fetches it.
func (s *snapshots) get(ctx context.Context, key string, maxAge time.Duration, fetch func(context.Context) (any, error)) (any, error) {
	return s.getSince(ctx, key, maxAge, time.Time{}, fetch)
}

// getSince is get for a caller that also needs a value whose fetch started after notBefore
// (zero: any). The test is made once the entry is locked, so callers that waited while
// another fetched are served by that fetch whenever it started after their notBefore: a
// batch of new objects shares one list instead of listing again one after the other.
func (s *snapshots) getSince(ctx context.Context, key string, maxAge time.Duration, notBefore time.Time, fetch func(context.Context) (any, error)) (any, error) {
	v, _, err := s.getAt(ctx, key, maxAge, notBefore, fetch)
	return v, err
}

// getAt is getSince that also returns when the fetch of the value started.
func (s *snapshots) getAt(ctx context.Context, key string, maxAge time.Duration, notBefore time.Time, fetch func(context.Context) (any, error)) (any, time.Time, error) {
	s.mu.Lock()
	if s.entries == nil {
		s.entries = map[string]*snapshot{}
	}
	e, ok := s.entries[key]
	if !ok {
		e = &snapshot{}
		s.entries[key] = e
	}
	s.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.value != nil && time.Since(e.fetched) < maxAge && e.fetched.After(notBefore) {
		return e.value, e.fetched, nil
	}
	// The age counts from when the list started: what it shows is at least that old.
	start := time.Now()
	v, err := fetch(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	e.value, e.fetched = v, start
	return v, start, nil
}

// invalidate drops key so the next get lists again.
func (s *snapshots) invalidate(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, key)
}

// index is a concurrency-safe map held in a snapshot; the operator's own writes update it
// so the cache follows them without another list call.
type index[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

func newIndex[K comparable, V any]() *index[K, V] { return &index[K, V]{m: map[K]V{}} }

func (x *index[K, V]) get(k K) (V, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v, ok := x.m[k]
	return v, ok
}

func (x *index[K, V]) set(k K, v V) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.m[k] = v
}

func (x *index[K, V]) remove(k K) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.m, k)
}

// find returns the first value for which match is true.
func (x *index[K, V]) find(match func(V) bool) (V, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, v := range x.m {
		if match(v) {
			return v, true
		}
	}
	var zero V
	return zero, false
}
