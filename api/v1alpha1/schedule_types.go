package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RepeatType is how a schedule repeats.
// +kubebuilder:validation:Enum=Daily;Weekly;Monthly;Yearly;Workdays
type RepeatType string

const (
	RepeatDaily    RepeatType = "Daily"
	RepeatWeekly   RepeatType = "Weekly"
	RepeatMonthly  RepeatType = "Monthly"
	RepeatYearly   RepeatType = "Yearly"
	RepeatWorkdays RepeatType = "Workdays"
)

// RemindBefore is how long before the start a reminder fires, from the values WeCom allows.
// +kubebuilder:validation:Enum="0s";"5m";"15m";"1h";"24h";"48h";"168h";"OnTheDayAt9"
type RemindBefore string

// ScheduleReminders says when attendees are reminded.
type ScheduleReminders struct {
	// before lists when reminders fire: 0s (at the start), 5m, 15m, 1h, 24h; for whole-day
	// schedules also 48h, 168h (one week) and OnTheDayAt9 (09:00 on the day). Empty means no
	// reminder. At most 8 values, no repeats.
	// +kubebuilder:validation:MaxItems=8
	// +listType=set
	// +optional
	Before []RemindBefore `json:"before,omitempty"`
	// timezone is the UTC offset in hours (-12 to 12) in which repeats and reminders are
	// computed. Defaults to 8 (China Standard Time).
	// +kubebuilder:validation:Minimum=-12
	// +kubebuilder:validation:Maximum=12
	// +kubebuilder:default=8
	// +optional
	Timezone *int32 `json:"timezone,omitempty"`
}

// ScheduleRepeat says how a schedule repeats.
// +kubebuilder:validation:XValidation:rule="!has(self.daysOfWeek) || self.type == 'Weekly'",message="daysOfWeek only applies to Weekly repeats"
// +kubebuilder:validation:XValidation:rule="!has(self.daysOfMonth) || self.type == 'Monthly'",message="daysOfMonth only applies to Monthly repeats"
type ScheduleRepeat struct {
	// type is Daily, Weekly, Monthly, Yearly or Workdays.
	Type RepeatType `json:"type"`
	// until is when the repetition ends (RFC 3339). Unset repeats forever.
	// +optional
	Until *metav1.Time `json:"until,omitempty"`
	// interval repeats every N days, weeks, months or years (a custom repeat). 1 to 100.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	Interval *int32 `json:"interval,omitempty"`
	// daysOfWeek, for Weekly, are the days it falls on: 1 (Monday) to 7 (Sunday).
	// +kubebuilder:validation:MaxItems=7
	// +kubebuilder:validation:items:Minimum=1
	// +kubebuilder:validation:items:Maximum=7
	// +listType=set
	// +optional
	DaysOfWeek []int32 `json:"daysOfWeek,omitempty"`
	// daysOfMonth, for Monthly, are the days of the month it falls on: 1 to 31.
	// +kubebuilder:validation:MaxItems=31
	// +kubebuilder:validation:items:Minimum=1
	// +kubebuilder:validation:items:Maximum=31
	// +listType=set
	// +optional
	DaysOfMonth []int32 `json:"daysOfMonth,omitempty"`
}

