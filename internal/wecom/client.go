// Package wecom is a typed client for the WeCom (企业微信) server API used by the operator's
// controllers: access tokens (§1 of the reference), departments (§2), users (§3), app group
// chats (§4), 「联系我」 contact ways (§5), calendars and schedules (§6), application messages
// (§7) and group-robot webhooks (§8). See docs/wecom-client.md for coverage, error
// classification and the token, retry and rate-limit design.
//
// Nothing in this package logs. Errors never contain an access token, a secret or a robot
// key: every URL is printed without its query string.
package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is WeCom's API host; endpoints live below <base>/cgi-bin/.
const DefaultBaseURL = "https://qyapi.weixin.qq.com"

// DefaultHTTPTimeout bounds one HTTP request when Config.HTTPClient is nil.
const DefaultHTTPTimeout = 30 * time.Second

// Config configures a Client. Only CorpID and Secret are required; tests inject the rest.
type Config struct {
	// BaseURL is the scheme and host (and optional path prefix) before /cgi-bin/.
	// Default DefaultBaseURL.
	BaseURL string
	// CorpID is the corp's ID (企业ID, "ww…"). Not secret; it appears in metrics.
	CorpID string
	// Secret is the app's secret (corpsecret). Each app has its own token, so use the app
	// whose permissions the calls need (the contacts-sync secret for §2/§3).
	Secret string
	// HTTPClient sends the requests. Default: a client with DefaultHTTPTimeout. The client
	// never follows redirects (it uses a copy of this client with CheckRedirect set), because a
	// redirect would carry the access token in the query to another URL.
	HTTPClient *http.Client
	// Now is the clock used for token lifetimes. Default time.Now.
	Now func() time.Time
	// Retry is the retry policy; zero fields take DefaultRetryPolicy's values.
	Retry RetryPolicy
	// Tokens is the token cache. Default DefaultTokenCache (shared by the process).
	Tokens *TokenCache
	// Limiters is the rate-limiter registry. Default DefaultLimiters (shared by the process).
	Limiters *Limiters
}

// String hides the secret, so a Config can be logged with %v or %+v.
func (c Config) String() string {
	return fmt.Sprintf("wecom.Config{BaseURL:%q CorpID:%q Secret:REDACTED}", redactURL(c.BaseURL), c.CorpID)
}

// GoString hides the secret from %#v.
func (c Config) GoString() string { return c.String() }

// Client calls the WeCom API as one app of one corp. It is safe for concurrent use.
type Client struct {
	core
	corpID string
	secret credential
	key    tokenKey
	tokens *TokenCache
	now    func() time.Time
}

// core is what Client and WebhookClient share: HTTP, retries, limiting, decoding.
type core struct {
	base     *url.URL
	hc       *http.Client
	retry    RetryPolicy
	limiters *Limiters
	scope    string // rate-limiter scope: base URL and corp
	// secrets are scrubbed from every error besides the request's own credentials.
	secrets scrubber
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.CorpID == "" {
		return nil, fmt.Errorf("%w: corp ID is empty", ErrInvalidRequest)
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("%w: secret is empty", ErrInvalidRequest)
	}
	c, err := newCore(cfg.BaseURL, cfg.HTTPClient, cfg.Retry, cfg.Limiters)
	if err != nil {
		return nil, err
	}
	c.scope = c.base.String() + "|" + cfg.CorpID
	c.secrets = scrubber{newCredential(cfg.Secret)}
	cl := &Client{
		core:   c,
		corpID: cfg.CorpID,
		secret: newCredential(cfg.Secret),
		key:    newTokenKey(c.base.String(), cfg.CorpID, cfg.Secret),
		tokens: cfg.Tokens,
		now:    cfg.Now,
	}
	if cl.tokens == nil {
		cl.tokens = DefaultTokenCache
	}
	if cl.now == nil {
		cl.now = time.Now
	}
	return cl, nil
}

func newCore(baseURL string, hc *http.Client, retry RetryPolicy, limiters *Limiters) (core, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return core{}, fmt.Errorf("%w: base URL %q must be http(s)://host[/prefix]", ErrInvalidRequest, redactURL(baseURL))
	}
	if base.RawQuery != "" || base.User != nil {
		return core{}, fmt.Errorf("%w: base URL must not contain a query or user info", ErrInvalidRequest)
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if limiters == nil {
		limiters = DefaultLimiters
	}
	return core{base: base, hc: &noRedirect, retry: retry.withDefaults(), limiters: limiters}, nil
}

// String identifies the client without its secret. Like GoString and Format it has a
// value receiver, so that a Client prints no secret whether it is formatted through a
// pointer or as a value (%v, %+v, %#v, %s, %q, %x of either).
func (c Client) String() string {
	base := ""
	if c.base != nil {
		base = c.base.String()
	}
	return "wecom.Client{corp " + c.corpID + " at " + base + "}"
}

// GoString hides the secret from %#v.
func (c Client) GoString() string { return c.String() }

// Format writes String for every verb: without it, %+v of a Client value would print its
// fields.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// CorpID returns the corp ID the client was made for.
func (c *Client) CorpID() string { return c.corpID }

