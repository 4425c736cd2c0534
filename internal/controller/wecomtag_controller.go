package controller

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	indexTagUser       = "spec.users.ref.name"
	indexTagDepartment = "spec.departments.ref.name"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomtags,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomtags/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomtags/finalizers,verbs=update

// tags connects WeComTag objects to WeCom. A drift check is one tag/get; the update that
// follows reuses what it read. The tag's name is its natural key (WeCom refuses a second tag
// of a name, 40071), so a tag is adopted, and a create whose reply was lost is found, by name
// in tag/list.
type tags struct{ kube client.Client }

// tagClient is the WeComTag part of one reconcile; got is what Observe read.
type tagClient struct {
	api  wecom.Tags
	kube client.Client
	conn string
	got  *wecom.Tag
}

func (t tags) Connect(_ context.Context, c *Connection, _ *v1.WeComTag) (ExternalClient[*v1.WeComTag], error) {
	return &tagClient{api: c.Client, kube: t.kube, conn: c.Name}, nil
}

// tagMembers is a tag's membership: userids (compared without case) and department ids.
type tagMembers struct {
	users   []string
	parties []int
}

// desired resolves the spec's members, waiting for refs that have no WeCom id yet.
func (t *tagClient) desired(ctx context.Context, obj *v1.WeComTag) (tagMembers, error) {
	var m tagMembers
	for _, u := range obj.Spec.Users {
		id := u.UserID
		if u.Ref != nil {
			var err error
			if id, err = memberUserID(ctx, t.kube, obj.Namespace, u.Ref.Name); err != nil {
				return m, err
			}
		}
		if !containsFold(m.users, id) {
			m.users = append(m.users, id)
		}
	}
	for _, d := range obj.Spec.Departments {
		var id int
		if d.ID != nil {
			id = int(*d.ID)
		} else {
			var err error
			if id, err = departmentID(ctx, t.kube, obj.Namespace, d.Ref.Name); err != nil {
				return m, err
			}
		}
		if !slices.Contains(m.parties, id) {
			m.parties = append(m.parties, id)
		}
	}
	return m, nil
}

// memberUserID returns the WeCom userid of the WeComUser name, or a dependency error.
func memberUserID(ctx context.Context, kube client.Client, namespace, name string) (string, error) {
	u := &v1.WeComUser{}
	if err := kube.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, u); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return "", waitFor(v1.ReasonDependencyNotReady, "waiting for WeComUser %q (not found in namespace %q)", name, namespace)
		}
		return "", err
	}
	if u.Status.UserID == "" {
		return "", waitFor(v1.ReasonDependencyNotReady, "waiting for WeComUser %q to exist in WeCom", name)
	}
	return u.Status.UserID, nil
}

// Observe reads the tag by the id in the status or spec.id, else by name in tag/list: to
// adopt a tag WeCom already has, or to find what a create whose reply was lost made.
func (t *tagClient) Observe(ctx context.Context, obj *v1.WeComTag) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	pending := !createPending(obj).IsZero()
	var (
		want tagMembers
		err  error
	)
	if !deleting {
		// A tag waiting for its members' ids costs no WeCom call.
		if want, err = t.desired(ctx, obj); err != nil {
			return Observation{}, err
		}
	}
	id := int(obj.Status.TagID)
	if id == 0 && obj.Spec.ID != nil && (!deleting || pending) {
		id = int(*obj.Spec.ID)
	}
	if id == 0 && (!deleting || pending) {
		list, err := t.api.ListTags(ctx)
		if err != nil {
			return Observation{}, err
		}
		for _, s := range list {
			if s.Name == obj.Spec.Name {
				id = s.ID
				break
			}
		}
	}
	if id == 0 {
		return Observation{}, nil
	}
	got, err := t.api.GetTag(ctx, id)
	if wecom.IsNotFound(err) {
		// Gone (deleted by hand, or never made): made again, with spec.id if it has one.
		obj.Status.TagID, obj.Status.MemberCount = 0, 0
		return Observation{}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	obj.Status.TagID = int64(id)
	if deleting {
		return Observation{Exists: true}, nil
	}
	t.got = got
	obj.Status.MemberCount = int32(len(got.UserList) + len(got.PartyList))
	d := tagDrift(got, obj.Spec.Name, want)
	if len(d) == 0 {
		obj.Status.InvalidUsers, obj.Status.InvalidDepartments = nil, nil
	}
	return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
}

// tagDrift lists how the tag WeCom holds differs from the spec: its name, and its members
// as sets (userids without case). tag/get lists only the members in the app's visible range.
func tagDrift(got *wecom.Tag, name string, want tagMembers) drift {
	var d drift
	have := tagUserIDs(got)
	d.check("name", got.Name == name, got.Name, name)
	d.check("users", sameSet(lower(have), lower(want.users)), have, want.users)
	d.check("departments", sameSet(got.PartyList, want.parties), got.PartyList, want.parties)
	return d
}

func tagUserIDs(t *wecom.Tag) []string {
	out := make([]string, 0, len(t.UserList))
	for _, u := range t.UserList {
		out = append(out, u.UserID)
	}
	return out
}

