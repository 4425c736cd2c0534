package importer

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// OrgReader is the part of the WeCom client that reads the org chart; it needs the
// contacts-sync secret (user/list_id refuses every other secret with 48002).
type OrgReader interface {
	ListDepartments(ctx context.Context, id int) ([]wecom.Department, error)
	ListUserIDs(ctx context.Context, cursor string, limit int) (*wecom.UserIDPage, error)
	GetUser(ctx context.Context, userID string) (*wecom.User, error)
}

// AppReader is the part of the WeCom client that reads what belongs to a self-built app:
// contact ways (the app must be under 客户联系 → 可调用接口的应用), schedules of its calendars
// and the chats it created.
type AppReader interface {
	ListContactWays(ctx context.Context, req wecom.ListContactWayRequest) (*wecom.ContactWayPage, error)
	GetContactWay(ctx context.Context, configID string) (*wecom.ContactWay, error)
	GetSchedulesByCalendar(ctx context.Context, calID string, offset, limit int) ([]wecom.Schedule, error)
	// GetCalendars reads calendars by id (up to 1000 a call): WeCom cannot list them.
	GetCalendars(ctx context.Context, calIDs []string) ([]wecom.Calendar, error)
	GetAppChat(ctx context.Context, chatID string) (*wecom.AppChat, error)
	// GetAgent and GetMenu read the app's own settings and menu: an app reaches only itself.
	GetAgent(ctx context.Context, agentID int64) (*wecom.Agent, error)
	GetMenu(ctx context.Context, agentID int64) ([]wecom.MenuButton, error)
}

// TagReader is the part of the WeCom client that reads member tags. Any secret lists every tag
// and reads each, whichever app created it; tag/get lists only the members in the caller's
// visible range (all of them for the contacts-sync secret).
type TagReader interface {
	ListTags(ctx context.Context) ([]wecom.TagSummary, error)
	GetTag(ctx context.Context, id int) (*wecom.Tag, error)
}

var (
	_ OrgReader = (*wecom.Client)(nil)
	_ AppReader = (*wecom.Client)(nil)
	_ TagReader = (*wecom.Client)(nil)
)

// Calendar is a calendar whose schedules are imported.
type Calendar struct {
	ID string
	// Pinned is a calendar named with --calendar: it is read with oa/calendar/get and
	// imported as a WeComCalendar that its Schedules name in spec.calendarRef (spec.calendarID
	// when WeCom does not return it). The connection's own calendar (its status.calendarID) is
	// neither: the connection's reconciler owns it, and its Schedules name no calendar, as
	// Schedules made in the cluster do not.
	Pinned bool
}

// uniqueCalendars drops repeated ids, keeping the first; a pinned id that is also the
// connection's calendar stays the connection's, and is returned in dropped.
func uniqueCalendars(cals []Calendar) (out []Calendar, dropped []string) {
	at := map[string]int{}
	for _, c := range cals {
		i, seen := at[c.ID]
		switch {
		case !seen:
			at[c.ID] = len(out)
			out = append(out, c)
		case out[i].Pinned != c.Pinned:
			out[i].Pinned = false
			dropped = append(dropped, c.ID)
		}
	}
	return out, dropped
}

// ReadOptions says what to read from WeCom.
type ReadOptions struct {
	// Org reads departments and members; nil reads none.
	Org OrgReader
	// App reads contact ways, calendars, schedules and chats; nil reads none.
	App AppReader
	// AgentID is App's agentid: its settings and menu are read (needs App). 0 reads none.
	AgentID int64
	// Tags reads the member tags and their members; nil reads none.
	Tags TagReader
	// ContactWays lists the app's contact ways (needs App).
	ContactWays bool
	// Calendars whose schedules are read (needs App); the pinned ones are also read with
	// oa/calendar/get.
	Calendars []Calendar
	// ChatIDs are the app chats to read: WeCom cannot list chats.
	ChatIDs []string
	// Concurrency is the number of reads in flight (user/get, get_contact_way); default 8.
	// The client's rate limiter paces them.
	Concurrency int
	// Progress reports each phase; nil reports nothing.
	Progress *Progress
}

