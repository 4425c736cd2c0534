package wecomsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUnknownPathIs404WithEmptyBody(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/cgi-bin/nope", "/cgi-bin/appchat/delete", "/", "/cgi-bin/", "/other"} {
		status, m, err := e.do("POST", p+"?access_token="+e.app, `{}`)
		if err != nil || status != http.StatusNotFound || m != nil {
			t.Errorf("%s: status %d body %v err %v", p, status, m, err)
		}
	}
	if c := e.srv.CallsTo("/cgi-bin/nope"); len(c) != 1 || c[0].HTTPStatus != 404 {
		t.Errorf("404 not logged: %+v", c)
	}
}

func TestTokenReuseExpiryAndRevocation(t *testing.T) {
	e := newEnv(t)
	before := e.srv.GetTokenCount()

	// Repeat fetch while valid: same token, remaining lifetime.
	e.srv.Advance(100 * time.Second)
	m := e.get("", "gettoken", "corpid="+DemoCorpID+"&corpsecret="+DemoAppSecret)
	if m["access_token"] != e.app || m["expires_in"].(float64) != 7100 {
		t.Fatalf("repeat gettoken: %v (first token %s)", m, e.app)
	}
	// Tokens are per app.
	if e.app == e.sync || e.app == e.lim {
		t.Fatal("apps share a token")
	}

	// Expiry on the simulator clock.
	e.srv.Advance(7100 * time.Second)
	e.wantCode(e.get(e.app, "department/list", ""), 42001)
	fresh := e.token(DemoAppSecret)
	if fresh == e.app {
		t.Fatal("expired token was reissued")
	}
	e.wantCode(e.get(e.app, "department/list", ""), 42001) // old one stays expired
	e.wantCode(e.get(fresh, "department/list", ""), 0)

	// Early revocation.
	e.srv.RevokeTokens()
	e.wantCode(e.get(fresh, "department/list", ""), 40014)
	again := e.token(DemoAppSecret)
	if again == fresh {
		t.Fatal("revoked token was reissued")
	}
	e.wantCode(e.get(again, "department/list", ""), 0)

	if got := e.srv.GetTokenCount() - before; got != 3 {
		t.Fatalf("gettoken count %d, want 3", got)
	}
}

func TestTokenTTLOption(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TokenTTL = time.Minute })
	e.srv.Advance(59 * time.Second)
	e.wantCode(e.get(e.app, "department/list", ""), 0)
	e.srv.Advance(time.Second)
	e.wantCode(e.get(e.app, "department/list", ""), 42001)
}

func TestTrustedIPAndDisabledApp(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.Seed(Seed{Apps: []App{
		{Name: "fenced", Secret: "fenced-secret", AgentID: 1000005, VisibleRoot: true, TrustedIPs: []string{"10.1.2.0/24"}},
		{Name: "local", Secret: "local-secret", AgentID: 1000006, VisibleRoot: true, TrustedIPs: []string{"127.0.0.1"}},
		{Name: "off", Secret: "off-secret", AgentID: 1000007, Disabled: true},
	}}); err != nil {
		t.Fatal(err)
	}
	e.wantCode(e.get(e.token("fenced-secret"), "department/list", ""), 60020)
	e.wantCode(e.get(e.token("local-secret"), "department/list", ""), 0)
	e.wantCode(e.get("", "gettoken", "corpid="+DemoCorpID+"&corpsecret=off-secret"), 40001)
}

func TestErrmsgStrings(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PlainErrmsg = false })
	m := e.post(e.sync, "department/create", `{"name":"X","parentid":1}`)
	if m["errmsg"] != "created" {
		t.Errorf("create errmsg %v", m["errmsg"])
	}
	id := int(m["id"].(float64))
	if m := e.post(e.sync, "department/update", fmt.Sprintf(`{"id":%d,"name":"Y"}`, id)); m["errmsg"] != "updated" {
		t.Errorf("update errmsg %v", m["errmsg"])
	}
	if m := e.get(e.sync, "department/delete", fmt.Sprintf("id=%d", id)); m["errmsg"] != "deleted" {
		t.Errorf("delete errmsg %v", m["errmsg"])
	}
	if m := e.get(e.app, "department/list", ""); m["errmsg"] != "ok" {
		t.Errorf("list errmsg %v", m["errmsg"])
	}
	m = e.get("", "gettoken", "corpid=wwx&corpsecret=y")
	msg := m["errmsg"].(string)
	if !strings.HasPrefix(msg, "invalid corpid, hint: [") || !strings.HasSuffix(msg, "more info at https://open.work.weixin.qq.com/devtool/query?e=40013") {
		t.Errorf("error errmsg %q", msg)
	}
}

