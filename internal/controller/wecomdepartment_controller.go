package controller

import (
	"context"
	"slices"
	"strings"
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

const (
	indexParent = "spec.parentRef.name"
	// indexDeleting holds "true" for departments with a deletionTimestamp.
	indexDeleting = "metadata.deleting"
)

// WeCom's root department.
const rootDepartmentID = 1

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomdepartments,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomdepartments/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomdepartments/finalizers,verbs=update

// departments connects WeComDepartment objects to WeCom. Drift checks read one
// department/list per connection per interval, shared by every department object.
type departments struct {
	kube      client.Client
	snapshots *snapshots
	// maxAge is how old a list may be before a drift check lists again.
	maxAge time.Duration
}

// departmentClient is the WeComDepartment part of one reconcile.
type departmentClient struct {
	api wecom.Departments
	*departments
	c *Connection
	// seen is the department Observe found, for LateInitialize.
	seen *wecom.Department
}

func (d *departments) Connect(_ context.Context, c *Connection, _ *v1.WeComDepartment) (ExternalClient[*v1.WeComDepartment], error) {
	return &departmentClient{departments: d, c: c, api: c.Client}, nil
}

type deptIndex = index[int, wecom.Department]

func (d *departmentClient) key() string { return d.c.Scope + "|departments" }

// index returns the connection's department list, listing again when the cached one is
// older than maxAge or was fetched before notBefore.
func (d *departmentClient) index(ctx context.Context, notBefore time.Time) (*deptIndex, error) {
	v, err := d.snapshots.getSince(ctx, d.key(), d.maxAge, notBefore, func(ctx context.Context) (any, error) {
		list, err := d.api.ListDepartments(ctx, 0)
		if err != nil {
			return nil, err
		}
		idx := newIndex[int, wecom.Department]()
		for _, dep := range list {
			idx.m[dep.ID] = dep
		}
		return idx, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*deptIndex), nil
}

// parentID resolves the spec's parent to a WeCom id, waiting for a parentRef to get one.
func (d *departments) parentID(ctx context.Context, obj *v1.WeComDepartment) (int, error) {
	switch {
	case obj.Spec.ParentRef != nil:
		return departmentID(ctx, d.kube, obj.Namespace, obj.Spec.ParentRef.Name)
	case obj.Spec.ParentID != nil:
		return int(*obj.Spec.ParentID), nil
	default:
		return rootDepartmentID, nil
	}
}

// departmentID returns the WeCom id of the WeComDepartment name, or a dependency error.
func departmentID(ctx context.Context, kube client.Client, namespace, name string) (int, error) {
	p := &v1.WeComDepartment{}
	if err := kube.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, p); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return 0, waitFor(v1.ReasonDependencyNotReady, "waiting for WeComDepartment %q (not found in namespace %q)", name, namespace)
		}
		return 0, err
	}
	if p.Status.ID == 0 {
		return 0, waitFor(v1.ReasonDependencyNotReady, "waiting for WeComDepartment %q to get a WeCom id", name)
	}
	return int(p.Status.ID), nil
}

