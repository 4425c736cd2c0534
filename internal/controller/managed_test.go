package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// fakeExternal is a scripted ExternalClient for WeComDepartment: each Observe returns the
// next of observes (the last one repeats) and records the id it found.
type fakeExternal struct {
	observes  []fakeObservation
	createErr error
	updateErr error
	deleteErr error
	newID     int64
	// nameEn is WeCom's English name, which LateInitialize fills into an empty spec.nameEn.
	nameEn string

	calls []string
	// annotationsAtCreate are the annotations stored in the API server when Create ran.
	annotationsAtCreate map[string]string
	kube                client.Client
}

type fakeObservation struct {
	obs Observation
	id  int64 // recorded in the status when obs.Exists
	err error
}

func (f *fakeExternal) Connect(context.Context, *Connection, *v1.WeComDepartment) (ExternalClient[*v1.WeComDepartment], error) {
	return f, nil
}

func (f *fakeExternal) Observe(_ context.Context, obj *v1.WeComDepartment) (Observation, error) {
	f.calls = append(f.calls, "observe")
	if len(f.observes) == 0 {
		return Observation{}, nil
	}
	o := f.observes[0]
	if len(f.observes) > 1 {
		f.observes = f.observes[1:]
	}
	if o.obs.Exists && o.id != 0 {
		obj.Status.ID = o.id
	}
	return o.obs, o.err
}

func (f *fakeExternal) LateInitialize(obj *v1.WeComDepartment) []string {
	if obj.Spec.NameEn != "" || f.nameEn == "" {
		return nil
	}
	obj.Spec.NameEn = f.nameEn
	return []string{"nameEn"}
}

func (f *fakeExternal) Create(ctx context.Context, obj *v1.WeComDepartment) error {
	f.calls = append(f.calls, "create")
	stored := &v1.WeComDepartment{}
	if err := f.kube.Get(ctx, client.ObjectKeyFromObject(obj), stored); err == nil {
		f.annotationsAtCreate = stored.Annotations
	}
	if f.createErr != nil {
		return f.createErr
	}
	obj.Status.ID = f.newID
	return nil
}

func (f *fakeExternal) Update(context.Context, *v1.WeComDepartment) error {
	f.calls = append(f.calls, "update")
	return f.updateErr
}

func (f *fakeExternal) Delete(context.Context, *v1.WeComDepartment) error {
	f.calls = append(f.calls, "delete")
	return f.deleteErr
}

type fakeConnector struct {
	err         error
	terminating bool // the namespace is being deleted
}

func (f fakeConnector) Connect(_ context.Context, _, name string) (*Connection, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &Connection{Name: name, Scope: "test"}, nil
}

func (f fakeConnector) ConnectForDelete(ctx context.Context, ns, name string) (*Connection, error) {
	return f.Connect(ctx, ns, name)
}

func (f fakeConnector) NamespaceTerminating(context.Context, string) (bool, error) {
	return f.terminating, nil
}

var (
	testNow     = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	testPending = testNow.Add(-time.Minute).Format(time.RFC3339Nano)
	deletedAt   = metav1.NewTime(testNow)
)

func department(mutate ...func(*v1.WeComDepartment)) *v1.WeComDepartment {
	d := &v1.WeComDepartment{
		ObjectMeta: metav1.ObjectMeta{Name: "ops", Namespace: "ns", Generation: 1},
		Spec:       v1.WeComDepartmentSpec{Name: "Ops"},
	}
	d.Spec.ConnectionRef.Name = "conn"
	for _, m := range mutate {
		m(d)
	}
	return d
}

func withFinalizer(d *v1.WeComDepartment) { d.Finalizers = []string{Finalizer} }
func policies(p ...v1.ManagementPolicy) func(*v1.WeComDepartment) {
	return func(d *v1.WeComDepartment) { d.Spec.ManagementPolicies = p }
}
func withID(id int64) func(*v1.WeComDepartment) {
	return func(d *v1.WeComDepartment) { d.Status.ID = id }
}
func withAnnotation(k, v string) func(*v1.WeComDepartment) {
	return func(d *v1.WeComDepartment) {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[k] = v
	}
}
func deleting(d *v1.WeComDepartment) {
	d.DeletionTimestamp = &deletedAt
	d.Finalizers = []string{Finalizer}
}

// deletedFor marks the object deleted for d before testNow.
func deletedFor(d time.Duration) func(*v1.WeComDepartment) {
	return func(o *v1.WeComDepartment) {
		at := metav1.NewTime(testNow.Add(-d))
		o.DeletionTimestamp = &at
		o.Finalizers = []string{Finalizer}
	}
}

