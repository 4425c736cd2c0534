package controller

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// +kubebuilder:rbac:groups=wecom.dev,resources=groupwelcometemplates,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=groupwelcometemplates/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=groupwelcometemplates/finalizers,verbs=update

// groupWelcomeTemplates connects GroupWelcomeTemplate objects to WeCom's group welcome
// templates (DOC-92366). A drift check is one group_welcome_template/get. WeCom has no call
// that lists templates and no key but the template_id: a template is bound to an existing
// one only by the external-name annotation, and a create whose reply was lost cannot be
// found, so the skeleton stops with CreateIncomplete instead of adding a second.
type groupWelcomeTemplates struct{}

type groupWelcomeTemplateClient struct {
	api wecom.GroupWelcomeTemplates
}

func (groupWelcomeTemplates) Connect(_ context.Context, c *Connection, _ *v1.GroupWelcomeTemplate) (ExternalClient[*v1.GroupWelcomeTemplate], error) {
	return &groupWelcomeTemplateClient{api: c.Client}, nil
}

func (t *groupWelcomeTemplateClient) Observe(ctx context.Context, obj *v1.GroupWelcomeTemplate) (Observation, error) {
	id := obj.Status.TemplateID
	if id == "" && !createPending(obj).IsZero() {
		return Observation{}, &errCreateUnrecoverable{how: "WeCom cannot list group welcome templates, so the template the add may have made cannot be found"}
	}
	if id == "" {
		return Observation{}, nil
	}
	got, err := t.api.GetGroupWelcomeTemplate(ctx, id)
	if wecom.IsNotFound(err) {
		// Deleted in WeCom: made again.
		obj.Status.TemplateID = ""
		return Observation{}, nil
	}
	if err != nil {
		return Observation{}, err
	}
	if !obj.DeletionTimestamp.IsZero() {
		return Observation{Exists: true}, nil
	}
	d := welcomeTemplateDrift(got, desiredWelcomeTemplate(obj))
	return Observation{Exists: true, UpToDate: len(d) == 0, Drift: d}, nil
}

// desiredWelcomeTemplate is the template the spec asks for, as WeCom takes it.
func desiredWelcomeTemplate(obj *v1.GroupWelcomeTemplate) wecom.GroupWelcomeTemplate {
	sp := obj.Spec
	var out wecom.GroupWelcomeTemplate
	if sp.Text != "" {
		out.Text = &wecom.WelcomeText{Content: sp.Text}
	}
	if sp.Image != nil {
		out.Image = &wecom.WelcomeImage{MediaID: sp.Image.MediaID, PicURL: sp.Image.PicURL}
	}
	if l := sp.Link; l != nil {
		out.Link = &wecom.WelcomeLink{Title: l.Title, PicURL: l.PicURL, Desc: l.Desc, URL: l.URL}
	}
	if m := sp.MiniProgram; m != nil {
		out.MiniProgram = &wecom.WelcomeMiniProgram{Title: m.Title, PicMediaID: m.PicMediaID, AppID: m.AppID, Page: m.Page}
	}
	if sp.File != nil {
		out.File = &wecom.WelcomeMedia{MediaID: sp.File.MediaID}
	}
	if sp.Video != nil {
		out.Video = &wecom.WelcomeMedia{MediaID: sp.Video.MediaID}
	}
	return out
}

// welcomeTemplateDrift lists the parts of the template that differ. An image given by
// mediaID may come back as a pic_url only (WeCom's reply shape for it is unconfirmed): that
// cannot be compared and counts as matching.
func welcomeTemplateDrift(got *wecom.GroupWelcomeTemplate, want wecom.GroupWelcomeTemplate) drift {
	var d drift
	text := func(t *wecom.WelcomeText) string {
		if t == nil {
			return ""
		}
		return t.Content
	}
	d.check("text", text(got.Text) == text(want.Text), text(got.Text), text(want.Text))
	sameImage := func(g, w *wecom.WelcomeImage) bool {
		switch {
		case g == nil || w == nil:
			return g == w
		case w.MediaID != "" && g.MediaID == "":
			return g.PicURL != ""
		case w.MediaID != "":
			return g.MediaID == w.MediaID
		}
		return g.MediaID == "" && g.PicURL == w.PicURL
	}
	d.check("image", sameImage(got.Image, want.Image), fmtPart(got.Image), fmtPart(want.Image))
	d.check("link", samePart(got.Link, want.Link), fmtPart(got.Link), fmtPart(want.Link))
	d.check("miniProgram", samePart(got.MiniProgram, want.MiniProgram), fmtPart(got.MiniProgram), fmtPart(want.MiniProgram))
	d.check("file", samePart(got.File, want.File), fmtPart(got.File), fmtPart(want.File))
	d.check("video", samePart(got.Video, want.Video), fmtPart(got.Video), fmtPart(want.Video))
	return d
}

func samePart[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func fmtPart[T any](p *T) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf("%+v", *p)
}

func (t *groupWelcomeTemplateClient) Create(ctx context.Context, obj *v1.GroupWelcomeTemplate) error {
	notify := obj.Spec.Notify == nil || *obj.Spec.Notify
	id, err := t.api.AddGroupWelcomeTemplate(ctx, desiredWelcomeTemplate(obj), notify)
	if err != nil {
		return err
	}
	obj.Status.TemplateID = id
	return nil
}

// errTemplateGone: the template was deleted in WeCom between the read and the edit.
var errTemplateGone = errors.New("the group welcome template was deleted in WeCom since it was read; it is made again")

// Update sends the whole template: an edit replaces the content.
func (t *groupWelcomeTemplateClient) Update(ctx context.Context, obj *v1.GroupWelcomeTemplate) error {
	err := t.api.EditGroupWelcomeTemplate(ctx, obj.Status.TemplateID, desiredWelcomeTemplate(obj))
	if wecom.IsNotFound(err) {
		obj.Status.TemplateID = ""
		return errTemplateGone
	}
	return err
}

// Delete deletes the template. Another app's template cannot be deleted with this
// connection: the delete is blocked until the object is released with deletionPolicy Orphan.
func (t *groupWelcomeTemplateClient) Delete(ctx context.Context, obj *v1.GroupWelcomeTemplate) error {
	id := obj.Status.TemplateID
	if id == "" {
		return nil
	}
	err := t.api.DeleteGroupWelcomeTemplate(ctx, id)
	switch {
	case err == nil || wecom.IsNotFound(err):
		return nil
	case wecom.Code(err) == wecom.ErrCodeWelcomeTemplateNotMine:
		return &deleteBlockedError{err: fmt.Errorf("%w; set deletionPolicy: Orphan to leave the template in WeCom", err)}
	}
	return err
}

func setupGroupWelcomeTemplates(mgr ctrl.Manager, o Options, connector *Connector, recorder events.EventRecorder, _ *snapshots) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.GroupWelcomeTemplate{}, indexConnection, func(obj client.Object) []string {
		return []string{obj.(v1.Managed).GetConnectionName()}
	}); err != nil {
		return err
	}
	kube := mgr.GetClient()
	r := &ManagedReconciler[*v1.GroupWelcomeTemplate]{
		Client: kube, Connector: connector, Recorder: recorder, DriftInterval: o.DriftInterval,
		NewObject: func() *v1.GroupWelcomeTemplate { return &v1.GroupWelcomeTemplate{} },
		External:  groupWelcomeTemplates{},
	}
	return managedController(mgr, o, "groupwelcometemplate", &v1.GroupWelcomeTemplate{}, func() client.ObjectList { return &v1.GroupWelcomeTemplateList{} }).
		Complete(errorWins(r))
}
