package scaletest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

func TestLevels(t *testing.T) {
	for _, tc := range []struct{ n, l1, l2, l3 int }{
		{200, 8, 48, 144}, {20, 1, 4, 15}, {1, 1, 0, 0}, {0, 0, 0, 0},
	} {
		l1, l2, l3 := Levels(tc.n)
		if l1 != tc.l1 || l2 != tc.l2 || l3 != tc.l3 || l1+l2+l3 != tc.n {
			t.Errorf("Levels(%d) = %d, %d, %d; want %d, %d, %d", tc.n, l1, l2, l3, tc.l1, tc.l2, tc.l3)
		}
	}
}

func TestIsWrite(t *testing.T) {
	for ep, want := range map[string]bool{
		"user/create": true, "/cgi-bin/user/update": true, "user/delete": true, "department/delete": true,
		"externalcontact/add_contact_way": true, "externalcontact/del_contact_way": true,
		"externalcontact/update_contact_way": true, "oa/schedule/add": true, "message/send": true,
		"appchat/send": true, "webhook/send": true,
		"tag/addtagusers": true, "tag/deltagusers": true, "externalcontact/edit_corp_tag": true,
		"externalcontact/group_welcome_template/edit": true, "agent/set": true, "menu/create": true,
		"tag/get": false, "tag/list": false, "agent/get": false, "menu/get": false, "oa/calendar/get": false,
		"externalcontact/get_corp_tag_list": false, "externalcontact/group_welcome_template/get": false,
		"gettoken": false, "user/get": false, "user/list_id": false, "department/list": false,
		"externalcontact/get_contact_way": false, "externalcontact/list_contact_way": false,
		"oa/schedule/get": false, "appchat/get": false,
	} {
		if got := IsWrite(ep); got != want {
			t.Errorf("IsWrite(%q) = %v, want %v", ep, got, want)
		}
	}
}

