package wecomsim

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// menuOf is a menu/create body of the given buttons.
func menuOf(buttons ...string) string { return `{"button":[` + strings.Join(buttons, ",") + `]}` }

// createMenu posts body to menu/create for the operator app.
func (e *env) createMenu(body string) map[string]any {
	e.t.Helper()
	return e.mustDo("POST", apiPath(e.app, "menu/create", "agentid=1000002"), body)
}

// withMenu gives the operator app a menu of one click button.
func withMenu(e *env) {
	e.wantCode(e.createMenu(menuOf(`{"type":"click","name":"a","key":"k"}`)), 0)
}

func TestValidationApps(t *testing.T) {
	const (
		click = `{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"}`
		view  = `{"type":"view","name":"搜索","url":"http://www.soso.com/"}`
		mini  = `{"type":"view_miniprogram","name":"小程序","pagepath":"pages/lunar/index","appid":"wx4389ji4kAAA"}`
		q     = "agentid=1000002"
	)
	verified := func(e *env) {
		if err := e.srv.SetVerifiedDomains(1000002, "ops.example.com"); err != nil {
			t.Fatal(err)
		}
	}
	sub := func(buttons ...string) string {
		return `{"name":"菜单","sub_button":[` + strings.Join(buttons, ",") + `]}`
	}
	runRules(t, []rule{
		{name: "get own app", tok: "app", method: "GET", endpoint: "agent/get", query: q, want: 0},
		{name: "get without agentid", tok: "app", method: "GET", endpoint: "agent/get", want: 41011},
		{name: "get agentid not a number", tok: "app", method: "GET", endpoint: "agent/get", query: "agentid=x", want: 40056},
		{name: "get another app", tok: "lim", method: "GET", endpoint: "agent/get", query: q, want: 301002},
		{name: "get with the contacts secret", tok: "sync", method: "GET", endpoint: "agent/get", query: q, want: 301002},
		{name: "list", tok: "app", method: "GET", endpoint: "agent/list", want: 0},
		{name: "set ok", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"name":"运维助手","description":"告警与值班","home_url":"https://ops.example.com","redirect_domain":"ops.example.com","report_location_flag":1,"isreportenter":1}`, want: 0},
		{name: "set agentid only", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002}`, want: 0},
		{name: "set numbers as strings (old docs' example)", tok: "app", endpoint: "agent/set", body: `{"agentid":"1000002","report_location_flag":"0","isreportenter":"1","isreportuser":0}`, want: 0},
		{name: "set wechatpy's defaults", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"report_location_flag":0,"isreportenter":1,"isreportuser":0,"name":null,"home_url":""}`, want: 0},
		{name: "set without agentid", tok: "app", endpoint: "agent/set", body: `{"name":"x"}`, want: 41011},
		{name: "set agentid not a number", tok: "app", endpoint: "agent/set", body: `{"agentid":"abc"}`, want: 40056},
		{name: "set another app", tok: "lim", endpoint: "agent/set", body: `{"agentid":1000002,"name":"x"}`, want: 301002},
		{name: "set name empty", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"name":""}`, want: 45022},
		{name: "set name 33 characters", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"name":"` + repeatStr("应", 33) + `"}`, want: 45022},
		{name: "set name 32 characters ok", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"name":"` + repeatStr("应", 32) + `"}`, want: 0},
		{name: "set description 3 characters", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"description":"abc"}`, want: 45004},
		{name: "set description 4 characters ok", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"description":"值班告警"}`, want: 0},
		{name: "set description 121 characters", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"description":"` + repeatStr("述", 121) + `"}`, want: 45004},
		{name: "set home_url without scheme", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"home_url":"ops.example.com"}`, want: 40094},
		{name: "set redirect_domain with a scheme", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"redirect_domain":"https://ops.example.com/x"}`, want: 85005},
		{name: "set redirect_domain not verified", tok: "app", endpoint: "agent/set", setup: verified, body: `{"agentid":1000002,"redirect_domain":"other.example.com"}`, want: 85005},
		{name: "set redirect_domain verified", tok: "app", endpoint: "agent/set", setup: verified, body: `{"agentid":1000002,"redirect_domain":"OPS.example.com"}`, want: 0},
		{name: "set report_location_flag 2", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"report_location_flag":2}`, want: 40058},
		{name: "set logo_mediaid", tok: "app", endpoint: "agent/set", body: `{"agentid":1000002,"logo_mediaid":"MEDIA"}`, want: 0},
		{name: "set as GET", tok: "app", method: "GET", endpoint: "agent/set", want: 40063},

		{name: "menu ok (official example)", tok: "app", endpoint: "menu/create", query: q, body: menuOf(click, sub(view, mini)), want: 0},
		{name: "menu leaf with sub_button []", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"click","name":"a","key":"k","sub_button":[]}`), want: 0},
		{name: "menu agentid as a string in the query", tok: "app", endpoint: "menu/create", query: "agentid=01000002", body: menuOf(click), want: 0},
		{name: "menu without agentid", tok: "app", endpoint: "menu/create", body: menuOf(click), want: 41011},
		{name: "menu agentid in the body only", tok: "app", endpoint: "menu/create", body: `{"agentid":1000002,"button":[` + click + `]}`, want: 41011},
		{name: "menu another app", tok: "lim", endpoint: "menu/create", query: q, body: menuOf(click), want: 301002},
		{name: "menu no buttons", tok: "app", endpoint: "menu/create", query: q, body: menuOf(), want: 40016},
		{name: "menu button null", tok: "app", endpoint: "menu/create", query: q, body: `{"button":null}`, want: 40016},
		{name: "menu 4 buttons", tok: "app", endpoint: "menu/create", query: q, body: menuOf(click, click, click, click), want: 40016},
		{name: "menu unknown type", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"media_id","name":"a","media_id":"m"}`), want: 40017},
		{name: "menu leaf without type", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"name":"a","key":"k"}`), want: 40017},
		{name: "menu name missing", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"click","key":"k"}`), want: 41102},
		{name: "menu name 17 bytes", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"click","name":"` + repeatStr("a", 17) + `","key":"k"}`), want: 40018},
		{name: "menu name 6 汉字 (18 bytes)", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"click","name":"` + repeatStr("菜", 6) + `","key":"k"}`), want: 40018},
		{name: "menu name 5 汉字 (15 bytes) ok", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"click","name":"` + repeatStr("菜", 5) + `","key":"k"}`), want: 0},
		{name: "menu key 129 bytes", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"click","name":"a","key":"` + repeatStr("k", 129) + `"}`), want: 40019},
		{name: "menu click without key", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"scancode_push","name":"a"}`), want: 40019},
		{name: "menu url 1025 bytes", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"view","name":"a","url":"https://` + repeatStr("u", 1017) + `"}`), want: 40020},
		{name: "menu url without scheme", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"view","name":"a","url":"www.soso.com"}`), want: 40055},
		{name: "menu miniprogram without appid", tok: "app", endpoint: "menu/create", query: q, body: menuOf(`{"type":"view_miniprogram","name":"a","pagepath":"p"}`), want: 90200},
		{name: "menu 6 sub-buttons", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(click, click, click, click, click, click)), want: 40023},
		{name: "menu 5 sub-buttons ok", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(click, click, click, click, click)), want: 0},
		{name: "menu three levels", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(sub(click))), want: 40022},
		{name: "menu sub-button unknown type", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(`{"type":"x","name":"a"}`)), want: 40024},
		{name: "menu sub-button name 41 bytes", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(`{"type":"click","name":"` + repeatStr("a", 41) + `","key":"k"}`)), want: 40025},
		{name: "menu sub-button name 40 bytes ok", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(`{"type":"click","name":"` + repeatStr("a", 40) + `","key":"k"}`)), want: 0},
		{name: "menu sub-button key 129 bytes", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(`{"type":"click","name":"a","key":"` + repeatStr("k", 129) + `"}`)), want: 40026},
		{name: "menu sub-button url 1025 bytes", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(`{"type":"view","name":"a","url":"https://` + repeatStr("u", 1017) + `"}`)), want: 40027},
		{name: "menu sub-button url without scheme", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(`{"type":"view","name":"a","url":"ftp://x"}`)), want: 40054},
		{name: "menu sub-button name missing", tok: "app", endpoint: "menu/create", query: q, body: menuOf(sub(`{"type":"click","key":"k"}`)), want: 41102},
		{name: "menu not JSON", tok: "app", endpoint: "menu/create", query: q, body: `[1]`, want: 40058},
		{name: "menu get none", tok: "app", method: "GET", endpoint: "menu/get", query: q, want: 46003},
		{name: "menu get ok", tok: "app", method: "GET", endpoint: "menu/get", query: q, setup: withMenu, want: 0},
		{name: "menu get another app", tok: "lim", method: "GET", endpoint: "menu/get", query: q, setup: withMenu, want: 301002},
		{name: "menu delete ok", tok: "app", method: "GET", endpoint: "menu/delete", query: q, setup: withMenu, want: 0},
		{name: "menu delete none ok", tok: "app", method: "GET", endpoint: "menu/delete", query: q, want: 0},
		{name: "menu delete without agentid", tok: "app", method: "GET", endpoint: "menu/delete", want: 41011},
	})
}

func TestAgentSettingsAndMenu(t *testing.T) {
	e := newEnv(t)
	got := e.get(e.app, "agent/get", "agentid=1000002")
	e.wantCode(got, 0)
	if got["name"] != "operator" || got["agentid"] != float64(1000002) || got["close"] != float64(0) {
		t.Fatalf("seeded app: %v", got)
	}

	e.wantCode(e.post(e.app, "agent/set", `{"agentid":1000002,"name":"运维助手","description":"告警与值班","home_url":"https://ops.example.com","isreportenter":"1"}`), 0)
	got = e.get(e.app, "agent/get", "agentid=1000002")
	for k, want := range map[string]any{"name": "运维助手", "description": "告警与值班", "home_url": "https://ops.example.com", "isreportenter": float64(1), "report_location_flag": float64(0), "redirect_domain": ""} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	// Only given fields change; a refused call changes nothing, even the valid fields in it.
	e.wantCode(e.post(e.app, "agent/set", `{"agentid":1000002,"report_location_flag":1,"description":"abc"}`), 45004)
	e.wantCode(e.post(e.app, "agent/set", `{"agentid":1000002,"redirect_domain":"ops.example.com"}`), 0)
	got = e.get(e.app, "agent/get", "agentid=1000002")
	if got["report_location_flag"] != float64(0) || got["redirect_domain"] != "ops.example.com" || got["name"] != "运维助手" {
		t.Fatalf("after partial sets: %v", got)
	}
	list := e.get(e.app, "agent/list", "")
	if l, _ := list["agentlist"].([]any); len(l) != 1 || l[0].(map[string]any)["name"] != "运维助手" {
		t.Fatalf("agent/list of a self-built app lists only it: %v", list)
	}

	body := menuOf(`{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"}`,
		`{"name":"菜单","type":"click","key":"ignored","sub_button":[{"type":"view","name":"搜索","url":"http://www.soso.com/"},{"type":"view_miniprogram","name":"小程序","pagepath":"pages/lunar/index","appid":"wx4389ji4kAAA"}]}`)
	e.wantCode(e.createMenu(body), 0)
	m := e.get(e.app, "menu/get", "agentid=1000002")
	e.wantCode(m, 0)
	raw, _ := json.Marshal(m["button"])
	want := `[{"key":"V1001_TODAY_MUSIC","name":"今日歌曲","sub_button":[],"type":"click"},{"name":"菜单","sub_button":[{"name":"搜索","type":"view","url":"http://www.soso.com/"},{"appid":"wx4389ji4kAAA","name":"小程序","pagepath":"pages/lunar/index","type":"view_miniprogram"}]}]`
	if string(raw) != want {
		t.Fatalf("menu/get button:\n got %s\nwant %s", raw, want)
	}
	// A second create replaces the whole menu.
	e.wantCode(e.createMenu(menuOf(`{"type":"location_select","name":"位置","key":"loc"}`)), 0)
	_, stored, _ := e.srv.Agent(1000002)
	if !reflect.DeepEqual(stored, []MenuButton{{Type: "location_select", Name: "位置", Key: "loc"}}) {
		t.Fatalf("stored menu after a second create: %+v", stored)
	}
	e.wantCode(e.get(e.app, "menu/delete", "agentid=1000002"), 0)
	e.wantCode(e.get(e.app, "menu/get", "agentid=1000002"), 46003)
}

