package wecomsim

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// withCustomers seeds what the succession rows work on: zhangsan follows the customers
// wmA and wmB and owns the customer group chats wrA and wrB; wangwu follows wmW and owns
// wrW; newbie is a member who never activated WeCom (40098 as a takeover member).
func withCustomers(e *env) {
	e.t.Helper()
	err := e.srv.Seed(Seed{
		Users: []User{{UserID: "newbie", Name: "新人", Email: "newbie@example.com", Department: []int64{2}, Inactive: true}},
		ExternalContacts: []ExternalContact{
			{ExternalUserID: "wmA", UserID: "zhangsan"}, {ExternalUserID: "wmB", UserID: "zhangsan"}, {ExternalUserID: "wmW", UserID: "wangwu"},
		},
		CustomerGroupChats: []CustomerGroupChat{{ChatID: "wrA", Owner: "zhangsan"}, {ChatID: "wrB", Owner: "zhangsan"}, {ChatID: "wrW", Owner: "wangwu"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// withMembers seeds members m0…m(n-1) in the root department (visible to the demo apps).
func withMembers(n int) func(*env) {
	return func(e *env) {
		e.t.Helper()
		users := make([]User, n)
		for i := range users {
			users[i] = User{UserID: fmt.Sprintf("m%d", i), Name: "M", Department: []int64{1}}
		}
		if err := e.srv.Seed(Seed{Users: users}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// jsonStrs is a JSON array of n strings prefix0…prefix(n-1).
func jsonStrs(prefix string, n int) string {
	v := make([]string, n)
	for i := range v {
		v[i] = fmt.Sprintf("%q", fmt.Sprintf("%s%d", prefix, i))
	}
	return "[" + strings.Join(v, ",") + "]"
}

// TestValidationCustomerList: GET externalcontact/list?userid= (DOC-92113).
func TestValidationCustomerList(t *testing.T) {
	const ep = "externalcontact/list"
	runRules(t, []rule{
		{name: "ok", tok: "app", method: "GET", endpoint: ep, query: "userid=zhangsan", setup: withCustomers, want: 0},
		{name: "userid ignoring case", tok: "app", method: "GET", endpoint: ep, query: "userid=ZhangSan", setup: withCustomers, want: 0},
		{name: "member without customers", tok: "app", method: "GET", endpoint: ep, query: "userid=lisi", setup: withCustomers, want: 84061},
		{name: "userid missing", tok: "app", method: "GET", endpoint: ep, setup: withCustomers, want: 41009},
		{name: "userid empty", tok: "app", method: "GET", endpoint: ep, query: "userid=", setup: withCustomers, want: 41009},
		{name: "unknown userid", tok: "app", method: "GET", endpoint: ep, query: "userid=ghost", setup: withCustomers, want: 40003},
		{name: "userid in a JSON body is not read", tok: "app", endpoint: ep, body: `{"userid":"zhangsan"}`, setup: withCustomers, want: 41009},
		{name: "called with POST, userid in the query", tok: "app", endpoint: ep, query: "userid=zhangsan", setup: withCustomers, want: 0},
		{name: "without customer-contact permission", tok: "lim", method: "GET", endpoint: ep, query: "userid=zhangsan", setup: withCustomers, want: 48002},
		{name: "with contacts secret", tok: "sync", method: "GET", endpoint: ep, query: "userid=zhangsan", setup: withCustomers, want: 48002},
	})
}

// TestValidationTransferCustomer: POST externalcontact/transfer_customer (DOC-92125/96325).
func TestValidationTransferCustomer(t *testing.T) {
	const ep = "externalcontact/transfer_customer"
	body := func(fields string) string {
		return `{"handover_userid":"zhangsan","takeover_userid":"lisi"` + fields + `}`
	}
	runRules(t, []rule{
		{name: "ok, the documented example", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA","wmB"],"transfer_success_msg":"您好，您的服务已升级，后续将由我的同事李四@腾讯接替我的工作，继续为您服务。"`), want: 0},
		{name: "ok without message", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA"]`), want: 0},
		{name: "message null", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA"],"transfer_success_msg":null`), want: 0},
		{name: "message empty uses the default", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA"],"transfer_success_msg":""`), want: 0},
		{name: "userids ignoring case", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":"ZhangSan","takeover_userid":"LISI","external_userid":["wmA"]}`, want: 0},
		{name: "unknown field ignored", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA"],"agentid":1000002`), want: 0},
		{name: "per-customer failures do not fail the call", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmW","wmX","wmA","wmA"]`), want: 0},
		{name: "100 customers ok", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":` + jsonStrs("wm", 100)), want: 0},
		{name: "101 customers", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":` + jsonStrs("wm", 101)), want: 81017},
		{name: "message 200 characters ok", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA"],"transfer_success_msg":"` + repeatStr("您", 200) + `"`), want: 0},
		{name: "message 201 characters", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA"],"transfer_success_msg":"` + repeatStr("您", 201) + `"`), want: 40058},
		{name: "external_userid missing", tok: "app", endpoint: ep, setup: withCustomers, body: body(``), want: 40063},
		{name: "external_userid null", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":null`), want: 40063},
		{name: "external_userid empty", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":[]`), want: 40063},
		{name: "external_userid a string", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":"wmA"`), want: 40058},
		{name: "external_userid with a number", tok: "app", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA",7]`), want: 40058},
		{name: "handover_userid missing", tok: "app", endpoint: ep, setup: withCustomers, body: `{"takeover_userid":"lisi","external_userid":["wmA"]}`, want: 41009},
		{name: "handover_userid empty", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":"","takeover_userid":"lisi","external_userid":["wmA"]}`, want: 41009},
		{name: "handover_userid a number", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":1,"takeover_userid":"lisi","external_userid":["wmA"]}`, want: 40058},
		{name: "takeover_userid missing", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":"zhangsan","external_userid":["wmA"]}`, want: 41009},
		{name: "nothing given", tok: "app", endpoint: ep, setup: withCustomers, body: `{}`, want: 41009},
		{name: "empty body", tok: "app", endpoint: ep, setup: withCustomers, body: ``, want: 40063},
		{name: "unknown handover member", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":"ghost","takeover_userid":"lisi","external_userid":["wmA"]}`, want: 40003},
		{name: "unknown takeover member", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":"zhangsan","takeover_userid":"ghost","external_userid":["wmA"]}`, want: 40003},
		{name: "takeover member not activated", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":"zhangsan","takeover_userid":"newbie","external_userid":["wmA"]}`, want: 40098},
		{name: "handover and takeover the same member", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":"zhangsan","takeover_userid":"ZHANGSAN","external_userid":["wmA"]}`, want: 40058},
		{name: "without customer-contact permission", tok: "lim", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA"]`), want: 48002},
		{name: "with contacts secret", tok: "sync", endpoint: ep, setup: withCustomers, body: body(`,"external_userid":["wmA"]`), want: 48002},
	})

	// Per-customer errcodes ride in customer[]; the call itself is ok.
	t.Run("per-customer errcodes", func(t *testing.T) {
		e := newEnv(t)
		withCustomers(e)
		m := e.post(e.app, ep, body(`,"external_userid":["wmA","wmW","wmX","wmA"]`))
		e.wantCode(m, 0)
		got := map[string][]int{}
		for _, c := range m["customer"].([]any) {
			c := c.(map[string]any)
			got[c["external_userid"].(string)] = append(got[c["external_userid"].(string)], int(c["errcode"].(float64)))
		}
		want := map[string][]int{"wmA": {0, 40129}, "wmW": {84061}, "wmX": {40096}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("customer errcodes %v, want %v", got, want)
		}
	})
}

// TestValidationTransferResult: POST externalcontact/transfer_result (DOC-94088).
func TestValidationTransferResult(t *testing.T) {
	const ep = "externalcontact/transfer_result"
	started := func(e *env) {
		withCustomers(e)
		e.wantCode(e.post(e.app, "externalcontact/transfer_customer", `{"handover_userid":"zhangsan","takeover_userid":"lisi","external_userid":["wmA","wmB"]}`), 0)
	}
	runRules(t, []rule{
		{name: "ok", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan","takeover_userid":"lisi"}`, want: 0},
		{name: "ok, no handovers yet", tok: "app", endpoint: ep, setup: withCustomers, body: `{"handover_userid":"zhangsan","takeover_userid":"lisi"}`, want: 0},
		{name: "cursor empty is the first page", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan","takeover_userid":"lisi","cursor":""}`, want: 0},
		{name: "cursor null", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan","takeover_userid":"lisi","cursor":null}`, want: 0},
		{name: "userids ignoring case", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"ZHANGSAN","takeover_userid":"LiSi"}`, want: 0},
		{name: "unknown members give an empty list", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"ghost","takeover_userid":"nobody"}`, want: 0},
		{name: "bad cursor", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan","takeover_userid":"lisi","cursor":"nope"}`, want: 40058},
		{name: "cursor a number", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan","takeover_userid":"lisi","cursor":1}`, want: 40058},
		{name: "handover_userid missing", tok: "app", endpoint: ep, setup: started, body: `{"takeover_userid":"lisi"}`, want: 41009},
		{name: "takeover_userid missing", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan"}`, want: 41009},
		{name: "both empty", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"","takeover_userid":""}`, want: 41009},
		{name: "takeover_userid a list", tok: "app", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan","takeover_userid":["lisi"]}`, want: 40058},
		{name: "empty body", tok: "app", endpoint: ep, setup: started, body: ``, want: 40063},
		{name: "without customer-contact permission", tok: "lim", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan","takeover_userid":"lisi"}`, want: 48002},
		{name: "with contacts secret", tok: "sync", endpoint: ep, setup: started, body: `{"handover_userid":"zhangsan","takeover_userid":"lisi"}`, want: 48002},
	})
}

// TestValidationGroupChatList: POST externalcontact/groupchat/list (DOC-92120).
func TestValidationGroupChatList(t *testing.T) {
	const ep = "externalcontact/groupchat/list"
	runRules(t, []rule{
		{name: "ok, the documented example without cursor", tok: "app", endpoint: ep, setup: withCustomers, body: `{"status_filter":0,"owner_filter":{"userid_list":["zhangsan"]},"limit":10}`, want: 0},
		{name: "limit only", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":1000}`, want: 0},
		{name: "limit 1 ok", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":1}`, want: 0},
		{name: "limit as a string", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":"10"}`, want: 0},
		{name: "status_filter as a string", tok: "app", endpoint: ep, setup: withCustomers, body: `{"status_filter":"0","limit":10}`, want: 0},
		{name: "status_filter 3", tok: "app", endpoint: ep, setup: withCustomers, body: `{"status_filter":3,"limit":10}`, want: 0},
		{name: "null filters and cursor", tok: "app", endpoint: ep, setup: withCustomers, body: `{"status_filter":null,"owner_filter":null,"cursor":null,"limit":10}`, want: 0},
		{name: "userid_list null", tok: "app", endpoint: ep, setup: withCustomers, body: `{"owner_filter":{"userid_list":null},"limit":10}`, want: 0},
		{name: "owner_filter empty object", tok: "app", endpoint: ep, setup: withCustomers, body: `{"owner_filter":{},"limit":10}`, want: 0},
		{name: "empty cursor", tok: "app", endpoint: ep, setup: withCustomers, body: `{"cursor":"","limit":10}`, want: 0},
		{name: "retired offset ignored", tok: "app", endpoint: ep, setup: withCustomers, body: `{"offset":0,"limit":10}`, want: 0},
		{name: "100 owners ok", tok: "app", endpoint: ep, setup: withCustomers, body: `{"owner_filter":{"userid_list":` + jsonStrs("u", 100) + `},"limit":10}`, want: 0},
		{name: "101 owners", tok: "app", endpoint: ep, setup: withCustomers, body: `{"owner_filter":{"userid_list":` + jsonStrs("u", 101) + `},"limit":10}`, want: 81017},
		{name: "no owner_filter, 1000 members visible ok", tok: "app", endpoint: ep, setup: withMembers(996), body: `{"limit":10}`, want: 0},
		{name: "no owner_filter, 1001 members visible", tok: "app", endpoint: ep, setup: withMembers(997), body: `{"limit":10}`, want: 81017},
		{name: "owner_filter with 1001 members visible ok", tok: "app", endpoint: ep, setup: withMembers(997), body: `{"owner_filter":{"userid_list":["zhangsan"]},"limit":10}`, want: 0},
		{name: "limit missing", tok: "app", endpoint: ep, setup: withCustomers, body: `{"owner_filter":{"userid_list":["zhangsan"]}}`, want: 40058},
		{name: "limit null", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":null}`, want: 40058},
		{name: "limit 0", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":0}`, want: 40058},
		{name: "limit 1001", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":1001}`, want: 40058},
		{name: "limit negative", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":-1}`, want: 40058},
		{name: "limit 1.5", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":1.5}`, want: 40058},
		{name: "limit not a number", tok: "app", endpoint: ep, setup: withCustomers, body: `{"limit":"ten"}`, want: 40058},
		{name: "status_filter not a number", tok: "app", endpoint: ep, setup: withCustomers, body: `{"status_filter":"all","limit":10}`, want: 40058},
		{name: "owner_filter a list", tok: "app", endpoint: ep, setup: withCustomers, body: `{"owner_filter":["zhangsan"],"limit":10}`, want: 40058},
		{name: "userid_list a string", tok: "app", endpoint: ep, setup: withCustomers, body: `{"owner_filter":{"userid_list":"zhangsan"},"limit":10}`, want: 40058},
		{name: "bad cursor", tok: "app", endpoint: ep, setup: withCustomers, body: `{"cursor":"r9FqSqsI8fgNbHLHE5QoCP50UIg2cFQbfma3l2QsmwI","limit":10}`, want: 40058},
		{name: "empty body", tok: "app", endpoint: ep, setup: withCustomers, body: ``, want: 40063},
		{name: "without customer-contact permission", tok: "lim", endpoint: ep, setup: withCustomers, body: `{"limit":10}`, want: 48002},
		{name: "with contacts secret", tok: "sync", endpoint: ep, setup: withCustomers, body: `{"limit":10}`, want: 48002},
	})

	chatIDs := func(t *testing.T, m map[string]any) string {
		t.Helper()
		var ids []string
		for _, c := range m["group_chat_list"].([]any) {
			ids = append(ids, c.(map[string]any)["chat_id"].(string))
		}
		return strings.Join(ids, ",")
	}
	t.Run("owner filter and cursor", func(t *testing.T) {
		e := newEnv(t)
		withCustomers(e)
		m := e.post(e.app, ep, `{"owner_filter":{"userid_list":["ZhangSan"]},"limit":1}`)
		e.wantCode(m, 0)
		if got := chatIDs(t, m); got != "wrA" || m["next_cursor"] == "" {
			t.Fatalf("first page %q, cursor %v", got, m["next_cursor"])
		}
		m = e.post(e.app, ep, `{"owner_filter":{"userid_list":["zhangsan"]},"limit":"1","cursor":"`+m["next_cursor"].(string)+`"}`)
		e.wantCode(m, 0)
		if got := chatIDs(t, m); got != "wrB" || m["next_cursor"] != "" {
			t.Fatalf("last page %q, cursor %v", got, m["next_cursor"])
		}
	})
	// "如果不填，表示获取应用可见范围内全部群主的数据": only the chats of owners in the
	// app's visible range.
	t.Run("visible range", func(t *testing.T) {
		e := newEnv(t)
		withCustomers(e)
		if err := e.srv.Seed(Seed{Apps: []App{{Name: "sre-only", Secret: "sre-secret", AgentID: 1000005, VisibleParties: []int64{3}, CustomerContact: true}}}); err != nil {
			t.Fatal(err)
		}
		tok := e.token("sre-secret")
		for body, want := range map[string]string{
			`{"limit":10}`: "wrW",
			`{"owner_filter":{"userid_list":["zhangsan","wangwu"]},"limit":10}`: "wrW",
			`{"owner_filter":{"userid_list":["zhangsan"]},"limit":10}`:          "",
		} {
			m := e.post(tok, ep, body)
			e.wantCode(m, 0)
			if got := chatIDs(t, m); got != want {
				t.Errorf("%s: chats %q, want %q", body, got, want)
			}
		}
		if got := chatIDs(t, e.post(e.app, ep, `{"limit":10}`)); got != "wrA,wrB,wrW" {
			t.Errorf("root-visible app: chats %q", got)
		}
	})
}

// TestValidationGroupChatOnjobTransfer: POST externalcontact/groupchat/onjob_transfer
// (DOC-95703).
func TestValidationGroupChatOnjobTransfer(t *testing.T) {
	const ep = "externalcontact/groupchat/onjob_transfer"
	runRules(t, []rule{
		{name: "ok, the documented example shape", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA","wrB"],"new_owner":"lisi"}`, want: 0},
		{name: "new_owner ignoring case", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA"],"new_owner":"LiSi"}`, want: 0},
		{name: "per-chat failures do not fail the call", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrW","wrX"],"new_owner":"wangwu"}`, want: 0},
		{name: "100 chats ok", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":` + jsonStrs("wr", 100) + `,"new_owner":"lisi"}`, want: 0},
		{name: "101 chats", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":` + jsonStrs("wr", 101) + `,"new_owner":"lisi"}`, want: 81017},
		{name: "chat_id_list missing", tok: "app", endpoint: ep, setup: withCustomers, body: `{"new_owner":"lisi"}`, want: 40063},
		{name: "chat_id_list null", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":null,"new_owner":"lisi"}`, want: 40063},
		{name: "chat_id_list empty", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":[],"new_owner":"lisi"}`, want: 40063},
		{name: "chat_id_list a string", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":"wrA","new_owner":"lisi"}`, want: 40058},
		{name: "new_owner missing", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA"]}`, want: 41009},
		{name: "new_owner empty", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA"],"new_owner":""}`, want: 41009},
		{name: "new_owner a number", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA"],"new_owner":7}`, want: 40058},
		{name: "unknown new_owner", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA"],"new_owner":"ghost"}`, want: 40003},
		{name: "new_owner not activated", tok: "app", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA"],"new_owner":"newbie"}`, want: 40098},
		{name: "empty body", tok: "app", endpoint: ep, setup: withCustomers, body: ``, want: 40063},
		{name: "without customer-contact permission", tok: "lim", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA"],"new_owner":"lisi"}`, want: 48002},
		{name: "with contacts secret", tok: "sync", endpoint: ep, setup: withCustomers, body: `{"chat_id_list":["wrA"],"new_owner":"lisi"}`, want: 48002},
	})

	failed := func(t *testing.T, m map[string]any) string {
		t.Helper()
		var out []string
		for _, f := range m["failed_chat_list"].([]any) {
			f := f.(map[string]any)
			out = append(out, fmt.Sprintf("%s:%v", f["chat_id"], f["errcode"]))
		}
		return strings.Join(out, ",")
	}
	t.Run("per-chat errcodes", func(t *testing.T) {
		e := newEnv(t)
		withCustomers(e)
		m := e.post(e.app, ep, `{"chat_id_list":["wrA","wrW","wrX"],"new_owner":"wangwu"}`)
		e.wantCode(m, 0)
		if got := failed(t, m); got != "wrW:90504,wrX:90501" {
			t.Fatalf("failed_chat_list %s", got)
		}
	})
	// "90个自然日内,在职成员的每个客户群仅可被转接2次" (DOC-95703).
	t.Run("twice in 90 days", func(t *testing.T) {
		e := newEnv(t)
		withCustomers(e)
		move := func(owner string) string {
			m := e.post(e.app, ep, `{"chat_id_list":["wrA"],"new_owner":"`+owner+`"}`)
			e.wantCode(m, 0)
			return failed(t, m)
		}
		if got := move("lisi") + move("wangwu"); got != "" {
			t.Fatalf("first two handovers failed: %s", got)
		}
		if got := move("zhangsan"); got != "wrA:40128" {
			t.Fatalf("third handover within 90 days: %q, want wrA:40128", got)
		}
		e.srv.Advance(90 * 24 * time.Hour)
		e.refresh()
		if got := move("zhangsan"); got != "" {
			t.Fatalf("after 90 days: %q", got)
		}
	})
}
