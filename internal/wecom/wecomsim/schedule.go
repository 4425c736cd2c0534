package wecomsim

import (
	"cmp"
	"slices"
	"strings"
)

// Schedule limits (§6, current generation).
const (
	maxSchedAdmins        = 3
	maxAttendees          = 1000
	maxDelAttendees       = 300
	maxSchedSummaryRunes  = 128
	maxSchedDescRunes     = 1000
	maxSchedLocationRunes = 128
	maxSchedGetIDs        = 1000
	defaultByCalLimit     = 500
	maxByCalLimit         = 1000
	defaultTimezone       = 8
	scheduleCancelled     = 1
)

var (
	remindBeforeValues = []int64{0, 300, 900, 3600, 86400}
	remindDiffValues   = []int64{0, -300, -900, -3600, -86400}
	// Whole-day schedules also allow 9:00 on the day, 2 and 7 days before.
	remindDiffWholeDay = []int64{32400, -172800, -604800}
	repeatTypes        = []int64{0, 1, 2, 5, 7}
)

type remindersBody struct {
	IsRemind              optInt  `json:"is_remind"`
	RemindBeforeEventSecs optInt  `json:"remind_before_event_secs"`
	RemindTimeDiffs       intList `json:"remind_time_diffs"`
	IsRepeat              optInt  `json:"is_repeat"`
	RepeatType            optInt  `json:"repeat_type"`
	RepeatUntil           optInt  `json:"repeat_until"`
	IsCustomRepeat        optInt  `json:"is_custom_repeat"`
	RepeatInterval        optInt  `json:"repeat_interval"`
	RepeatDayOfWeek       intList `json:"repeat_day_of_week"`
	RepeatDayOfMonth      intList `json:"repeat_day_of_month"`
	Timezone              optInt  `json:"timezone"`
}

type attendeeBody struct {
	UserID optString `json:"userid"`
}

type scheduleBody struct {
	ScheduleID  optString      `json:"schedule_id"`
	CalID       optString      `json:"cal_id"`
	Admins      strList        `json:"admins"`
	Attendees   []attendeeBody `json:"attendees"`
	Summary     optString      `json:"summary"`
	Description optString      `json:"description"`
	Location    optString      `json:"location"`
	StartTime   optInt         `json:"start_time"`
	EndTime     optInt         `json:"end_time"`
	IsWholeDay  optInt         `json:"is_whole_day"`
	Reminders   *remindersBody `json:"reminders"`
}

type scheduleRequest struct {
	Schedule       *scheduleBody  `json:"schedule"`
	SkipAttendees  optInt         `json:"skip_attendees"`
	OpMode         optInt         `json:"op_mode"`
	OpStartTime    optInt         `json:"op_start_time"`
	ScheduleID     optString      `json:"schedule_id"`
	ScheduleIDList strList        `json:"schedule_id_list"`
	Attendees      []attendeeBody `json:"attendees"`
	CalID          optString      `json:"cal_id"`
	Offset         optInt         `json:"offset"`
	Limit          optInt         `json:"limit"`
}

func flag01(o optInt, name string) (int, *apiError) {
	if o.v != 0 && o.v != 1 {
		return 0, errCodef(codeInvalidParam, "%s must be 0 or 1", name)
	}
	return int(o.v), nil
}

