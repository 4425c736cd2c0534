package wecom

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics are registered with controller-runtime's registry, so the manager's /metrics
// endpoint serves them. Labels are endpoint paths, errcodes and corp IDs only: never a URL,
// token, secret or robot key. Each label has a bounded set of values, whatever the objects
// that tenants create (see corpLabels).
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
		Help: "gettoken calls by corp ID (successful or not). A steady rate above one per app per ~96 minutes means tokens are being rejected or not shared. corp_id is \"unverified\" for corps WeCom never issued a token to, and \"other\" past the first 64 corps.",
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

// maxCorpLabels is how many corps get a corp_id value of their own.
const maxCorpLabels = 64

// Values of corp_id that stand for many corps.
const (
	corpLabelUnverified = "unverified"
	corpLabelOther      = "other"
)

// tokenFetchCorps bounds the corp_id label of wecom_token_fetches_total.
var tokenFetchCorps = &corpLabels{max: maxCorpLabels}

// corpLabels decides the corp_id value of a token fetch. A WeComConnection's corpID is
// whatever its author typed, and anyone who may create one in some namespace could make a
// new series per object. So a corp gets its own value only once WeCom has issued it a token
// (someone holds a real secret of that corp, which a tenant cannot invent), and only the
// first max such corps do; the rest count under "unverified" or "other". The namespace and
// name of the connection would not do: a tenant makes as many of those as they like.
type corpLabels struct {
	mu    sync.Mutex
	max   int
	known map[string]struct{}
}

// label returns corpID's value; issued says whether this fetch got a token.
func (l *corpLabels) label(corpID string, issued bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.known[corpID]; ok {
		return corpID
	}
	if !issued {
		return corpLabelUnverified
	}
	if len(l.known) >= l.max {
		return corpLabelOther
	}
	if l.known == nil {
		l.known = map[string]struct{}{}
	}
	l.known[corpID] = struct{}{}
	return corpID
}

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
