package importer

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func validName(t *testing.T, name string) {
	t.Helper()
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		t.Errorf("%q is not a DNS-1123 label: %v", name, errs)
	}
}

func TestDepartmentName(t *testing.T) {
	for _, tc := range []struct {
		id           int
		name, nameEn string
		want         string
	}{
		{2, "Engineering", "", "dept-2-engineering"},
		{12, "平台组", "Platform Team", "dept-12-platform-team"},
		{13, "平台组", "", "dept-13"},
		{14, "SRE 平台 (On-call)", "", "dept-14-sre-on-call"},
		{15, "--__--", "", "dept-15"},
		{2147483647, strings.Repeat("Very Long Department Name ", 5), "", "dept-2147483647-very-long-department-name-very-long-department"},
	} {
		got := DepartmentName(tc.id, tc.name, tc.nameEn)
		if got != tc.want {
			t.Errorf("DepartmentName(%d, %q, %q) = %q, want %q", tc.id, tc.name, tc.nameEn, got, tc.want)
		}
		validName(t, got)
		if again := DepartmentName(tc.id, tc.name, tc.nameEn); again != got {
			t.Errorf("not stable: %q then %q", got, again)
		}
	}
}

func TestUserName(t *testing.T) {
	for _, tc := range []struct {
		userID string
		want   string // "" checks only the prefix and the hash
		hashed bool
	}{
		{userID: "zhangsan", want: "user-zhangsan"},
		{userID: "ZhangSan", want: "user-zhangsan"}, // WeCom compares userids without case
		{userID: "li-si", want: "user-li-si"},
		{userID: "wang.wu", hashed: true},
		{userID: "zhao_liu", hashed: true},
		{userID: "ops@corp.example", hashed: true},
		{userID: "007", want: "user-007"},
		{userID: strings.Repeat("a", 64), hashed: true}, // cut to fit 63
	} {
		got := UserName(tc.userID)
		validName(t, got)
		if tc.want != "" && got != tc.want {
			t.Errorf("UserName(%q) = %q, want %q", tc.userID, got, tc.want)
		}
		hash := shortHash(strings.ToLower(tc.userID), hashLen)
		if hashed := strings.HasSuffix(got, "-"+hash); hashed != tc.hashed {
			t.Errorf("UserName(%q) = %q: hash suffix %v, want %v", tc.userID, got, hashed, tc.hashed)
		}
		if !strings.HasPrefix(got, "user-") {
			t.Errorf("UserName(%q) = %q", tc.userID, got)
		}
	}
	// Sanitizing must not make two members one object.
	if UserName("wang.wu") == UserName("wang-wu") || UserName("wang.wu") == UserName("wang_wu") {
		t.Error("userids that differ only in . - _ share a name")
	}
	if UserName("Wang.Wu") != UserName("wang.wu") {
		t.Error("the same member spelt in another case gets another name")
	}
}

func TestChatWayScheduleNames(t *testing.T) {
	for _, n := range []string{
		ChatName("importchat01"), ChatName("wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"), ChatName(strings.Repeat("Z", 32)),
		ContactWayName("9ad7fa5cdaa6511298498f979c472aaa", "spring-campaign", "Spring"),
		ContactWayName("9ad7fa5cdaa6511298498f979c472aab", "", "门店二维码"),
		ScheduleName("17c7d2bd9f20d652840f72f59e796aaa", "Weekly sync 周会"),
		ScheduleName("17c7d2bd9f20d652840f72f59e796aab", ""),
	} {
		validName(t, n)
	}
	if got := ChatName("importchat01"); got != "chat-importchat01" {
		t.Errorf("a lower-case chat id: %q", got)
	}
	if ChatName("AbC") == ChatName("abc") {
		t.Error("chat ids are case-sensitive, their names must differ")
	}
	if got := ContactWayName("id1", "spring-campaign", "x"); !strings.HasPrefix(got, "way-spring-campaign-") {
		t.Errorf("the state names the way: %q", got)
	}
	if got := ScheduleName("id1", "Weekly sync 周会"); !strings.HasPrefix(got, "schedule-weekly-sync-") {
		t.Errorf("the summary names the schedule: %q", got)
	}
	if ContactWayName("id1", "same", "") == ContactWayName("id2", "same", "") {
		t.Error("two ways with the same state share a name")
	}
}

func TestCalendarName(t *testing.T) {
	const id = "wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA"
	for _, tc := range []struct{ got, prefix string }{
		{CalendarName(id, "Releases 发布"), "calendar-releases-"},
		{CalendarName(id, "值班表"), "calendar-"},
		{CalendarName(id, strings.Repeat("On-call Rotation ", 8)), "calendar-on-call-rotation-"},
	} {
		validName(t, tc.got)
		if !strings.HasPrefix(tc.got, tc.prefix) || !strings.HasSuffix(tc.got, "-"+shortHash(id, hashLen)) {
			t.Errorf("%q: want %s…-<hash of the cal_id>", tc.got, tc.prefix)
		}
	}
	if got := CalendarName(id, "值班表"); got != "calendar-"+shortHash(id, hashLen) {
		t.Errorf("a summary without a slug: %q", got)
	}
	if CalendarName(id, "Team") == CalendarName(id+"B", "Team") {
		t.Error("two calendars of one summary share a name")
	}
	if got := CalendarName("wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA", "Releases 发布"); got != "calendar-releases-"+shortHash(id, hashLen) {
		t.Errorf("the name depends on the summary and the cal_id only: %q", got)
	}
}

func TestTagAndAppNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{TagName(1, "oncall"), "tag-1-oncall"},
		{TagName(12, "乒乓球协会"), "tag-12"},
		{TagName(3, "Release 发布 (v2)"), "tag-3-release-v2"},
		{TagName(2147483647, strings.Repeat("On-call Rotation ", 4)), "tag-2147483647-on-call-rotation-on-call-rotation-on-call-rotati"},
		{AppName(1000002, "operator"), "app-1000002-operator"},
		{AppName(1000005, "HR助手"), "app-1000005-hr"},
		{AppName(1000006, "审批"), "app-1000006"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
		validName(t, tc.got)
	}
	if TagName(1, "same") == TagName(2, "same") {
		t.Error("two tags of one name (impossible in one corp, possible over time) share an object name")
	}
}

func TestUniqueNames(t *testing.T) {
	keys := []string{"a", "b", "c", "d"}
	names := []string{"x", "y", "x", "z"}
	got := uniqueNames(keys, names)
	if got[1] != "y" || got[3] != "z" {
		t.Errorf("names without a clash changed: %v", got)
	}
	if got[0] == got[2] || !strings.HasPrefix(got[0], "x-") || !strings.HasPrefix(got[2], "x-") {
		t.Errorf("a clash is not resolved: %v", got)
	}
	// The result depends on the set, not the order.
	rev := uniqueNames([]string{"d", "c", "b", "a"}, []string{"z", "x", "y", "x"})
	if rev[1] != got[2] || rev[3] != got[0] {
		t.Errorf("order-dependent: %v vs %v", got, rev)
	}
	for _, n := range got {
		validName(t, n)
	}
	// Long names stay within 63 characters when a hash is added.
	long := strings.Repeat("n", 63)
	for _, n := range uniqueNames([]string{"k1", "k2"}, []string{long, long}) {
		validName(t, n)
	}
	if !slices.Equal(uniqueNames(nil, nil), []string{}) && len(uniqueNames(nil, nil)) != 0 {
		t.Error("empty input")
	}
}