func TestConsoleAppEdits(t *testing.T) {
	e := newEnv(t)
	name, enter := "Renamed by hand", 1
	if err := e.srv.ConsoleSetAgent(1000002, AgentEdit{Name: &name, IsReportEnter: &enter}); err != nil {
		t.Fatal(err)
	}
	bad := "ab"
	if err := e.srv.ConsoleSetAgent(1000002, AgentEdit{Description: &bad}); err == nil || !strings.Contains(err.Error(), "45004") {
		t.Fatalf("a console edit breaking agent/set's rules: %v", err)
	}
	if err := e.srv.ConsoleSetMenu(1000002, []MenuButton{{Type: "view", Name: "Home", URL: "https://example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.ConsoleSetMenu(1000002, nil); err == nil || !strings.Contains(err.Error(), "40016") {
		t.Fatalf("an empty console menu: %v", err)
	}
	got := e.get(e.app, "agent/get", "agentid=1000002")
	if got["name"] != name || got["isreportenter"] != float64(1) {
		t.Fatalf("after a console edit: %v", got)
	}
	e.wantCode(e.get(e.app, "menu/get", "agentid=1000002"), 0)
	if err := e.srv.ConsoleDeleteMenu(1000002); err != nil {
		t.Fatal(err)
	}
	e.wantCode(e.get(e.app, "menu/get", "agentid=1000002"), 46003)
	if n := len(e.srv.CallsTo("agent/set")) + len(e.srv.CallsTo("menu/create")) + len(e.srv.CallsTo("menu/delete")); n != 0 {
		t.Fatalf("console edits are not API calls, but %d were logged", n)
	}
	if err := e.srv.ConsoleSetAgent(42, AgentEdit{Name: &name}); err == nil {
		t.Fatal("an edit of an unknown app succeeded")
	}
}

func TestAdminAppEdits(t *testing.T) {
	e := newEnv(t)
	res := e.admin("POST", "/sim/edit", `{"op":"update_app","agentid":1000002,"app":{"name":"Renamed","isreportenter":1}}`, 200)
	if res["ok"] != true {
		t.Fatalf("update_app: %v", res)
	}
	e.admin("POST", "/sim/edit", `{"op":"set_menu","agentid":1000002,"menu":[{"type":"view","name":"Home","url":"https://example.com/"}]}`, 200)
	got := e.get(e.app, "agent/get", "agentid=1000002")
	if got["name"] != "Renamed" || got["isreportenter"] != float64(1) {
		t.Fatalf("after update_app: %v", got)
	}
	e.wantCode(e.get(e.app, "menu/get", "agentid=1000002"), 0)
	e.admin("POST", "/sim/edit", `{"op":"delete_menu","agentid":1000002}`, 200)
	e.wantCode(e.get(e.app, "menu/get", "agentid=1000002"), 46003)
	// Refused like the API would refuse them.
	e.admin("POST", "/sim/edit", `{"op":"update_app","agentid":1000002,"app":{"description":"ab"}}`, 400)
	e.admin("POST", "/sim/edit", `{"op":"set_menu","agentid":1000002,"menu":[]}`, 400)
	e.admin("POST", "/sim/edit", `{"op":"update_app","agentid":1000002}`, 400)
	e.admin("POST", "/sim/edit", `{"op":"delete_menu","agentid":42}`, 400)
}