func TestDepartmentShapes(t *testing.T) {
	e := newEnv(t)
	m := e.get(e.app, "department/list", "")
	depts := m["department"].([]any)
	if len(depts) != 4 {
		t.Fatalf("list: %v", m)
	}
	root := depts[0].(map[string]any)
	if root["id"].(float64) != 1 || root["parentid"].(float64) != 0 || root["name"] != "Demo Corp" {
		t.Errorf("root %v", root)
	}
	eng := depts[1].(map[string]any)
	if leaders := eng["department_leader"].([]any); len(leaders) != 1 || leaders[0] != "zhangsan" {
		t.Errorf("engineering leaders %v", eng)
	}
	m = e.get(e.app, "department/simplelist", "id=2")
	want := `[{"id":2,"order":100,"parentid":1},{"id":3,"order":100,"parentid":2}]`
	if got, _ := json.Marshal(m["department_id"]); string(got) != want {
		t.Errorf("simplelist %s", got)
	}
	m = e.get(e.app, "department/get", "id=3")
	d := m["department"].(map[string]any)
	if d["name"] != "SRE" || d["parentid"].(float64) != 2 {
		t.Errorf("get %v", d)
	}
	// Failed simplelist still carries an empty list (§0).
	m = e.get(e.app, "department/simplelist", "id=99")
	if l, ok := m["department_id"].([]any); !ok || len(l) != 0 {
		t.Errorf("failed simplelist %v", m)
	}
}

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	m := e.post(e.sync, "user/create", `{"userid":"Alice","name":"Alice","email":"alice@example.com","department":[2,50,0],"order":[1,2,3],"gender":2,"enable":0,"weixinid":"ignored","tel":"x"}`)
	e.wantCode(m, 0)
	created := m["created_department_list"].(map[string]any)["department_info"].([]any)
	if len(created) != 1 || created[0].(map[string]any)["id"].(float64) != 50 {
		t.Fatalf("created_department_list %v", m)
	}
	u := e.get(e.app, "user/get", "userid=alice")
	if u["userid"] != "Alice" || u["gender"] != "2" || u["status"].(float64) != 2 || u["enable"].(float64) != 0 {
		t.Fatalf("user/get %v", u)
	}
	if got, _ := json.Marshal(u["department"]); string(got) != "[2,50]" {
		t.Errorf("departments %s", got)
	}
	// Update with the null lists go-workwx sends: unchanged.
	e.wantCode(e.post(e.sync, "user/update", `{"userid":"alice","department":null,"order":null,"is_leader_in_dept":null,"enable":1,"position":"PM","avatar":"x","status":1}`), 0)
	u = e.get(e.app, "user/get", "userid=ALICE")
	if u["position"] != "PM" || u["status"].(float64) != 1 || len(u["department"].([]any)) != 2 {
		t.Fatalf("after update %v", u)
	}
	if m := e.post(e.sync, "user/update", `{"userid":"alice","name":"Alice B"}`); m["errmsg"] != "updated" {
		t.Errorf("update errmsg %v", m)
	}
	// Simplelist with and without fetch_child.
	ids := func(q string) string {
		var out []string
		for _, x := range e.get(e.app, "user/simplelist", q)["userlist"].([]any) {
			out = append(out, x.(map[string]any)["userid"].(string))
		}
		return strings.Join(out, ",")
	}
	if got := ids("department_id=2&fetch_child=0"); got != "zhangsan,lisi,Alice" {
		t.Errorf("simplelist %s", got)
	}
	if got := ids("department_id=2&fetch_child=1"); got != "zhangsan,lisi,wangwu,Alice" {
		t.Errorf("simplelist recursive %s", got)
	}
	if l := e.get(e.app, "user/list", "department_id=3")["userlist"].([]any); len(l) != 1 || l[0].(map[string]any)["userid"] != "wangwu" {
		t.Errorf("user/list %v", l)
	}
	if m := e.get(e.sync, "user/delete", "userid=ALICE"); m["errmsg"] != "deleted" {
		t.Errorf("delete %v", m)
	}
	e.wantCode(e.get(e.app, "user/get", "userid=alice"), 60111)
	// Failed user/get carries empty lists (§0).
	if m := e.get(e.app, "user/get", "userid=alice"); m["department"] == nil || m["direct_leader"] == nil {
		t.Errorf("failed user/get %v", m)
	}
}

