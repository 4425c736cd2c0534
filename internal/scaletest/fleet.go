// Package scaletest builds what the scale benchmark (hack/bench, `make bench`), the fault
// tests (test/e2e/faults) and the upgrade test (test/e2e/upgrade) run: a generated org of
// WeCom objects, the simulator and manager binaries as processes, and the comparison of what
// WeCom holds with what the objects ask for.
package scaletest

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Names of the connections and Secrets every fleet uses.
const (
	ContactsConnection = "contacts" // the contacts-sync secret: departments and users
	AppConnection      = "app"      // the self-built app: chats, ways, schedules, messages
	RobotSecret        = "robot"    // the demo group robot's key
)

// Fleet is a generated org in one namespace. Departments come in three levels; chats,
// contact ways, schedules and notifications use Staff members, who are seeded into WeCom
// before the operator starts (the corp's existing people), so that nothing waits for a
// member the operator has yet to create.
type Fleet struct {
	Namespace   string
	Departments int
	Users       int
	Chats       int
	// ChatsWithoutID are app chats without spec.chatID: the operator, not the spec, chooses
	// their chatids, so a create whose reply was lost is the hard case.
	ChatsWithoutID int
	Ways           int
	Schedules      int
	Staff          int
	// Tags are WeComTags of the contacts connection, their members fleet users and departments
	// (by ref) and staff (by userid).
	Tags int
	// Calendars are WeComCalendars of the app; every fifth Schedule (from the second) is in
	// one of them through calendarRef.
	Calendars int
	// CustomerTagGroups have three to five tags each.
	CustomerTagGroups int
	WelcomeTemplates  int
	// App adds the WeComApp of the app connection, with a menu (one per connection).
	App bool
}

// Channel is how a generated Notification is sent.
type Channel string

// Notification channels.
const (
	ChannelApp   Channel = "app"
	ChannelChat  Channel = "chat"
	ChannelRobot Channel = "robot"
)

// StaffIDs are the userids of the seeded members.
func (f Fleet) StaffIDs() []string {
	ids := make([]string, f.Staff)
	for i := range ids {
		ids[i] = fmt.Sprintf("staff%03d", i+1)
	}
	return ids
}

// StaffSeed is the seed that adds the staff to the simulator's demo corp (POST /sim/seed).
func (f Fleet) StaffSeed() wecomsim.Seed {
	var seed wecomsim.Seed
	for _, id := range f.StaffIDs() {
		seed.Users = append(seed.Users, wecomsim.User{
			UserID: id, Name: "Staff " + id, Email: id + "@corp.example.com", Department: []int64{1},
		})
	}
	return seed
}

// Connections are the Secrets (labelled for the operator's use) and WeComConnections of the
// fleet, pointing at apiURL, which the manager must allow (--allowed-api-urls).
func (f Fleet) Connections(apiURL string) []client.Object {
	ns := f.Namespace
	secret := func(name, key, value string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{v1.SecretUseLabel: v1.SecretUseValue}},
			StringData: map[string]string{key: value}}
	}
	agent := int64(wecomsim.DemoAgentID)
	return []client.Object{
		secret(ContactsConnection, "secret", wecomsim.DemoContactsSecret),
		secret(AppConnection, "secret", wecomsim.DemoAppSecret),
		secret(RobotSecret, "key", wecomsim.DemoRobotKey),
		&v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Name: ContactsConnection, Namespace: ns}, Spec: v1.WeComConnectionSpec{
			CorpID: wecomsim.DemoCorpID, APIURL: apiURL, SecretRef: v1.SecretKeySelector{Name: ContactsConnection, Key: "secret"}}},
		&v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Name: AppConnection, Namespace: ns}, Spec: v1.WeComConnectionSpec{
			CorpID: wecomsim.DemoCorpID, APIURL: apiURL, AgentID: &agent, SecretRef: v1.SecretKeySelector{Name: AppConnection, Key: "secret"}}},
	}
}

