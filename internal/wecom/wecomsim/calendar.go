package wecomsim

import (
	"cmp"
	"encoding/json"
	"regexp"
	"slices"
	"unicode/utf8"
)

// Calendars, current generation (§6): calendars belong to the calling
// app; the obsolete organizer/readonly fields are ignored (§0a).
const (
	maxCalAdmins       = 3
	maxCalShares       = 2000
	maxCalSummaryRunes = 128
	maxCalDescRunes    = 512
	maxCalGetIDs       = 1000
	maxCorpCalendars   = 20
	defaultCalColor    = "#3F84E9"
	// public_range: "公开的成员列表范围。最多指定1000个成员", "公开的部门列表范围。最多指定100个部门"
	// (DOC-93647/97716).
	maxPublicRangeUsers   = 1000
	maxPublicRangeParties = 100
)

var colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

type calendarShare struct {
	UserID     optString `json:"userid"`
	Permission optInt    `json:"permission"`
}

type calendarBody struct {
	CalID          optString       `json:"cal_id"`
	Admins         strList         `json:"admins"`
	SetAsDefault   optInt          `json:"set_as_default"`
	Summary        optString       `json:"summary"`
	Color          optString       `json:"color"`
	Description    optString       `json:"description"`
	Shares         []calendarShare `json:"shares"`
	IsPublic       optInt          `json:"is_public"`
	PublicRange    json.RawMessage `json:"public_range"`
	IsCorpCalendar optInt          `json:"is_corp_calendar"`
}

type calendarRequest struct {
	Calendar        *calendarBody `json:"calendar"`
	SkipPublicRange optInt        `json:"skip_public_range"`
	CalID           optString     `json:"cal_id"`
	CalIDList       strList       `json:"cal_id_list"`
}

// calendarFields is a validated calendar body.
type calendarFields struct {
	admins      []string
	shares      []CalendarShare
	failed      []map[string]any
	publicRange json.RawMessage
}

// checkCalendarBody validates the fields add and update share. Unknown
// share userids do not fail the call; they are reported in fail_result
// with the errcode/errmsg of the documented example (40001, "not found").
func (s *Sim) checkCalendarBody(b *calendarBody) (calendarFields, *apiError) {
	var f calendarFields
	n := utf8.RuneCountInString(b.Summary.v)
	if n < 1 || n > maxCalSummaryRunes {
		return f, errCodef(codeInvalidParam, "summary must be 1-%d characters", maxCalSummaryRunes)
	}
	if !colorPattern.MatchString(b.Color.v) {
		return f, errCodef(codeBadColor, "color %q is not #RRGGBB", b.Color.v)
	}
	if runesOver(b.Description.v, maxCalDescRunes) {
		return f, errCodef(codeInvalidParam, "description longer than %d characters", maxCalDescRunes)
	}
	if len(b.Shares) > maxCalShares {
		return f, errCodef(codeInvalidParam, "more than %d shares", maxCalShares)
	}
	f.failed = []map[string]any{}
	for _, sh := range b.Shares {
		p := sh.Permission.or(1)
		if p == 0 {
			p = 1
		}
		if p != 1 && p != 3 {
			return f, errCodef(codeInvalidParam, "share permission %d", p)
		}
		u := s.users[lower(sh.UserID.v)]
		if u == nil {
			f.failed = append(f.failed, map[string]any{"errcode": 40001, "errmsg": "not found", "userid": sh.UserID.v})
			continue
		}
		f.shares = append(f.shares, CalendarShare{UserID: u.UserID, Permission: int(p)})
	}
	if len(b.Admins.v) > maxCalAdmins {
		return f, errCodef(codeInvalidParam, "more than %d admins", maxCalAdmins)
	}
	for _, a := range b.Admins.v {
		if !slices.ContainsFunc(f.shares, func(sh CalendarShare) bool { return equalFoldASCII(sh.UserID, a) }) {
			return f, errCodef(codeAdminNotMember, "admin %q is not among shares", a)
		}
	}
	f.admins = nonNil(slices.Clone(b.Admins.v))
	pr, e := checkPublicRange(b.PublicRange)
	if e != nil {
		return f, e
	}
	f.publicRange = pr
	return f, nil
}

// checkPublicRange validates public_range {userids ≤1000, partyids ≤100}. The pages give
// the limits but no errcode: more than that, or a field of the wrong shape, gets 40058
// (a choice). The limits are checked even where public_range is ignored (a calendar that
// isn't public), also a choice. The object is kept as sent.
func checkPublicRange(raw json.RawMessage) (json.RawMessage, *apiError) {
	pr, e := rawObject(raw)
	if e != nil || pr == nil {
		return pr, e
	}
	var r struct {
		UserIDs  strList `json:"userids"`
		PartyIDs intList `json:"partyids"`
	}
	if e := decodeBody(pr, &r); e != nil {
		return nil, e
	}
	if len(r.UserIDs.v) > maxPublicRangeUsers {
		return nil, errCodef(codeInvalidParam, "public_range: more than %d userids", maxPublicRangeUsers)
	}
	if len(r.PartyIDs.v) > maxPublicRangeParties {
		return nil, errCodef(codeInvalidParam, "public_range: more than %d partyids", maxPublicRangeParties)
	}
	return pr, nil
}

