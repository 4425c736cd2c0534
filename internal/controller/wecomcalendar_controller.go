package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomcalendars,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomcalendars/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomcalendars/finalizers,verbs=update

// calendarPermissions maps spec.shares[].permission to WeCom's shares[].permission.
var calendarPermissions = map[v1.CalendarPermission]int{v1.CalendarView: 1, v1.CalendarFreeBusy: 3}

// calendars connects WeComCalendar objects to WeCom. A drift check is one oa/calendar/get;
// oa/calendar/update overwrites, so Update sends the whole spec. A calendar has no natural
// key and WeCom has no API that lists an app's calendars, so neither adoption by name nor
// finding a create whose reply was lost is possible: the skeleton stops with
// CreateIncomplete and a person binds the object with the external-name annotation.
type calendars struct{}

// calendarClient is the WeComCalendar part of one reconcile.
type calendarClient struct {
	api  wecom.Calendars
	conn string
}

func (calendars) Connect(_ context.Context, c *Connection, obj *v1.WeComCalendar) (ExternalClient[*v1.WeComCalendar], error) {
	if obj.DeletionTimestamp.IsZero() {
		if err := needSelfBuiltApp(c, "calendars"); err != nil {
			return nil, err
		}
	}
	return &calendarClient{api: c.Client, conn: c.Name}, nil
}