// Levels splits n departments into three levels, each parent with several children:
// 200 → 8, 48, 144; 20 → 1, 4, 15.
func Levels(n int) (l1, l2, l3 int) {
	if n <= 0 {
		return 0, 0, 0
	}
	l1 = max(1, (n+24)/25)
	l2 = (n - l1) / 4
	return l1, l2, n - l1 - l2
}

// DepartmentName is the name of the i-th generated department (0-based), unique in the corp.
func DepartmentName(i int) string { return fmt.Sprintf("dept-%03d", i+1) }

// DepartmentObjects are the fleet's WeComDepartments: level 1 under the root, level 2 under level
// 1 and level 3 under level 2, parents given by parentRef.
func (f Fleet) DepartmentObjects() []*v1.WeComDepartment {
	l1, l2, _ := Levels(f.Departments)
	out := make([]*v1.WeComDepartment, f.Departments)
	for i := range out {
		d := &v1.WeComDepartment{ObjectMeta: f.meta(DepartmentName(i)), Spec: v1.WeComDepartmentSpec{
			DeletableSpec: f.deletable(ContactsConnection), Name: DepartmentName(i)}}
		switch {
		case i < l1:
		case i < l1+l2:
			d.Spec.ParentRef = &v1.LocalObjectReference{Name: DepartmentName((i - l1) % l1)}
		default:
			d.Spec.ParentRef = &v1.LocalObjectReference{Name: DepartmentName(l1 + (i-l1-l2)%l2)}
		}
		out[i] = d
	}
	return out
}

// UserObjects are the fleet's WeComUsers, spread evenly over the departments; every tenth is
// in a second department as well.
func (f Fleet) UserObjects() []*v1.WeComUser {
	out := make([]*v1.WeComUser, f.Users)
	for i := range out {
		id := fmt.Sprintf("u%05d", i+1)
		u := &v1.WeComUser{ObjectMeta: f.meta(id), Spec: v1.WeComUserSpec{
			DeletableSpec: f.deletable(ContactsConnection),
			UserID:        id, Name: "User " + id, Email: id + "@example.com", Position: "Engineer",
		}}
		if f.Departments == 0 {
			u.Spec.Departments = []v1.UserDepartment{{ID: ptr(int64(1))}}
		} else {
			u.Spec.Departments = []v1.UserDepartment{{Ref: &v1.LocalObjectReference{Name: DepartmentName(i % f.Departments)}}}
			if i%10 == 9 && f.Departments > 1 {
				u.Spec.Departments = append(u.Spec.Departments, v1.UserDepartment{Ref: &v1.LocalObjectReference{Name: DepartmentName((i + 1) % f.Departments)}})
			}
		}
		out[i] = u
	}
	return out
}

// ChatID is the chatid of the i-th generated app chat.
func ChatID(i int) string { return fmt.Sprintf("chat%04d", i+1) }

// ChatObjects are the fleet's WeComAppChats, each with five staff members: first the Chats
// with a chosen chatID, then the ChatsWithoutID (named autochat-0001…, "Auto chat 0001"…).
func (f Fleet) ChatObjects() []*v1.WeComAppChat {
	staff := f.StaffIDs()
	out := make([]*v1.WeComAppChat, f.Chats+f.ChatsWithoutID)
	for i := range out {
		members := pick(staff, i, 5)
		name, title, id := fmt.Sprintf("chat-%04d", i+1), fmt.Sprintf("Chat %04d", i+1), ChatID(i)
		if k := i - f.Chats; k >= 0 {
			name, title, id = fmt.Sprintf("autochat-%04d", k+1), fmt.Sprintf("Auto chat %04d", k+1), ""
		}
		out[i] = &v1.WeComAppChat{ObjectMeta: f.meta(name), Spec: v1.WeComAppChatSpec{
			ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: AppConnection}},
			ChatID:      id, Name: title, Owner: members[0], Members: members,
		}}
	}
	return out
}

// WayRemark is the remark of the i-th generated contact way, unique in the fleet.
func WayRemark(i int) string { return fmt.Sprintf("way %04d", i+1) }

