package wecomsim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// rule is one row of the validation table: a request that must be answered
// with a specific errcode, per the reference.
type rule struct {
	name     string
	tok      string // "sync", "app", "lim", "none" or a literal token
	method   string // default POST
	endpoint string
	query    string
	body     string
	header   map[string]string
	setup    func(e *env) // optional state preparation; it may set e.vars
	want     int
}

func (e *env) tokenFor(name string) string {
	switch name {
	case "sync":
		return e.sync
	case "app":
		return e.app
	case "lim":
		return e.lim
	case "none":
		return ""
	}
	return name
}

func runRules(t *testing.T, rules []rule) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.name] {
			t.Fatalf("duplicate row name %q", r.name)
		}
		seen[r.name] = true
		t.Run(r.name, func(t *testing.T) {
			e := newEnv(t)
			if r.setup != nil {
				r.setup(e)
			}
			method := r.method
			if method == "" {
				method = http.MethodPost
			}
			body, query := r.body, r.query
			for k, v := range e.vars {
				body, query = strings.ReplaceAll(body, "$"+k, v), strings.ReplaceAll(query, "$"+k, v)
			}
			req, err := http.NewRequest(method, e.srv.URL+apiPath(e.tokenFor(r.tok), r.endpoint, query), strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range r.header {
				req.Header.Set(k, v)
			}
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			decodeJSON(t, resp, &m)
			if got := code(m); got != r.want {
				calls := e.srv.CallsTo(r.endpoint)
				detail := ""
				if len(calls) > 0 {
					detail = calls[len(calls)-1].Detail
				}
				t.Fatalf("errcode %d, want %d (reply %v; detail %q)", got, r.want, m, detail)
			}
		})
	}
}

// Payload builders.

func repeatStr(s string, n int) string { return strings.Repeat(s, n) }

func userList(prefix string, n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return strings.Join(ids, "|")
}

func jsonInts(n int) string {
	v := make([]string, n)
	for i := range v {
		v[i] = fmt.Sprint(i + 1)
	}
	return "[" + strings.Join(v, ",") + "]"
}

func attendees(n int) string {
	v := make([]string, n)
	for i := range v {
		v[i] = fmt.Sprintf(`{"userid":"u%d"}`, i)
	}
	return "[" + strings.Join(v, ",") + "]"
}

func msg(extra string) string {
	return `{"touser":"lisi","msgtype":"text","agentid":1000002,"text":{"content":"x"}` + extra + `}`
}

func card(c string) string {
	return `{"touser":"lisi","msgtype":"template_card","agentid":1000002,"template_card":` + c + `}`
}

// btnCard is a button_interaction card with extra fields and buttons.
func btnCard(fields, buttons string) string {
	if fields != "" {
		fields += ","
	}
	return `{"card_type":"button_interaction",` + fields + `"main_title":{"title":"t"},"button_list":[` + buttons + `]}`
}

// options is n checkbox or select options with ids o1…on.
func options(n int) string {
	v := make([]string, n)
	for i := range v {
		v[i] = fmt.Sprintf(`{"id":"o%d","text":"O%d"}`, i+1, i+1)
	}
	return strings.Join(v, ",")
}

// withAppCallback saves a callback for the demo operator app, which
// interactive cards need.
func withAppCallback(e *env) { mustCallback(e.t, e.srv.Sim, DemoAgentID, newReceiver(e.t)) }

func schedule(fields string) string {
	return `{"schedule":{"start_time":1772445600,"end_time":1772449200,"attendees":[{"userid":"lisi"}]` + fields + `}}`
}

// chain creates departments 10..(10+n-1) nested under department 3.
func chain(n int) func(*env) {
	return func(e *env) {
		parent := 3
		for i := 0; i < n; i++ {
			id := 10 + i
			e.wantCode(e.post(e.sync, "department/create", fmt.Sprintf(`{"name":"L%d","parentid":%d,"id":%d}`, id, parent, id)), 0)
			parent = id
		}
	}
}

func createChat(e *env, tok, chatid string) {
	e.wantCode(e.post(tok, "appchat/create", `{"chatid":"`+chatid+`","userlist":["zhangsan","lisi","wangwu"],"owner":"zhangsan"}`), 0)
}

// secondApp seeds another root-visible self-built app and returns its token.
func (e *env) secondApp() string {
	if err := e.srv.Seed(Seed{Apps: []App{{Name: "second", Secret: "second-secret", AgentID: 1000004, VisibleRoot: true, CustomerContact: true}}}); err != nil {
		e.t.Fatal(err)
	}
	return e.token("second-secret")
}

func TestValidationAuth(t *testing.T) {
	runRules(t, []rule{
		{name: "gettoken missing secret", tok: "none", method: "GET", endpoint: "gettoken", query: "corpid=" + DemoCorpID, want: 41004},
		{name: "gettoken missing both reports secret first", tok: "none", method: "GET", endpoint: "gettoken", want: 41004},
		{name: "gettoken missing secret before bad corpid", tok: "none", method: "GET", endpoint: "gettoken", query: "corpid=wwbad", want: 41004},
		{name: "gettoken missing corpid", tok: "none", method: "GET", endpoint: "gettoken", query: "corpsecret=" + DemoAppSecret, want: 41002},
		{name: "gettoken unknown corp", tok: "none", method: "GET", endpoint: "gettoken", query: "corpid=wwbad&corpsecret=" + DemoAppSecret, want: 40013},
		{name: "gettoken wrong secret", tok: "none", method: "GET", endpoint: "gettoken", query: "corpid=" + DemoCorpID + "&corpsecret=nope", want: 40001},
		{name: "missing token", tok: "none", method: "GET", endpoint: "department/list", want: 41001},
		{name: "token in body is not read", tok: "none", endpoint: "department/create", body: `{"access_token":"x","name":"a","parentid":1}`, want: 41001},
		{name: "token in header is not read", tok: "none", method: "GET", endpoint: "department/list", header: map[string]string{"Authorization": "Bearer x"}, want: 41001},
		{name: "unknown token", tok: "bogus", method: "GET", endpoint: "department/list", want: 40014},
		{name: "token checked before params", tok: "bogus", endpoint: "department/create", body: `not json`, want: 40014},
		{name: "contacts write with app secret", tok: "app", endpoint: "department/create", body: `{"name":"a","parentid":1}`, want: 48002},
		{name: "user write with app secret", tok: "app", endpoint: "user/create", body: `{"userid":"a","name":"a","email":"a@example.com"}`, want: 48002},
		{name: "list_id with app secret", tok: "app", endpoint: "user/list_id", body: `{}`, want: 48002},
		{name: "appchat without root visibility", tok: "lim", endpoint: "appchat/create", body: `{"userlist":["lisi","wangwu"]}`, want: 48002},
		{name: "appchat with contacts secret", tok: "sync", endpoint: "appchat/create", body: `{"userlist":["lisi","wangwu"]}`, want: 48002},
		{name: "contact way without customer-contact permission", tok: "lim", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"user":["wangwu"]}`, want: 48002},
		{name: "calendar with contacts secret", tok: "sync", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000"}}`, want: 48002},
		{name: "empty body", tok: "sync", endpoint: "department/create", body: ``, want: 40063},
		{name: "POST endpoint called with GET", tok: "sync", method: "GET", endpoint: "department/create", want: 40063},
		{name: "malformed JSON", tok: "sync", endpoint: "department/create", body: `{"name":`, want: 40058},
		{name: "JSON array body", tok: "sync", endpoint: "department/create", body: `[1,2]`, want: 40058},
		{name: "wrong field type", tok: "sync", endpoint: "department/create", body: `{"name":123,"parentid":1}`, want: 40058},
		{name: "trailing garbage", tok: "sync", endpoint: "department/create", body: `{"name":"a","parentid":1} x`, want: 40058},
	})
}