func apiErr(code int) error { return &wecom.APIError{Code: code, API: "department/create"} }

// ambiguousErr is a failed create that WeCom may nevertheless have applied.
func ambiguousErr() error {
	return &wecom.CallError{API: "department/create", Attempts: 1, Ambiguous: true,
		Err: &wecom.TransportError{API: "department/create", Err: errors.New("connection reset")}}
}

// want is what a user sees after one reconcile.
type want struct {
	calls       []string
	gone        bool              // the object was released (finalizer removed)
	annotations map[string]string // exactly these annotations afterwards
	ready       string            // "Status/Reason", "" to not check
	synced      string
	events      []string // "Type Reason" prefixes, in order
	err         string   // substring of the error, "" for none
	terminal    bool
	requeue     time.Duration // RequeueAfter, when set
	statusID    int64
	drift       []string // status.drift as "field: wecom → spec"
	nameEn      string   // spec.nameEn afterwards
}

// branchCase is one reconcile of the skeleton and what a user sees afterwards.
type branchCase struct {
	name string
	obj  *v1.WeComDepartment
	ext  fakeExternal
	conn error
	// staleRead makes the reconcile read an older version than the API server holds.
	staleRead bool
	// nsTerminating: the object's namespace is being deleted.
	nsTerminating bool
	want          want
}

