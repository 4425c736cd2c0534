package wecom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// These tests run the client against the simulator over real HTTP. They assert what a
// controller sees: results, *wecom.APIError codes and the helper classification. Where the
// simulator and the reference disagree, the test follows the reference and says so.

var simStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type simEnv struct {
	srv   *wecomsim.Server
	creds wecomsim.Credentials
}

func newSim(t *testing.T, mods ...func(*wecomsim.Options, *wecomsim.Seed)) simEnv {
	t.Helper()
	seed, creds := wecomsim.DemoSeed()
	opts := wecomsim.Options{Now: simStart, ActivateCreatedUsers: true}
	for _, m := range mods {
		m(&opts, &seed)
	}
	opts.Seed = &seed
	return simEnv{srv: wecomsim.NewServer(t, opts), creds: creds}
}

// client returns a client for one app of the demo corp. It reads the simulator's clock, so
// token lifetimes follow srv.Advance, and has its own token cache and no rate limit.
func (e simEnv) client(t *testing.T, secret string, mods ...func(*wecom.Config)) *wecom.Client {
	t.Helper()
	cfg := wecom.Config{
		BaseURL:  e.srv.URL,
		CorpID:   e.creds.CorpID,
		Secret:   secret,
		Now:      e.srv.Now,
		Retry:    wecom.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
		Tokens:   wecom.NewTokenCache(wecom.TokenCacheOptions{}),
		Limiters: wecom.NewLimiters(wecom.LimitersOptions{Default: wecom.RateLimit{PerSecond: -1}, Endpoint: map[string]wecom.RateLimit{}}),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := wecom.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e simEnv) contacts(t *testing.T) *wecom.Client { return e.client(t, e.creds.ContactsSecret) }
func (e simEnv) app(t *testing.T) *wecom.Client      { return e.client(t, e.creds.AppSecret) }
func (e simEnv) limited(t *testing.T) *wecom.Client  { return e.client(t, e.creds.LimitedAppSecret) }

// wantCode fails unless err carries errcode code from endpoint api.
func wantCode(t *testing.T, err error, code int, api string) *wecom.APIError {
	t.Helper()
	var ae *wecom.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want errcode %d from %s, got %v", code, api, err)
	}
	if ae.Code != code || ae.API != api {
		t.Fatalf("want errcode %d from %s, got %d from %s (%v)", code, api, ae.Code, ae.API, err)
	}
	return ae
}