func TestValidationDepartments(t *testing.T) {
	runRules(t, []rule{
		{name: "ok", tok: "sync", endpoint: "department/create", body: `{"name":"广州研发中心","name_en":"RDGZ","parentid":1,"order":1,"id":20}`, want: 0},
		{name: "name missing", tok: "sync", endpoint: "department/create", body: `{"parentid":1}`, want: 60001},
		{name: "name 33 runes", tok: "sync", endpoint: "department/create", body: `{"name":"` + repeatStr("部", 33) + `","parentid":1}`, want: 60001},
		{name: "name 32 runes ok", tok: "sync", endpoint: "department/create", body: `{"name":"` + repeatStr("部", 32) + `","parentid":1}`, want: 0},
		{name: "name with colon", tok: "sync", endpoint: "department/create", body: `{"name":"a:b","parentid":1}`, want: 60009},
		{name: "name with star", tok: "sync", endpoint: "department/create", body: `{"name":"a*b","parentid":1}`, want: 60009},
		{name: "name with full-width pipe", tok: "sync", endpoint: "department/create", body: `{"name":"a｜b","parentid":1}`, want: 60009},
		{name: "name with backslash", tok: "sync", endpoint: "department/create", body: `{"name":"a\\b","parentid":1}`, want: 60009},
		{name: "parentid missing", tok: "sync", endpoint: "department/create", body: `{"name":"a"}`, want: 60124},
		{name: "parent does not exist", tok: "sync", endpoint: "department/create", body: `{"name":"a","parentid":999}`, want: 60004},
		{name: "id 1 not allowed", tok: "sync", endpoint: "department/create", body: `{"name":"a","parentid":1,"id":1}`, want: 60123},
		{name: "duplicate id", tok: "sync", endpoint: "department/create", body: `{"name":"a","parentid":1,"id":2}`, want: 60008},
		{name: "duplicate sibling name", tok: "sync", endpoint: "department/create", body: `{"name":"Engineering","parentid":1}`, want: 60008},
		{name: "same name under another parent ok", tok: "sync", endpoint: "department/create", body: `{"name":"Engineering","parentid":4}`, want: 0},
		{name: "order out of range", tok: "sync", endpoint: "department/create", body: `{"name":"a","parentid":1,"order":4294967296}`, want: 40058},
		{name: "16th level", tok: "sync", endpoint: "department/create", setup: chain(12), body: `{"name":"deep","parentid":21}`, want: 81002},
		{name: "15th level ok", tok: "sync", endpoint: "department/create", setup: chain(11), body: `{"name":"deep","parentid":20}`, want: 0},
		{name: "update unknown", tok: "sync", endpoint: "department/update", body: `{"id":99,"name":"x"}`, want: 60003},
		{name: "update without id", tok: "sync", endpoint: "department/update", body: `{"name":"x"}`, want: 60123},
		{name: "update cycle under descendant", tok: "sync", endpoint: "department/update", body: `{"id":2,"parentid":3}`, want: 60010},
		{name: "update cycle under itself", tok: "sync", endpoint: "department/update", body: `{"id":2,"parentid":2}`, want: 60010},
		{name: "update move root", tok: "sync", endpoint: "department/update", body: `{"id":1,"parentid":2}`, want: 60010},
		{name: "update parentid 0 means unchanged", tok: "sync", endpoint: "department/update", body: `{"id":3,"name":"SRE2","parentid":0}`, want: 0},
		{name: "update rename to sibling name", tok: "sync", endpoint: "department/update", body: `{"id":4,"name":"Engineering"}`, want: 60008},
		{name: "update bad name", tok: "sync", endpoint: "department/update", body: `{"id":4,"name":"a<b"}`, want: 60009},
		{name: "move too deep", tok: "sync", endpoint: "department/update", setup: chain(12), body: `{"id":4,"parentid":21}`, want: 81002},
		{name: "move to the last level ok", tok: "sync", endpoint: "department/update", setup: chain(11), body: `{"id":4,"parentid":20}`, want: 0},
		{name: "move under own descendant", tok: "sync", endpoint: "department/update", setup: chain(11), body: `{"id":2,"parentid":20}`, want: 60010},
		{name: "delete root", tok: "sync", method: "GET", endpoint: "department/delete", query: "id=1", want: 60007},
		{name: "delete with children", tok: "sync", method: "GET", endpoint: "department/delete", query: "id=2", want: 60006},
		{name: "delete with members", tok: "sync", method: "GET", endpoint: "department/delete", query: "id=3", want: 60005},
		{name: "delete unknown", tok: "sync", method: "GET", endpoint: "department/delete", query: "id=77", want: 60003},
		{name: "delete with app secret", tok: "app", method: "GET", endpoint: "department/delete", query: "id=4", want: 48002},
		{name: "get unknown", tok: "app", method: "GET", endpoint: "department/get", query: "id=77", want: 60003},
		{name: "get non-numeric id", tok: "app", method: "GET", endpoint: "department/get", query: "id=abc", want: 60123},
		{name: "get without id", tok: "app", method: "GET", endpoint: "department/get", want: 60123},
		{name: "simplelist unknown", tok: "app", method: "GET", endpoint: "department/simplelist", query: "id=77", want: 60003},
		{name: "list unknown", tok: "app", method: "GET", endpoint: "department/list", query: "id=77", want: 60003},
	})
}