// Observe finds the department by its id, or else by name under its parent. Adoption and
// the search for a lost create need a list that started after the object was made (the
// second after its creationTimestamp) or after the create started: a
// department made by hand before then, maybe spelt in another case (which WeCom would not
// refuse as a duplicate), is adopted, not doubled. One list serves every object made before
// it started, so a batch applied at once costs a few lists, not one each.
func (d *departmentClient) Observe(ctx context.Context, obj *v1.WeComDepartment) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	var (
		parent int
		err    error
	)
	if !deleting {
		// A department waiting for its parent's id costs no WeCom call.
		if parent, err = d.parentID(ctx, obj); err != nil {
			return Observation{}, err
		}
	}
	if !deleting && obj.Status.ID != 0 && refreshRequested(obj) {
		// A WeCom callback said this department changed: read it alone, not the corp's list.
		got, err := d.api.GetDepartment(ctx, int(obj.Status.ID))
		if wecom.IsNotFound(err) {
			if obj.Spec.ID == nil {
				obj.Status.ID = 0 // deleted by hand: create again, with a new id
			}
			return Observation{}, nil
		}
		if err != nil {
			return Observation{}, err
		}
		obj.Status.ParentID = int64(got.ParentID)
		d.seen = got
		diff := departmentDrift(*got, obj.Spec, parent)
		return Observation{Exists: true, UpToDate: len(diff) == 0, Drift: diff}, nil
	}
	var notBefore time.Time
	if obj.Status.ID == 0 && obj.Spec.ID == nil {
		// creationTimestamp is rounded down to the second: only a list that started after
		// that second is sure to be younger than the object. An object made within the
		// last second waits for it, so that one list serves every object made in it.
		notBefore = obj.CreationTimestamp.Add(time.Second)
		if wait := time.Until(notBefore); wait > 0 && !deleting {
			return Observation{}, &requeueError{after: wait}
		}
		if !createPending(obj).IsZero() {
			// Looking for what a create whose reply was lost made: only a list that starts
			// now, after that create ended, is sure to show it.
			notBefore = time.Now()
		}
	}
	idx, err := d.index(ctx, notBefore)
	if err != nil {
		return Observation{}, err
	}

	id := int(obj.Status.ID)
	if id == 0 && obj.Spec.ID != nil {
		id = int(*obj.Spec.ID)
	}
	var found wecom.Department
	var ok bool
	switch {
	case id != 0:
		found, ok = idx.get(id)
		if !ok && !deleting {
			// Not in the last list: created since, or deleted by hand. One get decides.
			got, err := d.api.GetDepartment(ctx, id)
			if err != nil && !wecom.IsNotFound(err) {
				return Observation{}, err
			}
			if err == nil {
				found, ok = *got, true
				idx.set(found.ID, found)
			}
		}
		if !ok && obj.Spec.ID == nil {
			obj.Status.ID = 0 // deleted by hand: create again, with a new id
		}
	case !deleting || !createPending(obj).IsZero():
		if deleting {
			// Deleting before a lost create was found: the parent may be gone from the
			// cluster, so look under the parent the create was for, if it is known.
			if parent, err = d.parentID(ctx, obj); err != nil {
				return Observation{}, nil
			}
		}
		// Adoption: a department with the same name under the same parent, compared without
		// case (an exact match first: WeCom itself tells siblings apart by case).
		found, ok = idx.find(func(dep wecom.Department) bool {
			return dep.ParentID == parent && dep.Name == obj.Spec.Name
		})
		if !ok {
			found, ok = idx.find(func(dep wecom.Department) bool {
				return dep.ParentID == parent && strings.EqualFold(dep.Name, obj.Spec.Name)
			})
		}
	}
	if !ok {
		return Observation{}, nil
	}
	obj.Status.ID = int64(found.ID)
	if deleting {
		return Observation{Exists: true}, nil
	}
	obj.Status.ParentID = int64(found.ParentID)
	d.seen = &found
	diff := departmentDrift(found, obj.Spec, parent)
	return Observation{Exists: true, UpToDate: len(diff) == 0, Drift: diff}, nil
}

// LateInitialize fills an empty nameEn and an unset order from WeCom (docs/orgchart.md):
// neither is compared while empty, so a manifest may leave them to WeCom.
func (d *departmentClient) LateInitialize(obj *v1.WeComDepartment) []string {
	if d.seen == nil {
		return nil
	}
	var filled []string
	if obj.Spec.NameEn == "" && d.seen.NameEn != "" {
		obj.Spec.NameEn = d.seen.NameEn
		filled = append(filled, "nameEn")
	}
	if obj.Spec.Order == nil {
		order := int64(d.seen.Order)
		obj.Spec.Order = &order
		filled = append(filled, "order")
	}
	return filled
}

// departmentMatches says whether WeCom's department matches the spec under parent. An empty
// nameEn and an unset order are not managed.
func departmentMatches(got wecom.Department, spec v1.WeComDepartmentSpec, parent int) bool {
	return len(departmentDrift(got, spec, parent)) == 0
}

