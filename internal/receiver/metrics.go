package receiver

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

var (
	alertmanagerRequestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_alertmanager_requests_total",
		Help: "Alertmanager webhook requests by HTTP status code answered.",
	}, []string{"code"})

	callbacksTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_callbacks_total",
		Help: "WeCom callback requests by connection (empty when unknown), event type (Event/ChangeType; empty when not decrypted) and outcome (handled, duplicate, verified, refused, malformed, too_large, error, not_allowed).",
	}, []string{"namespace", "connection", "event", "outcome"})

	cardActionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_card_actions_total",
		Help: "Clicks on alert card buttons by action (Acknowledge, Silence, unknown) and outcome (done, failed: cannot be done, refused: not a recipient, duplicate: WeCom's retry of a click acted on, retry: left for WeCom to retry).",
	}, []string{"action", "outcome"})
)

// Card action outcomes (wecom_card_actions_total).
const (
	cardDone      = "done"
	cardFailed    = "failed"
	cardRefused   = "refused"
	cardDuplicate = "duplicate"
	cardRetry     = "retry"
	cardUnknown   = "unknown"
)

// countCardAction counts one click on a card's button.
func countCardAction(action v1.AlertCardAction, outcome string) {
	a := string(action)
	if a == "" {
		a = cardUnknown
	}
	cardActionsTotal.WithLabelValues(a, outcome).Inc()
}

func init() {
	// Every action and outcome is served from the start, at 0, so that a dashboard's rate
	// and an alert's increase see the first click.
	for _, a := range []string{string(v1.AlertCardAcknowledge), string(v1.AlertCardSilence), cardUnknown} {
		for _, o := range []string{cardDone, cardFailed, cardRefused, cardDuplicate, cardRetry} {
			cardActionsTotal.WithLabelValues(a, o)
		}
	}
	for _, c := range []prometheus.Collector{alertmanagerRequestsTotal, callbacksTotal, cardActionsTotal} {
		if err := metrics.Registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
}
