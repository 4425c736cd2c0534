// Package receiver serves the manager's HTTP endpoints for callers outside the cluster's
// API: Alertmanager's webhook (/alertmanager/<namespace>/<name>, one per AlertReceiver) and
// WeCom's callbacks (/wecom/callback/<namespace>/<name>, one per WeComConnection). Both run
// on every replica, on one listener; they need no leader because everything they do is a
// write to the API server that the leader's controllers act on.
package receiver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/alerting"
	"github.com/wecom-dev/wecom-operator/internal/controller"

	// Receivers name IANA time zones; the manager image may have no zoneinfo.
	_ "time/tzdata"
)

// Alertmanager serves Alertmanager's webhook (payload version 4) for every AlertReceiver. It
// answers 2xx only once the Notifications are stored, so Alertmanager's own retries cover
// every failure before that; the Notification names are derived from the payload, so a
// retried POST finds them already there and creates nothing new. Creating Notifications
// needs no leader: the leader's Notification controller sends them.
type Alertmanager struct {
	Client    client.Client
	Connector *controller.Connector
	Recorder  events.EventRecorder
	// Watches says whether the manager watches a namespace (controller.Options.Watches);
	// nil is every namespace.
	Watches func(namespace string) bool
}

// alertResponse is the JSON body of every answer.
type alertResponse struct {
	Notifications []string `json:"notifications,omitempty"`
	Error         string   `json:"error,omitempty"`
}

func (s *Alertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, body := s.serve(r.Context(), w, r)
	alertmanagerRequestsTotal.WithLabelValues(strconv.Itoa(code)).Inc()
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wecom-operator", Basic realm="wecom-operator"`)
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Alertmanager) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, alertResponse) {
	log := logf.FromContext(ctx)
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, alertResponse{Error: "POST an Alertmanager webhook payload"}
	}
	ns, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, controller.AlertmanagerPathPrefix), "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return http.StatusNotFound, alertResponse{Error: "the path is " + controller.AlertmanagerPathPrefix + "<namespace>/<name> of an AlertReceiver"}
	}
	rcv := &v1.AlertReceiver{}
	if !watched(s.Watches, ns) {
		// The cache cannot read it; to a caller it does not exist.
		log.V(1).Info("refused an Alertmanager request for a namespace the operator does not watch", "receiver", ns+"/"+name)
		return unauthorized()
	}
	if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, rcv); err != nil {
		if apierrors.IsNotFound(err) {
			// The same answer as wrong credentials, so that a caller cannot learn which
			// receivers exist.
			log.V(1).Info("refused an Alertmanager request for a receiver that does not exist", "receiver", ns+"/"+name)
			return unauthorized()
		}
		log.Error(err, "reading AlertReceiver", "namespace", ns, "name", name)
		return http.StatusServiceUnavailable, alertResponse{Error: "cannot read the AlertReceiver; retry"}
	}
	switch err := s.authorize(ctx, rcv, r); {
	case errors.Is(err, errUnauthorized):
		log.V(1).Info("refused an Alertmanager request without valid credentials", "receiver", ns+"/"+name)
		return unauthorized()
	case err != nil:
		log.Error(err, "reading the AlertReceiver's credentials", "receiver", ns+"/"+name)
		return http.StatusServiceUnavailable, alertResponse{Error: "cannot read the credentials; retry"}
	}

	msg, err := alerting.Decode(http.MaxBytesReader(w, r.Body, alerting.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || errors.Is(err, alerting.ErrTooLarge) {
			return http.StatusRequestEntityTooLarge, alertResponse{Error: "payload larger than 4 MiB"}
		}
		return http.StatusBadRequest, alertResponse{Error: err.Error()}
	}

	notifications, warnings := alerting.Build(rcv, msg, s.template(rcv))
	for _, w := range warnings {
		s.warn(rcv, w)
	}
	names := make([]string, 0, len(notifications))
	for _, n := range notifications {
		stored, err := s.store(ctx, n, alerting.RetryWindow(&rcv.Spec))
		if err != nil {
			log.Error(err, "creating a Notification for Alertmanager", "receiver", ns+"/"+name, "notification", n.Name)
			return http.StatusInternalServerError, alertResponse{Notifications: names, Error: "cannot store the Notification; retry"}
		}
		names = append(names, stored)
	}
	log.V(1).Info("stored Alertmanager notification", "receiver", ns+"/"+name, "status", msg.Status, "alerts", len(msg.Alerts), "notifications", names)
	return http.StatusOK, alertResponse{Notifications: names}
}

