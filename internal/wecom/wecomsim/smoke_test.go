package wecomsim

import "testing"

func TestSmoke(t *testing.T) {
	e := newEnv(t)
	m := e.post(e.sync, "department/create", `{"name":"Platform","parentid":2}`)
	e.wantCode(m, 0)
	if m["errmsg"] != "created" || m["id"].(float64) != 5 {
		t.Fatalf("create: %v", m)
	}
	m = e.post(e.app, "message/send", `{"touser":"lisi|nobody","msgtype":"text","agentid":"1000002","text":{"content":"hi"}}`)
	e.wantCode(m, 0)
	if m["invaliduser"] != "nobody" {
		t.Fatalf("send: %v", m)
	}
	if got := len(e.srv.Inbox("LiSi")); got != 1 {
		t.Fatalf("inbox %d", got)
	}
}
