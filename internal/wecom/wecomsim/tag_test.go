package wecomsim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// appTag creates tag 20 "app-tag" with the operator app, which then owns it.
func appTag(e *env) {
	e.wantCode(e.post(e.app, "tag/create", `{"tagname":"app-tag","tagid":20}`), 0)
}

func TestValidationTags(t *testing.T) {
	withMembers := func(e *env) {
		appTag(e)
		e.wantCode(e.post(e.app, "tag/addtagusers", `{"tagid":20,"userlist":["lisi"],"partylist":[3]}`), 0)
	}
	runRules(t, []rule{
		{name: "create ok", tok: "app", endpoint: "tag/create", body: `{"tagname":"UI","tagid":12}`, want: 0},
		{name: "create without tagid ok", tok: "sync", endpoint: "tag/create", body: `{"tagname":"UI"}`, want: 0},
		{name: "create tagid 0 means not given", tok: "app", endpoint: "tag/create", body: `{"tagname":"UI","tagid":0}`, want: 0},
		{name: "create tagid as a string", tok: "app", endpoint: "tag/create", body: `{"tagname":"UI","tagid":"12"}`, want: 0},
		{name: "create tagname missing", tok: "app", endpoint: "tag/create", body: `{"tagid":12}`, want: 41018},
		{name: "create tagname null", tok: "app", endpoint: "tag/create", body: `{"tagname":null}`, want: 41018},
		{name: "create tagname empty", tok: "app", endpoint: "tag/create", body: `{"tagname":""}`, want: 40072},
		{name: "create tagname 33 characters", tok: "app", endpoint: "tag/create", body: `{"tagname":"` + repeatStr("标", 33) + `"}`, want: 40072},
		{name: "create tagname 32 characters ok", tok: "app", endpoint: "tag/create", body: `{"tagname":"` + repeatStr("标", 32) + `"}`, want: 0},
		{name: "create duplicate name", tok: "app", endpoint: "tag/create", body: `{"tagname":"oncall"}`, want: 40071},
		{name: "create duplicate tagid", tok: "app", endpoint: "tag/create", body: `{"tagname":"x","tagid":1}`, want: 40068},
		{name: "create negative tagid", tok: "app", endpoint: "tag/create", body: `{"tagname":"x","tagid":-1}`, want: 40068},
		{name: "create tagid not a number", tok: "app", endpoint: "tag/create", body: `{"tagname":"x","tagid":"abc"}`, want: 40058},
		{name: "update ok", tok: "app", endpoint: "tag/update", setup: appTag, body: `{"tagid":20,"tagname":"UI design"}`, want: 0},
		{name: "update to its own name ok", tok: "app", endpoint: "tag/update", setup: appTag, body: `{"tagid":20,"tagname":"app-tag"}`, want: 0},
		{name: "update without tagid", tok: "app", endpoint: "tag/update", body: `{"tagname":"x"}`, want: 41017},
		{name: "update unknown", tok: "app", endpoint: "tag/update", body: `{"tagid":99,"tagname":"x"}`, want: 40068},
		{name: "update another app's tag", tok: "lim", endpoint: "tag/update", setup: appTag, body: `{"tagid":20,"tagname":"x"}`, want: 81011},
		{name: "update a console tag with an app", tok: "app", endpoint: "tag/update", body: `{"tagid":1,"tagname":"x"}`, want: 81011},
		{name: "update a console tag with the contacts secret", tok: "sync", endpoint: "tag/update", body: `{"tagid":1,"tagname":"x"}`, want: 0},
		{name: "update to a taken name", tok: "app", endpoint: "tag/update", setup: appTag, body: `{"tagid":20,"tagname":"oncall"}`, want: 40071},
		{name: "update without tagname", tok: "app", endpoint: "tag/update", setup: appTag, body: `{"tagid":20}`, want: 41018},
		{name: "delete ok", tok: "app", method: "GET", endpoint: "tag/delete", setup: withMembers, query: "tagid=20", want: 0},
		{name: "delete without tagid", tok: "app", method: "GET", endpoint: "tag/delete", want: 41017},
		{name: "delete bad tagid", tok: "app", method: "GET", endpoint: "tag/delete", query: "tagid=x", want: 40068},
		{name: "delete unknown", tok: "app", method: "GET", endpoint: "tag/delete", query: "tagid=99", want: 40068},
		{name: "delete another app's tag", tok: "sync", method: "GET", endpoint: "tag/delete", setup: appTag, query: "tagid=20", want: 81011},
		{name: "get any app's tag", tok: "lim", method: "GET", endpoint: "tag/get", setup: appTag, query: "tagid=20", want: 0},
		{name: "get unknown", tok: "app", method: "GET", endpoint: "tag/get", query: "tagid=99", want: 40068},
		{name: "get without tagid", tok: "app", method: "GET", endpoint: "tag/get", want: 41017},
		{name: "list", tok: "lim", method: "GET", endpoint: "tag/list", want: 0},
		{name: "add ok", tok: "app", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":20,"userlist":["lisi","wangwu"],"partylist":[4]}`, want: 0},
		{name: "add partial is errcode 0", tok: "app", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":20,"userlist":["lisi","ghost"],"partylist":[77]}`, want: 0},
		{name: "add all invalid", tok: "app", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":20,"userlist":["ghost"],"partylist":[77]}`, want: 40070},
		{name: "add nothing", tok: "app", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":20,"userlist":null,"partylist":[]}`, want: 40070},
		{name: "add 1001 users", tok: "app", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":20,"userlist":["` + strings.ReplaceAll(userList("u", 1001), "|", `","`) + `"]}`, want: 81014},
		{name: "add 101 departments", tok: "app", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":20,"partylist":` + jsonInts(101) + `}`, want: 81014},
		{name: "add to another app's tag", tok: "lim", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":20,"userlist":["wangwu"]}`, want: 81011},
		{name: "add to a console tag with an app", tok: "app", endpoint: "tag/addtagusers", body: `{"tagid":1,"userlist":["wangwu"]}`, want: 81011},
		{name: "add without tagid", tok: "app", endpoint: "tag/addtagusers", body: `{"userlist":["wangwu"]}`, want: 41017},
		{name: "add to unknown tag", tok: "app", endpoint: "tag/addtagusers", body: `{"tagid":99,"userlist":["wangwu"]}`, want: 40068},
		{name: "add partylist as strings", tok: "app", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":"20","userlist":[],"partylist":["3","4"]}`, want: 0},
		{name: "add userlist not a list", tok: "app", endpoint: "tag/addtagusers", setup: appTag, body: `{"tagid":20,"userlist":"lisi"}`, want: 40058},
		{name: "del ok", tok: "app", endpoint: "tag/deltagusers", setup: withMembers, body: `{"tagid":20,"userlist":["lisi"],"partylist":[3]}`, want: 0},
		{name: "del all invalid", tok: "app", endpoint: "tag/deltagusers", setup: withMembers, body: `{"tagid":20,"userlist":["ghost"]}`, want: 40031},
		{name: "del from another app's tag", tok: "lim", endpoint: "tag/deltagusers", setup: withMembers, body: `{"tagid":20,"userlist":["lisi"]}`, want: 81011},
		{name: "del 101 departments", tok: "app", endpoint: "tag/deltagusers", setup: withMembers, body: `{"tagid":20,"partylist":` + jsonInts(101) + `}`, want: 81014},
	})
}

func TestTagLifecycle(t *testing.T) {
	e := newEnv(t)
	created := e.post(e.app, "tag/create", `{"tagname":"SRE on call"}`)
	e.wantCode(created, 0)
	if created["errmsg"] != "created" || created["tagid"] != float64(2) {
		t.Fatalf("create without tagid: %v (want the next id after the seeded 1)", created)
	}

	m := e.post(e.app, "tag/addtagusers", `{"tagid":2,"userlist":["LiSi","ghost","zhaoliu","lisi"],"partylist":[3,77]}`)
	e.wantCode(m, 0)
	if m["errmsg"] != "ok" || m["invalidlist"] != "ghost" || fmt.Sprint(m["invalidparty"]) != "[77]" {
		t.Fatalf("partial add: %v (want invalidlist a pipe-joined string, invalidparty an int array)", m)
	}
	all := e.post(e.app, "tag/addtagusers", `{"tagid":2,"userlist":["lisi"]}`)
	e.wantCode(all, 0)
	if _, has := all["invalidlist"]; has {
		t.Fatalf("an add without invalid members carries invalidlist: %v", all)
	}

	got := e.get(e.lim, "tag/get", "tagid=2")
	e.wantCode(got, 0)
	if got["tagname"] != "SRE on call" || fmt.Sprint(got["partylist"]) != "[3]" || fmt.Sprint(got["userlist"]) != "[]" {
		t.Fatalf("tag/get by an app that sees department 3 only: %v (lisi and zhaoliu are outside it)", got)
	}
	got = e.get(e.app, "tag/get", "tagid=2")
	if fmt.Sprint(got["userlist"]) != "[map[name:李四 userid:lisi] map[name:赵六 userid:zhaoliu]]" {
		t.Fatalf("tag/get userlist: %v", got["userlist"])
	}
	if tag, _ := e.srv.State().Tag(2); tag.Owner != "operator" || !slices.Equal(tag.Users, []string{"lisi", "zhaoliu"}) {
		t.Fatalf("state: %+v", tag)
	}

	d := e.post(e.app, "tag/deltagusers", `{"tagid":2,"userlist":["zhaoliu","ghost"],"partylist":[3]}`)
	e.wantCode(d, 0)
	if d["errmsg"] != "deleted" || d["invalidlist"] != "ghost" {
		t.Fatalf("partial delete: %v", d)
	}
	e.wantCode(e.post(e.app, "tag/update", `{"tagid":2,"tagname":"SRE"}`), 0)
	list := e.get(e.sync, "tag/list", "")
	if fmt.Sprint(list["taglist"]) != "[map[tagid:1 tagname:oncall] map[tagid:2 tagname:SRE]]" {
		t.Fatalf("tag/list: %v", list["taglist"])
	}

	// The limited app made its own tag; only members in its visible range are valid there.
	lim := e.post(e.lim, "tag/create", `{"tagname":"limited"}`)
	e.wantCode(lim, 0)
	part := e.post(e.lim, "tag/addtagusers", fmt.Sprintf(`{"tagid":%v,"userlist":["wangwu","lisi"],"partylist":[3,4]}`, lim["tagid"]))
	if part["invalidlist"] != "lisi" || fmt.Sprint(part["invalidparty"]) != "[4]" {
		t.Fatalf("outside the visible range: %v", part)
	}

	e.wantCode(e.get(e.app, "tag/delete", "tagid=2"), 0)
	e.wantCode(e.get(e.app, "tag/get", "tagid=2"), 40068)
}

func TestTagMembersFollowContacts(t *testing.T) {
	e := newEnv(t)
	appTag(e)
	e.wantCode(e.post(e.sync, "department/create", `{"name":"Tmp","parentid":1,"id":30}`), 0)
	e.wantCode(e.post(e.app, "tag/addtagusers", `{"tagid":20,"userlist":["wangwu"],"partylist":[30]}`), 0)
	e.wantCode(e.get(e.sync, "user/delete", "userid=wangwu"), 0)
	e.wantCode(e.get(e.sync, "department/delete", "id=30"), 0)
	if tag, _ := e.srv.State().Tag(20); len(tag.Users) != 0 || len(tag.Parties) != 0 {
		t.Fatalf("a deleted member or department stays in the tag: %+v", tag)
	}
}

// TestTagLimits checks the per-tag member cap (81003) and the corp's tag cap (40126).
func TestTagLimits(t *testing.T) {
	e := newEnv(t)
	appTag(e)
	users := make([]User, 0, maxTagMembers)
	for i := range maxTagMembers {
		users = append(users, User{UserID: fmt.Sprintf("m%05d", i), Name: "m", Department: []int64{1}})
	}
	tags := make([]Tag, 0, maxTags)
	for i := range maxTags - 2 {
		tags = append(tags, Tag{ID: int64(100 + i), Name: fmt.Sprintf("t%d", i)})
	}
	tags = append(tags, Tag{ID: 20, Name: "app-tag", Owner: "operator", Users: userIDs(users[:maxTagMembers-1])})
	if err := e.srv.Seed(Seed{Users: users, Tags: tags}); err != nil {
		t.Fatal(err)
	}
	e.wantCode(e.post(e.app, "tag/addtagusers", `{"tagid":20,"userlist":["lisi","wangwu"]}`), 81003)
	e.wantCode(e.post(e.app, "tag/addtagusers", `{"tagid":20,"userlist":["lisi"]}`), 0)
	e.wantCode(e.post(e.app, "tag/create", `{"tagname":"one too many"}`), 40126)
}

func userIDs(users []User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.UserID
	}
	return out
}

// TestMessageToTag checks that message/send totag reaches a tag's members and the members
// of its departments and their sub-departments, once each, within the app's visible range.
func TestMessageToTag(t *testing.T) {
	e := newEnv(t)
	appTag(e)
	e.wantCode(e.post(e.app, "tag/addtagusers", `{"tagid":20,"userlist":["zhaoliu","wangwu"],"partylist":[2]}`), 0)
	e.wantCode(e.post(e.app, "message/send", `{"totag":"20","msgtype":"text","agentid":1000002,"text":{"content":"x"}}`), 0)
	msgs := e.srv.Messages()
	got := slices.Clone(msgs[len(msgs)-1].DeliveredTo)
	slices.Sort(got)
	if want := []string{"lisi", "wangwu", "zhangsan", "zhaoliu"}; !slices.Equal(got, want) {
		t.Fatalf("delivered to %v, want %v (zhaoliu, wangwu, and department 2 with its sub-department 3)", got, want)
	}
	// An app that sees department 3 only reaches the tag's members there.
	e.wantCode(e.post(e.lim, "message/send", `{"totag":"20","msgtype":"text","agentid":1000003,"text":{"content":"x"}}`), 0)
	msgs = e.srv.Messages()
	if got := msgs[len(msgs)-1].DeliveredTo; !slices.Equal(got, []string{"wangwu"}) {
		t.Fatalf("the limited app delivered to %v", got)
	}
}
