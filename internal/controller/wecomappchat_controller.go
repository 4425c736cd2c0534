package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomappchats,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomappchats/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomappchats/finalizers,verbs=update

// appChats connects WeComAppChat objects to WeCom. WeCom has no list of app chats, so a
// drift check is one appchat/get per chat; the update that follows reuses what it read.
// Chats are never deleted: GetDeletionPolicy is always Orphan, and the skeleton only
// releases them (WeCom has no API to dissolve a chat).
//
// A chat's id is chosen by the operator when the spec has none (chatIDFor), so a create
// repeated after a lost reply is refused by WeCom (86215) and the chat found by its id.
type appChats struct{}

// appChatClient is the WeComAppChat part of one reconcile; got is what Observe read.
type appChatClient struct {
	api wecom.AppChats
	got *wecom.AppChat
}

func (appChats) Connect(_ context.Context, c *Connection, _ *v1.WeComAppChat) (ExternalClient[*v1.WeComAppChat], error) {
	if err := needSelfBuiltApp(c, "app chats"); err != nil {
		return nil, err
	}
	return &appChatClient{api: c.Client}, nil
}

// chatIDFor is the chat id of obj: the spec's, or 32 letters and digits derived from the
// object's UID, which no other object has. Chats made before the operator chose ids keep
// the id WeCom generated (in the status).
func chatIDFor(obj *v1.WeComAppChat) string {
	if obj.Spec.ChatID != "" {
		return obj.Spec.ChatID
	}
	sum := sha256.Sum256([]byte(obj.UID))
	return hex.EncodeToString(sum[:16])
}

// Observe reads the chat by the id in the status, else by the spec's id (adoption), else,
// after a create whose reply may be lost, by the id the create used.
func (a *appChatClient) Observe(ctx context.Context, obj *v1.WeComAppChat) (Observation, error) {
	id := obj.Status.ChatID
	if id == "" && (obj.Spec.ChatID != "" || !createPending(obj).IsZero()) {
		id = chatIDFor(obj)
	}
	if id == "" {
		return Observation{}, nil
	}
	got, err := a.api.GetAppChat(ctx, id)
	if wecom.IsNotFound(err) {
		obj.Status.ChatID = "" // gone (or never made): create again
		return Observation{}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	obj.Status.ChatID = id
	got.ChatID = id
	a.got = got
	req := chatUpdate(got, obj)
	if req == nil {
		return Observation{Exists: true, UpToDate: true}, nil
	}
	var d drift
	d.check("name", req.Name == "", got.Name, obj.Spec.Name)
	d.check("owner", !strings.EqualFold(req.Owner, obj.Spec.Owner) || req.Owner == "", got.Owner, obj.Spec.Owner)
	d.check("members", len(req.AddUserList) == 0 && len(req.DelUserList) == 0, got.UserList, obj.Spec.Members)
	return Observation{Exists: true, UpToDate: false, Drift: d}, nil
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

func (a *appChatClient) Create(ctx context.Context, obj *v1.WeComAppChat) error {
	s := obj.Spec
	id, err := a.api.CreateAppChat(ctx, wecom.CreateAppChatRequest{
		Name: s.Name, Owner: s.Owner, UserList: s.Members, ChatID: chatIDFor(obj),
	})
	if err != nil {
		return err
	}
	obj.Status.ChatID = id
	return nil
}

func (a *appChatClient) Update(ctx context.Context, obj *v1.WeComAppChat) error {
	got := a.got
	if got == nil || got.ChatID != obj.Status.ChatID {
		g, err := a.api.GetAppChat(ctx, obj.Status.ChatID)
		if err != nil {
			return err
		}
		g.ChatID = obj.Status.ChatID
		got = g
	}
	req := chatUpdate(got, obj)
	if req == nil {
		return nil
	}
	return a.api.UpdateAppChat(ctx, *req)
}

// Delete is never called (chats are always orphaned); it succeeds without calling WeCom.
func (a *appChatClient) Delete(context.Context, *v1.WeComAppChat) error { return nil }

// needApp refuses connections without a self-built app: app chats, calendars and schedules
// belong to the app that made them, and the contacts-sync secret has none.
func needSelfBuiltApp(c *Connection, what string) error {
	if c.AgentID == 0 {
		return waitFor(v1.ReasonConnectionNotReady,
			"WeComConnection %q names no self-built app (spec.agentID is unset): %s belong to an app. Set agentID and that app's secret on the connection, or use another connection", c.Name, what)
	}
	return nil
}

func containsUserID(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func setupAppChats(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, _ *snapshots) error {
	kube := mgr.GetClient()
	r := &ManagedReconciler[*v1.WeComAppChat]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval, CallbackDriftInterval: o.CallbackDriftInterval,
		NewObject: func() *v1.WeComAppChat { return &v1.WeComAppChat{} },
		External:  appChats{},
	}
	return managedController(mgr, o, "wecomappchat", &v1.WeComAppChat{}, func() client.ObjectList { return &v1.WeComAppChatList{} }).
		Complete(errorWins(r))
}