// WayObjects are the fleet's ContactWays: single-member QR codes.
func (f Fleet) WayObjects() []*v1.ContactWay {
	staff := f.StaffIDs()
	out := make([]*v1.ContactWay, f.Ways)
	for i := range out {
		out[i] = &v1.ContactWay{ObjectMeta: f.meta(fmt.Sprintf("way-%04d", i+1)), Spec: v1.ContactWaySpec{
			DeletableSpec: f.deletable(AppConnection),
			Type:          v1.ContactWaySingle, Scene: v1.ContactWayQRCode, Remark: WayRemark(i),
			Users: []string{staff[i%len(staff)]},
		}}
	}
	return out
}

// ScheduleSummary is the summary of the i-th generated schedule, unique in the fleet.
func ScheduleSummary(i int) string { return fmt.Sprintf("Schedule %04d", i+1) }

// ScheduleObjects are the fleet's Schedules in the app's default calendar, one hour each on
// successive days of 2030, with reminders; every fifth repeats weekly.
func (f Fleet) ScheduleObjects() []*v1.Schedule {
	staff := f.StaffIDs()
	base := time.Date(2030, 1, 7, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	out := make([]*v1.Schedule, f.Schedules)
	for i := range out {
		attendees := pick(staff, i, 3)
		start := base.Add(time.Duration(i) * 24 * time.Hour)
		s := &v1.Schedule{ObjectMeta: f.meta(fmt.Sprintf("schedule-%04d", i+1)), Spec: v1.ScheduleSpec{
			DeletableSpec: f.deletable(AppConnection),
			Summary:       ScheduleSummary(i), Location: "Room 10F",
			Start: metav1.NewTime(start), End: metav1.NewTime(start.Add(time.Hour)),
			Attendees: attendees, Admins: attendees[:1],
			Reminders: &v1.ScheduleReminders{Before: []v1.RemindBefore{"15m"}},
		}}
		if i%5 == 4 {
			s.Spec.Repeat = &v1.ScheduleRepeat{Type: v1.RepeatWeekly}
		}
		if cal := f.ScheduleCalendar(i); cal != "" {
			s.Spec.CalendarRef = &v1.LocalObjectReference{Name: cal}
		}
		out[i] = s
	}
	return out
}

// ScheduleCalendar is the WeComCalendar the i-th generated schedule is in, "" for the app's
// default calendar.
func (f Fleet) ScheduleCalendar(i int) string {
	if f.Calendars == 0 || i%5 != 1 {
		return ""
	}
	return CalendarName((i / 5) % f.Calendars)
}

// TagName is the name (and object name) of the i-th generated WeComTag.
func TagName(i int) string { return fmt.Sprintf("tag-%03d", i+1) }

// TagObjects are the fleet's WeComTags: each has three fleet users and one department by
// ref, and one staff member by userid (those the fleet has).
func (f Fleet) TagObjects() []*v1.WeComTag {
	out := make([]*v1.WeComTag, f.Tags)
	for i := range out {
		t := &v1.WeComTag{ObjectMeta: f.meta(TagName(i)), Spec: v1.WeComTagSpec{
			DeletableSpec: f.deletable(ContactsConnection), Name: TagName(i)}}
		for k := range min(3, f.Users) {
			t.Spec.Users = append(t.Spec.Users, v1.TagUser{Ref: &v1.LocalObjectReference{Name: fmt.Sprintf("u%05d", (i*3+k)%f.Users+1)}})
		}
		if f.Staff > 0 {
			t.Spec.Users = append(t.Spec.Users, v1.TagUser{UserID: f.StaffIDs()[i%f.Staff]})
		}
		if f.Departments > 0 {
			t.Spec.Departments = []v1.TagDepartment{{Ref: &v1.LocalObjectReference{Name: DepartmentName(i % f.Departments)}}}
		}
		out[i] = t
	}
	return out
}

// CalendarName is the object name of the i-th generated WeComCalendar.
func CalendarName(i int) string { return fmt.Sprintf("calendar-%03d", i+1) }

// CalendarSummary is the summary of the i-th generated WeComCalendar, unique in the fleet.
func CalendarSummary(i int) string { return fmt.Sprintf("Calendar %03d", i+1) }

// CalendarObjects are the fleet's WeComCalendars, each shared with three staff members, the
// first of them its admin and the last free/busy only.
func (f Fleet) CalendarObjects() []*v1.WeComCalendar {
	staff := f.StaffIDs()
	out := make([]*v1.WeComCalendar, f.Calendars)
	for i := range out {
		members := pick(staff, i, 3)
		c := &v1.WeComCalendar{ObjectMeta: f.meta(CalendarName(i)), Spec: v1.WeComCalendarSpec{
			DeletableSpec: f.deletable(AppConnection),
			Summary:       CalendarSummary(i), Color: fmt.Sprintf("#%02X30%02X", 0x30+i*7%0xC0, 0xF0-i*5%0xC0),
			Description: "Team calendar " + CalendarSummary(i),
		}}
		for k, m := range members {
			share := v1.CalendarShare{UserID: m}
			if k == len(members)-1 && k > 0 {
				share.Permission = v1.CalendarFreeBusy
			}
			c.Spec.Shares = append(c.Spec.Shares, share)
		}
		if len(members) > 0 {
			c.Spec.Admins = members[:1]
		}
		out[i] = c
	}
	return out
}

// CustomerTagGroupName is the name of the i-th generated CustomerTagGroup, unique in the fleet.
func CustomerTagGroupName(i int) string { return fmt.Sprintf("Segment %03d", i+1) }

// CustomerTagGroupObjects are the fleet's CustomerTagGroups, with three to five tags each.
func (f Fleet) CustomerTagGroupObjects() []*v1.CustomerTagGroup {
	out := make([]*v1.CustomerTagGroup, f.CustomerTagGroups)
	for i := range out {
		g := &v1.CustomerTagGroup{ObjectMeta: f.meta(fmt.Sprintf("segment-%03d", i+1)), Spec: v1.CustomerTagGroupSpec{
			DeletableSpec: f.deletable(AppConnection), Name: CustomerTagGroupName(i), Order: int64(i + 1)}}
		n := 3 + i%3
		for k := range n {
			g.Spec.Tags = append(g.Spec.Tags, v1.CustomerTag{Name: fmt.Sprintf("level %d", k+1), Order: int64(n - k)})
		}
		out[i] = g
	}
	return out
}

// WelcomeText is the text of the i-th generated GroupWelcomeTemplate, unique in the fleet.
func WelcomeText(i int) string {
	return fmt.Sprintf("Welcome %%NICKNAME%% to customer group %03d, please read the notice first.", i+1)
}

// WelcomeTemplateObjects are the fleet's GroupWelcomeTemplates: text, every other one with a
// link.
func (f Fleet) WelcomeTemplateObjects() []*v1.GroupWelcomeTemplate {
	out := make([]*v1.GroupWelcomeTemplate, f.WelcomeTemplates)
	for i := range out {
		t := &v1.GroupWelcomeTemplate{ObjectMeta: f.meta(fmt.Sprintf("welcome-%03d", i+1)), Spec: v1.GroupWelcomeTemplateSpec{
			DeletableSpec: f.deletable(AppConnection), Text: WelcomeText(i)}}
		if i%2 == 1 {
			t.Spec.Link = &v1.WelcomeLink{Title: "Guide", Desc: "Questions and contacts", URL: fmt.Sprintf("https://example.com/guide/%03d", i+1)}
		}
		out[i] = t
	}
	return out
}

// AppObjects are the fleet's WeComApp (none unless f.App): the app connection's settings and
// a menu of a click button and a button with two sub-buttons.
func (f Fleet) AppObjects() []*v1.WeComApp {
	if !f.App {
		return nil
	}
	return []*v1.WeComApp{{ObjectMeta: f.meta("ops-assistant"), Spec: v1.WeComAppSpec{
		ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: AppConnection}},
		Name:        ptr("Ops assistant"), Description: ptr("Alerts, on-call and change notices"),
		HomeURL: ptr("https://ops.example.com/"), ReportEnter: ptr(true),
		Menu: &v1.AppMenu{Buttons: []v1.MenuButton{
			{Name: "On call", Type: v1.MenuClick, Key: "ONCALL_WHO"},
			{Name: "Alerts", SubButtons: []v1.MenuSubButton{
				{Name: "Firing", Type: v1.MenuView, URL: "https://alerts.example.com/"},
				{Name: "Report", Type: v1.MenuScanCodePush, Key: "REPORT_SCAN"},
			}},
		}},
	}}}
}

