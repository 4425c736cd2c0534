package controller

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kptr "k8s.io/utils/ptr"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Pure tables of each kind's "does WeCom match the spec".

func TestDepartmentMatches(t *testing.T) {
	got := wecom.Department{ID: 5, Name: "Ops", NameEn: "Ops EN", ParentID: 2, Order: 10}
	cases := []struct {
		name   string
		spec   v1.WeComDepartmentSpec
		parent int
		want   bool
	}{
		{"same", v1.WeComDepartmentSpec{Name: "Ops", NameEn: "Ops EN", Order: kptr.To[int64](10)}, 2, true},
		{"unset nameEn and order are not managed", v1.WeComDepartmentSpec{Name: "Ops"}, 2, true},
		{"renamed", v1.WeComDepartmentSpec{Name: "SRE"}, 2, false},
		{"name differs only in case", v1.WeComDepartmentSpec{Name: "ops"}, 2, false},
		{"moved", v1.WeComDepartmentSpec{Name: "Ops"}, 3, false},
		{"nameEn differs", v1.WeComDepartmentSpec{Name: "Ops", NameEn: "Other"}, 2, false},
		{"order differs", v1.WeComDepartmentSpec{Name: "Ops", Order: kptr.To[int64](1)}, 2, false},
	}
	for _, tc := range cases {
		if m := departmentMatches(got, tc.spec, tc.parent); m != tc.want {
			t.Errorf("%s: departmentMatches = %v, want %v", tc.name, m, tc.want)
		}
	}
}

func TestUserMatches(t *testing.T) {
	want := func() wecom.UpdateUserRequest {
		return wecom.UpdateUserRequest{
			UserID: "lisi", Name: kptr.To("李四"), Alias: kptr.To(""), Mobile: kptr.To("13800000002"),
			Email: kptr.To("lisi@example.com"), BizMail: kptr.To(""), Telephone: kptr.To(""), Position: kptr.To("SRE"),
			Gender: kptr.To(wecom.GenderFemale), Enable: kptr.To(wecom.Flag(true)),
			Department: []int{2, 3}, Order: []uint32{0, 5}, IsLeaderInDept: []wecom.Flag{false, true},
			DirectLeader: []string{"zhangsan"},
		}
	}
	got := func() *wecom.User {
		return &wecom.User{
			UserID: "lisi", Name: "李四", Mobile: "13800000002", Email: "LiSi@example.com", Position: "SRE",
			Gender: wecom.GenderFemale, Enable: true, Status: wecom.UserStatusInactive,
			Department: []int{2, 3}, Order: []uint32{0, 5}, IsLeaderInDept: []wecom.Flag{false, true},
			DirectLeader: []string{"ZhangSan"},
		}
	}
	cases := []struct {
		name  string
		edit  func(*wecom.User, *wecom.UpdateUserRequest)
		match bool
	}{
		{"same (email and leaders compared without case)", func(*wecom.User, *wecom.UpdateUserRequest) {}, true},
		{"renamed", func(u *wecom.User, _ *wecom.UpdateUserRequest) { u.Name = "Lisi" }, false},
		{"mobile changed while inactive", func(u *wecom.User, _ *wecom.UpdateUserRequest) { u.Mobile = "1" }, false},
		{"mobile is the member's once active", func(u *wecom.User, _ *wecom.UpdateUserRequest) {
			u.Mobile, u.Status = "1", wecom.UserStatusActive
		}, true},
		{"unspecified gender is not compared", func(u *wecom.User, w *wecom.UpdateUserRequest) {
			u.Gender, w.Gender = wecom.GenderMale, nil
		}, true},
		{"gender differs", func(u *wecom.User, _ *wecom.UpdateUserRequest) { u.Gender = wecom.GenderMale }, false},
		{"disabled by hand", func(u *wecom.User, _ *wecom.UpdateUserRequest) { u.Enable = false }, false},
		{"department order differs", func(u *wecom.User, _ *wecom.UpdateUserRequest) { u.Department = []int{3, 2} }, false},
		{"leader flag differs", func(u *wecom.User, _ *wecom.UpdateUserRequest) { u.IsLeaderInDept = []wecom.Flag{true, true} }, false},
		{"missing leader flags read as not leader", func(u *wecom.User, w *wecom.UpdateUserRequest) {
			u.IsLeaderInDept, w.IsLeaderInDept = nil, []wecom.Flag{false, false}
		}, true},
		{"direct leader differs", func(u *wecom.User, _ *wecom.UpdateUserRequest) { u.DirectLeader = nil }, false},
	}
	for _, tc := range cases {
		u, w := got(), want()
		tc.edit(u, &w)
		if m := userMatches(u, w); m != tc.match {
			t.Errorf("%s: userMatches = %v, want %v", tc.name, m, tc.match)
		}
	}
}

