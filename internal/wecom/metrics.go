package wecom

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics are registered with controller-runtime's registry, so the manager's /metrics
// endpoint serves them. Labels are endpoint paths, errcodes and corp IDs only: never a URL,
// token, secret or robot key.
var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_requests_total",
		Help: "HTTP requests to WeCom by endpoint path and result: the errcode (0 = success), http_<status>, network, or decode.",
	}, []string{"endpoint", "errcode"})

	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "wecom_request_duration_seconds",
		Help:    "Duration of single HTTP requests to WeCom (one attempt), by endpoint path.",
		Buckets: []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"endpoint"})

	tokenFetchesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_token_fetches_total",
		Help: "gettoken calls by corp ID (successful or not). A steady rate above one per app per ~96 minutes means tokens are being rejected or not shared.",
	}, []string{"corp_id"})

	retriesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_retries_total",
		Help: "Retries by endpoint path and reason: errcode_<n>, http_<status>, network, or token_rejected (40014/42001, repeated once with a fresh token).",
	}, []string{"endpoint", "reason"})

	rateLimitedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_client_rate_limited_total",
		Help: "Calls the client's own rate limiter delayed (outcome=delayed) or refused (outcome=refused), by endpoint path.",
	}, []string{"endpoint", "outcome"})
)

func init() { registerMetrics(metrics.Registry) }

// registerMetrics tolerates an earlier registration of the same collectors (for example by a
// test binary that registers them itself).
func registerMetrics(r prometheus.Registerer) {
	for _, c := range []prometheus.Collector{requestsTotal, requestDuration, tokenFetchesTotal, retriesTotal, rateLimitedTotal} {
		if err := r.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
}
