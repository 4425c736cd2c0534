package scaletest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Diff compares what WeCom holds with what the fleet asks for and returns one line per
// difference: a department, member, chat, way, schedule, tag, calendar, customer tag group,
// group welcome template or the app's settings and menu that is missing, exists more than
// once, or has other fields than its spec says. Empty means WeCom equals the spec.
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
		if (c.Spec.ChatID != "" && got[0].ChatID != c.Spec.ChatID) || !strings.EqualFold(got[0].Owner, c.Spec.Owner) || !sameFold(got[0].Members, c.Spec.Members) {
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

	calendars := map[string][]wecomsim.Calendar{} // by summary
	for _, c := range snap.Calendars {
		if !c.Deleted {
			calendars[c.Summary] = append(calendars[c.Summary], c)
		}
	}
	calSummary := map[string]string{} // object name → summary
	for _, c := range f.CalendarObjects() {
		calSummary[c.Name] = c.Spec.Summary
		got := calendars[c.Spec.Summary]
		if len(got) != 1 {
			add("calendar %q exists %d times in WeCom", c.Spec.Summary, len(got))
			continue
		}
		var shares, wantShares []string
		for _, sh := range got[0].Shares {
			shares = append(shares, fmt.Sprintf("%s:%d", strings.ToLower(sh.UserID), max(sh.Permission, 1)))
		}
		for _, sh := range c.Spec.Shares {
			perm := 1
			if sh.Permission == v1.CalendarFreeBusy {
				perm = 3
			}
			wantShares = append(wantShares, fmt.Sprintf("%s:%d", strings.ToLower(sh.UserID), perm))
		}
		if got[0].Color != c.Spec.Color || got[0].Description != c.Spec.Description || !sameFold(got[0].Admins, c.Spec.Admins) || !sameFold(shares, wantShares) {
			add("calendar %q has colour %s, description %q, admins %v, shares %v; want %s, %q, %v, %v", c.Spec.Summary,
				got[0].Color, got[0].Description, got[0].Admins, shares, c.Spec.Color, c.Spec.Description, c.Spec.Admins, wantShares)
		}
	}

	schedules := map[string][]wecomsim.Schedule{}
	for _, s := range snap.Schedules {
		if s.Status == 0 {
			schedules[s.Summary] = append(schedules[s.Summary], s)
		}
	}
	for _, s := range f.ScheduleObjects() {
		got := schedules[s.Spec.Summary]
		if len(got) != 1 {
			add("schedule %q exists %d times in WeCom", s.Spec.Summary, len(got))
			continue
		}
		if s.Spec.CalendarRef == nil {
			continue
		}
		if cal := calendars[calSummary[s.Spec.CalendarRef.Name]]; len(cal) == 1 && got[0].CalID != cal[0].CalID {
			add("schedule %q is in calendar %s, want %s (%q)", s.Spec.Summary, got[0].CalID, cal[0].CalID, cal[0].Summary)
		}
	}

	tags := map[string][]wecomsim.Tag{}
	for _, t := range snap.Tags {
		tags[t.Name] = append(tags[t.Name], t)
	}
	for _, t := range f.TagObjects() {
		got := tags[t.Spec.Name]
		if len(got) != 1 {
			add("tag %q exists %d times in WeCom", t.Spec.Name, len(got))
			continue
		}
		var wantUsers, wantDepts, haveDepts []string
		for _, u := range t.Spec.Users {
			if u.Ref != nil {
				wantUsers = append(wantUsers, u.Ref.Name) // a fleet user's object name is its userid
			} else {
				wantUsers = append(wantUsers, u.UserID)
			}
		}
		for _, d := range t.Spec.Departments {
			wantDepts = append(wantDepts, d.Ref.Name)
		}
		for _, id := range got[0].Parties {
			haveDepts = append(haveDepts, nameByID[id])
		}
		if !sameFold(got[0].Users, wantUsers) || !sameFold(haveDepts, wantDepts) {
			add("tag %q has members %v and departments %v, want %v and %v", t.Spec.Name, got[0].Users, haveDepts, wantUsers, wantDepts)
		}
	}

	groups := map[string][]wecomsim.CorpTagGroup{}
	for _, g := range snap.CorpTagGroups {
		groups[g.Name] = append(groups[g.Name], g)
	}
	for _, g := range f.CustomerTagGroupObjects() {
		got := groups[g.Spec.Name]
		if len(got) != 1 {
			add("customer tag group %q exists %d times in WeCom", g.Spec.Name, len(got))
			continue
		}
		var want, have []string
		for _, t := range g.Spec.Tags {
			want = append(want, fmt.Sprintf("%s:%d", t.Name, t.Order))
		}
		for _, t := range got[0].Tags {
			have = append(have, fmt.Sprintf("%s:%d", t.Name, t.Order))
		}
		slices.Sort(want)
		slices.Sort(have)
		if int64(got[0].Order) != g.Spec.Order || !slices.Equal(want, have) {
			add("customer tag group %q has order %d and tags %v, want %d and %v", g.Spec.Name, got[0].Order, have, g.Spec.Order, want)
		}
	}

	welcomes := map[string][]wecomsim.GroupWelcomeTemplate{}
	for _, t := range snap.WelcomeTemplates {
		welcomes[t.Text] = append(welcomes[t.Text], t)
	}
	for _, t := range f.WelcomeTemplateObjects() {
		got := welcomes[t.Spec.Text]
		if len(got) != 1 {
			add("group welcome template %q exists %d times in WeCom", t.Spec.Text, len(got))
			continue
		}
		var link string
		if a := got[0].Attachment; a != nil && a.Link != nil {
			link = a.Link.URL
		}
		if t.Spec.Link != nil && link != t.Spec.Link.URL || t.Spec.Link == nil && got[0].Attachment != nil {
			add("group welcome template %q has attachment %+v, want a link to %+v", t.Spec.Text, got[0].Attachment, t.Spec.Link)
		}
	}

	for _, a := range f.AppObjects() {
		i := slices.IndexFunc(snap.Apps, func(app wecomsim.App) bool { return app.AgentID == wecomsim.DemoAgentID })
		if i < 0 {
			add("app %d is not in WeCom", wecomsim.DemoAgentID)
			continue
		}
		got := snap.Apps[i]
		if set := got.Settings; set.Name != *a.Spec.Name || set.Description != *a.Spec.Description || set.HomeURL != *a.Spec.HomeURL || (set.IsReportEnter == 1) != *a.Spec.ReportEnter {
			add("app %d has settings %+v, want name %q, description %q, home URL %q, report enter %t", got.AgentID, set,
				*a.Spec.Name, *a.Spec.Description, *a.Spec.HomeURL, *a.Spec.ReportEnter)
		}
		if have, want := menuString(got.Menu), specMenuString(a.Spec.Menu); have != want {
			add("app %d has menu %s, want %s", got.AgentID, have, want)
		}
	}
	return diffs
}

