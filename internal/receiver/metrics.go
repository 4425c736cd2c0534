package receiver

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
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
)

func init() {
	for _, c := range []prometheus.Collector{alertmanagerRequestsTotal, callbacksTotal} {
		if err := metrics.Registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
}