// departmentDrift lists the fields of departmentMatches that differ.
func departmentDrift(got wecom.Department, spec v1.WeComDepartmentSpec, parent int) drift {
	var d drift
	d.check("name", got.Name == spec.Name, got.Name, spec.Name)
	d.check("parent", got.ParentID == parent, got.ParentID, parent)
	d.check("nameEn", spec.NameEn == "" || got.NameEn == spec.NameEn, got.NameEn, spec.NameEn)
	if spec.Order != nil {
		d.check("order", int64(got.Order) == *spec.Order, got.Order, *spec.Order)
	}
	return d
}

func (d *departmentClient) Create(ctx context.Context, obj *v1.WeComDepartment) error {
	parent, err := d.parentID(ctx, obj)
	if err != nil {
		return err
	}
	req := wecom.CreateDepartmentRequest{Name: obj.Spec.Name, NameEn: obj.Spec.NameEn, ParentID: parent, Order: order(obj.Spec.Order)}
	if obj.Spec.ID != nil {
		req.ID = int(*obj.Spec.ID)
	}
	id, err := d.api.CreateDepartment(ctx, req)
	if err != nil {
		if wecom.IsAmbiguous(err) || wecom.IsAlreadyExists(err) {
			// What the next Observe looks for is not in the cached list.
			d.snapshots.invalidate(d.key())
		}
		return err
	}
	obj.Status.ID, obj.Status.ParentID = int64(id), int64(parent)
	if idx, err := d.index(ctx, time.Time{}); err == nil {
		idx.set(id, wecom.Department{ID: id, Name: req.Name, NameEn: req.NameEn, ParentID: parent, Order: derefOrder(req.Order)})
	}
	return nil
}

func (d *departmentClient) Update(ctx context.Context, obj *v1.WeComDepartment) error {
	parent, err := d.parentID(ctx, obj)
	if err != nil {
		return err
	}
	id := int(obj.Status.ID)
	req := wecom.UpdateDepartmentRequest{ID: id, Name: &obj.Spec.Name, ParentID: &parent, Order: order(obj.Spec.Order)}
	if obj.Spec.NameEn != "" {
		req.NameEn = &obj.Spec.NameEn
	}
	if err := d.api.UpdateDepartment(ctx, req); err != nil {
		return err
	}
	obj.Status.ParentID = int64(parent)
	if idx, err := d.index(ctx, time.Time{}); err == nil {
		dep, _ := idx.get(id)
		dep.ID, dep.Name, dep.ParentID = id, obj.Spec.Name, parent
		if req.NameEn != nil {
			dep.NameEn = *req.NameEn
		}
		if req.Order != nil {
			dep.Order = *req.Order
		}
		idx.set(id, dep)
	}
	return nil
}

func (d *departmentClient) Delete(ctx context.Context, obj *v1.WeComDepartment) error {
	id := int(obj.Status.ID)
	if id == 0 {
		return nil // never created
	}
	err := d.api.DeleteDepartment(ctx, id)
	switch {
	case err == nil || wecom.IsNotFound(err):
	case wecom.IsDepartmentNotEmpty(err):
		return &deleteBlockedError{err: err}
	default:
		return err
	}
	if idx, err := d.index(ctx, time.Time{}); err == nil {
		idx.remove(id)
	}
	return nil
}

func order(o *int64) *uint32 {
	if o == nil {
		return nil
	}
	v := uint32(*o)
	return &v
}

func derefOrder(o *uint32) uint32 {
	if o == nil {
		return 0
	}
	return *o
}

// idChanged passes department updates whose WeCom id changed: what children wait for.
var idChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*v1.WeComDepartment), e.ObjectNew.(*v1.WeComDepartment)
		return o.Status.ID != n.Status.ID
	},
	CreateFunc: func(event.CreateEvent) bool { return false },
}

// leftDepartment passes what can unblock a department's delete: a member or a department
// that is gone, or whose WeCom departments or parent changed.
var leftDepartment = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		switch o := e.ObjectOld.(type) {
		case *v1.WeComUser:
			n, ok := e.ObjectNew.(*v1.WeComUser)
			return ok && !slices.Equal(o.Status.DepartmentIDs, n.Status.DepartmentIDs)
		case *v1.WeComDepartment:
			n, ok := e.ObjectNew.(*v1.WeComDepartment)
			return ok && o.Status.ParentID != n.Status.ParentID
		}
		return false
	},
}

