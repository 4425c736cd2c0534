package importer

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Credentials reach one app of a corp. Secret is never printed: it reaches WeCom only
// through the client, which keeps it out of every error.
type Credentials struct {
	APIURL string
	CorpID string
	Secret string
}

// String hides the secret.
func (c Credentials) String() string {
	return fmt.Sprintf("corp %s at %s", c.CorpID, c.APIURL)
}

// Calls counts the HTTP requests sent to WeCom, by endpoint (gettoken, user/get, …),
// retries included: what WeCom's frequency limits count.
type Calls struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *Calls) add(endpoint string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[endpoint]++
}

// ByEndpoint returns a copy of the counts.
func (c *Calls) ByEndpoint() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Total is the number of requests.
func (c *Calls) Total() int {
	n := 0
	for _, v := range c.ByEndpoint() {
		n += v
	}
	return n
}

// String lists the counts by endpoint: "department/list 1, gettoken 2, user/get 504, …".
func (c *Calls) String() string {
	m := c.ByEndpoint()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// countingTransport counts each request by the path below /cgi-bin/ (never the query, which
// holds the token or the secret).
type countingTransport struct {
	next  http.RoundTripper
	calls *Calls
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p := r.URL.Path
	if i := strings.Index(p, "/cgi-bin/"); i >= 0 {
		p = p[i+len("/cgi-bin/"):]
	}
	t.calls.add(p)
	return t.next.RoundTrip(r)
}

// Clients makes the WeCom clients of one import: they share a token cache (one gettoken per
// secret), a rate limiter (WeCom counts calls per corp, whichever app makes them) and the
// call counter.
type Clients struct {
	tokens   *wecom.TokenCache
	limiters *wecom.Limiters
	hc       *http.Client
	// Calls counts every request the clients send.
	Calls *Calls
}

// NewClients paces calls at qps per endpoint with burst (WeCom allows 10,000 a minute per
// API and corp, about 166 a second; the operator's default is 40, leaving room for it and
// other tools of the corp).
func NewClients(qps float64, burst int) *Clients {
	calls := &Calls{}
	return &Clients{
		tokens: wecom.NewTokenCache(wecom.TokenCacheOptions{}),
		limiters: wecom.NewLimiters(wecom.LimitersOptions{
			Default: wecom.RateLimit{PerSecond: qps, Burst: max(burst, 1)},
			// An import may wait for its turn: it is not a reconcile worker.
			MaxWait: 10 * time.Minute,
		}),
		hc:    &http.Client{Timeout: wecom.DefaultHTTPTimeout, Transport: &countingTransport{next: http.DefaultTransport, calls: calls}},
		Calls: calls,
	}
}

// New returns a client for creds.
func (c *Clients) New(creds Credentials) (*wecom.Client, error) {
	return wecom.New(wecom.Config{
		BaseURL: creds.APIURL, CorpID: creds.CorpID, Secret: creds.Secret,
		HTTPClient: c.hc, Tokens: c.tokens, Limiters: c.limiters,
	})
}