// checkReminders validates schedule.reminders (90471, 90704, 90465, 90486,
// 90467, 90487, 90480).
func checkReminders(r *remindersBody, wholeDay bool) (Reminders, *apiError) {
	out := Reminders{Timezone: defaultTimezone}
	if r == nil {
		return out, nil
	}
	var e *apiError
	if out.IsRemind, e = flag01(r.IsRemind, "is_remind"); e != nil {
		return out, e
	}
	if out.IsRepeat, e = flag01(r.IsRepeat, "is_repeat"); e != nil {
		return out, e
	}
	if out.IsCustomRepeat, e = flag01(r.IsCustomRepeat, "is_custom_repeat"); e != nil {
		return out, e
	}
	if !slices.Contains(remindBeforeValues, r.RemindBeforeEventSecs.v) {
		return out, errCodef(codeBadRemindTime, "remind_before_event_secs %d", r.RemindBeforeEventSecs.v)
	}
	for _, d := range r.RemindTimeDiffs.v {
		if !slices.Contains(remindDiffValues, d) && !(wholeDay && slices.Contains(remindDiffWholeDay, d)) {
			return out, errCodef(codeBadRemindTimeDiffs, "remind_time_diffs value %d", d)
		}
	}
	if !slices.Contains(repeatTypes, r.RepeatType.v) {
		return out, errCodef(codeBadRepeatType, "repeat_type %d", r.RepeatType.v)
	}
	if out.IsCustomRepeat == 1 && r.RepeatInterval.v <= 0 {
		return out, errCode(codeMissingRepeatInterval)
	}
	if r.RepeatInterval.v < 0 {
		return out, errCodef(codeInvalidParam, "repeat_interval %d", r.RepeatInterval.v)
	}
	for _, d := range r.RepeatDayOfWeek.v {
		if d < 1 || d > 7 {
			return out, errCodef(codeBadDayOfWeek, "repeat_day_of_week %d", d)
		}
	}
	for _, d := range r.RepeatDayOfMonth.v {
		if d < 1 || d > 31 {
			return out, errCodef(codeBadDayOfMonth, "repeat_day_of_month %d", d)
		}
	}
	if r.Timezone.set {
		if r.Timezone.v < -12 || r.Timezone.v > 12 {
			return out, errCodef(codeBadTimezone, "timezone %d", r.Timezone.v)
		}
		out.Timezone = r.Timezone.v
	}
	out.RemindBeforeEventSecs = r.RemindBeforeEventSecs.v
	out.RemindTimeDiffs = slices.Clone(r.RemindTimeDiffs.v)
	out.RepeatType, out.RepeatUntil, out.RepeatInterval = r.RepeatType.v, r.RepeatUntil.v, r.RepeatInterval.v
	out.RepeatDayOfWeek = slices.Clone(r.RepeatDayOfWeek.v)
	out.RepeatDayOfMonth = slices.Clone(r.RepeatDayOfMonth.v)
	return out, nil
}

// resolveAttendees checks attendees exist (60111; unknown attendees are
// rejected — WeCom's behaviour is unconfirmed) and are ≤1000 (90464).
func (s *Sim) resolveAttendees(list []attendeeBody) ([]Attendee, *apiError) {
	if len(list) > maxAttendees {
		return nil, errCodef(codeTooManyAttendees, "%d attendees", len(list))
	}
	out := []Attendee{}
	for _, a := range list {
		if len(a.UserID.v) > maxUserIDBytes {
			return nil, errCodef(codeInvalidUserID, "attendee userid longer than 64 bytes")
		}
		u := s.users[lower(a.UserID.v)]
		if u == nil {
			return nil, errCodef(codeUserNotFound, "attendee %q", a.UserID.v)
		}
		if !slices.ContainsFunc(out, func(x Attendee) bool { return x.UserID == u.UserID }) {
			out = append(out, Attendee{UserID: u.UserID})
		}
	}
	return out, nil
}

func checkAdmins(admins []string, attendees []Attendee) *apiError {
	if len(admins) > maxSchedAdmins {
		return errCodef(codeInvalidParam, "more than %d admins", maxSchedAdmins)
	}
	for _, a := range admins {
		if !slices.ContainsFunc(attendees, func(x Attendee) bool { return strings.EqualFold(x.UserID, a) }) {
			return errCodef(codeAdminNotMember, "admin %q is not an attendee", a)
		}
	}
	return nil
}