// menuString writes a menu as WeCom holds it; specMenuString writes a spec's menu the same way.
func menuString(buttons []wecomsim.MenuButton) string {
	var b strings.Builder
	for _, m := range buttons {
		fmt.Fprintf(&b, "[%s %s %s %s", m.Name, m.Type, m.Key, m.URL)
		for _, s := range m.SubButtons {
			fmt.Fprintf(&b, " (%s %s %s %s)", s.Name, s.Type, s.Key, s.URL)
		}
		b.WriteString("]")
	}
	return b.String()
}

func specMenuString(menu *v1.AppMenu) string {
	if menu == nil {
		return ""
	}
	var buttons []wecomsim.MenuButton
	for _, m := range menu.Buttons {
		b := wecomsim.MenuButton{Name: m.Name, Type: string(m.Type), Key: m.Key, URL: m.URL}
		for _, s := range m.SubButtons {
			b.SubButtons = append(b.SubButtons, wecomsim.MenuButton{Name: s.Name, Type: string(s.Type), Key: s.Key, URL: s.URL})
		}
		buttons = append(buttons, b)
	}
	return menuString(buttons)
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

// Annotations the reconcile skeleton keeps on every WeCom-backed object.
const (
	AnnotationExternalName  = "wecom.dev/external-name"
	AnnotationCreatePending = "wecom.dev/create-pending"
)

// ManagedKinds are the kinds backed by a WeCom object, in the order reports list them.
var ManagedKinds = []string{"WeComDepartment", "WeComUser", "WeComAppChat", "ContactWay", "Schedule",
	"WeComTag", "WeComCalendar", "CustomerTagGroup", "GroupWelcomeTemplate", "WeComApp"}

// ReadObjects returns every WeCom-backed object in namespace, with its status, in the order
// of ManagedKinds; kinds the API server does not serve are skipped.
func ReadObjects(ctx context.Context, r client.Reader, namespace string) ([]client.Object, error) {
	all := lists()
	var out []client.Object
	for _, kind := range ManagedKinds {
		list := all[kind]
		if err := r.List(ctx, list, client.InNamespace(namespace)); meta.IsNoMatchError(err) {
			continue // an older release's CRDs (the upgrade test) lack the newer kinds
		} else if err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, it.(client.Object))
		}
	}
	return out, nil
}