// must(f())(t) returns f's value, failing the test on f's error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSimDepartments(t *testing.T) {
	env := newSim(t)
	c := env.contacts(t)
	ctx := context.Background()

	id := must(c.CreateDepartment(ctx, wecom.CreateDepartmentRequest{Name: "Platform", NameEn: "platform", ParentID: 2, Order: wecom.Ptr[uint32](5), ID: 20}))(t)
	if id != 20 {
		t.Fatalf("created id %d, want the chosen 20", id)
	}
	auto := must(c.CreateDepartment(ctx, wecom.CreateDepartmentRequest{Name: "Support", ParentID: 1}))(t)
	if auto <= 4 {
		t.Fatalf("generated id %d collides with the seed", auto)
	}
	d := must(c.GetDepartment(ctx, 20))(t)
	if d.Name != "Platform" || d.NameEn != "platform" || d.ParentID != 2 || d.Order != 5 {
		t.Fatalf("get: %+v", d)
	}

	// A partial update changes only what it names.
	ok(t, c.UpdateDepartment(ctx, wecom.UpdateDepartmentRequest{ID: 20, Name: wecom.Ptr("Platform Eng")}))
	d = must(c.GetDepartment(ctx, 20))(t)
	if d.Name != "Platform Eng" || d.ParentID != 2 || d.Order != 5 || d.NameEn != "platform" {
		t.Fatalf("after a name-only update: %+v", d)
	}
	ok(t, c.UpdateDepartment(ctx, wecom.UpdateDepartmentRequest{ID: 20, Order: wecom.Ptr[uint32](0)}))
	if d = must(c.GetDepartment(ctx, 20))(t); d.Order != 0 {
		t.Fatalf("order 0 not applied: %+v", d)
	}

	refs := must(c.SimpleListDepartments(ctx, 2))(t)
	if !slices.ContainsFunc(refs, func(r wecom.DepartmentRef) bool { return r.ID == 20 && r.ParentID == 2 }) ||
		!slices.ContainsFunc(refs, func(r wecom.DepartmentRef) bool { return r.ID == 3 }) {
		t.Fatalf("simplelist 2: %+v", refs)
	}
	all := must(c.ListDepartments(ctx, 0))(t)
	if len(all) < 6 {
		t.Fatalf("list: %d departments", len(all))
	}
	eng := must(c.ListDepartments(ctx, 2))(t)
	if !slices.ContainsFunc(eng, func(d wecom.Department) bool { return d.ID == 2 && slices.Contains(d.DepartmentLeader, "zhangsan") }) {
		t.Fatalf("list 2 lacks department 2 with its leader: %+v", eng)
	}

	// Errors, as a controller meets them.
	err := func() error {
		_, err := c.CreateDepartment(ctx, wecom.CreateDepartmentRequest{Name: "Other", ParentID: 1, ID: 20})
		return err
	}()
	wantCode(t, err, 60008, "department/create")
	if !wecom.IsAlreadyExists(err) || wecom.IsNotFound(err) || !wecom.IsTerminal(err) {
		t.Fatalf("duplicate id: %v", err)
	}
	_, err = c.GetDepartment(ctx, 999)
	wantCode(t, err, 60003, "department/get")
	if !wecom.IsNotFound(err) {
		t.Fatal("department/get 999 is not IsNotFound")
	}
	err = func() error {
		_, err := c.CreateDepartment(ctx, wecom.CreateDepartmentRequest{Name: "Orphan", ParentID: 999})
		return err
	}()
	wantCode(t, err, 60004, "department/create")
	if wecom.IsNotFound(err) || !wecom.IsTerminal(err) {
		t.Fatal("a missing parent must not read as 'the department is not found'")
	}
	err = func() error {
		_, err := c.CreateDepartment(ctx, wecom.CreateDepartmentRequest{Name: "a:b", ParentID: 1})
		return err
	}()
	wantCode(t, err, 60009, "department/create")
	wantCode(t, c.UpdateDepartment(ctx, wecom.UpdateDepartmentRequest{ID: 2, ParentID: wecom.Ptr(20)}), 60010, "department/update")
	err = c.DeleteDepartment(ctx, 2)
	if code := wecom.Code(err); code != 60005 && code != 60006 {
		t.Fatalf("deleting a department with members and children: %v", err)
	}
	wantCode(t, c.DeleteDepartment(ctx, 1), 60007, "department/delete")

	// Writes need the contacts-sync secret.
	err = func() error {
		_, err := env.app(t).CreateDepartment(ctx, wecom.CreateDepartmentRequest{Name: "X", ParentID: 1})
		return err
	}()
	wantCode(t, err, 48002, "department/create")
	if !wecom.IsCredential(err) || !strings.Contains(wecom.Hint(err), "contacts-sync") {
		t.Fatalf("48002: credential=%v hint=%q", wecom.IsCredential(err), wecom.Hint(err))
	}

	// Delete, then deleting again is "not found" (a controller treats that as done).
	ok(t, c.DeleteDepartment(ctx, auto))
	err = c.DeleteDepartment(ctx, auto)
	wantCode(t, err, 60003, "department/delete")
	if !wecom.IsNotFound(err) {
		t.Fatal("deleting a deleted department is not IsNotFound")
	}
	_, err = c.GetDepartment(ctx, auto)
	if !wecom.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestSimUsers(t *testing.T) {
	env := newSim(t)
	c := env.contacts(t)
	ctx := context.Background()

	res := must(c.CreateUser(ctx, wecom.CreateUserRequest{
		UserID: "sunqi", Name: "孙七", Mobile: "+86 13800000009", Department: []int{2, 3}, Order: []uint32{1, 2},
		IsLeaderInDept: []wecom.Flag{false, true}, DirectLeader: []string{"lisi"}, Gender: "2", Position: "SRE", ToInvite: wecom.Ptr(false),
		ExtAttr: &wecom.ExtAttr{Attrs: []wecom.ExtAttrItem{{Type: 0, Name: "工号", Text: &wecom.ExtAttrText{Value: "007"}}}},
	}))(t)
	if len(res.CreatedDepartments) != 0 {
		t.Fatalf("no department should have been created: %+v", res)
	}
	u := must(c.GetUser(ctx, "sunqi"))(t)
	if u.Name != "孙七" || !slices.Equal(u.Department, []int{2, 3}) || u.Gender != "2" || !bool(u.Enable) || u.Position != "SRE" ||
		!slices.Equal(u.DirectLeader, []string{"lisi"}) || !slices.Equal(u.IsLeaderInDept, []wecom.Flag{false, true}) {
		t.Fatalf("get: %+v", u)
	}

	// enable=0 disables; other fields stay.
	ok(t, c.UpdateUser(ctx, wecom.UpdateUserRequest{UserID: "sunqi", Enable: wecom.Ptr(wecom.Flag(false))}))
	u = must(c.GetUser(ctx, "sunqi"))(t)
	if bool(u.Enable) || u.Status != wecom.UserStatusDisabled || u.Name != "孙七" || u.Position != "SRE" {
		t.Fatalf("after enable=0: %+v", u)
	}
	ok(t, c.UpdateUser(ctx, wecom.UpdateUserRequest{UserID: "sunqi", Enable: wecom.Ptr(wecom.Flag(true)), Position: wecom.Ptr("Lead SRE"), DirectLeader: []string{}}))
	u = must(c.GetUser(ctx, "sunqi"))(t)
	if !bool(u.Enable) || u.Position != "Lead SRE" || len(u.DirectLeader) != 0 || u.Mobile == "" {
		t.Fatalf("after re-enable: %+v", u)
	}

	// A department id that does not exist is created (2025 behaviour, §3).
	res = must(c.CreateUser(ctx, wecom.CreateUserRequest{UserID: "zhouba", Name: "周八", Email: "zhouba@example.com", Department: []int{77}}))(t)
	if len(res.CreatedDepartments) != 1 || res.CreatedDepartments[0].ID != 77 {
		t.Fatalf("created_department_list: %+v", res)
	}

	// Errors.
	err := func() error {
		_, err := c.CreateUser(ctx, wecom.CreateUserRequest{UserID: "ZhangSan", Name: "x", Email: "x@example.com"})
		return err
	}()
	wantCode(t, err, 60102, "user/create")
	if !wecom.IsAlreadyExists(err) {
		t.Fatal("userids are case-insensitive: ZhangSan exists")
	}
	err = func() error {
		_, err := c.CreateUser(ctx, wecom.CreateUserRequest{UserID: "dup", Name: "x", Mobile: "13800000001"})
		return err
	}()
	wantCode(t, err, 60104, "user/create")
	if wecom.IsAlreadyExists(err) || !wecom.IsTerminal(err) {
		t.Fatal("another member's mobile is a terminal conflict, not 'already exists'")
	}
	err = func() error {
		_, err := c.CreateUser(ctx, wecom.CreateUserRequest{UserID: "nocontact", Name: "x"})
		return err
	}()
	wantCode(t, err, 60129, "user/create")
	_, err = c.GetUser(ctx, "nobody")
	wantCode(t, err, 60111, "user/get")
	if !wecom.IsNotFound(err) {
		t.Fatal("user/get nobody is not IsNotFound")
	}
	err = c.UpdateUser(ctx, wecom.UpdateUserRequest{UserID: "nobody", Name: wecom.Ptr("x")})
	wantCode(t, err, 60111, "user/update")
	err = c.DeleteUser(ctx, "zhangsan")
	wantCode(t, err, 301005, "user/delete")
	if !wecom.IsTerminal(err) || !strings.Contains(wecom.Hint(err), "creator") {
		t.Fatalf("creator: %v %q", err, wecom.Hint(err))
	}

	// list_id: contacts-sync only.
	page := must(c.ListUserIDs(ctx, "", 2))(t)
	rows := page.DeptUser
	for page.NextCursor != "" {
		page = must(c.ListUserIDs(ctx, page.NextCursor, 2))(t)
		rows = append(rows, page.DeptUser...)
	}
	if !slices.Contains(rows, wecom.DeptUser{UserID: "sunqi", Department: 3}) || !slices.Contains(rows, wecom.DeptUser{UserID: "zhangsan", Department: 1}) {
		t.Fatalf("list_id rows: %+v", rows)
	}
	_, err = env.app(t).ListUserIDs(ctx, "", 100)
	wantCode(t, err, 48002, "user/list_id")

	all := must(c.SimpleListUsers(ctx, 2, true))(t)
	direct := must(c.SimpleListUsers(ctx, 2, false))(t)
	has := func(us []wecom.SimpleUser, id string) bool {
		return slices.ContainsFunc(us, func(u wecom.SimpleUser) bool { return u.UserID == id })
	}
	if !has(all, "wangwu") || has(direct, "wangwu") || !has(direct, "lisi") {
		t.Fatalf("simplelist: fetch_child=1 %+v, without %+v", all, direct)
	}

	ok(t, c.DeleteUser(ctx, "sunqi"))
	if _, err := c.GetUser(ctx, "sunqi"); !wecom.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := c.DeleteUser(ctx, "sunqi"); !wecom.IsNotFound(err) {
		t.Fatalf("delete after delete: %v", err)
	}
}