func TestManagedReconcilerBranches(t *testing.T) {
	cases := []branchCase{
		{
			name: "not in WeCom: created behind the pending mark, id recorded in status and annotation",
			obj:  department(),
			ext:  fakeExternal{newID: 7},
			want: want{calls: []string{"observe", "create"}, statusID: 7,
				annotations: map[string]string{v1.AnnotationExternalName: "7"},
				ready:       "True/Available", synced: "True/ReconcileSuccess", events: []string{"Normal Created"}},
		},
		{
			name: "create pending and found: adopted, not created again",
			obj:  department(withFinalizer, withAnnotation(v1.AnnotationCreatePending, testPending)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}, id: 9}}},
			want: want{calls: []string{"observe"}, statusID: 9,
				annotations: map[string]string{v1.AnnotationExternalName: "9"},
				ready:       "True/Available", synced: "True/ReconcileSuccess", events: []string{"Normal Recovered"}},
		},
		{
			name: "create pending and found but different: found, then updated",
			obj:  department(withFinalizer, withAnnotation(v1.AnnotationCreatePending, testPending)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true}, id: 9}}},
			want: want{calls: []string{"observe", "update"}, statusID: 9,
				annotations: map[string]string{v1.AnnotationExternalName: "9"},
				ready:       "True/Available", events: []string{"Normal Recovered", "Normal Updated"}},
		},
		{
			name: "create pending and not findable: stops with CreateIncomplete, never creates",
			obj:  department(withFinalizer, withAnnotation(v1.AnnotationCreatePending, testPending)),
			ext:  fakeExternal{observes: []fakeObservation{{err: &errCreateUnrecoverable{how: "it cannot be listed"}}}},
			want: want{calls: []string{"observe"}, terminal: true, err: "cannot be listed",
				annotations: map[string]string{v1.AnnotationCreatePending: testPending},
				ready:       "False/CreateIncomplete", synced: "False/CreateIncomplete",
				events: []string{"Warning CreateIncomplete"}},
		},
		{
			name: "WeCom says already exists: back to Observe, which adopts, then Update",
			obj:  department(withFinalizer),
			ext: fakeExternal{createErr: apiErr(wecom.ErrCodeDeptExists),
				observes: []fakeObservation{{}, {obs: Observation{Exists: true}, id: 11}}},
			want: want{calls: []string{"observe", "create", "observe", "update"}, statusID: 11,
				annotations: map[string]string{v1.AnnotationExternalName: "11"},
				ready:       "True/Available", events: []string{"Normal Adopted", "Normal Updated"}},
		},
		{
			name: "a create WeCom refused: the pending mark goes, the error is terminal",
			obj:  department(withFinalizer),
			ext:  fakeExternal{createErr: apiErr(wecom.ErrCodeDeptNameIllegal)},
			want: want{calls: []string{"observe", "create"}, annotations: map[string]string{},
				ready: "False/WeComRejected", synced: "False/WeComRejected", events: []string{"Warning CreateFailed"}},
		},
		{
			name: "a create that waits for something WeCom lacks: the pending mark goes, waits with a requeue",
			obj:  department(withFinalizer),
			ext:  fakeExternal{createErr: waitFor(v1.ReasonDependencyNotReady, "waiting for the member")},
			want: want{calls: []string{"observe", "create"}, annotations: map[string]string{}, requeue: 10 * time.Second,
				ready: "False/DependencyNotReady", synced: "False/DependencyNotReady"},
		},
		{
			name: "a create whose reply was lost: the pending mark stays for the next Observe",
			obj:  department(withFinalizer),
			ext:  fakeExternal{createErr: ambiguousErr()},
			want: want{calls: []string{"observe", "create"}, err: "connection reset",
				annotations: map[string]string{v1.AnnotationCreatePending: testNow.Format(time.RFC3339Nano)},
				ready:       "False/Retrying", synced: "False/Retrying", events: []string{"Warning CreateFailed"}},
		},
		{
			name:      "a stale read before a create: the guard's optimistic lock refuses, nothing is created",
			obj:       department(withFinalizer, withAnnotation(v1.AnnotationExternalName, "5"), withID(5)),
			staleRead: true,
			ext:       fakeExternal{},
			want: want{calls: []string{"observe"}, requeue: conflictRetry, statusID: 5,
				annotations: map[string]string{v1.AnnotationExternalName: "5"}},
		},
		{
			name: "exists and matches: no write, drift check requeued",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3")),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available", synced: "True/ReconcileSuccess"},
		},
		{
			name: "exists and differs: updated",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3")),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true}, id: 3}}},
			want: want{calls: []string{"observe", "update"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available", events: []string{"Normal Updated"}},
		},
		{
			name: "an update WeCom refuses: Ready False with the errcode",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3")),
			ext: fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true}, id: 3}},
				updateErr: apiErr(wecom.ErrCodeDeptNameIllegal)},
			want: want{calls: []string{"observe", "update"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "False/WeComRejected", synced: "False/WeComRejected", events: []string{"Warning UpdateFailed"}},
		},
		{
			name: "an update that waits for something WeCom lacks: Ready False with the wait, not a refusal",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3")),
			ext: fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true}, id: 3}},
				updateErr: waitFor(v1.ReasonDependencyNotReady, "waiting for the member")},
			want: want{calls: []string{"observe", "update"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				requeue: 10 * time.Second, ready: "False/DependencyNotReady", synced: "False/DependencyNotReady"},
		},
		{
			name: "upgrade: an id in status only gets its annotation, with no write to WeCom",
			obj:  department(withFinalizer, withID(4)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}, id: 4}}},
			want: want{calls: []string{"observe"}, statusID: 4, annotations: map[string]string{v1.AnnotationExternalName: "4"},
				ready: "True/Available"},
		},
		{
			name: "restore: the annotation gives back the id a restore dropped from status",
			obj:  department(withFinalizer, withAnnotation(v1.AnnotationExternalName, "12")),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}}}},
			want: want{calls: []string{"observe"}, statusID: 12, annotations: map[string]string{v1.AnnotationExternalName: "12"},
				ready: "True/Available"},
		},
		{
			name: "a malformed external name: terminal, nothing called",
			obj:  department(withFinalizer, withAnnotation(v1.AnnotationExternalName, "ops")),
			want: want{terminal: true, err: "not a WeCom department id", annotations: map[string]string{v1.AnnotationExternalName: "ops"},
				ready: "False/ReconcileError", synced: "False/ReconcileError"},
		},
		{
			name: "credentials refused: waits for the connection to be fixed",
			obj:  department(withFinalizer, withID(3)),
			ext:  fakeExternal{observes: []fakeObservation{{err: apiErr(wecom.ErrCodeInvalidSecret)}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{},
				ready: "False/CredentialsInvalid", synced: "False/CredentialsInvalid", events: []string{"Warning ObserveFailed"}},
		},
		{
			name: "WeCom busy: retried with backoff",
			obj:  department(withFinalizer, withID(3)),
			ext:  fakeExternal{observes: []fakeObservation{{err: apiErr(wecom.ErrCodeSystemBusy)}}},
			want: want{calls: []string{"observe"}, statusID: 3, err: "-1", annotations: map[string]string{},
				ready: "False/Retrying", synced: "False/Retrying", events: []string{"Warning ObserveFailed"}},
		},
		{
			name: "the client's own rate limit: requeued after its RetryAfter",
			obj:  department(withFinalizer, withID(3)),
			ext:  fakeExternal{observes: []fakeObservation{{err: &wecom.RateLimitError{API: "department/list", RetryAfter: 1500 * time.Millisecond}}}},
			want: want{calls: []string{"observe"}, statusID: 3, requeue: 1500 * time.Millisecond, annotations: map[string]string{},
				ready: "False/Retrying", synced: "False/Retrying", events: []string{"Warning ObserveFailed"}},
		},
		{
			name: "connection missing: waits, calls nothing",
			obj:  department(withFinalizer),
			conn: waitFor(v1.ReasonConnectionNotReady, "WeComConnection \"conn\" not found"),
			want: want{requeue: 10 * time.Second, annotations: map[string]string{},
				ready: "False/ConnectionNotReady", synced: "False/ConnectionNotReady"},
		},
		{
			name: "delete: deleted, confirmed gone, released",
			obj:  department(deleting, withID(3)),
			ext:  fakeExternal{},
			want: want{calls: []string{"delete", "observe"}, gone: true, events: []string{"Normal Deleted"}},
		},
		{
			name: "delete not yet confirmed: requeued, finalizer kept",
			obj:  department(deleting, withID(3)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true}, id: 3}}},
			want: want{calls: []string{"delete", "observe"}, requeue: 2 * time.Second, annotations: map[string]string{},
				ready: "False/Deleting", synced: "True/ReconcileSuccess", statusID: 3},
		},
		{
			name: "delete with a create pending: what it made is found first, then deleted",
			obj:  department(deleting, withAnnotation(v1.AnnotationCreatePending, testPending)),
			ext: fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true}, id: 8},
				{obs: Observation{}}}},
			want: want{calls: []string{"observe", "delete", "observe"}, gone: true, events: []string{"Normal Recovered", "Normal Deleted"}},
		},
		{
			name: "delete blocked by WeCom: retried later, with the reason",
			obj:  department(deleting, withID(3)),
			ext:  fakeExternal{deleteErr: &deleteBlockedError{err: apiErr(wecom.ErrCodeDeptHasMembers)}},
			want: want{calls: []string{"delete"}, requeue: 30 * time.Second, annotations: map[string]string{}, statusID: 3,
				ready: "False/Deleting", synced: "False/DeleteBlocked", events: []string{"Warning DeleteFailed", "Warning DeleteBlocked"}},
		},
		{
			name: "orphan: WeCom left alone, released",
			obj: department(deleting, withID(3), func(d *v1.WeComDepartment) {
				d.Spec.DeletionPolicy = v1.DeletionOrphan
			}),
			want: want{gone: true, events: []string{"Normal Orphaned"}},
		},
		// Management policies: every branch the skeleton takes on them.
		{
			name: "observe-only, not in WeCom: not created, NotInWeCom, no pending mark",
			obj:  department(withFinalizer, policies(v1.ManagementObserve)),
			want: want{calls: []string{"observe"}, annotations: map[string]string{},
				ready: "False/NotInWeCom", synced: "True/ReconcileSuccess"},
		},
		{
			name: "observe-only, differs: nothing written, Drifted with the fields",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3"), policies(v1.ManagementObserve)),
			ext: fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, Drift: []v1.DriftedField{
				{Field: "name", WeCom: "Ops (by hand)", Spec: "Ops"}}}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "False/Drifted", synced: "True/ReconcileSuccess", drift: []string{"name: Ops (by hand) → Ops"}},
		},
		{
			name: "observe-only, matches again: Ready, the drift list emptied",
			obj: department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3"), policies(v1.ManagementObserve),
				func(d *v1.WeComDepartment) {
					d.Status.Drift = []v1.DriftedField{{Field: "name", WeCom: "x", Spec: "Ops"}}
				}),
			ext: fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available"},
		},
		{
			name: "observe-only, found by its natural key: adopted (only the annotation is written), not changed",
			obj:  department(withFinalizer, policies(v1.ManagementObserve)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}, id: 6}}},
			want: want{calls: []string{"observe"}, statusID: 6, annotations: map[string]string{v1.AnnotationExternalName: "6"},
				ready: "True/Available", events: []string{"Normal Adopted"}},
		},
		{
			name: "observe-only, deleted in Kubernetes with deletionPolicy Delete: WeCom left alone",
			obj:  department(deleting, withID(3), policies(v1.ManagementObserve)),
			want: want{gone: true, events: []string{"Normal Orphaned"}},
		},
		{
			name: "Observe+Create, not in WeCom: created",
			obj:  department(withFinalizer, policies(v1.ManagementObserve, v1.ManagementCreate)),
			ext:  fakeExternal{newID: 7},
			want: want{calls: []string{"observe", "create"}, statusID: 7, annotations: map[string]string{v1.AnnotationExternalName: "7"},
				ready: "True/Available", events: []string{"Normal Created"}},
		},
		{
			name: "Observe+Create, differs: not updated, Drifted",
			obj:  department(withFinalizer, withID(3), policies(v1.ManagementObserve, v1.ManagementCreate)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "False/Drifted"},
		},
		{
			name: "Observe+Update, not in WeCom: not created",
			obj:  department(withFinalizer, policies(v1.ManagementObserve, v1.ManagementUpdate)),
			want: want{calls: []string{"observe"}, annotations: map[string]string{}, ready: "False/NotInWeCom"},
		},
		{
			name: "Observe+Update, differs: repaired with one update, the drift list empty",
			obj:  department(withFinalizer, withID(3), policies(v1.ManagementObserve, v1.ManagementUpdate)),
			ext: fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, Drift: []v1.DriftedField{
				{Field: "name", WeCom: "x", Spec: "Ops"}}}, id: 3}}},
			want: want{calls: []string{"observe", "update"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available", events: []string{"Normal Updated"}},
		},
		{
			name: "Observe+Delete, deleted in Kubernetes: deleted in WeCom",
			obj:  department(deleting, withID(3), policies(v1.ManagementObserve, v1.ManagementDelete)),
			want: want{calls: []string{"delete", "observe"}, gone: true, events: []string{"Normal Deleted"}},
		},
		{
			name: "everything but Delete, deleted in Kubernetes: WeCom left alone",
			obj:  department(deleting, withID(3), policies(v1.ManagementObserve, v1.ManagementCreate, v1.ManagementUpdate)),
			want: want{gone: true, events: []string{"Normal Orphaned"}},
		},
		{
			name: "[\"*\"], differs: updated",
			obj:  department(withFinalizer, withID(3), policies(v1.ManagementAll)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true}, id: 3}}},
			want: want{calls: []string{"observe", "update"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available", events: []string{"Normal Updated"}},
		},
		// Late initialisation: only with LateInitialize (or "*"), only empty fields, one
		// spec write, no WeCom write.
		{
			name: "[\"*\"], nameEn empty and set in WeCom: filled in one spec write, nothing written to WeCom",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3")),
			ext:  fakeExternal{nameEn: "Operations", observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available", synced: "True/ReconcileSuccess", events: []string{"Normal LateInitialized"}, nameEn: "Operations"},
		},
		{
			name: "[\"*\"], the only drift was in the filled field: Ready with no update",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3")),
			ext: fakeExternal{nameEn: "Operations", observes: []fakeObservation{{obs: Observation{Exists: true, Drift: []v1.DriftedField{
				{Field: "nameEn", WeCom: "Operations", Spec: ""}}}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available", events: []string{"Normal LateInitialized"}, nameEn: "Operations"},
		},
		{
			name: "nameEn set: never overwritten, no spec write",
			obj: department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3"), func(d *v1.WeComDepartment) {
				d.Spec.NameEn = "Ops EN"
			}),
			ext: fakeExternal{nameEn: "Operations", observes: []fakeObservation{{obs: Observation{Exists: true}, id: 3}}},
			want: want{calls: []string{"observe", "update"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available", events: []string{"Normal Updated"}, nameEn: "Ops EN"},
		},
		{
			name: "observe-only without LateInitialize: nothing filled",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3"), policies(v1.ManagementObserve)),
			ext:  fakeExternal{nameEn: "Operations", observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "True/Available"},
		},
		{
			name: "Observe+LateInitialize, differs in name too: nameEn filled, still Drifted on name, nothing written to WeCom",
			obj:  department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3"), policies(v1.ManagementObserve, v1.ManagementLateInitialize)),
			ext: fakeExternal{nameEn: "Operations", observes: []fakeObservation{{obs: Observation{Exists: true, Drift: []v1.DriftedField{
				{Field: "name", WeCom: "Ops (by hand)", Spec: "Ops"}, {Field: "nameEn", WeCom: "Operations", Spec: ""}}}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: map[string]string{v1.AnnotationExternalName: "3"},
				ready: "False/Drifted", synced: "True/ReconcileSuccess", events: []string{"Normal LateInitialized"},
				drift: []string{"name: Ops (by hand) → Ops"}, nameEn: "Operations"},
		},
		{
			name: "Observe+LateInitialize, not in WeCom: nothing to fill from, NotInWeCom",
			obj:  department(withFinalizer, policies(v1.ManagementObserve, v1.ManagementLateInitialize)),
			ext:  fakeExternal{nameEn: "Operations"},
			want: want{calls: []string{"observe"}, annotations: map[string]string{}, ready: "False/NotInWeCom"},
		},
		{
			name: "delete while the connection is gone: waits and says how to release",
			obj:  department(deleting, withID(3)),
			conn: waitFor(v1.ReasonConnectionNotReady, "WeComConnection \"conn\" not found"),
			want: want{requeue: 10 * time.Second, annotations: map[string]string{}, statusID: 3,
				ready: "False/ConnectionNotReady", synced: "False/ConnectionNotReady"},
		},
		{
			name:          "namespace being deleted, its Secret gone for less than the grace: waits",
			obj:           department(deletedFor(terminatingGrace-time.Second), withID(3)),
			conn:          waitFor(v1.ReasonSecretNotFound, "Secret \"conn\" not found"),
			nsTerminating: true,
			want: want{requeue: 10 * time.Second, annotations: map[string]string{}, statusID: 3,
				ready: "False/SecretNotFound", synced: "False/SecretNotFound"},
		},
		{
			name:          "namespace being deleted, its Secret gone past the grace: released without a WeCom call, with a Warning",
			obj:           department(deletedFor(terminatingGrace), withID(3)),
			conn:          waitFor(v1.ReasonSecretNotFound, "Secret \"conn\" not found"),
			nsTerminating: true,
			want:          want{gone: true, events: []string{"Warning Orphaned"}},
		},
		{
			name: "namespace not being deleted, the connection gone for long: waits (it can be restored)",
			obj:  department(deletedFor(time.Hour), withID(3)),
			conn: waitFor(v1.ReasonConnectionNotReady, "WeComConnection \"conn\" not found"),
			want: want{requeue: 10 * time.Second, annotations: map[string]string{}, statusID: 3,
				ready: "False/ConnectionNotReady", synced: "False/ConnectionNotReady"},
		},
	}
	cases = append(cases, everyPolicySet()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			if err := v1.AddToScheme(scheme); err != nil {
				t.Fatal(err)
			}
			var stale *v1.WeComDepartment
			builder := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.obj).WithStatusSubresource(tc.obj)
			if tc.staleRead {
				builder = builder.WithInterceptorFuncs(interceptor.Funcs{
					Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
						if d, ok := obj.(*v1.WeComDepartment); ok && stale != nil {
							stale.DeepCopyInto(d)
							return nil
						}
						return c.Get(ctx, key, obj, opts...)
					},
				})
			}
			kube := builder.Build()
			key := types.NamespacedName{Namespace: "ns", Name: "ops"}
			if tc.staleRead {
				// The cache still shows the object as it was before a create stored its id.
				old := &v1.WeComDepartment{}
				if err := kube.Get(context.Background(), key, old); err != nil {
					t.Fatal(err)
				}
				touched := old.DeepCopy()
				touched.Labels = map[string]string{"touched": "yes"}
				if err := kube.Update(context.Background(), touched); err != nil {
					t.Fatal(err)
				}
				old.Status.ID = 0
				old.Annotations = nil
				stale = old
			}
			ext := tc.ext
			ext.kube = kube
			rec := events.NewFakeRecorder(20)
			r := &ManagedReconciler[*v1.WeComDepartment]{
				Client: kube, Connector: fakeConnector{err: tc.conn, terminating: tc.nsTerminating}, Recorder: rec, External: &ext,
				NewObject:     func() *v1.WeComDepartment { return &v1.WeComDepartment{} },
				DriftInterval: time.Hour, Now: func() time.Time { return testNow },
			}
			res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: key})
			stale = nil // what follows reads what the API server holds
			w := tc.want

			if diff := cmp.Diff(w.calls, ext.calls); diff != "" {
				t.Errorf("WeCom calls (-want +got):\n%s", diff)
			}
			switch {
			case w.err == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case w.err != "" && (err == nil || !strings.Contains(err.Error(), w.err)):
				t.Errorf("error %v, want one containing %q", err, w.err)
			}
			if got := errors.Is(err, reconcile.TerminalError(nil)); got != w.terminal {
				t.Errorf("terminal = %v, want %v (error %v)", got, w.terminal, err)
			}
			if w.requeue != 0 && res.RequeueAfter != w.requeue {
				t.Errorf("RequeueAfter %s, want %s", res.RequeueAfter, w.requeue)
			}
			if slices.Contains(ext.calls, "create") {
				if got := ext.annotationsAtCreate[v1.AnnotationCreatePending]; got == "" {
					t.Errorf("Create ran without the pending mark stored first (annotations %v)", ext.annotationsAtCreate)
				}
			}

			got := &v1.WeComDepartment{}
			err = kube.Get(context.Background(), key, got)
			if w.gone {
				if !apierrors.IsNotFound(err) {
					t.Errorf("object still there (finalizers %v), want it released", got.Finalizers)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(w.annotations, got.Annotations, cmpEmptyMap); diff != "" {
					t.Errorf("annotations (-want +got):\n%s", diff)
				}
				if got.Status.ID != w.statusID {
					t.Errorf("status.id %d, want %d", got.Status.ID, w.statusID)
				}
				checkCondition(t, got, v1.ConditionReady, w.ready)
				checkCondition(t, got, v1.ConditionSynced, w.synced)
				var drift []string
				for _, f := range got.Status.Drift {
					drift = append(drift, f.Field+": "+f.WeCom+" → "+f.Spec)
				}
				if diff := cmp.Diff(w.drift, drift); diff != "" {
					t.Errorf("status.drift (-want +got):\n%s", diff)
				}
				if got.Spec.NameEn != w.nameEn {
					t.Errorf("spec.nameEn %q, want %q", got.Spec.NameEn, w.nameEn)
				}
			}
			var evs []string
			for len(rec.Events) > 0 {
				evs = append(evs, <-rec.Events)
			}
			if len(evs) != len(w.events) {
				t.Errorf("events %q, want %q", evs, w.events)
			} else {
				for i := range evs {
					if !strings.HasPrefix(evs[i], w.events[i]+" ") {
						t.Errorf("event %d %q, want %q", i, evs[i], w.events[i])
					}
				}
			}
		})
	}
}

