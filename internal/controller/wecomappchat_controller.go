package controller

import (
	"context"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomappchats,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomappchats/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomappchats/finalizers,verbs=update

// EventPossibleDuplicate warns that a create WeCom may have applied twice (its first reply
// was lost and the client retried) made a second object the operator cannot find.
const EventPossibleDuplicate = "PossibleDuplicate"

// appChats is the WeComAppChat part of the reconcile. WeCom has no list of app chats, so a
// drift check is one appchat/get per chat; the update that follows reuses what it read.
// Chats are never deleted: GetDeletionPolicy is always Orphan, and the skeleton only
// releases them (WeCom has no API to dissolve a chat).
type appChats struct {
	fresh    client.Reader // uncached, see readUncached
	recorder events.EventRecorder

	mu   sync.Mutex
	seen map[types.UID]wecom.AppChat // what Observe read, for the Update that follows
}

func (a *appChats) Observe(ctx context.Context, c *Connection, obj *v1.WeComAppChat) (Observation, error) {
	if err := needSelfBuiltApp(c, "app chats"); err != nil {
		return Observation{}, err
	}
	if obj.Status.ChatID == "" {
		// A WeCom-generated id is known only from the create reply: make sure a create that
		// finished just before this reconcile is not hidden by a stale cache.
		cur, err := readUncached(ctx, a.fresh, obj)
		if err != nil {
			return Observation{}, err
		}
		obj.Status = cur.Status
	}
	id := obj.Status.ChatID
	if id == "" {
		id = obj.Spec.ChatID
	}
	if id == "" {
		return Observation{}, nil
	}
	got, err := c.Client.GetAppChat(ctx, id)
	if wecom.IsNotFound(err) {
		if obj.Spec.ChatID == "" {
			obj.Status.ChatID = "" // gone: create again, with a new id
		}
		return Observation{}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	adopted := obj.Status.ChatID == ""
	obj.Status.ChatID = id
	got.ChatID = id
	a.remember(obj.UID, *got)
	return Observation{Exists: true, UpToDate: chatUpdate(got, obj) == nil, Adopted: adopted}, nil
}

// chatUpdate returns the appchat/update that brings got in line with the spec, or nil.
// Members are compared without case, as WeCom compares userids.
func chatUpdate(got *wecom.AppChat, obj *v1.WeComAppChat) *wecom.UpdateAppChatRequest {
	s := obj.Spec
	req := wecom.UpdateAppChatRequest{ChatID: got.ChatID}
	for _, m := range s.Members {
		if !containsUserID(got.UserList, m) {
			req.AddUserList = append(req.AddUserList, m)
		}
	}
	for _, m := range got.UserList {
		if !containsUserID(s.Members, m) {
			req.DelUserList = append(req.DelUserList, m)
		}
	}
	switch {
	case s.Owner != "" && !strings.EqualFold(s.Owner, got.Owner):
		req.Owner = s.Owner
	case s.Owner == "" && containsUserID(req.DelUserList, got.Owner):
		// WeCom refuses to remove the owner without naming the next one in the same call.
		req.Owner = s.Members[0]
	}
	// An empty name is not managed: appchat/update cannot clear a name.
	if s.Name != "" && s.Name != got.Name {
		req.Name = s.Name
	}
	if req.Name == "" && req.Owner == "" && len(req.AddUserList) == 0 && len(req.DelUserList) == 0 {
		return nil
	}
	return &req
}

func (a *appChats) Create(ctx context.Context, c *Connection, obj *v1.WeComAppChat) error {
	if err := needSelfBuiltApp(c, "app chats"); err != nil {
		return err
	}
	s := obj.Spec
	var info wecom.CallInfo
	id, err := c.Client.CreateAppChat(wecom.WithCallInfo(ctx, &info), wecom.CreateAppChatRequest{
		Name: s.Name, Owner: s.Owner, UserList: s.Members, ChatID: s.ChatID,
	})
	if wecom.IsAlreadyExists(err) && s.ChatID != "" {
		// Our own create whose reply was lost and that the client retried, or a chat made
		// since Observe: adopt it and make it match.
		obj.Status.ChatID = s.ChatID
		got, gerr := c.Client.GetAppChat(ctx, s.ChatID)
		if gerr != nil {
			return gerr
		}
		if req := chatUpdate(got, obj); req != nil {
			if err := c.Client.UpdateAppChat(ctx, *req); err != nil {
				return err
			}
		}
		return errAdopted
	}
	if err != nil {
		if s.ChatID == "" && wecom.IsAmbiguous(err) {
			a.warnDuplicate(obj)
		}
		return err
	}
	if s.ChatID == "" && info.Ambiguous {
		a.warnDuplicate(obj)
	}
	obj.Status.ChatID = id
	return nil
}

// warnDuplicate says that WeCom may hold a second chat with a generated id: nothing can
// list or dissolve it through the API.
func (a *appChats) warnDuplicate(obj *v1.WeComAppChat) {
	if a.recorder != nil {
		a.recorder.Eventf(obj, nil, "Warning", EventPossibleDuplicate, "Create",
			"A create reply from WeCom was lost and the call was repeated: WeCom may hold a second chat with these members, which no API can list or dissolve. Set spec.chatID to make creates safe to repeat")
	}
}

func (a *appChats) Update(ctx context.Context, c *Connection, obj *v1.WeComAppChat) error {
	got, ok := a.recall(obj.UID)
	if !ok || got.ChatID != obj.Status.ChatID {
		g, err := c.Client.GetAppChat(ctx, obj.Status.ChatID)
		if err != nil {
			return err
		}
		got = *g
	}
	req := chatUpdate(&got, obj)
	if req == nil {
		return nil
	}
	return c.Client.UpdateAppChat(ctx, *req)
}

// Delete is never called (chats are always orphaned); it succeeds without calling WeCom.
func (a *appChats) Delete(context.Context, *Connection, *v1.WeComAppChat) error { return nil }

func (a *appChats) remember(uid types.UID, got wecom.AppChat) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[types.UID]wecom.AppChat{}
	}
	a.seen[uid] = got
}

