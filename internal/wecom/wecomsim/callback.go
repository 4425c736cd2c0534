package wecomsim

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Callbacks (reference §13). An app's callback (接收事件服务器: URL, Token,
// EncodingAESKey) is configured as in the admin console with SetCallback or
// POST /sim/callbacks; saving it runs WeCom's URL verification. Events are
// then pushed to it with the WXBizMsgCrypt envelope that internal/wecom
// implements (the simulator reuses that code rather than a second copy).
//
// Deliveries run on their own goroutines, one at a time per target URL, so
// a receiver sees its events in the order they happened. Close stops them.

const (
	// callbackVerifyTimeout: the console wants the echostr plaintext back
	// "within 1 s" (§13, DOC-90238/91116).
	callbackVerifyTimeout = time.Second
	// callbackRetries: "总共重试三次" read literally is 1 + 3 deliveries. The
	// count is unconfirmed (the WeChat MP twin of the sentence is reported to
	// mean 3 in total); the simulator makes at most 4 attempts.
	callbackRetries = 3
	// maxDeliveryLog bounds the delivery log (oldest records are dropped).
	maxDeliveryLog = 10000
	// maxCallbackReply is how much of a receiver's answer is read.
	maxCallbackReply = 64 << 10
)

// callbackConfig is one saved callback. The Token and EncodingAESKey live
// only inside crypto, which never prints them.
type callbackConfig struct {
	agentID      int64
	url          string
	crypto       *wecom.CallbackCrypto
	configuredAt time.Time
}

// CallbackConfig describes a saved callback (GET /sim/callbacks). The Token
// and EncodingAESKey are never shown.
type CallbackConfig struct {
	// AgentID is the app; 0 is the 通讯录同步 (contacts-sync) app.
	AgentID int64  `json:"agent_id"`
	URL     string `json:"url"`
	// ConfiguredAt is when it was saved (simulator clock).
	ConfiguredAt time.Time `json:"configured_at"`
}

// CallbackRequest is the body of POST /sim/callbacks. An empty URL removes
// the app's callback.
type CallbackRequest struct {
	AgentID        int64  `json:"agent_id"`
	URL            string `json:"url"`
	Token          string `json:"token,omitempty"`
	EncodingAESKey string `json:"encoding_aes_key,omitempty"`
}

// CallbackAttempt is one HTTP POST of a delivery.
type CallbackAttempt struct {
	// Time is when the request was sent (wall clock).
	Time time.Time `json:"time"`
	// Timestamp is the timestamp query parameter (simulator clock, Unix s).
	Timestamp string `json:"timestamp"`
	// HTTPStatus is the receiver's status code; 0 when there was no answer.
	HTTPStatus int `json:"http_status,omitempty"`
	// Error says why the attempt got no answer (timeout, connection refused…).
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// CallbackDelivery is one event pushed to one callback: the delivery log
// entry of Deliveries and GET /sim/callbacks.
type CallbackDelivery struct {
	Seq     int64  `json:"seq"`
	AgentID int64  `json:"agent_id"`
	URL     string `json:"url"`
	// Event and ChangeType of the plaintext, e.g. change_contact/update_user.
	Event      string `json:"event"`
	ChangeType string `json:"change_type,omitempty"`
	// The ids the event concerns.
	UserID         string `json:"userid,omitempty"`
	NewUserID      string `json:"new_userid,omitempty"`
	PartyID        int64  `json:"party_id,omitempty"`
	ExternalUserID string `json:"external_userid,omitempty"`
	// TaskID and EventKey of a template_card_event / template_card_menu_event.
	TaskID   string `json:"task_id,omitempty"`
	EventKey string `json:"event_key,omitempty"`
	// CreateTime is the plaintext's CreateTime (simulator clock, Unix s).
	CreateTime int64 `json:"create_time"`
	// Identity is wecom.CallbackIdentity of the plaintext: every attempt
	// carries the same plaintext, so the same identity.
	Identity string `json:"identity"`
	// Plaintext is the event XML before encryption.
	Plaintext string            `json:"plaintext"`
	Attempts  []CallbackAttempt `json:"attempts"`
	// Acked: an attempt was answered with HTTP 200 in time.
	Acked bool `json:"acked"`
	// Done: no further attempt will be made (acked, retries exhausted, or
	// the simulator was closed or reset).
	Done bool `json:"done"`
}

func (d CallbackDelivery) clone() CallbackDelivery {
	d.Attempts = slices.Clone(d.Attempts)
	return d
}

// CallbackStatus is the answer of GET /sim/callbacks.
type CallbackStatus struct {
	Configs    []CallbackConfig   `json:"configs"`
	Deliveries []CallbackDelivery `json:"deliveries"`
}

// ---- configuration ----

// appByAgentLocked finds the app with agentID; for 0 the contacts-sync app
// is preferred.
func (s *Sim) appByAgentLocked(agentID int64) *appState {
	var found *appState
	for _, a := range s.apps {
		if a.AgentID != agentID {
			continue
		}
		if agentID != 0 || a.ContactsSync {
			return a
		}
		if found == nil {
			found = a
		}
	}
	return found
}

// checkCallbackURL: the console takes an http(s) URL with a host.
func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("callback url %q must be an http:// or https:// URL with a host", raw)
	}
	return nil
}

