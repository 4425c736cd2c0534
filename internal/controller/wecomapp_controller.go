package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomapps,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomapps/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomapps/finalizers,verbs=update

// apps connects WeComApp objects to WeCom. WeCom cannot create or delete an app, so the app
// always exists: Observe adopts the app of the connection's agentID on the first reconcile
// (one agent/get, plus one menu/get when spec.menu is set), and Create is never reached.
// Update sends one agent/set with only the settings that differ, and menu/create (or
// menu/delete) when the menu differs. Delete is reached only with spec.menu.removeOnDelete
// (GetDeletionPolicy): it removes the menu, and the app is released.
type apps struct{ kube client.Client }

// appClient is the WeComApp part of one reconcile; got and menu are what Observe read.
type appClient struct {
	api     wecom.Apps
	kube    client.Client
	conn    string
	agentID int64
	got     *wecom.Agent
	menu    []wecom.MenuButton
}

func (a apps) Connect(_ context.Context, c *Connection, _ *v1.WeComApp) (ExternalClient[*v1.WeComApp], error) {
	if err := needSelfBuiltApp(c, "app settings and menus"); err != nil {
		return nil, err
	}
	return &appClient{api: c.Client, kube: a.kube, conn: c.Name, agentID: c.AgentID}, nil
}

// firstOfConnection makes the oldest WeComApp of a connection the only one that manages its
// app: two would undo each other's changes. The others wait (no WeCom call) until it goes.
func (a *appClient) firstOfConnection(ctx context.Context, obj *v1.WeComApp) error {
	list := &v1.WeComAppList{}
	if err := a.kube.List(ctx, list, client.InNamespace(obj.Namespace), client.MatchingFields{indexConnection: a.conn}); err != nil {
		return err
	}
	for _, other := range list.Items {
		if other.UID == obj.UID || !other.DeletionTimestamp.IsZero() {
			continue
		}
		if t, u := other.CreationTimestamp, obj.CreationTimestamp; t.Before(&u) || (t.Equal(&u) && other.Name < obj.Name) {
			return waitFor(v1.ReasonReconcileError,
				"WeComApp %q already manages app %d of WeComConnection %q, and two objects would undo each other's changes; delete one of them (this one waits and takes over when the other is gone)",
				other.Name, a.agentID, a.conn)
		}
	}
	return nil
}

// Observe reads the app of the connection's agentID (and its menu when spec.menu is set).
// While the object is being deleted with removeOnDelete, what remains to delete is the menu:
// the app "exists" as long as it has one.
func (a *appClient) Observe(ctx context.Context, obj *v1.WeComApp) (Observation, error) {
	if !obj.DeletionTimestamp.IsZero() {
		if !a.managesApp(obj) {
			return Observation{}, nil
		}
		menu, err := a.api.GetMenu(ctx, a.agentID)
		if err != nil {
			return Observation{}, err
		}
		return Observation{Exists: len(menu) > 0}, nil
	}
	if id := obj.Status.AgentID; id != 0 && id != a.agentID {
		return Observation{}, reconcile.TerminalError(fmt.Errorf(
			"this object manages app %d (status.agentID, annotation %s), but WeComConnection %q now names app %d: an object never moves to another app. Delete this object (the app is released) and create one for the new app",
			id, v1.AnnotationExternalName, a.conn, a.agentID))
	}
	if err := a.firstOfConnection(ctx, obj); err != nil {
		return Observation{}, err
	}
	got, err := a.api.GetAgent(ctx, a.agentID)
	if err != nil {
		return Observation{}, err
	}
	a.got = got
	obj.Status.AgentID = a.agentID
	obj.Status.Name, obj.Status.SquareLogoURL = got.Name, got.SquareLogoURL
	if obj.Spec.Menu != nil {
		if a.menu, err = a.api.GetMenu(ctx, a.agentID); err != nil {
			return Observation{}, err
		}
		obj.Status.MenuButtons = int32(len(a.menu))
	}
	d := appDrift(got, a.menu, obj)
	return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
}

// appDrift lists the managed settings (the spec fields that are set) that differ in WeCom,
// and the menu when it is managed. logoMediaID differs until it was set once: WeCom returns
// only the logo's URL.
func appDrift(got *wecom.Agent, menu []wecom.MenuButton, obj *v1.WeComApp) drift {
	var d drift
	s := obj.Spec
	checkString := func(field string, want *string, have string) {
		if want != nil {
			d.check(field, *want == have, have, *want)
		}
	}
	checkString("name", s.Name, got.Name)
	checkString("description", s.Description, got.Description)
	checkString("homeURL", s.HomeURL, got.HomeURL)
	checkString("redirectDomain", s.RedirectDomain, got.RedirectDomain)
	if s.ReportLocation != nil {
		d.check("reportLocation", *s.ReportLocation == (got.ReportLocationFlag == 1), got.ReportLocationFlag == 1, *s.ReportLocation)
	}
	if s.ReportEnter != nil {
		d.check("reportEnter", *s.ReportEnter == (got.IsReportEnter == 1), got.IsReportEnter == 1, *s.ReportEnter)
	}
	if s.LogoMediaID != nil {
		d.check("logoMediaID", *s.LogoMediaID == obj.Status.LogoMediaID, obj.Status.LogoMediaID, *s.LogoMediaID)
	}
	if s.Menu != nil {
		want := menuButtons(s.Menu.Buttons)
		d.check("menu.buttons", reflect.DeepEqual(want, menu), menuText(menu), menuText(want))
	}
	return d
}

