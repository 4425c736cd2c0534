package controller

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

const indexUserDepartment = "spec.departments.ref.name"

// listIDPageSize is user/list_id's largest page.
const listIDPageSize = 10000

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomusers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomusers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomusers/finalizers,verbs=update

// users connects WeComUser objects to WeCom.
//
// WeCom offers no bulk read of members' fields to the contacts-sync secret (user/list is
// refused from IPs added after 2022-08-15), so drift checks read user/list_id, one call per
// 10,000 memberships per connection per interval, which shows members deleted by hand and
// department changes. A member's other fields are read with user/get when its spec changed,
// when list_id disagrees, and otherwise once per deep interval (a multiple of the drift
// interval, at a time of the interval set by the object's UID), so hand edits to names or
// phones are repaired too.
type users struct {
	kube      client.Client
	snapshots *snapshots
	maxAge    time.Duration
	deepEvery time.Duration
	// window is the longest time between two drift checks of an object (the interval plus
	// its jitter): the deep check is the first drift check in its slot of this width.
	window time.Duration
	// now is the clock of the deep checks; nil is time.Now.
	now func() time.Time
	// connector resolves spec.offboarding.connectionRef (issue 12, offboarding.go).
	connector ConnectionResolver
	// pollEvery is how often a waiting customer handover is checked (the drift interval,
	// at most handoverMaxPoll).
	pollEvery time.Duration

	mu    sync.Mutex
	lists map[string]*userListing // per connection scope
}

// userListing says, for one connection, when the last user/list_id started, how many
// pages it took, and how many new members have been looked at since: what decides whether a
// fresh list costs fewer calls than a user/get for each.
type userListing struct {
	started time.Time
	pages   int
	waiting int
}

// userClient is the WeComUser part of one reconcile.
type userClient struct {
	api wecom.Users
	*users
	c *Connection
	// got is the member user/get returned in this reconcile, for LateInitialize.
	got *wecom.User
}

func (u *users) Connect(_ context.Context, c *Connection, _ *v1.WeComUser) (ExternalClient[*v1.WeComUser], error) {
	return &userClient{users: u, c: c, api: c.Client}, nil
}

// userIndex maps a lower-cased userid to its department ids (WeCom compares ids without case).
type userIndex = index[string, []int]

func (u *users) listing(scope string) *userListing {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.lists == nil {
		u.lists = map[string]*userListing{}
	}
	l, ok := u.lists[scope]
	if !ok {
		l = &userListing{}
		u.lists[scope] = l
	}
	return l
}

// index returns the connection's list_id snapshot, listing again when it is older than
// maxAge.
func (u *userClient) index(ctx context.Context) (*userIndex, error) {
	idx, _, err := u.indexAt(ctx, time.Time{})
	return idx, err
}

