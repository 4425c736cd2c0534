package importer

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

func TestSpecMenu(t *testing.T) {
	view := wecom.MenuButton{Type: "view", Name: "Docs", URL: "https://example.com"}
	for _, tc := range []struct {
		name    string
		menu    []wecom.MenuButton
		want    []v1.MenuButton
		wantErr string
	}{
		{name: "every type", menu: []wecom.MenuButton{
			{Type: "click", Name: "今日", Key: "K1"},
			{Name: "更多", SubButtons: []wecom.MenuButton{view, {Type: "view_miniprogram", Name: "小程序", AppID: "wx1", PagePath: "pages/index"}, {Type: "location_select", Name: "Where", Key: "LOC"}}},
			view,
		}, want: []v1.MenuButton{
			{Type: v1.MenuClick, Name: "今日", Key: "K1"},
			{Name: "更多", SubButtons: []v1.MenuSubButton{{Type: v1.MenuView, Name: "Docs", URL: "https://example.com"},
				{Type: v1.MenuViewMiniProgram, Name: "小程序", AppID: "wx1", PagePath: "pages/index"}, {Type: v1.MenuLocationSelect, Name: "Where", Key: "LOC"}}},
			{Type: v1.MenuView, Name: "Docs", URL: "https://example.com"},
		}},
		{name: "four buttons", menu: []wecom.MenuButton{view, view, view, view}, wantErr: "4 buttons"},
		{name: "top-level name over 16 bytes", menu: []wecom.MenuButton{{Type: "click", Name: "六个汉字名字", Key: "K"}}, wantErr: "not 1-16 bytes"},
		{name: "sub-button name of 40 bytes", menu: []wecom.MenuButton{{Name: "x", SubButtons: []wecom.MenuButton{{Type: "click", Name: strings.Repeat("n", 40), Key: "K"}}}},
			want: []v1.MenuButton{{Name: "x", SubButtons: []v1.MenuSubButton{{Type: v1.MenuClick, Name: strings.Repeat("n", 40), Key: "K"}}}}},
		{name: "click without key", menu: []wecom.MenuButton{{Type: "click", Name: "x"}}, wantErr: "key"},
		{name: "view with a key", menu: []wecom.MenuButton{{Type: "view", Name: "x", URL: "https://e.com", Key: "K"}}, wantErr: "key"},
		{name: "view without http", menu: []wecom.MenuButton{{Type: "view", Name: "x", URL: "ftp://e.com"}}, wantErr: "url"},
		{name: "mini program without pagepath", menu: []wecom.MenuButton{{Type: "view_miniprogram", Name: "x", AppID: "wx1"}}, wantErr: "appid"},
		{name: "unknown type", menu: []wecom.MenuButton{{Type: "media_id", Name: "x"}}, wantErr: "type"},
		{name: "sub-menu with a type", menu: []wecom.MenuButton{{Type: "click", Key: "K", Name: "x", SubButtons: []wecom.MenuButton{view}}}, wantErr: "sub-buttons and a type"},
		{name: "six sub-buttons", menu: []wecom.MenuButton{{Name: "x", SubButtons: []wecom.MenuButton{view, view, view, view, view, view}}}, wantErr: "6 sub-buttons"},
		{name: "three levels", menu: []wecom.MenuButton{{Name: "x", SubButtons: []wecom.MenuButton{{Name: "y", SubButtons: []wecom.MenuButton{view}}}}}, wantErr: "third level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := specMenu(tc.menu)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A tag or an app setting the CRD cannot hold is left out with a warning, never cut: a cut
// tag would show drift, and a managed one would lose members.
func TestTagsAndAppOutsideTheSpec(t *testing.T) {
	many := make([]wecom.TagUser, v1.MaxTagUsers+1)
	for i := range many {
		many[i].UserID = "u" + itoa(int64(i))
	}
	parties := make([]int, v1.MaxTagDepartments+1)
	for i := range parties {
		parties[i] = i + 2
	}
	snap := &Snapshot{
		Tags: []TagSnapshot{
			{ID: 0, Tag: wecom.Tag{Name: "zero"}},
			{ID: 2, Tag: wecom.Tag{Name: strings.Repeat("名", 33)}},
			{ID: 3, Tag: wecom.Tag{Name: "crowd", UserList: many}},
			{ID: 4, Tag: wecom.Tag{Name: "wide", PartyList: parties}},
			{ID: 5, Tag: wecom.Tag{Name: "Empty"}},
			{ID: 6, Tag: wecom.Tag{Name: "twice", UserList: []wecom.TagUser{{UserID: "Bob"}, {UserID: "alice"}, {UserID: "bob"}}, PartyList: []int{9, 3, 9}}},
		},
		App: &AppSnapshot{AgentID: 1000009, Agent: wecom.Agent{Name: "审批", Description: "短", HomeURL: "ops.example.com", ReportLocationFlag: 1},
			Menu: []wecom.MenuButton{{Type: "click", Name: "x"}}},
	}
	m := Build(snap, BuildOptions{TagConnection: "contacts", AppConnection: "app", Manage: true})
	var names []string
	for _, tg := range m.Tags {
		names = append(names, tg.Name)
	}
	if diff := cmp.Diff([]string{"tag-5-empty", "tag-6-twice"}, names); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	twice := m.Tags[1].Spec
	if diff := cmp.Diff([]v1.TagUser{{UserID: "alice"}, {UserID: "Bob"}}, twice.Users); diff != "" {
		t.Errorf("users deduplicated without case and sorted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]v1.TagDepartment{{ID: ptr(int64(3))}, {ID: ptr(int64(9))}}, twice.Departments); diff != "" {
		t.Errorf("departments (-want +got):\n%s", diff)
	}
	if twice.ManagementPolicies != nil || twice.DeletionPolicy != "" {
		t.Errorf("--manage writes no policies: %+v", twice.DeletableSpec)
	}
	app := m.Apps[0]
	if app.Name != "app-1000009" || app.Spec.Description != nil || app.Spec.HomeURL != nil || app.Spec.Menu != nil ||
		*app.Spec.Name != "审批" || !*app.Spec.ReportLocation || *app.Spec.ReportEnter {
		t.Errorf("app %s %+v", app.Name, app.Spec)
	}
	for _, w := range []string{"tag 0 (\"zero\"): not a valid tag id", "tag 2 (", "tag 3 (\"crowd\"): 1001 members", "tag 4 (\"wide\"): 101 departments",
		"app 1000009: description \"短\"", "app 1000009: homeURL", "app 1000009: the menu"} {
		found := false
		for _, got := range m.Warnings {
			found = found || strings.Contains(got, w)
		}
		if !found {
			t.Errorf("no warning %q in %q", w, m.Warnings)
		}
	}
}

// A calendar named with --calendar becomes a WeComCalendar bound by its cal_id, and its
// Schedules name it in calendarRef; one the spec cannot hold is left out with a warning and
// its Schedules keep spec.calendarID. The connection's own calendar is never an object.
func TestCalendars(t *testing.T) {
	const team, rel, corpCal, odd = "calTEAM", "calREL", "calCORP", "calODD"
	sched := func(id, cal string, pinned bool) CalendarSchedule {
		return CalendarSchedule{Calendar: Calendar{ID: cal, Pinned: pinned},
			Schedule: wecom.Schedule{ScheduleID: id, Summary: id, CalID: cal, StartTime: 1800000000, EndTime: 1800003600}}
	}
	snap := &Snapshot{
		Users: []wecom.User{{UserID: "zhangsan", Name: "张三", Mobile: "13800000001", Department: []int{1}}},
		Calendars: []wecom.Calendar{
			{CalID: rel, Summary: "Releases 发布", Color: "#1e90ff", Description: "Release trains",
				Shares: []wecom.CalendarShare{{UserID: "Wang.Wu2", Permission: 1}, {UserID: "lisi", Permission: 3}, {UserID: "zhangsan"},
					{UserID: "LISI", Permission: 1}, {UserID: "bob", Permission: 2}},
				Admins: []string{"ZhangSan", "carol", "lisi"}},
			{CalID: "calPUB", Summary: "All hands", Color: "#000000", IsPublic: 1,
				PublicRange: &wecom.PublicRange{UserIDs: []string{"b", "A", "a"}, PartyIDs: []int{9, 2, 9}}},
			{CalID: "calPUB2", Summary: "Open", Color: "#FFFFFF", IsPublic: 1},
			{CalID: corpCal, Summary: "Corp", Color: "#000000", IsCorpCalendar: 1},
			{CalID: odd, Summary: "Odd", Color: "red"},
		},
		Schedules: []CalendarSchedule{sched("s1", team, false), sched("s2", rel, true), sched("s3", corpCal, true), sched("s4", odd, true)},
	}
	m := Build(snap, BuildOptions{Connection: "contacts", AppConnection: "app"})
	cals := map[string]v1.WeComCalendar{}
	for _, c := range m.Calendars {
		cals[c.Annotations[v1.AnnotationExternalName]] = c
		if c.Name != CalendarName(c.Annotations[v1.AnnotationExternalName], c.Spec.Summary) {
			t.Errorf("%s: not named after its summary and cal_id", c.Name)
		}
		if c.Spec.ConnectionRef.Name != "app" || !slices.Equal(c.Spec.ManagementPolicies, []v1.ManagementPolicy{v1.ManagementObserve}) ||
			c.Spec.DeletionPolicy != v1.DeletionOrphan || c.Kind != "WeComCalendar" {
			t.Errorf("%s: %s %+v", c.Name, c.Kind, c.Spec.DeletableSpec)
		}
	}
	if diff := cmp.Diff([]string{"calPUB", "calPUB2", rel}, sortedStrings(mapKeys(cals))); diff != "" {
		t.Fatalf("calendars (-want +got):\n%s", diff)
	}
	want := v1.WeComCalendarSpec{
		DeletableSpec: cals[rel].Spec.DeletableSpec, Summary: "Releases 发布", Color: "#1e90ff", Description: "Release trains",
		// Sorted without case, the first spelling of a repeated userid kept; bob's permission 2
		// is not one the spec has.
		Shares: []v1.CalendarShare{{UserID: "lisi", Permission: v1.CalendarFreeBusy}, {UserID: "Wang.Wu2", Permission: v1.CalendarView},
			{UserID: "zhangsan", Permission: v1.CalendarView}},
		// Spelt as among the shares; carol is not one.
		Admins: []string{"lisi", "zhangsan"},
	}
	if diff := cmp.Diff(want, cals[rel].Spec); diff != "" {
		t.Errorf("releases (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&v1.CalendarPublicRange{UserIDs: []string{"A", "b"}, DepartmentIDs: []int64{2, 9}}, cals["calPUB"].Spec.PublicRange); diff != "" || !cals["calPUB"].Spec.Public {
		t.Errorf("public range (-want +got):\n%s", diff)
	}
	if pub := cals["calPUB2"].Spec; !pub.Public || pub.PublicRange == nil {
		t.Errorf("a public calendar without a range still has publicRange (CEL needs it): %+v", pub)
	}

	refs := map[string]string{}
	for _, s := range m.Schedules {
		switch {
		case s.Spec.CalendarRef != nil && s.Spec.CalendarID == "":
			refs[s.Spec.Summary] = "ref " + s.Spec.CalendarRef.Name
		case s.Spec.CalendarRef == nil:
			refs[s.Spec.Summary] = "id " + s.Spec.CalendarID
		default:
			t.Errorf("%s: both calendarRef and calendarID", s.Name)
		}
	}
	if diff := cmp.Diff(map[string]string{"s1": "id ", "s2": "ref " + cals[rel].Name, "s3": "id " + corpCal, "s4": "id " + odd}, refs); diff != "" {
		t.Errorf("schedules' calendars (-want +got):\n%s", diff)
	}
	for _, w := range []string{`calendar calREL ("Releases 发布"): share "bob" has permission 2`, `calendar calREL ("Releases 发布"): admin "carol" is not among the shares`,
		`calendar calCORP ("Corp"): a corp calendar`, `calendar calODD ("Odd"): color "red" is not #RRGGBB`} {
		if !slices.ContainsFunc(m.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning %q in %q", w, m.Warnings)
		}
	}

	// --manage: no policies.
	m = Build(snap, BuildOptions{AppConnection: "app", Manage: true})
	if c := m.Calendars[0].Spec; c.ManagementPolicies != nil || c.DeletionPolicy != "" {
		t.Errorf("--manage writes no policies: %+v", c.DeletableSpec)
	}
}
