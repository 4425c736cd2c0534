package wecomsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

func TestFaultLostReplyAppliesTheWrite(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{Endpoints: []string{"/cgi-bin/user/create"}, LostReplyRate: 1})
	body := `{"userid":"lost","name":"L","email":"lost@example.com"}`
	if _, _, err := e.do("POST", apiPath(e.sync, "user/create", ""), body); err == nil {
		t.Fatal("expected a dropped connection")
	}
	if _, ok := e.srv.State().User("lost"); !ok {
		t.Fatal("write was not applied")
	}
	c := e.srv.CallsTo("user/create")
	if len(c) != 1 || c[0].Fault != faultLostReply || c[0].HTTPStatus != 0 || c[0].ErrCode != 0 {
		t.Fatalf("call log %+v", c)
	}
	// Reads are never "lost replies", even with an unscoped rule.
	e.srv.SetFaults(Faults{LostReplyRate: 1})
	e.wantCode(e.get(e.app, "user/get", "userid=lost"), 0)
	// The client's retry sees the write already done.
	e.srv.ClearFaults()
	e.wantCode(e.post(e.sync, "user/create", body), 60102)
}

func TestFaultDownSwitch(t *testing.T) {
	e := newEnv(t)
	e.srv.SetDown(true)
	if _, _, err := e.do("GET", apiPath(e.app, "department/list", ""), ""); err == nil {
		t.Fatal("expected a dropped connection")
	}
	if _, _, err := e.do("GET", "/cgi-bin/gettoken?corpid=x&corpsecret=y", ""); err == nil {
		t.Fatal("gettoken answered while down")
	}
	// The admin API keeps working.
	if status, m, err := e.do("GET", "/sim/faults", ""); err != nil || status != 200 || m["down"] != true {
		t.Fatalf("admin while down: %d %v %v", status, m, err)
	}
	e.srv.SetDown(false)
	e.wantCode(e.get(e.app, "department/list", ""), 0)
	calls := e.srv.CallsTo("department/list")
	if calls[0].Fault != faultDown || calls[0].HTTPStatus != 0 || calls[1].Fault != "" {
		t.Fatalf("calls %+v", calls)
	}
}

func TestFaultSystemBusyIsNotApplied(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{Endpoints: []string{"department/*"}, ErrorRate: 1})
	e.wantCode(e.post(e.sync, "department/create", `{"name":"busy","parentid":1}`), -1)
	e.wantCode(e.get(e.app, "user/get", "userid=lisi"), 0) // out of scope
	if len(e.srv.State().Departments) != 4 {
		t.Fatal("a -1 reply applied the write")
	}
}

func TestFaultDropIsNotApplied(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{DropRate: 1})
	if _, _, err := e.do("POST", apiPath(e.sync, "department/create", ""), `{"name":"dropped","parentid":1}`); err == nil {
		t.Fatal("expected a dropped connection")
	}
	if len(e.srv.State().Departments) != 4 {
		t.Fatal("a dropped request was applied")
	}
}

func TestFaultHTTP5xx(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{HTTP5xxRate: 1})
	resp, err := e.client.Get(e.srv.URL + apiPath(e.app, "department/list", ""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 500 || resp.StatusCode > 504 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestFaultFreqLimitWindow(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{Endpoints: []string{"message/send"}, FreqLimitRate: 1, FreqLimitWindow: 30 * time.Second})
	e.wantCode(e.post(e.app, "message/send", msg("")), 45009)
	e.srv.ClearFaults()
	e.srv.BlockEndpoint("message/send", 30*time.Second) // an explicit window works the same way
	e.srv.SetFaults()                                   // clearing rules keeps the open window
	e.wantCode(e.post(e.app, "message/send", msg("")), 45009)
	e.wantCode(e.get(e.app, "department/list", ""), 0)
	e.srv.Advance(30 * time.Second)
	e.wantCode(e.post(e.app, "message/send", msg("")), 0)
	if n := len(e.srv.Inbox("lisi")); n != 1 {
		t.Fatalf("inbox %d", n)
	}
}

func TestFaultReplyDelayHoldsTheReplyOfAnAppliedWrite(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{Endpoints: []string{"message/send"}, ReplyDelay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+apiPath(e.app, "message/send", ""), strings.NewReader(msg("")))
	if err != nil {
		t.Fatal(err)
	}
	replied := make(chan error, 1)
	go func() {
		resp, err := e.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		replied <- err
	}()
	g := gomega.NewWithT(t)
	// The message is delivered while its reply is held; then the caller dies.
	g.Eventually(func() int { return len(e.srv.Inbox("lisi")) }, 10*time.Second).Should(gomega.Equal(1))
	cancel()
	if err := <-replied; err == nil {
		t.Fatal("the caller got a reply within the hour of delay")
	}
	g.Eventually(func() []Call { return e.srv.CallsTo("message/send") }, 10*time.Second).Should(gomega.ConsistOf(
		gomega.And(gomega.HaveField("Fault", faultReplyDelay), gomega.HaveField("HTTPStatus", 0), gomega.HaveField("ErrCode", 0))))
	e.wantCode(e.get(e.app, "department/list", ""), 0) // out of scope: not delayed
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{Endpoints: []string{"department/list"}, Latency: 60 * time.Millisecond})
	start := time.Now()
	e.wantCode(e.get(e.app, "department/list", ""), 0)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Fatalf("latency %v", d)
	}
}