// indexAt returns the list_id snapshot, listing again when it is older than maxAge or
// started before notBefore, and when its list started.
func (u *userClient) indexAt(ctx context.Context, notBefore time.Time) (*userIndex, time.Time, error) {
	v, at, err := u.snapshots.getAt(ctx, u.c.Scope+"|users", u.maxAge, notBefore, func(ctx context.Context) (any, error) {
		l := u.listing(u.c.Scope)
		u.mu.Lock()
		l.started, l.pages, l.waiting = time.Now(), 0, 0
		u.mu.Unlock()
		idx := newIndex[string, []int]()
		cursor := ""
		for {
			u.mu.Lock()
			l.pages++
			u.mu.Unlock()
			page, err := u.api.ListUserIDs(ctx, cursor, listIDPageSize)
			if err != nil {
				return nil, err
			}
			for _, row := range page.DeptUser {
				k := strings.ToLower(row.UserID)
				idx.m[k] = append(idx.m[k], row.Department)
			}
			if page.NextCursor == "" {
				return idx, nil
			}
			cursor = page.NextCursor
		}
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return v.(*userIndex), at, nil
}

// listPays says whether a fresh user/list_id costs fewer calls than the user/gets it
// replaces: the new members looked at since the last list started (the next list serves
// them all) against the pages of the last list. It counts this look.
func (u *userClient) listPays() bool {
	l := u.listing(u.c.Scope)
	u.mu.Lock()
	defer u.mu.Unlock()
	l.waiting++
	return l.waiting > max(l.pages, 1)
}

// desired is the user/update body the spec asks for, with department ids resolved.
func (u *users) desired(ctx context.Context, obj *v1.WeComUser) (wecom.UpdateUserRequest, error) {
	s := obj.Spec
	req := wecom.UpdateUserRequest{
		UserID: s.UserID, Name: &s.Name, Alias: &s.Alias, Mobile: &s.Mobile, Email: &s.Email,
		BizMail: &s.BizMail, Telephone: &s.Telephone, Position: &s.Position,
		Enable:       ptr(wecom.Flag(s.Enabled == nil || *s.Enabled)),
		DirectLeader: append([]string{}, s.DirectLeaders...),
	}
	// WeCom reads gender 0 as "unchanged", so Unspecified cannot clear a gender: it leaves
	// whatever WeCom has, and is neither sent nor compared.
	if g := userGender(s.Gender); g != wecom.GenderUnspecified {
		req.Gender = &g
	}
	for _, d := range s.Departments {
		id := 0
		if d.ID != nil {
			id = int(*d.ID)
		} else {
			var err error
			if id, err = departmentID(ctx, u.kube, obj.Namespace, d.Ref.Name); err != nil {
				return req, err
			}
		}
		req.Department = append(req.Department, id)
		req.Order = append(req.Order, uint32(d.Order))
		req.IsLeaderInDept = append(req.IsLeaderInDept, wecom.Flag(d.Leader))
	}
	return req, nil
}

func userGender(g v1.Gender) wecom.Gender {
	switch g {
	case v1.GenderMale:
		return wecom.GenderMale
	case v1.GenderFemale:
		return wecom.GenderFemale
	}
	return wecom.GenderUnspecified
}

// Observe finds the member by its userid, the natural key, which also finds what a create
// whose reply was lost made.
func (u *userClient) Observe(ctx context.Context, obj *v1.WeComUser) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	adopted := obj.Status.UserID == ""
	if deleting && adopted {
		if createPending(obj).IsZero() {
			// Never created or adopted: a member with this userid, if any, is not this
			// object's to delete, and that needs no call (the app may not even read members).
			return Observation{}, nil
		}
		// Deleting while a create's reply was lost: what it made goes too.
		got, err := u.api.GetUser(ctx, obj.Spec.UserID)
		if wecom.IsNotFound(err) {
			return Observation{}, nil
		}
		if err != nil {
			return Observation{}, err
		}
		obj.Status.UserID = got.UserID
		return Observation{Exists: true}, nil
	}
	var (
		want wecom.UpdateUserRequest
		err  error
	)
	if !deleting {
		// A member waiting for its departments' ids costs no WeCom call.
		if want, err = u.desired(ctx, obj); err != nil {
			return Observation{}, err
		}
	}
	// A member not created or adopted yet that a list started after it was made (or after
	// its pending create started) does not show is not in WeCom: it is created without a
	// user/get (one made by hand since is adopted when WeCom answers 60102). Such a list is
	// taken when it saves calls: when more new members wait for it than it has pages. A
	// batch of new members applied at once then costs a few lists, not a user/get each.
	var since, notBefore time.Time
	if adopted && !deleting {
		// creationTimestamp is rounded down to the second: only a list that started after
		// that second is sure to be younger than the object. A member made within the last
		// second waits for it, so that one list can serve every member made in it.
		since = obj.CreationTimestamp.Add(time.Second)
		if wait := time.Until(since); wait > 0 {
			return Observation{}, &requeueError{after: wait}
		}
		if !createPending(obj).IsZero() {
			// Looking for what a create whose reply was lost made: a list that started
			// while that create was in flight may not show it, so user/get decides.
			since = time.Time{}
		} else if u.listPays() {
			notBefore = since
		}
	}
	key := strings.ToLower(obj.Spec.UserID)
	if !adopted && !deleting && refreshRequested(obj) {
		// A WeCom callback said this member changed: read it alone, not the corp's list.
		return u.read(ctx, obj, want, nil, key)
	}
	idx, listedAt, err := u.indexAt(ctx, notBefore)
	if err != nil {
		return Observation{}, err
	}
	listed, inList := idx.get(key)
	if adopted && !deleting && !inList && !since.IsZero() && listedAt.After(since) {
		return Observation{}, nil
	}
	if deleting {
		// Only a member this object created or adopted is ours to delete.
		return Observation{Exists: inList && obj.Status.UserID != ""}, nil
	}
	// The cheap path: the spec has not changed since it was last made to match, list_id
	// agrees, and the deep check is not due.
	if inList && !adopted && readyAndCurrent(obj) &&
		sameSet(listed, want.Department) && !u.deepDue(obj.UID) {
		return Observation{Exists: true, UpToDate: true}, nil
	}
	return u.read(ctx, obj, want, idx, key)
}

// read reads the member with user/get and keeps idx (when there is one) in line with it.
func (u *userClient) read(ctx context.Context, obj *v1.WeComUser, want wecom.UpdateUserRequest, idx *userIndex, key string) (Observation, error) {

	// user/get reads the fields: for a member whose spec changed, that list_id disagrees
	// with, whose deep check is due, that the list shows but no object has adopted yet, or
	// a lone new member (one small read, where a fresh list would read the whole corp).
	got, err := u.api.GetUser(ctx, obj.Spec.UserID)
	if wecom.IsNotFound(err) {
		if idx != nil {
			idx.remove(key)
		}
		return Observation{}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	if idx != nil {
		idx.set(key, got.Department)
	}
	obj.Status.UserID = got.UserID
	obj.Status.DepartmentIDs = toInt64s(got.Department)
	u.got = got
	d := userDrift(got, want)
	return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
}

// deepDue says whether this drift check reads the member in full (see deepSlot).
func (u *users) deepDue(uid types.UID) bool {
	now := time.Now
	if u.now != nil {
		now = u.now
	}
	return deepSlot(uid, now(), u.deepEvery, u.window)
}

// userMatches compares what user/get returned with the update the spec asks for.
func userMatches(got *wecom.User, want wecom.UpdateUserRequest) bool {
	return len(userDrift(got, want)) == 0
}

// userDrift lists the fields of userMatches that differ.
func userDrift(got *wecom.User, want wecom.UpdateUserRequest) drift {
	var d drift
	d.check("name", got.Name == *want.Name, got.Name, *want.Name)
	d.check("alias", got.Alias == *want.Alias, got.Alias, *want.Alias)
	// WeCom ignores a change of mobile once the member has activated their account (it is
	// theirs then); comparing it would rewrite it at every drift check.
	d.check("mobile", got.Mobile == *want.Mobile || got.Status == wecom.UserStatusActive, got.Mobile, *want.Mobile)
	d.check("email", strings.EqualFold(got.Email, *want.Email), got.Email, *want.Email)
	d.check("bizMail", strings.EqualFold(got.BizMail, *want.BizMail), got.BizMail, *want.BizMail)
	d.check("telephone", got.Telephone == *want.Telephone, got.Telephone, *want.Telephone)
	d.check("position", got.Position == *want.Position, got.Position, *want.Position)
	if want.Gender != nil {
		d.check("gender", got.Gender == *want.Gender, got.Gender, *want.Gender)
	}
	d.check("enable", got.Enable == *want.Enable, got.Enable, *want.Enable)
	d.check("departments", slices.Equal(got.Department, want.Department), got.Department, want.Department)
	d.check("departments[].order", slices.Equal(padUint32(got.Order, len(want.Department)), want.Order), got.Order, want.Order)
	d.check("departments[].leader", slices.Equal(padFlags(got.IsLeaderInDept, len(want.Department)), want.IsLeaderInDept),
		got.IsLeaderInDept, want.IsLeaderInDept)
	d.check("directLeaders", sameSet(lower(got.DirectLeader), lower(want.DirectLeader)), got.DirectLeader, want.DirectLeader)
	return d
}

// LateInitialize fills an empty bizMail from WeCom (docs/orgchart.md): WeCom assigns a
// corporate mailbox to members of a corp that uses WeCom Mail, and a manifest without it would
// otherwise ask for it to be removed. Only after a full read (user/get): a drift check that
// read the list only has nothing to fill from.
func (u *userClient) LateInitialize(obj *v1.WeComUser) []string {
	if u.got == nil || obj.Spec.BizMail != "" || u.got.BizMail == "" {
		return nil
	}
	obj.Spec.BizMail = u.got.BizMail
	return []string{"bizMail"}
}

func (u *userClient) Create(ctx context.Context, obj *v1.WeComUser) error {
	want, err := u.desired(ctx, obj)
	if err != nil {
		return err
	}
	req := wecom.CreateUserRequest{
		UserID: want.UserID, Name: *want.Name, Alias: *want.Alias, Mobile: *want.Mobile,
		Email: *want.Email, BizMail: *want.BizMail, Telephone: *want.Telephone, Position: *want.Position,
		Department: want.Department, Order: want.Order, IsLeaderInDept: want.IsLeaderInDept,
		DirectLeader: want.DirectLeader, Enable: want.Enable, ToInvite: obj.Spec.ToInvite,
	}
	if want.Gender != nil {
		req.Gender = *want.Gender
	}
	if _, err := u.api.CreateUser(ctx, req); err != nil {
		return err
	}
	obj.Status.UserID = obj.Spec.UserID
	obj.Status.DepartmentIDs = toInt64s(want.Department)
	if idx, err := u.index(ctx); err == nil {
		idx.set(strings.ToLower(obj.Spec.UserID), want.Department)
	}
	return nil
}

func (u *userClient) Update(ctx context.Context, obj *v1.WeComUser) error {
	want, err := u.desired(ctx, obj)
	if err != nil {
		return err
	}
	if err := u.api.UpdateUser(ctx, want); err != nil {
		return err
	}
	obj.Status.DepartmentIDs = toInt64s(want.Department)
	if idx, err := u.index(ctx); err == nil {
		idx.set(strings.ToLower(obj.Spec.UserID), want.Department)
	}
	return nil
}

func (u *userClient) Delete(ctx context.Context, obj *v1.WeComUser) error {
	if obj.Status.UserID == "" {
		// Never created or adopted: a member with this userid, if any, is not ours.
		return nil
	}
	if obj.Spec.Offboarding != nil {
		if err := u.handover(ctx, obj); err != nil {
			return err
		}
	}
	if err := u.api.DeleteUser(ctx, obj.Status.UserID); err != nil && !wecom.IsNotFound(err) {
		return err
	}
	if idx, err := u.index(ctx); err == nil {
		idx.remove(strings.ToLower(obj.Spec.UserID))
	}
	return nil
}

// deepSlot says whether a drift check at now is the one, in each period of every, at which
// the object with uid is read in full: the first check in the object's slot, window wide,
// placed in the period by the UID. With checks at most window apart, each period has at
// least one such check (two at most), and a restart does not read every object at once.
func deepSlot(uid types.UID, now time.Time, every, window time.Duration) bool {
	if every <= window || every <= 0 {
		return true
	}
	phase := (now.UnixNano() - int64(spread(uid, every))) % int64(every)
	if phase < 0 {
		phase += int64(every)
	}
	return phase < int64(window)
}

// spread maps uid to a stable offset in [0, d).
func spread(uid types.UID, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	var h uint64 = 14695981039346656037
	for i := 0; i < len(uid); i++ {
		h = (h ^ uint64(uid[i])) * 1099511628211
	}
	return time.Duration(h % uint64(d))
}

func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

func lower(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

func padUint32(in []uint32, n int) []uint32 {
	out := make([]uint32, n)
	copy(out, in)
	return out
}

func padFlags(in []wecom.Flag, n int) []wecom.Flag {
	out := make([]wecom.Flag, n)
	copy(out, in)
	return out
}

func toInt64s(in []int) []int64 {
	out := make([]int64, len(in))
	for i, v := range in {
		out[i] = int64(v)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func setupUsers(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, snaps *snapshots) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.WeComUser{}, indexUserDepartment, func(obj client.Object) []string {
		var refs []string
		for _, d := range obj.(*v1.WeComUser).Spec.Departments {
			if d.Ref != nil {
				refs = append(refs, d.Ref.Name)
			}
		}
		return refs
	}); err != nil {
		return err
	}
	kube := mgr.GetClient()
	us := &users{kube: kube, snapshots: snaps, maxAge: snapshotMaxAge(o.DriftInterval), deepEvery: o.DeepDriftInterval(), window: driftWindow(o.DriftInterval),
		connector: connector, pollEvery: o.DriftInterval}
	r := &ManagedReconciler[*v1.WeComUser]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval, CallbackDriftInterval: o.CallbackDriftInterval,
		NewObject: func() *v1.WeComUser { return &v1.WeComUser{} },
		External:  us,
	}
	members := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return dependants(ctx, kube, &v1.WeComUserList{}, obj.GetNamespace(), indexUserDepartment, obj.GetName())
	})
	return managedController(mgr, o, "wecomuser", &v1.WeComUser{}, func() client.ObjectList { return &v1.WeComUserList{} }).
		Watches(&v1.WeComDepartment{}, members, builder.WithPredicates(idChanged)).
		Complete(errorWins(r))
}
