package wecomsim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// The official test vector's Token and EncodingAESKey (§13).
const (
	testToken  = "QDG6eK"
	testAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)

// received is one POST a receiver got, decrypted with internal/wecom.
type received struct {
	query     url.Values
	header    http.Header
	body      []byte
	plaintext []byte
	event     wecom.CallbackEvent
	err       error
}

// receiver is a callback server written the way a WeCom app's is: it
// answers URL verification with the decrypted echostr and decrypts and
// parses deliveries.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	URL    string
	crypto *wecom.CallbackCrypto
	// verify, if set, answers URL verification instead of echoing plain.
	verify func(w http.ResponseWriter, r *http.Request, plain []byte)
	// status gives the HTTP status of the nth POST (1-based); nil: 200.
	status func(n int) int
	// hang makes POSTs never answer (until the request is cancelled).
	hang bool

	mu       sync.Mutex
	posts    []received
	verifies []string // raw queries of the verification GETs
	got      chan received
	stop     chan struct{}
}

func newReceiver(t *testing.T, opts ...func(*receiver)) *receiver {
	t.Helper()
	crypto, err := wecom.NewCallbackCrypto(testToken, testAESKey, DemoCorpID)
	if err != nil {
		t.Fatal(err)
	}
	rv := &receiver{t: t, crypto: crypto, got: make(chan received, 100), stop: make(chan struct{})}
	for _, o := range opts {
		o(rv)
	}
	rv.srv = httptest.NewServer(rv)
	rv.URL = rv.srv.URL + "/wecom/callback"
	// Cleanups run last-in first-out: release hanging handlers, then close.
	t.Cleanup(rv.srv.Close)
	t.Cleanup(func() { close(rv.stop) })
	return rv
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		rv.mu.Lock()
		rv.verifies = append(rv.verifies, r.URL.RawQuery)
		rv.mu.Unlock()
		plain, err := rv.crypto.VerifyURL(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
		if err != nil {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		if rv.verify != nil {
			rv.verify(w, r, plain)
			return
		}
		_, _ = w.Write(plain)
	case http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		d := received{query: q, header: r.Header.Clone(), body: body}
		d.plaintext, d.err = rv.crypto.DecryptMessage(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), body)
		if d.err == nil {
			d.event, d.err = wecom.ParseCallbackEvent(d.plaintext)
		}
		rv.mu.Lock()
		rv.posts = append(rv.posts, d)
		n := len(rv.posts)
		rv.mu.Unlock()
		select {
		case rv.got <- d:
		default:
			rv.t.Errorf("receiver channel full")
		}
		if rv.hang {
			select {
			case <-r.Context().Done():
			case <-rv.stop:
			}
			return
		}
		status := http.StatusOK
		if rv.status != nil {
			status = rv.status(n)
		}
		w.WriteHeader(status)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (rv *receiver) received() []received {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.posts)
}

func (rv *receiver) verifyQueries() []string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.verifies)
}

func (rv *receiver) verifyCount() int { return len(rv.verifyQueries()) }

// next returns the next delivery the receiver got.
func (rv *receiver) next() received {
	rv.t.Helper()
	select {
	case d := <-rv.got:
		if d.err != nil {
			rv.t.Fatalf("receiver could not read a delivery: %v", d.err)
		}
		return d
	case <-time.After(10 * time.Second):
		rv.t.Fatal("no delivery within 10s")
	}
	return received{}
}

// waitDeliveries waits until the delivery log holds n deliveries, all done.
func waitDeliveries(t *testing.T, s *Sim, n int) []CallbackDelivery {
	t.Helper()
	var out []CallbackDelivery
	gomega.NewWithT(t).Eventually(func() bool {
		out = s.Deliveries()
		return len(out) == n && !slices.ContainsFunc(out, func(d CallbackDelivery) bool { return !d.Done })
	}).WithTimeout(10*time.Second).WithPolling(2*time.Millisecond).Should(gomega.BeTrue(), "deliveries: %+v", &out)
	return out
}

// elements lists the names of the plaintext's top-level elements.
func elements(t *testing.T, plaintext []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(plaintext))
	var names []string
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatalf("plaintext is not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				names = append(names, tok.Name.Local)
			}
		case xml.EndElement:
			depth--
		}
	}
}

