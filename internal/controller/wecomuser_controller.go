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
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
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

// users is the WeComUser part of the reconcile.
//
// WeCom offers no bulk read of members' fields to the contacts-sync secret (user/list is
// refused from IPs added after 2022-08-15), so drift checks read user/list_id, one call per
// 10,000 memberships per connection per interval, which shows members deleted by hand and
// department changes. A member's other fields are read with user/get when its spec changed,
// when list_id disagrees, and otherwise once per deep interval (a multiple of the drift
// interval, spread over time), so hand edits to names or phones are repaired too.
type users struct {
	kube      client.Client
	snapshots *snapshots
	maxAge    time.Duration
	deepEvery time.Duration
	// slack is the drift checks' jitter: a deep check is due at the drift check nearest to
	// deepEvery, not at the one after it.
	slack time.Duration

	mu       sync.Mutex
	deepSeen map[types.UID]time.Time
	// newSeen records when the manager first saw each member it has not created or adopted
	// yet; lastList and lastPages are when the last user/list_id started and its pages. See
	// Observe.
	newSeen   map[types.UID]time.Time
	lastList  time.Time
	lastPages int
}

// userIndex maps a lower-cased userid to its department ids (WeCom compares ids without case).
type userIndex = index[string, []int]

// index returns the connection's list_id snapshot, listing again when it is older than
// maxAge.
func (u *users) index(ctx context.Context, c *Connection) (*userIndex, error) {
	idx, _, err := u.indexAt(ctx, c, time.Time{})
	return idx, err
}