// SetCallback saves the callback of one app as the admin console does:
// agentID 0 is the 通讯录同步 (contacts-sync) app. The Token must be 1-32
// letters or digits and the EncodingAESKey exactly 43 letters or digits.
// Saving first runs WeCom's URL verification: a GET of
// url?msg_signature=…&timestamp=…&nonce=…&echostr=… carrying an encrypted
// random number, which must be answered with HTTP 200 and the bare
// plaintext within 1 s; otherwise nothing is saved and the error says what
// was wrong. An empty url removes the app's callback. Errors never contain
// the Token or the EncodingAESKey.
func (s *Sim) SetCallback(agentID int64, rawURL, token, encodingAESKey string) error {
	s.mu.Lock()
	app := s.appByAgentLocked(agentID)
	corpID := s.corp.ID
	s.mu.Unlock()
	if app == nil {
		return fmt.Errorf("no app with agent_id %d (0 is the contacts-sync app)", agentID)
	}
	if rawURL == "" {
		s.mu.Lock()
		delete(s.callbacks, agentID)
		s.mu.Unlock()
		return nil
	}
	if err := checkCallbackURL(rawURL); err != nil {
		return err
	}
	// The receive id of a corp's own callbacks is the corp id (§13).
	crypto, err := wecom.NewCallbackCrypto(token, encodingAESKey, corpID)
	if err != nil {
		return err // names the rule broken, never the value
	}
	if err := s.cb.verifyURL(rawURL, crypto); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbacks[agentID] = &callbackConfig{agentID: agentID, url: rawURL, crypto: crypto, configuredAt: s.Now()}
	return nil
}

// Callbacks lists the saved callbacks by agent id.
func (s *Sim) Callbacks() []CallbackConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []CallbackConfig{}
	for _, c := range s.callbacks {
		out = append(out, CallbackConfig{AgentID: c.agentID, URL: c.url, ConfiguredAt: c.configuredAt})
	}
	slices.SortFunc(out, func(a, b CallbackConfig) int { return cmp.Compare(a.AgentID, b.AgentID) })
	return out
}

// Deliveries returns a copy of the delivery log, oldest first.
func (s *Sim) Deliveries() []CallbackDelivery { return s.cb.deliveries() }

// ClearDeliveries empties the delivery log (queued deliveries still run but
// are no longer listed).
func (s *Sim) ClearDeliveries() { s.cb.clearLog() }

// Close stops callback deliveries: queued ones are abandoned, a request in
// flight is cancelled, and Close waits until every delivery goroutine has
// returned. The simulator still answers HTTP afterwards but sends nothing.
// Close is idempotent; Server.Close calls it.
func (s *Sim) Close() { s.cb.close() }

// push queues one event for one saved callback and returns its delivery
// seq (0 when the simulator is closed). Callers hold s.mu.
func (s *Sim) push(cfg *callbackConfig, ev *callbackEvent) int64 {
	return s.cb.enqueue(cfg, ev)
}

// ---- delivery ----

// deliverer sends callbacks. Real time governs timeouts and retry spacing;
// the simulator clock gives CreateTime and the timestamp parameter.
type deliverer struct {
	timeout, retryInterval time.Duration
	now                    func() time.Time
	logf                   func(string, ...any)
	transport              *http.Transport
	client                 *http.Client

	root context.Context // cancelled by close
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	gen     context.Context // cancelled by reset
	genStop context.CancelFunc
	queues  map[string]*deliveryQueue // by target URL
	log     []*CallbackDelivery
	seq     int64
	rnd     *rand.Rand // nonces and echostr numbers
}