func TestSimAppChats(t *testing.T) {
	env := newSim(t)
	c := env.app(t)
	ctx := context.Background()

	chatID := must(c.CreateAppChat(ctx, wecom.CreateAppChatRequest{Name: "oncall", Owner: "zhangsan", UserList: []string{"zhangsan", "lisi"}, ChatID: "oncall01"}))(t)
	if chatID != "oncall01" {
		t.Fatalf("chatid %q", chatID)
	}
	ok(t, c.UpdateAppChat(ctx, wecom.UpdateAppChatRequest{ChatID: chatID, Name: "oncall-2", AddUserList: []string{"wangwu"}, DelUserList: []string{"lisi"}}))
	chat := must(c.GetAppChat(ctx, chatID))(t)
	slices.Sort(chat.UserList)
	if chat.Name != "oncall-2" || chat.Owner != "zhangsan" || !slices.Equal(chat.UserList, []string{"wangwu", "zhangsan"}) {
		t.Fatalf("get: %+v", chat)
	}
	ok(t, c.SendAppChat(ctx, wecom.AppChatMessage{ChatID: chatID, Text: &wecom.Text{Content: "hello"}}))
	ok(t, c.SendAppChat(ctx, wecom.AppChatMessage{ChatID: chatID, Markdown: &wecom.Markdown{Content: "**bold**"}}))
	ok(t, c.SendAppChat(ctx, wecom.AppChatMessage{ChatID: chatID, TextCard: &wecom.TextCard{Title: "t", Description: "d", URL: "https://example.com"}}))
	if n := len(env.srv.ChatMessages(chatID)); n != 3 {
		t.Fatalf("%d messages in the chat, want 3", n)
	}
	generated := must(c.CreateAppChat(ctx, wecom.CreateAppChatRequest{UserList: []string{"zhangsan", "lisi"}}))(t)
	if generated == "" {
		t.Fatal("no chatid for a chat created without one")
	}

	err := func() error {
		_, err := c.CreateAppChat(ctx, wecom.CreateAppChatRequest{UserList: []string{"zhangsan", "lisi"}, ChatID: "oncall01"})
		return err
	}()
	wantCode(t, err, 86215, "appchat/create")
	if !wecom.IsAlreadyExists(err) {
		t.Fatal("duplicate chatid is not IsAlreadyExists")
	}
	for _, err := range []error{
		func() error { _, err := c.GetAppChat(ctx, "nochat"); return err }(),
		c.SendAppChat(ctx, wecom.AppChatMessage{ChatID: "nochat", Text: &wecom.Text{Content: "x"}}),
		c.UpdateAppChat(ctx, wecom.UpdateAppChatRequest{ChatID: "nochat", Name: "x"}),
	} {
		if !wecom.IsNotFound(err) {
			t.Errorf("unknown chat: %v is not IsNotFound", err)
		}
	}
	err = func() error {
		_, err := c.CreateAppChat(ctx, wecom.CreateAppChatRequest{UserList: []string{"zhangsan"}})
		return err
	}()
	wantCode(t, err, 86006, "appchat/create") // fewer than 2 members
	_, err = env.limited(t).GetAppChat(ctx, chatID)
	wantCode(t, err, 48002, "appchat/get") // no root visibility
	if !wecom.IsCredential(err) {
		t.Fatal("48002 is a credential/permission problem")
	}
}