// Objects are every WeCom-backed object of the fleet (not the connections), in the order
// departments, users, chats, ways, schedules, tags, calendars, customer tag groups, welcome
// templates, the app.
func (f Fleet) Objects() []client.Object {
	var out []client.Object
	for _, o := range f.DepartmentObjects() {
		out = append(out, o)
	}
	for _, o := range f.UserObjects() {
		out = append(out, o)
	}
	for _, o := range f.ChatObjects() {
		out = append(out, o)
	}
	for _, o := range f.WayObjects() {
		out = append(out, o)
	}
	for _, o := range f.ScheduleObjects() {
		out = append(out, o)
	}
	for _, o := range f.TagObjects() {
		out = append(out, o)
	}
	for _, o := range f.CalendarObjects() {
		out = append(out, o)
	}
	for _, o := range f.CustomerTagGroupObjects() {
		out = append(out, o)
	}
	for _, o := range f.WelcomeTemplateObjects() {
		out = append(out, o)
	}
	for _, o := range f.AppObjects() {
		out = append(out, o)
	}
	return out
}

// NotificationText is the unique text of a generated Notification, by which its copies are
// found in the simulator's messages.
func NotificationText(prefix string, i int) string {
	return fmt.Sprintf("%s %05d: disk usage on node-%d is above 90%%", prefix, i+1, i%7)
}