// ScheduleSpec is an event in a WeCom calendar (日程).
// +kubebuilder:validation:XValidation:rule="self.end > self.start",message="end must be after start"
// +kubebuilder:validation:XValidation:rule="!has(self.admins) || self.admins.all(a, has(self.attendees) && a in self.attendees)",message="admins must be among attendees"
// +kubebuilder:validation:XValidation:rule="!has(self.repeat) || !has(self.repeat.until) || self.repeat.until > self.start",message="repeat.until must be after start"
// +kubebuilder:validation:XValidation:rule="!has(self.reminders) || !has(self.reminders.before) || self.wholeDay || self.reminders.before.all(b, b in ['0s', '5m', '15m', '1h', '24h'])",message="48h, 168h and OnTheDayAt9 reminders need wholeDay: true"
// +kubebuilder:validation:XValidation:rule="has(self.calendarID) == has(oldSelf.calendarID) && (!has(self.calendarID) || self.calendarID == oldSelf.calendarID)",message="calendarID is immutable"
// +kubebuilder:validation:XValidation:rule="!(has(self.calendarID) && has(self.calendarRef))",message="set at most one of calendarID and calendarRef"
// +kubebuilder:validation:XValidation:rule="has(self.calendarRef) == has(oldSelf.calendarRef) && (!has(self.calendarRef) || self.calendarRef.name == oldSelf.calendarRef.name)",message="calendarRef is immutable: WeCom cannot move a schedule to another calendar (oa/schedule/update cannot change cal_id)"
type ScheduleSpec struct {
	DeletableSpec `json:",inline"`

	// calendarID is the WeCom cal_id of a calendar created by this app. When unset the app's
	// default calendar is used. Immutable: WeCom cannot move a schedule between calendars.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +optional
	CalendarID string `json:"calendarID,omitempty"`

	// calendarRef names a WeComCalendar in the same namespace to hold the schedule; the
	// schedule waits until the calendar has a cal_id. The WeComCalendar must use the same app
	// (WeCom answers 90466 for another app's calendar). Immutable: WeCom cannot move a
	// schedule between calendars, so to move one, recreate the Schedule.
	// +optional
	CalendarRef *LocalObjectReference `json:"calendarRef,omitempty"`

	// summary is the title, up to 128 characters. Empty shows as 新建事件.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Summary string `json:"summary,omitempty"`

	// description, up to 1000 characters.
	// +kubebuilder:validation:MaxLength=1000
	// +optional
	Description string `json:"description,omitempty"`

	// location, up to 128 characters.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Location string `json:"location,omitempty"`

	// start time (RFC 3339, for example 2026-12-01T10:00:00+08:00). WeCom keeps whole seconds.
	Start metav1.Time `json:"start"`

	// end time (RFC 3339), after start.
	End metav1.Time `json:"end"`

	// wholeDay marks an all-day schedule.
	// +optional
	WholeDay bool `json:"wholeDay,omitempty"`

	// attendees are userIDs, at most 1000.
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	Attendees []string `json:"attendees,omitempty"`

	// admins are userIDs who may edit the schedule, at most 3, all among attendees.
	// +kubebuilder:validation:MaxItems=3
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	Admins []string `json:"admins,omitempty"`

	// reminders say when attendees are reminded.
	// +optional
	Reminders *ScheduleReminders `json:"reminders,omitempty"`

	// repeat makes the schedule repeat.
	// +optional
	Repeat *ScheduleRepeat `json:"repeat,omitempty"`
}

// ScheduleStatus reports the schedule's WeCom id.
type ScheduleStatus struct {
	ManagedStatus `json:",inline"`
	// scheduleID is the WeCom schedule_id.
	// +optional
	ScheduleID string `json:"scheduleID,omitempty"`
	// calendarID is the cal_id the schedule lives in.
	// +optional
	CalendarID string `json:"calendarID,omitempty"`

	// calendarRef names a WeComCalendar in the same namespace to hold the schedule; the
	// schedule waits until the calendar has a cal_id. The WeComCalendar must use the same app
	// (WeCom answers 90466 for another app's calendar). Immutable: WeCom cannot move a
	// schedule between calendars, so to move one, recreate the Schedule.
	// +optional
	CalendarRef *LocalObjectReference `json:"calendarRef,omitempty"`
}

// Schedule is an event in a WeCom calendar owned by the connection's self-built app.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomsched;wcs,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="ScheduleID",type=string,JSONPath=`.status.scheduleID`
// +kubebuilder:printcolumn:name="Start",type=string,JSONPath=`.spec.start`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Schedule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ScheduleSpec   `json:"spec"`
	Status ScheduleStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ScheduleList contains a list of Schedule.
type ScheduleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Schedule `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Schedule{}, &ScheduleList{})
}
