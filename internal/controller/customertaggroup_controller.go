package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=customertaggroups,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=customertaggroups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=customertaggroups/finalizers,verbs=update

// customerTagGroups connects CustomerTagGroup objects to WeCom's customer corp tags (§11). A
// drift check is one get_corp_tag_list by group_id. The group's name is its natural key
// (add_corp_tag with a taken group_name adds to that group rather than make a second), so a
// group is adopted, and a create whose reply was lost is found, by name in the full list.
type customerTagGroups struct{}

// customerTagGroupClient is the CustomerTagGroup part of one reconcile; got is what Observe
// read.
type customerTagGroupClient struct {
	api wecom.CorpTags
	got *wecom.CorpTagGroup
}

func (customerTagGroups) Connect(_ context.Context, c *Connection, _ *v1.CustomerTagGroup) (ExternalClient[*v1.CustomerTagGroup], error) {
	return &customerTagGroupClient{api: c.Client}, nil
}

// Observe reads the group by the id in the status, else by name (to adopt it, or to find
// what a create whose reply was lost made). A group deleted in WeCom is made again.
func (g *customerTagGroupClient) Observe(ctx context.Context, obj *v1.CustomerTagGroup) (Observation, error) {
	deleting := !obj.DeletionTimestamp.IsZero()
	var got *wecom.CorpTagGroup
	switch {
	case obj.Status.GroupID != "":
		list, err := g.api.ListCorpTags(ctx, nil, []string{obj.Status.GroupID})
		if err != nil {
			return Observation{}, err
		}
		if len(list) == 0 {
			obj.Status.GroupID, obj.Status.Tags = "", nil
			return Observation{}, nil
		}
		got = &list[0]
	case !deleting || !createPending(obj).IsZero():
		list, err := g.api.ListCorpTags(ctx, nil, nil)
		if err != nil {
			return Observation{}, err
		}
		i := slices.IndexFunc(list, func(x wecom.CorpTagGroup) bool { return x.GroupName == obj.Spec.Name })
		if i < 0 {
			return Observation{}, nil
		}
		got = &list[i]
		obj.Status.GroupID = got.GroupID
	default:
		return Observation{}, nil
	}
	if deleting {
		return Observation{Exists: true}, nil
	}
	g.got = got
	obj.Status.Tags = customerTagIDs(obj, got.Tags)
	d := corpTagDrift(got, obj)
	return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
}

// corpTagDrift lists how the group WeCom holds differs from the spec: its name and order,
// the set of tag names, and each tag's order.
func corpTagDrift(got *wecom.CorpTagGroup, obj *v1.CustomerTagGroup) drift {
	var d drift
	d.check("name", got.GroupName == obj.Spec.Name, got.GroupName, obj.Spec.Name)
	d.check("order", int64(got.Order) == obj.Spec.Order, got.Order, obj.Spec.Order)
	have := make([]string, 0, len(got.Tags))
	for _, t := range got.Tags {
		have = append(have, t.Name)
	}
	want := make([]string, 0, len(obj.Spec.Tags))
	for _, t := range obj.Spec.Tags {
		want = append(want, t.Name)
	}
	d.check("tags", sameSet(have, want), have, want)
	for _, t := range obj.Spec.Tags {
		if i := slices.IndexFunc(got.Tags, func(x wecom.CorpTag) bool { return x.Name == t.Name }); i >= 0 {
			d.check("tags["+t.Name+"].order", int64(got.Tags[i].Order) == t.Order, got.Tags[i].Order, t.Order)
		}
	}
	return d
}

// customerTagIDs returns the ids of the spec's tags among have, in the spec's order.
func customerTagIDs(obj *v1.CustomerTagGroup, have []wecom.CorpTag) []v1.CustomerTagStatus {
	var out []v1.CustomerTagStatus
	for _, t := range obj.Spec.Tags {
		if i := slices.IndexFunc(have, func(x wecom.CorpTag) bool { return x.Name == t.Name }); i >= 0 {
			out = append(out, v1.CustomerTagStatus{Name: t.Name, ID: have[i].ID})
		}
	}
	return out
}

func newCorpTags(tags []v1.CustomerTag) []wecom.NewCorpTag {
	out := make([]wecom.NewCorpTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, wecom.NewCorpTag{Name: t.Name, Order: uint32(t.Order)})
	}
	return out
}

