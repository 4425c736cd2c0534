package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bounds of one WeComCalendar, from oa/calendar/add (DOC-93647).
const (
	MaxCalendarShares        = 2000
	MaxCalendarAdmins        = 3
	MaxCalendarPublicUsers   = 1000
	MaxCalendarPublicParties = 100
)

// CalendarPermission is what a share may see of the calendar.
// +kubebuilder:validation:Enum=View;FreeBusy
type CalendarPermission string

const (
	// CalendarView shows the calendar's schedules (WeCom permission 1, the default).
	CalendarView CalendarPermission = "View"
	// CalendarFreeBusy shows only when the calendar's owner is busy (WeCom permission 3).
	CalendarFreeBusy CalendarPermission = "FreeBusy"
)

// CalendarShare gives one member access to the calendar.
type CalendarShare struct {
	// userID is the WeCom userid of the member: 1 to 64 characters, compared without case.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	UserID string `json:"userID"`
	// permission is View (see the schedules, the default) or FreeBusy (see only busy times).
	// +kubebuilder:default=View
	// +optional
	Permission CalendarPermission `json:"permission,omitempty"`
}

// CalendarPublicRange is who sees a public calendar.
type CalendarPublicRange struct {
	// userIDs are members who see the calendar, at most 1000.
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	UserIDs []string `json:"userIDs,omitempty"`
	// departmentIDs are departments whose members see the calendar, at most 100.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:Minimum=1
	// +listType=set
	// +optional
	DepartmentIDs []int64 `json:"departmentIDs,omitempty"`
}

// WeComCalendarSpec is a calendar of the connection's self-built app (办公 → 日程 → 日历).
// WeCom's oa/calendar/update overwrites every field, so the calendar in WeCom is exactly the
// spec: shares or admins added by hand are removed.
// +kubebuilder:validation:XValidation:rule="!has(self.admins) || self.admins.all(a, has(self.shares) && self.shares.exists(s, s.userID.lowerAscii() == a.lowerAscii()))",message="admins must be among shares"
// +kubebuilder:validation:XValidation:rule="has(self.publicRange) ? self.public : true",message="publicRange needs public: true"
// +kubebuilder:validation:XValidation:rule="self.public ? has(self.publicRange) : true",message="a public calendar needs publicRange"
// +kubebuilder:validation:XValidation:rule="self.public == oldSelf.public",message="public is immutable (WeCom cannot change it)"
// +kubebuilder:validation:XValidation:rule="self.setAsDefault == oldSelf.setAsDefault",message="setAsDefault is immutable (WeCom takes it only when the calendar is created)"
type WeComCalendarSpec struct {
	DeletableSpec `json:",inline"`

	// summary is the calendar's name: 1 to 128 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Summary string `json:"summary"`

	// color is the calendar's colour as #RRGGBB (WeCom answers 90473 for anything else).
	// +kubebuilder:validation:Pattern=`^#[0-9A-Fa-f]{6}$`
	Color string `json:"color"`

	// description, up to 512 characters.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Description string `json:"description,omitempty"`

	// admins are userids who may edit the calendar, at most 3, each among shares.
	// +kubebuilder:validation:MaxItems=3
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	Admins []string `json:"admins,omitempty"`

	// shares are the members the calendar is shared with, at most 2000, each once. Userids
	// WeCom does not know are left out of the calendar (status.invalidShares).
	// +kubebuilder:validation:MaxItems=2000
	// +listType=map
	// +listMapKey=userID
	// +optional
	Shares []CalendarShare `json:"shares,omitempty"`

	// setAsDefault makes the calendar the app's default calendar when it is created (Schedules
	// without a calendar go there). WeCom takes it only on create. Immutable.
	// +kubebuilder:default=false
	// +optional
	SetAsDefault bool `json:"setAsDefault"`

	// public makes a public calendar (at most 100 per person), seen by publicRange. Immutable:
	// WeCom cannot change it.
	// +kubebuilder:default=false
	// +optional
	Public bool `json:"public"`

	// publicRange is who sees a public calendar; required with public: true.
	// +optional
	PublicRange *CalendarPublicRange `json:"publicRange,omitempty"`
}

// WeComCalendarStatus reports the calendar's WeCom id and the shares WeCom refused.
type WeComCalendarStatus struct {
	ManagedStatus `json:",inline"`
	// calendarID is the WeCom cal_id, what Schedule calendarRef uses.
	// +optional
	CalendarID string `json:"calendarID,omitempty"`
	// invalidShares are the userids WeCom left out of the calendar's shares (no such member),
	// at most 2000. Ready is False while any is listed.
	// +kubebuilder:validation:MaxItems=2000
	// +listType=atomic
	// +optional
	InvalidShares []string `json:"invalidShares,omitempty"`
}

// WeComCalendar is a calendar of the connection's self-built app, holding Schedules that name
// it in calendarRef. A calendar belongs to the app that created it: only a connection with
// that app's secret can read, change or delete it (WeCom answers 90466 to others).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomcal;wccal,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="CalendarID",type=string,JSONPath=`.status.calendarID`
// +kubebuilder:printcolumn:name="Summary",type=string,JSONPath=`.spec.summary`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WeComCalendar struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WeComCalendarSpec   `json:"spec"`
	Status WeComCalendarStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WeComCalendarList contains a list of WeComCalendar.
type WeComCalendarList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WeComCalendar `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WeComCalendar{}, &WeComCalendarList{})
}