func TestUserMobileIgnoredForActivatedMembers(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.ActivateCreatedUsers = false })
	e.wantCode(e.post(e.sync, "user/create", `{"userid":"new1","name":"N","mobile":"13900000000"}`), 0)
	if u := e.get(e.app, "user/get", "userid=new1"); u["status"].(float64) != 4 {
		t.Fatalf("created user status %v", u["status"])
	}
	e.wantCode(e.post(e.sync, "user/update", `{"userid":"new1","mobile":"13900000001"}`), 0)
	e.wantCode(e.post(e.sync, "user/update", `{"userid":"lisi","mobile":"13900000002"}`), 0)
	st := e.srv.State()
	if u, _ := st.User("new1"); u.Mobile != "13900000001" {
		t.Errorf("inactive member mobile %q", u.Mobile)
	}
	if u, _ := st.User("lisi"); u.Mobile != "13800000002" {
		t.Errorf("activated member mobile changed to %q", u.Mobile)
	}
}

func TestListIDPaging(t *testing.T) {
	e := newEnv(t)
	var rows []string
	cursor := ""
	for page := 0; page < 10; page++ {
		m := e.post(e.sync, "user/list_id", fmt.Sprintf(`{"cursor":%q,"limit":2}`, cursor))
		e.wantCode(m, 0)
		for _, r := range m["dept_user"].([]any) {
			row := r.(map[string]any)
			rows = append(rows, fmt.Sprintf("%s:%v", row["userid"], row["department"]))
		}
		cursor = m["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if got := strings.Join(rows, ","); got != "zhangsan:1,zhangsan:2,lisi:2,wangwu:3,zhaoliu:4" {
		t.Fatalf("rows %s", got)
	}
}

func TestBatchDeleteIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	e.wantCode(e.post(e.sync, "user/batchdelete", `{"useridlist":["lisi","ghost"]}`), 60111)
	if _, ok := e.srv.State().User("lisi"); !ok {
		t.Fatal("partial batchdelete applied")
	}
	if m := e.post(e.sync, "user/batchdelete", `{"useridlist":["lisi","wangwu"]}`); m["errmsg"] != "deleted" {
		t.Fatalf("batchdelete %v", m)
	}
	if len(e.srv.State().Users) != 2 {
		t.Fatal("users not deleted")
	}
}

func TestMessageQuotaDropsSilently(t *testing.T) {
	e := newEnv(t)
	body := func(i int) string {
		return fmt.Sprintf(`{"touser":"lisi|wangwu","msgtype":"text","agentid":1000002,"text":{"content":"m%d"}}`, i)
	}
	for i := 0; i < 30; i++ {
		e.wantCode(e.post(e.app, "message/send", body(i)), 0)
		e.srv.Advance(time.Second)
	}
	// The 31st within a minute: reply ok, copy dropped.
	m := e.post(e.app, "message/send", body(30))
	e.wantCode(m, 0)
	if m["msgid"] == "" {
		t.Error("dropped message has no msgid")
	}
	if n := len(e.srv.Inbox("lisi")); n != 30 {
		t.Fatalf("lisi received %d, want 30", n)
	}
	drops := e.srv.Drops()
	if len(drops) != 2 || drops[0].UserID != "lisi" || drops[0].Reason != quotaReasonMinute {
		t.Fatalf("drops %+v", drops)
	}
	// Another app has its own quota.
	if err := e.srv.Seed(Seed{Apps: []App{{Name: "b", Secret: "b-secret", AgentID: 1000010, VisibleRoot: true}}}); err != nil {
		t.Fatal(err)
	}
	e.wantCode(e.post(e.token("b-secret"), "message/send", `{"touser":"lisi","msgtype":"text","agentid":1000010,"text":{"content":"other"}}`), 0)
	if n := len(e.srv.Inbox("lisi")); n != 31 {
		t.Fatalf("other app's message dropped (%d)", n)
	}
	// A minute after the first message the window has room again.
	e.srv.Advance(31 * time.Second)
	e.wantCode(e.post(e.app, "message/send", body(31)), 0)
	if n := len(e.srv.Inbox("lisi")); n != 32 {
		t.Fatalf("after window lisi has %d", n)
	}
}