// wecomOf builds the snapshot WeCom would hold once f converged.
func wecomOf(f Fleet) wecomsim.Snapshot {
	snap := wecomsim.Snapshot{Corp: wecomsim.Corp{ID: "corp", Name: "Corp"}}
	snap.Departments = append(snap.Departments, wecomsim.Department{ID: 1, Name: "Corp"})
	ids := map[string]int64{}
	for i, d := range f.DepartmentObjects() {
		id := int64(i + 2)
		ids[d.Spec.Name] = id
		parent := int64(1)
		if d.Spec.ParentRef != nil {
			parent = ids[d.Spec.ParentRef.Name]
		}
		snap.Departments = append(snap.Departments, wecomsim.Department{ID: id, Name: d.Spec.Name, ParentID: parent})
	}
	for _, u := range f.UserObjects() {
		su := wecomsim.User{UserID: u.Spec.UserID, Name: u.Spec.Name, Email: u.Spec.Email, Position: u.Spec.Position}
		for _, d := range u.Spec.Departments {
			su.Department = append(su.Department, ids[d.Ref.Name])
		}
		snap.Users = append(snap.Users, su)
	}
	for _, c := range f.ChatObjects() {
		snap.Chats = append(snap.Chats, wecomsim.Chat{ChatID: c.Spec.ChatID, Name: c.Spec.Name, Owner: c.Spec.Owner, Members: c.Spec.Members})
	}
	for _, w := range f.WayObjects() {
		snap.ContactWays = append(snap.ContactWays, wecomsim.ContactWay{Remark: w.Spec.Remark, Users: w.Spec.Users})
	}
	calIDs := map[string]string{}
	for i, c := range f.CalendarObjects() {
		calIDs[c.Name] = fmt.Sprintf("cal%d", i)
		sc := wecomsim.Calendar{CalID: calIDs[c.Name], Summary: c.Spec.Summary, Color: c.Spec.Color, Description: c.Spec.Description, Admins: c.Spec.Admins}
		for _, sh := range c.Spec.Shares {
			perm := 0 // WeCom leaves out the default, View
			if sh.Permission == v1.CalendarFreeBusy {
				perm = 3
			}
			sc.Shares = append(sc.Shares, wecomsim.CalendarShare{UserID: sh.UserID, Permission: perm})
		}
		snap.Calendars = append(snap.Calendars, sc)
	}
	for _, s := range f.ScheduleObjects() {
		ss := wecomsim.Schedule{Summary: s.Spec.Summary, CalID: "default"}
		if s.Spec.CalendarRef != nil {
			ss.CalID = calIDs[s.Spec.CalendarRef.Name]
		}
		snap.Schedules = append(snap.Schedules, ss)
	}
	for i, t := range f.TagObjects() {
		st := wecomsim.Tag{ID: int64(i + 1), Name: t.Spec.Name}
		for _, u := range t.Spec.Users {
			if u.Ref != nil {
				st.Users = append(st.Users, u.Ref.Name)
			} else {
				st.Users = append(st.Users, u.UserID)
			}
		}
		for _, d := range t.Spec.Departments {
			st.Parties = append(st.Parties, ids[d.Ref.Name])
		}
		snap.Tags = append(snap.Tags, st)
	}
	for i, g := range f.CustomerTagGroupObjects() {
		sg := wecomsim.CorpTagGroup{ID: fmt.Sprintf("grp%d", i), Name: g.Spec.Name, Order: uint32(g.Spec.Order)}
		for k, t := range g.Spec.Tags {
			sg.Tags = append(sg.Tags, wecomsim.CorpTag{ID: fmt.Sprintf("tag%d-%d", i, k), Name: t.Name, Order: uint32(t.Order)})
		}
		snap.CorpTagGroups = append(snap.CorpTagGroups, sg)
	}
	for i, t := range f.WelcomeTemplateObjects() {
		st := wecomsim.GroupWelcomeTemplate{ID: fmt.Sprintf("tpl%d", i), Text: t.Spec.Text}
		if l := t.Spec.Link; l != nil {
			st.Attachment = &wecomsim.WelcomeAttachment{MsgType: "link", Link: &wecomsim.WelcomeLink{Title: l.Title, Desc: l.Desc, URL: l.URL}}
		}
		snap.WelcomeTemplates = append(snap.WelcomeTemplates, st)
	}
	for _, a := range f.AppObjects() {
		app := wecomsim.App{Name: "operator", AgentID: wecomsim.DemoAgentID, Settings: wecomsim.AgentSettings{
			Name: *a.Spec.Name, Description: *a.Spec.Description, HomeURL: *a.Spec.HomeURL, IsReportEnter: 1}}
		for _, b := range a.Spec.Menu.Buttons {
			mb := wecomsim.MenuButton{Name: b.Name, Type: string(b.Type), Key: b.Key, URL: b.URL}
			for _, sb := range b.SubButtons {
				mb.SubButtons = append(mb.SubButtons, wecomsim.MenuButton{Name: sb.Name, Type: string(sb.Type), Key: sb.Key, URL: sb.URL})
			}
			app.Menu = append(app.Menu, mb)
		}
		snap.Apps = append(snap.Apps, app)
	}
	return snap
}

