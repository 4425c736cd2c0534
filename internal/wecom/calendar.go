package wecom

import (
	"context"
	"time"
)

// Calendars manages calendars of the calling app (§6, current generation: no organizer;
// calendars belong to the app, with up to 3 admins).
type Calendars interface {
	AddCalendar(ctx context.Context, cal Calendar) (*AddCalendarResult, error)
	UpdateCalendar(ctx context.Context, cal Calendar, skipPublicRange bool) (*CalendarFailResult, error)
	GetCalendars(ctx context.Context, calIDs []string) ([]Calendar, error)
	DeleteCalendar(ctx context.Context, calID string) error
}

// Schedules manages schedules (events) of the calling app (§6).
type Schedules interface {
	AddSchedule(ctx context.Context, s Schedule) (scheduleID string, err error)
	UpdateSchedule(ctx context.Context, req UpdateScheduleRequest) (scheduleID string, err error)
	GetSchedules(ctx context.Context, scheduleIDs []string) ([]Schedule, error)
	GetSchedulesByCalendar(ctx context.Context, calID string, offset, limit int) ([]Schedule, error)
	DeleteSchedule(ctx context.Context, req DeleteScheduleRequest) error
}

// Calendar is a calendar, as sent by oa/calendar/add and update and returned by get.
type Calendar struct {
	// CalID is set by WeCom; required for update.
	CalID string `json:"cal_id,omitempty"`
	// Admins ≤3 userids, each also in Shares.
	Admins []string `json:"admins,omitempty"`
	// SetAsDefault 1 makes it the app's default calendar (add only).
	SetAsDefault int `json:"set_as_default,omitempty"`
	// Summary is required: 1–128 characters.
	Summary string `json:"summary"`
	// Color is required: "#RRGGBB".
	Color string `json:"color"`
	// Description 0–512 characters.
	Description string `json:"description,omitempty"`
	// Shares ≤2000 members.
	Shares []CalendarShare `json:"shares,omitempty"`
	// IsPublic 1 makes a public calendar (not updatable).
	IsPublic int `json:"is_public,omitempty"`
	// PublicRange is for public calendars only.
	PublicRange *PublicRange `json:"public_range,omitempty"`
	// IsCorpCalendar 1 makes a corp-wide calendar (needs PublicRange; not updatable).
	IsCorpCalendar int `json:"is_corp_calendar,omitempty"`
}

// CalendarShare gives a member access; Permission 1 view (default), 3 free/busy only.
type CalendarShare struct {
	UserID     string `json:"userid"`
	Permission int    `json:"permission,omitempty"`
}

// PublicRange is who sees a public calendar: ≤1000 userids, ≤100 department ids.
type PublicRange struct {
	UserIDs  []string `json:"userids,omitempty"`
	PartyIDs []int    `json:"partyids,omitempty"`
}

// AddCalendarResult is the reply of oa/calendar/add.
type AddCalendarResult struct {
	CalID string
	// FailResult lists shares WeCom rejected; the calendar was created anyway.
	FailResult *CalendarFailResult
}

// CalendarFailResult lists per-member failures of calendar add/update.
type CalendarFailResult struct {
	Shares []ShareFailure `json:"shares"`
}

// ShareFailure is one rejected share.
type ShareFailure struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	UserID  string `json:"userid"`
}

// AddCalendar creates a calendar (POST oa/calendar/add). There is no natural key, so a
// retried add whose first reply was lost can create two (see CallInfo.Ambiguous).
func (c *Client) AddCalendar(ctx context.Context, cal Calendar) (*AddCalendarResult, error) {
	cal.CalID = ""
	req := struct {
		Calendar Calendar `json:"calendar"`
	}{cal}
	var resp struct {
		CalID      string              `json:"cal_id"`
		FailResult *CalendarFailResult `json:"fail_result"`
	}
	if err := c.call(ctx, epCalendarAdd, nil, req, &resp); err != nil {
		return nil, err
	}
	if resp.FailResult != nil && len(resp.FailResult.Shares) == 0 {
		resp.FailResult = nil
	}
	return &AddCalendarResult{CalID: resp.CalID, FailResult: resp.FailResult}, nil
}

// UpdateCalendar overwrites a calendar (POST oa/calendar/update): fields left empty are
// cleared, not kept. skipPublicRange leaves the public range unchanged.
func (c *Client) UpdateCalendar(ctx context.Context, cal Calendar, skipPublicRange bool) (*CalendarFailResult, error) {
	cal.SetAsDefault, cal.IsPublic, cal.IsCorpCalendar = 0, 0, 0 // not updatable
	req := struct {
		SkipPublicRange int      `json:"skip_public_range,omitempty"`
		Calendar        Calendar `json:"calendar"`
	}{boolInt(skipPublicRange), cal}
	var resp struct {
		FailResult *CalendarFailResult `json:"fail_result"`
	}
	if err := c.call(ctx, epCalendarUpdate, nil, req, &resp); err != nil {
		return nil, err
	}
	if resp.FailResult != nil && len(resp.FailResult.Shares) == 0 {
		return nil, nil
	}
	return resp.FailResult, nil
}