func TestValidationUsers(t *testing.T) {
	const base = `"name":"N","email":"n@example.com"`
	runRules(t, []rule{
		{name: "ok", tok: "sync", endpoint: "user/create", body: `{"userid":"zhang.san-1@x","name":"张三","mobile":"+86 13800000000","department":[1,2],"order":[10,40],"is_leader_in_dept":[1,0],"direct_leader":["lisi"],"gender":"1","enable":1,"to_invite":false}`, want: 0},
		{name: "userid missing", tok: "sync", endpoint: "user/create", body: `{` + base + `}`, want: 40003},
		{name: "userid starts with underscore", tok: "sync", endpoint: "user/create", body: `{"userid":"_a",` + base + `}`, want: 40003},
		{name: "userid with space", tok: "sync", endpoint: "user/create", body: `{"userid":"a b",` + base + `}`, want: 40003},
		{name: "userid 65 bytes", tok: "sync", endpoint: "user/create", body: `{"userid":"` + repeatStr("a", 65) + `",` + base + `}`, want: 40003},
		{name: "userid 64 bytes ok", tok: "sync", endpoint: "user/create", body: `{"userid":"` + repeatStr("a", 64) + `",` + base + `}`, want: 0},
		{name: "userid exists ignoring case", tok: "sync", endpoint: "user/create", body: `{"userid":"ZhangSan",` + base + `}`, want: 60102},
		{name: "name missing", tok: "sync", endpoint: "user/create", body: `{"userid":"a","email":"n@example.com"}`, want: 60112},
		{name: "name 65 runes", tok: "sync", endpoint: "user/create", body: `{"userid":"a","name":"` + repeatStr("名", 65) + `","email":"n@example.com"}`, want: 60112},
		{name: "no mobile nor email", tok: "sync", endpoint: "user/create", body: `{"userid":"a","name":"N"}`, want: 60129},
		{name: "bad mobile", tok: "sync", endpoint: "user/create", body: `{"userid":"a","name":"N","mobile":"abc123"}`, want: 60103},
		{name: "mobile 33 chars", tok: "sync", endpoint: "user/create", body: `{"userid":"a","name":"N","mobile":"` + repeatStr("1", 33) + `"}`, want: 60103},
		{name: "duplicate mobile in another format", tok: "sync", endpoint: "user/create", body: `{"userid":"a","name":"N","mobile":"+86 138-0000-0001"}`, want: 60104},
		{name: "bad email", tok: "sync", endpoint: "user/create", body: `{"userid":"a","name":"N","email":"not-an-email"}`, want: 60105},
		{name: "email too short", tok: "sync", endpoint: "user/create", body: `{"userid":"a","name":"N","email":"a@b.c"}`, want: 60105},
		{name: "duplicate email ignoring case", tok: "sync", endpoint: "user/create", body: `{"userid":"a","name":"N","email":"ZHANGSAN@example.com"}`, want: 60106},
		{name: "101 departments", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"department":` + jsonInts(101) + `}`, want: 60110},
		{name: "order length mismatch", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"department":[1,2],"order":[1]}`, want: 60132},
		{name: "is_leader_in_dept length mismatch", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"department":[1],"is_leader_in_dept":[1,0]}`, want: 60132},
		{name: "two direct leaders", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"direct_leader":["zhangsan","lisi"]}`, want: 60257},
		{name: "department as string", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"department":"1,2"}`, want: 41019},
		{name: "bad telephone", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"telephone":"call me"}`, want: 301013},
		{name: "position too long", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"position":"` + repeatStr("p", 129) + `"}`, want: 301012},
		{name: "gender 3", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"gender":3}`, want: 40058},
		{name: "main_department not a member department", tok: "sync", endpoint: "user/create", body: `{"userid":"a",` + base + `,"department":[2],"main_department":4}`, want: 60123},
		{name: "update unknown", tok: "sync", endpoint: "user/update", body: `{"userid":"ghost","name":"x"}`, want: 60111},
		{name: "update without userid", tok: "sync", endpoint: "user/update", body: `{"name":"x"}`, want: 41009},
		{name: "update clears mobile and email", tok: "sync", endpoint: "user/update", body: `{"userid":"zhaoliu","email":""}`, want: 60129},
		{name: "update to taken email", tok: "sync", endpoint: "user/update", body: `{"userid":"zhaoliu","email":"lisi@example.com"}`, want: 60106},
		{name: "update new_userid of a chosen userid", tok: "sync", endpoint: "user/update", body: `{"userid":"lisi","new_userid":"lisi2"}`, want: 301036},
		{name: "update order mismatch with current departments", tok: "sync", endpoint: "user/update", body: `{"userid":"zhangsan","order":[1]}`, want: 60132},
		{name: "delete unknown", tok: "sync", method: "GET", endpoint: "user/delete", query: "userid=ghost", want: 60111},
		{name: "delete creator", tok: "sync", method: "GET", endpoint: "user/delete", query: "userid=zhangsan", want: 301005},
		{name: "get without userid", tok: "app", method: "GET", endpoint: "user/get", want: 41009},
		{name: "get unknown", tok: "app", method: "GET", endpoint: "user/get", query: "userid=ghost", want: 60111},
		{name: "get ignores case", tok: "app", method: "GET", endpoint: "user/get", query: "userid=LISI", want: 0},
		{name: "list_id limit over 10000", tok: "sync", endpoint: "user/list_id", body: `{"limit":10001}`, want: 40058},
		{name: "list_id bad cursor", tok: "sync", endpoint: "user/list_id", body: `{"cursor":"!!"}`, want: 40058},
		{name: "batchdelete 201 ids", tok: "sync", endpoint: "user/batchdelete", body: `{"useridlist":["` + strings.ReplaceAll(userList("u", 201), "|", `","`) + `"]}`, want: 40032},
		{name: "batchdelete with unknown id", tok: "sync", endpoint: "user/batchdelete", body: `{"useridlist":["lisi","ghost"]}`, want: 60111},
		{name: "batchdelete empty", tok: "sync", endpoint: "user/batchdelete", body: `{"useridlist":[]}`, want: 40031},
		{name: "simplelist unknown department", tok: "app", method: "GET", endpoint: "user/simplelist", query: "department_id=77", want: 60003},
		{name: "simplelist without department", tok: "app", method: "GET", endpoint: "user/simplelist", want: 60123},
	})
}

func TestValidationAppChat(t *testing.T) {
	withChat := func(e *env) { createChat(e, e.app, "ops1") }
	runRules(t, []rule{
		{name: "ok", tok: "app", endpoint: "appchat/create", body: `{"name":"NAME","owner":"zhangsan","userlist":["zhangsan","lisi","wangwu"],"chatid":"CHATID1"}`, want: 0},
		{name: "one member", tok: "app", endpoint: "appchat/create", body: `{"userlist":["lisi"]}`, want: 86006},
		{name: "duplicate members count once", tok: "app", endpoint: "appchat/create", body: `{"userlist":["lisi","LISI"]}`, want: 86006},
		{name: "no userlist", tok: "app", endpoint: "appchat/create", body: `{"name":"x"}`, want: 86204},
		{name: "unknown member", tok: "app", endpoint: "appchat/create", body: `{"userlist":["lisi","ghost"]}`, want: 86007},
		{name: "chatid 33 chars", tok: "app", endpoint: "appchat/create", body: `{"userlist":["lisi","wangwu"],"chatid":"` + repeatStr("a", 33) + `"}`, want: 86205},
		{name: "chatid with dash", tok: "app", endpoint: "appchat/create", body: `{"userlist":["lisi","wangwu"],"chatid":"a-b"}`, want: 86001},
		{name: "chatid exists", tok: "app", endpoint: "appchat/create", setup: withChat, body: `{"userlist":["lisi","wangwu"],"chatid":"ops1"}`, want: 86215},
		{name: "owner not in userlist", tok: "app", endpoint: "appchat/create", body: `{"userlist":["lisi","wangwu"],"owner":"zhangsan"}`, want: 86207},
		{name: "owner unknown", tok: "app", endpoint: "appchat/create", body: `{"userlist":["lisi","wangwu"],"owner":"ghost"}`, want: 86005},
		{name: "get unknown", tok: "app", method: "GET", endpoint: "appchat/get", query: "chatid=nochat", want: 86003},
		{name: "get without chatid", tok: "app", method: "GET", endpoint: "appchat/get", want: 86201},
		{name: "update del non-member", tok: "app", endpoint: "appchat/update", setup: withChat, body: `{"chatid":"ops1","del_user_list":["zhaoliu"]}`, want: 86216},
		{name: "update add unknown", tok: "app", endpoint: "appchat/update", setup: withChat, body: `{"chatid":"ops1","add_user_list":["ghost"]}`, want: 86216},
		{name: "update removes owner without new owner", tok: "app", endpoint: "appchat/update", setup: withChat, body: `{"chatid":"ops1","del_user_list":["zhangsan"]}`, want: 86203},
		{name: "update removes owner with new owner", tok: "app", endpoint: "appchat/update", setup: withChat, body: `{"chatid":"ops1","del_user_list":["zhangsan"],"owner":"lisi"}`, want: 0},
		{name: "update below two members", tok: "app", endpoint: "appchat/update", setup: withChat, body: `{"chatid":"ops1","del_user_list":["lisi","wangwu"]}`, want: 86006},
		{name: "send text over 2048 bytes", tok: "app", endpoint: "appchat/send", setup: withChat, body: `{"chatid":"ops1","msgtype":"text","text":{"content":"` + repeatStr("a", 2049) + `"}}`, want: 45002},
		{name: "send to unknown chat", tok: "app", endpoint: "appchat/send", body: `{"chatid":"nochat","msgtype":"text","text":{"content":"x"}}`, want: 86003},
		{name: "send empty text", tok: "app", endpoint: "appchat/send", setup: withChat, body: `{"chatid":"ops1","msgtype":"text","text":{"content":""}}`, want: 44004},
		{name: "send template_card not supported", tok: "app", endpoint: "appchat/send", setup: withChat, body: `{"chatid":"ops1","msgtype":"template_card","template_card":{}}`, want: 40008},
		{name: "send ignores agentid", tok: "app", endpoint: "appchat/send", setup: withChat, body: `{"chatid":"ops1","agentid":42,"msgtype":"text","text":{"content":"x","mentioned_list":["@all"]}}`, want: 0},
		{name: "delete endpoint does not exist", tok: "app", endpoint: "appchat/delete", body: `{}`, want: -999},
	})
}