// indexAt returns the list_id snapshot, listing again when it is older than maxAge or
// started before notBefore, and when its list started.
func (u *users) indexAt(ctx context.Context, c *Connection, notBefore time.Time) (*userIndex, time.Time, error) {
	v, at, err := u.snapshots.getAt(ctx, c.Scope+"|users", u.maxAge, notBefore, func(ctx context.Context) (any, error) {
		idx := newIndex[string, []int]()
		cursor := ""
		u.mu.Lock()
		u.lastList, u.lastPages = time.Now(), 0
		u.mu.Unlock()
		for {
			u.mu.Lock()
			u.lastPages++
			u.mu.Unlock()
			page, err := c.Client.ListUserIDs(ctx, cursor, listIDPageSize)
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

// desired is the user/update body the spec asks for, with department ids resolved.
func (u *users) desired(ctx context.Context, obj *v1.WeComUser) (wecom.UpdateUserRequest, error) {
	s := obj.Spec
	req := wecom.UpdateUserRequest{
		UserID: s.UserID, Name: &s.Name, Alias: &s.Alias, Mobile: &s.Mobile, Email: &s.Email,
		BizMail: &s.BizMail, Telephone: &s.Telephone, Position: &s.Position,
		Enable:       ptr(1),
		DirectLeader: append([]string{}, s.DirectLeaders...),
	}
	// WeCom reads gender 0 as "unchanged", so Unspecified cannot clear a gender: it leaves
	// whatever WeCom has, and is neither sent nor compared.
	if g := genderCode(s.Gender); g != "0" {
		req.Gender = &g
	}
	if s.Enabled != nil && !*s.Enabled {
		req.Enable = ptr(0)
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
		leader := 0
		if d.Leader {
			leader = 1
		}
		req.IsLeaderInDept = append(req.IsLeaderInDept, leader)
	}
	return req, nil
}

func genderCode(g v1.Gender) string {
	switch g {
	case v1.GenderMale:
		return "1"
	case v1.GenderFemale:
		return "2"
	}
	return "0"
}

func (u *users) Observe(ctx context.Context, c *Connection, obj *v1.WeComUser) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	adopted := obj.Status.UserID == ""
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
	// A member not created or adopted yet that a list started after it was first seen does
	// not show is not in WeCom: it is created without a user/get (one made by hand since is
	// adopted by Create when WeCom answers 60102). Such a list is taken when it saves calls:
	// when more new members wait for it than it has pages. A batch of new members applied at
	// once then costs a few lists, not a user/get each.
	var seen, notBefore time.Time
	if adopted && !deleting {
		seen = u.firstSeen(obj.UID)
		if u.listPays() {
			notBefore = seen
		}
	} else {
		u.forgetNew(obj.UID)
	}
	idx, listedAt, err := u.indexAt(ctx, c, notBefore)
	if err != nil {
		return Observation{}, err
	}
	key := strings.ToLower(obj.Spec.UserID)
	listed, inList := idx.get(key)
	if adopted && !deleting && !inList && listedAt.After(seen) {
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

	// user/get reads the fields: for a member whose spec changed, that list_id disagrees
	// with, whose deep check is due, that the list shows but no object has adopted yet, or
	// a lone new member (one small read, where a fresh list would read the whole corp).
	got, err := c.Client.GetUser(ctx, obj.Spec.UserID)
	if wecom.IsNotFound(err) {
		idx.remove(key)
		return Observation{}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	u.markDeep(obj.UID)
	idx.set(key, got.Department)
	obj.Status.UserID = got.UserID
	obj.Status.DepartmentIDs = toInt64s(got.Department)
	return Observation{Exists: true, UpToDate: userMatches(got, want), Adopted: adopted}, nil
}

// userMatches compares what user/get returned with the update the spec asks for.
func userMatches(got *wecom.User, want wecom.UpdateUserRequest) bool {
	// WeCom ignores a change of mobile once the member has activated their account (it is
	// theirs then); comparing it would rewrite it at every drift check.
	mobileMatches := got.Mobile == *want.Mobile || got.Status == wecom.UserStatusActive
	genderMatches := want.Gender == nil || got.Gender == *want.Gender
	return got.Name == *want.Name && got.Alias == *want.Alias && mobileMatches &&
		strings.EqualFold(got.Email, *want.Email) && strings.EqualFold(got.BizMail, *want.BizMail) &&
		got.Telephone == *want.Telephone && got.Position == *want.Position && genderMatches &&
		got.Enable == *want.Enable &&
		slices.Equal(got.Department, want.Department) &&
		slices.Equal(padUint32(got.Order, len(want.Department)), want.Order) &&
		slices.Equal(padInt(got.IsLeaderInDept, len(want.Department)), want.IsLeaderInDept) &&
		sameSet(lower(got.DirectLeader), lower(want.DirectLeader))
}

func (u *users) Create(ctx context.Context, c *Connection, obj *v1.WeComUser) error {
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
	_, err = c.Client.CreateUser(ctx, req)
	adopted := wecom.IsAlreadyExists(err)
	if adopted {
		// The userid exists (made by hand since Observe, or our create's reply was lost and
		// the client's retry was told so): adopt it.
		if err := c.Client.UpdateUser(ctx, want); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	obj.Status.UserID = obj.Spec.UserID
	obj.Status.DepartmentIDs = toInt64s(want.Department)
	u.markDeep(obj.UID)
	u.forgetNew(obj.UID)
	if idx, err := u.index(ctx, c); err == nil {
		idx.set(strings.ToLower(obj.Spec.UserID), want.Department)
	}
	if adopted {
		return errAdopted
	}
	return nil
}

func (u *users) Update(ctx context.Context, c *Connection, obj *v1.WeComUser) error {
	want, err := u.desired(ctx, obj)
	if err != nil {
		return err
	}
	if err := c.Client.UpdateUser(ctx, want); err != nil {
		return err
	}
	obj.Status.DepartmentIDs = toInt64s(want.Department)
	if idx, err := u.index(ctx, c); err == nil {
		idx.set(strings.ToLower(obj.Spec.UserID), want.Department)
	}
	return nil
}

func (u *users) Delete(ctx context.Context, c *Connection, obj *v1.WeComUser) error {
	if obj.Status.UserID == "" {
		// Never created or adopted: a member with this userid, if any, is not ours.
		return nil
	}
	if err := c.Client.DeleteUser(ctx, obj.Status.UserID); err != nil && !wecom.IsNotFound(err) {
		return err
	}
	if idx, err := u.index(ctx, c); err == nil {
		idx.remove(strings.ToLower(obj.Spec.UserID))
	}
	u.mu.Lock()
	delete(u.deepSeen, obj.UID)
	delete(u.newSeen, obj.UID)
	u.mu.Unlock()
	return nil
}

// firstSeen returns when the manager first saw uid as a member not created yet, recording
// now if it had not.
func (u *users) firstSeen(uid types.UID) time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.newSeen == nil {
		u.newSeen = map[types.UID]time.Time{}
	}
	t, ok := u.newSeen[uid]
	if !ok {
		t = time.Now()
		u.newSeen[uid] = t
	}
	return t
}

func (u *users) forgetNew(uid types.UID) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.newSeen, uid)
}

// listPays says whether a fresh user/list_id costs fewer calls than the user/gets it
// replaces: the members not created yet and first seen since the last list started (the
// next list serves them all) against the pages of the last list.
func (u *users) listPays() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	waiting := 0
	for _, t := range u.newSeen {
		if t.After(u.lastList) {
			waiting++
		}
	}
	return waiting > max(u.lastPages, 1)
}

// noteCreate is a predicate that records when a member not created yet was first seen, as
// its create event arrives (before it waits in the queue), so that more lists serve it.
func (u *users) noteCreate() predicate.Funcs {
	return predicate.Funcs{CreateFunc: func(e event.CreateEvent) bool {
		if usr, ok := e.Object.(*v1.WeComUser); ok && usr.Status.UserID == "" && usr.DeletionTimestamp.IsZero() {
			u.firstSeen(usr.UID)
		}
		return true
	}}
}

// deepDue says whether the object's fields should be read again with user/get. The first
// deep check after a start is spread over the deep interval by the object's UID, so a
// restart does not read every member at once.
func (u *users) deepDue(uid types.UID) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	last, ok := u.deepSeen[uid]
	if !ok {
		if u.deepSeen == nil {
			u.deepSeen = map[types.UID]time.Time{}
		}
		u.deepSeen[uid] = time.Now().Add(-spread(uid, u.deepEvery))
		return false
	}
	return time.Since(last) >= u.deepEvery-u.slack
}

func (u *users) markDeep(uid types.UID) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.deepSeen == nil {
		u.deepSeen = map[types.UID]time.Time{}
	}
	u.deepSeen[uid] = time.Now()
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

func padInt(in []int, n int) []int {
	out := make([]int, n)
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
	us := &users{kube: kube, snapshots: snaps, maxAge: snapshotMaxAge(o.DriftInterval), deepEvery: o.DeepDriftInterval(), slack: o.DriftInterval / 10}
	r := &ManagedReconciler[*v1.WeComUser]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval,
		NewObject: func() *v1.WeComUser { return &v1.WeComUser{} },
		External:  us,
	}
	members := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return dependants(ctx, kube, &v1.WeComUserList{}, obj.GetNamespace(), indexUserDepartment, obj.GetName())
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.WeComUser{}, builder.WithPredicates(predicate.GenerationChangedPredicate{}, us.noteCreate())).
		Watches(&v1.WeComDepartment{}, members, builder.WithPredicates(idChanged)).
		Watches(&v1.WeComConnection{}, connectionDependants(kube, func() client.ObjectList { return &v1.WeComUserList{} }), builder.WithPredicates(readyChanged)).
		WithOptions(controllerOptions(o)).
		Named("wecomuser").
		Complete(r)
}