// GetCalendars returns calendars by id, ≤1000 per call (POST oa/calendar/get).
func (c *Client) GetCalendars(ctx context.Context, calIDs []string) ([]Calendar, error) {
	req := struct {
		CalIDList []string `json:"cal_id_list"`
	}{calIDs}
	var resp struct {
		CalendarList []Calendar `json:"calendar_list"`
	}
	if err := c.call(ctx, epCalendarGet, nil, req, &resp); err != nil {
		return nil, err
	}
	return resp.CalendarList, nil
}

// DeleteCalendar deletes a calendar (POST oa/calendar/del).
func (c *Client) DeleteCalendar(ctx context.Context, calID string) error {
	req := struct {
		CalID string `json:"cal_id"`
	}{calID}
	return c.call(ctx, epCalendarDel, nil, req, nil)
}

// Schedule is a schedule, as sent by oa/schedule/add and update and returned by get.
type Schedule struct {
	// ScheduleID is set by WeCom; required for update.
	ScheduleID string `json:"schedule_id,omitempty"`
	// Admins ≤3 userids, each also an attendee.
	Admins []string `json:"admins,omitempty"`
	// Attendees ≤1000.
	Attendees []Attendee `json:"attendees,omitempty"`
	// Summary 0–128 characters.
	Summary string `json:"summary,omitempty"`
	// Description ≤1000 characters.
	Description string `json:"description,omitempty"`
	// Location ≤128 characters.
	Location string `json:"location,omitempty"`
	// StartTime and EndTime are required, unix seconds.
	StartTime int64 `json:"start_time"`
	EndTime   int64 `json:"end_time"`
	// IsWholeDay 1 for an all-day schedule.
	IsWholeDay int `json:"is_whole_day,omitempty"`
	// CalID must be a calendar of this app; empty uses the app's default calendar.
	CalID     string     `json:"cal_id,omitempty"`
	Reminders *Reminders `json:"reminders,omitempty"`
	// Status (get only): 0 normal, 1 cancelled. Cancelled schedules are still returned.
	Status int `json:"status,omitempty"`
}

// Schedule status values.
const (
	ScheduleStatusNormal    = 0
	ScheduleStatusCancelled = 1
)

// Cancelled reports whether the schedule was deleted (oa/schedule/del cancels; get still
// returns it).
func (s *Schedule) Cancelled() bool { return s.Status == ScheduleStatusCancelled }

// forWrite returns a copy of s without the fields only get returns (status, attendees'
// response_status, reminders.exclude_time_list), so a fetched schedule can be sent back.
func (s Schedule) forWrite() Schedule {
	s.Status = 0
	if s.Attendees != nil {
		attendees := make([]Attendee, len(s.Attendees))
		for i, a := range s.Attendees {
			attendees[i] = Attendee{UserID: a.UserID}
		}
		s.Attendees = attendees
	}
	if s.Reminders != nil {
		r := *s.Reminders
		r.ExcludeTimeList = nil
		s.Reminders = &r
	}
	return s
}

// Attendee is a schedule attendee. ResponseStatus (get only): 0 pending, 1 tentative,
// 2 accepted, 3 accepted once, 4 declined.
type Attendee struct {
	UserID         string `json:"userid"`
	ResponseStatus int    `json:"response_status,omitempty"`
}

// Reminders configures reminders and repetition.
type Reminders struct {
	IsRemind int `json:"is_remind,omitempty"`
	// RemindBeforeEventSecs is deprecated in favour of RemindTimeDiffs; one of 0, 300, 900,
	// 3600, 86400. nil does not send it (0 means "at the start").
	RemindBeforeEventSecs *int `json:"remind_before_event_secs,omitempty"`
	// RemindTimeDiffs: subset of {0, -300, -900, -3600, -86400} (whole-day also 32400,
	// -172800, -604800). Takes precedence when non-empty.
	RemindTimeDiffs []int `json:"remind_time_diffs,omitempty"`
	IsRepeat        int   `json:"is_repeat,omitempty"`
	// RepeatType: 0 daily, 1 weekly, 2 monthly, 5 yearly, 7 workdays. A pointer because 0
	// (daily) is a real value.
	RepeatType *int `json:"repeat_type,omitempty"`
	// RepeatUntil is unix seconds; 0 repeats forever.
	RepeatUntil      int64 `json:"repeat_until,omitempty"`
	IsCustomRepeat   int   `json:"is_custom_repeat,omitempty"`
	RepeatInterval   int   `json:"repeat_interval,omitempty"`
	RepeatDayOfWeek  []int `json:"repeat_day_of_week,omitempty"`
	RepeatDayOfMonth []int `json:"repeat_day_of_month,omitempty"`
	// Timezone is the UTC offset −12…+12; nil means WeCom's default (+8). A pointer because 0
	// (UTC) is a real value.
	Timezone *int `json:"timezone,omitempty"`
	// ExcludeTimeList (get only) lists cancelled occurrences.
	ExcludeTimeList []ExcludeTime `json:"exclude_time_list,omitempty"`
}