func (t *tagClient) Create(ctx context.Context, obj *v1.WeComTag) error {
	want, err := t.desired(ctx, obj)
	if err != nil {
		return err
	}
	var fixed int
	if obj.Spec.ID != nil {
		fixed = int(*obj.Spec.ID)
	}
	id, err := t.api.CreateTag(ctx, obj.Spec.Name, fixed)
	if err != nil {
		return err
	}
	obj.Status.TagID = int64(id)
	obj.Status.MemberCount, obj.Status.InvalidUsers, obj.Status.InvalidDepartments = 0, nil, nil
	return t.applyMembers(ctx, obj, tagMembers{}, want)
}

// Update renames the tag if its name differs and applies the difference of its members with
// deltagusers and addtagusers.
func (t *tagClient) Update(ctx context.Context, obj *v1.WeComTag) error {
	want, err := t.desired(ctx, obj)
	if err != nil {
		return err
	}
	id := int(obj.Status.TagID)
	got := t.got
	if got == nil {
		if got, err = t.api.GetTag(ctx, id); err != nil {
			return err
		}
	}
	if got.Name != obj.Spec.Name {
		if err := t.api.UpdateTag(ctx, id, obj.Spec.Name); err != nil {
			return err
		}
	}
	return t.applyMembers(ctx, obj, tagMembers{users: tagUserIDs(got), parties: got.PartyList}, want)
}

// applyMembers turns the tag's members from have into want: removals first, so that the
// adds never take the tag past WeCom's 30,000 members, each in calls of WeCom's per-call
// limits. What WeCom leaves out goes to the status and fails the reconcile (tagPartialError),
// after every call was made.
func (t *tagClient) applyMembers(ctx context.Context, obj *v1.WeComTag, have, want tagMembers) error {
	id := int(obj.Status.TagID)
	addUsers, delUsers := missingFold(want.users, have.users), missingFold(have.users, want.users)
	addParties, delParties := missing(want.parties, have.parties), missing(have.parties, want.parties)
	var bad tagPartialError
	users, parties := len(have.users), len(have.parties)
	for _, op := range []struct {
		users   []string
		parties []int
		call    func(context.Context, int, []string, []int) (*wecom.TagMembersResult, error)
		// allInvalid is the errcode of a call in which no member is valid.
		allInvalid int
		sign       int
	}{
		{delUsers, delParties, t.api.DeleteTagUsers, wecom.ErrCodeInvalidUserIDList, -1},
		{addUsers, addParties, t.api.AddTagUsers, wecom.ErrCodeTagAllInvalid, +1},
	} {
		for u, p := range tagChunks(op.users, op.parties) {
			res, err := op.call(ctx, id, u, p)
			switch {
			case wecom.Code(err) == op.allInvalid:
				res = &wecom.TagMembersResult{InvalidUsers: u, InvalidParties: p}
			case err != nil:
				return err
			}
			bad.users = append(bad.users, res.InvalidUsers...)
			bad.parties = append(bad.parties, res.InvalidParties...)
			users += op.sign * (len(u) - len(res.InvalidUsers))
			parties += op.sign * (len(p) - len(res.InvalidParties))
		}
	}
	obj.Status.MemberCount = int32(users + parties)
	obj.Status.InvalidUsers, obj.Status.InvalidDepartments = nil, nil
	if len(bad.users)+len(bad.parties) == 0 {
		return nil
	}
	obj.Status.InvalidUsers = clipList(bad.users, v1.MaxTagUsers)
	if len(bad.parties) > 0 {
		obj.Status.InvalidDepartments = clipList(toInt64s(bad.parties), v1.MaxTagDepartments)
	}
	bad.id, bad.conn = id, t.conn
	return &bad
}

// tagPartialError says which members WeCom left out of (or could not remove from) a tag whose
// other changes it applied. It is terminal: the same call would leave them out again, so the
// object waits for its spec to change (or for the drift interval).
type tagPartialError struct {
	id      int
	conn    string
	users   []string
	parties []int
}

func (e *tagPartialError) Error() string {
	var parts []string
	if len(e.users) > 0 {
		parts = append(parts, "users "+strings.Join(clipList(e.users, 20), ", ")+more(len(e.users), 20))
	}
	if len(e.parties) > 0 {
		ids := make([]string, 0, len(e.parties))
		for _, p := range clipList(e.parties, 20) {
			ids = append(ids, strconv.Itoa(p))
		}
		parts = append(parts, "departments "+strings.Join(ids, ", ")+more(len(e.parties), 20))
	}
	return fmt.Sprintf("WeCom applied the other changes to tag %d but refused %s (status.invalidUsers, status.invalidDepartments): no such member or department, or not in the visible range of the app of WeComConnection %q. Fix or remove them in spec.users and spec.departments, or widen the app's visible range",
		e.id, strings.Join(parts, " and "), e.conn)
}

func more(n, shown int) string {
	if n <= shown {
		return ""
	}
	return fmt.Sprintf(" and %d more", n-shown)
}