var cmpEmptyMap = cmp.Transformer("nilmap", func(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
})

func checkCondition(t *testing.T, obj v1.Managed, typ, want string) {
	t.Helper()
	if want == "" {
		return
	}
	c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, typ)
	if c == nil {
		t.Errorf("no %s condition, want %s", typ, want)
		return
	}
	if got := string(c.Status) + "/" + c.Reason; got != want {
		t.Errorf("%s = %s (%s), want %s", typ, got, c.Message, want)
	}
}

// TestManagedChanges: what wakes a managed object. A person's binding does, at once; the
// skeleton's own writes of the same annotations around a create do not, or a refused create
// would be tried again in a loop.
func TestManagedChanges(t *testing.T) {
	cond := func(typ, reason string) func(*v1.WeComDepartment) {
		return func(d *v1.WeComDepartment) {
			meta.SetStatusCondition(&d.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionFalse, Reason: reason})
		}
	}
	incomplete := cond(v1.ConditionSynced, v1.ReasonCreateIncomplete)
	cases := []struct {
		name     string
		old, new *v1.WeComDepartment
		want     bool
	}{
		{"spec changed", department(), department(func(d *v1.WeComDepartment) { d.Generation = 2 }), true},
		{"status only", department(), department(withID(3)), false},
		{"CreateIncomplete, a person sets the external name",
			department(incomplete, withAnnotation(v1.AnnotationCreatePending, testPending)),
			department(incomplete, withAnnotation(v1.AnnotationCreatePending, testPending), withAnnotation(v1.AnnotationExternalName, "9")), true},
		{"CreateIncomplete, a person removes the pending mark",
			department(incomplete, withAnnotation(v1.AnnotationCreatePending, testPending)), department(incomplete), true},
		{"CreateIncomplete, another annotation", department(incomplete), department(incomplete, withAnnotation("note", "x")), false},
		{"NotInWeCom, a person binds it",
			department(cond(v1.ConditionReady, v1.ReasonNotInWeCom)),
			department(cond(v1.ConditionReady, v1.ReasonNotInWeCom), withAnnotation(v1.AnnotationExternalName, "9")), true},
		{"the skeleton marks a create pending", department(), department(withAnnotation(v1.AnnotationCreatePending, testPending)), false},
		{"the skeleton removes the mark of a create WeCom refused",
			department(cond(v1.ConditionReady, v1.ReasonWeComRejected), withAnnotation(v1.AnnotationCreatePending, testPending)),
			department(cond(v1.ConditionReady, v1.ReasonWeComRejected)), false},
		{"the skeleton records the external name of what it made",
			department(withAnnotation(v1.AnnotationCreatePending, testPending)), department(withAnnotation(v1.AnnotationExternalName, "7")), false},
		{"a WeCom callback asks for a refresh", department(), department(withAnnotation(v1.AnnotationRefresh, testPending)), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := managedChanges.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Errorf("passes = %v, want %v", got, tc.want)
			}
		})
	}
}

