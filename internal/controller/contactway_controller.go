package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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

// contactWays connects ContactWay objects to WeCom.
//
// add_contact_way has no natural key, but every way carries the object's state marker
// (spec.state, or one derived from the UID). A create whose reply was lost is found by
// listing the ways created since the create started (the skeleton's create-pending
// annotation) and reading each for the marker.
//
// Drift checks read list_contact_way, one call per 1,000 ways per connection per interval,
// which shows ways deleted behind the operator's back. A way's fields are read with
// get_contact_way when its spec changed, when the list does not show it, and otherwise once
// per deep interval (API-made ways are not shown in the admin console, so only other API
// callers can change them).
type contactWays struct {
	kube      client.Client
	snapshots *snapshots
	maxAge    time.Duration
	deepEvery time.Duration
	window    time.Duration
}

// contactWayClient is the ContactWay part of one reconcile; got is what Observe read.
type contactWayClient struct {
	api wecom.ContactWays
	*contactWays
	c   *Connection
	got *wecom.ContactWay
}

func (w *contactWays) Connect(_ context.Context, c *Connection, _ *v1.ContactWay) (ExternalClient[*v1.ContactWay], error) {
	return &contactWayClient{contactWays: w, c: c, api: c.Client}, nil
}

type wayIndex = index[string, struct{}]