// CalendarSchedule is a schedule and the calendar it was read from.
type CalendarSchedule struct {
	Calendar Calendar
	Schedule wecom.Schedule
}

// TagSnapshot is a tag as tag/get returned it, with its id.
type TagSnapshot struct {
	ID  int
	Tag wecom.Tag
}

// AppSnapshot is the app of AgentID: its settings and its menu (nil: none).
type AppSnapshot struct {
	AgentID int64
	Agent   wecom.Agent
	Menu    []wecom.MenuButton
}

// Snapshot is what the import read from WeCom, in a stable order.
type Snapshot struct {
	Departments []wecom.Department // by id
	Users       []wecom.User       // by lower-cased userid
	Tags        []TagSnapshot      // by id
	App         *AppSnapshot       // nil: not read
	ContactWays []wecom.ContactWay // by config_id
	Schedules   []CalendarSchedule // by schedule_id
	Calendars   []wecom.Calendar   // the pinned ones oa/calendar/get returned, by cal_id
	Chats       []wecom.AppChat    // by chat id
	// Warnings are what could not be read or will not be imported, sorted.
	Warnings []string
}

// wayListSince is the earliest creation time list_contact_way reports (2021-07-10 CST); the
// default window would be the last 90 days only.
const wayListSince int64 = 1625846400

const (
	listIDPage       = 10000 // user/list_id's largest page
	wayListPage      = 1000  // list_contact_way's largest page
	schedulePage     = wecom.ScheduleByCalendarPageMax
	calendarGetBatch = 1000 // oa/calendar/get's most ids per call
)

// Read reads the corp as opts say.
func Read(ctx context.Context, opts ReadOptions) (*Snapshot, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	snap := &Snapshot{}
	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		snap.Warnings = append(snap.Warnings, msg)
		opts.Progress.Note("warning: %s", msg)
	}
	cals, dropped := uniqueCalendars(opts.Calendars)
	opts.Calendars = cals
	for _, id := range dropped {
		warn("calendar %s (--calendar) is the app connection's own calendar (its status.calendarID): its Schedules name no calendar and it is not imported as a WeComCalendar", id)
	}
	if opts.Org != nil {
		if err := readOrg(ctx, opts, snap, warn); err != nil {
			return nil, err
		}
	}
	if opts.Tags != nil {
		if err := readTags(ctx, opts, snap, warn); err != nil {
			return nil, err
		}
	}
	if opts.App != nil {
		if opts.AgentID != 0 {
			if err := readApp(ctx, opts, snap, warn); err != nil {
				return nil, err
			}
		}
		if opts.ContactWays {
			if err := readContactWays(ctx, opts, snap, warn); err != nil {
				return nil, err
			}
		}
		if err := readSchedules(ctx, opts, snap); err != nil {
			return nil, err
		}
		if err := readCalendars(ctx, opts, snap, warn); err != nil {
			return nil, err
		}
		if err := readChats(ctx, opts, snap, warn); err != nil {
			return nil, err
		}
	}
	sort.Strings(snap.Warnings)
	return snap, nil
}

