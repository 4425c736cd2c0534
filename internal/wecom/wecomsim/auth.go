package wecomsim

import (
	"math"
	"net/netip"
	"strings"
	"time"
)

// appState is a seeded App plus runtime data.
type appState struct {
	App
	trusted []netip.Prefix
	token   *tokenState // the current token, reused while valid (§1)
}

type tokenState struct {
	value   string
	app     *appState
	expires time.Time
}

func newAppState(a App) (*appState, error) {
	st := &appState{App: a.clone()}
	for _, ip := range a.TrustedIPs {
		if p, err := netip.ParsePrefix(ip); err == nil {
			st.trusted = append(st.trusted, p)
			continue
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, errCodef(codeInvalidParam, "app %q: bad trusted ip %q", a.Name, ip)
		}
		st.trusted = append(st.trusted, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return st, nil
}

// ipAllowed implements the optional 企业可信IP check (60020).
func (a *appState) ipAllowed(ip string) bool {
	if len(a.trusted) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range a.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Permission predicates for the endpoint table (48002 when denied).

func permContactsWrite(a *appState) int {
	if !a.ContactsSync {
		return codeNoPermission
	}
	return 0
}

func permAppChat(a *appState) int {
	if a.AgentID == 0 || !a.VisibleRoot {
		return codeNoPermission
	}
	return 0
}

func permCustomerContact(a *appState) int {
	if !a.CustomerContact {
		return codeNoPermission
	}
	return 0
}

// permAgent: calendars and schedules belong to an app (agent); the
// contacts-sync secret has none.
func permAgent(a *appState) int {
	if a.AgentID == 0 {
		return codeNoPermission
	}
	return 0
}

// handleGetToken implements GET gettoken (§1). Check order follows the
// probes: missing secret (41004) before anything about the corpid.
func handleGetToken(s *Sim, c *call) reply {
	corpID := strings.TrimSpace(c.query.Get("corpid"))
	secret := strings.TrimSpace(c.query.Get("corpsecret"))
	switch {
	case secret == "":
		return fail(codeMissingSecret)
	case corpID == "":
		return fail(codeMissingCorpID)
	case corpID != s.corp.ID:
		return fail(codeInvalidCorpID)
	}
	app := s.appsBySecret[secret]
	if app == nil {
		return failf(codeInvalidSecret, "unknown secret")
	}
	if app.Disabled {
		return failf(codeInvalidSecret, "app %q disabled", app.Name)
	}
	c.agentID, c.appName = app.AgentID, app.Name
	tok := app.token
	if tok == nil || !c.now.Before(tok.expires) {
		tok = s.issueToken(app, c.now)
	}
	// While valid, a repeat fetch returns the same token (§1). expires_in is
	// then the remaining lifetime, rounded up (unconfirmed: WeCom may send
	// 7200 again; remaining lifetime never makes a client overstay).
	remaining := int64(math.Ceil(tok.expires.Sub(c.now).Seconds()))
	return ok(map[string]any{"access_token": tok.value, "expires_in": remaining})
}

func (s *Sim) issueToken(app *appState, now time.Time) *tokenState {
	var v string
	for {
		v = s.randString(64, alnum+"-_")
		if _, dup := s.tokens[v]; !dup {
			break
		}
	}
	tok := &tokenState{value: v, app: app, expires: now.Add(s.opts.TokenTTL)}
	s.tokens[v] = tok
	app.token = tok
	return tok
}

// authenticate resolves an access_token: 41001 missing, 40014 unknown or
// revoked, 42001 expired. Expired tokens stay known so they keep answering
// 42001 rather than 40014.
func (s *Sim) authenticate(token string, now time.Time) (*appState, int) {
	if token == "" {
		return nil, codeMissingToken
	}
	tok := s.tokens[token]
	if tok == nil || tok.app.Disabled {
		return nil, codeInvalidToken
	}
	if !now.Before(tok.expires) {
		return nil, codeTokenExpired
	}
	return tok.app, 0
}

// RevokeTokens invalidates every issued access_token at once, as WeCom may
// do "出于运营需要" (§1): old tokens answer 40014 and gettoken issues new ones.
func (s *Sim) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]*tokenState{}
	for _, a := range s.apps {
		a.token = nil
	}
}

// GetTokenCount returns how many gettoken calls were made (any outcome).
func (s *Sim) GetTokenCount() int { return s.CallCount("gettoken") }

func (s *Sim) robotByKey(key string) (*Robot, int) {
	r := s.robots[key]
	if key == "" || r == nil {
		return nil, codeInvalidWebhook
	}
	if r.Disabled {
		return nil, codeRobotDisabled
	}
	return r, 0
}