func TestValidationAppChatOwnership(t *testing.T) {
	e := newEnv(t)
	other := e.secondApp()
	createChat(e, e.app, "ops1")
	e.wantCode(e.get(other, "appchat/get", "chatid=ops1"), 86008)
	e.wantCode(e.post(other, "appchat/update", `{"chatid":"ops1","name":"x"}`), 86008)
	e.wantCode(e.post(other, "appchat/send", `{"chatid":"ops1","msgtype":"text","text":{"content":"x"}}`), 86008)
}

func TestValidationContactWays(t *testing.T) {
	inactive := func(e *env) {
		if err := e.srv.SetUserActive("lisi", false); err != nil {
			e.t.Fatal(err)
		}
	}
	manyUsers := func(e *env) {
		var users []User
		for i := 0; i < 99; i++ { // + zhaoliu = 100 members in department 4
			users = append(users, User{UserID: fmt.Sprintf("s%d", i), Name: "S", Email: fmt.Sprintf("s%d@example.com", i), Department: []int64{4}})
		}
		if err := e.srv.Seed(Seed{Users: users}); err != nil {
			e.t.Fatal(err)
		}
	}
	runRules(t, []rule{
		{name: "ok", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"remark":"渠道客户","skip_verify":true,"state":"teststate","user":["zhangsan"]}`, want: 0},
		{name: "type missing", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"scene":2,"user":["lisi"]}`, want: 41037},
		{name: "type 3", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":3,"scene":2,"user":["lisi"]}`, want: 41039},
		{name: "scene missing", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"user":["lisi"]}`, want: 41038},
		{name: "scene 3", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":3,"user":["lisi"]}`, want: 41040},
		{name: "style 3 for type 2", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":2,"scene":1,"style":3,"user":["lisi"]}`, want: 41042},
		{name: "style 3 for type 1 ok", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":1,"style":3,"user":["lisi"]}`, want: 0},
		{name: "style 0 means default", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":2,"scene":1,"style":0,"user":["lisi"],"party":null,"expires_in":0,"unionid":""}`, want: 0},
		{name: "remark 31 characters", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"user":["lisi"],"remark":"` + repeatStr("备", 31) + `"}`, want: 40058},
		{name: "state 31 characters", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"user":["lisi"],"state":"` + repeatStr("s", 31) + `"}`, want: 40058},
		{name: "type 1 with two users", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"user":["lisi","wangwu"]}`, want: 41041},
		{name: "type 1 without user", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2}`, want: 41009},
		{name: "type 2 over 100 after expansion", tok: "app", endpoint: "externalcontact/add_contact_way", setup: manyUsers, body: `{"type":2,"scene":2,"user":["lisi"],"party":[4]}`, want: 41041},
		{name: "type 2 exactly 100 ok", tok: "app", endpoint: "externalcontact/add_contact_way", setup: manyUsers, body: `{"type":2,"scene":2,"party":[4]}`, want: 0},
		{name: "unknown user", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"user":["ghost"]}`, want: 60111},
		{name: "unknown party", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":2,"scene":2,"party":[77]}`, want: 40066},
		{name: "user not activated", tok: "app", endpoint: "externalcontact/add_contact_way", setup: inactive, body: `{"type":1,"scene":2,"user":["lisi"]}`, want: 41054},
		{name: "temp with type 2", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":2,"scene":2,"user":["lisi"],"is_temp":true}`, want: 41039},
		{name: "temp expires_in over 14 days", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"user":["lisi"],"is_temp":true,"expires_in":1209601}`, want: 40058},
		{name: "temp chat_expires_in over 14 days", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"user":["lisi"],"is_temp":true,"chat_expires_in":1209601}`, want: 40058},
		{name: "temp 14 days ok", tok: "app", endpoint: "externalcontact/add_contact_way", body: `{"type":1,"scene":2,"user":["lisi"],"is_temp":true,"expires_in":1209600,"conclusions":{"text":{"content":"bye"}}}`, want: 0},
		{name: "get without config_id", tok: "app", endpoint: "externalcontact/get_contact_way", body: `{}`, want: 41043},
		{name: "get unknown config_id", tok: "app", endpoint: "externalcontact/get_contact_way", body: `{"config_id":"00000000000000000000000000000000"}`, want: 41044},
		{name: "update unknown config_id", tok: "app", endpoint: "externalcontact/update_contact_way", body: `{"config_id":"nope","remark":"x"}`, want: 41044},
		{name: "del without config_id", tok: "app", endpoint: "externalcontact/del_contact_way", body: `{"config_id":""}`, want: 41043},
	})
}

