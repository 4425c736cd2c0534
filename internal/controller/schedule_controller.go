package controller

import (
	"context"
	"errors"
	"slices"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=schedules,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=schedules/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=schedules/finalizers,verbs=update

// EventCancelledInWeCom says a schedule was found cancelled in WeCom and is made again.
const EventCancelledInWeCom = "CancelledInWeCom"

// indexScheduleCalendar indexes Schedules by the WeComCalendar they name.
const indexScheduleCalendar = "spec.calendarRef.name"

// calendarIDChanged passes WeComCalendar updates whose cal_id changed: what Schedules with
// calendarRef wait for.
var calendarIDChanged = predicate.Funcs{
	CreateFunc: func(event.CreateEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1.WeComCalendar)
		n, ok2 := e.ObjectNew.(*v1.WeComCalendar)
		return ok1 && ok2 && o.Status.CalendarID != n.Status.CalendarID
	},
}

// scheduleGetBatch is how many ids oa/schedule/get takes at once.
const scheduleGetBatch = 1000

// scheduleRemindDiffs maps spec.reminders.before to reminders.remind_time_diffs.
var scheduleRemindDiffs = map[v1.RemindBefore]int{
	"0s": wecom.RemindBefore(0), "5m": wecom.RemindBefore(5 * time.Minute), "15m": wecom.RemindBefore(15 * time.Minute),
	"1h": wecom.RemindBefore(time.Hour), "24h": wecom.RemindBefore(24 * time.Hour), "48h": wecom.RemindBefore(48 * time.Hour),
	"168h": wecom.RemindBefore(168 * time.Hour), "OnTheDayAt9": wecom.RemindOnTheDayAt(9 * time.Hour),
}

// scheduleRepeatTypes maps spec.repeat.type to reminders.repeat_type.
var scheduleRepeatTypes = map[v1.RepeatType]int{
	v1.RepeatDaily: wecom.RepeatDaily, v1.RepeatWeekly: wecom.RepeatWeekly, v1.RepeatMonthly: wecom.RepeatMonthly,
	v1.RepeatYearly: wecom.RepeatYearly, v1.RepeatWorkdays: wecom.RepeatWorkdays,
}

// schedules connects Schedule objects to WeCom. oa/schedule/get takes up to 1,000 ids, so
// drift checks read every schedule of a connection in one call per 1,000 objects per
// interval, shared by all of them; cancelled schedules come back with status 1 and are made
// again. WeCom's update overwrites the whole schedule, so Update always sends every field.
//
// Every schedule is created in a calendar whose id the operator knows (spec.calendarRef's
// WeComCalendar, spec.calendarID, or the calendar the connection's reconciler created, Connection.CalendarID), so that a
// create whose reply was lost is found with oa/schedule/get_by_calendar: a schedule there
// that matches the spec and that no other Schedule object holds.
type schedules struct {
	kube      client.Client
	recorder  events.EventRecorder
	snapshots *snapshots
	maxAge    time.Duration
}

// scheduleClient is the Schedule part of one reconcile.
type scheduleClient struct {
	api wecom.Schedules
	*schedules
	c *Connection
}

func (s *schedules) Connect(_ context.Context, c *Connection, obj *v1.Schedule) (ExternalClient[*v1.Schedule], error) {
	if obj.DeletionTimestamp.IsZero() {
		if err := needSelfBuiltApp(c, "schedules"); err != nil {
			return nil, err
		}
	}
	return &scheduleClient{schedules: s, c: c, api: c.Client}, nil
}

type scheduleIndex = index[string, wecom.Schedule]

// calendarID is the calendar obj's schedule is created in.
func (s *scheduleClient) calendarID(ctx context.Context, obj *v1.Schedule) (string, error) {
	switch {
	case obj.Spec.CalendarRef != nil:
		return calendarIDOf(ctx, s.kube, obj.Namespace, obj.Spec.CalendarRef.Name)
	case obj.Spec.CalendarID != "":
		return obj.Spec.CalendarID, nil
	case s.c.CalendarID != "":
		return s.c.CalendarID, nil
	}
	return "", waitFor(v1.ReasonDependencyNotReady,
		"waiting for WeComConnection %q to create the calendar that Schedules without spec.calendarID go into (its status.calendarID)", s.c.Name)
}