// handleCalendarAdd implements POST oa/calendar/add.
func handleCalendarAdd(s *Sim, c *call) reply {
	var req calendarRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	b := req.Calendar
	if b == nil {
		return failf(codeInvalidParam, "calendar is required")
	}
	f, e := s.checkCalendarBody(b)
	if e != nil {
		return failErr(e)
	}
	if (b.IsPublic.v == 1 || b.IsCorpCalendar.v == 1) && f.publicRange == nil {
		return fail(codeNeedPublicRange)
	}
	if b.IsCorpCalendar.v == 1 && s.countCorpCalendars() >= maxCorpCalendars {
		return fail(codeCorpCalendarLimit)
	}
	cal := &Calendar{
		CalID: s.newCalID(), AgentID: c.app.AgentID, Admins: f.admins, Summary: b.Summary.v,
		Color: b.Color.v, Description: b.Description.v, Shares: nonNil(f.shares),
		IsPublic: int(b.IsPublic.v), PublicRange: f.publicRange, IsCorpCalendar: int(b.IsCorpCalendar.v),
		CreatedAt: c.now, seq: s.nextSeq(),
	}
	s.calendars[cal.CalID] = cal
	if b.SetAsDefault.v == 1 {
		s.setDefaultCalendar(cal)
	}
	return ok(map[string]any{"cal_id": cal.CalID, "fail_result": map[string]any{"shares": f.failed}})
}

func (s *Sim) countCorpCalendars() int {
	n := 0
	for _, cal := range s.calendars {
		if cal.IsCorpCalendar == 1 && !cal.Deleted {
			n++
		}
	}
	return n
}

func (s *Sim) setDefaultCalendar(cal *Calendar) {
	for _, other := range s.calendars {
		if other.AgentID == cal.AgentID {
			other.IsDefault = false
		}
	}
	cal.IsDefault = true
}

// defaultCalendar returns the app's default calendar, creating it on first
// use (the simulator's model of "every app has a default calendar").
func (s *Sim) defaultCalendar(app *appState, c *call) *Calendar {
	for _, cal := range s.sortedCalendars() {
		if cal.AgentID == app.AgentID && cal.IsDefault && !cal.Deleted {
			return cal
		}
	}
	cal := &Calendar{CalID: s.newCalID(), AgentID: app.AgentID, Admins: []string{}, Summary: app.Name,
		Color: defaultCalColor, Shares: []CalendarShare{}, IsDefault: true, CreatedAt: c.now, seq: s.nextSeq()}
	s.calendars[cal.CalID] = cal
	return cal
}

func (s *Sim) newCalID() string {
	for {
		id := "wc" + s.randString(30, alnum)
		if s.calendars[id] == nil {
			return id
		}
	}
}

// calendarForApp resolves a cal_id the app may operate on.
func (s *Sim) calendarForApp(id string, app *appState) (*Calendar, *apiError) {
	cal := s.calendars[id]
	switch {
	case id == "" || cal == nil:
		return nil, errCodef(codeInvalidCalID, "cal_id %q", id)
	case cal.AgentID != app.AgentID:
		return nil, errCodef(codeOtherAppsCalendar, "calendar of agent %d", cal.AgentID)
	case cal.Deleted:
		return nil, errCode(codeCalendarDeleted)
	}
	return cal, nil
}

// handleCalendarUpdate implements POST oa/calendar/update: the body
// overwrites the calendar; is_public and is_corp_calendar cannot change.
func handleCalendarUpdate(s *Sim, c *call) reply {
	var req calendarRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	b := req.Calendar
	if b == nil {
		return failf(codeInvalidParam, "calendar is required")
	}
	cal, e := s.calendarForApp(b.CalID.v, c.app)
	if e != nil {
		return failErr(e)
	}
	f, e := s.checkCalendarBody(b)
	if e != nil {
		return failErr(e)
	}
	cal.Admins, cal.Summary, cal.Color, cal.Description = f.admins, b.Summary.v, b.Color.v, b.Description.v
	cal.Shares = nonNil(f.shares)
	if req.SkipPublicRange.v != 1 && (cal.IsPublic == 1 || cal.IsCorpCalendar == 1) && f.publicRange != nil {
		cal.PublicRange = f.publicRange
	}
	return ok(map[string]any{"fail_result": map[string]any{"shares": f.failed}})
}

func calendarJSON(cal *Calendar) map[string]any {
	m := map[string]any{
		"cal_id": cal.CalID, "admins": nonNil(slices.Clone(cal.Admins)), "summary": cal.Summary,
		"color": cal.Color, "description": cal.Description, "shares": nonNil(slices.Clone(cal.Shares)),
		"is_public": cal.IsPublic, "is_corp_calendar": cal.IsCorpCalendar,
	}
	if cal.PublicRange != nil {
		m["public_range"] = cal.PublicRange
	}
	return m
}

// handleCalendarGet implements POST oa/calendar/get {"cal_id_list":[…]}.
func handleCalendarGet(s *Sim, c *call) reply {
	var req calendarRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if len(req.CalIDList.v) == 0 {
		return fail(codeEmptyCalIDList)
	}
	if len(req.CalIDList.v) > maxCalGetIDs {
		return failf(codeInvalidParam, "more than %d cal_ids", maxCalGetIDs)
	}
	out := []map[string]any{}
	for _, id := range req.CalIDList.v {
		cal, e := s.calendarForApp(id, c.app)
		if e != nil {
			return failErr(e)
		}
		out = append(out, calendarJSON(cal))
	}
	return ok(map[string]any{"calendar_list": out})
}

// handleCalendarDel implements POST oa/calendar/del {"cal_id":…}.
func handleCalendarDel(s *Sim, c *call) reply {
	var req calendarRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	cal, e := s.calendarForApp(req.CalID.v, c.app)
	if e != nil {
		return failErr(e)
	}
	cal.Deleted, cal.IsDefault = true, false
	return ok(nil)
}

func (s *Sim) sortedCalendars() []*Calendar {
	out := make([]*Calendar, 0, len(s.calendars))
	for _, cal := range s.calendars {
		out = append(out, cal)
	}
	slices.SortFunc(out, func(a, b *Calendar) int { return cmp.Compare(a.seq, b.seq) })
	return out
}