// Fault decisions come from the seeded generator: the same request
// sequence gives the same outcomes.
func TestFaultsAreReproducible(t *testing.T) {
	outcomes := func() string {
		e := newEnv(t, func(o *Options) { o.RandSeed = 42 })
		e.srv.SetFaults(Faults{ErrorRate: 0.5})
		var b strings.Builder
		for i := 0; i < 40; i++ {
			fmt.Fprint(&b, code(e.get(e.app, "department/get", "id=1")), ",")
		}
		return b.String()
	}
	a, b := outcomes(), outcomes()
	if a != b || !strings.Contains(a, "-1") || !strings.Contains(a, "0,") {
		t.Fatalf("outcomes differ or are degenerate:\n%s\n%s", a, b)
	}
}

// The generic per-API limit (10,000/min) blocks the endpoint until the
// minute ends. The counter is primed in-process (white box) for speed; the
// last calls at the edge go through the full pipeline.
func TestBaseFrequencyLimit(t *testing.T) {
	e := newEnv(t)
	call := func() int { return inProcess(t, e.srv.Sim, "GET", apiPath(e.app, "department/get", "id=1"), "") }
	e.srv.mu.Lock()
	for i := 0; i < baseLimitPerMinute-10; i++ {
		e.srv.checkBaseRate("department/get", e.srv.Now())
	}
	e.srv.mu.Unlock()
	for i := 0; i < 10; i++ {
		if c := call(); c != 0 {
			t.Fatalf("call %d: %d", i, c)
		}
	}
	if c := call(); c != 45009 {
		t.Fatalf("call over the limit: %d", c)
	}
	e.wantCode(e.get(e.app, "department/list", ""), 0) // other endpoints unaffected
	e.srv.Advance(time.Minute)
	if c := call(); c != 0 {
		t.Fatalf("next minute: %d", c)
	}
}

// inProcess serves one request through the handler without a network
// round trip and returns the errcode.
func inProcess(t *testing.T, h http.Handler, method, path, body string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	var m map[string]any
	decodeJSON(t, rec.Result(), &m)
	return code(m)
}

// The call log is in the order calls were answered, and numbered so: a call that arrived
// first but was answered last comes after, and "the calls after the last one logged" never
// includes a call answered before that point (tests mark the log and count the calls since).
func TestCallLogIsInTheOrderCallsWereAnswered(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{Endpoints: []string{"message/send"}, ReplyDelay: 300 * time.Millisecond})
	replied := make(chan struct{})
	go func() {
		defer close(replied)
		e.post(e.app, "message/send", msg(""))
	}()
	g := gomega.NewWithT(t)
	// The slow call has arrived and been handled; its reply is held.
	g.Eventually(func() int { return len(e.srv.Inbox("lisi")) }, 10*time.Second).Should(gomega.Equal(1))
	e.wantCode(e.get(e.app, "department/list", ""), 0) // arrives second, answered first
	<-replied
	calls := e.srv.Calls()
	last := calls[len(calls)-1]
	if last.Endpoint != "/cgi-bin/message/send" {
		t.Fatalf("last logged call %s, want the held message/send", last.Endpoint)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].Seq <= calls[i-1].Seq {
			t.Fatalf("seq %d logged after %d", calls[i].Seq, calls[i-1].Seq)
		}
	}
	// /sim/calls?since=<the last seq> (what the e2e tests read) lists nothing.
	var since struct{ Calls []Call }
	resp, err := e.client.Get(fmt.Sprintf("%s/sim/calls?since=%d", e.srv.URL, last.Seq))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&since); err != nil {
		t.Fatal(err)
	}
	if len(since.Calls) != 0 {
		t.Fatalf("answered before the mark, listed after it: %+v", since.Calls)
	}
}