func TestSimContactWays(t *testing.T) {
	env := newSim(t)
	c := env.app(t)
	ctx := context.Background()

	res := must(c.AddContactWay(ctx, wecom.AddContactWayRequest{Type: wecom.ContactWaySingle, Scene: wecom.ContactWaySceneQRCode,
		Remark: "渠道客户", SkipVerify: wecom.Ptr(false), State: "crd-abc", User: []string{"zhangsan"}}))(t)
	if res.ConfigID == "" || res.QRCode == "" {
		t.Fatalf("add: %+v", res)
	}
	multi := must(c.AddContactWay(ctx, wecom.AddContactWayRequest{Type: wecom.ContactWayMulti, Scene: wecom.ContactWaySceneButton, Style: 1,
		User: []string{"lisi"}, Party: []int{3}}))(t)
	if multi.QRCode != "" {
		t.Fatalf("scene 1 returned a qr_code: %+v", multi)
	}
	w := must(c.GetContactWay(ctx, res.ConfigID))(t)
	if w.ConfigID != res.ConfigID || w.Type != 1 || w.Scene != 2 || w.SkipVerify || w.State != "crd-abc" || !slices.Equal(w.User, []string{"zhangsan"}) {
		t.Fatalf("get: %+v", w)
	}
	ok(t, c.UpdateContactWay(ctx, wecom.UpdateContactWayRequest{ConfigID: res.ConfigID, Remark: wecom.Ptr("新备注"), User: []string{"lisi"}}))
	w = must(c.GetContactWay(ctx, res.ConfigID))(t)
	if w.Remark != "新备注" || !slices.Equal(w.User, []string{"lisi"}) || w.State != "crd-abc" || w.SkipVerify {
		t.Fatalf("after update: %+v", w)
	}
	page := must(c.ListContactWays(ctx, wecom.ListContactWayRequest{Limit: 1}))(t)
	ids := page.ConfigIDs
	for page.NextCursor != "" {
		page = must(c.ListContactWays(ctx, wecom.ListContactWayRequest{Limit: 1, Cursor: page.NextCursor}))(t)
		ids = append(ids, page.ConfigIDs...)
	}
	slices.Sort(ids)
	want := []string{res.ConfigID, multi.ConfigID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("list: %v, want %v", ids, want)
	}
	ok(t, c.DeleteContactWay(ctx, res.ConfigID))
	for _, err := range []error{
		func() error { _, err := c.GetContactWay(ctx, res.ConfigID); return err }(),
		c.DeleteContactWay(ctx, res.ConfigID),
		c.UpdateContactWay(ctx, wecom.UpdateContactWayRequest{ConfigID: res.ConfigID, Remark: wecom.Ptr("x")}),
	} {
		var ae *wecom.APIError
		if !errors.As(err, &ae) || ae.Code != 41044 || !wecom.IsNotFound(err) {
			t.Errorf("deleted way: %v; want 41044, IsNotFound", err)
		}
	}

	err := func() error {
		_, err := c.AddContactWay(ctx, wecom.AddContactWayRequest{Scene: 2, User: []string{"zhangsan"}})
		return err
	}()
	wantCode(t, err, 41037, "externalcontact/add_contact_way")
	_, err = env.limited(t).AddContactWay(ctx, wecom.AddContactWayRequest{Type: 1, Scene: 2, User: []string{"wangwu"}})
	wantCode(t, err, 48002, "externalcontact/add_contact_way")

	// A member who never logged in cannot be a contact way's member (41054, terminal).
	ok(t, env.srv.SetUserActive("wangwu", false))
	_, err = c.AddContactWay(ctx, wecom.AddContactWayRequest{Type: 1, Scene: 2, User: []string{"wangwu"}})
	wantCode(t, err, 41054, "externalcontact/add_contact_way")
	if !wecom.IsTerminal(err) || !strings.Contains(wecom.Hint(err), "log in") {
		t.Fatalf("41054: terminal=%v hint=%q", wecom.IsTerminal(err), wecom.Hint(err))
	}
}

func TestSimCalendarsAndSchedules(t *testing.T) {
	env := newSim(t)
	c := env.app(t)
	ctx := context.Background()

	cal := must(c.AddCalendar(ctx, wecom.Calendar{Summary: "On-call", Color: "#FF3030", Description: "rota",
		Admins: []string{"zhangsan"}, Shares: []wecom.CalendarShare{{UserID: "zhangsan"}, {UserID: "lisi", Permission: 1}, {UserID: "nobody"}}}))(t)
	if cal.CalID == "" {
		t.Fatalf("add: %+v", cal)
	}
	if cal.FailResult == nil || !slices.ContainsFunc(cal.FailResult.Shares, func(f wecom.ShareFailure) bool { return f.UserID == "nobody" }) {
		t.Fatalf("an unknown share should be reported in fail_result, got %+v", cal.FailResult)
	}
	cals := must(c.GetCalendars(ctx, []string{cal.CalID}))(t)
	if len(cals) != 1 || cals[0].Summary != "On-call" || cals[0].Color != "#FF3030" || !slices.Equal(cals[0].Admins, []string{"zhangsan"}) {
		t.Fatalf("get: %+v", cals)
	}
	_ = must(c.UpdateCalendar(ctx, wecom.Calendar{CalID: cal.CalID, Summary: "On-call 2", Color: "#00FF00", Admins: []string{"zhangsan"},
		Shares: []wecom.CalendarShare{{UserID: "zhangsan"}}}, false))(t)
	if cals = must(c.GetCalendars(ctx, []string{cal.CalID}))(t); cals[0].Summary != "On-call 2" || cals[0].Description != "" {
		t.Fatalf("update overwrites (description cleared): %+v", cals[0])
	}
	_, err := c.AddCalendar(ctx, wecom.Calendar{Summary: "x", Color: "red"})
	wantCode(t, err, 90473, "oa/calendar/add")

	start := simStart.Add(24 * time.Hour).Unix()
	sid := must(c.AddSchedule(ctx, wecom.Schedule{StartTime: start, EndTime: start + 3600, Summary: "review", Location: "10F",
		CalID: cal.CalID, Attendees: []wecom.Attendee{{UserID: "lisi"}},
		Reminders: &wecom.Reminders{IsRemind: 1, RemindTimeDiffs: []int{-3600}, IsRepeat: 1, RepeatType: wecom.Ptr(1)}}))(t)
	ss := must(c.GetSchedules(ctx, []string{sid}))(t)
	if len(ss) != 1 || ss[0].Summary != "review" || ss[0].CalID != cal.CalID || ss[0].Reminders == nil || !slices.Equal(ss[0].Reminders.RemindTimeDiffs, []int{-3600}) ||
		ss[0].Reminders.RepeatType == nil || *ss[0].Reminders.RepeatType != 1 || ss[0].Cancelled() {
		t.Fatalf("get schedule: %+v", ss)
	}
	newID := must(c.UpdateSchedule(ctx, wecom.UpdateScheduleRequest{Schedule: wecom.Schedule{ScheduleID: sid, StartTime: start, EndTime: start + 7200,
		Summary: "review (long)", Attendees: []wecom.Attendee{{UserID: "lisi"}, {UserID: "wangwu"}}}}))(t)
	if newID != sid {
		t.Fatalf("updating all occurrences changed the id: %q → %q", sid, newID)
	}
	ss = must(c.GetSchedules(ctx, []string{sid}))(t)
	if ss[0].Summary != "review (long)" || ss[0].EndTime != start+7200 || len(ss[0].Attendees) != 2 {
		t.Fatalf("after update: %+v", ss[0])
	}
	ok(t, c.DeleteSchedule(ctx, wecom.DeleteScheduleRequest{ScheduleID: sid}))
	// §6: cancelled schedules are still returned, with status 1.
	if ss = must(c.GetSchedules(ctx, []string{sid}))(t); len(ss) != 1 || !ss[0].Cancelled() {
		t.Fatalf("after del: %+v", ss)
	}
	err = c.DeleteSchedule(ctx, wecom.DeleteScheduleRequest{ScheduleID: sid})
	if !wecom.IsNotFound(err) && err != nil {
		t.Fatalf("deleting a cancelled schedule: %v; want success or IsNotFound", err)
	}
	_, err = c.GetSchedules(ctx, []string{"nosuchschedule"})
	if !wecom.IsNotFound(err) {
		t.Fatalf("unknown schedule id: %v; want IsNotFound", err)
	}

	ok(t, c.DeleteCalendar(ctx, cal.CalID))
	_, err = c.GetCalendars(ctx, []string{cal.CalID})
	if !wecom.IsNotFound(err) {
		t.Fatalf("get deleted calendar: %v; want IsNotFound", err)
	}
	// Calendars belong to the app that made them.
	other := must(c.AddCalendar(ctx, wecom.Calendar{Summary: "mine", Color: "#000000"}))(t)
	err = env.limited(t).DeleteCalendar(ctx, other.CalID)
	if code := wecom.Code(err); code != 90466 && code != 90457 {
		t.Fatalf("another app's calendar: %v", err)
	}
}