// Repeat types of reminders.repeat_type.
const (
	RepeatDaily    = 0
	RepeatWeekly   = 1
	RepeatMonthly  = 2
	RepeatYearly   = 5
	RepeatWorkdays = 7
)

// DefaultTimezone is the UTC offset WeCom assumes when reminders.timezone is absent (China
// Standard Time).
const DefaultTimezone = 8

// RemindBefore is the remind_time_diffs entry of a reminder d before the start (WeCom counts
// seconds, negative before the start).
func RemindBefore(d time.Duration) int { return -int(d / time.Second) }

// RemindOnTheDayAt is the remind_time_diffs entry of a reminder at clock time t (since
// midnight) on the day of a whole-day schedule: 9h is WeCom's 32400.
func RemindOnTheDayAt(t time.Duration) int { return int(t / time.Second) }

// ExcludeTime is a cancelled occurrence of a repeating schedule.
type ExcludeTime struct {
	StartTime int64 `json:"start_time"`
}

// Schedule op_mode values for update and delete of repeating schedules.
const (
	OpModeAll          = 0 // every occurrence
	OpModeThisOnly     = 1 // only the occurrence starting at op_start_time
	OpModeThisAndLater = 2 // that occurrence and all later ones
)

// UpdateScheduleRequest is the body of oa/schedule/update. The update overwrites; creator
// and cal_id cannot change.
type UpdateScheduleRequest struct {
	// SkipAttendees 1 leaves the attendees unchanged.
	SkipAttendees int `json:"skip_attendees,omitempty"`
	// OpMode is an OpMode constant (repeating schedules only).
	OpMode int `json:"op_mode,omitempty"`
	// OpStartTime is the start of the occurrence OpMode refers to.
	OpStartTime int64    `json:"op_start_time,omitempty"`
	Schedule    Schedule `json:"schedule"`
}

// DeleteScheduleRequest is the body of oa/schedule/del.
type DeleteScheduleRequest struct {
	ScheduleID  string `json:"schedule_id"`
	OpMode      int    `json:"op_mode,omitempty"`
	OpStartTime int64  `json:"op_start_time,omitempty"`
}

// AddSchedule creates a schedule and returns its id (POST oa/schedule/add). No natural key:
// see AddCalendar.
func (c *Client) AddSchedule(ctx context.Context, s Schedule) (string, error) {
	s = s.forWrite()
	s.ScheduleID = ""
	req := struct {
		Schedule Schedule `json:"schedule"`
	}{s}
	var resp struct {
		ScheduleID string `json:"schedule_id"`
	}
	if err := c.call(ctx, epScheduleAdd, nil, req, &resp); err != nil {
		return "", err
	}
	return resp.ScheduleID, nil
}

// UpdateSchedule overwrites a schedule (POST oa/schedule/update). It returns the schedule's
// id, which is new when an occurrence of a repeating schedule was split off.
func (c *Client) UpdateSchedule(ctx context.Context, req UpdateScheduleRequest) (string, error) {
	req.Schedule = req.Schedule.forWrite()
	var resp struct {
		ScheduleID string `json:"schedule_id"`
	}
	if err := c.call(ctx, epScheduleUpdate, nil, req, &resp); err != nil {
		return "", err
	}
	if resp.ScheduleID == "" {
		resp.ScheduleID = req.Schedule.ScheduleID
	}
	return resp.ScheduleID, nil
}

// GetSchedules returns schedules by id, ≤1000 per call, cancelled ones included
// (POST oa/schedule/get).
func (c *Client) GetSchedules(ctx context.Context, scheduleIDs []string) ([]Schedule, error) {
	req := struct {
		ScheduleIDList []string `json:"schedule_id_list"`
	}{scheduleIDs}
	var resp struct {
		ScheduleList []Schedule `json:"schedule_list"`
	}
	if err := c.call(ctx, epScheduleGet, nil, req, &resp); err != nil {
		return nil, err
	}
	return resp.ScheduleList, nil
}

// ScheduleByCalendarPageMax is the largest page oa/schedule/get_by_calendar returns.
const ScheduleByCalendarPageMax = 1000

// GetSchedulesByCalendar reads one page of the schedules in a calendar this app created
// (POST oa/schedule/get_by_calendar). The last page is the first empty one.
func (c *Client) GetSchedulesByCalendar(ctx context.Context, calID string, offset, limit int) ([]Schedule, error) {
	req := struct {
		CalID  string `json:"cal_id"`
		Offset int    `json:"offset"`
		Limit  int    `json:"limit"`
	}{calID, offset, limit}
	var resp struct {
		ScheduleList []Schedule `json:"schedule_list"`
	}
	if err := c.call(ctx, epScheduleByCalendar, nil, req, &resp); err != nil {
		return nil, err
	}
	return resp.ScheduleList, nil
}

// DeleteSchedule cancels a schedule or some of its occurrences (POST oa/schedule/del).
func (c *Client) DeleteSchedule(ctx context.Context, req DeleteScheduleRequest) error {
	return c.call(ctx, epScheduleDel, nil, req, nil)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