// index reads the schedules of every Schedule object of obj's connection and namespace.
func (s *scheduleClient) index(ctx context.Context, obj *v1.Schedule) (*scheduleIndex, error) {
	key := s.c.Scope + "|schedules|" + obj.Namespace + "/" + s.c.Name
	v, err := s.snapshots.get(ctx, key, s.maxAge, func(ctx context.Context) (any, error) {
		list := &v1.ScheduleList{}
		if err := s.kube.List(ctx, list, client.InNamespace(obj.Namespace), client.MatchingFields{indexConnection: s.c.Name}); err != nil {
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
			got, err := s.getSchedules(ctx, chunk)
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
func (s *scheduleClient) getSchedules(ctx context.Context, ids []string) ([]wecom.Schedule, error) {
	got, err := s.api.GetSchedules(ctx, ids)
	if err == nil || !wecom.IsTerminal(err) {
		return got, err
	}
	if len(ids) == 1 {
		return nil, nil
	}
	var out []wecom.Schedule
	for _, id := range ids {
		one, err := s.api.GetSchedules(ctx, []string{id})
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

func (s *scheduleClient) Observe(ctx context.Context, obj *v1.Schedule) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	id := obj.Status.ScheduleID
	if id == "" && !createPending(obj).IsZero() {
		return s.findLost(ctx, obj)
	}
	if id == "" {
		return Observation{}, nil
	}

	var (
		got   wecom.Schedule
		found bool
		idx   *scheduleIndex
	)
	if !deleting {
		if x, err := s.index(ctx, obj); err == nil {
			idx = x
			got, found = idx.get(id)
		}
	}
	if !found {
		// Not in the last read (created since), or deleting: one get decides.
		list, err := s.api.GetSchedules(ctx, []string{id})
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
	want := desiredSchedule(obj, "")
	d := scheduleDrift(&got, &want)
	return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
}

// findLost looks for what a create whose reply was lost made: a schedule in the calendar the
// create used that matches the spec and that no other Schedule object holds.
func (s *scheduleClient) findLost(ctx context.Context, obj *v1.Schedule) (Observation, error) {
	cal, err := s.calendarID(ctx, obj)
	if err != nil {
		return Observation{}, err
	}
	list := &v1.ScheduleList{}
	if err := s.kube.List(ctx, list, client.InNamespace(obj.Namespace), client.MatchingFields{indexConnection: s.c.Name}); err != nil {
		return Observation{}, err
	}
	claimed := map[string]bool{}
	for _, o := range list.Items {
		if o.UID != obj.UID && o.Status.ScheduleID != "" {
			claimed[o.Status.ScheduleID] = true
		}
	}
	want := desiredSchedule(obj, cal)
	for offset := 0; ; offset += wecom.ScheduleByCalendarPageMax {
		page, err := s.api.GetSchedulesByCalendar(ctx, cal, offset, wecom.ScheduleByCalendarPageMax)
		if err != nil {
			return Observation{}, err
		}
		for _, got := range page {
			if !got.Cancelled() && !claimed[got.ScheduleID] && scheduleMatches(&got, &want) {
				obj.Status.ScheduleID, obj.Status.CalendarID = got.ScheduleID, cal
				return Observation{Exists: true, UpToDate: true}, nil
			}
		}
		if len(page) < wecom.ScheduleByCalendarPageMax {
			return Observation{}, nil
		}
	}
}

func (s *scheduleClient) Create(ctx context.Context, obj *v1.Schedule) error {
	cal, err := s.calendarID(ctx, obj)
	if err != nil {
		return err
	}
	id, err := s.api.AddSchedule(ctx, desiredSchedule(obj, cal))
	if err != nil {
		return err
	}
	obj.Status.ScheduleID, obj.Status.CalendarID = id, cal
	return nil
}

// errScheduleCancelled: the schedule was cancelled between the read and the update.
var errScheduleCancelled = errors.New("the schedule was cancelled in WeCom since it was read; it is made again")

func (s *scheduleClient) Update(ctx context.Context, obj *v1.Schedule) error {
	want := desiredSchedule(obj, "") // cal_id cannot change
	want.ScheduleID = obj.Status.ScheduleID
	id, err := s.api.UpdateSchedule(ctx, wecom.UpdateScheduleRequest{Schedule: want})
	if wecom.IsNotFound(err) {
		obj.Status.ScheduleID = ""
		return errScheduleCancelled
	}
	if err != nil {
		return err
	}
	obj.Status.ScheduleID = id
	// Keep the shared read in step with this write, so the next check does not undo it.
	if idx, err := s.index(ctx, obj); err == nil {
		want.ScheduleID, want.CalID = id, obj.Status.CalendarID
		idx.set(id, want)
	}
	return nil
}

func (s *scheduleClient) Delete(ctx context.Context, obj *v1.Schedule) error {
	id := obj.Status.ScheduleID
	if id == "" {
		return nil // never created
	}
	err := s.api.DeleteSchedule(ctx, wecom.DeleteScheduleRequest{ScheduleID: id})
	if err != nil && !wecom.IsNotFound(err) {
		return err
	}
	return nil
}

// desiredSchedule is the whole schedule the spec asks for, in calendar cal, as
// oa/schedule/add takes it.
func desiredSchedule(obj *v1.Schedule, cal string) wecom.Schedule {
	sp := obj.Spec
	sc := wecom.Schedule{
		Admins: sp.Admins, Summary: sp.Summary, Description: sp.Description, Location: sp.Location,
		StartTime: sp.Start.Unix(), EndTime: sp.End.Unix(), CalID: cal,
	}
	if sp.WholeDay {
		sc.IsWholeDay = 1
	}
	for _, a := range sp.Attendees {
		sc.Attendees = append(sc.Attendees, wecom.Attendee{UserID: a})
	}
	r := &wecom.Reminders{Timezone: ptr(wecom.DefaultTimezone)}
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
	return len(scheduleDrift(got, want)) == 0
}

// scheduleDrift lists the fields of scheduleMatches that differ.
func scheduleDrift(got, want *wecom.Schedule) drift {
	var d drift
	d.check("summary", got.Summary == want.Summary, got.Summary, want.Summary)
	d.check("description", got.Description == want.Description, got.Description, want.Description)
	d.check("location", got.Location == want.Location, got.Location, want.Location)
	d.check("start", got.StartTime == want.StartTime, got.StartTime, want.StartTime)
	d.check("end", got.EndTime == want.EndTime, got.EndTime, want.EndTime)
	d.check("wholeDay", got.IsWholeDay == want.IsWholeDay, got.IsWholeDay, want.IsWholeDay)
	d.check("attendees", sameSet(lower(attendeeIDs(got.Attendees)), lower(attendeeIDs(want.Attendees))),
		attendeeIDs(got.Attendees), attendeeIDs(want.Attendees))
	d.check("admins", sameSet(lower(got.Admins), lower(want.Admins)), got.Admins, want.Admins)
	g, w := got.Reminders, want.Reminders
	if g == nil {
		g = &wecom.Reminders{}
	}
	d.check("reminders.remind", g.IsRemind == w.IsRemind, g.IsRemind, w.IsRemind)
	d.check("reminders.timezone", scheduleTimezone(g) == scheduleTimezone(w), scheduleTimezone(g), scheduleTimezone(w))
	d.check("reminders.repeat", g.IsRepeat == w.IsRepeat, g.IsRepeat, w.IsRepeat)
	if w.IsRemind == 1 {
		d.check("reminders.before", sameSet(g.RemindTimeDiffs, w.RemindTimeDiffs), g.RemindTimeDiffs, w.RemindTimeDiffs)
	}
	if w.IsRepeat == 1 {
		d.check("reminders.repeatType", scheduleRepeatType(g) == scheduleRepeatType(w), scheduleRepeatType(g), scheduleRepeatType(w))
		d.check("reminders.repeatUntil", g.RepeatUntil == w.RepeatUntil, g.RepeatUntil, w.RepeatUntil)
		d.check("reminders.customRepeat", g.IsCustomRepeat == w.IsCustomRepeat, g.IsCustomRepeat, w.IsCustomRepeat)
		if w.IsCustomRepeat == 1 {
			d.check("reminders.repeatInterval", g.RepeatInterval == w.RepeatInterval, g.RepeatInterval, w.RepeatInterval)
			d.check("reminders.repeatDayOfWeek", sameSet(g.RepeatDayOfWeek, w.RepeatDayOfWeek), g.RepeatDayOfWeek, w.RepeatDayOfWeek)
			d.check("reminders.repeatDayOfMonth", sameSet(g.RepeatDayOfMonth, w.RepeatDayOfMonth), g.RepeatDayOfMonth, w.RepeatDayOfMonth)
		}
	}
	return d
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
		return wecom.DefaultTimezone
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
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval, CallbackDriftInterval: o.CallbackDriftInterval,
		NewObject: func() *v1.Schedule { return &v1.Schedule{} },
		External:  &schedules{kube: kube, recorder: recorder, snapshots: snaps, maxAge: snapshotMaxAge(o.DriftInterval)},
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.Schedule{}, indexScheduleCalendar, func(obj client.Object) []string {
		if ref := obj.(*v1.Schedule).Spec.CalendarRef; ref != nil {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	return managedController(mgr, o, "schedule", &v1.Schedule{}, func() client.ObjectList { return &v1.ScheduleList{} }).
		Watches(&v1.WeComCalendar{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return dependants(ctx, kube, &v1.ScheduleList{}, obj.GetNamespace(), indexScheduleCalendar, obj.GetName())
		}), builder.WithPredicates(calendarIDChanged)).
		Complete(errorWins(r))
}
