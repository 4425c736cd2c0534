package wecomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Options configures a simulator. The zero value is usable: it loads
// DemoSeed, uses the real clock and random seed 1.
type Options struct {
	// Seed is the initial state. nil loads DemoSeed().
	Seed *Seed
	// RandSeed seeds the simulator's math/rand generators (IDs, tokens,
	// random chat owners, fault decisions) so runs are reproducible.
	// 0 means 1.
	RandSeed uint64
	// Now, if non-zero, freezes the clock at this time from the start.
	Now time.Time
	// TokenTTL is the access_token lifetime (expires_in); default 7200 s.
	TokenTTL time.Duration
	// ActivateCreatedUsers makes members created through user/create
	// active (status 1) at once. By default they are "not activated"
	// (status 4), as in real WeCom until the person logs in, which makes
	// add_contact_way answer 41054 for them.
	ActivateCreatedUsers bool
	// PlainErrmsg drops the real-looking ", hint: [...], from ip: ..., more
	// info at ..." suffix from error errmsg strings.
	PlainErrmsg bool
	// MaxCalls bounds the call log (oldest entries are discarded);
	// default 100000.
	MaxCalls int
	// Logf, if set, receives diagnostics (handler panics, admin errors).
	Logf func(format string, args ...any)
	// OnCall, if set, is called with every call-log entry as it is
	// recorded (outside the simulator's lock; it may call Sim methods).
	OnCall func(Call)
	// CallbackTimeout is how long a callback receiver has to answer a
	// delivery with HTTP 200 before the attempt counts as failed; default
	// 5 s, WeCom's ("五秒内收不到响应会断掉连接", §13). URL verification
	// always allows 1 s, as the admin console does.
	CallbackTimeout time.Duration
	// CallbackRetryInterval is the wait between a failed delivery attempt
	// and the next one; default 5 s (WeCom's spacing is unconfirmed).
	// Both durations are real time, not the simulator clock.
	CallbackRetryInterval time.Duration
	// TransferDelay is how long a customer handover (transfer_customer) waits
	// before it completes, on the simulator clock; default 24 h, WeCom's.
	TransferDelay time.Duration
}

const (
	defaultTokenTTL              = 7200 * time.Second
	defaultCallbackTimeout       = 5 * time.Second
	defaultCallbackRetryInterval = 5 * time.Second
)

// Sim is an in-memory WeCom server. It is an http.Handler serving the
// /cgi-bin/ API and the /sim/ admin API; all methods are safe for
// concurrent use.
type Sim struct {
	opts   Options
	clock  clock
	routes map[string]*endpoint

	mu      sync.Mutex // guards everything below
	idRand  *rand.Rand // IDs, tokens, chat owners
	faultRn *rand.Rand // fault decisions, kept apart so faults do not shift IDs
	seq     int64      // ordering counter for stored objects

	corp         Corp
	apps         []*appState
	appsBySecret map[string]*appState
	tokens       map[string]*tokenState

	depts     map[int64]*Department
	users     map[string]*User // key: lower-cased userid; write via putUser/dropUser
	userCache []*User          // sortedUsers cache
	tags      map[int64]*Tag
	robots    map[string]*Robot // key: webhook key

	chats     map[string]*Chat
	ways      map[string]*ContactWay
	calendars map[string]*Calendar
	schedules map[string]*Schedule

	messages   []*Message
	msgByID    map[string]*Message
	drops      []Drop
	dupSeen    map[string]dupEntry
	taskIDs    map[string]bool          // agentid + template_card task_id already used
	cards      map[string]*sentCard     // cards that can call back, by cardKey
	respCodes  map[string]*responseCode // update_template_card codes
	quota      map[string][]time.Time
	robotSends map[string][]time.Time

	calls   []Call
	callSeq int64
	logSeq  int64 // the last Call.Seq

	faults  faultConfig
	blocked map[string]time.Time // endpoint → end of a 45009 window
	rate    map[string]*rateWindow

	callbacks    map[int64]*callbackConfig // by agent id (0: contacts sync)
	externals    []*ExternalContact
	welcomeCodes map[string]*welcomeCode
	welcomes     []*WelcomeMessage
	// Customer succession (transfer.go).
	groupChats map[string]*CustomerGroupChat
	transfers  []*CustomerTransfer

	// Customer corp tags and group welcome templates (corptag.go, welcometemplate.go).
	corpTagGroups    map[string]*CorpTagGroup
	welcomeTemplates map[string]*GroupWelcomeTemplate

	// cb sends callbacks. It has its own lock, which may be taken while
	// holding s.mu but never the other way round.
	cb *deliverer
}