// buildSchedule validates a schedule body into a Schedule (without ids).
// existing is set on update when skip_attendees keeps the old attendees.
func (s *Sim) buildSchedule(b *scheduleBody, keepAttendees []Attendee) (Schedule, *apiError) {
	var sc Schedule
	wholeDay, e := flag01(b.IsWholeDay, "is_whole_day")
	if e != nil {
		return sc, e
	}
	start, end := b.StartTime.v, b.EndTime.v
	switch {
	case start <= 0 || end <= 0:
		return sc, errCodef(codeInvalidParam, "start_time and end_time are required")
	case end < start || (end == start && wholeDay == 0):
		// end must be after start (a whole-day schedule may start and end
		// on the same instant); the errcode is unconfirmed.
		return sc, errCodef(codeInvalidParam, "end_time must be after start_time")
	}
	attendees := keepAttendees
	if attendees == nil {
		if attendees, e = s.resolveAttendees(b.Attendees); e != nil {
			return sc, e
		}
	}
	if e := checkAdmins(b.Admins.v, attendees); e != nil {
		return sc, e
	}
	switch {
	case runesOver(b.Summary.v, maxSchedSummaryRunes):
		return sc, errCodef(codeInvalidParam, "summary longer than %d characters", maxSchedSummaryRunes)
	case runesOver(b.Description.v, maxSchedDescRunes):
		return sc, errCodef(codeInvalidParam, "description longer than %d characters", maxSchedDescRunes)
	case runesOver(b.Location.v, maxSchedLocationRunes):
		return sc, errCodef(codeInvalidParam, "location longer than %d characters", maxSchedLocationRunes)
	}
	rem, e := checkReminders(b.Reminders, wholeDay == 1)
	if e != nil {
		return sc, e
	}
	return Schedule{Admins: nonNil(slices.Clone(b.Admins.v)), Attendees: attendees, Summary: b.Summary.v,
		Description: b.Description.v, Location: b.Location.v, StartTime: start, EndTime: end,
		IsWholeDay: wholeDay, Reminders: rem}, nil
}

// handleScheduleAdd implements POST oa/schedule/add. Without cal_id the
// app's default calendar is used (created on first use).
func handleScheduleAdd(s *Sim, c *call) reply {
	var req scheduleRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if req.Schedule == nil {
		return failf(codeInvalidParam, "schedule is required")
	}
	var cal *Calendar
	if req.Schedule.CalID.given() {
		var e *apiError
		if cal, e = s.calendarForApp(req.Schedule.CalID.v, c.app); e != nil {
			return failErr(e)
		}
	}
	sc, e := s.buildSchedule(req.Schedule, nil)
	if e != nil {
		return failErr(e)
	}
	if cal == nil {
		cal = s.defaultCalendar(c.app, c)
	}
	id := s.storeSchedule(sc, cal.CalID, c)
	return ok(map[string]any{"schedule_id": id})
}

func (s *Sim) storeSchedule(sc Schedule, calID string, c *call) string {
	sc.ScheduleID = s.newScheduleID()
	sc.AgentID, sc.CalID, sc.CreatedAt = c.app.AgentID, calID, c.now
	sc.seq = s.nextSeq()
	sc.Sequence = uint64(sc.seq)
	s.schedules[sc.ScheduleID] = &sc
	return sc.ScheduleID
}

func (s *Sim) newScheduleID() string {
	for {
		id := s.randString(32, hexDigits)
		if s.schedules[id] == nil {
			return id
		}
	}
}

// scheduleForApp resolves a schedule_id the app may operate on; cancelled
// schedules answer 90460 unless allowCancelled.
func (s *Sim) scheduleForApp(id string, app *appState, allowCancelled bool) (*Schedule, *apiError) {
	sc := s.schedules[id]
	switch {
	case id == "" || sc == nil:
		return nil, errCodef(codeInvalidScheduleID, "schedule_id %q", id)
	case sc.AgentID != app.AgentID:
		return nil, errCodef(codeOtherAppsCalendar, "schedule of agent %d", sc.AgentID)
	case sc.Status == scheduleCancelled && !allowCancelled:
		return nil, errCode(codeScheduleDeleted)
	}
	return sc, nil
}