func TestValidationCalendars(t *testing.T) {
	runRules(t, []rule{
		{name: "calendar ok", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"test_summary","color":"#FF3030","description":"d","admins":["lisi"],"shares":[{"userid":"lisi","permission":1},{"userid":"ghost"}]},"agentid":1000002}`, want: 0},
		{name: "calendar without color", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s"}}`, want: 90473},
		{name: "calendar color name", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"red"}}`, want: 90473},
		{name: "calendar without summary", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"color":"#FF0000"}}`, want: 40058},
		{name: "calendar admin not shared", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000","admins":["lisi"]}}`, want: 90492},
		{name: "calendar four admins", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000","admins":["a","b","c","d"]}}`, want: 40058},
		{name: "public calendar without range", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000","is_public":1}}`, want: 90483},
		{name: "public calendar 1000 public userids ok", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000","is_public":1,"public_range":{"userids":` + jsonStrs("u", 1000) + `}}}`, want: 0},
		{name: "public calendar 1001 public userids", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000","is_public":1,"public_range":{"userids":` + jsonStrs("u", 1001) + `}}}`, want: 40058},
		{name: "public calendar 101 public partyids", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000","is_public":1,"public_range":{"partyids":` + jsonInts(101) + `}}}`, want: 40058},
		{name: "public calendar partyids as strings", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000","is_public":1,"public_range":{"userids":["lisi"],"partyids":["2","3"]}}}`, want: 0},
		{name: "public_range a list", tok: "app", endpoint: "oa/calendar/add", body: `{"calendar":{"summary":"s","color":"#FF0000","is_public":1,"public_range":["lisi"]}}`, want: 40058},
		{name: "calendar get empty list", tok: "app", endpoint: "oa/calendar/get", body: `{"cal_id_list":[]}`, want: 90458},
		{name: "calendar get unknown", tok: "app", endpoint: "oa/calendar/get", body: `{"cal_id_list":["nope"]}`, want: 90457},
		{name: "schedule ok with organizer ignored", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"organizer":"zhangsan","summary":"需求评审会议","reminders":{"is_remind":1,"remind_time_diffs":[-3600],"is_repeat":1,"repeat_type":1},"location":"10F"`), want: 0},
		{name: "schedule unknown calendar", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"cal_id":"nope"`), want: 90457},
		{name: "schedule admin not attendee", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"admins":["wangwu"]`), want: 90492},
		{name: "schedule four admins", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"admins":["lisi","lisi","lisi","lisi"]`), want: 40058},
		{name: "schedule 1001 attendees", tok: "app", endpoint: "oa/schedule/add", body: `{"schedule":{"start_time":1772445600,"end_time":1772449200,"attendees":` + attendees(1001) + `}}`, want: 90464},
		{name: "schedule unknown attendee", tok: "app", endpoint: "oa/schedule/add", body: `{"schedule":{"start_time":1772445600,"end_time":1772449200,"attendees":[{"userid":"ghost"}]}}`, want: 60111},
		{name: "schedule end before start", tok: "app", endpoint: "oa/schedule/add", body: `{"schedule":{"start_time":1772449200,"end_time":1772445600}}`, want: 40058},
		{name: "schedule without times", tok: "app", endpoint: "oa/schedule/add", body: `{"schedule":{"summary":"x"}}`, want: 40058},
		{name: "summary 129 characters", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"summary":"` + repeatStr("会", 129) + `"`), want: 40058},
		{name: "description 1001 characters", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"description":"` + repeatStr("d", 1001) + `"`), want: 40058},
		{name: "location 129 characters", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"location":"` + repeatStr("l", 129) + `"`), want: 40058},
		{name: "remind diff not allowed", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"is_remind":1,"remind_time_diffs":[-60]}`), want: 90704},
		{name: "whole-day diff on timed schedule", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"is_remind":1,"remind_time_diffs":[32400]}`), want: 90704},
		{name: "whole-day diff on whole-day schedule", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"is_whole_day":1,"reminders":{"is_remind":1,"remind_time_diffs":[32400,-604800]}`), want: 0},
		{name: "remind_before_event_secs 60", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"is_remind":1,"remind_before_event_secs":60}`), want: 90471},
		{name: "repeat_type 3", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"is_repeat":1,"repeat_type":3}`), want: 90465},
		{name: "repeat_day_of_week 8", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"is_repeat":1,"repeat_type":1,"is_custom_repeat":1,"repeat_interval":1,"repeat_day_of_week":[1,8]}`), want: 90467},
		{name: "repeat_day_of_month 32", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"is_repeat":1,"repeat_type":2,"is_custom_repeat":1,"repeat_interval":1,"repeat_day_of_month":[32]}`), want: 90487},
		{name: "custom repeat without interval", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"is_repeat":1,"repeat_type":1,"is_custom_repeat":1}`), want: 90486},
		{name: "timezone 13", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"timezone":13}`), want: 90480},
		{name: "timezone -12 ok", tok: "app", endpoint: "oa/schedule/add", body: schedule(`,"reminders":{"timezone":-12}`), want: 0},
		{name: "schedule get unknown", tok: "app", endpoint: "oa/schedule/get", body: `{"schedule_id_list":["nope"]}`, want: 90461},
		{name: "schedule get empty list", tok: "app", endpoint: "oa/schedule/get", body: `{"schedule_id_list":[]}`, want: 90462},
		{name: "schedule del unknown", tok: "app", endpoint: "oa/schedule/del", body: `{"schedule_id":"nope"}`, want: 90461},
		{name: "get_by_calendar unknown calendar", tok: "app", endpoint: "oa/schedule/get_by_calendar", body: `{"cal_id":"x"}`, want: 90457},
	})

	// oa/calendar/update (DOC-97716): $CAL is a calendar of the operator app; the update
	// overwrites every field, so summary and color are required again.
	withCal := func(tok string, fields string) func(*env) {
		return func(e *env) {
			m := e.post(e.tokenFor(tok), "oa/calendar/add", `{"calendar":{"summary":"s","color":"#FF0000"`+fields+`}}`)
			e.wantCode(m, 0)
			e.vars["CAL"] = m["cal_id"].(string)
		}
	}
	own, public := withCal("app", ""), withCal("app", `,"is_public":1,"public_range":{"userids":["lisi"]}`)
	deleted := func(e *env) {
		own(e)
		e.wantCode(e.post(e.app, "oa/calendar/del", `{"cal_id":"`+e.vars["CAL"]+`"}`), 0)
	}
	upd := func(fields string) string {
		return `{"calendar":{"cal_id":"$CAL","summary":"s2","color":"#0000FF"` + fields + `}}`
	}
	const cu = "oa/calendar/update"
	runRules(t, []rule{
		{name: "update ok, the documented example", tok: "app", endpoint: cu, setup: public, body: `{"skip_public_range":0,"calendar":{"cal_id":"$CAL","admins":["lisi"],"summary":"test_summary","color":"#FF3030","description":"test_describe_1","shares":[{"userid":"lisi","permission":1},{"userid":"wangwu","permission":3},{"userid":"ghost"}],"public_range":{"userids":["lisi","wangwu"],"partyids":[2,3]}}}`, want: 0},
		{name: "update summary and color only", tok: "app", endpoint: cu, setup: own, body: upd(``), want: 0},
		{name: "update skip_public_range as a string", tok: "app", endpoint: cu, setup: public, body: `{"skip_public_range":"1","calendar":{"cal_id":"$CAL","summary":"s2","color":"#0000FF","public_range":{"userids":["wangwu"]}}}`, want: 0},
		{name: "update permission as a string", tok: "app", endpoint: cu, setup: own, body: upd(`,"shares":[{"userid":"lisi","permission":"3"}]`), want: 0},
		{name: "update null lists", tok: "app", endpoint: cu, setup: own, body: upd(`,"admins":null,"shares":null,"public_range":null,"description":null`), want: 0},
		{name: "update public_range of a private calendar ignored", tok: "app", endpoint: cu, setup: own, body: upd(`,"public_range":{"userids":["lisi"]}`), want: 0},
		{name: "update is_public and is_corp_calendar ignored", tok: "app", endpoint: cu, setup: own, body: upd(`,"is_public":1,"is_corp_calendar":1`), want: 0},
		{name: "update obsolete organizer and readonly ignored", tok: "app", endpoint: cu, setup: own, body: upd(`,"organizer":"zhangsan","readonly":1`), want: 0},
		{name: "update agentid ignored", tok: "app", endpoint: cu, setup: own, body: `{"agentid":1000002,"calendar":{"cal_id":"$CAL","summary":"s2","color":"#0000FF"}}`, want: 0},
		{name: "update without calendar", tok: "app", endpoint: cu, setup: own, body: `{"skip_public_range":0}`, want: 40058},
		{name: "update calendar null", tok: "app", endpoint: cu, setup: own, body: `{"calendar":null}`, want: 40058},
		{name: "update calendar a list", tok: "app", endpoint: cu, setup: own, body: `{"calendar":[]}`, want: 40058},
		{name: "update without cal_id", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"summary":"s2","color":"#0000FF"}}`, want: 90457},
		{name: "update unknown cal_id", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"cal_id":"wcnope","summary":"s2","color":"#0000FF"}}`, want: 90457},
		{name: "update cal_id a number", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"cal_id":1,"summary":"s2","color":"#0000FF"}}`, want: 40058},
		{name: "update another app's calendar", tok: "app", endpoint: cu, setup: withCal("lim", ""), body: upd(``), want: 90466},
		{name: "update a deleted calendar", tok: "app", endpoint: cu, setup: deleted, body: upd(``), want: 90459},
		{name: "update without summary", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"cal_id":"$CAL","color":"#0000FF"}}`, want: 40058},
		{name: "update summary 128 characters ok", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"cal_id":"$CAL","summary":"` + repeatStr("日", 128) + `","color":"#0000FF"}}`, want: 0},
		{name: "update summary 129 characters", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"cal_id":"$CAL","summary":"` + repeatStr("日", 129) + `","color":"#0000FF"}}`, want: 40058},
		{name: "update summary a number", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"cal_id":"$CAL","summary":1,"color":"#0000FF"}}`, want: 40058},
		{name: "update without color", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"cal_id":"$CAL","summary":"s2"}}`, want: 90473},
		{name: "update short color", tok: "app", endpoint: cu, setup: own, body: `{"calendar":{"cal_id":"$CAL","summary":"s2","color":"#00F"}}`, want: 90473},
		{name: "update description 512 characters ok", tok: "app", endpoint: cu, setup: own, body: upd(`,"description":"` + repeatStr("d", 512) + `"`), want: 0},
		{name: "update description 513 characters", tok: "app", endpoint: cu, setup: own, body: upd(`,"description":"` + repeatStr("d", 513) + `"`), want: 40058},
		{name: "update four admins", tok: "app", endpoint: cu, setup: own, body: upd(`,"admins":["a","b","c","d"]`), want: 40058},
		{name: "update admin not shared", tok: "app", endpoint: cu, setup: own, body: upd(`,"admins":["lisi"]`), want: 90492},
		{name: "update share permission 2", tok: "app", endpoint: cu, setup: own, body: upd(`,"shares":[{"userid":"lisi","permission":2}]`), want: 40058},
		{name: "update 2000 shares ok", tok: "app", endpoint: cu, setup: own, body: upd(`,"shares":` + attendees(2000)), want: 0},
		{name: "update 2001 shares", tok: "app", endpoint: cu, setup: own, body: upd(`,"shares":` + attendees(2001)), want: 40058},
		{name: "update 1001 public userids", tok: "app", endpoint: cu, setup: public, body: upd(`,"public_range":{"userids":` + jsonStrs("u", 1001) + `}`), want: 40058},
		{name: "update 101 public partyids", tok: "app", endpoint: cu, setup: public, body: upd(`,"public_range":{"partyids":` + jsonInts(101) + `}`), want: 40058},
		{name: "update public userids a string", tok: "app", endpoint: cu, setup: public, body: upd(`,"public_range":{"userids":"lisi"}`), want: 40058},
		{name: "update empty body", tok: "app", endpoint: cu, setup: own, body: ``, want: 40063},
		{name: "update with contacts secret", tok: "sync", endpoint: cu, setup: own, body: upd(``), want: 48002},
	})

	// Rows whose bodies depend on ids created during setup.
	t.Run("cancelled schedule", func(t *testing.T) {
		e := newEnv(t)
		m := e.post(e.app, "oa/schedule/add", schedule(""))
		e.wantCode(m, 0)
		id := m["schedule_id"].(string)
		e.wantCode(e.post(e.app, "oa/schedule/del", `{"schedule_id":"`+id+`"}`), 0)
		e.wantCode(e.post(e.app, "oa/schedule/update", `{"schedule":{"schedule_id":"`+id+`","start_time":1772445600,"end_time":1772449200}}`), 90460)
		e.wantCode(e.post(e.app, "oa/schedule/del", `{"schedule_id":"`+id+`"}`), 90460)
	})
	t.Run("another app's calendar", func(t *testing.T) {
		e := newEnv(t)
		m := e.post(e.lim, "oa/calendar/add", `{"calendar":{"summary":"lim","color":"#00FF00"}}`)
		e.wantCode(m, 0)
		calID := m["cal_id"].(string)
		e.wantCode(e.post(e.app, "oa/schedule/add", schedule(`,"cal_id":"`+calID+`"`)), 90466)
		e.wantCode(e.post(e.app, "oa/calendar/get", `{"cal_id_list":["`+calID+`"]}`), 90466)
		e.wantCode(e.post(e.app, "oa/calendar/del", `{"cal_id":"`+calID+`"}`), 90466)
		e.wantCode(e.post(e.lim, "oa/schedule/get_by_calendar", `{"cal_id":"`+calID+`","limit":1001}`), 90469)
		e.wantCode(e.post(e.lim, "oa/schedule/get_by_calendar", `{"cal_id":"`+calID+`","offset":-1}`), 90470)
		e.wantCode(e.post(e.lim, "oa/calendar/del", `{"cal_id":"`+calID+`"}`), 0)
		e.wantCode(e.post(e.lim, "oa/calendar/get", `{"cal_id_list":["`+calID+`"]}`), 90459)
	})
}