func TestDiff(t *testing.T) {
	f := Fleet{Namespace: "ns", Departments: 20, Users: 30, Chats: 3, Ways: 4, Schedules: 7, Staff: 6,
		Tags: 3, Calendars: 2, CustomerTagGroups: 3, WelcomeTemplates: 2, App: true}
	for _, tc := range []struct {
		name   string
		change func(*wecomsim.Snapshot)
		want   []string // substrings, one per expected difference
	}{
		{"WeCom equals the spec", func(*wecomsim.Snapshot) {}, nil},
		{"a department made twice", func(s *wecomsim.Snapshot) {
			d := s.Departments[1]
			d.ID = 999
			s.Departments = append(s.Departments, d)
		}, []string{`department "dept-001" exists 2 times`}},
		{"a member missing", func(s *wecomsim.Snapshot) { s.Users = s.Users[1:] }, []string{`member "u00001" exists 0 times`}},
		{"a member in another department", func(s *wecomsim.Snapshot) { s.Users[0].Department = []int64{1} }, []string{`member "u00001" is in departments`}},
		{"a contact way left behind by a lost reply", func(s *wecomsim.Snapshot) {
			s.ContactWays = append(s.ContactWays, s.ContactWays[0])
		}, []string{`contact way "way 0001" exists 2 times`}},
		{"a chat with other members", func(s *wecomsim.Snapshot) { s.Chats[1].Members = s.Chats[1].Members[1:] }, []string{`app chat "Chat 0002" is`}},
		{"a schedule cancelled", func(s *wecomsim.Snapshot) { s.Schedules[0].Status = 1 }, []string{`schedule "Schedule 0001" exists 0 times`}},
		{"a schedule in the default calendar, not its calendarRef's", func(s *wecomsim.Snapshot) { s.Schedules[1].CalID = "default" },
			[]string{`schedule "Schedule 0002" is in calendar default, want cal0 ("Calendar 001")`}},
		{"a calendar with a share added by hand", func(s *wecomsim.Snapshot) {
			s.Calendars[1].Shares = append(s.Calendars[1].Shares, wecomsim.CalendarShare{UserID: "staff006"})
		}, []string{`calendar "Calendar 002" has colour`}},
		{"a tag without its staff member", func(s *wecomsim.Snapshot) { s.Tags[0].Users = s.Tags[0].Users[:3] },
			[]string{`tag "tag-001" has members [u00001 u00002 u00003]`}},
		{"a tag with another department", func(s *wecomsim.Snapshot) { s.Tags[2].Parties = []int64{1} }, []string{`tag "tag-003" has members`}},
		{"a tag made twice", func(s *wecomsim.Snapshot) { s.Tags = append(s.Tags, s.Tags[1]) }, []string{`tag "tag-002" exists 2 times`}},
		{"a customer tag renamed by hand", func(s *wecomsim.Snapshot) { s.CorpTagGroups[2].Tags[4].Name = "vip" },
			[]string{`customer tag group "Segment 003" has order 3 and tags`}},
		{"a customer tag group missing", func(s *wecomsim.Snapshot) { s.CorpTagGroups = s.CorpTagGroups[1:] },
			[]string{`customer tag group "Segment 001" exists 0 times`}},
		{"a welcome template without its link", func(s *wecomsim.Snapshot) { s.WelcomeTemplates[1].Attachment = nil },
			[]string{`group welcome template "Welcome %NICKNAME% to customer group 002`}},
		{"a welcome template made twice", func(s *wecomsim.Snapshot) { s.WelcomeTemplates = append(s.WelcomeTemplates, s.WelcomeTemplates[0]) },
			[]string{`group welcome template "Welcome %NICKNAME% to customer group 001, please read the notice first." exists 2 times`}},
		{"the app renamed by hand", func(s *wecomsim.Snapshot) { s.Apps[0].Settings.Name = "x" }, []string{`app 1000002 has settings`}},
		{"the app's menu without a sub-button", func(s *wecomsim.Snapshot) { s.Apps[0].Menu[1].SubButtons = s.Apps[0].Menu[1].SubButtons[:1] },
			[]string{`app 1000002 has menu [On call click ONCALL_WHO ][Alerts    (Firing view  https://alerts.example.com/)], want`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := wecomOf(f)
			tc.change(&snap)
			got := f.Diff(snap)
			if len(got) != len(tc.want) {
				t.Fatalf("Diff = %q, want %d differences like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("difference %d = %q, want it to say %q", i, got[i], w)
				}
			}
		})
	}
}

func TestCountDeliveries(t *testing.T) {
	body := func(text string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": text}})
		return b
	}
	d := CountDeliveries([]wecomsim.Message{
		{Body: body("a")}, {Body: body("a"), Duplicate: true}, {Body: body("b")}, {Body: body("b")},
		{Body: json.RawMessage(`{"msgtype":"markdown","markdown":{"content":"x"}}`)},
	}, []wecomsim.Drop{{UserID: "u"}})
	if d.Delivered["a"] != 1 || d.Suppressed["a"] != 1 || d.Delivered["b"] != 2 || d.DroppedCopies != 1 || len(d.Delivered) != 2 {
		t.Errorf("CountDeliveries = %+v", d)
	}
}