// status.drift and the Updated event stay bounded whatever WeCom or the spec hold, and cut
// values only at rune boundaries.
func TestDriftIsBounded(t *testing.T) {
	long := strings.Repeat("部门", 200) // 1,200 bytes of 3-byte runes
	var d []v1.DriftedField
	for i := range 25 {
		d = append(d, v1.DriftedField{Field: fmt.Sprintf("f%02d", i), WeCom: long, Spec: "spec"})
	}
	got := boundDrift(d)
	if len(got) != v1.MaxDriftedFields {
		t.Fatalf("boundDrift kept %d fields, want %d", len(got), v1.MaxDriftedFields)
	}
	for _, f := range got {
		if len(f.WeCom) > 256 || !utf8.ValidString(f.WeCom) || !strings.HasSuffix(f.WeCom, "…") {
			t.Fatalf("value cut to %d bytes (valid UTF-8: %v): %q", len(f.WeCom), utf8.ValidString(f.WeCom), f.WeCom)
		}
		if f.Spec != "spec" {
			t.Errorf("a short value changed: %q", f.Spec)
		}
	}
	if boundDrift(nil) != nil {
		t.Error("no drift is not an empty list")
	}

	msg := updatedMessage(d)
	if len(msg) > 1024 {
		t.Errorf("Updated event note is %d bytes, over an Event's 1 KiB", len(msg))
	}
	for _, want := range []string{`f00 (WeCom "部门`, `spec "spec")`, "f04", "and 20 more"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Updated message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "f05") || !utf8.ValidString(msg) {
		t.Errorf("Updated message names more than five fields or is not UTF-8: %q", msg)
	}
	if got := updatedMessage(nil); got != "Updated in WeCom to match the spec" {
		t.Errorf("no drift: %q", got)
	}
}