func TestMessageHourlyQuota(t *testing.T) {
	e := newEnv(t)
	sent := 0
	for minute := 0; minute < 34; minute++ {
		for i := 0; i < 30; i++ { // in-process: 1020 sends through the full pipeline
			body := fmt.Sprintf(`{"touser":"lisi","msgtype":"text","agentid":1000002,"text":{"content":"%d"}}`, sent)
			if c := inProcess(t, e.srv.Sim, "POST", apiPath(e.app, "message/send", ""), body); c != 0 {
				t.Fatalf("send %d: %d", sent, c)
			}
			sent++
		}
		e.srv.Advance(time.Minute)
	}
	if n := len(e.srv.Inbox("lisi")); n != 1000 {
		t.Fatalf("delivered %d in one hour, want 1000", n)
	}
	drops := e.srv.Drops()
	if len(drops) != sent-1000 || drops[0].Reason != quotaReasonHour {
		t.Fatalf("%d drops, first %+v", len(drops), drops[0])
	}
}

func TestDuplicateCheck(t *testing.T) {
	e := newEnv(t)
	body := `{"touser":"lisi","msgtype":"text","agentid":1000002,"text":{"content":"once"},"enable_duplicate_check":1,"duplicate_check_interval":600}`
	first := e.post(e.app, "message/send", body)
	e.srv.Advance(5 * time.Minute)
	// Same JSON with different whitespace is still the same request.
	second := e.post(e.app, "message/send", strings.ReplaceAll(body, ",", ", "))
	if first["msgid"] != second["msgid"] {
		t.Fatalf("duplicate got a new msgid: %v vs %v", first, second)
	}
	if n := len(e.srv.Inbox("lisi")); n != 1 {
		t.Fatalf("duplicate delivered (%d)", n)
	}
	e.srv.Advance(5 * time.Minute)
	third := e.post(e.app, "message/send", body)
	if third["msgid"] == first["msgid"] || len(e.srv.Inbox("lisi")) != 2 {
		t.Fatalf("after the interval: %v, inbox %d", third, len(e.srv.Inbox("lisi")))
	}
	// Without the flag identical messages are delivered every time.
	plain := `{"touser":"lisi","msgtype":"text","agentid":1000002,"text":{"content":"twice"}}`
	e.post(e.app, "message/send", plain)
	e.post(e.app, "message/send", plain)
	if n := len(e.srv.Inbox("lisi")); n != 4 {
		t.Fatalf("inbox %d, want 4", n)
	}
	dups := 0
	for _, m := range e.srv.Messages() {
		if m.Duplicate {
			dups++
		}
	}
	if dups != 1 {
		t.Fatalf("%d duplicates recorded", dups)
	}
}