func clipList[T any](s []T, n int) []T {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// tagChunks yields the users and departments in calls of at most WeCom's per-call limits.
func tagChunks(users []string, parties []int) func(func([]string, []int) bool) {
	return func(yield func([]string, []int) bool) {
		for len(users) > 0 || len(parties) > 0 {
			u, p := clipList(users, wecom.MaxTagUsersPerCall), clipList(parties, wecom.MaxTagPartiesPerCall)
			if !yield(u, p) {
				return
			}
			users, parties = users[len(u):], parties[len(p):]
		}
	}
}

// missing returns the elements of a that b lacks.
func missing[T comparable](a, b []T) []T {
	var out []T
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// missingFold returns the userids of a that b lacks, compared without case.
func missingFold(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !containsFold(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func containsFold(s []string, v string) bool {
	return slices.ContainsFunc(s, func(x string) bool { return strings.EqualFold(x, v) })
}

// Delete deletes the tag. A tag of another app cannot be deleted with this connection: the
// delete is blocked (and retried) until the object is released with deletionPolicy Orphan.
func (t *tagClient) Delete(ctx context.Context, obj *v1.WeComTag) error {
	id := int(obj.Status.TagID)
	if id == 0 {
		return nil // never created or adopted
	}
	err := t.api.DeleteTag(ctx, id)
	switch {
	case err == nil || wecom.IsNotFound(err):
		return nil
	case wecom.IsTagNotOwned(err):
		return &deleteBlockedError{err: fmt.Errorf("%w; set deletionPolicy: Orphan to leave the tag in WeCom", err)}
	}
	return err
}

// userIDChanged passes WeComUser updates whose WeCom userid changed: what tags and contact
// ways wait for.
var userIDChanged = predicate.Funcs{
	CreateFunc: func(event.CreateEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1.WeComUser)
		n, ok2 := e.ObjectNew.(*v1.WeComUser)
		return ok1 && ok2 && o.Status.UserID != n.Status.UserID
	},
}

func setupTags(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, _ *snapshots) error {
	idx := mgr.GetFieldIndexer()
	for name, refs := range map[string]func(*v1.WeComTag) []string{
		indexConnection: func(t *v1.WeComTag) []string { return []string{t.GetConnectionName()} },
		indexTagUser: func(t *v1.WeComTag) []string {
			var out []string
			for _, u := range t.Spec.Users {
				if u.Ref != nil && !slices.Contains(out, u.Ref.Name) {
					out = append(out, u.Ref.Name)
				}
			}
			return out
		},
		indexTagDepartment: func(t *v1.WeComTag) []string {
			var out []string
			for _, d := range t.Spec.Departments {
				if d.Ref != nil && !slices.Contains(out, d.Ref.Name) {
					out = append(out, d.Ref.Name)
				}
			}
			return out
		},
	} {
		if err := idx.IndexField(context.Background(), &v1.WeComTag{}, name, func(obj client.Object) []string {
			return refs(obj.(*v1.WeComTag))
		}); err != nil {
			return err
		}
	}
	kube := mgr.GetClient()
	// WeCom's update_tag callback names the tag (internal/receiver), so with callbacks in use
	// the tag's drift checks follow the callback interval like the org chart's.
	r := &ManagedReconciler[*v1.WeComTag]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval, CallbackDriftInterval: o.CallbackDriftInterval,
		NewObject: func() *v1.WeComTag { return &v1.WeComTag{} },
		External:  tags{kube: kube},
	}
	referrers := func(index string) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return dependants(ctx, kube, &v1.WeComTagList{}, obj.GetNamespace(), index, obj.GetName())
		})
	}
	return managedController(mgr, o, "wecomtag", &v1.WeComTag{}, func() client.ObjectList { return &v1.WeComTagList{} }).
		Watches(&v1.WeComUser{}, referrers(indexTagUser), builder.WithPredicates(userIDChanged)).
		Watches(&v1.WeComDepartment{}, referrers(indexTagDepartment), builder.WithPredicates(idChanged)).
		Complete(errorWins(r))
}

// resolveTagRefs returns to with its tagRefs turned into WeCom tag ids (added to tags), as
// message/send takes them. A WeComTag that is missing or has no id yet is waited for.
func resolveTagRefs(ctx context.Context, kube client.Client, namespace string, to *v1.Recipients) (*v1.Recipients, error) {
	if len(to.TagRefs) == 0 || to.All {
		return to, nil
	}
	out := to.DeepCopy()
	out.TagRefs = nil
	for _, ref := range to.TagRefs {
		tag := &v1.WeComTag{}
		if err := kube.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, tag); err != nil {
			if client.IgnoreNotFound(err) == nil {
				return nil, waitFor(v1.ReasonDependencyNotReady, "waiting for WeComTag %q (not found in namespace %q)", ref.Name, namespace)
			}
			return nil, err
		}
		if tag.Status.TagID == 0 {
			return nil, waitFor(v1.ReasonDependencyNotReady, "waiting for WeComTag %q to get a WeCom tag id", ref.Name)
		}
		if !slices.Contains(out.Tags, tag.Status.TagID) {
			out.Tags = append(out.Tags, tag.Status.TagID)
		}
	}
	return out, nil
}