// Create makes the group with every tag in one add_corp_tag call.
func (g *customerTagGroupClient) Create(ctx context.Context, obj *v1.CustomerTagGroup) error {
	made, err := g.api.AddCorpTags(ctx, wecom.AddCorpTagRequest{
		GroupName: obj.Spec.Name, Order: uint32(obj.Spec.Order), Tags: newCorpTags(obj.Spec.Tags),
	})
	if err != nil {
		return err
	}
	obj.Status.GroupID = made.GroupID
	obj.Status.Tags = customerTagIDs(obj, made.Tags)
	return nil
}

// Update renames and reorders the group, adds the tags it lacks (one add_corp_tag into the
// group), reorders the tags that differ, and deletes the tags the spec no longer has (one
// del_corp_tag, after the adds: WeCom deletes a group whose last tag goes).
func (g *customerTagGroupClient) Update(ctx context.Context, obj *v1.CustomerTagGroup) error {
	got := g.got
	if got == nil {
		return fmt.Errorf("customer tag group %s was not read before the update", obj.Status.GroupID)
	}
	id := obj.Status.GroupID
	if edit := (wecom.EditCorpTagRequest{ID: id}); got.GroupName != obj.Spec.Name || int64(got.Order) != obj.Spec.Order {
		if got.GroupName != obj.Spec.Name {
			edit.Name = &obj.Spec.Name
		}
		if int64(got.Order) != obj.Spec.Order {
			edit.Order = ptr(uint32(obj.Spec.Order))
		}
		if err := g.api.EditCorpTag(ctx, edit); err != nil {
			return notFoundAgain(err)
		}
	}
	have := slices.Clone(got.Tags)
	var add []v1.CustomerTag
	for _, t := range obj.Spec.Tags {
		i := slices.IndexFunc(have, func(x wecom.CorpTag) bool { return x.Name == t.Name })
		switch {
		case i < 0:
			add = append(add, t)
		case int64(have[i].Order) != t.Order:
			if err := g.api.EditCorpTag(ctx, wecom.EditCorpTagRequest{ID: have[i].ID, Order: ptr(uint32(t.Order))}); err != nil {
				return notFoundAgain(err)
			}
		}
	}
	if len(add) > 0 {
		made, err := g.api.AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupID: id, Tags: newCorpTags(add)})
		if err != nil {
			return err
		}
		have = append(have, made.Tags...)
	}
	var drop []string
	for _, t := range have {
		if !slices.ContainsFunc(obj.Spec.Tags, func(x v1.CustomerTag) bool { return x.Name == t.Name }) {
			drop = append(drop, t.ID)
		}
	}
	if len(drop) > 0 {
		if err := g.api.DeleteCorpTags(ctx, drop, nil); err != nil && !wecom.IsNotFound(err) {
			return err
		}
		have = slices.DeleteFunc(have, func(t wecom.CorpTag) bool { return slices.Contains(drop, t.ID) })
	}
	obj.Status.Tags = customerTagIDs(obj, have)
	return nil
}

// errGroupGone: the group or a tag of it was deleted in WeCom between the read and the write.
var errGroupGone = errors.New("the customer tag group or one of its tags was deleted in WeCom since it was read; it is read again")

// notFoundAgain turns an edit of something deleted meanwhile into a retry.
func notFoundAgain(err error) error {
	if wecom.IsNotFound(err) {
		return errGroupGone
	}
	return err
}

// Delete deletes the group and its tags. A group of another app cannot be deleted with this
// connection: the delete is blocked until the object is released with deletionPolicy Orphan.
func (g *customerTagGroupClient) Delete(ctx context.Context, obj *v1.CustomerTagGroup) error {
	id := obj.Status.GroupID
	if id == "" {
		return nil
	}
	err := g.api.DeleteCorpTags(ctx, nil, []string{id})
	switch {
	case err == nil || wecom.IsNotFound(err):
		return nil
	case wecom.Code(err) == wecom.ErrCodeAgentNotOwned:
		return &deleteBlockedError{err: fmt.Errorf("%w; set deletionPolicy: Orphan to leave the group in WeCom", err)}
	}
	return err
}

func setupCustomerTagGroups(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, _ *snapshots) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.CustomerTagGroup{}, indexConnection, func(obj client.Object) []string {
		return []string{obj.(v1.Managed).GetConnectionName()}
	}); err != nil {
		return err
	}
	kube := mgr.GetClient()
	r := &ManagedReconciler[*v1.CustomerTagGroup]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval,
		NewObject: func() *v1.CustomerTagGroup { return &v1.CustomerTagGroup{} },
		External:  customerTagGroups{},
	}
	return managedController(mgr, o, "customertaggroup", &v1.CustomerTagGroup{}, func() client.ObjectList { return &v1.CustomerTagGroupList{} }).
		Complete(errorWins(r))
}