type deliveryQueue struct {
	items   []*pendingDelivery
	running bool
}

type pendingDelivery struct {
	ctx       context.Context
	rec       *CallbackDelivery // guarded by deliverer.mu
	crypto    *wecom.CallbackCrypto
	plaintext []byte
}

func newDeliverer(opts Options, now func() time.Time, logf func(string, ...any)) *deliverer {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &deliverer{
		timeout: opts.CallbackTimeout, retryInterval: opts.CallbackRetryInterval,
		now: now, logf: logf, transport: tr,
		// WeCom wants HTTP 200: a redirect is an answer, not something to follow.
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		queues: map[string]*deliveryQueue{},
		rnd:    rand.New(rand.NewPCG(opts.RandSeed, 0xca11)),
	}
	d.root, d.stop = context.WithCancel(context.Background())
	d.gen, d.genStop = context.WithCancel(d.root)
	return d
}

// reset abandons queued and in-flight deliveries and clears the log.
func (d *deliverer) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.genStop()
	d.gen, d.genStop = context.WithCancel(d.root)
	d.log = nil
}

func (d *deliverer) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.stop()
	d.wg.Wait()
	d.transport.CloseIdleConnections()
}

func (d *deliverer) deliveries() []CallbackDelivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]CallbackDelivery, 0, len(d.log))
	for _, r := range d.log {
		out = append(out, r.clone())
	}
	return out
}

func (d *deliverer) clearLog() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log = nil
}

// nonce is a random decimal number like the official examples' "263014780".
func (d *deliverer) nonce() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strconv.FormatInt(d.rnd.Int64N(1<<31), 10)
}

// enqueue records a delivery and hands it to the target URL's worker,
// starting one if the URL has none.
func (d *deliverer) enqueue(cfg *callbackConfig, ev *callbackEvent) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0
	}
	d.seq++
	rec := &CallbackDelivery{
		Seq: d.seq, AgentID: cfg.agentID, URL: cfg.url, Event: ev.event, ChangeType: ev.changeType,
		UserID: ev.userID, NewUserID: ev.newUserID, PartyID: ev.partyID, ExternalUserID: ev.externalUserID,
		TaskID: ev.taskID, EventKey: ev.eventKey,
		CreateTime: ev.createTime, Identity: ev.identity, Plaintext: string(ev.plaintext), Attempts: []CallbackAttempt{},
	}
	d.log = append(d.log, rec)
	if len(d.log) > maxDeliveryLog+maxDeliveryLog/4 {
		d.log = slices.Clone(d.log[len(d.log)-maxDeliveryLog:])
	}
	q := d.queues[cfg.url]
	if q == nil {
		q = &deliveryQueue{}
		d.queues[cfg.url] = q
	}
	q.items = append(q.items, &pendingDelivery{ctx: d.gen, rec: rec, crypto: cfg.crypto, plaintext: ev.plaintext})
	if !q.running {
		q.running = true
		d.wg.Add(1)
		go d.run(cfg.url, q)
	}
	return rec.Seq
}

// run drains one URL's queue, one delivery (with all its retries) at a
// time, and exits when the queue is empty.
func (d *deliverer) run(key string, q *deliveryQueue) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(q.items) == 0 {
			q.running = false
			delete(d.queues, key)
			d.mu.Unlock()
			return
		}
		p := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		d.mu.Unlock()
		d.deliver(p)
	}
}

// deliver makes up to 1 + callbackRetries attempts. Every attempt carries
// the same plaintext (same CreateTime), so receivers can de-duplicate; the
// timestamp, nonce and random prefix are fresh each time (unconfirmed:
// WeCom's retries are only described as "重新发起请求").
func (d *deliverer) deliver(p *pendingDelivery) {
	defer func() {
		d.mu.Lock()
		p.rec.Done = true
		d.mu.Unlock()
	}()
	for attempt := 0; attempt <= callbackRetries; attempt++ {
		if attempt > 0 && !sleepCtx(p.ctx, d.retryInterval) {
			return
		}
		if p.ctx.Err() != nil {
			return
		}
		a, acked := d.attempt(p)
		d.mu.Lock()
		p.rec.Attempts = append(p.rec.Attempts, a)
		p.rec.Acked = acked
		d.mu.Unlock()
		if acked {
			return
		}
		status := a.Error
		if status == "" {
			status = "HTTP " + strconv.Itoa(a.HTTPStatus)
		}
		d.logf("wecomsim: callback delivery %d (%s %s) to agent %d at %s: attempt %d failed: %s",
			p.rec.Seq, p.rec.Event, p.rec.ChangeType, p.rec.AgentID, urlForLog(p.rec.URL), attempt+1, status)
	}
}