// ExternalID is the WeCom id an object's status records, as the external-name annotation
// holds it: a department id in decimal, a userid, a chatid, a config_id or a schedule_id;
// "" when there is none.
func ExternalID(obj client.Object) string {
	switch o := obj.(type) {
	case *v1.WeComDepartment:
		if o.Status.ID != 0 {
			return strconv.FormatInt(o.Status.ID, 10)
		}
	case *v1.WeComUser:
		return o.Status.UserID
	case *v1.WeComAppChat:
		return o.Status.ChatID
	case *v1.ContactWay:
		return o.Status.ConfigID
	case *v1.Schedule:
		return o.Status.ScheduleID
	case v1.Managed:
		return o.GetExternalID()
	}
	return ""
}

// ExternalNames lists the objects whose external-name annotation is missing or differs from
// the id in their status, and those still marked create-pending. Empty means every object
// records its WeCom id as metadata.
func ExternalNames(objs []client.Object) []string {
	var out []string
	for _, o := range objs {
		id, ann := ExternalID(o), o.GetAnnotations()
		name := fmt.Sprintf("%T %s", o, o.GetName())
		switch got, ok := ann[AnnotationExternalName]; {
		case id == "":
			out = append(out, name+" has no WeCom id in its status")
		case !ok:
			out = append(out, fmt.Sprintf("%s has no %s annotation (status id %q)", name, AnnotationExternalName, id))
		case got != id:
			out = append(out, fmt.Sprintf("%s has %s %q but status id %q", name, AnnotationExternalName, got, id))
		}
		if t, ok := ann[AnnotationCreatePending]; ok {
			out = append(out, fmt.Sprintf("%s is still marked %s=%s", name, AnnotationCreatePending, t))
		}
	}
	return out
}