// checkOpMode validates op_mode/op_start_time for update and del:
// 0 = all, 1 = this occurrence, 2 = this and later (repeating only).
func checkOpMode(req *scheduleRequest, sc *Schedule) *apiError {
	mode := req.OpMode.v
	switch {
	case mode < 0 || mode > 2:
		return errCodef(codeBadOpMode, "op_mode %d", mode)
	case mode == 0:
		return nil
	case sc.Reminders.IsRepeat != 1:
		return errCode(codeOpModeNeedsRepeat)
	case req.OpStartTime.v < sc.StartTime:
		// Occurrence alignment is not checked (simplification).
		return errCodef(codeBadOpStartTime, "op_start_time before the first occurrence")
	}
	return nil
}

// splitRepeating applies op_mode 1/2 to the original schedule: mode 1
// skips one occurrence, mode 2 ends the series before op_start_time.
func splitRepeating(sc *Schedule, mode, opStart int64) {
	if mode == 1 {
		sc.Reminders.ExcludeTimeList = append(sc.Reminders.ExcludeTimeList, ExcludeTime{StartTime: opStart})
	} else {
		sc.Reminders.RepeatUntil = opStart - 1
	}
}

// handleScheduleUpdate implements POST oa/schedule/update: the body
// overwrites the schedule (cal_id cannot change). With op_mode 1/2 on a
// repeating schedule the original is split and the new id returned.
func handleScheduleUpdate(s *Sim, c *call) reply {
	var req scheduleRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	b := req.Schedule
	if b == nil {
		return failf(codeInvalidParam, "schedule is required")
	}
	sc, e := s.scheduleForApp(b.ScheduleID.v, c.app, false)
	if e != nil {
		return failErr(e)
	}
	if b.CalID.given() && b.CalID.v != sc.CalID {
		return failf(codeInvalidParam, "cal_id cannot be changed")
	}
	if e := checkOpMode(&req, sc); e != nil {
		return failErr(e)
	}
	var keep []Attendee
	if req.SkipAttendees.v == 1 {
		keep = slices.Clone(sc.Attendees)
	}
	next, e := s.buildSchedule(b, keep)
	if e != nil {
		return failErr(e)
	}
	if mode := req.OpMode.v; mode != 0 {
		if next.StartTime < req.OpStartTime.v {
			return fail(codeStartBeforeOpStart)
		}
		splitRepeating(sc, mode, req.OpStartTime.v)
		if mode == 1 {
			next.Reminders.IsRepeat = 0
		}
		return ok(map[string]any{"schedule_id": s.storeSchedule(next, sc.CalID, c)})
	}
	if sc.Reminders.IsRepeat != 1 && next.StartTime != sc.StartTime && next.StartTime < c.now.Unix() {
		return fail(codeStartInPast)
	}
	next.ScheduleID, next.AgentID, next.CalID, next.CreatedAt, next.seq = sc.ScheduleID, sc.AgentID, sc.CalID, sc.CreatedAt, sc.seq
	next.Reminders.ExcludeTimeList = sc.Reminders.ExcludeTimeList
	next.Sequence = uint64(s.nextSeq())
	*sc = next
	return ok(map[string]any{"schedule_id": sc.ScheduleID})
}

func scheduleJSON(sc *Schedule) map[string]any {
	return map[string]any{
		"schedule_id": sc.ScheduleID, "admins": nonNil(slices.Clone(sc.Admins)),
		"attendees": nonNil(slices.Clone(sc.Attendees)), "summary": sc.Summary, "description": sc.Description,
		"reminders": sc.Reminders.clone(), "location": sc.Location, "cal_id": sc.CalID,
		"start_time": sc.StartTime, "end_time": sc.EndTime, "status": sc.Status,
		"is_whole_day": sc.IsWholeDay, "sequence": sc.Sequence,
	}
}

// handleScheduleGet implements POST oa/schedule/get: cancelled schedules
// are returned too, with status 1.
func handleScheduleGet(s *Sim, c *call) reply {
	var req scheduleRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if len(req.ScheduleIDList.v) == 0 {
		return fail(codeEmptyScheduleIDList)
	}
	if len(req.ScheduleIDList.v) > maxSchedGetIDs {
		return failf(codeInvalidParam, "more than %d schedule ids", maxSchedGetIDs)
	}
	out := []map[string]any{}
	for _, id := range req.ScheduleIDList.v {
		sc, e := s.scheduleForApp(id, c.app, true)
		if e != nil {
			return failErr(e)
		}
		out = append(out, scheduleJSON(sc))
	}
	return ok(map[string]any{"schedule_list": out})
}

