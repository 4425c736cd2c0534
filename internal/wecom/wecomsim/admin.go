package wecomsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The admin API lives under /sim/ on the same handler, so tests and demos
// can drive a separate cmd/wecom-sim process. It is never subject to fault
// injection and is not part of the call log. JSON shapes:
//
//	GET  /sim/state                    → Snapshot
//	GET  /sim/calls[?endpoint=user/create][&since=SEQ]
//	                                   → {"calls":[Call…],"counts":{"user/create":3,…}}
//	DELETE /sim/calls                  → {"ok":true}
//	GET  /sim/messages[?channel=message|appchat|webhook][&user=ID][&chatid=ID][&robot=NAME]
//	                                   → {"messages":[Message…],"drops":[Drop…]}
//	DELETE /sim/messages               → {"ok":true}
//	GET  /sim/faults                   → {"rules":[FaultRule…],"down":false}
//	POST /sim/faults  {"clear":true,"rules":[FaultRule…],"add":[FaultRule…],"down":true,
//	                   "revoke_tokens":true,"block":[{"endpoint":"message/send","seconds":60}]}
//	                   every key optional; "clear" runs first, then "rules" replaces all
//	                   rules, then "add" appends to them
//	                                   → the resulting {"rules":…,"down":…}
//	     FaultRule = {"endpoints":["message/send","oa/*"],"latency_ms":200,"reply_delay_ms":0,
//	                  "error_rate":0.1,"http_5xx_rate":0,"drop_rate":0,"lost_reply_rate":0,
//	                  "freq_limit_rate":0,"freq_limit_window_seconds":60}
//	POST /sim/seed    {"reset":true,"demo":true, …Seed fields…}
//	                   reset: wipe state first (with "demo" and no corp: load DemoSeed);
//	                   otherwise merge. → {"ok":true,"credentials":Credentials (demo only)}
//	GET  /sim/clock                    → {"now":RFC3339,"unix":N,"frozen":bool}
//	POST /sim/clock   {"now":"2026-01-02T03:04:05Z"} | {"now_unix":N} | {"advance_seconds":90} | {"real":true}
//	                                   → same as GET
//	POST /sim/activate {"userid":"zhangsan","active":true}
//	                                   → {"ok":true}
//	GET  /sim/callbacks[?since=SEQ]    → {"configs":[{"agent_id":0,"url":"…","configured_at":…}],
//	                                      "deliveries":[CallbackDelivery…]}   (never the token or key)
//	POST /sim/callbacks {"agent_id":0,"url":"http://…","token":"…","encoding_aes_key":"…"}
//	                   agent_id 0 is the contacts-sync app; saving runs WeCom's URL
//	                   verification (1 s); an empty url removes the callback
//	                                   → {"ok":true,"configs":[…]}
//	DELETE /sim/callbacks              → {"ok":true} (clears the delivery log)
//	POST /sim/edit    Edit, e.g. {"op":"update_user","user":{"userid":"lisi","department":[3]}}
//	                   a hand edit in the admin console, pushed to the contacts-sync
//	                   callback; ops create_user, update_user, delete_user ("userid"),
//	                   create_department, update_department, delete_department ("id")
//	                                   → {"ok":true,"id":N (create_department),"deliveries":[SEQ…]}
//	POST /sim/scan    {"config_id":"…"} | {"state":"…"}
//	                   a customer adds the contact way's member
//	                                   → {"external_userid":"wm…","userid":"…","state":"…",
//	                                      "welcome_code":"…","deliveries":[SEQ…]}
//	POST /sim/card/click {"task_id":"…","userid":"lisi","key":"ack",
//	                   "selected":[{"question_key":"q","option_ids":["a"]}],"agent_id":1000002}
//	                   a member clicks a button of an interactive card; pushes
//	                   template_card_event with a fresh response_code to the app's callback
//	                   ("selected" and "agent_id" optional)
//	                                   → CardClickResult {"event":"template_card_event",
//	                                      "response_code":"…","delivery":SEQ,…}
//	GET  /sim/cards                    → {"cards":[CardState…]} (also in /sim/state)
//
// Errors are HTTP 400 (bad input) or 404 (unknown admin path) with
// {"error":"…"}.

// FaultRule is the JSON form of Faults used by the admin API.
type FaultRule struct {
	Faults
	LatencyMS              int64   `json:"latency_ms,omitempty"`
	ReplyDelayMS           int64   `json:"reply_delay_ms,omitempty"`
	FreqLimitWindowSeconds float64 `json:"freq_limit_window_seconds,omitempty"`
}

// ToFaults converts the wire form.
func (r FaultRule) ToFaults() Faults {
	f := r.Faults
	f.Latency = time.Duration(r.LatencyMS) * time.Millisecond
	f.ReplyDelay = time.Duration(r.ReplyDelayMS) * time.Millisecond
	f.FreqLimitWindow = time.Duration(r.FreqLimitWindowSeconds * float64(time.Second))
	return f
}

