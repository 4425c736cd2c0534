package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A small client of Alertmanager's API v2, for the Silence buttons of cards: create a
// silence, and find the one an interrupted attempt created.

// AlertmanagerTimeout bounds one call. WeCom waits 5 s for the answer to a callback, and a
// click's callback is answered only once its silence exists.
const AlertmanagerTimeout = 3 * time.Second

// maxAlertmanagerBody bounds what is read of an answer.
const maxAlertmanagerBody = 1 << 20

// NewAlertmanagerHTTPClient is an HTTP client for Alertmanager: a short timeout, and no
// redirects followed, so credentials go to the configured URL and nowhere else.
func NewAlertmanagerHTTPClient() *http.Client {
	return &http.Client{
		Timeout: AlertmanagerTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Matcher is one label matcher of a silence.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

// Matchers are equality matchers for labels, sorted by name (alertname first).
func Matchers(labels map[string]string) []Matcher {
	pairs := KV(labels).SortedPairs()
	out := make([]Matcher, len(pairs))
	for i, p := range pairs {
		out[i] = Matcher{Name: p.Name, Value: p.Value, IsEqual: true}
	}
	return out
}

// Silence is a silence to create (Alertmanager's postableSilence).
type Silence struct {
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
}

// AlertmanagerClient calls one Alertmanager's API v2.
type AlertmanagerClient struct {
	// URL is the base URL; the API is under URL/api/v2.
	URL string
	// HTTP is the client (NewAlertmanagerHTTPClient).
	HTTP *http.Client
	// BearerToken, or Username and Password, are sent when set.
	BearerToken        string
	Username, Password string
}

// AlertmanagerError is a call Alertmanager did not answer with success.
type AlertmanagerError struct {
	Op string
	// StatusCode is the HTTP status; 0 when no answer came.
	StatusCode int
	// Message is Alertmanager's error text (at most 200 bytes), or the transport error.
	Message string
}

func (e *AlertmanagerError) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("Alertmanager %s: %s", e.Op, e.Message)
	}
	if e.Message == "" {
		return fmt.Sprintf("Alertmanager %s: HTTP %d", e.Op, e.StatusCode)
	}
	return fmt.Sprintf("Alertmanager %s: HTTP %d: %s", e.Op, e.StatusCode, e.Message)
}

// Retryable says whether the same call may succeed later: no answer, 429 or 5xx.
func (e *AlertmanagerError) Retryable() bool {
	return e.StatusCode == 0 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// IsRetryableAlertmanager says whether err is an Alertmanager call worth trying again.
func IsRetryableAlertmanager(err error) bool {
	var ae *AlertmanagerError
	return errors.As(err, &ae) && ae.Retryable()
}

// CreateSilence creates s (POST /api/v2/silences) and returns its id.
func (c *AlertmanagerClient) CreateSilence(ctx context.Context, s Silence) (string, error) {
	body, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := c.do(ctx, "create silence", http.MethodPost, "/api/v2/silences", nil, body, &out); err != nil {
		return "", err
	}
	if out.SilenceID == "" {
		return "", &AlertmanagerError{Op: "create silence", StatusCode: http.StatusOK, Message: "the answer has no silenceID"}
	}
	return out.SilenceID, nil
}

// FindSilence returns the id of an active or pending silence with exactly these matchers
// whose comment contains marker, or "".
func (c *AlertmanagerClient) FindSilence(ctx context.Context, matchers []Matcher, marker string) (string, error) {
	// Narrowed on the server by the matchers whose values need no escaping (Alertmanager's
	// matcher syntax is not Go's quoting); the rest are compared here.
	q := url.Values{}
	for _, m := range matchers {
		if plainValue(m.Value) {
			q.Add("filter", m.Name+`="`+m.Value+`"`)
		}
	}
	var list []struct {
		ID       string    `json:"id"`
		Matchers []Matcher `json:"matchers"`
		Comment  string    `json:"comment"`
		Status   struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := c.do(ctx, "list silences", http.MethodGet, "/api/v2/silences", q, nil, &list); err != nil {
		return "", err
	}
	for _, s := range list {
		if (s.Status.State == "active" || s.Status.State == "pending") && strings.Contains(s.Comment, marker) &&
			sameMatchers(s.Matchers, matchers) {
			return s.ID, nil
		}
	}
	return "", nil
}

func plainValue(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:/- ", r)) {
			return false
		}
	}
	return true
}

func sameMatchers(a, b []Matcher) bool {
	key := func(ms []Matcher) []string {
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = fmt.Sprintf("%q %q %t %t", m.Name, m.Value, m.IsRegex, m.IsEqual)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func (c *AlertmanagerClient) do(ctx context.Context, op, method, path string, q url.Values, body []byte, out any) error {
	u := strings.TrimRight(c.URL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &AlertmanagerError{Op: op, Message: "bad URL"}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case c.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+c.BearerToken)
	case c.Username != "" || c.Password != "":
		req.SetBasicAuth(c.Username, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = NewAlertmanagerHTTPClient()
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL error names the URL, which holds no credential (they go in headers).
		msg := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		return &AlertmanagerError{Op: op, Message: msg}
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAlertmanagerBody))
	if err != nil {
		return &AlertmanagerError{Op: op, Message: "reading the answer: " + err.Error()}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &AlertmanagerError{Op: op, StatusCode: resp.StatusCode, Message: errorText(resp, data)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &AlertmanagerError{Op: op, StatusCode: resp.StatusCode, Message: "the answer is not Alertmanager's JSON"}
	}
	return nil
}

// errorText is Alertmanager's error message (a JSON string, or text), cut to 200 bytes,
// one line. Other bodies (an HTML page of something that is not Alertmanager) are left out.
func errorText(resp *http.Response, data []byte) string {
	var s string
	if json.Unmarshal(data, &s) != nil {
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !utf8.Valid(data) {
			return ""
		}
		s = string(data)
	}
	return cut(oneLine(s), 200)
}
