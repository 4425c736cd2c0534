package scaletest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Diff compares what WeCom holds with what the fleet asks for and returns one line per
// difference: a department, member, chat, way or schedule that is missing, exists more
// than once, or has other fields than its spec says. Empty means WeCom equals the spec.
func (f Fleet) Diff(snap wecomsim.Snapshot) []string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }

	deptByName := map[string][]wecomsim.Department{}
	nameByID := map[int64]string{}
	for _, d := range snap.Departments {
		deptByName[d.Name] = append(deptByName[d.Name], d)
		nameByID[d.ID] = d.Name
	}
	for _, d := range f.DepartmentObjects() {
		got := deptByName[d.Spec.Name]
		if len(got) != 1 {
			add("department %q exists %d times in WeCom", d.Spec.Name, len(got))
			continue
		}
		wantParent := snap.Corp.Name
		if d.Spec.ParentRef != nil {
			wantParent = d.Spec.ParentRef.Name
		}
		if p := nameByID[got[0].ParentID]; p != wantParent {
			add("department %q is under %q, want %q", d.Spec.Name, p, wantParent)
		}
	}

	users := map[string]int{}
	for _, u := range snap.Users {
		users[strings.ToLower(u.UserID)]++
	}
	for _, u := range f.UserObjects() {
		key := strings.ToLower(u.Spec.UserID)
		if users[key] != 1 {
			add("member %q exists %d times in WeCom", u.Spec.UserID, users[key])
			continue
		}
		got, _ := snap.User(u.Spec.UserID)
		var want, have []string
		for _, d := range u.Spec.Departments {
			if d.Ref != nil {
				want = append(want, d.Ref.Name)
			} else {
				want = append(want, nameByID[*d.ID])
			}
		}
		for _, id := range got.Department {
			have = append(have, nameByID[id])
		}
		slices.Sort(want)
		slices.Sort(have)
		switch {
		case got.Name != u.Spec.Name, !strings.EqualFold(got.Email, u.Spec.Email), got.Position != u.Spec.Position:
			add("member %q has name %q, email %q, position %q; want %q, %q, %q", u.Spec.UserID,
				got.Name, got.Email, got.Position, u.Spec.Name, u.Spec.Email, u.Spec.Position)
		case !slices.Equal(want, have):
			add("member %q is in departments %v, want %v", u.Spec.UserID, have, want)
		}
	}

	chats := map[string][]wecomsim.Chat{}
	for _, c := range snap.Chats {
		chats[c.Name] = append(chats[c.Name], c)
	}
	for _, c := range f.ChatObjects() {
		got := chats[c.Spec.Name]
		if len(got) != 1 {
			add("app chat %q exists %d times in WeCom", c.Spec.Name, len(got))
			continue
		}
		if got[0].ChatID != c.Spec.ChatID || !strings.EqualFold(got[0].Owner, c.Spec.Owner) || !sameFold(got[0].Members, c.Spec.Members) {
			add("app chat %q is %s owned by %s with %v; want %s owned by %s with %v", c.Spec.Name,
				got[0].ChatID, got[0].Owner, got[0].Members, c.Spec.ChatID, c.Spec.Owner, c.Spec.Members)
		}
	}

	ways := map[string][]wecomsim.ContactWay{}
	for _, w := range snap.ContactWays {
		ways[w.Remark] = append(ways[w.Remark], w)
	}
	for _, w := range f.WayObjects() {
		got := ways[w.Spec.Remark]
		if len(got) != 1 {
			add("contact way %q exists %d times in WeCom", w.Spec.Remark, len(got))
			continue
		}
		if !sameFold(got[0].Users, w.Spec.Users) {
			add("contact way %q is for %v, want %v", w.Spec.Remark, got[0].Users, w.Spec.Users)
		}
	}

	schedules := map[string]int{}
	for _, s := range snap.Schedules {
		if s.Status == 0 {
			schedules[s.Summary]++
		}
	}
	for _, s := range f.ScheduleObjects() {
		if n := schedules[s.Spec.Summary]; n != 1 {
			add("schedule %q exists %d times in WeCom", s.Spec.Summary, n)
		}
	}
	return diffs
}

func sameFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y string) bool { return strings.EqualFold(x, y) }) {
			return false
		}
	}
	return true
}

// Deliveries counts, per generated Notification text, the messages WeCom accepted and
// delivered (not suppressed as duplicates by enable_duplicate_check) and those it
// suppressed.
type Deliveries struct {
	Delivered  map[string]int
	Suppressed map[string]int
	// DroppedCopies counts member copies that a WeCom quota dropped silently.
	DroppedCopies int
}

// CountDeliveries sorts the simulator's messages by their text content.
func CountDeliveries(msgs []wecomsim.Message, drops []wecomsim.Drop) Deliveries {
	d := Deliveries{Delivered: map[string]int{}, Suppressed: map[string]int{}, DroppedCopies: len(drops)}
	for _, m := range msgs {
		var body struct {
			Text struct {
				Content string `json:"content"`
			} `json:"text"`
		}
		if json.Unmarshal(m.Body, &body) != nil || body.Text.Content == "" {
			continue
		}
		if m.Duplicate {
			d.Suppressed[body.Text.Content]++
		} else {
			d.Delivered[body.Text.Content]++
		}
	}
	return d
}