func TestSimMessages(t *testing.T) {
	env := newSim(t)
	c := env.app(t)
	ctx := context.Background()
	agent := int(env.creds.AgentID)

	res := must(c.SendMessage(ctx, wecom.Message{ToUser: []string{"lisi", "NoSuchUser"}, AgentID: agent, Text: &wecom.Text{Content: "CPU > 90%"}}))(t)
	if res.MsgID == "" || !slices.Equal(res.InvalidUser, []string{"nosuchuser"}) {
		t.Fatalf("send: %+v (invalid userids come back lower-cased)", res)
	}
	if inbox := env.srv.Inbox("lisi"); len(inbox) != 1 || inbox[0].MsgID != res.MsgID {
		t.Fatalf("lisi's inbox: %+v", inbox)
	}
	_ = must(c.SendMessage(ctx, wecom.Message{ToParty: []string{"3"}, ToTag: []string{"1"}, AgentID: agent, Markdown: &wecom.Markdown{Content: "**x**"}}))(t)
	_ = must(c.SendMessage(ctx, wecom.Message{ToUser: []string{"zhangsan"}, AgentID: agent, TextCard: &wecom.TextCard{Title: "t", Description: "d", URL: "https://example.com"}}))(t)
	_ = must(c.SendMessage(ctx, wecom.Message{ToUser: []string{"zhangsan"}, AgentID: agent, News: &wecom.News{Articles: []wecom.Article{{Title: "n", URL: "https://example.com"}}}}))(t)
	_ = must(c.SendMessage(ctx, wecom.Message{ToUser: []string{"zhangsan"}, AgentID: agent, TemplateCard: &wecom.TemplateCard{
		CardType: wecom.CardTypeTextNotice, MainTitle: &wecom.CardTitle{Title: "Deploy done", Desc: "prod"},
		HorizontalContentList: []wecom.CardHorizontal{{KeyName: "version", Value: "v1.2.3"}},
		CardAction:            &wecom.CardAction{Type: 1, URL: "https://example.com/deploy"},
	}}))(t)
	_ = must(c.SendMessage(ctx, wecom.Message{ToUser: []string{"zhangsan"}, AgentID: agent, TemplateCard: &wecom.TemplateCard{
		CardType: wecom.CardTypeNewsNotice, MainTitle: &wecom.CardTitle{Title: "News"},
		CardImage:  &wecom.CardImage{URL: "https://example.com/a.png", AspectRatio: 1.5},
		CardAction: &wecom.CardAction{Type: 1, URL: "https://example.com"},
	}}))(t)

	// enable_duplicate_check makes a retried send safe: the second is not delivered.
	dup := wecom.Message{ToUser: []string{"wangwu"}, AgentID: agent, Text: &wecom.Text{Content: "once"}, EnableDuplicateCheck: 1, DuplicateCheckInterval: 600}
	first := must(c.SendMessage(ctx, dup))(t)
	second := must(c.SendMessage(ctx, dup))(t)
	if n := len(env.srv.Inbox("wangwu")); n != 2 { // the markdown via party 3 + one "once"
		t.Errorf("wangwu received %d messages, want 2 (duplicate suppressed); msgids %s %s", n, first.MsgID, second.MsgID)
	}

	ok(t, c.RecallMessage(ctx, res.MsgID))

	_, err := c.SendMessage(ctx, wecom.Message{ToUser: []string{"ghost1", "ghost2"}, AgentID: agent, Text: &wecom.Text{Content: "x"}})
	wantCode(t, err, 81013, "message/send")
	if !wecom.IsTerminal(err) || !strings.Contains(wecom.Hint(err), "recipients") {
		t.Fatalf("81013: terminal=%v hint=%q", wecom.IsTerminal(err), wecom.Hint(err))
	}
	_, err = c.SendMessage(ctx, wecom.Message{ToUser: []string{"lisi"}, AgentID: int(env.creds.LimitedAgentID), Text: &wecom.Text{Content: "x"}})
	wantCode(t, err, 301002, "message/send")
	if !wecom.IsCredential(err) {
		t.Fatal("301002 (agentid of another app) is a connection problem")
	}
	_, err = c.SendMessage(ctx, wecom.Message{ToUser: []string{"lisi"}, AgentID: agent, Text: &wecom.Text{Content: ""}})
	wantCode(t, err, 44004, "message/send")

	// The limited app sees department 3 only: zhangsan is invalid for it, wangwu valid.
	lres := must(env.limited(t).SendMessage(ctx, wecom.Message{ToUser: []string{"zhangsan", "wangwu"}, AgentID: int(env.creds.LimitedAgentID), Text: &wecom.Text{Content: "x"}}))(t)
	if !slices.Equal(lres.InvalidUser, []string{"zhangsan"}) {
		t.Fatalf("limited app: %+v", lres)
	}

	// Recall window: 24 h.
	env.srv.Advance(25 * time.Hour)
	err = c.RecallMessage(ctx, first.MsgID)
	wantCode(t, err, 42052, "message/recall")
}