func wantElements(t *testing.T, plaintext []byte, want ...string) {
	t.Helper()
	base := []string{"ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "ChangeType"}
	if got := elements(t, plaintext); !slices.Equal(got, append(base, want...)) {
		t.Fatalf("elements %v, want %v plus %v\n%s", got, base, want, plaintext)
	}
}

func ptr[T any](v T) *T { return &v }

func mustCallback(t *testing.T, s *Sim, agentID int64, rv *receiver) {
	t.Helper()
	if err := s.SetCallback(agentID, rv.URL, testToken, testAESKey); err != nil {
		t.Fatal(err)
	}
}

func TestCallbackURLVerification(t *testing.T) {
	e := newEnv(t)
	good := newReceiver(t)
	target := good.URL + "?app=sync"
	if err := e.srv.SetCallback(0, target, testToken, testAESKey); err != nil {
		t.Fatal(err)
	}
	if n := good.verifyCount(); n != 1 {
		t.Fatalf("%d verification requests, want 1", n)
	}
	// The parameters are query-escaped: echostr's + / = travel as %2B %2F %3D.
	raw := good.verifyQueries()[0]
	q, _ := url.ParseQuery(raw)
	for _, k := range []string{"msg_signature", "timestamp", "nonce", "echostr", "app"} {
		if q.Get(k) == "" {
			t.Fatalf("verification query %q lacks %s", raw, k)
		}
	}
	if _, echo, _ := strings.Cut(raw, "echostr="); strings.ContainsAny(strings.SplitN(echo, "&", 2)[0], "+/=") {
		t.Fatalf("echostr not query-escaped: %q", raw)
	}
	if ts := q.Get("timestamp"); ts != fmt.Sprint(testStart.Unix()) {
		t.Fatalf("timestamp %s, want the simulator clock %d", ts, testStart.Unix())
	}
	if cfgs := e.srv.Callbacks(); len(cfgs) != 1 || cfgs[0].AgentID != 0 || cfgs[0].URL != target || !cfgs[0].ConfiguredAt.Equal(testStart) {
		t.Fatalf("configs %+v", cfgs)
	}

	// Receivers that answer wrongly or too late: nothing is saved.
	bad := []struct {
		name, want string
		verify     func(w http.ResponseWriter, r *http.Request, plain []byte)
	}{
		{"quoted", "not the decrypted echostr", func(w http.ResponseWriter, _ *http.Request, p []byte) { fmt.Fprintf(w, "%q", p) }},
		{"newline", "not the decrypted echostr", func(w http.ResponseWriter, _ *http.Request, p []byte) { fmt.Fprintf(w, "%s\n", p) }},
		{"500", "HTTP 500", func(w http.ResponseWriter, _ *http.Request, p []byte) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write(p)
		}},
		{"redirect", "HTTP 302", func(w http.ResponseWriter, r *http.Request, _ []byte) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}},
		{"slow", "no answer within 1s", nil}, // set below: blocks until cancelled
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			rv := newReceiver(t, func(rv *receiver) {
				rv.verify = tc.verify
				if tc.verify == nil {
					rv.verify = func(_ http.ResponseWriter, r *http.Request, _ []byte) {
						select {
						case <-r.Context().Done():
						case <-rv.stop:
						}
					}
				}
			})
			err := e.srv.SetCallback(DemoAgentID, rv.URL, testToken, testAESKey)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
			// Replacing a working config with a failing one keeps the old one.
			if err := e.srv.SetCallback(0, rv.URL, testToken, testAESKey); err == nil {
				t.Fatal("a failing receiver replaced the saved callback")
			}
			if cfgs := e.srv.Callbacks(); len(cfgs) != 1 || cfgs[0].URL != target {
				t.Fatalf("configs after a failed verification: %+v", cfgs)
			}
		})
	}

	// A receiver with another Token cannot verify the signature (it answers 400).
	other := newReceiver(t, func(rv *receiver) {
		rv.crypto, _ = wecom.NewCallbackCrypto("OtherToken1", testAESKey, DemoCorpID)
	})
	if err := e.srv.SetCallback(DemoAgentID, other.URL, testToken, testAESKey); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("mismatched token: %v", err)
	}

	// Input the console refuses before verifying anything. Errors never quote the secrets.
	before := good.verifyCount()
	for _, tc := range []struct {
		agent            int64
		url, token, key  string
		want             string
		secretsInMessage []string
	}{
		{0, good.URL, "bad-token!", testAESKey, "Token", []string{"bad-token!", testAESKey}},
		{0, good.URL, strings.Repeat("a", 33), testAESKey, "Token", []string{strings.Repeat("a", 33)}},
		{0, good.URL, "", testAESKey, "Token", nil},
		{0, good.URL, testToken, testAESKey[:42], "EncodingAESKey", []string{testAESKey[:42], testToken}},
		{0, good.URL, testToken, testAESKey[:42] + "+", "EncodingAESKey", []string{testAESKey[:42]}},
		{0, "ftp://example.com/cb", testToken, testAESKey, "http", []string{testToken, testAESKey}},
		{0, "/relative", testToken, testAESKey, "http", nil},
		{999, good.URL, testToken, testAESKey, "agent_id 999", nil},
	} {
		err := e.srv.SetCallback(tc.agent, tc.url, tc.token, tc.key)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want one mentioning %q", tc, err, tc.want)
			continue
		}
		for _, secret := range tc.secretsInMessage {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q quotes a secret", err)
			}
		}
	}
	if n := good.verifyCount(); n != before {
		t.Fatalf("invalid input still sent %d verification requests", n-before)
	}

	// An empty url removes the callback.
	if err := e.srv.SetCallback(0, "", "", ""); err != nil {
		t.Fatal(err)
	}
	if cfgs := e.srv.Callbacks(); len(cfgs) != 0 {
		t.Fatalf("configs after removal: %+v", cfgs)
	}
}

