package wecom_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

func TestSimAgentAndMenu(t *testing.T) {
	env := newSim(t)
	app := env.app(t)
	ctx := context.Background()
	id := env.creds.AgentID

	got := must(app.GetAgent(ctx, id))(t)
	if got.AgentID != id || got.Name != "operator" || got.Close != 0 {
		t.Fatalf("seeded app: %+v", got)
	}
	ok(t, app.SetAgent(ctx, id, wecom.AgentSettings{
		Name: wecom.Ptr("运维助手"), Description: wecom.Ptr("告警与值班"), HomeURL: wecom.Ptr("https://ops.example.com"),
		RedirectDomain: wecom.Ptr("ops.example.com"), ReportLocation: wecom.Ptr(true), ReportEnter: wecom.Ptr(true),
	}))
	// A partial set changes only what it names.
	ok(t, app.SetAgent(ctx, id, wecom.AgentSettings{ReportLocation: wecom.Ptr(false)}))
	got = must(app.GetAgent(ctx, id))(t)
	want := &wecom.Agent{AgentID: id, Name: "运维助手", SquareLogoURL: got.SquareLogoURL, Description: "告警与值班",
		RedirectDomain: "ops.example.com", ReportLocationFlag: 0, IsReportEnter: 1, HomeURL: "https://ops.example.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after set (-want +got):\n%s", diff)
	}
	if list := must(app.ListAgents(ctx))(t); len(list) != 1 || list[0].AgentID != id || list[0].Name != "运维助手" {
		t.Fatalf("agent/list: %+v", list)
	}

	// WeCom's refusals carry their errcode, are terminal and have a hint.
	for code, s := range map[int]wecom.AgentSettings{
		wecom.ErrCodeAgentNameLength: {Name: wecom.Ptr("")},
		wecom.ErrCodeAgentDescLength: {Description: wecom.Ptr("abc")},
		wecom.ErrCodeInvalidHomeURL:  {HomeURL: wecom.Ptr("ops.example.com")},
		wecom.ErrCodeUntrustedDomain: {RedirectDomain: wecom.Ptr("https://ops.example.com/")},
	} {
		err := app.SetAgent(ctx, id, s)
		wantCode(t, err, code, "agent/set")
		if !wecom.IsTerminal(err) || wecom.Hint(err) == "" {
			t.Fatalf("%d: terminal %v, hint %q", code, wecom.IsTerminal(err), wecom.Hint(err))
		}
	}
	// Another app's agentid is 301002: a permission problem, not a bad spec.
	err := env.limited(t).SetAgent(ctx, id, wecom.AgentSettings{Name: wecom.Ptr("x")})
	wantCode(t, err, wecom.ErrCodeAgentNotOwned, "agent/set")
	if !wecom.IsPermissionDenied(err) {
		t.Fatalf("301002 is not IsPermissionDenied: %v", err)
	}

	// No menu yet: nil, not an error.
	if m := must(app.GetMenu(ctx, id))(t); m != nil {
		t.Fatalf("menu of an app without one: %+v", m)
	}
	menu := []wecom.MenuButton{
		{Type: "click", Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"},
		{Name: "菜单", SubButtons: []wecom.MenuButton{
			{Type: "view", Name: "搜索", URL: "http://www.soso.com/"},
			{Type: "view_miniprogram", Name: "小程序", PagePath: "pages/lunar/index", AppID: "wx4389ji4kAAA"},
		}},
	}
	ok(t, app.CreateMenu(ctx, id, menu))
	if diff := cmp.Diff(menu, must(app.GetMenu(ctx, id))(t)); diff != "" {
		t.Fatalf("menu read back (-want +got):\n%s", diff)
	}
	_, stored, _ := env.srv.Agent(id)
	if len(stored) != 2 || stored[1].SubButtons[1].AppID != "wx4389ji4kAAA" {
		t.Fatalf("the simulator holds %+v", stored)
	}
	err = app.CreateMenu(ctx, id, []wecom.MenuButton{{Type: "click", Name: "一二三四五六", Key: "k"}})
	wantCode(t, err, wecom.ErrCodeMenuNameLength, "menu/create")
	if wecom.Hint(err) == "" {
		t.Fatal("40018 has no hint")
	}
	if err := app.CreateMenu(ctx, id, nil); !errors.Is(err, wecom.ErrInvalidRequest) {
		t.Fatalf("an empty menu: %v", err)
	}
	ok(t, app.DeleteMenu(ctx, id))
	if m := must(app.GetMenu(ctx, id))(t); m != nil {
		t.Fatalf("menu after delete: %+v", m)
	}
	// A console edit is what the next read sees.
	if err := env.srv.ConsoleSetMenu(id, []wecomsim.MenuButton{{Type: "view", Name: "Home", URL: "https://example.com"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]wecom.MenuButton{{Type: "view", Name: "Home", URL: "https://example.com"}}, must(app.GetMenu(ctx, id))(t)); diff != "" {
		t.Fatalf("console menu (-want +got):\n%s", diff)
	}
}
