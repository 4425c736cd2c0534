package receiver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"golang.org/x/sync/singleflight"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/alerting"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// maxCallbackBody bounds a callback's body. WeCom's event envelopes are a few kilobytes.
const maxCallbackBody = 64 << 10

// Callback outcomes, the outcome label of wecom_callbacks_total.
const (
	outcomeHandled      = "handled"     // the objects concerned were told, or nothing concerned any
	outcomeDuplicate    = "duplicate"   // a retry of an event already handled
	outcomeVerified     = "verified"    // URL verification answered
	outcomeRefused      = "refused"     // bad signature, wrong corp, unknown or unconfigured connection
	outcomeMalformed    = "malformed"   // not a WeCom envelope, or its plaintext does not parse
	outcomeTooLarge     = "too_large"   // the body is over maxCallbackBody
	outcomeError        = "error"       // the API server failed; WeCom retries
	outcomeNotAllowed   = "not_allowed" // neither GET nor POST
	lastReceivedEvery   = time.Minute   // how often status.callback.lastReceivedTime is written
	handledIdentityTTL  = 10 * time.Minute
	maxHandledIdentites = 10000
)

// Callbacks serves WeCom's callbacks (接收事件服务器) for every WeComConnection with
// spec.callback, at /wecom/callback/<namespace>/<name>: the URL verification (GET) and event
// deliveries (POST), verified and decrypted as reference §13 specifies (internal/wecom).
//
// A request that is not WeCom's for a configured connection (a wrong signature, another
// corp's payload, an unknown connection, a body over 64 KiB) changes nothing and is answered
// 403 (413 for the size), the same for an unknown connection as for a wrong signature; WeCom
// retries a failed delivery three times at most. An event is answered 200 only once what it
// asks for is done (the objects concerned marked for a fresh read, a customer recorded and
// welcomed, an alert card's click acted on: cards.go), so an event lost to a crash is
// retried by WeCom; a retry of an event already
// handled is answered 200 and changes nothing (events are told apart by their identity,
// wecom.CallbackIdentity: WeCom's events carry no id of their own).
//
// Nothing from a callback is logged but its connection, event type and the WeCom ids it
// names: never the Token, the key or the decrypted personal data.
type Callbacks struct {
	Client    client.Client
	APIReader client.Reader
	Connector *controller.Connector
	Recorder  events.EventRecorder
	// SendWelcome sends a ContactWay's welcome message with a customer's welcome code.
	SendWelcome func(ctx context.Context, conn *controller.Connection, code string, w *v1.ContactWayWelcome) error
	// AlertmanagerHTTP calls Alertmanager's API for the Silence buttons of alert cards.
	AlertmanagerHTTP *http.Client
	// Watches says whether the manager watches a namespace; nil is every namespace.
	Watches func(namespace string) bool

	flight  singleflight.Group
	mu      sync.Mutex
	handled map[string]time.Time // identities handled, per connection, with when
	written map[types.NamespacedName]time.Time
}

// NewCallbacks returns the callback handler of the manager's receiver.
func NewCallbacks(c client.Client, apiReader client.Reader, connector *controller.Connector, recorder events.EventRecorder) *Callbacks {
	return &Callbacks{Client: c, APIReader: apiReader, Connector: connector, Recorder: recorder, SendWelcome: sendWelcome,
		AlertmanagerHTTP: alerting.NewAlertmanagerHTTPClient()}
}