// Census checks objs (read from the API server, with status) against what WeCom holds now:
// each object is matched by the key the operator finds a lost create by (a department by
// name and parent, a member by userid, a chat by spec.chatID or else by name, owner and
// members, a contact way by its state, a schedule by summary and start), exactly one WeCom
// object must match, and the object's status must name that one. WeCom objects that neither
// existed before (what the corp held before the operator started) nor match an object are
// reported as extras. Empty means one WeCom object per object and nothing else made.
func Census(before, now wecomsim.Snapshot, objs []client.Object) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	claimed := map[string]bool{} // "kind/id" of the WeCom objects some object matched

	deptIDs := map[string]int64{} // object name → status id, to resolve parentRef
	for _, o := range objs {
		if d, ok := o.(*v1.WeComDepartment); ok {
			deptIDs[d.Name] = d.Status.ID
		}
	}
	wayState := map[string]string{} // config_id → state
	for _, w := range now.ContactWays {
		wayState[w.ConfigID] = w.State
	}

	for _, o := range objs {
		var (
			kind, key, want string
			matches         []string // ids of the WeCom objects that match
		)
		switch o := o.(type) {
		case *v1.WeComDepartment:
			parent := int64(1)
			switch {
			case o.Spec.ParentRef != nil:
				parent = deptIDs[o.Spec.ParentRef.Name]
			case o.Spec.ParentID != nil:
				parent = *o.Spec.ParentID
			}
			kind, key, want = "department", fmt.Sprintf("%q under %d", o.Spec.Name, parent), ExternalID(o)
			for _, d := range now.Departments {
				if d.Name == o.Spec.Name && d.ParentID == parent {
					matches = append(matches, strconv.FormatInt(d.ID, 10))
				}
			}
		case *v1.WeComUser:
			kind, key, want = "member", fmt.Sprintf("%q", o.Spec.UserID), strings.ToLower(o.Status.UserID)
			for _, u := range now.Users {
				if strings.EqualFold(u.UserID, o.Spec.UserID) {
					matches = append(matches, strings.ToLower(u.UserID))
				}
			}
		case *v1.WeComAppChat:
			kind, want = "app chat", o.Status.ChatID
			if o.Spec.ChatID != "" {
				key = "chatid " + o.Spec.ChatID
			} else {
				key = fmt.Sprintf("%q owned by %s with %v", o.Spec.Name, o.Spec.Owner, o.Spec.Members)
			}
			for _, c := range now.Chats {
				if (o.Spec.ChatID != "" && c.ChatID == o.Spec.ChatID) || (o.Spec.ChatID == "" &&
					c.Name == o.Spec.Name && strings.EqualFold(c.Owner, o.Spec.Owner) && sameFold(c.Members, o.Spec.Members)) {
					matches = append(matches, c.ChatID)
				}
			}
		case *v1.ContactWay:
			state := o.Spec.State
			if state == "" {
				state = wayState[o.Status.ConfigID] // the marker the operator chose
			}
			kind, key, want = "contact way", fmt.Sprintf("state %q", state), o.Status.ConfigID
			if state == "" {
				add("contact way %s: no state marker to find it by (spec.state unset, status.configID %q not in WeCom)", o.Name, o.Status.ConfigID)
				continue
			}
			for _, w := range now.ContactWays {
				if w.State == state {
					matches = append(matches, w.ConfigID)
				}
			}
		case *v1.Schedule:
			kind, key, want = "schedule", fmt.Sprintf("%q at %s", o.Spec.Summary, o.Spec.Start.UTC().Format(time.RFC3339)), o.Status.ScheduleID
			for _, s := range now.Schedules {
				if s.Status == 0 && s.Summary == o.Spec.Summary && s.StartTime == o.Spec.Start.Unix() {
					matches = append(matches, s.ScheduleID)
				}
			}
		default:
			continue
		}
		for _, id := range matches {
			claimed[kind+"/"+id] = true
		}
		switch {
		case len(matches) != 1:
			add("%s %s (object %s) exists %d times in WeCom: %v", kind, key, o.GetName(), len(matches), matches)
		case matches[0] != want:
			add("%s %s (object %s) is %s in WeCom but the status says %q", kind, key, o.GetName(), matches[0], want)
		}
	}

	extra := func(kind, id, what string, existed bool) {
		if !existed && !claimed[kind+"/"+id] {
			add("%s %s %s is in WeCom but no object asks for it", kind, id, what)
		}
	}
	for _, d := range now.Departments {
		_, existed := before.Department(d.ID)
		extra("department", strconv.FormatInt(d.ID, 10), fmt.Sprintf("%q", d.Name), existed)
	}
	for _, u := range now.Users {
		_, existed := before.User(u.UserID)
		extra("member", strings.ToLower(u.UserID), fmt.Sprintf("%q", u.Name), existed)
	}
	for _, c := range now.Chats {
		_, existed := before.Chat(c.ChatID)
		extra("app chat", c.ChatID, fmt.Sprintf("%q", c.Name), existed)
	}
	for _, w := range now.ContactWays {
		existed := slices.ContainsFunc(before.ContactWays, func(b wecomsim.ContactWay) bool { return b.ConfigID == w.ConfigID })
		extra("contact way", w.ConfigID, fmt.Sprintf("%q (state %q)", w.Remark, w.State), existed)
	}
	for _, s := range now.Schedules {
		existed := slices.ContainsFunc(before.Schedules, func(b wecomsim.Schedule) bool { return b.ScheduleID == s.ScheduleID })
		extra("schedule", s.ScheduleID, fmt.Sprintf("%q", s.Summary), existed || s.Status != 0)
	}
	return out
}