func TestProcessUsage(t *testing.T) {
	u, err := ProcessUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.PeakRSSBytes <= 0 || u.CPUSeconds < 0 {
		t.Errorf("ProcessUsage of this test = %+v", u)
	}
}

func TestNotificationsAndObjects(t *testing.T) {
	f := Fleet{Namespace: "ns", Departments: 20, Users: 30, Chats: 3, ChatsWithoutID: 2, Ways: 4, Schedules: 2, Staff: 6}
	if n := len(f.Objects()); n != 20+30+3+2+4+2 {
		t.Errorf("Objects() made %d", n)
	}
	notes := f.Notifications("n", 5, func(i int) Channel { return []Channel{ChannelApp, ChannelChat, ChannelRobot}[i%3] })
	var texts []string
	for _, n := range notes {
		texts = append(texts, n.Spec.Message.Text.Content)
	}
	slices.Sort(texts)
	if len(slices.Compact(texts)) != 5 {
		t.Errorf("notification texts are not unique: %q", texts)
	}
	if notes[0].Spec.To == nil || notes[1].Spec.ChatRef == nil || notes[2].Spec.Robot == nil {
		t.Errorf("channels not as asked: %+v", notes[:3])
	}
}

// converged builds what the API server and WeCom hold once f converged: objects with their
// WeCom ids in status and annotations, and the WeCom objects they name.
func converged(f Fleet) (wecomsim.Snapshot, []client.Object) {
	snap := wecomsim.Snapshot{Corp: wecomsim.Corp{ID: "corp", Name: "Corp"},
		Departments: []wecomsim.Department{{ID: 1, Name: "Corp"}}}
	var objs []client.Object
	record := func(o client.Object) {
		o.SetAnnotations(map[string]string{AnnotationExternalName: ExternalID(o)})
		objs = append(objs, o)
	}
	ids := map[string]int64{}
	for i, d := range f.DepartmentObjects() {
		d.Status.ID = int64(i + 2)
		ids[d.Name] = d.Status.ID
		parent := int64(1)
		if d.Spec.ParentRef != nil {
			parent = ids[d.Spec.ParentRef.Name]
		}
		snap.Departments = append(snap.Departments, wecomsim.Department{ID: d.Status.ID, Name: d.Spec.Name, ParentID: parent})
		record(d)
	}
	for _, u := range f.UserObjects() {
		u.Status.UserID = u.Spec.UserID
		snap.Users = append(snap.Users, wecomsim.User{UserID: u.Spec.UserID, Name: u.Spec.Name})
		record(u)
	}
	for i, c := range f.ChatObjects() {
		c.Status.ChatID = c.Spec.ChatID
		if c.Status.ChatID == "" {
			c.Status.ChatID = fmt.Sprintf("wr%030d", i)
		}
		snap.Chats = append(snap.Chats, wecomsim.Chat{ChatID: c.Status.ChatID, Name: c.Spec.Name, Owner: c.Spec.Owner, Members: c.Spec.Members})
		record(c)
	}
	for i, w := range f.WayObjects() {
		w.Status.ConfigID = fmt.Sprintf("cfg%d", i)
		snap.ContactWays = append(snap.ContactWays, wecomsim.ContactWay{ConfigID: w.Status.ConfigID, State: fmt.Sprintf("op-%d", i), Remark: w.Spec.Remark})
		record(w)
	}
	for i, s := range f.ScheduleObjects() {
		s.Status.ScheduleID = fmt.Sprintf("sched%d", i)
		snap.Schedules = append(snap.Schedules, wecomsim.Schedule{ScheduleID: s.Status.ScheduleID, Summary: s.Spec.Summary, StartTime: s.Spec.Start.Unix()})
		record(s)
	}
	return snap, objs
}

