package wecomsim

import (
	"slices"
	"strings"
	"time"
)

// Faults is one fault-injection rule. Every rate is a probability in [0,1]
// evaluated independently per matching request with the simulator's seeded
// generator, so a run is reproducible for a given request sequence.
// Faults apply only to /cgi-bin/ endpoints, never to the /sim/ admin API.
type Faults struct {
	// Endpoints scopes the rule: entries like "message/send" (a leading
	// "/cgi-bin/" is optional); a trailing "*" matches a prefix
	// ("externalcontact/*"). Empty means every endpoint.
	Endpoints []string `json:"endpoints,omitempty"`
	// Latency is added before the request is handled (real time).
	Latency time.Duration `json:"-"`
	// ReplyDelay holds the reply of a handled request (a write applied, a message
	// delivered) for this long (real time): the window in which the caller
	// cannot know the outcome, where crash tests kill it. A caller that goes
	// away meanwhile gets no reply.
	ReplyDelay time.Duration `json:"-"`
	// ErrorRate is the share of requests answered {"errcode":-1} (系统繁忙)
	// without being applied.
	ErrorRate float64 `json:"error_rate,omitempty"`
	// HTTP5xxRate is the share answered with an HTTP 500/502/503/504 HTML page.
	HTTP5xxRate float64 `json:"http_5xx_rate,omitempty"`
	// DropRate is the share whose connection is closed without a response
	// (nothing applied).
	DropRate float64 `json:"drop_rate,omitempty"`
	// LostReplyRate is the share of *write* requests that are applied and
	// then have their connection closed: "write succeeded but the reply
	// was lost".
	LostReplyRate float64 `json:"lost_reply_rate,omitempty"`
	// FreqLimitRate is the share of requests that trip a 45009 window:
	// from then on the endpoint answers 45009 for FreqLimitWindow.
	FreqLimitRate float64 `json:"freq_limit_rate,omitempty"`
	// FreqLimitWindow is the 45009 blocking time; default 60 s (§9: a
	// per-minute limit blocks for 60 s). Measured on the simulator clock.
	FreqLimitWindow time.Duration `json:"-"`
}

// Fault names recorded in Call.Fault.
const (
	faultDown       = "down"
	faultLatency    = "latency_client_gone"
	faultReplyDelay = "reply_delay_client_gone"
	faultDrop       = "drop"
	fault5xx        = "http_5xx"
	faultBusy       = "system_busy"
	faultFreqLimit  = "freq_limit"
	faultLostReply  = "lost_reply"
	defaultFreqWind = 60 * time.Second
)

type faultConfig struct {
	rules []Faults
	down  bool
}

type faultPlan struct {
	down        bool
	latency     time.Duration
	replyDelay  time.Duration
	drop        bool
	http5xx     int
	busy        bool
	freqLimited bool
	lostReply   bool
}

// SetFaults replaces all fault rules (none = no faults). The down switch
// is separate (SetDown).
func (s *Sim) SetFaults(rules ...Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.rules = cloneRules(rules)
}

// AddFaults appends one fault rule to the current ones.
func (s *Sim) AddFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.rules = append(s.faults.rules, cloneRules([]Faults{f})...)
}

// ClearFaults removes every fault rule, the down switch and any active
// 45009 window.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faultConfig{}
	s.blocked = map[string]time.Time{}
}

// FaultRules returns a copy of the current fault rules.
func (s *Sim) FaultRules() []Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneRules(s.faults.rules)
}

// SetDown switches the whole API off (every /cgi-bin/ request gets its
// connection dropped) or back on.
func (s *Sim) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.down = down
}

// IsDown reports the down switch.
func (s *Sim) IsDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.down
}

// BlockEndpoint opens a 45009 window on endpoint ("message/send") for d on
// the simulator clock, as if a frequency limit had just been hit.
func (s *Sim) BlockEndpoint(endpoint string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[normalizeEndpoint(endpoint)] = s.Now().Add(d)
}