func (k *calendarClient) Observe(ctx context.Context, obj *v1.WeComCalendar) (Observation, error) {
	id := obj.Status.CalendarID
	if id == "" && !createPending(obj).IsZero() {
		return Observation{}, &errCreateUnrecoverable{how: "WeCom has no API that lists an app's calendars, so the calendar it may have made cannot be found (the admin console shows the app's calendars)"}
	}
	if id == "" {
		return Observation{}, nil
	}
	list, err := k.api.GetCalendars(ctx, []string{id})
	if wecom.IsNotFound(err) || (err == nil && len(list) == 0) {
		// Deleted by hand: made again when the object stays.
		obj.Status.CalendarID = ""
		return Observation{}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	if !obj.DeletionTimestamp.IsZero() {
		return Observation{Exists: true}, nil
	}
	d := calendarDrift(&list[0], desiredCalendar(obj))
	if len(d) == 0 {
		obj.Status.InvalidShares = nil
	}
	return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
}

// desiredCalendar is the calendar the spec asks for, as oa/calendar/add takes it.
func desiredCalendar(obj *v1.WeComCalendar) wecom.Calendar {
	sp := obj.Spec
	cal := wecom.Calendar{CalID: obj.Status.CalendarID, Summary: sp.Summary, Color: sp.Color, Description: sp.Description,
		Admins: slices.Clone(sp.Admins)}
	for _, s := range sp.Shares {
		p := calendarPermissions[s.Permission]
		if p == 0 {
			p = 1
		}
		cal.Shares = append(cal.Shares, wecom.CalendarShare{UserID: s.UserID, Permission: p})
	}
	if sp.SetAsDefault {
		cal.SetAsDefault = 1
	}
	if sp.Public {
		cal.IsPublic = 1
	}
	if r := sp.PublicRange; r != nil {
		cal.PublicRange = &wecom.PublicRange{UserIDs: slices.Clone(r.UserIDs)}
		for _, p := range r.DepartmentIDs {
			cal.PublicRange.PartyIDs = append(cal.PublicRange.PartyIDs, int(p))
		}
	}
	return cal
}

// calendarDrift lists how WeCom's calendar differs from the spec. Colours compare without
// case; userids without case; lists as sets.
func calendarDrift(got *wecom.Calendar, want wecom.Calendar) drift {
	var d drift
	d.check("summary", got.Summary == want.Summary, got.Summary, want.Summary)
	d.check("color", strings.EqualFold(got.Color, want.Color), got.Color, want.Color)
	d.check("description", got.Description == want.Description, got.Description, want.Description)
	d.check("admins", sameSet(lower(got.Admins), lower(want.Admins)), got.Admins, want.Admins)
	gs, ws := calendarShareKeys(got.Shares), calendarShareKeys(want.Shares)
	d.check("shares", sameSet(gs, ws), gs, ws)
	if want.IsPublic == 1 {
		g, w := got.PublicRange, want.PublicRange
		if g == nil {
			g = &wecom.PublicRange{}
		}
		d.check("publicRange.userIDs", sameSet(lower(g.UserIDs), lower(w.UserIDs)), g.UserIDs, w.UserIDs)
		d.check("publicRange.departmentIDs", sameSet(g.PartyIDs, w.PartyIDs), g.PartyIDs, w.PartyIDs)
	}
	return d
}

// calendarShareKeys renders shares as "userid:permission" (lower-case userid; WeCom's
// default permission 1 when absent).
func calendarShareKeys(shares []wecom.CalendarShare) []string {
	out := make([]string, 0, len(shares))
	for _, s := range shares {
		p := s.Permission
		if p == 0 {
			p = 1
		}
		out = append(out, fmt.Sprintf("%s:%d", strings.ToLower(s.UserID), p))
	}
	return out
}

func (k *calendarClient) Create(ctx context.Context, obj *v1.WeComCalendar) error {
	res, err := k.api.AddCalendar(ctx, desiredCalendar(obj))
	if err != nil {
		return err
	}
	obj.Status.CalendarID = res.CalID
	return k.partial(obj, res.FailResult)
}

// Update overwrites the calendar with the spec (public and setAsDefault cannot change).
func (k *calendarClient) Update(ctx context.Context, obj *v1.WeComCalendar) error {
	want := desiredCalendar(obj)
	fail, err := k.api.UpdateCalendar(ctx, want, want.IsPublic == 0)
	if wecom.IsNotFound(err) {
		obj.Status.CalendarID = ""
		return fmt.Errorf("calendar %s was deleted in WeCom since it was read; it is made again: %w", want.CalID, err)
	}
	if err != nil {
		return err
	}
	return k.partial(obj, fail)
}

// partial records the shares WeCom left out and fails the reconcile: the same call would
// leave them out again, so the object waits for its spec to change (or the drift interval).
func (k *calendarClient) partial(obj *v1.WeComCalendar, fail *wecom.CalendarFailResult) error {
	obj.Status.InvalidShares = nil
	if fail == nil || len(fail.Shares) == 0 {
		return nil
	}
	var bad []string
	for _, s := range fail.Shares {
		bad = append(bad, s.UserID)
	}
	obj.Status.InvalidShares = clipList(bad, v1.MaxCalendarShares)
	return fmt.Errorf("WeCom saved calendar %s but left out the shares %s (status.invalidShares, errcode %d %q): no such member. Fix or remove them in spec.shares",
		obj.Status.CalendarID, strings.Join(clipList(bad, 20), ", ")+more(len(bad), 20), fail.Shares[0].ErrCode, fail.Shares[0].ErrMsg)
}

// Delete deletes the calendar (WeCom deletes its schedules with it). Another app's calendar
// cannot be deleted with this connection: the delete is blocked until the object is released
// with deletionPolicy Orphan.
func (k *calendarClient) Delete(ctx context.Context, obj *v1.WeComCalendar) error {
	id := obj.Status.CalendarID
	if id == "" {
		return nil
	}
	err := k.api.DeleteCalendar(ctx, id)
	switch {
	case err == nil || wecom.IsNotFound(err):
		return nil
	case wecom.Code(err) == wecom.ErrCodeOtherAppsCalendar:
		return &deleteBlockedError{err: fmt.Errorf("%w; the calendar belongs to another app than WeComConnection %q's: set deletionPolicy: Orphan to leave it in WeCom", err, k.conn)}
	}
	return err
}

// calendarIDOf returns the cal_id of the WeComCalendar name, or a dependency error.
func calendarIDOf(ctx context.Context, kube client.Client, namespace, name string) (string, error) {
	cal := &v1.WeComCalendar{}
	if err := kube.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, cal); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return "", waitFor(v1.ReasonDependencyNotReady, "waiting for WeComCalendar %q (not found in namespace %q)", name, namespace)
		}
		return "", err
	}
	if cal.Status.CalendarID == "" {
		return "", waitFor(v1.ReasonDependencyNotReady, "waiting for WeComCalendar %q to get a WeCom cal_id", name)
	}
	return cal.Status.CalendarID, nil
}

func setupCalendars(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, _ *snapshots) error {
	kube := mgr.GetClient()
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.WeComCalendar{}, indexConnection, func(obj client.Object) []string {
		return []string{obj.(v1.Managed).GetConnectionName()}
	}); err != nil {
		return err
	}
	r := &ManagedReconciler[*v1.WeComCalendar]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval, CallbackDriftInterval: o.CallbackDriftInterval,
		NewObject: func() *v1.WeComCalendar { return &v1.WeComCalendar{} },
		External:  calendars{},
	}
	return managedController(mgr, o, "wecomcalendar", &v1.WeComCalendar{}, func() client.ObjectList { return &v1.WeComCalendarList{} }).
		Complete(errorWins(r))
}