func (h *Callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, code, body, outcome, event := h.serve(w, r)
	callbacksTotal.WithLabelValues(key.Namespace, key.Name, event, outcome).Inc()
	if body != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// serve answers one request: the connection it was for (empty when unknown), the HTTP status
// and body, and the outcome and event type for the metrics.
func (h *Callbacks) serve(w http.ResponseWriter, r *http.Request) (types.NamespacedName, int, string, string, string) {
	ctx := r.Context()
	log := logf.FromContext(ctx)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return types.NamespacedName{}, http.StatusMethodNotAllowed, "", outcomeNotAllowed, ""
	}
	ns, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, controller.CallbackPathPrefix), "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, http.StatusForbidden, "", outcomeRefused, ""
	}
	key := types.NamespacedName{Namespace: ns, Name: name}
	if !watched(h.Watches, ns) {
		log.V(1).Info("refused a WeCom callback for a namespace the operator does not watch")
		return types.NamespacedName{}, http.StatusForbidden, "", outcomeRefused, ""
	}
	conn := &v1.WeComConnection{}
	if err := h.Client.Get(ctx, key, conn); err != nil {
		if apierrors.IsNotFound(err) {
			// Labelled as unknown: the path is the caller's to choose, the metric's labels not.
			log.V(1).Info("refused a WeCom callback for a connection that does not exist")
			return types.NamespacedName{}, http.StatusForbidden, "", outcomeRefused, ""
		}
		log.Error(err, "reading the WeComConnection of a callback", "connection", key)
		return key, http.StatusServiceUnavailable, "", outcomeError, ""
	}
	crypto, err := controller.CallbackCrypto(ctx, h.Connector, conn)
	if err != nil {
		if _, msg, waiting := controller.IsWaiting(err); waiting {
			log.V(1).Info("refused a WeCom callback: callbacks are not configured", "connection", key, "why", msg)
			return key, http.StatusForbidden, "", outcomeRefused, ""
		}
		log.Error(err, "reading the callback Secret", "connection", key)
		return key, http.StatusServiceUnavailable, "", outcomeError, ""
	}
	q := r.URL.Query()
	sig, ts, nonce := q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce")

	if r.Method == http.MethodGet {
		plain, err := crypto.VerifyURL(sig, ts, nonce, q.Get("echostr"))
		if err != nil {
			outcome, code := refusal(err)
			log.V(1).Info("refused a WeCom URL verification", "connection", key, "why", err.Error())
			return key, code, "", outcome, ""
		}
		h.received(ctx, conn)
		log.Info("answered WeCom's URL verification", "connection", key)
		// The bare plaintext: no quotes, no newline (§13).
		return key, http.StatusOK, string(plain), outcomeVerified, ""
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return key, http.StatusRequestEntityTooLarge, "", outcomeTooLarge, ""
		}
		return key, http.StatusBadRequest, "", outcomeMalformed, ""
	}
	plain, err := crypto.DecryptMessage(sig, ts, nonce, body)
	if err != nil {
		outcome, code := refusal(err)
		log.V(1).Info("refused a WeCom callback", "connection", key, "why", err.Error())
		return key, code, "", outcome, ""
	}
	ev, err := wecom.ParseCallbackEvent(plain)
	if err != nil {
		log.Info("a WeCom callback's plaintext does not parse; acknowledged so that WeCom does not retry it", "connection", key, "why", err.Error())
		return key, http.StatusOK, "", outcomeMalformed, ""
	}
	h.received(ctx, conn)

	// A retry that arrives while the first delivery is still being handled waits for it.
	id := key.String() + "|" + ev.Header().Identity
	if h.wasHandled(id) {
		return key, http.StatusOK, "", outcomeDuplicate, eventName(ev)
	}
	_, err, _ = h.flight.Do(id, func() (any, error) {
		if h.wasHandled(id) {
			return nil, nil
		}
		if err := h.handle(ctx, conn, ev); err != nil {
			return nil, err
		}
		h.markHandled(id)
		return nil, nil
	})
	if err != nil {
		log.Error(err, "handling a WeCom callback; WeCom will retry it", "connection", key, "event", eventName(ev))
		return key, http.StatusInternalServerError, "", outcomeError, eventName(ev)
	}
	return key, http.StatusOK, "", outcomeHandled, eventName(ev)
}

// refusal maps a crypto error to the outcome and HTTP status of the answer.
func refusal(err error) (string, int) {
	if errors.Is(err, wecom.ErrMalformed) {
		return outcomeMalformed, http.StatusBadRequest
	}
	return outcomeRefused, http.StatusForbidden
}

func (h *Callbacks) wasHandled(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	at, ok := h.handled[id]
	return ok && time.Since(at) < handledIdentityTTL
}

// markHandled remembers an identity for the time WeCom retries in, within a bounded set.
func (h *Callbacks) markHandled(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.handled == nil {
		h.handled = map[string]time.Time{}
	}
	now := time.Now()
	if len(h.handled) >= maxHandledIdentites {
		for k, at := range h.handled {
			if now.Sub(at) >= handledIdentityTTL || len(h.handled) >= maxHandledIdentites {
				delete(h.handled, k)
			}
		}
	}
	h.handled[id] = now
}

// received records that a valid callback arrived: in status.callback.lastReceivedTime, at
// most once a minute per connection (each replica keeps its own minute).
func (h *Callbacks) received(ctx context.Context, conn *v1.WeComConnection) {
	key := client.ObjectKeyFromObject(conn)
	now := time.Now()
	h.mu.Lock()
	last, ok := h.written[key]
	if ok && now.Sub(last) < lastReceivedEvery {
		h.mu.Unlock()
		return
	}
	if h.written == nil {
		h.written = map[types.NamespacedName]time.Time{}
	}
	h.written[key] = now
	h.mu.Unlock()

	before := conn.DeepCopy()
	if conn.Status.Callback == nil {
		conn.Status.Callback = &v1.CallbackStatus{Path: controller.CallbackPath(conn.Namespace, conn.Name), Configured: true}
	}
	t := metav1.NewTime(now)
	conn.Status.Callback.LastReceivedTime = &t
	if err := h.Client.Status().Patch(ctx, conn, client.MergeFrom(before)); err != nil {
		logf.FromContext(ctx).Error(err, "recording the last callback's time", "connection", key)
		h.mu.Lock()
		delete(h.written, key)
		h.mu.Unlock()
	}
}
