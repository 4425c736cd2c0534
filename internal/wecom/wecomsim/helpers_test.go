package wecomsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testStart is a Monday 10:00 UTC; every test runs on a frozen clock.
var testStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// env is a running simulator plus raw-HTTP helpers (no client package).
type env struct {
	t      *testing.T
	srv    *Server
	creds  Credentials
	client *http.Client
	sync   string // contacts-sync token
	app    string // operator app token (agent 1000002)
	lim    string // limited app token (agent 1000003)
	// vars are ids made by a rule's setup: "$NAME" in the rule's body and
	// query is replaced by vars["NAME"].
	vars map[string]string
}

func newEnv(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	seed, creds := DemoSeed()
	o := Options{Seed: &seed, Now: testStart, ActivateCreatedUsers: true, PlainErrmsg: true}
	for _, f := range opts {
		f(&o)
	}
	e := &env{t: t, srv: NewServer(t, o), creds: creds,
		// No keep-alive: a dropped connection must never be retried
		// transparently by the transport.
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second},
		vars:   map[string]string{}}
	e.sync = e.token(creds.ContactsSecret)
	e.app = e.token(creds.AppSecret)
	e.lim = e.token(creds.LimitedAppSecret)
	return e
}

// do performs a raw request and decodes a JSON object reply (nil if the
// body is empty).
func (e *env) do(method, path, body string) (int, map[string]any, error) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if len(raw) == 0 {
		return resp.StatusCode, nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		e.t.Fatalf("%s %s: non-JSON reply %q", method, path, raw)
	}
	return resp.StatusCode, m, nil
}

func (e *env) mustDo(method, path, body string) map[string]any {
	e.t.Helper()
	status, m, err := e.do(method, path, body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != http.StatusOK || m == nil {
		e.t.Fatalf("%s %s: HTTP %d body %v", method, path, status, m)
	}
	return m
}

func (e *env) token(secret string) string {
	e.t.Helper()
	m := e.mustDo("GET", "/cgi-bin/gettoken?corpid="+url.QueryEscape(e.creds.CorpID)+"&corpsecret="+url.QueryEscape(secret), "")
	tok, _ := m["access_token"].(string)
	if code(m) != 0 || tok == "" {
		e.t.Fatalf("gettoken: %v", m)
	}
	return tok
}

// post calls a /cgi-bin/ POST endpoint with a token ("" = none).
func (e *env) post(tok, endpoint, body string) map[string]any {
	e.t.Helper()
	return e.mustDo("POST", apiPath(tok, endpoint, ""), body)
}

// get calls a /cgi-bin/ GET endpoint; query is "k=v&…" without the token.
func (e *env) get(tok, endpoint, query string) map[string]any {
	e.t.Helper()
	return e.mustDo("GET", apiPath(tok, endpoint, query), "")
}

func apiPath(tok, endpoint, query string) string {
	q := query
	if tok != "" {
		if q != "" {
			q += "&"
		}
		q += "access_token=" + url.QueryEscape(tok)
	}
	p := "/cgi-bin/" + endpoint
	if q != "" {
		p += "?" + q
	}
	return p
}

func code(m map[string]any) int {
	f, ok := m["errcode"].(float64)
	if !ok {
		return -999
	}
	return int(f)
}

func (e *env) wantCode(m map[string]any, want int) {
	e.t.Helper()
	if got := code(m); got != want {
		e.t.Fatalf("errcode %d, want %d (reply %v)", got, want, m)
	}
}

// decodeJSON reads a reply; an empty body leaves dst untouched.
func decodeJSON(t *testing.T, resp *http.Response, dst any) {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 {
		return
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		t.Fatalf("non-JSON reply (HTTP %d): %q", resp.StatusCode, raw)
	}
}

// refresh re-fetches the three demo tokens (after a long clock advance).
func (e *env) refresh() {
	e.t.Helper()
	e.sync = e.token(e.creds.ContactsSecret)
	e.app = e.token(e.creds.AppSecret)
	e.lim = e.token(e.creds.LimitedAppSecret)
}
