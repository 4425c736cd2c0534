package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=contactways,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=contactways/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=contactways/finalizers,verbs=update

const (
	// wayListSince is the earliest creation time list_contact_way reports (2021-07-10 CST).
	wayListSince int64 = 1625846400
	// wayListPage is list_contact_way's largest page.
	wayListPage = 1000
	// wayRecoverySlack widens the search for a lost create by the clock difference the
	// operator and WeCom may have.
	wayRecoverySlack = 10 * time.Minute
	// generatedStatePrefix starts the state the operator chooses when spec.state is empty.
	generatedStatePrefix = "k8s-"
)

// contactWays is the ContactWay part of the reconcile.
//
// add_contact_way has no natural key, so a create whose reply was lost cannot be told from
// one that never happened by trying again. Before the call the object records
// status.state (its marker in WeCom) and status.pendingCreateTime, and the skeleton writes
// both to the API server (CreatePreparer). While pendingCreateTime is set, Observe lists the
// ways created since then and reads each to find the ones carrying the marker: the first is
// adopted, further ones (the client repeats a call whose reply was lost) are deleted.
//
// Drift checks read list_contact_way, one call per 1,000 ways per connection per interval,
// which shows ways deleted behind the operator's back. A way's fields are read with
// get_contact_way when its spec changed, when the list does not show it, and otherwise once
// per deep interval (API-made ways are not shown in the admin console, so only other API
// callers can change them).
type contactWays struct {
	kube      client.Client
	fresh     client.Reader // uncached, see readUncached
	snapshots *snapshots
	maxAge    time.Duration
	deep      *deepClock

	mu   sync.Mutex
	seen map[types.UID]wayObservation // what Observe read, for the Update that follows
}

type wayObservation struct {
	way    *wecom.ContactWay
	extras []string // further ways a lost create made, to delete
}

type wayIndex = index[string, struct{}]