// heldDepartments lists the departments of obj's namespace that are waiting to be deleted
// and that obj, a member or a department, was in: the ones it may have been blocking.
func heldDepartments(ctx context.Context, kube client.Client, obj client.Object) []reconcile.Request {
	var ids []int64
	var names []string
	switch o := obj.(type) {
	case *v1.WeComUser:
		ids = o.Status.DepartmentIDs
		for _, d := range o.Spec.Departments {
			if d.Ref != nil {
				names = append(names, d.Ref.Name)
			}
		}
	case *v1.WeComDepartment:
		ids = []int64{o.Status.ParentID}
		if o.Spec.ParentRef != nil {
			names = append(names, o.Spec.ParentRef.Name)
		}
	}
	list := &v1.WeComDepartmentList{}
	if err := kube.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{indexDeleting: "true"}); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, d := range list.Items {
		if !slices.Contains(names, d.Name) && (d.Status.ID == 0 || !slices.Contains(ids, d.Status.ID)) {
			continue
		}
		// While other members or sub-departments managed here still name it, WeCom would
		// refuse again: the last of them to go wakes it.
		if stillHeld(ctx, kube, d.Namespace, d.Name, obj) {
			continue
		}
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: d.Namespace, Name: d.Name}})
	}
	return out
}

// stillHeld says whether a WeComUser or WeComDepartment other than except still names the
// department name (by ref) in namespace.
func stillHeld(ctx context.Context, kube client.Client, namespace, name string, except client.Object) bool {
	for _, l := range []struct {
		list  client.ObjectList
		index string
	}{{&v1.WeComUserList{}, indexUserDepartment}, {&v1.WeComDepartmentList{}, indexParent}} {
		for _, r := range dependants(ctx, kube, l.list, namespace, l.index, name) {
			if r.Name != except.GetName() || orgKind(except) != orgKind(l.list) {
				return true
			}
		}
	}
	return false
}

// orgKind tells WeComUser from WeComDepartment objects and lists apart.
func orgKind(obj any) string {
	switch obj.(type) {
	case *v1.WeComUser, *v1.WeComUserList:
		return "user"
	case *v1.WeComDepartment, *v1.WeComDepartmentList:
		return "department"
	}
	return ""
}

func setupDepartments(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, snaps *snapshots) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.WeComDepartment{}, indexParent, func(obj client.Object) []string {
		if ref := obj.(*v1.WeComDepartment).Spec.ParentRef; ref != nil {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.WeComDepartment{}, indexDeleting, func(obj client.Object) []string {
		if obj.GetDeletionTimestamp().IsZero() {
			return nil
		}
		return []string{"true"}
	}); err != nil {
		return err
	}
	kube := mgr.GetClient()
	depts := &departments{kube: kube, snapshots: snaps, maxAge: snapshotMaxAge(o.DriftInterval)}
	r := &ManagedReconciler[*v1.WeComDepartment]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval, CallbackDriftInterval: o.CallbackDriftInterval,
		NewObject: func() *v1.WeComDepartment { return &v1.WeComDepartment{} },
		External:  depts,
	}
	children := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return dependants(ctx, kube, &v1.WeComDepartmentList{}, obj.GetNamespace(), indexParent, obj.GetName())
	})
	// A delete that WeCom refused because of members or sub-departments is tried again as
	// soon as a member or a child lets go of a department, not only at the next retry.
	unblock := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return heldDepartments(ctx, kube, obj)
	})
	return managedController(mgr, o, "wecomdepartment", &v1.WeComDepartment{}, func() client.ObjectList { return &v1.WeComDepartmentList{} }).
		Watches(&v1.WeComDepartment{}, children, builder.WithPredicates(idChanged)).
		Watches(&v1.WeComDepartment{}, unblock, builder.WithPredicates(leftDepartment)).
		Watches(&v1.WeComUser{}, unblock, builder.WithPredicates(leftDepartment)).
		Complete(errorWins(r))
}