func TestCensus(t *testing.T) {
	f := Fleet{Namespace: "ns", Departments: 6, Users: 4, Chats: 1, ChatsWithoutID: 2, Ways: 2, Schedules: 2, Staff: 6}
	before := wecomsim.Snapshot{Departments: []wecomsim.Department{{ID: 1, Name: "Corp"}}}
	for _, tc := range []struct {
		name   string
		change func(*wecomsim.Snapshot, []client.Object)
		want   []string // substrings, one per expected problem
	}{
		{"one WeCom object per object", func(*wecomsim.Snapshot, []client.Object) {}, nil},
		{"a chat without chatID made twice", func(s *wecomsim.Snapshot, _ []client.Object) {
			c := s.Chats[1]
			c.ChatID = "wrsecond"
			s.Chats = append(s.Chats, c)
		}, []string{`app chat "Auto chat 0001" owned by staff002 with [staff002 staff003 staff004 staff005 staff006] (object autochat-0001) exists 2 times`}},
		{"a schedule made twice, one copy cancelled", func(s *wecomsim.Snapshot, _ []client.Object) {
			c := s.Schedules[0]
			c.ScheduleID, c.Status = "cancelled", 1
			s.Schedules = append(s.Schedules, c)
		}, nil},
		{"a schedule made twice", func(s *wecomsim.Snapshot, _ []client.Object) {
			c := s.Schedules[1]
			c.ScheduleID = "again"
			s.Schedules = append(s.Schedules, c)
		}, []string{`schedule "Schedule 0002" at 2030-01-08T02:00:00Z (object schedule-0002) exists 2 times`}},
		{"a contact way made twice with one state", func(s *wecomsim.Snapshot, _ []client.Object) {
			w := s.ContactWays[0]
			w.ConfigID = "cfg-again"
			s.ContactWays = append(s.ContactWays, w)
		}, []string{`contact way state "op-0" (object way-0001) exists 2 times`}},
		{"a status naming another department", func(_ *wecomsim.Snapshot, objs []client.Object) {
			objs[5].(*v1.WeComDepartment).Status.ID = 99
		}, []string{`department "dept-006" under 3 (object dept-006) is 7 in WeCom but the status says "99"`}},
		{"a department nobody asked for", func(s *wecomsim.Snapshot, _ []client.Object) {
			s.Departments = append(s.Departments, wecomsim.Department{ID: 50, Name: "stray", ParentID: 1})
		}, []string{`department 50 "stray" is in WeCom but no object asks for it`}},
		{"a member missing", func(s *wecomsim.Snapshot, _ []client.Object) { s.Users = s.Users[1:] }, []string{`member "u00001" (object u00001) exists 0 times`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, objs := converged(f)
			tc.change(&snap, objs)
			got := Census(before, snap, objs)
			if len(got) != len(tc.want) {
				t.Fatalf("Census = %q, want %d problems like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to say %q", i, got[i], w)
				}
			}
		})
	}
}

func TestExternalNames(t *testing.T) {
	_, objs := converged(Fleet{Namespace: "ns", Departments: 1, Users: 1, ChatsWithoutID: 1, Ways: 1, Schedules: 1, Staff: 3})
	if got := ExternalNames(objs); len(got) != 0 {
		t.Fatalf("converged objects: %q", got)
	}
	objs[0].SetAnnotations(nil)
	objs[1].SetAnnotations(map[string]string{AnnotationExternalName: "someone-else"})
	objs[2].SetAnnotations(map[string]string{AnnotationExternalName: ExternalID(objs[2]), AnnotationCreatePending: "2030-01-01T00:00:00Z"})
	objs[3].(*v1.ContactWay).Status.ConfigID = ""
	want := []string{
		`*v1alpha1.WeComDepartment dept-001 has no wecom.dev/external-name annotation (status id "2")`,
		`*v1alpha1.WeComUser u00001 has wecom.dev/external-name "someone-else" but status id "u00001"`,
		`*v1alpha1.WeComAppChat autochat-0001 is still marked wecom.dev/create-pending=2030-01-01T00:00:00Z`,
		`*v1alpha1.ContactWay way-0001 has no WeCom id in its status`,
	}
	if got := ExternalNames(objs); !slices.Equal(got, want) {
		t.Errorf("ExternalNames =\n%q\nwant\n%q", got, want)
	}
}