// recall returns and forgets what the last Observe of uid read.
func (a *appChats) recall(uid types.UID) (wecom.AppChat, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	got, ok := a.seen[uid]
	delete(a.seen, uid)
	return got, ok
}

// needApp refuses connections without a self-built app: app chats, calendars and schedules
// belong to the app that made them, and the contacts-sync secret has none.
func needSelfBuiltApp(c *Connection, what string) error {
	if c.AgentID == 0 {
		return waitFor(v1.ReasonConnectionNotReady,
			"WeComConnection %q names no self-built app (spec.agentID is unset): %s belong to an app. Set agentID and that app's secret on the connection, or use another connection", c.Name, what)
	}
	return nil
}

// readUncached re-reads obj from the API server, bypassing the cache. A reconcile that closely
// follows a create may get the object from a cache that does not show the id the create
// stored yet, and would create a second WeCom object where there is no natural key.
func readUncached[T client.Object](ctx context.Context, r client.Reader, obj T) (T, error) {
	cur := obj.DeepCopyObject().(T)
	err := r.Get(ctx, client.ObjectKeyFromObject(obj), cur)
	return cur, err
}

func containsUserID(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func setupAppChats(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, _ *snapshots) error {
	kube := mgr.GetClient()
	r := &ManagedReconciler[*v1.WeComAppChat]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval,
		NewObject: func() *v1.WeComAppChat { return &v1.WeComAppChat{} },
		External:  &appChats{fresh: mgr.GetAPIReader(), recorder: recorder},
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.WeComAppChat{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1.WeComConnection{}, connectionDependants(kube, func() client.ObjectList { return &v1.WeComAppChatList{} }), builder.WithPredicates(readyChanged)).
		WithOptions(controllerOptions(o)).
		Named("wecomappchat").
		Complete(r)
}