func TestMessageRecipientsAndRecall(t *testing.T) {
	e := newEnv(t)
	m := e.post(e.app, "message/send", `{"touser":"LiSi|Ghost","toparty":"3|77","totag":"1|55","msgtype":"markdown","agentid":"1000002","safe":"0","markdown":{"content":"**hi**"}}`)
	e.wantCode(m, 0)
	if m["invaliduser"] != "ghost" || m["invalidparty"] != "77" || m["invalidtag"] != "55" || m["unlicenseduser"] != "" {
		t.Fatalf("invalid lists %v", m)
	}
	msgs := e.srv.Messages()
	if got := strings.Join(msgs[0].DeliveredTo, ","); got != "lisi,wangwu" {
		t.Fatalf("delivered to %s", got)
	}
	if string(msgs[0].Body) != `{"touser":"LiSi|Ghost","toparty":"3|77","totag":"1|55","msgtype":"markdown","agentid":"1000002","safe":"0","markdown":{"content":"**hi**"}}` {
		t.Fatalf("body not recorded verbatim: %s", msgs[0].Body)
	}
	all := e.post(e.app, "message/send", `{"touser":"@all","toparty":"77","msgtype":"text","agentid":1000002,"text":{"content":"all"}}`)
	e.wantCode(all, 0)
	if n := len(e.srv.Messages()[1].DeliveredTo); n != 4 || all["invalidparty"] != "" {
		t.Fatalf("@all delivered to %d: %v", n, all)
	}

	msgid := m["msgid"].(string)
	other := e.secondApp()
	e.wantCode(e.post(other, "message/recall", `{"msgid":"`+msgid+`"}`), 40058)
	e.srv.Advance(23 * time.Hour)
	e.refresh()
	e.wantCode(e.post(e.app, "message/recall", `{"msgid":"`+msgid+`"}`), 0)
	if !e.srv.Inbox("lisi")[0].Recalled {
		t.Fatal("not marked recalled")
	}
	e.srv.Advance(2 * time.Hour)
	e.refresh()
	e.wantCode(e.post(e.app, "message/recall", `{"msgid":"`+all["msgid"].(string)+`"}`), 42052)
}

func TestInteractiveCardResponseCodeAndTaskID(t *testing.T) {
	e := newEnv(t)
	body := card(`{"card_type":"button_interaction","task_id":"task-1","main_title":{"title":"t"},"button_list":[{"text":"ok","key":"k1"}]}`)
	// Interactive cards call back: WeCom refuses them from an app without a
	// callback URL (43012, §14).
	e.wantCode(e.post(e.app, "message/send", body), 43012)
	mustCallback(t, e.srv.Sim, DemoAgentID, newReceiver(t))
	m := e.post(e.app, "message/send", body)
	e.wantCode(m, 0)
	if rc, _ := m["response_code"].(string); rc == "" {
		t.Fatalf("no response_code: %v", m)
	}
	e.wantCode(e.post(e.app, "message/send", body), 42014) // task_id reused
}

func TestRobotRateLimit(t *testing.T) {
	e := newEnv(t)
	send := func() map[string]any {
		return e.post("", "webhook/send?key="+DemoRobotKey, `{"msgtype":"text","text":{"content":"x"}}`)
	}
	for i := 0; i < 20; i++ {
		e.wantCode(send(), 0)
		e.srv.Advance(time.Second)
	}
	e.wantCode(send(), 45009) // 21st within 60 s
	if n := len(e.srv.RobotMessages("alert-bot")); n != 20 {
		t.Fatalf("%d robot messages", n)
	}
	e.srv.Advance(40 * time.Second) // the first message left the sliding window
	e.wantCode(send(), 0)
	for _, c := range e.srv.CallsTo("webhook/send") {
		if strings.Contains(c.Body+fmt.Sprint(c.Query), DemoRobotKey) {
			t.Fatal("robot key recorded in the call log")
		}
	}
	if m := e.srv.RobotMessages("")[0]; m.ChatName != "Ops Alerts" || m.Robot != "alert-bot" {
		t.Fatalf("robot message %+v", m)
	}
}

func TestRobotDisabled(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.Seed(Seed{Robots: []Robot{{Key: "k2", Name: "off", ChatName: "c", Disabled: true}}}); err != nil {
		t.Fatal(err)
	}
	e.wantCode(e.post("", "webhook/send?key=k2", `{"msgtype":"text","text":{"content":"x"}}`), 93004)
}

