package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// maxNameLen keeps object names within a DNS-1123 label (63), shorter than the subdomain
// limit the API server allows, so that they also fit in label values (the users' department
// label holds a department's object name).
const maxNameLen = 63

// hashLen is the length of the hash suffix that keeps a name unique when making it a valid
// name lost information (a replaced character, a truncation, a case difference that matters).
const hashLen = 6

// slug turns s into lower-case letters, digits and single dashes, without leading or trailing
// dashes. Characters outside ASCII letters and digits become dashes (Chinese names give "").
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// shortHash is the first n hex digits of the SHA-256 of s.
func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// fit joins prefix and body with a dash and cuts body so that the name, with room for a hash
// suffix when suffix is set, stays within maxNameLen. It reports whether body was cut.
func fit(prefix, body string, suffix bool) (string, bool) {
	room := maxNameLen - len(prefix) - 1
	if suffix {
		room -= hashLen + 1
	}
	cut := false
	if len(body) > room {
		body, cut = strings.TrimRight(body[:room], "-"), true
	}
	if body == "" {
		return prefix, cut
	}
	return prefix + "-" + body, cut
}

// withHash is name-<hash of key>, name cut so that the whole stays within maxNameLen.
func withHash(name, key string, n int) string {
	if len(name)+1+n > maxNameLen {
		name = strings.TrimRight(name[:maxNameLen-1-n], "-")
	}
	return name + "-" + shortHash(key, n)
}

// DepartmentName is the object name of WeCom department id: dept-<id>-<slug of its name>
// (of nameEn when the name has no ASCII letters or digits, as Chinese names do). The id keeps
// it unique, so no hash is needed.
func DepartmentName(id int, name, nameEn string) string {
	s := slug(name)
	if s == "" {
		s = slug(nameEn)
	}
	n, _ := fit("dept-"+strconv.Itoa(id), s, false)
	return n
}

// TagName is the object name of the member tag id: tag-<id>-<slug of its name> (tag-<id>
// for a name without ASCII letters or digits, as Chinese names are). The id keeps it unique.
func TagName(id int, name string) string {
	n, _ := fit("tag-"+strconv.Itoa(id), slug(name), false)
	return n
}

// AppName is the object name of the self-built app agentID: app-<agentid>-<slug of its name>.
func AppName(agentID int64, name string) string {
	n, _ := fit("app-"+strconv.FormatInt(agentID, 10), slug(name), false)
	return n
}

// UserName is the object name of the member userID: user-<userid in lower case>, with a hash
// of the userid appended when characters had to be replaced (_ @ . become dashes) or the name
// was cut. WeCom compares userids without case, so lower-casing alone loses nothing.
func UserName(userID string) string {
	lower := strings.ToLower(userID)
	s := slug(lower)
	lossy := s != lower
	name, cut := fit("user", s, lossy || len("user-"+s) > maxNameLen)
	if lossy || cut {
		return withHash(name, lower, hashLen)
	}
	return name
}

// ChatName is the object name of the app chat chatID: chat-<chatid in lower case>, with a
// hash of the chat id when it has capitals (chat ids are case-sensitive) or other characters
// than letters and digits.
func ChatName(chatID string) string {
	lower := strings.ToLower(chatID)
	s := slug(lower)
	lossy := s != chatID
	name, cut := fit("chat", s, lossy || len("chat-"+s) > maxNameLen)
	if lossy || cut {
		return withHash(name, chatID, hashLen)
	}
	return name
}

// ContactWayName is the object name of the contact way configID: way-<slug of its state, or
// else its remark>-<hash of the config id> (config ids are 32 opaque hex digits).
func ContactWayName(configID, state, remark string) string {
	s := slug(state)
	if s == "" {
		s = slug(remark)
	}
	name, _ := fit("way", s, true)
	return withHash(name, configID, hashLen)
}

// ScheduleName is the object name of the schedule scheduleID: schedule-<slug of its
// summary>-<hash of the schedule id>.
func ScheduleName(scheduleID, summary string) string {
	name, _ := fit("schedule", slug(summary), true)
	return withHash(name, scheduleID, hashLen)
}

// CalendarName is the object name of the calendar calID: calendar-<slug of its
// summary>-<hash of the cal_id> (cal_ids are long opaque strings; the hash keeps two calendars
// of one summary apart).
func CalendarName(calID, summary string) string {
	name, _ := fit("calendar", slug(summary), true)
	return withHash(name, calID, hashLen)
}

// uniqueNames makes the names of one kind unique: names[i] belongs to keys[i] (the WeCom id).
// Every name that more than one key shares gets a longer hash of its key appended, so the
// result depends only on the set of keys, not on their order.
func uniqueNames(keys, names []string) []string {
	out := append([]string(nil), names...)
	for n := 8; ; n += 4 {
		count := map[string]int{}
		for _, name := range out {
			count[name]++
		}
		clash := false
		for i, name := range out {
			if count[name] > 1 {
				clash = true
				out[i] = withHash(names[i], keys[i], min(n, 64))
			}
		}
		if !clash || n >= 64 {
			return out
		}
	}
}