// RuleOf converts Faults to the wire form.
func RuleOf(f Faults) FaultRule {
	return FaultRule{Faults: f, LatencyMS: f.Latency.Milliseconds(), ReplyDelayMS: f.ReplyDelay.Milliseconds(),
		FreqLimitWindowSeconds: f.FreqLimitWindow.Seconds()}
}

// FaultRequest is the body of POST /sim/faults.
type FaultRequest struct {
	Clear bool        `json:"clear,omitempty"`
	Rules []FaultRule `json:"rules,omitempty"`
	// Add appends rules to the current ones (after Rules), keeping those set by flags.
	Add          []FaultRule `json:"add,omitempty"`
	Down         *bool       `json:"down,omitempty"`
	RevokeTokens bool        `json:"revoke_tokens,omitempty"`
	Block        []struct {
		Endpoint string  `json:"endpoint"`
		Seconds  float64 `json:"seconds"`
	} `json:"block,omitempty"`
}

// SeedRequest is the body of POST /sim/seed.
type SeedRequest struct {
	Reset bool `json:"reset,omitempty"`
	Demo  bool `json:"demo,omitempty"`
	Seed
}

// ClockRequest is the body of POST /sim/clock.
type ClockRequest struct {
	Now            string  `json:"now,omitempty"`
	NowUnix        int64   `json:"now_unix,omitempty"`
	AdvanceSeconds float64 `json:"advance_seconds,omitempty"`
	Real           bool    `json:"real,omitempty"`
}

func (s *Sim) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/sim"), "/")
	type route struct {
		method string
		fn     func(*http.Request) (any, error)
	}
	routes := map[string][]route{
		"":          {{http.MethodGet, s.adminIndex}},
		"/state":    {{http.MethodGet, func(*http.Request) (any, error) { return s.State(), nil }}},
		"/calls":    {{http.MethodGet, s.adminCalls}, {http.MethodDelete, func(*http.Request) (any, error) { s.ClearCalls(); return okBody, nil }}},
		"/messages": {{http.MethodGet, s.adminMessages}, {http.MethodDelete, func(*http.Request) (any, error) { s.ClearMessages(); return okBody, nil }}},
		"/faults":   {{http.MethodGet, func(*http.Request) (any, error) { return s.faultStatus(), nil }}, {http.MethodPost, s.adminFaults}},
		"/seed":     {{http.MethodPost, s.adminSeed}},
		"/clock":    {{http.MethodGet, func(*http.Request) (any, error) { return s.clockStatus(), nil }}, {http.MethodPost, s.adminClock}},
		"/activate": {{http.MethodPost, s.adminActivate}},
		"/callbacks": {{http.MethodGet, s.adminCallbacks}, {http.MethodPost, s.adminSetCallback},
			{http.MethodDelete, func(*http.Request) (any, error) { s.ClearDeliveries(); return okBody, nil }}},
		"/edit":       {{http.MethodPost, s.adminEdit}},
		"/scan":       {{http.MethodPost, s.adminScan}},
		"/cards":      {{http.MethodGet, func(*http.Request) (any, error) { return map[string]any{"cards": s.Cards()}, nil }}},
		"/card/click": {{http.MethodPost, s.adminCardClick}},
	}
	cands, found := routes[path]
	if !found {
		writeAdmin(w, http.StatusNotFound, map[string]string{"error": "unknown admin endpoint " + r.URL.Path})
		return
	}
	for _, rt := range cands {
		if rt.method != r.Method {
			continue
		}
		out, err := rt.fn(r)
		if err != nil {
			s.logf("wecomsim admin %s %s: %v", r.Method, r.URL.Path, err)
			writeAdmin(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeAdmin(w, http.StatusOK, out)
		return
	}
	writeAdmin(w, http.StatusMethodNotAllowed, map[string]string{"error": r.Method + " not allowed on " + r.URL.Path})
}

var okBody = map[string]any{"ok": true}

func writeAdmin(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func decodeAdmin(r *http.Request, dst any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields() // admin input should be exact: typos must not pass silently
	return dec.Decode(dst)
}

func (s *Sim) adminIndex(*http.Request) (any, error) {
	return map[string]any{
		"endpoints": s.Endpoints(),
		"admin": []string{"/sim/state", "/sim/calls", "/sim/messages", "/sim/faults", "/sim/seed", "/sim/clock", "/sim/activate",
			"/sim/callbacks", "/sim/edit", "/sim/scan", "/sim/cards", "/sim/card/click"},
	}, nil
}

func (s *Sim) adminCalls(r *http.Request) (any, error) {
	q := r.URL.Query()
	var since int64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad since: %v", err)
		}
		since = n
	}
	ep := q.Get("endpoint")
	calls := []Call{}
	for _, c := range s.Calls() {
		if c.Seq > since && (ep == "" || normalizeEndpoint(c.Endpoint) == normalizeEndpoint(ep)) {
			calls = append(calls, c)
		}
	}
	return map[string]any{"calls": calls, "counts": s.CallCounts()}, nil
}