// store creates n unless a Notification with the same alerts in the same state (the same
// wecom.dev/alert-key) was made less than window ago: then Alertmanager is retrying, or an
// Alertmanager peer sent the same notification, and the existing one is the answer. Older ones
// mean a repeat_interval reminder, stored as the next "-r<n>" of the message. Concurrent
// retries compute the same name, so at most one of them creates it.
func (s *Alertmanager) store(ctx context.Context, n *v1.Notification, window time.Duration) (string, error) {
	list := &v1.NotificationList{}
	if err := s.Client.List(ctx, list, client.InNamespace(n.Namespace), client.MatchingLabels{v1.LabelAlertKey: n.Labels[v1.LabelAlertKey]}); err != nil {
		return "", err
	}
	next := 0
	var youngest *v1.Notification
	for i := range list.Items {
		item := &list.Items[i]
		if k, err := strconv.Atoi(item.Annotations[v1.AnnotationAlertRepeat]); err == nil {
			next = max(next, k+1)
		}
		if youngest == nil || item.CreationTimestamp.After(youngest.CreationTimestamp.Time) {
			youngest = item
		}
	}
	if youngest != nil && time.Since(youngest.CreationTimestamp.Time) < window {
		return youngest.Name, nil
	}
	if next > 0 {
		n.Name = fmt.Sprintf("%s-r%d", n.Name, next)
		n.Annotations[v1.AnnotationAlertRepeat] = strconv.Itoa(next)
	}
	if err := s.Client.Create(ctx, n); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", err
	}
	return n.Name, nil
}

// template is the receiver's template, or the built-in one while the receiver's is refused:
// the reconciler has found it over its budget, or it does not parse.
func (s *Alertmanager) template(rcv *v1.AlertReceiver) *alerting.Template {
	loc, err := time.LoadLocation(controller.ReceiverTimezone(rcv))
	if err != nil {
		loc = time.UTC
	}
	markdown := rcv.Spec.Format != v1.AlertFormatText
	text := rcv.Spec.Template
	if c := meta.FindStatusCondition(rcv.Status.Conditions, v1.ConditionReady); c != nil &&
		c.Reason == v1.ReasonTemplateInvalid && c.ObservedGeneration == rcv.Generation {
		s.warn(rcv, "the template is refused ("+v1.ReasonTemplateInvalid+"); the built-in template was used")
		text = ""
	}
	tmpl, err := alerting.Parse(text, markdown, loc)
	if err != nil {
		s.warn(rcv, "the template is refused; the built-in template was used: "+err.Error())
		tmpl, _ = alerting.Parse("", markdown, loc)
	}
	return tmpl
}

func (s *Alertmanager) warn(rcv *v1.AlertReceiver, note string) {
	if s.Recorder != nil {
		s.Recorder.Eventf(rcv, nil, "Warning", v1.ReasonTemplateFailed, "Render", "%s", note)
	}
}

var errUnauthorized = errors.New("unauthorized")

// unauthorized is the answer to wrong credentials and to a receiver that does not exist alike.
func unauthorized() (int, alertResponse) {
	return http.StatusUnauthorized, alertResponse{Error: "missing or wrong credentials"}
}

// authorize checks the request's bearer token or basic auth against the receiver's Secret,
// in constant time. A Secret that is missing or lacks the key authorizes nobody.
func (s *Alertmanager) authorize(ctx context.Context, rcv *v1.AlertReceiver, r *http.Request) error {
	want, err := controller.ReceiverCredentials(ctx, s.Connector, rcv)
	if err != nil {
		if _, _, waiting := controller.IsWaiting(err); waiting {
			return errUnauthorized
		}
		return err
	}
	if len(want) == 1 {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if ok && strings.EqualFold(scheme, "Bearer") && equalSecret(strings.TrimSpace(token), want[0]) {
			return nil
		}
		return errUnauthorized
	}
	user, pass, ok := r.BasicAuth()
	userOK, passOK := equalSecret(user, want[0]), equalSecret(pass, want[1])
	if ok && userOK && passOK {
		return nil
	}
	return errUnauthorized
}

// equalSecret compares a presented credential with the stored one (trimmed of surrounding
// whitespace, as Alertmanager trims credentials files) without leaking timing.
func equalSecret(got, want string) bool {
	want = strings.TrimSpace(want)
	if want == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// watched says whether ns is one of the manager's namespaces (all when watches is nil).
func watched(watches func(string) bool, ns string) bool {
	return watches == nil || watches(ns)
}