// menuButtons is the spec's menu as menu/create takes it (nil for none).
func menuButtons(spec []v1.MenuButton) []wecom.MenuButton {
	if len(spec) == 0 {
		return nil
	}
	out := make([]wecom.MenuButton, 0, len(spec))
	for _, b := range spec {
		w := wecom.MenuButton{Type: string(b.Type), Name: b.Name, Key: b.Key, URL: b.URL, PagePath: b.PagePath, AppID: b.AppID}
		for _, sb := range b.SubButtons {
			w.SubButtons = append(w.SubButtons, wecom.MenuButton{Type: string(sb.Type), Name: sb.Name, Key: sb.Key, URL: sb.URL, PagePath: sb.PagePath, AppID: sb.AppID})
		}
		out = append(out, w)
	}
	return out
}

// menuText renders a menu for status.drift: its JSON, "" for none.
func menuText(m []wecom.MenuButton) string {
	if len(m) == 0 {
		return ""
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Sprint(m)
	}
	return string(b)
}

// Create is never reached: Observe finds the app (it always exists) or fails, and the
// skeleton creates only what Observe did not find.
func (a *appClient) Create(context.Context, *v1.WeComApp) error {
	return reconcile.TerminalError(errors.New("WeCom has no API to create an app: create it in the admin console and name it in the connection's agentID"))
}

// Update sets the settings that differ in one agent/set, then makes the menu match.
func (a *appClient) Update(ctx context.Context, obj *v1.WeComApp) error {
	got := a.got
	if got == nil {
		var err error
		if got, err = a.api.GetAgent(ctx, a.agentID); err != nil {
			return err
		}
	}
	s := obj.Spec
	var set wecom.AgentSettings
	changed := false
	setString := func(dst **string, want *string, have string) {
		if want != nil && *want != have {
			*dst, changed = want, true
		}
	}
	setString(&set.Name, s.Name, got.Name)
	setString(&set.Description, s.Description, got.Description)
	setString(&set.HomeURL, s.HomeURL, got.HomeURL)
	setString(&set.RedirectDomain, s.RedirectDomain, got.RedirectDomain)
	setString(&set.LogoMediaID, s.LogoMediaID, obj.Status.LogoMediaID)
	if s.ReportLocation != nil && *s.ReportLocation != (got.ReportLocationFlag == 1) {
		set.ReportLocation, changed = s.ReportLocation, true
	}
	if s.ReportEnter != nil && *s.ReportEnter != (got.IsReportEnter == 1) {
		set.ReportEnter, changed = s.ReportEnter, true
	}
	if changed {
		if err := a.api.SetAgent(ctx, a.agentID, set); err != nil {
			return err
		}
		if set.Name != nil {
			obj.Status.Name = *set.Name
		}
		if set.LogoMediaID != nil {
			obj.Status.LogoMediaID = *set.LogoMediaID
		}
	}
	if s.Menu == nil {
		return nil
	}
	want := menuButtons(s.Menu.Buttons)
	switch {
	case reflect.DeepEqual(want, a.menu):
	case want == nil:
		if err := a.api.DeleteMenu(ctx, a.agentID); err != nil {
			return err
		}
	default:
		if err := a.api.CreateMenu(ctx, a.agentID, want); err != nil {
			return err
		}
	}
	a.menu = want
	obj.Status.MenuButtons = int32(len(want))
	return nil
}

// Delete removes the menu; the skeleton calls it only with spec.menu.removeOnDelete. The app
// itself stays: WeCom has no API to delete it. An object that never managed the app (it
// waited behind another object of its connection) or whose connection now names another app
// touches nothing.
func (a *appClient) Delete(ctx context.Context, obj *v1.WeComApp) error {
	if obj.Spec.Menu == nil || !obj.Spec.Menu.RemoveOnDelete || !a.managesApp(obj) {
		return nil
	}
	return a.api.DeleteMenu(ctx, a.agentID)
}

// managesApp says whether obj adopted the app its connection names now.
func (a *appClient) managesApp(obj *v1.WeComApp) bool {
	return obj.Status.AgentID != 0 && obj.Status.AgentID == a.agentID
}

func setupApps(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, _ *snapshots) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.WeComApp{}, indexConnection, func(obj client.Object) []string {
		return []string{obj.(*v1.WeComApp).GetConnectionName()}
	}); err != nil {
		return err
	}
	kube := mgr.GetClient()
	// No WeCom callback reports a change of an app's settings or menu, so drift checks keep
	// the plain interval.
	r := &ManagedReconciler[*v1.WeComApp]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval,
		NewObject: func() *v1.WeComApp { return &v1.WeComApp{} },
		External:  apps{kube: kube},
	}
	return managedController(mgr, o, "wecomapp", &v1.WeComApp{}, func() client.ObjectList { return &v1.WeComAppList{} }).
		Complete(errorWins(r))
}
