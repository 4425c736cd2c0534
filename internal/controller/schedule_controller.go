package controller

import (
	"context"
	"slices"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=schedules,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=schedules/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=schedules/finalizers,verbs=update

// EventCancelledInWeCom says a schedule was found cancelled in WeCom and is made again.
const EventCancelledInWeCom = "CancelledInWeCom"

const (
	// scheduleGetBatch is how many ids oa/schedule/get takes at once.
	scheduleGetBatch = 1000
	// defaultScheduleTimezone is WeCom's default reminders.timezone (China Standard Time).
	defaultScheduleTimezone = 8
)

// scheduleRemindDiffs maps spec.reminders.before to reminders.remind_time_diffs (seconds relative to
// the start; 32400 is 09:00 on the day of a whole-day schedule).
var scheduleRemindDiffs = map[v1.RemindBefore]int{
	"0s": 0, "5m": -300, "15m": -900, "1h": -3600, "24h": -86400,
	"48h": -172800, "168h": -604800, "OnTheDayAt9": 32400,
}

// scheduleRepeatTypes maps spec.repeat.type to reminders.repeat_type.
var scheduleRepeatTypes = map[v1.RepeatType]int{
	v1.RepeatDaily: 0, v1.RepeatWeekly: 1, v1.RepeatMonthly: 2, v1.RepeatYearly: 5, v1.RepeatWorkdays: 7,
}

// schedules is the Schedule part of the reconcile. oa/schedule/get takes up to 1,000 ids, so
// drift checks read every schedule of a connection in one call per 1,000 objects per
// interval, shared by all of them; cancelled schedules come back with status 1 and are made
// again. WeCom's update overwrites the whole schedule, so Update always sends every field.
type schedules struct {
	kube      client.Client
	fresh     client.Reader // uncached, see readUncached
	recorder  events.EventRecorder
	snapshots *snapshots
	maxAge    time.Duration
}

type scheduleIndex = index[string, wecom.Schedule]

// index reads the schedules of every Schedule object of obj's connection and namespace.
func (s *schedules) index(ctx context.Context, c *Connection, obj *v1.Schedule) (*scheduleIndex, error) {
	key := c.Scope + "|schedules|" + obj.Namespace + "/" + c.Name
	v, err := s.snapshots.get(ctx, key, s.maxAge, func(ctx context.Context) (any, error) {
		list := &v1.ScheduleList{}
		if err := s.kube.List(ctx, list, client.InNamespace(obj.Namespace), client.MatchingFields{indexConnection: c.Name}); err != nil {
			return nil, err
		}
		var ids []string
		for _, o := range list.Items {
			if id := o.Status.ScheduleID; id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		idx := newIndex[string, wecom.Schedule]()
		for chunk := range slices.Chunk(ids, scheduleGetBatch) {
			got, err := getSchedules(ctx, c, chunk)
			if err != nil {
				return nil, err
			}
			for _, sc := range got {
				idx.m[sc.ScheduleID] = sc
			}
		}
		return idx, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*scheduleIndex), nil
}

// getSchedules reads ids in one call. WeCom refuses the whole call for one bad id (invalid,
// or another app's), so then it reads them one by one and leaves those out.
func getSchedules(ctx context.Context, c *Connection, ids []string) ([]wecom.Schedule, error) {
	got, err := c.Client.GetSchedules(ctx, ids)
	if err == nil || !wecom.IsTerminal(err) {
		return got, err
	}
	if len(ids) == 1 {
		return nil, nil
	}
	var out []wecom.Schedule
	for _, id := range ids {
		one, err := c.Client.GetSchedules(ctx, []string{id})
		switch {
		case wecom.IsTerminal(err):
		case err != nil:
			return nil, err
		default:
			out = append(out, one...)
		}
	}
	return out, nil
}

func (s *schedules) Observe(ctx context.Context, c *Connection, obj *v1.Schedule) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	if !deleting {
		if err := needSelfBuiltApp(c, "schedules"); err != nil {
			return Observation{}, err
		}
		if obj.Status.ScheduleID == "" {
			// The cache may not show yet what a create just before this reconcile stored.
			cur, err := readUncached(ctx, s.fresh, obj)
			if err != nil {
				return Observation{}, err
			}
			obj.Status = cur.Status
		}
	}
	id := obj.Status.ScheduleID
	if id == "" {
		return Observation{}, nil
	}

	var (
		got   wecom.Schedule
		found bool
		idx   *scheduleIndex
	)
	if !deleting {
		if x, err := s.index(ctx, c, obj); err == nil {
			idx = x
			got, found = idx.get(id)
		}
	}
	if !found {
		// Not in the last read (created since), or deleting: one get decides.
		list, err := c.Client.GetSchedules(ctx, []string{id})
		if err != nil && !wecom.IsNotFound(err) {
			return Observation{}, err
		}
		if err == nil && len(list) > 0 {
			got, found = list[0], true
			if idx != nil {
				idx.set(id, got)
			}
		}
	}
	if !found || got.Cancelled() {
		if !deleting {
			if s.recorder != nil {
				s.recorder.Eventf(obj, nil, "Normal", EventCancelledInWeCom, "Observe",
					"Schedule %s was cancelled or deleted in WeCom; making it again", id)
			}
			obj.Status.ScheduleID = ""
		}
		return Observation{}, nil
	}
	if got.CalID != "" {
		obj.Status.CalendarID = got.CalID
	}
	if deleting {
		return Observation{Exists: true}, nil
	}
	want := desiredSchedule(obj)
	return Observation{Exists: true, UpToDate: scheduleMatches(&got, &want)}, nil
}

func (s *schedules) Create(ctx context.Context, c *Connection, obj *v1.Schedule) error {
	if err := needSelfBuiltApp(c, "schedules"); err != nil {
		return err
	}
	want := desiredSchedule(obj)
	var info wecom.CallInfo
	id, err := c.Client.AddSchedule(wecom.WithCallInfo(ctx, &info), want)
	if (err != nil && wecom.IsAmbiguous(err)) || (err == nil && info.Ambiguous) {
		if s.recorder != nil {
			s.recorder.Eventf(obj, nil, "Warning", EventPossibleDuplicate, "Create",
				"A create reply from WeCom was lost and the call was repeated: the calendar may hold a copy of this schedule; cancel it in WeCom if so")
		}
	}
	if err != nil {
		return err
	}
	obj.Status.ScheduleID = id
	if want.CalID != "" {
		obj.Status.CalendarID = want.CalID // else the next read names the app's default calendar
	}
	return nil
}

func (s *schedules) Update(ctx context.Context, c *Connection, obj *v1.Schedule) error {
	want := desiredSchedule(obj)
	want.ScheduleID, want.CalID = obj.Status.ScheduleID, "" // cal_id cannot change
	id, err := c.Client.UpdateSchedule(ctx, wecom.UpdateScheduleRequest{Schedule: want})
	if wecom.IsNotFound(err) {
		// Cancelled since it was read: make it again rather than wait for the next check.
		obj.Status.ScheduleID = ""
		return s.Create(ctx, c, obj)
	}
	if err != nil {
		return err
	}
	obj.Status.ScheduleID = id
	// Keep the shared read in step with this write, so the next check does not undo it.
	if idx, err := s.index(ctx, c, obj); err == nil {
		want.ScheduleID, want.CalID = id, obj.Status.CalendarID
		idx.set(id, want)
	}
	return nil
}

func (s *schedules) Delete(ctx context.Context, c *Connection, obj *v1.Schedule) error {
	id := obj.Status.ScheduleID
	if id == "" {
		return nil // never created
	}
	err := c.Client.DeleteSchedule(ctx, wecom.DeleteScheduleRequest{ScheduleID: id})
	if err != nil && !wecom.IsNotFound(err) {
		return err
	}
	return nil
}

// desiredSchedule is the whole schedule the spec asks for, as oa/schedule/add takes it.
func desiredSchedule(obj *v1.Schedule) wecom.Schedule {
	sp := obj.Spec
	sc := wecom.Schedule{
		Admins: sp.Admins, Summary: sp.Summary, Description: sp.Description, Location: sp.Location,
		StartTime: sp.Start.Unix(), EndTime: sp.End.Unix(), CalID: sp.CalendarID,
	}
	if sp.WholeDay {
		sc.IsWholeDay = 1
	}
	for _, a := range sp.Attendees {
		sc.Attendees = append(sc.Attendees, wecom.Attendee{UserID: a})
	}
	r := &wecom.Reminders{Timezone: ptr(defaultScheduleTimezone)}
	if rem := sp.Reminders; rem != nil {
		if rem.Timezone != nil {
			r.Timezone = ptr(int(*rem.Timezone))
		}
		for _, b := range rem.Before {
			r.RemindTimeDiffs = append(r.RemindTimeDiffs, scheduleRemindDiffs[b])
		}
		if len(r.RemindTimeDiffs) > 0 {
			r.IsRemind = 1
		}
	}
	if rep := sp.Repeat; rep != nil {
		r.IsRepeat, r.RepeatType = 1, ptr(scheduleRepeatTypes[rep.Type])
		if rep.Until != nil {
			r.RepeatUntil = rep.Until.Unix()
		}
		if rep.Interval != nil || len(rep.DaysOfWeek) > 0 || len(rep.DaysOfMonth) > 0 {
			r.IsCustomRepeat, r.RepeatInterval = 1, 1
			if rep.Interval != nil {
				r.RepeatInterval = int(*rep.Interval)
			}
			r.RepeatDayOfWeek, r.RepeatDayOfMonth = scheduleInts(rep.DaysOfWeek), scheduleInts(rep.DaysOfMonth)
		}
	}
	sc.Reminders = r
	return sc
}

func scheduleInts(in []int32) []int {
	var out []int
	for _, v := range in {
		out = append(out, int(v))
	}
	return out
}

// scheduleMatches compares what oa/schedule/get returned with the schedule the spec asks
// for; userids are compared without case, lists as sets.
func scheduleMatches(got, want *wecom.Schedule) bool {
	if got.Summary != want.Summary || got.Description != want.Description || got.Location != want.Location ||
		got.StartTime != want.StartTime || got.EndTime != want.EndTime || got.IsWholeDay != want.IsWholeDay ||
		!sameSet(lower(attendeeIDs(got.Attendees)), lower(attendeeIDs(want.Attendees))) ||
		!sameSet(lower(got.Admins), lower(want.Admins)) {
		return false
	}
	g, w := got.Reminders, want.Reminders
	if g == nil {
		g = &wecom.Reminders{}
	}
	if g.IsRemind != w.IsRemind || scheduleTimezone(g) != scheduleTimezone(w) || g.IsRepeat != w.IsRepeat ||
		(w.IsRemind == 1 && !sameSet(g.RemindTimeDiffs, w.RemindTimeDiffs)) {
		return false
	}
	if w.IsRepeat == 1 {
		if scheduleRepeatType(g) != scheduleRepeatType(w) || g.RepeatUntil != w.RepeatUntil || g.IsCustomRepeat != w.IsCustomRepeat {
			return false
		}
		if w.IsCustomRepeat == 1 && (g.RepeatInterval != w.RepeatInterval ||
			!sameSet(g.RepeatDayOfWeek, w.RepeatDayOfWeek) || !sameSet(g.RepeatDayOfMonth, w.RepeatDayOfMonth)) {
			return false
		}
	}
	return true
}

func attendeeIDs(in []wecom.Attendee) []string {
	out := make([]string, len(in))
	for i, a := range in {
		out[i] = a.UserID
	}
	return out
}

func scheduleTimezone(r *wecom.Reminders) int {
	if r.Timezone == nil {
		return defaultScheduleTimezone
	}
	return *r.Timezone
}

func scheduleRepeatType(r *wecom.Reminders) int {
	if r.RepeatType == nil {
		return 0
	}
	return *r.RepeatType
}

func setupSchedules(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, snaps *snapshots) error {
	kube := mgr.GetClient()
	r := &ManagedReconciler[*v1.Schedule]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval,
		NewObject: func() *v1.Schedule { return &v1.Schedule{} },
		External: &schedules{kube: kube, fresh: mgr.GetAPIReader(), recorder: recorder, snapshots: snaps,
			maxAge: snapshotMaxAge(o.DriftInterval)},
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.Schedule{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1.WeComConnection{}, connectionDependants(kube, func() client.ObjectList { return &v1.ScheduleList{} }), builder.WithPredicates(readyChanged)).
		WithOptions(controllerOptions(o)).
		Named("schedule").
		Complete(r)
}