// handleScheduleByCalendar implements POST oa/schedule/get_by_calendar.
func handleScheduleByCalendar(s *Sim, c *call) reply {
	var req scheduleRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	cal, e := s.calendarForApp(req.CalID.v, c.app)
	if e != nil {
		return failErr(e)
	}
	if req.Offset.v < 0 {
		return fail(codeBadPage)
	}
	limit := req.Limit.v
	if !req.Limit.nonZero() {
		limit = defaultByCalLimit
	}
	if limit < 1 || limit > maxByCalLimit {
		return fail(codePageSizeOverLimit)
	}
	var list []*Schedule
	for _, sc := range s.schedules {
		if sc.CalID == cal.CalID {
			list = append(list, sc)
		}
	}
	slices.SortFunc(list, func(a, b *Schedule) int { return cmp.Compare(a.seq, b.seq) })
	out := []map[string]any{}
	for i := int(req.Offset.v); i < len(list) && len(out) < int(limit); i++ {
		out = append(out, scheduleJSON(list[i]))
	}
	return ok(map[string]any{"schedule_list": out})
}

// handleScheduleDel implements POST oa/schedule/del: cancels (status 1);
// op_mode 1/2 cancel one occurrence or the rest of a series.
func handleScheduleDel(s *Sim, c *call) reply {
	var req scheduleRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	sc, e := s.scheduleForApp(req.ScheduleID.v, c.app, false)
	if e != nil {
		return failErr(e)
	}
	if e := checkOpMode(&req, sc); e != nil {
		return failErr(e)
	}
	if mode := req.OpMode.v; mode != 0 {
		splitRepeating(sc, mode, req.OpStartTime.v)
	} else {
		sc.Status = scheduleCancelled
	}
	sc.Sequence = uint64(s.nextSeq())
	return ok(nil)
}

// handleScheduleAddAttendees implements POST oa/schedule/add_attendees.
func handleScheduleAddAttendees(s *Sim, c *call) reply {
	var req scheduleRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	sc, e := s.scheduleForApp(req.ScheduleID.v, c.app, false)
	if e != nil {
		return failErr(e)
	}
	add, e := s.resolveAttendees(req.Attendees)
	if e != nil {
		return failErr(e)
	}
	merged := slices.Clone(sc.Attendees)
	for _, a := range add {
		if !slices.ContainsFunc(merged, func(x Attendee) bool { return x.UserID == a.UserID }) {
			merged = append(merged, a)
		}
	}
	if len(merged) > maxAttendees {
		return fail(codeTooManyAttendees)
	}
	sc.Attendees, sc.Sequence = merged, uint64(s.nextSeq())
	return ok(nil)
}

// handleScheduleDelAttendees implements POST oa/schedule/del_attendees
// (≤300 per call); removed admins stop being admins.
func handleScheduleDelAttendees(s *Sim, c *call) reply {
	var req scheduleRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	sc, e := s.scheduleForApp(req.ScheduleID.v, c.app, false)
	if e != nil {
		return failErr(e)
	}
	if len(req.Attendees) > maxDelAttendees {
		return failf(codeInvalidParam, "more than %d attendees per call", maxDelAttendees)
	}
	for _, a := range req.Attendees {
		drop := func(id string) bool { return strings.EqualFold(id, a.UserID.v) }
		sc.Attendees = slices.DeleteFunc(sc.Attendees, func(x Attendee) bool { return drop(x.UserID) })
		sc.Admins = slices.DeleteFunc(sc.Admins, drop)
	}
	sc.Sequence = uint64(s.nextSeq())
	return ok(nil)
}

func (s *Sim) sortedSchedules() []*Schedule {
	out := make([]*Schedule, 0, len(s.schedules))
	for _, sc := range s.schedules {
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b *Schedule) int { return cmp.Compare(a.seq, b.seq) })
	return out
}