func readOrg(ctx context.Context, opts ReadOptions, snap *Snapshot, warn func(string, ...any)) error {
	p := opts.Progress
	p.Start("departments", 0)
	depts, err := opts.Org.ListDepartments(ctx, 0)
	if err != nil {
		return fmt.Errorf("reading departments (department/list): %w", err)
	}
	p.Add(1)
	sort.Slice(depts, func(i, j int) bool { return depts[i].ID < depts[j].ID })
	snap.Departments = depts
	p.Done(fmt.Sprintf("%d departments below the root", max(len(depts)-1, 0)))

	// user/list_id names every member (one row per department), 10,000 rows a page; then one
	// user/get per member reads the fields. user/list would read whole departments, but WeCom
	// refuses it to the contacts-sync secret from IPs added after 2022-08-15, and the client
	// does not offer it: list_id + get is what works on every corp.
	p.Start("member ids", 0)
	var ids []string
	seen := map[string]bool{}
	for cursor := ""; ; {
		page, err := opts.Org.ListUserIDs(ctx, cursor, listIDPage)
		if err != nil {
			if wecom.IsPermissionDenied(err) {
				return fmt.Errorf("reading members (user/list_id): %w; members can only be listed with the contacts-sync (通讯录同步) secret: "+
					"use that connection for the org chart and the self-built app's for contact ways, schedules and chats", err)
			}
			return fmt.Errorf("reading members (user/list_id): %w", err)
		}
		for _, row := range page.DeptUser {
			k := strings.ToLower(row.UserID)
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			ids = append(ids, row.UserID)
		}
		p.Add(1)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	p.Done(fmt.Sprintf("%d members", len(ids)))

	p.Start("members", len(ids))
	users := make([]*wecom.User, len(ids))
	err = forEach(ctx, opts.Concurrency, len(ids), func(ctx context.Context, i int) error {
		u, err := opts.Org.GetUser(ctx, ids[i])
		p.Add(1)
		if wecom.IsNotFound(err) {
			return nil // deleted since the list: left out, with a warning below
		}
		if err != nil {
			return fmt.Errorf("reading member %q (user/get): %w", ids[i], err)
		}
		users[i] = u
		return nil
	})
	if err != nil {
		return err
	}
	for i, u := range users {
		if u == nil {
			warn("member %q was deleted in WeCom during the import; not imported", ids[i])
			continue
		}
		snap.Users = append(snap.Users, *u)
	}
	sort.Slice(snap.Users, func(i, j int) bool {
		return strings.ToLower(snap.Users[i].UserID) < strings.ToLower(snap.Users[j].UserID)
	})
	p.Done(fmt.Sprintf("%d members", len(snap.Users)))
	return nil
}

// readTags reads every tag: one tag/list, then one tag/get per tag for its members.
func readTags(ctx context.Context, opts ReadOptions, snap *Snapshot, warn func(string, ...any)) error {
	p := opts.Progress
	p.Start("tags", 0)
	list, err := opts.Tags.ListTags(ctx)
	if wecom.IsPermissionDenied(err) {
		p.Done("not readable")
		warn("tags not imported: %v", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing tags (tag/list): %w", err)
	}
	p.SetTotal(len(list))
	tags := make([]*TagSnapshot, len(list))
	err = forEach(ctx, opts.Concurrency, len(list), func(ctx context.Context, i int) error {
		t, err := opts.Tags.GetTag(ctx, list[i].ID)
		p.Add(1)
		if wecom.IsNotFound(err) {
			return nil // deleted since the list: left out, with a warning below
		}
		if err != nil {
			return fmt.Errorf("reading tag %d (tag/get): %w", list[i].ID, err)
		}
		if t.Name == "" {
			t.Name = list[i].Name
		}
		tags[i] = &TagSnapshot{ID: list[i].ID, Tag: *t}
		return nil
	})
	if err != nil {
		return err
	}
	members := 0
	for i, t := range tags {
		if t == nil {
			warn("tag %d (%q) was deleted in WeCom during the import; not imported", list[i].ID, list[i].Name)
			continue
		}
		snap.Tags = append(snap.Tags, *t)
		members += len(t.Tag.UserList) + len(t.Tag.PartyList)
	}
	sort.Slice(snap.Tags, func(i, j int) bool { return snap.Tags[i].ID < snap.Tags[j].ID })
	p.Done(fmt.Sprintf("%s with %d members and departments", plural(len(snap.Tags), "tag"), members))
	return nil
}

// readApp reads the app of opts.AgentID: one agent/get and one menu/get (46003, no menu, is
// an empty menu).
func readApp(ctx context.Context, opts ReadOptions, snap *Snapshot, warn func(string, ...any)) error {
	p := opts.Progress
	p.Start("app", 2)
	agent, err := opts.App.GetAgent(ctx, opts.AgentID)
	if wecom.IsPermissionDenied(err) {
		p.Done("not readable")
		warn("app %d not imported: %v (the agentID must be the one of the app whose secret reads it)", opts.AgentID, err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading app %d (agent/get): %w", opts.AgentID, err)
	}
	p.Add(1)
	menu, err := opts.App.GetMenu(ctx, opts.AgentID)
	if err != nil {
		return fmt.Errorf("reading the menu of app %d (menu/get): %w", opts.AgentID, err)
	}
	p.Add(1)
	snap.App = &AppSnapshot{AgentID: opts.AgentID, Agent: *agent, Menu: menu}
	what := "no menu"
	if len(menu) > 0 {
		what = "a menu of " + plural(len(menu), "button")
	}
	p.Done(fmt.Sprintf("app %d %q, %s", opts.AgentID, agent.Name, what))
	return nil
}

func readContactWays(ctx context.Context, opts ReadOptions, snap *Snapshot, warn func(string, ...any)) error {
	p := opts.Progress
	p.Start("contact ways", 0)
	var ids []string
	for cursor := ""; ; {
		page, err := opts.App.ListContactWays(ctx, wecom.ListContactWayRequest{StartTime: wayListSince, Cursor: cursor, Limit: wayListPage})
		if wecom.IsPermissionDenied(err) {
			p.Done("not readable")
			warn("contact ways not imported: %v (the app must be listed under 客户联系 → 可调用接口的应用)", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("listing contact ways (externalcontact/list_contact_way): %w", err)
		}
		ids = append(ids, page.ConfigIDs...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	p.SetTotal(len(ids))
	ways := make([]*wecom.ContactWay, len(ids))
	err := forEach(ctx, opts.Concurrency, len(ids), func(ctx context.Context, i int) error {
		w, err := opts.App.GetContactWay(ctx, ids[i])
		p.Add(1)
		if wecom.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading contact way %s (externalcontact/get_contact_way): %w", ids[i], err)
		}
		if w.ConfigID == "" {
			w.ConfigID = ids[i]
		}
		ways[i] = w
		return nil
	})
	if err != nil {
		return err
	}
	for _, w := range ways {
		if w != nil {
			snap.ContactWays = append(snap.ContactWays, *w)
		}
	}
	sort.Slice(snap.ContactWays, func(i, j int) bool { return snap.ContactWays[i].ConfigID < snap.ContactWays[j].ConfigID })
	p.Done(fmt.Sprintf("%d contact ways (temporary ways are never listed by WeCom)", len(snap.ContactWays)))
	return nil
}

func readSchedules(ctx context.Context, opts ReadOptions, snap *Snapshot) error {
	if len(opts.Calendars) == 0 {
		return nil
	}
	p := opts.Progress
	p.Start("schedules", 0)
	seen := map[string]bool{}
	for _, cal := range opts.Calendars {
		for offset := 0; ; offset += schedulePage {
			page, err := opts.App.GetSchedulesByCalendar(ctx, cal.ID, offset, schedulePage)
			if err != nil {
				return fmt.Errorf("reading the schedules of calendar %s (oa/schedule/get_by_calendar): %w", cal.ID, err)
			}
			for _, s := range page {
				if s.Cancelled() || seen[s.ScheduleID] {
					continue
				}
				seen[s.ScheduleID] = true
				if s.CalID == "" {
					s.CalID = cal.ID
				}
				snap.Schedules = append(snap.Schedules, CalendarSchedule{Calendar: cal, Schedule: s})
			}
			p.Add(len(page))
			if len(page) < schedulePage {
				break
			}
		}
	}
	sort.Slice(snap.Schedules, func(i, j int) bool {
		return snap.Schedules[i].Schedule.ScheduleID < snap.Schedules[j].Schedule.ScheduleID
	})
	p.Done(fmt.Sprintf("%d schedules in %s", len(snap.Schedules), plural(len(opts.Calendars), "calendar")))
	return nil
}

// readCalendars reads the pinned calendars with oa/calendar/get: one call per 1000 ids. WeCom
// refuses the whole call for one id it will not return (unknown, deleted, another app's), so
// then it reads that batch one id at a time and leaves those out with a warning: their
// Schedules keep spec.calendarID.
func readCalendars(ctx context.Context, opts ReadOptions, snap *Snapshot, warn func(string, ...any)) error {
	var ids []string
	for _, c := range opts.Calendars {
		if c.Pinned {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	p := opts.Progress
	p.Start("calendars", len(ids))
	got, refused := map[string]wecom.Calendar{}, map[string]bool{}
	keep := func(list []wecom.Calendar) {
		for _, c := range list {
			got[c.CalID] = c
		}
	}
	refuse := func(id string, err error) {
		refused[id] = true
		warn("calendar %s: oa/calendar/get refused it (%v); not imported as a WeComCalendar, its Schedules keep spec.calendarID", id, err)
	}
	for chunk := range slices.Chunk(ids, calendarGetBatch) {
		list, err := opts.App.GetCalendars(ctx, chunk)
		switch {
		case err == nil:
			keep(list)
		case wecom.IsTerminal(err) && len(chunk) > 1:
			for _, id := range chunk {
				one, err := opts.App.GetCalendars(ctx, []string{id})
				if err != nil && !wecom.IsTerminal(err) {
					return fmt.Errorf("reading calendar %s (oa/calendar/get): %w", id, err)
				}
				if err != nil {
					refuse(id, err)
				}
				keep(one)
			}
		case wecom.IsTerminal(err):
			refuse(chunk[0], err)
		default:
			return fmt.Errorf("reading %s (oa/calendar/get): %w", plural(len(chunk), "calendar"), err)
		}
		p.Add(len(chunk))
	}
	for _, id := range ids {
		c, ok := got[id]
		if !ok {
			if !refused[id] {
				warn("calendar %s: oa/calendar/get did not return it; not imported as a WeComCalendar, its Schedules keep spec.calendarID", id)
			}
			continue
		}
		snap.Calendars = append(snap.Calendars, c)
	}
	sort.Slice(snap.Calendars, func(i, j int) bool { return snap.Calendars[i].CalID < snap.Calendars[j].CalID })
	p.Done(fmt.Sprintf("%d of %s named with --calendar", len(snap.Calendars), plural(len(ids), "calendar")))
	return nil
}

func readChats(ctx context.Context, opts ReadOptions, snap *Snapshot, warn func(string, ...any)) error {
	if len(opts.ChatIDs) == 0 {
		return nil
	}
	p := opts.Progress
	p.Start("app chats", len(opts.ChatIDs))
	seen := map[string]bool{}
	for _, id := range opts.ChatIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := opts.App.GetAppChat(ctx, id)
		p.Add(1)
		if wecom.IsNotFound(err) {
			warn("app chat %q not found (only chats created by this app can be read); not imported", id)
			continue
		}
		if err != nil {
			return fmt.Errorf("reading app chat %q (appchat/get): %w", id, err)
		}
		c.ChatID = id
		snap.Chats = append(snap.Chats, *c)
	}
	sort.Slice(snap.Chats, func(i, j int) bool { return snap.Chats[i].ChatID < snap.Chats[j].ChatID })
	p.Done(plural(len(snap.Chats), "app chat"))
	return nil
}

// forEach runs fn for 0..n-1 on at most workers goroutines and returns the first error, after
// which the remaining calls see a cancelled context.
func forEach(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