// everyPolicySet is, for every valid managementPolicies set (Observe with each subset of
// Create, Update, Delete and LateInitialize, and "*"), the four situations an object can be
// in and what the skeleton must do: write to WeCom only what the set allows.
func everyPolicySet() []branchCase {
	optional := []v1.ManagementPolicy{v1.ManagementCreate, v1.ManagementUpdate, v1.ManagementDelete, v1.ManagementLateInitialize}
	var sets [][]v1.ManagementPolicy
	for mask := range 1 << len(optional) {
		set := []v1.ManagementPolicy{v1.ManagementObserve}
		for i, p := range optional {
			if mask&(1<<i) != 0 {
				set = append(set, p)
			}
		}
		sets = append(sets, set)
	}
	sets = append(sets, []v1.ManagementPolicy{v1.ManagementAll})

	ext := map[string]string{v1.AnnotationExternalName: "3"}
	var out []branchCase
	for _, set := range sets {
		allows := func(p v1.ManagementPolicy) bool {
			return slices.Contains(set, v1.ManagementAll) || slices.Contains(set, p)
		}
		name := fmt.Sprint(set)

		c := branchCase{name: name + ", not in WeCom", obj: department(withFinalizer, policies(set...)), ext: fakeExternal{newID: 7},
			want: want{calls: []string{"observe"}, annotations: map[string]string{}, ready: "False/NotInWeCom"}}
		if allows(v1.ManagementCreate) {
			c.want = want{calls: []string{"observe", "create"}, statusID: 7, annotations: map[string]string{v1.AnnotationExternalName: "7"},
				ready: "True/Available", events: []string{"Normal Created"}}
		}
		out = append(out, c)

		c = branchCase{name: name + ", differs", obj: department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3"), policies(set...)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, Drift: []v1.DriftedField{{Field: "name", WeCom: "x", Spec: "Ops"}}}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: ext, ready: "False/Drifted", drift: []string{"name: x → Ops"}}}
		if allows(v1.ManagementUpdate) {
			c.want = want{calls: []string{"observe", "update"}, statusID: 3, annotations: ext, ready: "True/Available", events: []string{"Normal Updated"}}
		}
		out = append(out, c)

		out = append(out, branchCase{name: name + ", matches", obj: department(withFinalizer, withID(3), withAnnotation(v1.AnnotationExternalName, "3"), policies(set...)),
			ext:  fakeExternal{observes: []fakeObservation{{obs: Observation{Exists: true, UpToDate: true}, id: 3}}},
			want: want{calls: []string{"observe"}, statusID: 3, annotations: ext, ready: "True/Available"}})

		c = branchCase{name: name + ", deleted in Kubernetes", obj: department(deleting, withID(3), policies(set...)),
			want: want{gone: true, events: []string{"Normal Orphaned"}}}
		if allows(v1.ManagementDelete) {
			c.want = want{calls: []string{"delete", "observe"}, gone: true, events: []string{"Normal Deleted"}}
		}
		out = append(out, c)
	}
	return out
}