func TestSimWebhook(t *testing.T) {
	env := newSim(t)
	w, err := wecom.NewWebhookClient(wecom.WebhookConfig{BaseURL: env.srv.URL, Retry: wecom.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond},
		Limiters: wecom.NewLimiters(wecom.LimitersOptions{Default: wecom.RateLimit{PerSecond: -1}, Endpoint: map[string]wecom.RateLimit{}})})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ok(t, w.Send(ctx, env.creds.RobotKey, wecom.WebhookMessage{Text: &wecom.Text{Content: "部署完成", MentionedList: []string{"lisi"}}}))
	ok(t, w.Send(ctx, env.creds.RobotKey, wecom.WebhookMessage{Markdown: &wecom.Markdown{Content: "# done"}}))
	ok(t, w.Send(ctx, env.creds.RobotKey, wecom.WebhookMessage{MarkdownV2: &wecom.Markdown{Content: "| a | b |\n| - | - |\n| 1 | 2 |"}}))
	ok(t, w.Send(ctx, env.creds.RobotKey, wecom.WebhookMessage{News: &wecom.News{Articles: []wecom.Article{{Title: "t", URL: "https://example.com"}}}}))
	ok(t, w.Send(ctx, env.creds.RobotKey, wecom.WebhookMessage{TemplateCard: &wecom.TemplateCard{CardType: wecom.CardTypeTextNotice,
		MainTitle: &wecom.CardTitle{Title: "t"}, CardAction: &wecom.CardAction{Type: 1, URL: "https://example.com"}}}))
	if n := len(env.srv.RobotMessages("alert-bot")); n != 5 {
		t.Fatalf("robot got %d messages, want 5", n)
	}
	const badKey = "11111111-2222-3333-4444-555555555555"
	err = w.Send(ctx, badKey, wecom.WebhookMessage{Text: &wecom.Text{Content: "x"}})
	ae := wantCode(t, err, 93000, "webhook/send")
	if !wecom.IsCredential(err) || strings.Contains(err.Error(), badKey) || strings.Contains(ae.Message, badKey) {
		t.Fatalf("bad key: %v", err)
	}

	// WeCom allows 20 messages per robot per minute; the default client limit keeps under it
	// and tells the caller to come back later instead of getting 45009.
	limited, _ := wecom.NewWebhookClient(wecom.WebhookConfig{BaseURL: env.srv.URL,
		Limiters: wecom.NewLimiters(wecom.LimitersOptions{MaxWait: time.Millisecond})})
	env.srv.Advance(time.Minute)
	var sent, refused int
	for range 30 {
		err := limited.Send(ctx, env.creds.RobotKey, wecom.WebhookMessage{Text: &wecom.Text{Content: "burst"}})
		switch {
		case err == nil:
			sent++
		case wecom.IsRateLimited(err) && wecom.Code(err) == 0:
			refused++
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if sent == 0 || sent > 20 || refused == 0 {
		t.Fatalf("sent %d, refused %d", sent, refused)
	}
}

func TestSimCredentials(t *testing.T) {
	env := newSim(t, func(_ *wecomsim.Options, seed *wecomsim.Seed) {
		seed.Apps = append(seed.Apps,
			wecomsim.App{Name: "fenced", Secret: "FencedSecret000000000000000000000000000000d", AgentID: 1000004, VisibleRoot: true, TrustedIPs: []string{"10.9.9.9"}},
			wecomsim.App{Name: "off", Secret: "DisabledSecret00000000000000000000000000000e", AgentID: 1000005, Disabled: true})
	})
	ctx := context.Background()
	ok(t, env.app(t).CheckCredentials(ctx))

	for _, tc := range []struct {
		name   string
		c      *wecom.Client
		code   int
		api    string
		hint   string
		secret string
	}{
		{"wrong secret", env.client(t, "WrongSecret0000000000000000000000000000000z"), 40001, "gettoken", "secret", "WrongSecret"},
		{"disabled app", env.client(t, "DisabledSecret00000000000000000000000000000e"), 40001, "gettoken", "secret", "DisabledSecret"},
		{"wrong corp", env.client(t, env.creds.AppSecret, func(c *wecom.Config) { c.CorpID = "wwnosuchcorp" }), 40013, "gettoken", "corp ID", env.creds.AppSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.CheckCredentials(ctx)
			wantCode(t, err, tc.code, tc.api)
			if !wecom.IsCredential(err) || wecom.IsRetryable(err) || wecom.IsTerminal(err) || !strings.Contains(wecom.Hint(err), tc.hint) {
				t.Fatalf("classification of %v: credential=%v hint=%q", err, wecom.IsCredential(err), wecom.Hint(err))
			}
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), tc.secret) {
				t.Fatalf("secret in error: %v", err)
			}
		})
	}

	// 60020 shows on the first real call, not on gettoken.
	fenced := env.client(t, "FencedSecret000000000000000000000000000000d")
	_, err := fenced.GetUser(ctx, "lisi")
	if wecom.Code(err) != 60020 {
		t.Fatalf("untrusted IP: %v", err)
	}
	if !wecom.IsCredential(err) || !strings.Contains(wecom.Hint(err), "trusted IP") {
		t.Fatalf("60020: credential=%v hint=%q", wecom.IsCredential(err), wecom.Hint(err))
	}
}