func TestAppChatLifecycle(t *testing.T) {
	e := newEnv(t)
	m := e.post(e.app, "appchat/create", `{"name":"`+repeatStr("群", 60)+`","owner":"","chatid":"","userlist":["zhangsan","LISI"]}`)
	e.wantCode(m, 0)
	chatid := m["chatid"].(string)
	if len(chatid) == 0 || len(chatid) > 32 {
		t.Fatalf("chatid %q", chatid)
	}
	info := e.get(e.app, "appchat/get", "chatid="+chatid)["chat_info"].(map[string]any)
	if n := len([]rune(info["name"].(string))); n != 50 {
		t.Errorf("name not truncated to 50 (%d)", n)
	}
	if o := info["owner"]; o != "zhangsan" && o != "lisi" {
		t.Errorf("random owner %v is not a member", o)
	}
	if info["chat_type"].(float64) != 0 {
		t.Errorf("chat_type %v", info["chat_type"])
	}
	e.wantCode(e.post(e.app, "appchat/update", `{"chatid":"`+chatid+`","name":"ops","owner":"wangwu","add_user_list":["wangwu"],"del_user_list":["lisi"]}`), 0)
	info = e.get(e.app, "appchat/get", "chatid="+chatid)["chat_info"].(map[string]any)
	if got, _ := json.Marshal(info["userlist"]); string(got) != `["zhangsan","wangwu"]` || info["owner"] != "wangwu" || info["name"] != "ops" {
		t.Fatalf("after update %v", info)
	}
	e.wantCode(e.post(e.app, "appchat/send", `{"chatid":"`+chatid+`","msgtype":"markdown","markdown":{"content":"**x**"},"safe":0}`), 0)
	if n := len(e.srv.ChatMessages(chatid)); n != 1 || len(e.srv.Inbox("wangwu")) != 1 {
		t.Fatalf("chat messages %d", n)
	}
}

func TestContactWayLifecycle(t *testing.T) {
	e := newEnv(t)
	add := func(body string) map[string]any {
		m := e.post(e.app, "externalcontact/add_contact_way", body)
		e.wantCode(m, 0)
		return m
	}
	button := add(`{"type":1,"scene":1,"style":2,"user":["lisi"],"skip_verify":false}`)
	if _, has := button["qr_code"]; has {
		t.Error("scene 1 returned qr_code")
	}
	id1 := button["config_id"].(string)
	if len(id1) != 32 || strings.Trim(id1, "0123456789abcdef") != "" {
		t.Errorf("config_id %q", id1)
	}
	e.srv.Advance(time.Minute)
	qr := add(`{"type":2,"scene":2,"user":["lisi"],"party":[3],"remark":"r","state":"s"}`)
	if !strings.HasPrefix(qr["qr_code"].(string), "https://") {
		t.Error("scene 2 without qr_code")
	}
	id2 := qr["config_id"].(string)
	e.srv.Advance(time.Minute)
	add(`{"type":1,"scene":2,"user":["wangwu"],"is_temp":true}`) // temp: not listed

	way := e.post(e.app, "externalcontact/get_contact_way", `{"config_id":"`+id1+`"}`)["contact_way"].(map[string]any)
	if way["style"].(float64) != 2 || way["skip_verify"] != false || way["is_temp"] != false {
		t.Errorf("get %v", way)
	}
	if _, has := way["qr_code"]; has {
		t.Error("scene 1 way has qr_code")
	}

	e.wantCode(e.post(e.app, "externalcontact/update_contact_way", `{"config_id":"`+id2+`","user":["zhangsan"],"party":[],"type":1,"remark":"r2"}`), 0)
	way = e.post(e.app, "externalcontact/get_contact_way", `{"config_id":"`+id2+`"}`)["contact_way"].(map[string]any)
	if got, _ := json.Marshal([]any{way["user"], way["party"], way["type"], way["remark"], way["state"]}); string(got) != `[["zhangsan"],[],2,"r2","s"]` {
		t.Errorf("after update %s", got)
	}

	list := func(body string) ([]string, string) {
		m := e.post(e.app, "externalcontact/list_contact_way", body)
		e.wantCode(m, 0)
		var ids []string
		for _, w := range m["contact_way"].([]any) {
			ids = append(ids, w.(map[string]any)["config_id"].(string))
		}
		return ids, m["next_cursor"].(string)
	}
	ids, next := list(`{}`)
	if strings.Join(ids, ",") != id1+","+id2 || next != "" {
		t.Fatalf("list %v %q", ids, next)
	}
	ids, next = list(`{"limit":1}`)
	if len(ids) != 1 || ids[0] != id1 || next == "" {
		t.Fatalf("page 1 %v %q", ids, next)
	}
	ids, _ = list(`{"limit":1,"cursor":"` + next + `"}`)
	if len(ids) != 1 || ids[0] != id2 {
		t.Fatalf("page 2 %v", ids)
	}
	start := testStart.Add(30 * time.Second).Unix()
	if ids, _ = list(fmt.Sprintf(`{"start_time":%d}`, start)); len(ids) != 1 || ids[0] != id2 {
		t.Fatalf("time window %v", ids)
	}
	e.srv.Advance(91 * 24 * time.Hour) // default window is the last 90 days
	e.refresh()
	if ids, _ = list(`{}`); len(ids) != 0 {
		t.Fatalf("old ways listed %v", ids)
	}

	e.wantCode(e.post(e.app, "externalcontact/del_contact_way", `{"config_id":"`+id1+`"}`), 0)
	e.wantCode(e.post(e.app, "externalcontact/get_contact_way", `{"config_id":"`+id1+`"}`), 41044)
}