func (s *Sim) adminMessages(r *http.Request) (any, error) {
	q := r.URL.Query()
	channel, user, chatID, robot := q.Get("channel"), q.Get("user"), q.Get("chatid"), q.Get("robot")
	msgs := []Message{}
	for _, m := range s.Messages() {
		switch {
		case channel != "" && m.Channel != channel,
			user != "" && !containsFold(m.DeliveredTo, user),
			chatID != "" && m.ChatID != chatID,
			robot != "" && m.Robot != robot:
			continue
		}
		msgs = append(msgs, m)
	}
	drops := []Drop{}
	for _, d := range s.Drops() {
		if (channel == "" || d.Channel == channel) && (user == "" || strings.EqualFold(d.UserID, user)) {
			drops = append(drops, d)
		}
	}
	return map[string]any{"messages": msgs, "drops": drops}, nil
}

func (s *Sim) faultStatus() map[string]any {
	rules := []FaultRule{}
	for _, f := range s.FaultRules() {
		rules = append(rules, RuleOf(f))
	}
	return map[string]any{"rules": rules, "down": s.IsDown()}
}

func (s *Sim) adminFaults(r *http.Request) (any, error) {
	var req FaultRequest
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	s.ApplyFaultRequest(req)
	return s.faultStatus(), nil
}

// ApplyFaultRequest applies a POST /sim/faults body (also used by
// cmd/wecom-sim flags).
func (s *Sim) ApplyFaultRequest(req FaultRequest) {
	if req.Clear {
		s.ClearFaults()
	}
	if req.Rules != nil {
		rules := make([]Faults, 0, len(req.Rules))
		for _, r := range req.Rules {
			rules = append(rules, r.ToFaults())
		}
		s.SetFaults(rules...)
	}
	for _, r := range req.Add {
		s.AddFaults(r.ToFaults())
	}
	if req.Down != nil {
		s.SetDown(*req.Down)
	}
	if req.RevokeTokens {
		s.RevokeTokens()
	}
	for _, b := range req.Block {
		s.BlockEndpoint(b.Endpoint, time.Duration(b.Seconds*float64(time.Second)))
	}
}

func (s *Sim) adminSeed(r *http.Request) (any, error) {
	var req SeedRequest
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	seed := req.Seed
	out := map[string]any{"ok": true}
	if req.Demo {
		demo, creds := DemoSeed()
		out["credentials"] = creds
		if seed.Corp.ID == "" {
			seed = mergeSeeds(demo, seed)
		}
	}
	var err error
	if req.Reset {
		err = s.Reset(seed)
	} else {
		err = s.Seed(seed)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mergeSeeds appends extra's objects after base's.
func mergeSeeds(base, extra Seed) Seed {
	base.Apps = append(slices.Clone(base.Apps), extra.Apps...)
	base.Departments = append(slices.Clone(base.Departments), extra.Departments...)
	base.Users = append(slices.Clone(base.Users), extra.Users...)
	base.Tags = append(slices.Clone(base.Tags), extra.Tags...)
	base.Robots = append(slices.Clone(base.Robots), extra.Robots...)
	return base
}

func (s *Sim) clockStatus() map[string]any {
	now := s.Now()
	return map[string]any{"now": now.Format(time.RFC3339Nano), "unix": now.Unix(), "frozen": s.clock.isFrozen()}
}

func (s *Sim) adminClock(r *http.Request) (any, error) {
	var req ClockRequest
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Real:
		s.UseRealClock()
	case req.Now != "":
		t, err := time.Parse(time.RFC3339Nano, req.Now)
		if err != nil {
			return nil, fmt.Errorf("now: %v", err)
		}
		s.SetNow(t)
	case req.NowUnix != 0:
		s.SetNow(time.Unix(req.NowUnix, 0))
	}
	if req.AdvanceSeconds != 0 {
		s.Advance(time.Duration(req.AdvanceSeconds * float64(time.Second)))
	}
	return s.clockStatus(), nil
}

func (s *Sim) adminActivate(r *http.Request) (any, error) {
	var req struct {
		UserID string `json:"userid"`
		Active *bool  `json:"active"`
	}
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	active := req.Active == nil || *req.Active
	if err := s.SetUserActive(req.UserID, active); err != nil {
		return nil, err
	}
	return okBody, nil
}

func (s *Sim) adminCallbacks(r *http.Request) (any, error) {
	var since int64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad since: %v", err)
		}
		since = n
	}
	out := CallbackStatus{Configs: s.Callbacks(), Deliveries: []CallbackDelivery{}}
	for _, d := range s.Deliveries() {
		if d.Seq > since {
			out.Deliveries = append(out.Deliveries, d)
		}
	}
	return out, nil
}

func (s *Sim) adminSetCallback(r *http.Request) (any, error) {
	var req CallbackRequest
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	if err := s.SetCallback(req.AgentID, req.URL, req.Token, req.EncodingAESKey); err != nil {
		return nil, err
	}
	return map[string]any{"ok": true, "configs": s.Callbacks()}, nil
}