func (w *contactWays) listed(ctx context.Context, c *Connection) (*wayIndex, error) {
	v, err := w.snapshots.get(ctx, c.Scope+"|contactways", w.maxAge, func(ctx context.Context) (any, error) {
		idx := newIndex[string, struct{}]()
		err := listWays(ctx, c, wayListSince, func(id string) error {
			idx.m[id] = struct{}{}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return idx, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*wayIndex), nil
}

// listWays calls fn with the config_id of every non-temporary way created since since
// (unix seconds), page by page.
func listWays(ctx context.Context, c *Connection, since int64, fn func(string) error) error {
	cursor := ""
	for {
		page, err := c.Client.ListContactWays(ctx, wecom.ListContactWayRequest{StartTime: since, Cursor: cursor, Limit: wayListPage})
		if err != nil {
			return err
		}
		for _, id := range page.ConfigIDs {
			if err := fn(id); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

func (w *contactWays) Observe(ctx context.Context, c *Connection, obj *v1.ContactWay) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	if !deleting && (obj.Status.ConfigID == "" || obj.Status.PendingCreateTime != nil) {
		// The cache may not show yet what a create just before this reconcile stored: looking
		// for a lost create, or making another, must start from the API server's status.
		cur, err := readUncached(ctx, w.fresh, obj)
		if err != nil {
			return Observation{}, err
		}
		obj.Status = cur.Status
	}

	if obj.Status.PendingCreateTime != nil {
		own, err := w.findOwn(ctx, c, obj)
		if err != nil {
			return Observation{}, err
		}
		if len(own) > 0 {
			keep := own[0]
			for _, x := range own {
				if x.ConfigID == obj.Status.ConfigID {
					keep = x
				}
			}
			extras := extraWays(own, keep)
			adopted := obj.Status.ConfigID != keep.ConfigID
			obj.Status.ConfigID, obj.Status.QRCode = keep.ConfigID, keep.QRCode
			if len(extras) == 0 {
				obj.Status.PendingCreateTime = nil
			}
			w.deep.mark(obj.UID)
			w.remember(obj.UID, wayObservation{way: keep, extras: extras})
			return Observation{Exists: true, Adopted: adopted,
				UpToDate: len(extras) == 0 && (deleting || wayMatches(keep, obj, true))}, nil
		}
		obj.Status.PendingCreateTime = nil // the lost create made nothing
	}
	if obj.Status.ConfigID == "" {
		return Observation{}, nil
	}

	// The cheap path: the spec has not changed since it was last made to match, the list
	// shows the way, and the deep check is not due.
	var idx *wayIndex
	if !deleting && readyAndCurrent(obj) && !w.deep.due(obj.UID) {
		var err error
		if idx, err = w.listed(ctx, c); err == nil {
			if _, ok := idx.get(obj.Status.ConfigID); ok {
				return Observation{Exists: true, UpToDate: true}, nil
			}
		}
	}
	got, err := c.Client.GetContactWay(ctx, obj.Status.ConfigID)
	if wecom.IsNotFound(err) {
		if idx != nil {
			idx.remove(obj.Status.ConfigID)
		}
		if !deleting {
			obj.Status.ConfigID, obj.Status.QRCode = "", "" // deleted by hand: create again
		}
		return Observation{}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	if idx != nil {
		idx.set(got.ConfigID, struct{}{})
	}
	w.deep.mark(obj.UID)
	if deleting {
		return Observation{Exists: true}, nil
	}
	obj.Status.QRCode = got.QRCode
	w.remember(obj.UID, wayObservation{way: got})
	return Observation{Exists: true, UpToDate: wayMatches(got, obj, !readyAndCurrent(obj))}, nil
}

// findOwn returns the ways created since the pending create that carry the object's marker
// (state, type and scene) and that no other ContactWay of the connection has claimed, in
// the order WeCom made them. Temporary ways are never listed, so a lost temporary create
// cannot be found.
func (w *contactWays) findOwn(ctx context.Context, c *Connection, obj *v1.ContactWay) ([]*wecom.ContactWay, error) {
	claimed, err := w.claimed(ctx, obj)
	if err != nil {
		return nil, err
	}
	state := obj.Status.State
	if state == "" {
		state = wayState(obj)
	}
	since := obj.Status.PendingCreateTime.Add(-wayRecoverySlack).Unix()
	var own []*wecom.ContactWay
	err = listWays(ctx, c, since, func(id string) error {
		if claimed[id] {
			return nil
		}
		got, err := c.Client.GetContactWay(ctx, id)
		if wecom.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if got.State == state && got.Type == wayType(obj.Spec.Type) && got.Scene == wayScene(obj.Spec.Scene) {
			own = append(own, got)
		}
		return nil
	})
	return own, err
}

// claimed returns the config ids that other ContactWays of the same connection hold.
func (w *contactWays) claimed(ctx context.Context, obj *v1.ContactWay) (map[string]bool, error) {
	list := &v1.ContactWayList{}
	if err := w.kube.List(ctx, list, client.InNamespace(obj.Namespace), client.MatchingFields{indexConnection: obj.GetConnectionName()}); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, o := range list.Items {
		if o.UID != obj.UID && o.Status.ConfigID != "" {
			out[o.Status.ConfigID] = true
		}
	}
	return out, nil
}

// extraWays returns the ways of own other than keep that have keep's members and remark:
// copies a repeated create made. A way that differs was made by someone else who chose the
// same state, and is left alone.
func extraWays(own []*wecom.ContactWay, keep *wecom.ContactWay) []string {
	var out []string
	for _, x := range own {
		if x.ConfigID != keep.ConfigID && x.Remark == keep.Remark &&
			sameSet(lower(x.User), lower(keep.User)) && sameSet(x.Party, keep.Party) {
			out = append(out, x.ConfigID)
		}
	}
	return out
}

// PrepareCreate records the marker of the coming add_contact_way; the skeleton stores it
// before Create runs.
func (w *contactWays) PrepareCreate(_ context.Context, _ *Connection, obj *v1.ContactWay) error {
	now := metav1.Now()
	obj.Status.PendingCreateTime = &now
	obj.Status.State = wayState(obj)
	return nil
}

func (w *contactWays) Create(ctx context.Context, c *Connection, obj *v1.ContactWay) error {
	var info wecom.CallInfo
	res, err := c.Client.AddContactWay(wecom.WithCallInfo(ctx, &info), addWayRequest(obj))
	if err != nil {
		if !wecom.IsAmbiguous(err) {
			obj.Status.PendingCreateTime = nil // WeCom made nothing
		}
		return err // otherwise the next Observe looks for what it made
	}
	obj.Status.ConfigID, obj.Status.QRCode = res.ConfigID, res.QRCode
	w.deep.mark(obj.UID)
	if !info.Ambiguous {
		obj.Status.PendingCreateTime = nil
		return nil
	}
	// An attempt before the one that answered may have made a way too: remove it now. If
	// that fails, pendingCreateTime stays and the next Observe tries again.
	own, err := w.findOwn(ctx, c, obj)
	found := false
	for _, x := range own {
		if err == nil && x.ConfigID == res.ConfigID {
			found, err = true, w.deleteWays(ctx, c, extraWays(own, x))
		}
	}
	if err != nil || !found {
		logf.FromContext(ctx).Info("copies of a repeated add_contact_way not removed yet; the next reconcile looks again", "error", err)
		return nil
	}
	obj.Status.PendingCreateTime = nil
	return nil
}

func (w *contactWays) Update(ctx context.Context, c *Connection, obj *v1.ContactWay) error {
	seen, ok := w.recall(obj.UID)
	if obj.Status.PendingCreateTime != nil {
		extras := seen.extras
		if !ok {
			own, err := w.findOwn(ctx, c, obj)
			if err != nil {
				return err
			}
			for _, x := range own {
				if x.ConfigID == obj.Status.ConfigID {
					extras = extraWays(own, x)
				}
			}
		}
		if err := w.deleteWays(ctx, c, extras); err != nil {
			return err
		}
		obj.Status.PendingCreateTime = nil
	}
	if ok && seen.way != nil && seen.way.ConfigID == obj.Status.ConfigID && wayMatches(seen.way, obj, !readyAndCurrent(obj)) {
		return nil // only copies were to be removed
	}
	if err := c.Client.UpdateContactWay(ctx, updateWayRequest(obj)); err != nil {
		return err
	}
	obj.Status.State = wayState(obj)
	w.deep.mark(obj.UID)
	return nil
}

func (w *contactWays) Delete(ctx context.Context, c *Connection, obj *v1.ContactWay) error {
	var ids []string
	if obj.Status.PendingCreateTime != nil {
		own, err := w.findOwn(ctx, c, obj)
		if err != nil {
			return err
		}
		for _, x := range own {
			if sameSet(lower(x.User), lower(obj.Spec.Users)) {
				ids = append(ids, x.ConfigID)
			}
		}
	}
	if id := obj.Status.ConfigID; id != "" && !slices.Contains(ids, id) {
		ids = append(ids, id)
	}
	if err := w.deleteWays(ctx, c, ids); err != nil {
		return err
	}
	obj.Status.PendingCreateTime = nil
	w.recall(obj.UID)
	w.deep.forget(obj.UID)
	return nil
}

func (w *contactWays) deleteWays(ctx context.Context, c *Connection, ids []string) error {
	for _, id := range ids {
		if err := c.Client.DeleteContactWay(ctx, id); err != nil && !wecom.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (w *contactWays) remember(uid types.UID, o wayObservation) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[types.UID]wayObservation{}
	}
	w.seen[uid] = o
}

// recall returns and forgets what the last Observe of uid read.
func (w *contactWays) recall(uid types.UID) (wayObservation, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	o, ok := w.seen[uid]
	delete(w.seen, uid)
	return o, ok
}

// wayState is the state written to WeCom: spec.state, or one derived from the object's UID,
// which no other object has.
func wayState(obj *v1.ContactWay) string {
	if obj.Spec.State != "" {
		return obj.Spec.State
	}
	sum := sha256.Sum256([]byte(obj.UID))
	return generatedStatePrefix + hex.EncodeToString(sum[:10])
}

func wayType(t v1.ContactWayType) int {
	if t == v1.ContactWayMulti {
		return wecom.ContactWayMulti
	}
	return wecom.ContactWaySingle
}

func wayScene(s v1.ContactWayScene) int {
	if s == v1.ContactWayMiniProgram {
		return wecom.ContactWaySceneButton
	}
	return wecom.ContactWaySceneQRCode
}

func waySkipVerify(s v1.ContactWaySpec) bool { return s.SkipVerify == nil || *s.SkipVerify }

func wayParties(s v1.ContactWaySpec) []int {
	out := make([]int, 0, len(s.Parties))
	for _, p := range s.Parties {
		out = append(out, int(p))
	}
	return out
}

func addWayRequest(obj *v1.ContactWay) wecom.AddContactWayRequest {
	s := obj.Spec
	req := wecom.AddContactWayRequest{
		Type: wayType(s.Type), Scene: wayScene(s.Scene), Remark: s.Remark, SkipVerify: ptr(waySkipVerify(s)),
		State: obj.Status.State, User: s.Users, IsExclusive: s.Exclusive,
	}
	if req.State == "" {
		req.State = wayState(obj)
	}
	if s.Style != nil {
		req.Style = int(*s.Style)
	}
	if s.Type == v1.ContactWayMulti {
		req.Party = wayParties(s)
	}
	if t := s.Temporary; t != nil {
		req.IsTemp, req.UnionID, req.Conclusions = true, t.UnionID, wayConclusions(t.Conclusions)
		if t.ExpiresIn != nil {
			req.ExpiresIn = int(*t.ExpiresIn)
		}
		if t.ChatExpiresIn != nil {
			req.ChatExpiresIn = int(*t.ChatExpiresIn)
		}
	}
	return req
}

// updateWayRequest sends every field the spec manages, so one call repairs any drift.
func updateWayRequest(obj *v1.ContactWay) wecom.UpdateContactWayRequest {
	s := obj.Spec
	req := wecom.UpdateContactWayRequest{
		ConfigID: obj.Status.ConfigID, Remark: ptr(s.Remark), SkipVerify: ptr(waySkipVerify(s)),
		State: ptr(wayState(obj)), User: append([]string{}, s.Users...), IsExclusive: ptr(s.Exclusive),
	}
	if s.Style != nil && s.Scene == v1.ContactWayMiniProgram {
		req.Style = ptr(int(*s.Style))
	}
	if s.Type == v1.ContactWayMulti {
		req.Party = wayParties(s)
	}
	if t := s.Temporary; t != nil {
		req.UnionID, req.Conclusions = ptr(t.UnionID), wayConclusions(t.Conclusions)
		if t.ExpiresIn != nil {
			req.ExpiresIn = ptr(int(*t.ExpiresIn))
		}
		if t.ChatExpiresIn != nil {
			req.ChatExpiresIn = ptr(int(*t.ChatExpiresIn))
		}
	}
	return req
}

// wayMatches compares what get_contact_way returned with the spec. is_exclusive is compared
// only when strict (the spec changed since it last matched): WeCom's documentation does not
// show it in the get reply, and a field that never comes back must not cause an update at
// every drift check.
func wayMatches(got *wecom.ContactWay, obj *v1.ContactWay, strict bool) bool {
	s := obj.Spec
	switch {
	case got.Remark != s.Remark, got.SkipVerify != waySkipVerify(s), got.State != wayState(obj),
		!sameSet(lower(got.User), lower(s.Users)),
		s.Type == v1.ContactWayMulti && !sameSet(got.Party, wayParties(s)),
		s.Scene == v1.ContactWayMiniProgram && s.Style != nil && got.Style != int(*s.Style),
		strict && got.IsExclusive != s.Exclusive:
		return false
	}
	if t := s.Temporary; t != nil {
		switch {
		case t.ExpiresIn != nil && got.ExpiresIn != int(*t.ExpiresIn),
			t.ChatExpiresIn != nil && got.ChatExpiresIn != int(*t.ChatExpiresIn),
			got.UnionID != t.UnionID,
			!sameConclusions(got.Conclusions, wayConclusions(t.Conclusions)):
			return false
		}
	}
	return true
}

func wayConclusions(c *v1.ContactWayConclusions) *wecom.Conclusions {
	if c == nil {
		return nil
	}
	out := &wecom.Conclusions{}
	if c.Text != nil {
		out.Text = &wecom.ConclusionText{Content: c.Text.Content}
	}
	if c.Image != nil {
		out.Image = &wecom.ConclusionImage{MediaID: c.Image.MediaID}
	}
	if l := c.Link; l != nil {
		out.Link = &wecom.ConclusionLink{Title: l.Title, PicURL: l.PicURL, Desc: l.Desc, URL: l.URL}
	}
	if m := c.Miniprogram; m != nil {
		out.MiniProgram = &wecom.ConclusionMini{Title: m.Title, PicMediaID: m.PicMediaID, AppID: m.AppID, Page: m.Page}
	}
	return out
}

// sameConclusions compares conclusions as WeCom returns them. An image is compared by
// presence only: it is written as media_id and read back as pic_url.
func sameConclusions(got, want *wecom.Conclusions) bool {
	if got == nil {
		got = &wecom.Conclusions{}
	}
	if want == nil {
		want = &wecom.Conclusions{}
	}
	switch {
	case (got.Text == nil) != (want.Text == nil), (got.Image == nil) != (want.Image == nil),
		(got.Link == nil) != (want.Link == nil), (got.MiniProgram == nil) != (want.MiniProgram == nil):
		return false
	case got.Text != nil && got.Text.Content != want.Text.Content:
		return false
	case got.Link != nil && (got.Link.Title != want.Link.Title || got.Link.URL != want.Link.URL || got.Link.Desc != want.Link.Desc):
		return false
	case got.MiniProgram != nil && (got.MiniProgram.Title != want.MiniProgram.Title ||
		got.MiniProgram.AppID != want.MiniProgram.AppID || got.MiniProgram.Page != want.MiniProgram.Page):
		return false
	}
	return true
}

// deepClock spreads the full reads of objects that a list call can only partly check: each
// object is read once per interval, the first read after a start spread by its UID.
type deepClock struct {
	every time.Duration

	mu   sync.Mutex
	last map[types.UID]time.Time
}

func (d *deepClock) due(uid types.UID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	last, ok := d.last[uid]
	if !ok {
		if d.last == nil {
			d.last = map[types.UID]time.Time{}
		}
		d.last[uid] = time.Now().Add(-spread(uid, d.every))
		return false
	}
	return time.Since(last) >= d.every
}

func (d *deepClock) mark(uid types.UID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last == nil {
		d.last = map[types.UID]time.Time{}
	}
	d.last[uid] = time.Now()
}

func (d *deepClock) forget(uid types.UID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.last, uid)
}

func setupContactWays(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, snaps *snapshots) error {
	kube := mgr.GetClient()
	r := &ManagedReconciler[*v1.ContactWay]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval,
		NewObject: func() *v1.ContactWay { return &v1.ContactWay{} },
		External: &contactWays{kube: kube, fresh: mgr.GetAPIReader(), snapshots: snaps,
			maxAge: snapshotMaxAge(o.DriftInterval), deep: &deepClock{every: o.DeepDriftInterval()}},
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.ContactWay{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1.WeComConnection{}, connectionDependants(kube, func() client.ObjectList { return &v1.ContactWayList{} }), builder.WithPredicates(readyChanged)).
		WithOptions(controllerOptions(o)).
		Named("contactway").
		Complete(r)
}
