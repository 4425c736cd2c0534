package importer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// corp is a simulated corp with a little of everything an import meets.
type corp struct {
	sim                    *wecomsim.Server
	calendar, chatID       string
	releases, train        string // a calendar named with --calendar, and its schedule
	single, multi, noState string // config ids
	weekly                 string // schedule id
	releaseTag             int    // a tag the app created
	menu                   []wecom.MenuButton
}

func newCorp(t *testing.T) *corp {
	t.Helper()
	seed, _ := wecomsim.DemoSeed()
	seed.Departments = append(seed.Departments,
		wecomsim.Department{ID: 10, Name: "平台组", NameEn: "Platform", ParentID: 2, Order: 7},
		wecomsim.Department{ID: 11, Name: "值班", ParentID: 10, Order: 4294967295},
	)
	seed.Users = append(seed.Users,
		wecomsim.User{UserID: "Wang.Wu2", Name: "王五二", Email: "wangwu2@example.com", Alias: "Five", Telephone: "010-1234",
			BizMail: "ww2@corp.example.com", Position: "SRE", Department: []int64{11, 10}, Order: []uint32{3, 9},
			IsLeaderInDept: []int{1, 0}, DirectLeader: []string{"zhangsan"}, Disabled: true},
		wecomsim.User{UserID: "ops_bot", Name: "Ops Bot", Mobile: "+86 138-0000-0009", Department: []int64{10}},
		// Nothing the spec could hold as a contact: left out with a warning.
		wecomsim.User{UserID: "ghost", Name: "Ghost", BizMail: "ghost@corp.example.com", Department: []int64{4}},
	)
	// Besides the demo's "oncall" (lisi, department 3): a tag made in the admin console.
	seed.Tags = append(seed.Tags, wecomsim.Tag{ID: 7, Name: "值班", Users: []string{"lisi", "Wang.Wu2"}, Parties: []int64{11}})
	c := &corp{sim: wecomsim.NewServer(t, wecomsim.Options{Seed: &seed})}
	ctx := context.Background()
	app, err := wecom.New(wecom.Config{BaseURL: c.sim.URL, CorpID: wecomsim.DemoCorpID, Secret: wecomsim.DemoAppSecret,
		Tokens: wecom.NewTokenCache(wecom.TokenCacheOptions{}), Limiters: wecom.NewLimiters(wecom.LimitersOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	cal, err := app.AddCalendar(ctx, wecom.Calendar{Summary: "Team calendar", Color: "#FF0000"})
	if err != nil {
		t.Fatal(err)
	}
	c.calendar = cal.CalID
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour).Unix()
	c.weekly, err = app.AddSchedule(ctx, wecom.Schedule{
		Summary: "Weekly sync", Description: "周会", Location: "Room 1", StartTime: start, EndTime: start + 3600, CalID: c.calendar,
		Attendees: []wecom.Attendee{{UserID: "lisi"}, {UserID: "zhangsan"}}, Admins: []string{"zhangsan"},
		Reminders: &wecom.Reminders{IsRemind: 1, RemindTimeDiffs: []int{-900, 0}, IsRepeat: 1, RepeatType: ptr(wecom.RepeatWeekly),
			IsCustomRepeat: 1, RepeatInterval: 2, RepeatDayOfWeek: []int{3, 1}, Timezone: ptr(8)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := app.AddCalendar(ctx, wecom.Calendar{Summary: "Releases 发布", Color: "#1e90ff", Description: "Release trains",
		Shares: []wecom.CalendarShare{{UserID: "zhangsan", Permission: 1}, {UserID: "lisi", Permission: 3}, {UserID: "Wang.Wu2"}}, Admins: []string{"zhangsan"}})
	if err != nil {
		t.Fatal(err)
	}
	c.releases = rel.CalID
	if c.train, err = app.AddSchedule(ctx, wecom.Schedule{Summary: "Release train", StartTime: start, EndTime: start + 1800, CalID: c.releases,
		Attendees: []wecom.Attendee{{UserID: "zhangsan"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.AddSchedule(ctx, wecom.Schedule{Summary: "Offsite", StartTime: start, EndTime: start + 86400, IsWholeDay: 1, CalID: c.calendar,
		Reminders: &wecom.Reminders{Timezone: ptr(0)}}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		id  *string
		req wecom.AddContactWayRequest
	}{
		{&c.single, wecom.AddContactWayRequest{Type: wecom.ContactWaySingle, Scene: wecom.ContactWaySceneQRCode, State: "spring", Remark: "Spring", User: []string{"lisi"}, SkipVerify: ptr(false)}},
		{&c.multi, wecom.AddContactWayRequest{Type: wecom.ContactWayMulti, Scene: wecom.ContactWaySceneButton, Style: 2, State: "support", User: []string{"zhangsan", "lisi"}, Party: []int{4, 3}, IsExclusive: true}},
		{&c.noState, wecom.AddContactWayRequest{Type: wecom.ContactWaySingle, Scene: wecom.ContactWaySceneQRCode, User: []string{"zhangsan"}}},
	} {
		res, err := app.AddContactWay(ctx, w.req)
		if err != nil {
			t.Fatal(err)
		}
		*w.id = res.ConfigID
	}
	// A tag the app made, with a member who is not imported (ghost) and the root department.
	if c.releaseTag, err = app.CreateTag(ctx, "Release 发布", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := app.AddTagUsers(ctx, c.releaseTag, []string{"zhangsan", "ghost", "Wang.Wu2"}, []int{10, 1}); err != nil {
		t.Fatal(err)
	}
	if err := app.SetAgent(ctx, wecomsim.DemoAgentID, wecom.AgentSettings{Description: ptr("运维助手 for on-call"), HomeURL: ptr("https://ops.example.com/home"),
		RedirectDomain: ptr("ops.example.com"), ReportEnter: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	c.menu = []wecom.MenuButton{
		{Type: "click", Name: "Today", Key: "TODAY"},
		{Name: "更多", SubButtons: []wecom.MenuButton{{Type: "view", Name: "Runbook", URL: "https://ops.example.com/runbook"}, {Type: "scancode_push", Name: "扫码", Key: "SCAN"}}},
	}
	if err := app.CreateMenu(ctx, wecomsim.DemoAgentID, c.menu); err != nil {
		t.Fatal(err)
	}
	c.chatID = "importchat01"
	if _, err := app.CreateAppChat(ctx, wecom.CreateAppChatRequest{ChatID: c.chatID, Name: "Incidents", Owner: "lisi", UserList: []string{"zhangsan", "lisi", "wangwu"}}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *corp) config(dir string) Config {
	return Config{
		Org:       &Source{Credentials: Credentials{APIURL: c.sim.URL, CorpID: wecomsim.DemoCorpID, Secret: wecomsim.DemoContactsSecret}, Connection: "contacts"},
		App:       &Source{Credentials: Credentials{APIURL: c.sim.URL, CorpID: wecomsim.DemoCorpID, Secret: wecomsim.DemoAppSecret}, Connection: "app", AgentID: wecomsim.DemoAgentID},
		Namespace: "team-a", Calendars: []Calendar{{ID: c.calendar}, {ID: c.releases, Pinned: true}}, ChatIDs: []string{c.chatID, "nosuchchat"},
		OutputDir: dir, QPS: 1000, Burst: 100,
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestImportIsStableAndWritesNothingToWeCom(t *testing.T) {
	c := newCorp(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "import")
	since := len(c.sim.Calls())
	var progress bytes.Buffer
	cfg := c.config(dir)
	cfg.Progress = NewProgress(&progress, false)
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range c.sim.Calls()[since:] {
		for _, w := range []string{"create", "update", "delete", "add", "del", "send"} {
			if strings.Contains(strings.TrimPrefix(call.Endpoint, "/cgi-bin/"), w) && !strings.HasSuffix(call.Endpoint, "list_contact_way") && !strings.HasSuffix(call.Endpoint, "get_contact_way") {
				t.Errorf("the import wrote to WeCom: %s", call.Endpoint)
			}
		}
	}
	if got := rep.Calls["user/get"]; got != rep.Members || rep.Members != 7 {
		t.Errorf("user/get %d for %d members, want one each of 7", got, rep.Members)
	}
	for endpoint, want := range map[string]int{"tag/list": 1, "tag/get": 3, "agent/get": 1, "menu/get": 1, "oa/calendar/get": 1, "oa/schedule/get_by_calendar": 2} {
		if got := rep.Calls[endpoint]; got != want {
			t.Errorf("%s: %d calls, want %d", endpoint, got, want)
		}
	}
	if rep.TotalCalls() != len(c.sim.Calls())-since {
		t.Errorf("counted %d calls, the simulator logged %d", rep.TotalCalls(), len(c.sim.Calls())-since)
	}
	first := readDir(t, dir)
	if want := []string{FileAppChats, FileApps, FileCalendars, FileContactWays, FileDepartments, FileKustomization, FileSchedules, FileTags, FileUsers}; !slices.Equal(sortedStrings(mapKeys(first)), want) {
		t.Errorf("files %v, want %v", sortedStrings(mapKeys(first)), want)
	}
	if !strings.Contains(progress.String(), "members: 7 members in") || !strings.Contains(progress.String(), "tags: 3 tags with 10 members and departments in") ||
		!strings.Contains(progress.String(), `app: app 1000002 "operator", a menu of 2 buttons in`) ||
		!strings.Contains(progress.String(), "schedules: 3 schedules in 2 calendars in") || !strings.Contains(progress.String(), "calendars: 1 of 1 calendar named with --calendar in") {
		t.Errorf("progress:\n%s", progress.String())
	}

	// A second run over the unchanged corp changes no byte.
	rep2, err := Run(ctx, c.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range rep2.Changes {
		if ch.Change != Unchanged {
			t.Errorf("second run: %s %s", ch.Name, ch.Change)
		}
	}
	second := readDir(t, dir)
	for name, b := range first {
		if !bytes.Equal(b, second[name]) {
			t.Errorf("%s changed on the second run", name)
		}
	}

	// Every document is a valid object with a DNS-1123 name, sorted by name.
	for _, file := range kindFiles {
		var names []string
		for _, doc := range strings.Split(string(first[file]), "---\n")[1:] {
			for _, line := range strings.Split(doc, "\n") {
				if n, ok := strings.CutPrefix(line, "  name: "); ok && strings.Contains(doc, "metadata:\n") && strings.Index(doc, line) < strings.Index(doc, "spec:") {
					names = append(names, n)
				}
			}
		}
		if !slices.IsSorted(names) {
			t.Errorf("%s: not sorted by name: %v", file, names)
		}
		for _, n := range names {
			if len(validation.IsDNS1123Label(n)) > 0 {
				t.Errorf("%s: invalid name %q", file, n)
			}
		}
	}

	// Dry run: reads, reports, writes nothing.
	dry := filepath.Join(t.TempDir(), "dry")
	cfg = c.config(dry)
	cfg.DryRun = true
	rep3, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dry); !os.IsNotExist(err) {
		t.Errorf("a dry run made %s", dry)
	}
	var out bytes.Buffer
	rep3.Print(&out)
	if !strings.Contains(out.String(), "would write") || !strings.Contains(out.String(), "users.yaml") ||
		!regexp.MustCompile(`tags\.yaml +3 WeComTag +new`).MatchString(out.String()) || !regexp.MustCompile(`apps\.yaml +1 WeComApp +new`).MatchString(out.String()) ||
		!regexp.MustCompile(`calendars\.yaml +1 WeComCalendar +new`).MatchString(out.String()) || !strings.Contains(out.String(), "oa/calendar/get 1") {
		t.Errorf("dry-run summary:\n%s", out.String())
	}

	// A later import without the app's kinds removes their files, and keeps other files.
	if err := os.WriteFile(filepath.Join(dir, "patch.yaml"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = c.config(dir)
	cfg.App, cfg.Calendars, cfg.ChatIDs = nil, nil, nil
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	after := readDir(t, dir)
	if _, ok := after[FileContactWays]; ok {
		t.Error("contactways.yaml of the earlier import is still there")
	}
	if _, ok := after[FileApps]; ok {
		t.Error("apps.yaml of the earlier import is still there")
	}
	if _, ok := after[FileCalendars]; ok {
		t.Error("calendars.yaml of the earlier import is still there")
	}
	if !bytes.Equal(after[FileTags], first[FileTags]) {
		t.Error("the contacts-sync secret reads the same tags as before")
	}
	if string(after["patch.yaml"]) != "mine\n" {
		t.Error("a file the import does not own was touched")
	}
	if strings.Contains(string(after[FileKustomization]), FileContactWays) {
		t.Errorf("kustomization.yaml lists a removed file:\n%s", after[FileKustomization])
	}
}

func sortedStrings(s []string) []string { slices.Sort(s); return s }

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestImportedObjects(t *testing.T) {
	c := newCorp(t)
	rep, err := Run(context.Background(), c.config(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Manifests
	observe := []v1.ManagementPolicy{v1.ManagementObserve}
	depts := map[string]v1.WeComDepartment{}
	for _, d := range m.Departments {
		depts[d.Name] = d
		if !slices.Equal(d.Spec.ManagementPolicies, observe) || d.Spec.DeletionPolicy != v1.DeletionOrphan || d.Spec.ConnectionRef.Name != "contacts" {
			t.Errorf("%s: policies %v deletion %q connection %q", d.Name, d.Spec.ManagementPolicies, d.Spec.DeletionPolicy, d.Spec.ConnectionRef.Name)
		}
		if d.Annotations[v1.AnnotationExternalName] != itoa(*d.Spec.ID) {
			t.Errorf("%s: external name %q, id %d", d.Name, d.Annotations[v1.AnnotationExternalName], *d.Spec.ID)
		}
	}
	if len(depts) != 5 {
		t.Fatalf("departments %v, want the 5 below the root", mapKeys(depts))
	}
	if d := depts["dept-2-engineering"]; d.Spec.ParentRef != nil || d.Spec.ParentID != nil {
		t.Error("a child of the root has a parent")
	}
	plat := depts["dept-10-platform"]
	if plat.Spec.Name != "平台组" || plat.Spec.NameEn != "Platform" || plat.Spec.ParentRef.Name != "dept-2-engineering" || *plat.Spec.Order != 7 {
		t.Errorf("platform %+v", plat.Spec)
	}
	if d := depts["dept-11"]; d.Spec.ParentRef.Name != "dept-10-platform" || *d.Spec.Order != 4294967295 {
		t.Errorf("on-call %+v", d.Spec)
	}
	if !strings.Contains(string(rep.Files[FileDepartments]), "order: 4294967295\n") {
		t.Error("a large order is not written as an integer")
	}

	users := map[string]v1.WeComUser{}
	for _, u := range m.Users {
		users[u.Spec.UserID] = u
	}
	if _, ok := users["ghost"]; ok || len(users) != 6 {
		t.Errorf("users %v: want 6, without ghost (no mobile or email)", mapKeys(users))
	}
	ww := users["Wang.Wu2"]
	if ww.Name != UserName("Wang.Wu2") || ww.Annotations[v1.AnnotationExternalName] != "Wang.Wu2" {
		t.Errorf("Wang.Wu2: name %q annotations %v", ww.Name, ww.Annotations)
	}
	s := ww.Spec
	if s.Alias != "Five" || s.Telephone != "010-1234" || s.BizMail != "ww2@corp.example.com" || s.Position != "SRE" ||
		s.Email != "wangwu2@example.com" || *s.Enabled || s.Gender != v1.GenderUnspecified || !slices.Equal(s.DirectLeaders, []string{"zhangsan"}) {
		t.Errorf("Wang.Wu2 fields %+v", s)
	}
	want := []v1.UserDepartment{
		{Ref: &v1.LocalObjectReference{Name: "dept-11"}, Order: 3, Leader: true},
		{Ref: &v1.LocalObjectReference{Name: "dept-10-platform"}, Order: 9},
	}
	if len(s.Departments) != 2 || *s.Departments[0].Ref != *want[0].Ref || s.Departments[0].Order != 3 || !s.Departments[0].Leader ||
		*s.Departments[1].Ref != *want[1].Ref || s.Departments[1].Order != 9 || s.Departments[1].Leader {
		t.Errorf("Wang.Wu2 departments %+v", s.Departments)
	}
	if ww.Labels[LabelMainDepartment] != "dept-11" {
		t.Errorf("main department label %v", ww.Labels)
	}
	zs := users["zhangsan"].Spec
	if zs.Departments[0].ID == nil || *zs.Departments[0].ID != 1 || !zs.Departments[1].Leader || zs.Gender != v1.GenderMale {
		t.Errorf("zhangsan %+v", zs)
	}
	if users["ops_bot"].Spec.Mobile != "+86 138-0000-0009" {
		t.Errorf("ops_bot mobile %q", users["ops_bot"].Spec.Mobile)
	}

	ways := map[string]v1.ContactWay{}
	for _, w := range m.ContactWays {
		ways[w.Annotations[v1.AnnotationExternalName]] = w
		if w.Spec.ConnectionRef.Name != "app" {
			t.Errorf("%s: connection %q", w.Name, w.Spec.ConnectionRef.Name)
		}
	}
	if w := ways[c.single].Spec; w.Type != v1.ContactWaySingle || w.Scene != v1.ContactWayQRCode || w.State != "spring" || w.Remark != "Spring" ||
		*w.SkipVerify || !slices.Equal(w.Users, []string{"lisi"}) || w.Style != nil {
		t.Errorf("single way %+v", w)
	}
	if w := ways[c.multi].Spec; w.Type != v1.ContactWayMulti || w.Scene != v1.ContactWayMiniProgram || *w.Style != 2 || !w.Exclusive ||
		!slices.Equal(w.Parties, []int64{3, 4}) || !slices.Equal(w.Users, []string{"lisi", "zhangsan"}) {
		t.Errorf("multi way %+v", w)
	}
	if _, ok := ways[c.noState]; !ok {
		t.Error("a way without state is still imported")
	}

	// The calendar named with --calendar; the connection's own calendar is not an object.
	if len(m.Calendars) != 1 {
		t.Fatalf("calendars %d, want the one named with --calendar", len(m.Calendars))
	}
	cal := m.Calendars[0]
	if cal.Name != CalendarName(c.releases, "Releases 发布") || !strings.HasPrefix(cal.Name, "calendar-releases-") || cal.Annotations[v1.AnnotationExternalName] != c.releases {
		t.Errorf("calendar %s %v", cal.Name, cal.Annotations)
	}
	wantCal := v1.WeComCalendarSpec{
		DeletableSpec: v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: "app"}, ManagementPolicies: observe}, DeletionPolicy: v1.DeletionOrphan},
		Summary:       "Releases 发布", Color: "#1e90ff", Description: "Release trains",
		Shares: []v1.CalendarShare{{UserID: "lisi", Permission: v1.CalendarFreeBusy}, {UserID: "Wang.Wu2", Permission: v1.CalendarView},
			{UserID: "zhangsan", Permission: v1.CalendarView}},
		Admins: []string{"zhangsan"},
	}
	if diff := cmp.Diff(wantCal, cal.Spec); diff != "" {
		t.Errorf("calendar (-want +got):\n%s", diff)
	}

	if len(m.Schedules) != 3 {
		t.Fatalf("schedules %d", len(m.Schedules))
	}
	for _, sc := range m.Schedules {
		if sc.Spec.CalendarID != "" {
			t.Errorf("%s: a calendar id is written to the spec", sc.Name)
		}
		if ref := sc.Spec.CalendarRef; (ref != nil) != (sc.Spec.Summary == "Release train") || (ref != nil && ref.Name != cal.Name) {
			t.Errorf("%s: calendarRef %v", sc.Name, ref)
		}
		switch sc.Spec.Summary {
		case "Release train":
			if sc.Annotations[v1.AnnotationExternalName] != c.train {
				t.Errorf("release train external name %v", sc.Annotations)
			}
		case "Weekly sync":
			sp := sc.Spec
			if sp.Description != "周会" || sp.Location != "Room 1" || !slices.Equal(sp.Attendees, []string{"lisi", "zhangsan"}) || !slices.Equal(sp.Admins, []string{"zhangsan"}) ||
				!slices.Equal(sp.Reminders.Before, []v1.RemindBefore{"15m", "0s"}) || *sp.Reminders.Timezone != 8 ||
				sp.Repeat.Type != v1.RepeatWeekly || *sp.Repeat.Interval != 2 || !slices.Equal(sp.Repeat.DaysOfWeek, []int32{1, 3}) ||
				sp.End.Sub(sp.Start.Time) != time.Hour {
				t.Errorf("weekly %+v reminders %+v repeat %+v", sp, sp.Reminders, sp.Repeat)
			}
			if sc.Annotations[v1.AnnotationExternalName] != c.weekly {
				t.Errorf("weekly external name %v", sc.Annotations)
			}
		case "Offsite":
			if !sc.Spec.WholeDay || sc.Spec.Reminders == nil || *sc.Spec.Reminders.Timezone != 0 || sc.Spec.Repeat != nil {
				t.Errorf("offsite %+v", sc.Spec)
			}
		default:
			t.Errorf("unexpected schedule %q", sc.Spec.Summary)
		}
	}

	if len(m.AppChats) != 1 {
		t.Fatalf("chats %d", len(m.AppChats))
	}
	if ch := m.AppChats[0]; ch.Name != "chat-importchat01" || ch.Spec.ChatID != c.chatID || ch.Spec.Name != "Incidents" || ch.Spec.Owner != "lisi" ||
		!slices.Equal(ch.Spec.Members, []string{"lisi", "wangwu", "zhangsan"}) || !slices.Equal(ch.Spec.ManagementPolicies, observe) {
		t.Errorf("chat %+v", ch)
	}

	tags := map[string]v1.WeComTag{}
	for _, tg := range m.Tags {
		tags[tg.Name] = tg
		if !slices.Equal(tg.Spec.ManagementPolicies, observe) || tg.Spec.DeletionPolicy != v1.DeletionOrphan || tg.Spec.ConnectionRef.Name != "contacts" {
			t.Errorf("%s: policies %v deletion %q connection %q", tg.Name, tg.Spec.ManagementPolicies, tg.Spec.DeletionPolicy, tg.Spec.ConnectionRef.Name)
		}
		if tg.Annotations[v1.AnnotationExternalName] != itoa(*tg.Spec.ID) {
			t.Errorf("%s: external name %q, id %d", tg.Name, tg.Annotations[v1.AnnotationExternalName], *tg.Spec.ID)
		}
	}
	ref := func(name string) v1.TagUser { return v1.TagUser{Ref: &v1.LocalObjectReference{Name: name}} }
	deptRef := func(name string) v1.TagDepartment { return v1.TagDepartment{Ref: &v1.LocalObjectReference{Name: name}} }
	release := TagName(c.releaseTag, "Release 发布")
	for name, want := range map[string]v1.WeComTagSpec{
		"tag-1-oncall": {Name: "oncall", ID: ptr(int64(1)), Users: []v1.TagUser{ref("user-lisi")}, Departments: []v1.TagDepartment{deptRef("dept-3-sre")}},
		"tag-7":        {Name: "值班", ID: ptr(int64(7)), Users: []v1.TagUser{ref("user-lisi"), ref(UserName("Wang.Wu2"))}, Departments: []v1.TagDepartment{deptRef("dept-11")}},
		// ghost is not imported: a userid, sorted among the others by userid; the root by id.
		release: {Name: "Release 发布", ID: ptr(int64(c.releaseTag)), Users: []v1.TagUser{{UserID: "ghost"}, ref(UserName("Wang.Wu2")), ref("user-zhangsan")},
			Departments: []v1.TagDepartment{{ID: ptr(int64(1))}, deptRef("dept-10-platform")}},
	} {
		got, ok := tags[name]
		if !ok {
			t.Errorf("no tag %s among %v", name, mapKeys(tags))
			continue
		}
		want.DeletableSpec = got.Spec.DeletableSpec
		if diff := cmp.Diff(want, got.Spec); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if release != "tag-8-release" || len(tags) != 3 {
		t.Errorf("tags %v, release %s", mapKeys(tags), release)
	}

	if len(m.Apps) != 1 {
		t.Fatalf("apps %d", len(m.Apps))
	}
	a := m.Apps[0]
	if a.Name != "app-1000002-operator" || a.Annotations[v1.AnnotationExternalName] != "1000002" || a.Spec.ConnectionRef.Name != "app" ||
		!slices.Equal(a.Spec.ManagementPolicies, observe) {
		t.Errorf("app %s %v %+v", a.Name, a.Annotations, a.Spec.ManagedSpec)
	}
	wantApp := v1.WeComAppSpec{
		ManagedSpec: a.Spec.ManagedSpec, Name: ptr("operator"), Description: ptr("运维助手 for on-call"), HomeURL: ptr("https://ops.example.com/home"),
		RedirectDomain: ptr("ops.example.com"), ReportLocation: ptr(false), ReportEnter: ptr(true),
		Menu: &v1.AppMenu{Buttons: []v1.MenuButton{
			{Type: v1.MenuClick, Name: "Today", Key: "TODAY"},
			{Name: "更多", SubButtons: []v1.MenuSubButton{{Type: v1.MenuView, Name: "Runbook", URL: "https://ops.example.com/runbook"}, {Type: v1.MenuScanCodePush, Name: "扫码", Key: "SCAN"}}},
		}},
	}
	if diff := cmp.Diff(wantApp, a.Spec); diff != "" {
		t.Errorf("app (-want +got):\n%s", diff)
	}

	for _, w := range []string{`member "ghost": WeCom shows neither a mobile nor an email`, `app chat "nosuchchat" not found`, "contact way " + c.noState + " has no state"} {
		if !slices.ContainsFunc(m.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning %q in %q", w, m.Warnings)
		}
	}
}

func TestImportManage(t *testing.T) {
	c := newCorp(t)
	cfg := c.config(t.TempDir())
	cfg.Manage = true
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range rep.Files {
		if strings.Contains(string(b), "managementPolicies") || strings.Contains(string(b), "deletionPolicy") {
			t.Errorf("%s: a managed import writes no policies", name)
		}
	}
	if !strings.Contains(string(rep.Files[FileUsers]), "wecom.dev/external-name: zhangsan") {
		t.Error("a managed import still binds by external name")
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), "fully managed") {
		t.Errorf("summary:\n%s", out.String())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