// CheckCredentials fetches an access token (or reuses the cached one). It proves the corp
// ID and secret; a trusted-IP problem (60020) or a missing permission (48002) shows only on
// the first real call, because gettoken does not check them.
func (c *Client) CheckCredentials(ctx context.Context) error {
	return c.withRetry(ctx, epGetToken, func(ctx context.Context) error {
		_, err := c.token(ctx)
		return err
	})
}

// tokenResponse is the reply of GET gettoken (§1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"` // seconds, normally 7200
}

func (c *Client) token(ctx context.Context) (string, error) {
	return c.tokens.get(ctx, c.key, c.now, c.fetchToken)
}

// fetchToken calls gettoken once; the caller's retry loop repeats it if needed.
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	q := url.Values{"corpid": {c.corpID}, "corpsecret": {c.secret()}}
	var resp tokenResponse
	err := c.send(ctx, epGetToken, q, nil, &resp)
	tokenFetchesTotal.WithLabelValues(tokenFetchCorps.label(c.corpID, err == nil && resp.AccessToken != "")).Inc()
	if err != nil {
		return "", 0, err
	}
	if resp.AccessToken == "" {
		return "", 0, &DecodeError{API: apiGetToken, Err: errors.New("no access_token in reply")}
	}
	return resp.AccessToken, time.Duration(resp.ExpiresIn) * time.Second, nil
}

func isTokenRejected(err error) bool {
	code, api, ok := apiCode(err)
	return ok && api != apiGetToken && (code == ErrCodeInvalidAccessToken || code == ErrCodeAccessTokenExpired)
}

// call makes one API call with retries. query holds the endpoint's own parameters; in is the
// JSON body (nil for GET); out receives the reply (nil to check errcode only).
func (c *Client) call(ctx context.Context, ep endpoint, query url.Values, in, out any) error {
	body, err := encodeBody(ep, in)
	if err != nil {
		return err
	}
	return c.withRetry(ctx, ep, func(ctx context.Context) error {
		for refreshed := false; ; refreshed = true {
			tok, err := c.token(ctx)
			if err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range query {
				q[k] = v
			}
			q.Set("access_token", tok)
			err = c.send(ctx, ep, q, body, out)
			if refreshed || !isTokenRejected(err) {
				return err
			}
			// WeCom may revoke a token before expires_in (§1): drop it unless another
			// goroutine already replaced it, and repeat the call once with a fresh token.
			c.tokens.invalidate(c.key, tok)
			retriesTotal.WithLabelValues(ep.path, "token_rejected").Inc()
			if info := callInfoFrom(ctx); info != nil {
				info.TokenRefreshed = true
			}
		}
	})
}

func encodeBody(ep endpoint, in any) ([]byte, error) {
	if in == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Message bodies may contain <a href> and <div class="gray">; keep them readable and
	// within WeCom's byte limits instead of \u003c-escaping them.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(in); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidRequest, ep.path, err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// marshalNoEscape is json.Marshal without HTML escaping, for MarshalJSON methods: the
// encoder's SetEscapeHTML(false) does not undo escaping a MarshalJSON already did.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// send makes one HTTP request and decodes the reply. Every error it returns is free of
// query strings and of the credential values the request carried.
func (c *core) send(ctx context.Context, ep endpoint, query url.Values, body []byte, out any) error {
	if err := c.limiters.wait(ctx, c.scope, ep.path); err != nil {
		return err
	}
	// The request is built from the URL without the query, which is set afterwards, so that
	// not even a URL parse error can quote a credential.
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, ep.method, c.base.JoinPath("cgi-bin", ep.path).String(), rd)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidRequest, ep.path, err)
	}
	req.URL.RawQuery = query.Encode()
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}

	sc := c.secrets.with(query)
	start := time.Now()
	resp, err := c.hc.Do(req)
	requestDuration.WithLabelValues(ep.path).Observe(time.Since(start).Seconds())
	if err != nil {
		requestsTotal.WithLabelValues(ep.path, "network").Inc()
		return &TransportError{API: ep.path, Err: redactError(err), scrub: sc}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		requestsTotal.WithLabelValues(ep.path, "http_"+strconv.Itoa(resp.StatusCode)).Inc()
		return &TransportError{API: ep.path, StatusCode: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		requestsTotal.WithLabelValues(ep.path, "network").Inc()
		return &TransportError{API: ep.path, Err: redactError(err), scrub: sc}
	}
	if len(data) > maxResponseBytes {
		requestsTotal.WithLabelValues(ep.path, "decode").Inc()
		return &DecodeError{API: ep.path, Err: fmt.Errorf("reply larger than %d bytes", maxResponseBytes)}
	}
	err = decodeResponse(ep.path, data, out)
	requestsTotal.WithLabelValues(ep.path, resultLabel(err)).Inc()
	return scrubError(err, sc)
}

func resultLabel(err error) string {
	if err == nil {
		return "0"
	}
	if code, _, ok := apiCode(err); ok {
		return strconv.Itoa(code)
	}
	return "decode"
}

// Ptr returns a pointer to v, for the optional fields of update requests.
func Ptr[T any](v T) *T { return &v }