func TestValidationMessages(t *testing.T) {
	runRules(t, []rule{
		{name: "ok", tok: "app", endpoint: "message/send", body: `{"touser":"zhangsan|lisi","toparty":"","totag":"","msgtype":"text","agentid":1000002,"text":{"content":"服务器 CPU 超过 90%"},"safe":0,"enable_duplicate_check":1,"duplicate_check_interval":1800}`, want: 0},
		{name: "agentid missing", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","msgtype":"text","text":{"content":"x"}}`, want: 41011},
		{name: "agentid empty string", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":"","msgtype":"text","text":{"content":"x"}}`, want: 41011},
		{name: "agentid not numeric", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":"abc","msgtype":"text","text":{"content":"x"}}`, want: 40056},
		{name: "agentid of another app", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000003,"msgtype":"text","text":{"content":"x"}}`, want: 301002},
		{name: "contacts secret cannot send", tok: "sync", endpoint: "message/send", body: msg(""), want: 301002},
		{name: "recipients absent", tok: "app", endpoint: "message/send", body: `{"agentid":1000002,"msgtype":"text","text":{"content":"x"}}`, want: 82001},
		{name: "recipients empty strings", tok: "app", endpoint: "message/send", body: `{"touser":"","toparty":"","totag":"","agentid":1000002,"msgtype":"text","text":{"content":"x"}}`, want: 82001},
		{name: "1001 users", tok: "app", endpoint: "message/send", body: `{"touser":"` + userList("u", 1001) + `","agentid":1000002,"msgtype":"text","text":{"content":"x"}}`, want: 40032},
		{name: "101 parties", tok: "app", endpoint: "message/send", body: `{"toparty":"` + userList("", 101) + `","agentid":1000002,"msgtype":"text","text":{"content":"x"}}`, want: 82002},
		{name: "101 tags", tok: "app", endpoint: "message/send", body: `{"totag":"` + userList("", 101) + `","agentid":1000002,"msgtype":"text","text":{"content":"x"}}`, want: 82003},
		{name: "all recipients invalid", tok: "app", endpoint: "message/send", body: `{"touser":"ghost","toparty":"77","totag":"55","agentid":1000002,"msgtype":"text","text":{"content":"x"}}`, want: 81013},
		{name: "outside visible range is invalid", tok: "lim", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000003,"msgtype":"text","text":{"content":"x"}}`, want: 81013},
		{name: "inside visible range ok", tok: "lim", endpoint: "message/send", body: `{"touser":"wangwu","agentid":1000003,"msgtype":"text","text":{"content":"x"}}`, want: 0},
		{name: "unknown msgtype", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"sticker"}`, want: 40008},
		{name: "text empty", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"text","text":{"content":""}}`, want: 44004},
		{name: "text object missing", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"text"}`, want: 44004},
		{name: "text 2049 bytes", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"text","text":{"content":"` + repeatStr("a", 2049) + `"}}`, want: 45002},
		{name: "text 2048 bytes ok", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"text","text":{"content":"` + repeatStr("a", 2048) + `"}}`, want: 0},
		{name: "text limit is bytes not characters", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"text","text":{"content":"` + repeatStr("汉", 683) + `"}}`, want: 45002},
		{name: "markdown 2049 bytes", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"markdown","markdown":{"content":"` + repeatStr("#", 2049) + `"}}`, want: 45002},
		{name: "textcard missing title", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"textcard","textcard":{"description":"d","url":"https://x"}}`, want: 41016},
		{name: "textcard missing description", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"textcard","textcard":{"title":"t","url":"https://x"}}`, want: 41033},
		{name: "textcard missing url", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"textcard","textcard":{"title":"t","description":"d"}}`, want: 41010},
		{name: "textcard url without scheme", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"textcard","textcard":{"title":"t","description":"d","url":"example.com"}}`, want: 45034},
		{name: "textcard btntxt 5 characters", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"textcard","textcard":{"title":"t","description":"d","url":"https://x","btntxt":"更多详情呀"}}`, want: 40058},
		{name: "news 9 articles", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"news","news":{"articles":[` + strings.TrimSuffix(repeatStr(`{"title":"t","url":"https://x"},`, 9), ",") + `]}}`, want: 45008},
		{name: "news no articles", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"news","news":{"articles":[]}}`, want: 45008},
		{name: "news article without url", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"news","news":{"articles":[{"title":"t"}]}}`, want: 41010},
		{name: "news article with miniprogram ok", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"news","news":{"articles":[{"title":"t","appid":"wx1","pagepath":"p"}]}}`, want: 0},
		{name: "news with safe", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"safe":1,"msgtype":"news","news":{"articles":[{"title":"t","url":"https://x"}]}}`, want: 40074},
		{name: "image without media_id", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"image","image":{}}`, want: 41006},
		{name: "image with media_id", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"image","image":{"media_id":"MEDIA"}}`, want: 0},
		{name: "mpnews without thumb", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"mpnews","mpnews":{"articles":[{"title":"t","content":"c"}]}}`, want: 41006},
		{name: "safe 2 only for mpnews", tok: "app", endpoint: "message/send", body: msg(`,"safe":2`), want: 40058},
		{name: "text_notice without card_action", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","main_title":{"title":"t"}}`), want: 42045},
		{name: "text_notice without title", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","card_action":{"type":1,"url":"https://x"}}`), want: 42033},
		{name: "text_notice with sub_title_text ok", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","sub_title_text":"s","card_action":{"type":1,"url":"https://x"},"source":null,"action_menu":null}`), want: 0},
		{name: "card_action type 1 without url", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","main_title":{"title":"t"},"card_action":{"type":1}}`), want: 42028},
		{name: "card_action type 2 without appid", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","main_title":{"title":"t"},"card_action":{"type":2}}`), want: 42030},
		{name: "news_notice without image", tok: "app", endpoint: "message/send", body: card(`{"card_type":"news_notice","main_title":{"title":"t"},"card_action":{"type":1,"url":"https://x"}}`), want: 42044},
		{name: "news_notice with image_text_area ok", tok: "app", endpoint: "message/send", body: card(`{"card_type":"news_notice","main_title":{"title":"t"},"image_text_area":{"type":1,"url":"https://x","image_url":"https://img"},"card_action":{"type":1,"url":"https://x"}}`), want: 0},
		{name: "horizontal list of 7", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","main_title":{"title":"t"},"card_action":{"type":1,"url":"https://x"},"horizontal_content_list":[` + strings.TrimSuffix(repeatStr(`{"keyname":"k"},`, 7), ",") + `]}`), want: 42035},
		{name: "action_menu without task_id", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","main_title":{"title":"t"},"card_action":{"type":1,"url":"https://x"},"action_menu":{"desc":"d","action_list":[{"text":"a","key":"k"}]}}`), want: 42014},
		{name: "button_interaction without buttons", tok: "app", endpoint: "message/send", body: card(`{"card_type":"button_interaction","task_id":"t1","main_title":{"title":"t"}}`), want: 40058},
		// §14 interactive cards: body rules come before the callback check (43012).
		{name: "interactive card without callback url", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1"`, `{"text":"ok","key":"k1"}`)), want: 43012},
		{name: "interactive card with callback url ok", tok: "app", endpoint: "message/send", setup: withAppCallback, body: card(btnCard(`"task_id":"t1"`, `{"text":"ok","key":"k1"}`)), want: 0},
		{name: "action_menu card needs no callback url", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","task_id":"m1","main_title":{"title":"t"},"card_action":{"type":1,"url":"https://x"},"action_menu":{"action_list":[{"text":"a","key":"k"}]}}`), want: 0},
		{name: "interactive card without task_id", tok: "app", endpoint: "message/send", body: card(btnCard(``, `{"text":"ok","key":"k1"}`)), want: 42014},
		{name: "task_id 129 bytes", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"`+repeatStr("a", 129)+`"`, `{"text":"ok","key":"k1"}`)), want: 42014},
		{name: "task_id 128 bytes ok", tok: "app", endpoint: "message/send", setup: withAppCallback, body: card(btnCard(`"task_id":"`+repeatStr("a", 128)+`"`, `{"text":"ok","key":"k1"}`)), want: 0},
		{name: "task_id with a dot", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"a.b"`, `{"text":"ok","key":"k1"}`)), want: 42014},
		{name: "task_id with every allowed character ok", tok: "app", endpoint: "message/send", setup: withAppCallback, body: card(btnCard(`"task_id":"aZ09_-@"`, `{"text":"ok","key":"k1"}`)), want: 0},
		{name: "task_id used by another app ok", tok: "app", endpoint: "message/send", setup: func(e *env) {
			withAppCallback(e)
			mustCallback(e.t, e.srv.Sim, DemoLimitedAgentID, newReceiver(e.t))
			e.wantCode(e.post(e.lim, "message/send", `{"touser":"wangwu","msgtype":"template_card","agentid":1000003,"template_card":`+btnCard(`"task_id":"t1"`, `{"text":"ok","key":"k1"}`)+`}`), 0)
		}, body: card(btnCard(`"task_id":"t1"`, `{"text":"ok","key":"k1"}`)), want: 0},
		{name: "button without text", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1"`, `{"key":"k1"}`)), want: 42038},
		{name: "callback button without key", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1"`, `{"text":"ok"}`)), want: 42039},
		{name: "button key 1025 bytes", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1"`, `{"text":"ok","key":"`+repeatStr("k", 1025)+`"}`)), want: 42039},
		{name: "button keys repeated", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1"`, `{"text":"a","key":"k1"},{"text":"b","key":"k1"}`)), want: 42039},
		{name: "url button without url", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1"`, `{"text":"a","type":1}`)), want: 42028},
		{name: "url button needs no key", tok: "app", endpoint: "message/send", setup: withAppCallback, body: card(btnCard(`"task_id":"t1"`, `{"text":"a","key":"k1"},{"text":"b","type":1,"url":"https://x"}`)), want: 0},
		{name: "seven buttons", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1"`, strings.TrimSuffix(repeatStr(`{"text":"a","type":1,"url":"https://x"},`, 7), ","))), want: 40058},
		{name: "button_selection without question_key", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1","button_selection":{"option_list":[{"id":"a","text":"A"}]}`, `{"text":"ok","key":"k1"}`)), want: 42043},
		{name: "button_selection without options", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1","button_selection":{"question_key":"q","option_list":[]}`, `{"text":"ok","key":"k1"}`)), want: 42037},
		{name: "button_selection option ids repeated", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1","button_selection":{"question_key":"q","option_list":[{"id":"a","text":"A"},{"id":"a","text":"B"}]}`, `{"text":"ok","key":"k1"}`)), want: 42040},
		{name: "button_selection option id 129 bytes", tok: "app", endpoint: "message/send", body: card(btnCard(`"task_id":"t1","button_selection":{"question_key":"q","option_list":[{"id":"`+repeatStr("i", 129)+`","text":"A"}]}`, `{"text":"ok","key":"k1"}`)), want: 42040},
		{name: "vote without checkbox", tok: "app", endpoint: "message/send", body: card(`{"card_type":"vote_interaction","task_id":"t1","main_title":{"title":"t"},"submit_button":{"text":"go","key":"s"}}`), want: 42043},
		{name: "vote with 21 options", tok: "app", endpoint: "message/send", body: card(`{"card_type":"vote_interaction","task_id":"t1","checkbox":{"question_key":"q","option_list":[` + options(21) + `]},"submit_button":{"text":"go","key":"s"}}`), want: 42037},
		{name: "vote option without text", tok: "app", endpoint: "message/send", body: card(`{"card_type":"vote_interaction","task_id":"t1","checkbox":{"question_key":"q","option_list":[{"id":"a"}]},"submit_button":{"text":"go","key":"s"}}`), want: 42041},
		{name: "vote submit without key", tok: "app", endpoint: "message/send", body: card(`{"card_type":"vote_interaction","task_id":"t1","checkbox":{"question_key":"q","option_list":[{"id":"a","text":"A"}]},"submit_button":{"text":"go"}}`), want: 42046},
		{name: "vote submit without text", tok: "app", endpoint: "message/send", body: card(`{"card_type":"vote_interaction","task_id":"t1","checkbox":{"question_key":"q","option_list":[{"id":"a","text":"A"}]},"submit_button":{"key":"s"}}`), want: 42049},
		{name: "multiple with 4 selects", tok: "app", endpoint: "message/send", body: card(`{"card_type":"multiple_interaction","task_id":"t1","select_list":[` + strings.TrimSuffix(repeatStr(`{"question_key":"q","option_list":[{"id":"a","text":"A"}]},`, 4), ",") + `],"submit_button":{"text":"go","key":"s"}}`), want: 42047},
		{name: "multiple with 11 options", tok: "app", endpoint: "message/send", body: card(`{"card_type":"multiple_interaction","task_id":"t1","select_list":[{"question_key":"q","option_list":[` + options(11) + `]}],"submit_button":{"text":"go","key":"s"}}`), want: 42037},
		{name: "action_menu keys repeated", tok: "app", endpoint: "message/send", body: card(`{"card_type":"text_notice","task_id":"m1","main_title":{"title":"t"},"card_action":{"type":1,"url":"https://x"},"action_menu":{"action_list":[{"text":"a","key":"k"},{"text":"b","key":"k"}]}}`), want: 42051},
		{name: "miniprogram_notice without appid", tok: "app", endpoint: "message/send", body: `{"touser":"lisi","agentid":1000002,"msgtype":"miniprogram_notice","miniprogram_notice":{"title":"t"}}`, want: 90200},
		{name: "recall unknown msgid", tok: "app", endpoint: "message/recall", body: `{"msgid":"nope"}`, want: 40058},
		{name: "recall without msgid", tok: "app", endpoint: "message/recall", body: `{}`, want: 40058},
	})
}

func TestValidationWebhook(t *testing.T) {
	key := "key=" + DemoRobotKey
	// md5 of "hello" is 5d41402abc4b2a76b9719d911017c592; base64 "aGVsbG8=".
	runRules(t, []rule{
		{name: "ok", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"text","text":{"content":"部署完成","mentioned_list":["wangqing","@all"],"mentioned_mobile_list":["13800001111"]}}`, want: 0},
		{name: "bad key", tok: "none", endpoint: "webhook/send", query: "key=nope", body: `{"msgtype":"text","text":{"content":"x"}}`, want: 93000},
		{name: "missing key", tok: "none", endpoint: "webhook/send", body: `{"msgtype":"text","text":{"content":"x"}}`, want: 93000},
		{name: "text 2049 bytes", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"text","text":{"content":"` + repeatStr("a", 2049) + `"}}`, want: 45002},
		{name: "markdown 4096 bytes ok", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"markdown","markdown":{"content":"` + repeatStr("a", 4096) + `"}}`, want: 0},
		{name: "markdown 4097 bytes", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"markdown","markdown":{"content":"` + repeatStr("a", 4097) + `"}}`, want: 45002},
		{name: "markdown_v2 4097 bytes", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"markdown_v2","markdown_v2":{"content":"` + repeatStr("a", 4097) + `"}}`, want: 45002},
		{name: "news 9 articles", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"news","news":{"articles":[` + strings.TrimSuffix(repeatStr(`{"title":"t","url":"https://x"},`, 9), ",") + `]}}`, want: 45008},
		{name: "news article without url", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"news","news":{"articles":[{"title":"t","appid":"a","pagepath":"p"}]}}`, want: 41010},
		{name: "mpnews not supported", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"mpnews","mpnews":{"articles":[]}}`, want: 40008},
		{name: "interactive card not supported", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"template_card","template_card":{"card_type":"button_interaction"}}`, want: 40058},
		{name: "card without main_title", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"template_card","template_card":{"card_type":"text_notice","sub_title_text":"s","card_action":{"type":1,"url":"https://x"}}}`, want: 42033},
		{name: "image md5 mismatch", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"image","image":{"base64":"aGVsbG8=","md5":"00000000000000000000000000000000"}}`, want: 301019},
		{name: "image ok", tok: "none", endpoint: "webhook/send", query: key, body: `{"msgtype":"image","image":{"base64":"aGVsbG8=","md5":"5d41402abc4b2a76b9719d911017c592"}}`, want: 0},
		{name: "bad JSON", tok: "none", endpoint: "webhook/send", query: key, body: `{`, want: 40058},
	})
}