func cloneRules(rules []Faults) []Faults {
	out := make([]Faults, len(rules))
	for i, r := range rules {
		r.Endpoints = slices.Clone(r.Endpoints)
		for j, e := range r.Endpoints {
			r.Endpoints[j] = normalizeEndpoint(e)
		}
		out[i] = r
	}
	return out
}

// normalizeEndpoint turns "/cgi-bin/message/send?x" into "message/send".
func normalizeEndpoint(e string) string {
	e, _, _ = strings.Cut(strings.TrimSpace(e), "?")
	e = strings.TrimPrefix(e, "/")
	e = strings.TrimPrefix(e, "cgi-bin/")
	return e
}

func (f *Faults) matches(name string) bool {
	if len(f.Endpoints) == 0 {
		return true
	}
	for _, e := range f.Endpoints {
		if p, ok := strings.CutSuffix(e, "*"); ok {
			if strings.HasPrefix(name, p) {
				return true
			}
		} else if e == name {
			return true
		}
	}
	return false
}

// planFaults decides, before the request is handled, which faults hit it.
func (s *Sim) planFaults(c *call) faultPlan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p faultPlan
	if s.faults.down {
		p.down = true
		return p
	}
	name := c.ep.name
	if until, ok := s.blocked[name]; ok {
		if c.now.Before(until) {
			p.freqLimited = true
		} else {
			delete(s.blocked, name)
		}
	}
	for i := range s.faults.rules {
		r := &s.faults.rules[i]
		if !r.matches(name) {
			continue
		}
		p.latency = max(p.latency, r.Latency)
		p.replyDelay = max(p.replyDelay, r.ReplyDelay)
		p.drop = p.drop || s.roll(r.DropRate)
		if s.roll(r.HTTP5xxRate) && p.http5xx == 0 {
			p.http5xx = []int{500, 502, 503, 504}[s.faultRn.IntN(4)]
		}
		p.busy = p.busy || s.roll(r.ErrorRate)
		if !p.freqLimited && s.roll(r.FreqLimitRate) {
			window := r.FreqLimitWindow
			if window <= 0 {
				window = defaultFreqWind
			}
			s.blocked[name] = c.now.Add(window)
			p.freqLimited = true
		}
		p.lostReply = p.lostReply || s.roll(r.LostReplyRate)
	}
	return p
}

// roll draws only for a positive rate, so unused knobs do not consume
// random numbers (keeps runs reproducible when other knobs change).
func (s *Sim) roll(rate float64) bool {
	if rate <= 0 {
		return false
	}
	if rate >= 1 {
		return true
	}
	return s.faultRn.Float64() < rate
}

// ---- generic per-API frequency limit (§9) ----

// Documented base limits: per corp, per cgi, 10,000 calls/min and
// 150,000 calls/hour. Fixed (calendar) windows are used; exceeding one
// blocks the endpoint for the rest of that window (§9 "blocking duration").
const (
	baseLimitPerMinute = 10000
	baseLimitPerHour   = 150000
)

type rateWindow struct {
	minute, hour           int64
	minuteCount, hourCount int
}

func (s *Sim) checkBaseRate(name string, now time.Time) int {
	w := s.rate[name]
	if w == nil {
		w = &rateWindow{}
		s.rate[name] = w
	}
	m, h := now.Unix()/60, now.Unix()/3600
	if w.minute != m {
		w.minute, w.minuteCount = m, 0
	}
	if w.hour != h {
		w.hour, w.hourCount = h, 0
	}
	w.minuteCount++
	w.hourCount++
	switch {
	case w.hourCount > baseLimitPerHour:
		s.blocked[name] = time.Unix((h+1)*3600, 0)
		return codeFreqLimit
	case w.minuteCount > baseLimitPerMinute:
		s.blocked[name] = time.Unix((m+1)*60, 0)
		return codeFreqLimit
	}
	return 0
}