func (w *contactWayClient) listed(ctx context.Context) (*wayIndex, error) {
	v, err := w.snapshots.get(ctx, w.c.Scope+"|contactways", w.maxAge, func(ctx context.Context) (any, error) {
		idx := newIndex[string, struct{}]()
		err := w.listWays(ctx, wayListSince, func(id string) error {
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
func (w *contactWayClient) listWays(ctx context.Context, since int64, fn func(string) error) error {
	cursor := ""
	for {
		page, err := w.api.ListContactWays(ctx, wecom.ListContactWayRequest{StartTime: since, Cursor: cursor, Limit: wayListPage})
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

// wayPendingSince is when a create of obj whose reply may be lost started: the skeleton's
// annotation, or the status field operator versions before v0.2 used.
func wayPendingSince(obj *v1.ContactWay) time.Time {
	if t := createPending(obj); !t.IsZero() {
		return t
	}
	if p := obj.Status.PendingCreateTime; p != nil {
		return p.Time
	}
	return time.Time{}
}

func (w *contactWayClient) Observe(ctx context.Context, obj *v1.ContactWay) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	if since := wayPendingSince(obj); !since.IsZero() && obj.Status.ConfigID == "" {
		if obj.Spec.Temporary != nil {
			return Observation{}, &errCreateUnrecoverable{how: "WeCom never lists temporary contact ways, so the way it may have made cannot be found"}
		}
		got, err := w.findOwn(ctx, obj, since)
		if err != nil {
			return Observation{}, err
		}
		obj.Status.PendingCreateTime = nil
		if got == nil {
			return Observation{}, nil // the lost create made nothing
		}
		obj.Status.ConfigID, obj.Status.QRCode, obj.Status.State = got.ConfigID, got.QRCode, got.State
		w.got = got
		if deleting {
			return Observation{Exists: true, UpToDate: true}, nil
		}
		d := wayDrift(got, obj, true)
		return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
	}
	obj.Status.PendingCreateTime = nil
	if obj.Status.ConfigID == "" {
		return Observation{}, nil
	}

	// The cheap path: the spec has not changed since it was last made to match, the list
	// shows the way, and the deep check is not due.
	var idx *wayIndex
	if !deleting && readyAndCurrent(obj) && !deepSlot(obj.UID, time.Now(), w.deepEvery, w.window) {
		var err error
		if idx, err = w.listed(ctx); err == nil {
			if _, ok := idx.get(obj.Status.ConfigID); ok {
				return Observation{Exists: true, UpToDate: true}, nil
			}
		}
	}
	got, err := w.api.GetContactWay(ctx, obj.Status.ConfigID)
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
	if deleting {
		return Observation{Exists: true}, nil
	}
	obj.Status.QRCode = got.QRCode
	w.got = got
	d := wayDrift(got, obj, !readyAndCurrent(obj))
	return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
}

// findOwn returns the first way created since the pending create (less the clock slack
// between the operator and WeCom) that carries the object's marker (state, type and scene)
// and that no other ContactWay of the connection has claimed, or nil.
func (w *contactWayClient) findOwn(ctx context.Context, obj *v1.ContactWay, since time.Time) (*wecom.ContactWay, error) {
	claimed, err := w.claimed(ctx, obj)
	if err != nil {
		return nil, err
	}
	state := wayState(obj)
	var own *wecom.ContactWay
	err = w.listWays(ctx, since.Add(-wayRecoverySlack).Unix(), func(id string) error {
		if own != nil || claimed[id] {
			return nil
		}
		got, err := w.api.GetContactWay(ctx, id)
		if wecom.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if got.State == state && got.Type == wayType(obj.Spec.Type) && got.Scene == wayScene(obj.Spec.Scene) {
			own = got
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

func (w *contactWayClient) Create(ctx context.Context, obj *v1.ContactWay) error {
	res, err := w.api.AddContactWay(ctx, addWayRequest(obj))
	if err != nil {
		return memberMissing(err)
	}
	obj.Status.ConfigID, obj.Status.QRCode, obj.Status.State = res.ConfigID, res.QRCode, wayState(obj)
	return nil
}

func (w *contactWayClient) Update(ctx context.Context, obj *v1.ContactWay) error {
	if err := w.api.UpdateContactWay(ctx, updateWayRequest(obj)); err != nil {
		return memberMissing(err)
	}
	obj.Status.State = wayState(obj)
	return nil
}

func (w *contactWayClient) Delete(ctx context.Context, obj *v1.ContactWay) error {
	if id := obj.Status.ConfigID; id != "" {
		if err := w.api.DeleteContactWay(ctx, id); err != nil && !wecom.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// memberMissing turns WeCom's 60111 (a userid of spec.users is no member) into a wait rather
// than a refusal: the member is commonly being made by a WeComUser of the same apply. The way
// is tried again when a WeComUser of its namespace gets one of its userids, and at the
// skeleton's dependency requeue.
func memberMissing(err error) error {
	if wecom.Code(err) != wecom.ErrCodeUserIDNotFound {
		return err
	}
	return waitFor(v1.ReasonDependencyNotReady,
		"waiting for a member of spec.users to exist in WeCom: %s. A WeComUser being created makes it; otherwise add the member in WeCom or correct spec.users", describe(err))
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
		State: wayState(obj), User: s.Users, IsExclusive: s.Exclusive,
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
	return len(wayDrift(got, obj, strict)) == 0
}

// wayDrift lists the fields of wayMatches that differ.
func wayDrift(got *wecom.ContactWay, obj *v1.ContactWay, strict bool) drift {
	s := obj.Spec
	var d drift
	d.check("remark", got.Remark == s.Remark, got.Remark, s.Remark)
	d.check("skipVerify", got.SkipVerify == waySkipVerify(s), got.SkipVerify, waySkipVerify(s))
	d.check("state", got.State == wayState(obj), got.State, wayState(obj))
	d.check("users", sameSet(lower(got.User), lower(s.Users)), got.User, s.Users)
	if s.Type == v1.ContactWayMulti {
		d.check("parties", sameSet(got.Party, wayParties(s)), got.Party, wayParties(s))
	}
	if s.Scene == v1.ContactWayMiniProgram && s.Style != nil {
		d.check("style", got.Style == int(*s.Style), got.Style, *s.Style)
	}
	if strict {
		d.check("exclusive", got.IsExclusive == s.Exclusive, got.IsExclusive, s.Exclusive)
	}
	if t := s.Temporary; t != nil {
		if t.ExpiresIn != nil {
			d.check("temporary.expiresIn", got.ExpiresIn == int(*t.ExpiresIn), got.ExpiresIn, *t.ExpiresIn)
		}
		if t.ChatExpiresIn != nil {
			d.check("temporary.chatExpiresIn", got.ChatExpiresIn == int(*t.ChatExpiresIn), got.ChatExpiresIn, *t.ChatExpiresIn)
		}
		d.check("temporary.unionID", got.UnionID == t.UnionID, got.UnionID, t.UnionID)
		d.check("temporary.conclusions", sameConclusions(got.Conclusions, wayConclusions(t.Conclusions)), "(differs)", "(spec)")
	}
	return d
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

// indexWayUser indexes ContactWays by the userids of spec.users, in lower case.
const indexWayUser = "spec.users"

func setupContactWays(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, snaps *snapshots) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.ContactWay{}, indexWayUser, func(obj client.Object) []string {
		return nonEmpty(lower(obj.(*v1.ContactWay).Spec.Users)...)
	}); err != nil {
		return err
	}
	kube := mgr.GetClient()
	// A way waiting for its member (memberMissing) goes on once a WeComUser made it.
	waysOfMember := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		id := obj.(*v1.WeComUser).Status.UserID
		if id == "" {
			return nil
		}
		return dependants(ctx, kube, &v1.ContactWayList{}, obj.GetNamespace(), indexWayUser, strings.ToLower(id))
	})
	r := &ManagedReconciler[*v1.ContactWay]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval, CallbackDriftInterval: o.CallbackDriftInterval,
		NewObject: func() *v1.ContactWay { return &v1.ContactWay{} },
		External: &contactWays{kube: kube, snapshots: snaps, maxAge: snapshotMaxAge(o.DriftInterval),
			deepEvery: o.DeepDriftInterval(), window: driftWindow(o.DriftInterval)},
	}
	return managedController(mgr, o, "contactway", &v1.ContactWay{}, func() client.ObjectList { return &v1.ContactWayList{} }).
		Watches(&v1.WeComUser{}, waysOfMember, builder.WithPredicates(userIDChanged)).
		Complete(errorWins(r))
}