// New returns a simulator seeded from opts.Seed (DemoSeed when nil).
func New(opts Options) *Sim {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = defaultTokenTTL
	}
	if opts.MaxCalls <= 0 {
		opts.MaxCalls = 100000
	}
	if opts.RandSeed == 0 {
		opts.RandSeed = 1
	}
	if opts.CallbackTimeout <= 0 {
		opts.CallbackTimeout = defaultCallbackTimeout
	}
	if opts.CallbackRetryInterval <= 0 {
		opts.CallbackRetryInterval = defaultCallbackRetryInterval
	}
	s := &Sim{opts: opts}
	if !opts.Now.IsZero() {
		s.clock.set(opts.Now)
	}
	s.cb = newDeliverer(opts, s.Now, s.logf)
	s.routes = buildRoutes()
	seed := opts.Seed
	if seed == nil {
		demo, _ := DemoSeed()
		seed = &demo
	}
	if err := s.Reset(*seed); err != nil {
		// A bad seed is a programming error in the test that built it.
		panic(fmt.Sprintf("wecomsim: invalid seed: %v", err))
	}
	return s
}

// resetLocked clears all state and the logs, including callback
// configurations and the delivery log; deliveries still queued or in
// flight are abandoned. The clock and fault configuration are kept.
func (s *Sim) resetLocked() {
	s.idRand = rand.New(rand.NewPCG(s.opts.RandSeed, 0x5eed))
	s.faultRn = rand.New(rand.NewPCG(s.opts.RandSeed, 0xfa17))
	s.seq = 0
	s.corp = Corp{}
	s.apps = nil
	s.appsBySecret = map[string]*appState{}
	s.tokens = map[string]*tokenState{}
	s.depts = map[int64]*Department{}
	s.users = map[string]*User{}
	s.userCache = nil
	s.taskIDs = map[string]bool{}
	s.cards = map[string]*sentCard{}
	s.respCodes = map[string]*responseCode{}
	s.tags = map[int64]*Tag{}
	s.robots = map[string]*Robot{}
	s.chats = map[string]*Chat{}
	s.ways = map[string]*ContactWay{}
	s.calendars = map[string]*Calendar{}
	s.schedules = map[string]*Schedule{}
	s.messages = nil
	s.msgByID = map[string]*Message{}
	s.drops = nil
	s.dupSeen = map[string]dupEntry{}
	s.quota = map[string][]time.Time{}
	s.robotSends = map[string][]time.Time{}
	s.calls = nil
	s.blocked = map[string]time.Time{}
	s.rate = map[string]*rateWindow{}
	s.callbacks = map[int64]*callbackConfig{}
	s.externals = nil
	s.welcomeCodes = map[string]*welcomeCode{}
	s.welcomes = nil
	s.groupChats = map[string]*CustomerGroupChat{}
	s.transfers = nil
	s.corpTagGroups = map[string]*CorpTagGroup{}
	s.welcomeTemplates = map[string]*GroupWelcomeTemplate{}
	s.cb.reset()
}

func (s *Sim) nextSeq() int64 {
	s.seq++
	return s.seq
}

func (s *Sim) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// ---- request pipeline ----

type authMode int

const (
	authToken    authMode = iota // access_token in the query string
	authNone                     // gettoken
	authRobotKey                 // webhook key in the query string
)

// endpoint describes one /cgi-bin/ API.
type endpoint struct {
	name  string // path below /cgi-bin/, e.g. "department/create"
	post  bool   // documented as POST with a JSON body
	auth  authMode
	write bool // changes state: eligible for the lost-reply fault
	// perm returns an errcode (48002) when the calling app may not use the
	// endpoint at all; nil means any app.
	perm func(*appState) int
	// noBaseLimit exempts the endpoint from the generic per-API frequency
	// limit (message sending is counted separately, §9).
	noBaseLimit bool
	handle      func(*Sim, *call) reply
}

// call is the per-request context handed to endpoint handlers.
type call struct {
	req     *http.Request
	ep      *endpoint
	seq     int64
	now     time.Time
	query   url.Values
	body    []byte
	tooBig  bool
	ip      string
	app     *appState // resolved from access_token
	robot   *Robot    // resolved from key
	agentID int64     // for the call log
	appName string    // for the call log
}

// decode parses the JSON body into dst (see decodeBody).
func (c *call) decode(dst any) *apiError {
	if c.tooBig {
		return errCodef(codeInvalidParam, "body larger than %d bytes", maxBodyBytes)
	}
	return decodeBody(c.body, dst)
}

// reply is what a handler answers: an errcode plus extra JSON fields.
type reply struct {
	code   int
	msg    string // success errmsg override ("created", "updated", …)
	fields map[string]any
	detail string // why, for the call log only
}

func ok(fields map[string]any) reply { return reply{fields: fields} }

func okMsg(msg string, fields map[string]any) reply {
	return reply{msg: msg, fields: fields}
}

func fail(code int) reply { return reply{code: code} }

func failErr(e *apiError) reply { return reply{code: e.code, detail: e.detail} }

func failf(code int, format string, args ...any) reply {
	return reply{code: code, detail: fmt.Sprintf(format, args...)}
}

