package controller

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
}

// dependencyError means something the object needs is not there yet. It is not WeCom's
// fault and not the user's for long: the object waits, with a condition that says for what.
type dependencyError struct {
	reason string
	msg    string
}

func (e *dependencyError) Error() string { return e.msg }

func waitFor(reason, format string, args ...any) error {
	return &dependencyError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// Connector turns a connectionRef into a Connection. Secrets are not cached by the manager:
// only their metadata is watched, and a Secret's data is read through the uncached API
// reader when its resourceVersion changes.
type Connector struct {
	Client     client.Client // cached: WeComConnections and Secret metadata
	APIReader  client.Reader // uncached: Secret data
	HTTPClient *http.Client
	Tokens     *wecom.TokenCache
	Limiters   *wecom.Limiters
	Retry      wecom.RetryPolicy

	mu      sync.Mutex
	secrets map[types.NamespacedName]secretEntry
}

type secretEntry struct {
	version string
	data    map[string][]byte
}

// Connect resolves the connection named by name in namespace.
func (c *Connector) Connect(ctx context.Context, namespace, name string) (*Connection, error) {
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
		if version, err := c.secretVersion(ctx, namespace, conn.Spec.SecretRef.Name); err == nil && version == conn.Status.SecretVersion {
			return nil, waitFor(v1.ReasonConnectionNotReady, "WeComConnection %q is not ready: %s", name, cond.Message)
		}
	}
	return c.connect(ctx, conn)
}

func (c *Connector) connect(ctx context.Context, conn *v1.WeComConnection) (*Connection, error) {
	secret, version, err := c.readSecret(ctx, conn.Namespace, conn.Spec.SecretRef)
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
	out := &Connection{Name: conn.Name, CorpID: conn.Spec.CorpID, Client: cl, SecretVersion: version, CalendarID: conn.Status.CalendarID}
	if conn.Spec.AgentID != nil {
		out.AgentID = *conn.Spec.AgentID
	}
	out.Scope = fmt.Sprintf("%s|%s|%d", conn.Spec.APIURL, conn.Spec.CorpID, out.AgentID)
	return out, nil
}

func (c *Connector) secretVersion(ctx context.Context, namespace, name string) (string, error) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := c.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, m); err != nil {
		return "", err
	}
	return m.ResourceVersion, nil
}

// readSecret returns the selected key's value, reading the Secret's data only when its
// resourceVersion differs from the one last read.
func (c *Connector) readSecret(ctx context.Context, namespace string, ref v1.SecretKeySelector) (string, string, error) {
	key := types.NamespacedName{Namespace: namespace, Name: ref.Name}
	version, err := c.secretVersion(ctx, namespace, ref.Name)
	if apierrors.IsNotFound(err) {
		return "", "", waitFor(v1.ReasonSecretNotFound, "Secret %q not found in namespace %q; create it with the app's secret under key %q", ref.Name, namespace, ref.Key)
	}
	if err != nil {
		return "", "", err
	}
	c.mu.Lock()
	entry, ok := c.secrets[key]
	c.mu.Unlock()
	if !ok || entry.version != version {
		s := &corev1.Secret{}
		if err := c.APIReader.Get(ctx, key, s); err != nil {
			if apierrors.IsNotFound(err) {
				return "", "", waitFor(v1.ReasonSecretNotFound, "Secret %q not found in namespace %q", ref.Name, namespace)
			}
			return "", "", err
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