func TestHandEditOfUserDepartmentDelivers(t *testing.T) {
	e := newEnv(t)
	syncRv, app := newReceiver(t), newReceiver(t)
	mustCallback(t, e.srv.Sim, 0, syncRv)
	mustCallback(t, e.srv.Sim, DemoAgentID, app)
	callsBefore := len(e.srv.Calls())

	res, err := e.srv.ConsoleUpdateUser(UserEdit{UserID: "lisi", Department: []int64{3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deliveries) != 1 {
		t.Fatalf("result %+v, want one delivery", res)
	}
	d := syncRv.next()
	ev, ok := d.event.(*wecom.ContactUserEvent)
	if !ok {
		t.Fatalf("event %T %s", d.event, d.plaintext)
	}
	h := ev.Header()
	if h.Event != wecom.EventChangeContact || h.ChangeType != wecom.ChangeUpdateUser || h.FromUserName != "sys" ||
		h.ToUserName != DemoCorpID || h.MsgType != "event" || h.AgentID != 0 || h.CreateTime != testStart.Unix() {
		t.Fatalf("header %+v", h)
	}
	if ev.UserID != "lisi" || !slices.Equal(ev.Department, []int{3}) || ev.MainDepartment != 3 || ev.NewUserID != "" || ev.Name != "" {
		t.Fatalf("event %+v", ev)
	}
	// §13, callback URLs saved after 2022-08-15: only UserID and the departments.
	wantElements(t, d.plaintext, "UserID", "Department", "MainDepartment")
	// The contacts-sync envelope has no AgentID.
	if bytes.Contains(d.body, []byte("AgentID")) || !bytes.Contains(d.body, []byte("<ToUserName><![CDATA["+DemoCorpID+"]]></ToUserName>")) {
		t.Fatalf("envelope %s", d.body)
	}
	if ct := d.header.Get("Content-Type"); ct != "text/xml" {
		t.Fatalf("Content-Type %q", ct)
	}

	ds := waitDeliveries(t, e.srv.Sim, 1)
	got := ds[0]
	if !got.Acked || len(got.Attempts) != 1 || got.Attempts[0].HTTPStatus != 200 || got.Seq != res.Deliveries[0] ||
		got.AgentID != 0 || got.URL != syncRv.URL || got.Event != "change_contact" || got.ChangeType != "update_user" ||
		got.UserID != "lisi" || got.Identity != h.Identity || got.Plaintext != string(d.plaintext) || got.CreateTime != testStart.Unix() {
		t.Fatalf("delivery log %+v", got)
	}
	if n := len(syncRv.received()); n != 1 {
		t.Fatalf("contacts-sync receiver got %d deliveries", n)
	}
	if n := len(app.received()); n != 0 {
		t.Fatalf("an ordinary app got %d contact events", n)
	}
	// A hand edit is not an API call.
	if n := len(e.srv.Calls()); n != callsBefore {
		t.Fatalf("the edit added %d calls to the call log", n-callsBefore)
	}
	if u, _ := e.srv.State().User("lisi"); !slices.Equal(u.Department, []int64{3}) || u.MainDepartment != 3 {
		t.Fatalf("lisi after the edit: %+v", u)
	}
}

func TestHandEditEvents(t *testing.T) {
	e := newEnv(t)
	rv := newReceiver(t)
	mustCallback(t, e.srv.Sim, 0, rv)

	// A rename or a new order alone sends nothing.
	for _, edit := range []DepartmentEdit{{ID: 3, Name: ptr("Site Reliability")}, {ID: 3, Order: ptr[uint32](7)}} {
		res, err := e.srv.ConsoleUpdateDepartment(edit)
		if err != nil || len(res.Deliveries) != 0 {
			t.Fatalf("%+v: %+v %v", edit, res, err)
		}
	}
	if d, _ := e.srv.State().Department(3); d.Name != "Site Reliability" || d.Order != 7 {
		t.Fatalf("department 3: %+v", d)
	}
	if n := len(e.srv.Deliveries()); n != 0 {
		t.Fatalf("a rename sent %d deliveries", n)
	}

	mustOK := func(res EditResult, err error) EditResult {
		t.Helper()
		if err != nil || len(res.Deliveries) != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		return res
	}
	mustOK(e.srv.ConsoleUpdateDepartment(DepartmentEdit{ID: 3, ParentID: ptr[int64](4)}))
	qa := mustOK(e.srv.ConsoleCreateDepartment(DepartmentEdit{Name: ptr("QA"), ParentID: ptr[int64](2)})).ID
	mustOK(e.srv.ConsoleCreateUser(UserEdit{UserID: "qianqi", Name: ptr("钱七"), Mobile: ptr("13800000009"), Department: []int64{qa}}))
	mustOK(e.srv.ConsoleUpdateUser(UserEdit{UserID: "qianqi", Position: ptr("QA lead")}))
	mustOK(e.srv.ConsoleDeleteUser("qianqi"))
	mustOK(e.srv.ConsoleDeleteDepartment(qa))

	// In order, each with only the fields §13 allows.
	d := rv.next()
	p := d.event.(*wecom.ContactPartyEvent)
	if p.ChangeType != wecom.ChangeUpdateParty || p.ID != 3 || p.ParentID != 4 || p.Name != "" {
		t.Fatalf("move: %+v", p)
	}
	wantElements(t, d.plaintext, "Id", "ParentId")
	d = rv.next()
	if p := d.event.(*wecom.ContactPartyEvent); p.ChangeType != wecom.ChangeCreateParty || p.ID != int(qa) || p.ParentID != 2 {
		t.Fatalf("create_party: %+v", p)
	}
	wantElements(t, d.plaintext, "Id", "ParentId")
	d = rv.next()
	if u := d.event.(*wecom.ContactUserEvent); u.ChangeType != wecom.ChangeCreateUser || u.UserID != "qianqi" ||
		!slices.Equal(u.Department, []int{int(qa)}) || u.MainDepartment != int(qa) {
		t.Fatalf("create_user: %+v", u)
	}
	wantElements(t, d.plaintext, "UserID", "Department", "MainDepartment")
	d = rv.next()
	if u := d.event.(*wecom.ContactUserEvent); u.ChangeType != wecom.ChangeUpdateUser || u.UserID != "qianqi" || u.Position != "" {
		t.Fatalf("update_user: %+v", u)
	}
	wantElements(t, d.plaintext, "UserID")
	d = rv.next()
	if u := d.event.(*wecom.ContactUserEvent); u.ChangeType != wecom.ChangeDeleteUser || u.UserID != "qianqi" {
		t.Fatalf("delete_user: %+v", u)
	}
	wantElements(t, d.plaintext, "UserID")
	d = rv.next()
	if p := d.event.(*wecom.ContactPartyEvent); p.ChangeType != wecom.ChangeDeleteParty || p.ID != int(qa) {
		t.Fatalf("delete_party: %+v", p)
	}
	wantElements(t, d.plaintext, "Id")
	waitDeliveries(t, e.srv.Sim, 6)

	// Bad edits are refused with the API's checks, change nothing and send nothing.
	for _, tc := range []struct {
		name string
		do   func() (EditResult, error)
		want string
	}{
		{"forbidden character", func() (EditResult, error) {
			return e.srv.ConsoleCreateDepartment(DepartmentEdit{Name: ptr("a:b"), ParentID: ptr[int64](1)})
		}, "errcode 60009"},
		{"sibling name taken", func() (EditResult, error) {
			return e.srv.ConsoleCreateDepartment(DepartmentEdit{Name: ptr("Engineering"), ParentID: ptr[int64](1)})
		}, "errcode 60008"},
		{"cycle", func() (EditResult, error) {
			return e.srv.ConsoleUpdateDepartment(DepartmentEdit{ID: 2, ParentID: ptr[int64](2)})
		}, "errcode 60010"},
		{"root", func() (EditResult, error) { return e.srv.ConsoleDeleteDepartment(1) }, "errcode 60007"},
		{"not empty", func() (EditResult, error) { return e.srv.ConsoleDeleteDepartment(4) }, "errcode 60006"},
		{"unknown department", func() (EditResult, error) {
			return e.srv.ConsoleUpdateUser(UserEdit{UserID: "lisi", Department: []int64{99}})
		}, "department 99 does not exist"},
		{"unknown member", func() (EditResult, error) { return e.srv.ConsoleUpdateUser(UserEdit{UserID: "nobody"}) }, "no member"},
		{"empty name", func() (EditResult, error) { return e.srv.ConsoleUpdateUser(UserEdit{UserID: "lisi", Name: ptr("")}) }, "errcode 60112"},
		{"bad email", func() (EditResult, error) {
			return e.srv.ConsoleUpdateUser(UserEdit{UserID: "lisi", Email: ptr("not-an-email")})
		}, "errcode 60105"},
		{"activated mobile", func() (EditResult, error) {
			return e.srv.ConsoleUpdateUser(UserEdit{UserID: "lisi", Mobile: ptr("13900000000")})
		}, "only the member"},
		{"duplicate userid", func() (EditResult, error) {
			return e.srv.ConsoleCreateUser(UserEdit{UserID: "LISI", Name: ptr("x"), Email: ptr("x@example.com")})
		}, "errcode 60102"},
		{"creator", func() (EditResult, error) { return e.srv.ConsoleDeleteUser("zhangsan") }, "errcode 301005"},
		{"unknown op", func() (EditResult, error) { return e.srv.Edit(Edit{Op: "rename_corp"}) }, "unknown edit op"},
	} {
		if res, err := tc.do(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %+v %v, want an error with %q", tc.name, res, err, tc.want)
		}
	}
	if n := len(e.srv.Deliveries()); n != 6 {
		t.Fatalf("refused edits sent %d deliveries", n-6)
	}
	if n := len(e.srv.Calls()); n != 3 { // the three gettoken calls of newEnv
		t.Fatalf("hand edits reached the call log: %d calls", n)
	}

	// A system-generated userid may be changed once: update_user carries NewUserID.
	if err := e.srv.Seed(Seed{Users: []User{{UserID: "gen7f3a", Name: "周八", Email: "zb@example.com", Department: []int64{2}, GeneratedID: true}}}); err != nil {
		t.Fatal(err)
	}
	mustOK(e.srv.ConsoleUpdateUser(UserEdit{UserID: "gen7f3a", NewUserID: "zhouba"}))
	d = rv.next()
	if u := d.event.(*wecom.ContactUserEvent); u.ChangeType != wecom.ChangeUpdateUser || u.UserID != "gen7f3a" || u.NewUserID != "zhouba" {
		t.Fatalf("rename: %+v", u)
	}
	wantElements(t, d.plaintext, "UserID", "NewUserID")
	if _, err := e.srv.ConsoleUpdateUser(UserEdit{UserID: "zhouba", NewUserID: "zhou8"}); err == nil || !strings.Contains(err.Error(), "errcode 301036") {
		t.Fatalf("second rename: %v", err)
	}
	// An edit that changes nothing sends nothing.
	if res, err := e.srv.ConsoleUpdateUser(UserEdit{UserID: "zhouba", Department: []int64{2}}); err != nil || len(res.Deliveries) != 0 {
		t.Fatalf("no-op edit: %+v %v", res, err)
	}
}

func TestAPIWritesAreNotEchoed(t *testing.T) {
	e := newEnv(t)
	syncRv, app := newReceiver(t), newReceiver(t)
	mustCallback(t, e.srv.Sim, 0, syncRv)
	mustCallback(t, e.srv.Sim, DemoAgentID, app)

	e.wantCode(e.post(e.sync, "user/update", `{"userid":"lisi","department":[3]}`), 0)
	e.wantCode(e.post(e.sync, "department/update", `{"id":3,"parentid":4}`), 0)
	e.wantCode(e.post(e.sync, "department/create", `{"id":9,"name":"QA","parentid":2}`), 0)
	e.wantCode(e.post(e.sync, "user/create", `{"userid":"qianqi","name":"钱七","email":"qq@example.com","department":[9]}`), 0)
	e.wantCode(e.get(e.sync, "user/delete", "userid=qianqi"), 0)
	e.wantCode(e.get(e.sync, "department/delete", "id=9"), 0)
	// Events are queued synchronously with the change that causes them, so
	// an empty log now means none will come.
	if ds := e.srv.Deliveries(); len(ds) != 0 {
		t.Fatalf("API writes were echoed: %+v", ds)
	}
	if n := len(syncRv.received()) + len(app.received()); n != 0 {
		t.Fatalf("receivers got %d deliveries", n)
	}
}

// logSink collects Options.Logf lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logSink) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

func TestCallbackRetries(t *testing.T) {
	fast := func(logs *logSink) func(*Options) {
		return func(o *Options) {
			o.CallbackRetryInterval = 5 * time.Millisecond
			o.CallbackTimeout = 2 * time.Second
			if logs != nil {
				o.Logf = logs.logf
			}
		}
	}

	t.Run("500 twice then 200", func(t *testing.T) {
		logs := &logSink{}
		e := newEnv(t, fast(logs))
		rv := newReceiver(t, func(rv *receiver) {
			rv.status = func(n int) int {
				if n <= 2 {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			}
		})
		mustCallback(t, e.srv.Sim, 0, rv)
		if _, err := e.srv.ConsoleUpdateUser(UserEdit{UserID: "lisi", Department: []int64{3}}); err != nil {
			t.Fatal(err)
		}
		d := waitDeliveries(t, e.srv.Sim, 1)[0]
		if !d.Acked || len(d.Attempts) != 3 || d.Attempts[0].HTTPStatus != 500 || d.Attempts[1].HTTPStatus != 500 || d.Attempts[2].HTTPStatus != 200 {
			t.Fatalf("delivery %+v", d)
		}
		got := rv.received()
		if len(got) != 3 {
			t.Fatalf("receiver got %d attempts", len(got))
		}
		for i, r := range got {
			if r.err != nil {
				t.Fatalf("attempt %d: %v", i, r.err)
			}
			// Same plaintext (so same CreateTime and identity), fresh envelope.
			if !bytes.Equal(r.plaintext, got[0].plaintext) || r.event.Header().Identity != d.Identity {
				t.Fatalf("attempt %d carried another plaintext:\n%s\n%s", i, r.plaintext, got[0].plaintext)
			}
			if i > 0 && (bytes.Equal(r.body, got[0].body) || r.query.Get("nonce") == got[0].query.Get("nonce")) {
				t.Fatalf("attempt %d reused the envelope or nonce", i)
			}
		}
		lines := logs.all()
		if len(lines) != 2 {
			t.Fatalf("log lines %q, want the two failures", lines)
		}
		for _, l := range lines {
			if strings.Contains(l, testToken) || strings.Contains(l, testAESKey) || strings.Contains(l, "msg_signature") {
				t.Fatalf("log line leaks: %q", l)
			}
		}
	})

	t.Run("never 200", func(t *testing.T) {
		e := newEnv(t, fast(nil))
		rv := newReceiver(t, func(rv *receiver) { rv.status = func(int) int { return http.StatusServiceUnavailable } })
		mustCallback(t, e.srv.Sim, 0, rv)
		if _, err := e.srv.ConsoleDeleteUser("wangwu"); err != nil {
			t.Fatal(err)
		}
		d := waitDeliveries(t, e.srv.Sim, 1)[0]
		if d.Acked || len(d.Attempts) != 1+callbackRetries {
			t.Fatalf("delivery %+v", d)
		}
		for _, a := range d.Attempts {
			if a.HTTPStatus != http.StatusServiceUnavailable || a.Error != "" {
				t.Fatalf("attempt %+v", a)
			}
		}
		if n := len(rv.received()); n != 4 {
			t.Fatalf("receiver got %d attempts, want 4", n)
		}
	})

	t.Run("no answer in time", func(t *testing.T) {
		e := newEnv(t, fast(nil), func(o *Options) { o.CallbackTimeout = 30 * time.Millisecond })
		rv := newReceiver(t, func(rv *receiver) { rv.hang = true })
		mustCallback(t, e.srv.Sim, 0, rv)
		if _, err := e.srv.ConsoleDeleteUser("wangwu"); err != nil {
			t.Fatal(err)
		}
		d := waitDeliveries(t, e.srv.Sim, 1)[0]
		if d.Acked || len(d.Attempts) != 4 {
			t.Fatalf("delivery %+v", d)
		}
		for _, a := range d.Attempts {
			if a.HTTPStatus != 0 || a.Error != "no answer within 30ms" {
				t.Fatalf("attempt %+v", a)
			}
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		e := newEnv(t, fast(nil))
		rv := newReceiver(t)
		mustCallback(t, e.srv.Sim, 0, rv)
		rv.srv.Close()
		if _, err := e.srv.ConsoleDeleteUser("wangwu"); err != nil {
			t.Fatal(err)
		}
		d := waitDeliveries(t, e.srv.Sim, 1)[0]
		if d.Acked || len(d.Attempts) != 4 || d.Attempts[0].Error == "" || d.Attempts[0].HTTPStatus != 0 {
			t.Fatalf("delivery %+v", d)
		}
	})
}

func TestCloseStopsDeliveries(t *testing.T) {
	seed, _ := DemoSeed()
	srv := Start(Options{Seed: &seed, Now: testStart, CallbackRetryInterval: time.Hour})
	defer srv.Close()
	rv := newReceiver(t, func(rv *receiver) { rv.status = func(int) int { return http.StatusBadGateway } })
	mustCallback(t, srv.Sim, 0, rv)
	if _, err := srv.ConsoleDeleteUser("wangwu"); err != nil {
		t.Fatal(err)
	}
	rv.next() // the first attempt; the second would come in an hour
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	ds := srv.Deliveries()
	if len(ds) != 1 || !ds[0].Done || ds[0].Acked || len(ds[0].Attempts) != 1 {
		t.Fatalf("after Close: %+v", ds)
	}
	srv.Close() // idempotent
	if res, err := srv.ConsoleDeleteUser("lisi"); err != nil || len(res.Deliveries) != 0 {
		t.Fatalf("edit after Close: %+v %v", res, err)
	}
	if err := srv.SetCallback(0, rv.URL, testToken, testAESKey); err == nil {
		t.Fatal("SetCallback after Close succeeded")
	}
}

func TestResetDropsCallbacks(t *testing.T) {
	e := newEnv(t)
	rv := newReceiver(t)
	mustCallback(t, e.srv.Sim, 0, rv)
	if _, err := e.srv.ConsoleDeleteUser("wangwu"); err != nil {
		t.Fatal(err)
	}
	seed, _ := DemoSeed()
	if err := e.srv.Reset(seed); err != nil {
		t.Fatal(err)
	}
	if len(e.srv.Callbacks()) != 0 || len(e.srv.Deliveries()) != 0 {
		t.Fatalf("after Reset: %+v %+v", e.srv.Callbacks(), e.srv.Deliveries())
	}
}

func TestCallbackAdminAPI(t *testing.T) {
	e := newEnv(t)
	rv := newReceiver(t)
	cfg := e.admin("POST", "/sim/callbacks", fmt.Sprintf(`{"agent_id":0,"url":%q,"token":%q,"encoding_aes_key":%q}`, rv.URL, testToken, testAESKey), 200)
	if cfgs := cfg["configs"].([]any); len(cfgs) != 1 || cfgs[0].(map[string]any)["url"] != rv.URL {
		t.Fatalf("POST /sim/callbacks: %v", cfg)
	}
	badKey := strings.Repeat("k", 40)
	m := e.admin("POST", "/sim/callbacks", fmt.Sprintf(`{"agent_id":0,"url":%q,"token":%q,"encoding_aes_key":%q}`, rv.URL, testToken, badKey), 400)
	if msg := m["error"].(string); !strings.Contains(msg, "EncodingAESKey") || strings.Contains(msg, badKey) || strings.Contains(msg, testToken) {
		t.Fatalf("error %q", msg)
	}
	e.admin("POST", "/sim/callbacks", `{"agent_id":0,"url":"x","tokn":"a"}`, 400) // typo

	res := e.admin("POST", "/sim/edit", `{"op":"update_user","user":{"userid":"lisi","department":[3],"main_department":3}}`, 200)
	if ds := res["deliveries"].([]any); res["ok"] != true || len(ds) != 1 {
		t.Fatalf("POST /sim/edit: %v", res)
	}
	res = e.admin("POST", "/sim/edit", `{"op":"create_department","department":{"name":"QA","parentid":2}}`, 200)
	id := int64(res["id"].(float64))
	e.admin("POST", "/sim/edit", fmt.Sprintf(`{"op":"delete_department","id":%d}`, id), 200)
	e.admin("POST", "/sim/edit", `{"op":"update_department","department":{"id":3,"name":"a*b"}}`, 400)
	e.admin("POST", "/sim/edit", `{"op":"delete_user"}`, 400)

	way := e.post(e.app, "externalcontact/add_contact_way", `{"type":1,"scene":2,"state":"admin","user":["zhangsan"]}`)
	scan := e.admin("POST", "/sim/scan", fmt.Sprintf(`{"config_id":%q}`, way["config_id"]), 200)
	if scan["userid"] != "zhangsan" || scan["state"] != "admin" || scan["welcome_code"] == "" || !strings.HasPrefix(scan["external_userid"].(string), "wm") {
		t.Fatalf("POST /sim/scan: %v", scan)
	}
	e.admin("POST", "/sim/scan", `{"state":"nope"}`, 400)

	var status map[string]any
	gomega.NewWithT(t).Eventually(func() bool {
		status = e.admin("GET", "/sim/callbacks", "", 200)
		ds := status["deliveries"].([]any)
		return len(ds) == 3 && !slices.ContainsFunc(ds, func(d any) bool { return d.(map[string]any)["acked"] != true })
	}).WithTimeout(10 * time.Second).WithPolling(5 * time.Millisecond).Should(gomega.BeTrue())
	if cfgs := status["configs"].([]any); len(cfgs) != 1 || cfgs[0].(map[string]any)["agent_id"].(float64) != 0 {
		t.Fatalf("configs %v", cfgs)
	}
	_, raw, _ := e.do("GET", "/sim/callbacks", "")
	if b := fmt.Sprint(raw); strings.Contains(b, testToken) || strings.Contains(b, testAESKey) {
		t.Fatal("GET /sim/callbacks shows a secret")
	}
	if ds := e.admin("GET", "/sim/callbacks?since=2", "", 200)["deliveries"].([]any); len(ds) != 1 || ds[0].(map[string]any)["change_type"] != "delete_party" {
		t.Fatalf("since=2: %v", ds)
	}
	e.admin("DELETE", "/sim/callbacks", "", 200)
	if ds := e.admin("GET", "/sim/callbacks", "", 200)["deliveries"].([]any); len(ds) != 0 {
		t.Fatalf("after DELETE: %v", ds)
	}
	e.admin("POST", "/sim/callbacks", `{"agent_id":0,"url":""}`, 200)
	if cfgs := e.admin("GET", "/sim/callbacks", "", 200)["configs"].([]any); len(cfgs) != 0 {
		t.Fatalf("configs after removal: %v", cfgs)
	}
	idx := e.admin("GET", "/sim", "", 200)
	for _, p := range []string{"/sim/callbacks", "/sim/edit", "/sim/scan"} {
		if !slices.Contains(idx["admin"].([]any), any(p)) {
			t.Fatalf("admin index lacks %s: %v", p, idx)
		}
	}
	if !slices.Contains(idx["endpoints"].([]any), any("externalcontact/send_welcome_msg")) {
		t.Fatalf("endpoint list lacks send_welcome_msg: %v", idx["endpoints"])
	}
}

func TestHandEditOfTagEvents(t *testing.T) {
	e := newEnv(t)
	rv := newReceiver(t)
	mustCallback(t, e.srv.Sim, 0, rv)
	tag := func() Tag {
		t.Helper()
		tg, ok := e.srv.State().Tag(1)
		if !ok {
			t.Fatal("tag 1 is gone")
		}
		return tg
	}

	// The seeded "oncall" tag holds lisi and department 3. A rename alone sends nothing.
	res, err := e.srv.ConsoleUpdateTag(TagEdit{TagID: 1, Name: ptr("pager")})
	if err != nil || len(res.Deliveries) != 0 || tag().Name != "pager" {
		t.Fatalf("rename: %+v %v %+v", res, err, tag())
	}

	// A member and a department added, one of each removed: one update_tag with the four lists.
	res, err = e.srv.Edit(Edit{Op: EditUpdateTag, Tag: &TagEdit{TagID: 1,
		AddUsers: []string{"WANGWU"}, DelUsers: []string{"lisi"}, AddParties: []int64{4}, DelParties: []int64{3}}})
	if err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("members: %+v %v", res, err)
	}
	if got := tag(); !slices.Equal(got.Users, []string{"wangwu"}) || !slices.Equal(got.Parties, []int64{4}) {
		t.Fatalf("tag after the edit: %+v", got)
	}
	d := rv.next()
	ev := d.event.(*wecom.ContactTagEvent)
	if ev.ChangeType != wecom.ChangeUpdateTag || ev.TagID != 1 || !slices.Equal(ev.AddUserItems, []string{"wangwu"}) ||
		!slices.Equal(ev.DelUserItems, []string{"lisi"}) || !slices.Equal(ev.AddPartyItems, []int{4}) || !slices.Equal(ev.DelPartyItems, []int{3}) {
		t.Fatalf("update_tag: %+v", ev)
	}
	wantElements(t, d.plaintext, "TagId", "AddUserItems", "DelUserItems", "AddPartyItems", "DelPartyItems")

	// Only what really changed is listed: wangwu is already in, zhaoliu is added.
	if _, err := e.srv.ConsoleUpdateTag(TagEdit{TagID: 1, AddUsers: []string{"wangwu", "zhaoliu"}}); err != nil {
		t.Fatal(err)
	}
	d = rv.next()
	if ev := d.event.(*wecom.ContactTagEvent); !slices.Equal(ev.AddUserItems, []string{"zhaoliu"}) || ev.DelUserItems != nil {
		t.Fatalf("second update_tag: %+v", ev)
	}
	wantElements(t, d.plaintext, "TagId", "AddUserItems")
	waitDeliveries(t, e.srv.Sim, 2)

	// An edit that changes no member sends nothing; bad edits change nothing.
	if res, err := e.srv.ConsoleUpdateTag(TagEdit{TagID: 1, AddUsers: []string{"zhaoliu"}, DelParties: []int64{3}}); err != nil || len(res.Deliveries) != 0 {
		t.Fatalf("no-op edit: %+v %v", res, err)
	}
	before := tag()
	for _, tc := range []struct {
		edit TagEdit
		want string
	}{
		{TagEdit{TagID: 99, AddUsers: []string{"lisi"}}, "no tag 99"},
		{TagEdit{TagID: 1, AddUsers: []string{"nobody"}}, "no member"},
		{TagEdit{TagID: 1, AddParties: []int64{99}}, "department 99 does not exist"},
		{TagEdit{TagID: 1, Name: ptr("")}, "errcode 40072"},
	} {
		if _, err := e.srv.ConsoleUpdateTag(tc.edit); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.edit, err, tc.want)
		}
	}
	if after := tag(); !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused edit changed the tag: %+v -> %+v", before, after)
	}
	if n := len(e.srv.Deliveries()); n != 2 {
		t.Fatalf("%d deliveries, want 2", n)
	}
}