func TestChatUpdate(t *testing.T) {
	got := &wecom.AppChat{ChatID: "c1", Name: "Ops", Owner: "zhangsan", UserList: []string{"zhangsan", "LiSi"}}
	chat := func(name, owner string, members ...string) *v1.WeComAppChat {
		return &v1.WeComAppChat{Spec: v1.WeComAppChatSpec{Name: name, Owner: owner, Members: members}}
	}
	cases := []struct {
		name string
		obj  *v1.WeComAppChat
		want *wecom.UpdateAppChatRequest
	}{
		{"same (members compared without case)", chat("Ops", "zhangsan", "zhangsan", "lisi"), nil},
		{"an empty name is not managed", chat("", "", "zhangsan", "lisi"), nil},
		{"renamed", chat("SRE", "", "zhangsan", "lisi"), &wecom.UpdateAppChatRequest{ChatID: "c1", Name: "SRE"}},
		{"members added and removed", chat("Ops", "", "zhangsan", "wangwu"),
			&wecom.UpdateAppChatRequest{ChatID: "c1", AddUserList: []string{"wangwu"}, DelUserList: []string{"LiSi"}}},
		{"owner handed over", chat("Ops", "lisi", "zhangsan", "lisi"), &wecom.UpdateAppChatRequest{ChatID: "c1", Owner: "lisi"}},
		{"removing the owner names the next one", chat("Ops", "", "lisi", "wangwu"),
			&wecom.UpdateAppChatRequest{ChatID: "c1", Owner: "lisi", AddUserList: []string{"wangwu"}, DelUserList: []string{"zhangsan"}}},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, chatUpdate(got, tc.obj)); diff != "" {
			t.Errorf("%s: chatUpdate (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestChatIDFor(t *testing.T) {
	a := &v1.WeComAppChat{ObjectMeta: metav1.ObjectMeta{UID: types.UID("7c1d0a3e-0000-4000-8000-000000000001")}}
	b := &v1.WeComAppChat{ObjectMeta: metav1.ObjectMeta{UID: types.UID("7c1d0a3e-0000-4000-8000-000000000002")}}
	if id := chatIDFor(a); !regexp.MustCompile(`^[0-9a-zA-Z]{32}$`).MatchString(id) {
		t.Errorf("chatIDFor = %q, want 32 letters and digits (WeCom's chatid rule)", id)
	}
	if chatIDFor(a) != chatIDFor(a.DeepCopy()) || chatIDFor(a) == chatIDFor(b) {
		t.Error("chatIDFor must be stable per UID and differ between UIDs")
	}
	a.Spec.ChatID = "ops"
	if chatIDFor(a) != "ops" {
		t.Errorf("chatIDFor = %q, want spec.chatID", chatIDFor(a))
	}
}

func TestWayMatches(t *testing.T) {
	obj := &v1.ContactWay{ObjectMeta: metav1.ObjectMeta{UID: "u1"}, Spec: v1.ContactWaySpec{
		Type: v1.ContactWayMulti, Scene: v1.ContactWayQRCode, Remark: "sales", State: "fair",
		Users: []string{"lisi"}, Parties: []int64{2}, Exclusive: true,
	}}
	base := func() *wecom.ContactWay {
		return &wecom.ContactWay{Type: wecom.ContactWayMulti, Scene: wecom.ContactWaySceneQRCode, Remark: "sales",
			SkipVerify: true, State: "fair", User: []string{"LiSi"}, Party: []int{2}, IsExclusive: true}
	}
	cases := []struct {
		name   string
		edit   func(*wecom.ContactWay)
		strict bool
		want   bool
	}{
		{"same", func(*wecom.ContactWay) {}, true, true},
		{"remark changed", func(w *wecom.ContactWay) { w.Remark = "x" }, false, false},
		{"skip_verify changed", func(w *wecom.ContactWay) { w.SkipVerify = false }, false, false},
		{"state changed", func(w *wecom.ContactWay) { w.State = "other" }, false, false},
		{"users changed", func(w *wecom.ContactWay) { w.User = []string{"wangwu"} }, false, false},
		{"parties changed", func(w *wecom.ContactWay) { w.Party = nil }, false, false},
		{"is_exclusive not returned: compared only when the spec changed", func(w *wecom.ContactWay) { w.IsExclusive = false }, false, true},
		{"is_exclusive compared when strict", func(w *wecom.ContactWay) { w.IsExclusive = false }, true, false},
	}
	for _, tc := range cases {
		w := base()
		tc.edit(w)
		if m := wayMatches(w, obj, tc.strict); m != tc.want {
			t.Errorf("%s: wayMatches = %v, want %v", tc.name, m, tc.want)
		}
	}
}

func TestScheduleMatches(t *testing.T) {
	start := metav1.NewTime(time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC))
	end := metav1.NewTime(start.Add(time.Hour))
	obj := &v1.Schedule{Spec: v1.ScheduleSpec{Summary: "Review", Start: start, End: end, Attendees: []string{"lisi"},
		Reminders: &v1.ScheduleReminders{Before: []v1.RemindBefore{"15m"}},
		Repeat:    &v1.ScheduleRepeat{Type: v1.RepeatWeekly}}}
	want := desiredSchedule(obj, "cal")
	cases := []struct {
		name  string
		edit  func(*wecom.Schedule)
		match bool
	}{
		{"same", func(*wecom.Schedule) {}, true},
		{"calendar is not compared (it cannot change)", func(s *wecom.Schedule) { s.CalID = "other" }, true},
		{"attendees compared without case", func(s *wecom.Schedule) { s.Attendees = []wecom.Attendee{{UserID: "LiSi"}} }, true},
		{"summary changed", func(s *wecom.Schedule) { s.Summary = "x" }, false},
		{"moved", func(s *wecom.Schedule) { s.StartTime++ }, false},
		{"reminder removed", func(s *wecom.Schedule) { s.Reminders.IsRemind = 0 }, false},
		{"repeat type changed", func(s *wecom.Schedule) { s.Reminders.RepeatType = kptr.To(2) }, false},
		{"no timezone reads as WeCom's default +8", func(s *wecom.Schedule) { s.Reminders.Timezone = nil }, true},
	}
	for _, tc := range cases {
		got := want
		r := *want.Reminders
		got.Reminders = &r
		tc.edit(&got)
		if m := scheduleMatches(&got, &want); m != tc.match {
			t.Errorf("%s: scheduleMatches = %v, want %v", tc.name, m, tc.match)
		}
	}
}

func TestDeepSlot(t *testing.T) {
	const every, window = 60 * time.Minute, 11 * time.Minute
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for _, uid := range []types.UID{"a", "b", "c", "d"} {
		// Drift checks at the longest and shortest jittered gaps: every period of `every`
		// holds at least one deep check and at most two.
		for _, gap := range []time.Duration{9 * time.Minute, 11 * time.Minute} {
			perPeriod := map[int64]int{}
			for now := start; now.Before(start.Add(10 * every)); now = now.Add(gap) {
				if deepSlot(uid, now, every, window) {
					phase := now.UnixNano() - int64(spread(uid, every))
					perPeriod[phase/int64(every)]++
				}
			}
			for p := int64(1); p < 9; p++ {
				n := perPeriod[(start.UnixNano()-int64(spread(uid, every)))/int64(every)+p]
				if n < 1 || n > 2 {
					t.Errorf("uid %s, checks every %s: %d deep checks in period %d, want 1 or 2", uid, gap, n, p)
				}
			}
		}
	}
	if !deepSlot("a", start, window, window) {
		t.Error("a deep interval no longer than a drift interval reads at every check")
	}
}

func TestWayPendingSince(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	old := &v1.ContactWay{Status: v1.ContactWayStatus{PendingCreateTime: &metav1.Time{Time: at}}}
	if got := wayPendingSince(old); !got.Equal(at) {
		t.Errorf("a v0.1 pendingCreateTime is honoured: got %v", got)
	}
	now := &v1.ContactWay{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
		v1.AnnotationCreatePending: at.Add(time.Minute).Format(time.RFC3339Nano)}}}
	if got := wayPendingSince(now); !got.Equal(at.Add(time.Minute)) {
		t.Errorf("the annotation: got %v", got)
	}
	if got := wayPendingSince(&v1.ContactWay{}); !got.IsZero() {
		t.Errorf("no create pending: got %v", got)
	}
}