func TestCalendarAndScheduleLifecycle(t *testing.T) {
	e := newEnv(t)
	m := e.post(e.app, "oa/schedule/add", schedule(`,"summary":"standup","organizer":"zhangsan","readonly":1`))
	e.wantCode(m, 0)
	id := m["schedule_id"].(string)
	st := e.srv.State()
	if len(st.Calendars) != 1 || !st.Calendars[0].IsDefault || st.Schedules[0].CalID != st.Calendars[0].CalID {
		t.Fatalf("default calendar not used: %+v", st.Calendars)
	}

	cal := e.post(e.app, "oa/calendar/add", `{"calendar":{"summary":"oncall","color":"#FF3030","shares":[{"userid":"lisi"},{"userid":"ghost"}],"admins":["lisi"],"set_as_default":1}}`)
	e.wantCode(cal, 0)
	calID := cal["cal_id"].(string)
	failed := cal["fail_result"].(map[string]any)["shares"].([]any)
	if len(failed) != 1 || failed[0].(map[string]any)["userid"] != "ghost" {
		t.Fatalf("fail_result %v", cal)
	}
	got := e.post(e.app, "oa/calendar/get", `{"cal_id_list":["`+calID+`"]}`)["calendar_list"].([]any)[0].(map[string]any)
	if got["summary"] != "oncall" || len(got["shares"].([]any)) != 1 {
		t.Fatalf("calendar/get %v", got)
	}
	e.wantCode(e.post(e.app, "oa/calendar/update", `{"calendar":{"cal_id":"`+calID+`","summary":"oncall2","color":"#000000"}}`), 0)

	// Overwrite: omitted fields are cleared; cal_id cannot change.
	e.wantCode(e.post(e.app, "oa/schedule/update", `{"schedule":{"schedule_id":"`+id+`","cal_id":"`+calID+`","start_time":1772445600,"end_time":1772449200}}`), 40058)
	e.wantCode(e.post(e.app, "oa/schedule/update", `{"schedule":{"schedule_id":"`+id+`","start_time":1772445600,"end_time":1772452800,"location":"10F"}}`), 0)
	sc := e.post(e.app, "oa/schedule/get", `{"schedule_id_list":["`+id+`"]}`)["schedule_list"].([]any)[0].(map[string]any)
	if sc["summary"] != "" || sc["location"] != "10F" || sc["end_time"].(float64) != 1772452800 || sc["status"].(float64) != 0 {
		t.Fatalf("after update %v", sc)
	}
	if len(sc["attendees"].([]any)) != 0 {
		t.Errorf("attendees not overwritten %v", sc["attendees"])
	}

	e.wantCode(e.post(e.app, "oa/schedule/del", `{"schedule_id":"`+id+`","op_mode":0,"op_start_time":0}`), 0)
	sc = e.post(e.app, "oa/schedule/get", `{"schedule_id_list":["`+id+`"]}`)["schedule_list"].([]any)[0].(map[string]any)
	if sc["status"].(float64) != 1 {
		t.Fatalf("cancelled schedule %v", sc)
	}

	// A new schedule goes to the new default calendar; get_by_calendar.
	m = e.post(e.app, "oa/schedule/add", schedule(`,"reminders":{"is_repeat":1,"repeat_type":0}`))
	rep := m["schedule_id"].(string)
	list := e.post(e.app, "oa/schedule/get_by_calendar", `{"cal_id":"`+calID+`"}`)["schedule_list"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["schedule_id"] != rep {
		t.Fatalf("get_by_calendar %v", list)
	}
	// Split a repeating schedule: op_mode 1 returns a new id.
	e.wantCode(e.post(e.app, "oa/schedule/update", `{"op_mode":1,"op_start_time":1772532000,"schedule":{"schedule_id":"`+rep+`","start_time":1772535600,"end_time":1772539200}}`), 0)
	e.wantCode(e.post(e.app, "oa/schedule/update", `{"op_mode":1,"op_start_time":1772532000,"schedule":{"schedule_id":"`+id+`","start_time":1772535600,"end_time":1772539200}}`), 90460)
	e.wantCode(e.post(e.app, "oa/schedule/add_attendees", `{"schedule_id":"`+rep+`","attendees":[{"userid":"wangwu"}]}`), 0)
	e.wantCode(e.post(e.app, "oa/schedule/del_attendees", `{"schedule_id":"`+rep+`","attendees":[{"userid":"lisi"}]}`), 0)
	if got := e.srv.State().Schedules; len(got) != 3 || len(got[1].Reminders.ExcludeTimeList) != 1 || got[1].Attendees[0].UserID != "wangwu" {
		t.Fatalf("schedules %+v", got)
	}
}

func TestLeniency(t *testing.T) {
	e := newEnv(t)
	// gender as a number, direct_leader null, unknown fields.
	e.wantCode(e.post(e.sync, "user/create", `{"userid":"g1","name":"G","email":"g1@example.com","gender":1,"direct_leader":null,"department":null,"unknown":{"x":1}}`), 0)
	if u, _ := e.srv.State().User("g1"); u.Gender != "1" {
		t.Errorf("gender %q", u.Gender)
	}
	// Explicit optional query parameters.
	e.wantCode(e.get(e.app, "department/list", "id=1"), 0)
	e.wantCode(e.get(e.app, "user/simplelist", "department_id=1&fetch_child=0&status=0"), 0)
	// enable_id_trans etc. as zero values, agentid and safe as strings.
	e.wantCode(e.post(e.app, "message/send", `{"touser":"lisi","toparty":"","totag":"","msgtype":"text","agentid":"1000002","safe":"0","enable_id_trans":0,"enable_duplicate_check":0,"duplicate_check_interval":0,"text":{"content":"x"}}`), 0)
	// appchat/create zero values.
	e.wantCode(e.post(e.app, "appchat/create", `{"name":"","owner":"","chatid":"","userlist":["lisi","wangwu"]}`), 0)
	// add_contact_way zero values and nulls.
	e.wantCode(e.post(e.app, "externalcontact/add_contact_way", `{"type":1,"scene":2,"style":0,"expires_in":0,"chat_expires_in":0,"unionid":"","is_temp":false,"skip_verify":false,"party":null,"conclusions":null,"user":["lisi"]}`), 0)
	e.wantCode(e.post(e.app, "externalcontact/add_contact_way", `{"type":1,"scene":2,"user":["lisi"],"conclusions":{"text":{"content":""},"image":{"media_id":""},"link":{},"miniprogram":{}}}`), 0)
	// department/update parentid 0.
	e.wantCode(e.post(e.sync, "department/update", `{"id":4,"name":"","parentid":0,"order":5}`), 0)
}

func TestCallLogNeverRecordsCredentials(t *testing.T) {
	e := newEnv(t)
	e.post(e.app, "message/send", `{"access_token":"`+e.app+`","touser":"lisi","msgtype":"text","agentid":1000002,"text":{"content":"x"}}`)
	raw, _ := json.Marshal(e.srv.Calls())
	for _, secret := range []string{e.app, e.sync, e.lim, DemoAppSecret, DemoContactsSecret} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("call log contains a credential: %s", raw)
		}
	}
	calls := e.srv.CallsTo("gettoken")
	if len(calls) != 3 || calls[0].Query["corpid"] != DemoCorpID || calls[0].Endpoint != "/cgi-bin/gettoken" {
		t.Fatalf("gettoken calls %+v", calls)
	}
	last := e.srv.CallsTo("message/send")[0]
	if last.AgentID != DemoAgentID || last.App != "operator" || last.HTTPStatus != 200 {
		t.Fatalf("call %+v", last)
	}
}
