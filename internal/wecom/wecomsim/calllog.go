package wecomsim

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"time"
)

// Call is one entry of the call log. Credentials are never recorded:
// access_token, corpsecret and key are removed from the query and from a
// top-level JSON body field of the same name.
type Call struct {
	// Seq is the call's place in the log: calls are logged, and numbered, in the order the
	// simulator answered them, each before its reply was written.
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"` // simulator clock
	// Endpoint is the URL path without the query, e.g. "/cgi-bin/user/get".
	Endpoint string `json:"endpoint"`
	Method   string `json:"method"`
	// Query holds the remaining query parameters (e.g. corpid, id).
	Query map[string]string `json:"query,omitempty"`
	Body  string            `json:"body,omitempty"`
	// AgentID/App identify the caller once its token (or robot key) was
	// resolved; AgentID 0 with App set is the contacts-sync secret.
	AgentID int64  `json:"agent_id,omitempty"`
	App     string `json:"app,omitempty"`
	ErrCode int    `json:"errcode"`
	// HTTPStatus is 200 for normal replies, 404 for unknown paths, 5xx for
	// injected server errors and 0 when the connection was dropped.
	HTTPStatus int `json:"http_status"`
	// Fault names the injected fault that shaped this call, if any.
	Fault string `json:"fault,omitempty"`
	// Detail says why the simulator chose a non-zero errcode (debug aid).
	Detail string `json:"detail,omitempty"`
}

var secretParams = []string{"access_token", "corpsecret", "key"}

func (s *Sim) finishCall(c *call, rep reply, status int, fault string) {
	entry := Call{
		Time:       c.now,
		Endpoint:   c.req.URL.Path,
		Method:     c.req.Method,
		Query:      sanitizeQuery(c.query),
		Body:       sanitizeBody(c.body),
		AgentID:    c.agentID,
		App:        c.appName,
		ErrCode:    rep.code,
		HTTPStatus: status,
		Fault:      fault,
		Detail:     rep.detail,
	}
	s.mu.Lock()
	// Seq is the call's place in the log, given when it is answered (before the reply is
	// written), not when it arrived: calls that overlap are answered in another order than
	// they came, and "the calls after this one" must not include one answered before it.
	s.logSeq++
	entry.Seq = s.logSeq
	s.calls = append(s.calls, entry)
	// Trim in chunks (a quarter of the cap) so a full log does not cost a
	// copy of the whole log on every call.
	if len(s.calls) > s.opts.MaxCalls+s.opts.MaxCalls/4 {
		s.calls = slices.Clone(s.calls[len(s.calls)-s.opts.MaxCalls:])
	}
	s.mu.Unlock()
	if s.opts.OnCall != nil {
		s.opts.OnCall(entry)
	}
}

func sanitizeQuery(q url.Values) map[string]string {
	out := map[string]string{}
	for k, v := range q {
		if slices.Contains(secretParams, k) || len(v) == 0 {
			continue
		}
		out[k] = v[0]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sanitizeBody blanks credentials a client wrongly put in the JSON body.
func sanitizeBody(body []byte) string {
	if !bytes.Contains(body, []byte("access_token")) && !bytes.Contains(body, []byte("corpsecret")) &&
		!bytes.Contains(body, []byte(`"key"`)) {
		return string(body)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return string(body)
	}
	changed := false
	for _, k := range secretParams {
		if _, ok := m[k]; ok {
			m[k] = json.RawMessage(`"REDACTED"`)
			changed = true
		}
	}
	if !changed {
		return string(body)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return string(b)
}

// Calls returns a copy of the call log, oldest first (at most about
// Options.MaxCalls entries are kept).
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.calls)
	for i := range out {
		out[i].Query = cloneMap(out[i].Query)
	}
	return out
}

// CallsTo returns the logged calls to one endpoint ("user/create" or
// "/cgi-bin/user/create").
func (s *Sim) CallsTo(endpoint string) []Call {
	name := normalizeEndpoint(endpoint)
	var out []Call
	for _, c := range s.Calls() {
		if normalizeEndpoint(c.Endpoint) == name {
			out = append(out, c)
		}
	}
	return out
}

// CallCount counts logged calls to one endpoint (any outcome).
func (s *Sim) CallCount(endpoint string) int { return len(s.CallsTo(endpoint)) }

// CallCounts returns the number of logged calls per endpoint path.
func (s *Sim) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.calls {
		out[normalizeEndpoint(c.Endpoint)]++
	}
	return out
}

// ClearCalls empties the call log.
func (s *Sim) ClearCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
