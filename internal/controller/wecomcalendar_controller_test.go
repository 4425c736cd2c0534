package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

func TestCalendarDrift(t *testing.T) {
	spec := func(mutate func(*v1.WeComCalendarSpec)) *v1.WeComCalendar {
		c := &v1.WeComCalendar{Spec: v1.WeComCalendarSpec{Summary: "On-call", Color: "#FF3030", Description: "rota",
			Admins: []string{"lisi"}, Shares: []v1.CalendarShare{{UserID: "lisi"}, {UserID: "wangwu", Permission: v1.CalendarFreeBusy}}}}
		if mutate != nil {
			mutate(&c.Spec)
		}
		return c
	}
	got := wecom.Calendar{Summary: "On-call", Color: "#ff3030", Description: "rota", Admins: []string{"LiSi"},
		Shares: []wecom.CalendarShare{{UserID: "WangWu", Permission: 3}, {UserID: "lisi"}}}
	for _, c := range []struct {
		name   string
		obj    *v1.WeComCalendar
		got    func(*wecom.Calendar)
		fields []string
	}{
		{"same (colour and userids without case, shares in any order, permission 1 by default)", spec(nil), nil, nil},
		{"summary", spec(func(s *v1.WeComCalendarSpec) { s.Summary = "Team" }), nil, []string{"summary"}},
		{"colour", spec(func(s *v1.WeComCalendarSpec) { s.Color = "#00AA00" }), nil, []string{"color"}},
		{"description cleared", spec(func(s *v1.WeComCalendarSpec) { s.Description = "" }), nil, []string{"description"}},
		{"a share's permission", spec(func(s *v1.WeComCalendarSpec) { s.Shares[1].Permission = v1.CalendarView }), nil, []string{"shares"}},
		{"a share added by hand", spec(nil), func(g *wecom.Calendar) { g.Shares = append(g.Shares, wecom.CalendarShare{UserID: "x"}) }, []string{"shares"}},
		{"admins", spec(func(s *v1.WeComCalendarSpec) { s.Admins = []string{"wangwu"} }), nil, []string{"admins"}},
		{"public range compared only for public calendars", spec(func(s *v1.WeComCalendarSpec) {
			s.Public, s.PublicRange = true, &v1.CalendarPublicRange{UserIDs: []string{"lisi"}, DepartmentIDs: []int64{2}}
		}), func(g *wecom.Calendar) { g.PublicRange = &wecom.PublicRange{UserIDs: []string{"LISI"}} }, []string{"publicRange.departmentIDs"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := got
			g.Shares = append([]wecom.CalendarShare(nil), got.Shares...)
			if c.got != nil {
				c.got(&g)
			}
			var fields []string
			for _, f := range calendarDrift(&g, desiredCalendar(c.obj)) {
				fields = append(fields, f.Field)
			}
			if diff := cmp.Diff(c.fields, fields); diff != "" {
				t.Fatalf("drifted fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDesiredCalendar(t *testing.T) {
	obj := &v1.WeComCalendar{Spec: v1.WeComCalendarSpec{Summary: "s", Color: "#000000", SetAsDefault: true, Public: true,
		Shares:      []v1.CalendarShare{{UserID: "a"}, {UserID: "b", Permission: v1.CalendarFreeBusy}, {UserID: "c", Permission: v1.CalendarView}},
		PublicRange: &v1.CalendarPublicRange{UserIDs: []string{"a"}, DepartmentIDs: []int64{2, 3}}}}
	obj.Status.CalendarID = "wcX"
	want := wecom.Calendar{CalID: "wcX", Summary: "s", Color: "#000000", SetAsDefault: 1, IsPublic: 1,
		Shares:      []wecom.CalendarShare{{UserID: "a", Permission: 1}, {UserID: "b", Permission: 3}, {UserID: "c", Permission: 1}},
		PublicRange: &wecom.PublicRange{UserIDs: []string{"a"}, PartyIDs: []int{2, 3}}}
	if diff := cmp.Diff(want, desiredCalendar(obj)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