// Notifications are n text Notifications named <prefix>-00001…; channel(i) says how the
// i-th is sent. App messages go to one staff member each, in turn; chat messages to the
// fleet's chats in turn; robot messages to the demo robot.
func (f Fleet) Notifications(prefix string, n int, channel func(i int) Channel) []*v1.Notification {
	staff := f.StaffIDs()
	out := make([]*v1.Notification, n)
	for i := range out {
		no := &v1.Notification{ObjectMeta: f.meta(fmt.Sprintf("%s-%05d", prefix, i+1)), Spec: v1.NotificationSpec{
			Message: v1.Message{Text: &v1.TextMessage{Content: NotificationText(prefix, i)}},
		}}
		switch channel(i) {
		case ChannelChat:
			no.Spec.ChatRef = &v1.LocalObjectReference{Name: fmt.Sprintf("chat-%04d", i%max(f.Chats, 1)+1)}
		case ChannelRobot:
			no.Spec.ConnectionRef = &v1.ConnectionReference{Name: AppConnection}
			no.Spec.Robot = &v1.RobotTarget{WebhookSecretRef: v1.SecretKeySelector{Name: RobotSecret, Key: "key"}}
		default:
			no.Spec.ConnectionRef = &v1.ConnectionReference{Name: AppConnection}
			no.Spec.To = &v1.Recipients{Users: []string{staff[i%len(staff)]}}
		}
		out[i] = no
	}
	return out
}

func (f Fleet) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: f.Namespace}
}

func (f Fleet) deletable(conn string) v1.DeletableSpec {
	return v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: conn}}}
}

// pick returns n consecutive entries of list starting at i (wrapping), without repeats.
func pick(list []string, i, n int) []string {
	n = min(n, len(list))
	out := make([]string, n)
	for k := range out {
		out[k] = list[(i+k)%len(list)]
	}
	return out
}

func ptr[T any](v T) *T { return &v }