// with adds fields to a reply (used for the empty lists some failures carry).
func (r reply) with(fields map[string]any) reply {
	if r.fields == nil {
		r.fields = map[string]any{}
	}
	for k, v := range fields {
		r.fields[k] = v
	}
	return r
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sim" || strings.HasPrefix(r.URL.Path, "/sim/") {
		s.serveAdmin(w, r)
		return
	}
	c := s.newCall(r)
	if c.ep == nil {
		// §0: unknown path → HTTP 404 with an empty body.
		s.finishCall(c, reply{}, http.StatusNotFound, "")
		w.WriteHeader(http.StatusNotFound)
		return
	}

	plan := s.planFaults(c)
	if plan.down {
		s.finishCall(c, reply{}, 0, faultDown)
		dropConnection(w)
		return
	}
	if plan.latency > 0 && !sleepCtx(r.Context(), plan.latency) {
		s.finishCall(c, reply{}, 0, faultLatency)
		return
	}
	switch {
	case plan.drop:
		s.finishCall(c, reply{}, 0, faultDrop)
		dropConnection(w)
		return
	case plan.http5xx != 0:
		s.finishCall(c, reply{}, plan.http5xx, fault5xx)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(plan.http5xx)
		fmt.Fprintf(w, "<html><body><center><h1>%d %s</h1></center></body></html>\n",
			plan.http5xx, http.StatusText(plan.http5xx))
		return
	}

	var rep reply
	fault := ""
	switch {
	case plan.busy:
		rep, fault = failf(codeSystemBusy, "injected -1"), faultBusy
	case plan.freqLimited:
		rep, fault = failf(codeFreqLimit, "injected 45009 window"), faultFreqLimit
	default:
		rep = s.handle(c)
	}
	out := s.render(c, rep)

	if plan.replyDelay > 0 && !sleepCtx(r.Context(), plan.replyDelay) {
		s.finishCall(c, rep, 0, faultReplyDelay)
		return
	}
	if plan.lostReply && c.ep.write && fault == "" {
		s.finishCall(c, rep, 0, faultLostReply)
		dropConnection(w)
		return
	}
	s.finishCall(c, rep, http.StatusOK, fault)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

func (s *Sim) newCall(r *http.Request) *call {
	c := &call{req: r, query: r.URL.Query(), now: s.Now()}
	if name, ok := strings.CutPrefix(r.URL.Path, "/cgi-bin/"); ok {
		c.ep = s.routes[name]
	}
	c.ip = remoteIP(r)
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err == nil && len(b) > maxBodyBytes {
			c.tooBig = true
			b = b[:maxBodyBytes]
		}
		c.body = b
	}
	s.mu.Lock()
	s.callSeq++
	c.seq = s.callSeq
	s.mu.Unlock()
	return c
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// handle runs authentication, permission checks and the endpoint handler
// under the state lock. A handler panic becomes errcode -1, never a 500.
func (s *Sim) handle(c *call) (rep reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			s.logf("wecomsim: panic in %s: %v\n%s", c.ep.name, p, debug.Stack())
			rep = failf(codeSystemBusy, "handler panic: %v", p)
		}
	}()
	if !c.ep.noBaseLimit {
		if code := s.checkBaseRate(c.ep.name, c.now); code != 0 {
			return failf(code, "generic per-API frequency limit")
		}
	}
	switch c.ep.auth {
	case authToken:
		// §0: the token is validated before any parameter.
		app, code := s.authenticate(c.query.Get("access_token"), c.now)
		if code != 0 {
			return fail(code)
		}
		c.app, c.agentID, c.appName = app, app.AgentID, app.Name
		if !app.ipAllowed(c.ip) {
			return failf(codeUntrustedIP, "ip %s not trusted", c.ip)
		}
		if c.ep.perm != nil {
			if code := c.ep.perm(app); code != 0 {
				return failf(code, "app %q lacks permission for %s", app.Name, c.ep.name)
			}
		}
	case authRobotKey:
		robot, code := s.robotByKey(c.query.Get("key"))
		if code != 0 {
			return fail(code)
		}
		c.robot, c.appName = robot, "robot:"+robot.Name
	}
	return c.ep.handle(s, c)
}

// render encodes the reply body. Error errmsg strings get the suffix real
// WeCom appends (§0) unless Options.PlainErrmsg is set.
func (s *Sim) render(c *call, rep reply) []byte {
	body := make(map[string]any, len(rep.fields)+2)
	for k, v := range rep.fields {
		body[k] = v
	}
	body["errcode"] = rep.code
	msg := rep.msg
	if msg == "" {
		msg = errText(rep.code)
	}
	if rep.code != 0 && !s.opts.PlainErrmsg {
		msg = fmt.Sprintf("%s, hint: [%d%05d], from ip: %s, more info at https://open.work.weixin.qq.com/devtool/query?e=%d",
			msg, c.now.Unix(), c.seq%100000, c.ip, rep.code)
	}
	body["errmsg"] = msg
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		s.logf("wecomsim: encode reply for %s: %v", c.ep.name, err)
		return []byte(`{"errcode":-1,"errmsg":"system busy"}`)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// dropConnection closes the client connection without a response. Where
// hijacking is impossible (HTTP/2, recorders) it aborts the handler, which
// net/http turns into a reset stream or closed connection.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ---- small shared helpers ----

func (s *Sim) randString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.idRand.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	hexDigits = "0123456789abcdef"
	alnum     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

func equalFoldASCII(a, b string) bool { return strings.EqualFold(a, b) }

func lower(s string) string { return strings.ToLower(s) }
