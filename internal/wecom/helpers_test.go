package wecom

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testCorp   = "wwcorp0001"
	testSecret = "s3cret-DO-NOT-PRINT-9f8e7d"
)

// fakeWeCom is a scriptable WeCom for unit tests: gettoken issues tok-1, tok-2, … and every
// other endpoint answers what the test registered, after checking the token.
type fakeWeCom struct {
	t   *testing.T
	srv *httptest.Server

	tokenCalls atomic.Int64
	// tokenGate, if set, holds every gettoken until it is closed, to keep a fetch in flight
	// while callers pile up.
	tokenGate chan struct{}
	// tokenReply, if set, replaces the normal gettoken reply.
	tokenReply func(w http.ResponseWriter, r *http.Request)
	expiresIn  int

	mu       sync.Mutex
	valid    map[string]bool // tokens the fake accepts
	handlers map[string]http.HandlerFunc
	requests []recorded
	apiCalls map[string]int
}

type recorded struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
}

func newFake(t *testing.T) *fakeWeCom {
	t.Helper()
	f := &fakeWeCom{t: t, expiresIn: 7200, valid: map[string]bool{}, handlers: map[string]http.HandlerFunc{}, apiCalls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeWeCom) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	api := strings.TrimPrefix(r.URL.Path, "/cgi-bin/")
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.Query(), body})
	f.apiCalls[api]++
	h := f.handlers[api]
	f.mu.Unlock()
	r.Body = io.NopCloser(strings.NewReader(string(body)))

	if api == "gettoken" {
		n := f.tokenCalls.Add(1)
		if f.tokenGate != nil {
			select {
			case <-f.tokenGate:
			case <-r.Context().Done():
				return
			}
		}
		if f.tokenReply != nil {
			f.tokenReply(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("corpid") != testCorp {
			writeJSON(w, `{"errcode":40013,"errmsg":"invalid corpid"}`)
			return
		}
		if q.Get("corpsecret") != testSecret {
			writeJSON(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
			return
		}
		tok := fmt.Sprintf("tok-%d", n)
		f.mu.Lock()
		f.valid[tok] = true
		f.mu.Unlock()
		writeJSON(w, fmt.Sprintf(`{"errcode":0,"errmsg":"ok","access_token":%q,"expires_in":%d}`, tok, f.expiresIn))
		return
	}
	if h == nil {
		http.NotFound(w, r)
		return
	}
	if !strings.HasPrefix(api, "webhook/") {
		tok := r.URL.Query().Get("access_token")
		f.mu.Lock()
		ok := f.valid[tok]
		f.mu.Unlock()
		if !ok {
			writeJSON(w, `{"errcode":40014,"errmsg":"invalid access_token"}`)
			return
		}
	}
	h(w, r)
}

func writeJSON(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = io.WriteString(w, s)
}

// on registers a handler for an endpoint path such as "department/get".
func (f *fakeWeCom) on(api string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[api] = h
}

// reply makes api answer body.
func (f *fakeWeCom) reply(api, body string) {
	f.on(api, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, body) })
}

// revoke makes the fake reject a token (as WeCom does "出于运营需要").
func (f *fakeWeCom) revoke(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.valid, tok)
}

func (f *fakeWeCom) calls(api string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.apiCalls[api]
}

func (f *fakeWeCom) last(api string) recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Path == "/cgi-bin/"+api {
			return f.requests[i]
		}
	}
	f.t.Fatalf("no request to %s", api)
	return recorded{}
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// unlimited is a limiter registry that never delays, so tests of other things are not slowed.
func unlimited() *Limiters {
	return NewLimiters(LimitersOptions{Default: RateLimit{PerSecond: -1}, Endpoint: map[string]RateLimit{}})
}

// fastRetry retries quickly.
var fastRetry = RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 3 * time.Millisecond}

// newTestClient returns a client for f with its own token cache and no rate limit.
func newTestClient(t *testing.T, f *fakeWeCom, mods ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:    f.srv.URL,
		CorpID:     testCorp,
		Secret:     testSecret,
		HTTPClient: f.srv.Client(),
		Retry:      fastRetry,
		Tokens:     NewTokenCache(TokenCacheOptions{}),
		Limiters:   unlimited(),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// settle waits until no gettoken of the cache is in flight: a background refresh started by
// the last call has then recorded its result, and the test may move its clock on.
func (c *TokenCache) settle() {
	for {
		c.mu.Lock()
		var f *tokenFlight
		for _, e := range c.entries {
			if e.flight != nil {
				f = e.flight
				break
			}
		}
		c.mu.Unlock()
		if f == nil {
			return
		}
		<-f.done
	}
}

// diffValues returns "" if want and got are deeply equal, else both as indented JSON (the
// module has no diff library, and JSON shows the wire view that matters here).
func diffValues(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	return fmt.Sprintf("\n--- want (%T)\n%s\n+++ got (%T)\n%s", want, w, got, g)
}
