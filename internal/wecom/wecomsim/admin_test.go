package wecomsim

import (
	"encoding/json"
	"strings"
	"testing"
)

func (e *env) admin(method, path, body string, wantStatus int) map[string]any {
	e.t.Helper()
	status, m, err := e.do(method, path, body)
	if err != nil || status != wantStatus {
		e.t.Fatalf("%s %s: HTTP %d (want %d) %v %v", method, path, status, wantStatus, m, err)
	}
	return m
}

func TestAdminAPI(t *testing.T) {
	e := newEnv(t)

	st := e.admin("GET", "/sim/state", "", 200)
	if st["corp"].(map[string]any)["corp_id"] != DemoCorpID || len(st["departments"].([]any)) != 4 {
		t.Fatalf("state %v", st)
	}
	if raw, _ := json.Marshal(st); strings.Contains(string(raw), DemoAppSecret) || strings.Contains(string(raw), DemoRobotKey) {
		t.Fatal("state exposes secrets")
	}

	// Faults.
	e.admin("POST", "/sim/faults", `{"rules":[{"endpoints":["department/list"],"error_rate":1,"latency_ms":1}]}`, 200)
	e.wantCode(e.get(e.app, "department/list", ""), -1)
	f := e.admin("GET", "/sim/faults", "", 200)
	rule := f["rules"].([]any)[0].(map[string]any)
	if rule["error_rate"].(float64) != 1 || rule["latency_ms"].(float64) != 1 {
		t.Fatalf("faults %v", f)
	}
	f = e.admin("POST", "/sim/faults", `{"add":[{"endpoints":["message/send"],"reply_delay_ms":5}]}`, 200)
	if rules := f["rules"].([]any); len(rules) != 2 || rules[1].(map[string]any)["reply_delay_ms"].(float64) != 5 {
		t.Fatalf("after add: %v", f)
	}
	e.admin("POST", "/sim/faults", `{"clear":true,"block":[{"endpoint":"/cgi-bin/department/list","seconds":60}]}`, 200)
	e.wantCode(e.get(e.app, "department/list", ""), 45009)
	e.admin("POST", "/sim/faults", `{"clear":true}`, 200)
	e.wantCode(e.get(e.app, "department/list", ""), 0)
	e.admin("POST", "/sim/faults", `{"down":true}`, 200)
	if _, _, err := e.do("GET", apiPath(e.app, "department/list", ""), ""); err == nil {
		t.Fatal("not down")
	}
	e.admin("POST", "/sim/faults", `{"down":false,"revoke_tokens":true}`, 200)
	e.wantCode(e.get(e.app, "department/list", ""), 40014)
	e.refresh()

	// Clock.
	c := e.admin("POST", "/sim/clock", `{"advance_seconds":7200}`, 200)
	if c["frozen"] != true || int64(c["unix"].(float64)) != testStart.Unix()+7200 {
		t.Fatalf("clock %v", c)
	}
	e.wantCode(e.get(e.app, "department/list", ""), 42001)
	e.admin("POST", "/sim/clock", `{"now":"2026-03-02T10:00:00Z"}`, 200)
	e.wantCode(e.get(e.app, "department/list", ""), 0)

	// Seed (merge) and activate.
	e.admin("POST", "/sim/seed", `{"users":[{"userid":"seeded","name":"S","email":"s@example.com","department":[4],"inactive":true}]}`, 200)
	if u := e.get(e.app, "user/get", "userid=seeded"); u["status"].(float64) != 4 {
		t.Fatalf("seeded user %v", u)
	}
	e.admin("POST", "/sim/activate", `{"userid":"seeded"}`, 200)
	if u := e.get(e.app, "user/get", "userid=seeded"); u["status"].(float64) != 1 {
		t.Fatalf("activated user %v", u)
	}

	// Calls and messages.
	e.wantCode(e.post(e.app, "message/send", msg("")), 0)
	calls := e.admin("GET", "/sim/calls?endpoint=message/send", "", 200)
	if l := calls["calls"].([]any); len(l) != 1 || calls["counts"].(map[string]any)["gettoken"].(float64) < 3 {
		t.Fatalf("calls %v", calls)
	}
	msgs := e.admin("GET", "/sim/messages?user=LISI", "", 200)
	if l := msgs["messages"].([]any); len(l) != 1 {
		t.Fatalf("messages %v", msgs)
	}
	if l := e.admin("GET", "/sim/messages?user=wangwu", "", 200)["messages"].([]any); len(l) != 0 {
		t.Fatalf("wangwu messages %v", l)
	}
	e.admin("DELETE", "/sim/messages", "", 200)
	e.admin("DELETE", "/sim/calls", "", 200)
	if len(e.srv.Calls()) != 0 || len(e.srv.Messages()) != 0 {
		t.Fatal("not cleared")
	}

	// Reset to the demo seed.
	r := e.admin("POST", "/sim/seed", `{"reset":true,"demo":true}`, 200)
	if r["credentials"].(map[string]any)["agent_id"].(float64) != DemoAgentID {
		t.Fatalf("seed reply %v", r)
	}
	if _, ok := e.srv.State().User("seeded"); ok {
		t.Fatal("reset kept old users")
	}
	e.wantCode(e.get(e.app, "department/list", ""), 40014) // tokens were reset too

	// Errors.
	e.admin("GET", "/sim/nope", "", 404)
	e.admin("POST", "/sim/faults", `{"rules":[{"eror_rate":1}]}`, 400)
	e.admin("POST", "/sim/clock", `{"now":"yesterday"}`, 400)
	e.admin("POST", "/sim/seed", `{"departments":[{"id":9,"name":"x","parentid":99}]}`, 400)
	e.admin("PUT", "/sim/state", "", 405)
	if idx := e.admin("GET", "/sim/", "", 200); len(idx["endpoints"].([]any)) < 35 {
		t.Fatalf("index %v", idx)
	}
}