// attempt POSTs the delivery once. Ack is HTTP 200 with the whole answer
// read within the timeout; the answer itself (empty, "success" or a
// passive reply) is read and discarded.
func (d *deliverer) attempt(p *pendingDelivery) (CallbackAttempt, bool) {
	ts := strconv.FormatInt(d.now().Unix(), 10)
	nonce := d.nonce()
	a := CallbackAttempt{Time: time.Now(), Timestamp: ts}
	body, sig, err := p.crypto.EncryptDelivery(p.plaintext, p.rec.AgentID, ts, nonce)
	if err != nil {
		a.Error = "encrypt: " + err.Error()
		return a, false
	}
	target, err := withQuery(p.rec.URL, url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}})
	if err != nil {
		a.Error = err.Error()
		return a, false
	}
	ctx, cancel := context.WithTimeout(p.ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		a.Error = "bad request: " + unwrapURLError(err).Error()
		return a, false
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := d.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxCallbackReply))
		_ = resp.Body.Close()
		a.HTTPStatus = resp.StatusCode
	}
	a.DurationMS = time.Since(a.Time).Milliseconds()
	if err != nil {
		a.Error = describeAttemptError(ctx, err, d.timeout)
		return a, false
	}
	return a, a.HTTPStatus == http.StatusOK
}

// verifyURL runs the console's URL verification against rawURL.
func (d *deliverer) verifyURL(rawURL string, crypto *wecom.CallbackCrypto) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return errors.New("URL verification: the simulator is closed")
	}
	// A random number like the official vector's "1616140317555161061".
	echo := strconv.FormatUint(d.rnd.Uint64N(9e18)+1e18, 10)
	nonce := strconv.FormatInt(d.rnd.Int64N(1<<31), 10)
	d.mu.Unlock()
	ts := strconv.FormatInt(d.now().Unix(), 10)
	echostr, err := crypto.Encrypt([]byte(echo))
	if err != nil {
		return fmt.Errorf("URL verification: %w", err)
	}
	// url.Values.Encode query-escapes echostr's + / = as %2B %2F %3D, as
	// the official example sends them.
	target, err := withQuery(rawURL, url.Values{
		"msg_signature": {crypto.Signature(ts, nonce, echostr)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {echostr},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(d.root, callbackVerifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("URL verification of %s: %v", urlForLog(rawURL), unwrapURLError(err))
	}
	resp, err := d.client.Do(req)
	var answer []byte
	if err == nil {
		answer, err = io.ReadAll(io.LimitReader(resp.Body, 1024))
		_ = resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("URL verification of %s failed: %s", urlForLog(rawURL), describeAttemptError(ctx, err, callbackVerifyTimeout))
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("URL verification of %s failed: it answered HTTP %d; WeCom wants HTTP 200 with the decrypted echostr",
			urlForLog(rawURL), resp.StatusCode)
	}
	if string(answer) != echo {
		return fmt.Errorf("URL verification of %s failed: it answered %q, not the decrypted echostr (%d digits); "+
			"WeCom wants the bare plaintext: no quotes, BOM or newline", urlForLog(rawURL), truncateRunes(string(answer), 64), len(echo))
	}
	return nil
}

// withQuery adds params to a URL's own query.
func withQuery(raw string, params url.Values) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("callback url: %v", unwrapURLError(err))
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// urlForLog drops the query and user info, which may hold something the
// receiver's owner considers private.
func urlForLog(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// describeAttemptError says why a request got no (complete) answer,
// without the URL and its query.
func describeAttemptError(ctx context.Context, err error, timeout time.Duration) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(ctx.Err(), context.Canceled):
		return "cancelled: the simulator was closed or reset"
	}
	return unwrapURLError(err).Error()
}