func TestSimTokenExpiryAndRevocation(t *testing.T) {
	env := newSim(t)
	ctx := context.Background()

	t.Run("expiry noticed by the client's clock", func(t *testing.T) {
		before := env.srv.GetTokenCount()
		c := env.app(t) // reads the simulator clock
		_ = must(c.GetUser(ctx, "lisi"))(t)
		env.srv.Advance(7201 * time.Second)
		_ = must(c.GetUser(ctx, "lisi"))(t)
		if n := env.srv.GetTokenCount() - before; n != 2 {
			t.Fatalf("%d gettoken calls, want 2", n)
		}
		for _, call := range env.srv.CallsTo("user/get")[len(env.srv.CallsTo("user/get"))-1:] {
			if call.ErrCode != 0 {
				t.Fatalf("the client sent an expired token: %+v", call)
			}
		}
	})
	t.Run("expiry the client did not foresee: 42001, refetch, retry once", func(t *testing.T) {
		c := env.client(t, env.creds.AppSecret, func(c *wecom.Config) { c.Now = time.Now }) // clock unaware of Advance
		_ = must(c.GetUser(ctx, "lisi"))(t)
		before := env.srv.GetTokenCount()
		env.srv.Advance(7201 * time.Second)
		var info wecom.CallInfo
		_ = must(c.GetUser(wecom.WithCallInfo(ctx, &info), "lisi"))(t)
		if !info.TokenRefreshed || env.srv.GetTokenCount()-before != 1 {
			t.Fatalf("info %+v, %d fetches", info, env.srv.GetTokenCount()-before)
		}
		calls := env.srv.CallsTo("user/get")
		if last2 := calls[len(calls)-2:]; last2[0].ErrCode != 42001 || last2[1].ErrCode != 0 {
			t.Fatalf("want 42001 then 0, got %d then %d", last2[0].ErrCode, last2[1].ErrCode)
		}
	})
	t.Run("refresh ahead of expiry, four hours of calls", func(t *testing.T) {
		env := newSim(t) // a fresh simulator: count only this client's fetches
		tokens := wecom.NewTokenCache(wecom.TokenCacheOptions{})
		c := env.client(t, env.creds.AppSecret, func(c *wecom.Config) { c.Tokens = tokens })
		for minute := 0; minute <= 240; minute++ {
			_ = must(c.GetUser(ctx, "lisi"))(t)
			tokens.Settle() // a background refresh reaches the simulator before the clock moves on
			env.srv.Advance(time.Minute)
		}
		// The simulator, like WeCom (§1), returns the same token while it is valid, so each
		// 2-hour lifetime costs its first fetch and one early refresh: at 0, 96, 120, 216 and
		// 240 minutes.
		if n := env.srv.GetTokenCount(); n != 5 {
			t.Fatalf("%d gettoken calls in 4 hours, want 5", n)
		}
		for _, call := range env.srv.CallsTo("user/get") {
			if call.ErrCode != 0 {
				t.Fatalf("a call failed (expired token?): %+v", call)
			}
		}
	})
	t.Run("revocation mid-run under concurrency", func(t *testing.T) {
		c := env.app(t)
		_ = must(c.GetUser(ctx, "lisi"))(t)
		before := env.srv.GetTokenCount()
		env.srv.RevokeTokens()
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				if _, err := c.GetUser(ctx, "lisi"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := env.srv.GetTokenCount() - before; n != 1 {
			t.Fatalf("%d gettoken calls after revocation, want 1", n)
		}
	})
}

func TestSimFaults(t *testing.T) {
	ctx := context.Background()

	t.Run("-1 on every call: retried, then given up", func(t *testing.T) {
		env := newSim(t)
		c := env.app(t)
		ok(t, c.CheckCredentials(ctx))
		env.srv.SetFaults(wecomsim.Faults{Endpoints: []string{"user/get"}, ErrorRate: 1})
		_, err := c.GetUser(ctx, "lisi")
		var ce *wecom.CallError
		if !errors.As(err, &ce) || ce.Attempts != 3 || wecom.Code(err) != -1 || !wecom.IsRetryable(err) {
			t.Fatalf("err = %v", err)
		}
		if n := env.srv.CallCount("user/get"); n != 3 {
			t.Fatalf("%d calls, want 3", n)
		}
	})
	t.Run("intermittent -1 and 5xx: retried to success", func(t *testing.T) {
		env := newSim(t)
		c := env.client(t, env.creds.AppSecret, func(c *wecom.Config) {
			c.Retry = wecom.RetryPolicy{MaxAttempts: 12, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
		})
		env.srv.SetFaults(wecomsim.Faults{Endpoints: []string{"user/get", "gettoken"}, ErrorRate: 0.3, HTTP5xxRate: 0.3})
		for range 20 {
			if _, err := c.GetUser(ctx, "lisi"); err != nil {
				t.Fatalf("with 12 attempts: %v", err)
			}
		}
	})
	t.Run("HTTP 5xx on every call", func(t *testing.T) {
		env := newSim(t)
		c := env.app(t)
		ok(t, c.CheckCredentials(ctx))
		env.srv.SetFaults(wecomsim.Faults{Endpoints: []string{"department/get"}, HTTP5xxRate: 1})
		_, err := c.GetDepartment(ctx, 2)
		var te *wecom.TransportError
		if !errors.As(err, &te) || te.StatusCode < 500 || !wecom.IsRetryable(err) || wecom.IsAmbiguous(err) {
			t.Fatalf("err = %v; want retryable 5xx, not ambiguous (a read)", err)
		}
	})
	t.Run("dropped connections and a down server", func(t *testing.T) {
		env := newSim(t)
		c := env.app(t)
		ok(t, c.CheckCredentials(ctx))
		env.srv.SetFaults(wecomsim.Faults{Endpoints: []string{"message/send"}, DropRate: 1})
		_, err := c.SendMessage(ctx, wecom.Message{ToUser: []string{"lisi"}, AgentID: int(env.creds.AgentID), Text: &wecom.Text{Content: "x"}})
		var te *wecom.TransportError
		if !errors.As(err, &te) || !te.Network() || !wecom.IsRetryable(err) || !wecom.IsAmbiguous(err) {
			t.Fatalf("err = %v; want a retryable network error flagged ambiguous (a write)", err)
		}
		assertNoSecrets(t, err, env)
		env.srv.ClearFaults()
		env.srv.SetDown(true)
		_, err = env.contacts(t).GetUser(ctx, "lisi") // needs a token: gettoken fails too
		if !errors.As(err, &te) || !te.Network() || !wecom.IsRetryable(err) {
			t.Fatalf("down: %v", err)
		}
		assertNoSecrets(t, err, env)
		env.srv.SetDown(false)
		_ = must(env.contacts(t).GetUser(ctx, "lisi"))(t)
	})
	t.Run("lost reply on a create with a chosen key", func(t *testing.T) {
		env := newSim(t)
		c := env.contacts(t)
		ok(t, c.CheckCredentials(ctx))
		env.srv.SetFaults(wecomsim.Faults{Endpoints: []string{"department/create"}, LostReplyRate: 1})
		_, err := c.CreateDepartment(ctx, wecom.CreateDepartmentRequest{Name: "Lost", ParentID: 1, ID: 40})
		env.srv.ClearFaults()
		if !wecom.IsAmbiguous(err) {
			t.Fatalf("err = %v; want ambiguous", err)
		}
		// With every reply lost the client gives up, but the department exists; a controller
		// observes before creating again.
		if d := must(c.GetDepartment(ctx, 40))(t); d.Name != "Lost" {
			t.Fatalf("%+v", d)
		}
		// Only the first reply lost: the retry reports "already exists", flagged ambiguous.
		// The simulator's fault applies to every matching call, so this one loses the reply
		// on the client side: the request reaches the simulator, its answer is thrown away.
		c2 := env.client(t, env.creds.ContactsSecret, func(cfg *wecom.Config) {
			cfg.HTTPClient = &http.Client{Transport: &loseFirstReply{path: "/cgi-bin/user/create"}}
		})
		_, err = c2.CreateUser(ctx, wecom.CreateUserRequest{UserID: "lost1", Name: "L", Email: "lost1@example.com"})
		if !wecom.IsAlreadyExists(err) || !wecom.IsAmbiguous(err) {
			t.Fatalf("err = %v; want already-exists flagged ambiguous", err)
		}
		if calls := env.srv.CallsTo("user/create"); len(calls) != 2 || calls[0].ErrCode != 0 || calls[1].ErrCode != 60102 {
			t.Fatalf("simulator saw %+v", calls)
		}
	})
	t.Run("lost reply on a create without a key is not repeated, and the caller is told", func(t *testing.T) {
		env := newSim(t)
		c := env.app(t)
		ok(t, c.CheckCredentials(ctx))
		env.srv.SetFaults(wecomsim.Faults{Endpoints: []string{"externalcontact/add_contact_way"}, LostReplyRate: 0.999})
		var info wecom.CallInfo
		_, err := c.AddContactWay(wecom.WithCallInfo(ctx, &info), wecom.AddContactWayRequest{Type: 1, Scene: 2, User: []string{"zhangsan"}, State: "dup-test"})
		if err == nil || !wecom.IsAmbiguous(err) || info.Attempts != 1 || !info.Ambiguous {
			t.Fatalf("err = %v, info %+v", err, info)
		}
		// A repeat would have made a second way: the client stops after one ambiguous
		// attempt and leaves recovery (find the way by its state) to the caller.
		if n := len(env.srv.State().ContactWays); n != 1 {
			t.Fatalf("%d contact ways exist after a lost reply; want exactly 1", n)
		}
		// A -1 reply is not ambiguous (WeCom answered, nothing was applied): still retried.
		env.srv.SetFaults(wecomsim.Faults{Endpoints: []string{"externalcontact/add_contact_way"}, ErrorRate: 0.5})
		info = wecom.CallInfo{}
		_, err = c.AddContactWay(wecom.WithCallInfo(ctx, &info), wecom.AddContactWayRequest{Type: 1, Scene: 2, User: []string{"zhangsan"}, State: "busy-test"})
		env.srv.ClearFaults()
		if err != nil && !wecom.IsRetryable(err) {
			t.Fatalf("err = %v", err)
		}
		if info.Ambiguous {
			t.Fatalf("a -1 reply was counted as ambiguous: %+v", info)
		}
	})
	t.Run("45009: rate limited, retried until the context ends", func(t *testing.T) {
		env := newSim(t)
		c := env.client(t, env.creds.AppSecret, func(cfg *wecom.Config) {
			cfg.Retry = wecom.RetryPolicy{MaxAttempts: 1000, BaseDelay: 5 * time.Millisecond, MaxDelay: 10 * time.Millisecond}
		})
		ok(t, c.CheckCredentials(ctx))
		env.srv.BlockEndpoint("message/send", time.Minute)
		tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := c.SendMessage(tctx, wecom.Message{ToUser: []string{"lisi"}, AgentID: int(env.creds.AgentID), Text: &wecom.Text{Content: "x"}})
		if wecom.Code(err) != 45009 || !wecom.IsRateLimited(err) || !wecom.IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		// Whether the result is also flagged ambiguous depends on timing: if the deadline cut
		// a request in flight, that request may have been applied.
		env.srv.Advance(61 * time.Second)
		_ = must(c.SendMessage(ctx, wecom.Message{ToUser: []string{"lisi"}, AgentID: int(env.creds.AgentID), Text: &wecom.Text{Content: "x"}}))(t)
	})
}

func TestSimConcurrency(t *testing.T) {
	env := newSim(t)
	cache := wecom.NewTokenCache(wecom.TokenCacheOptions{})
	contacts := env.client(t, env.creds.ContactsSecret, func(c *wecom.Config) { c.Tokens = cache })
	app := env.client(t, env.creds.AppSecret, func(c *wecom.Config) { c.Tokens = cache })
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			id := 100 + i
			if _, err := contacts.CreateDepartment(ctx, wecom.CreateDepartmentRequest{Name: fmt.Sprintf("D%d", i), ParentID: 1, ID: id}); err != nil {
				t.Error(err)
				return
			}
			uid := fmt.Sprintf("user%d", i)
			if _, err := contacts.CreateUser(ctx, wecom.CreateUserRequest{UserID: uid, Name: uid, Email: uid + "@example.com", Department: []int{id}}); err != nil {
				t.Error(err)
				return
			}
			if _, err := app.SendMessage(ctx, wecom.Message{ToUser: []string{uid}, AgentID: int(env.creds.AgentID), Text: &wecom.Text{Content: "hi"}}); err != nil {
				t.Error(err)
			}
			if u, err := app.GetUser(ctx, uid); err != nil || u.Department[0] != id {
				t.Errorf("get %s: %v %+v", uid, err, u)
			}
		})
	}
	wg.Wait()
	// Two apps, one token each, however many goroutines.
	if n := env.srv.GetTokenCount(); n != 2 {
		t.Fatalf("%d gettoken calls, want 2", n)
	}
}

// loseFirstReply sends requests on, but throws away the reply to the first request to path,
// as a connection reset after WeCom applied the write would.
type loseFirstReply struct {
	path string
	mu   sync.Mutex
	lost bool
}

func (l *loseFirstReply) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && r.URL.Path == l.path && !l.lost {
		l.lost = true
		_ = resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}

// assertNoSecrets checks that no credential of the demo corp appears in err.
func assertNoSecrets(t *testing.T, err error, env simEnv) {
	t.Helper()
	s := fmt.Sprintf("%v|%+v|%#v", err, err, err)
	var ue *url.Error
	if errors.As(err, &ue) {
		s += "|" + ue.URL
	}
	for _, secret := range []string{env.creds.AppSecret, env.creds.ContactsSecret, env.creds.RobotKey, "access_token=", "corpsecret="} {
		if strings.Contains(s, secret) {
			t.Fatalf("error contains %q: %s", secret, s)
		}
	}
}
