package wecom_test

import (
	"context"
	"slices"
	"testing"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

func TestSimCorpTags(t *testing.T) {
	env := newSim(t)
	app := env.app(t)
	ctx := context.Background()

	g := must(app.AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupName: "客户等级", Order: 3,
		Tags: []wecom.NewCorpTag{{Name: "一般", Order: 1}, {Name: "重要", Order: 2}}}))(t)
	if g.GroupID == "" || len(g.Tags) != 2 || g.Tags[0].ID == "" || g.Order != 3 {
		t.Fatalf("add: %+v", g)
	}
	more := must(app.AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupID: g.GroupID, Tags: []wecom.NewCorpTag{{Name: "VIP", Order: 9}}}))(t)
	if more.GroupID != g.GroupID || len(more.Tags) != 1 || more.Tags[0].Name != "VIP" {
		t.Fatalf("add to group: %+v", more)
	}
	// A repeated add (a lost reply) reads as "already exists".
	_, err := app.AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupName: "客户等级", Tags: []wecom.NewCorpTag{{Name: "一般"}}})
	wantCode(t, err, wecom.ErrCodeTagNameExists, "externalcontact/add_corp_tag")
	if !wecom.IsAlreadyExists(err) {
		t.Fatal("40071 on add_corp_tag is not IsAlreadyExists")
	}

	name, zero := "普通", uint32(0)
	ok(t, app.EditCorpTag(ctx, wecom.EditCorpTagRequest{ID: g.Tags[0].ID, Name: &name, Order: &zero}))
	list := must(app.ListCorpTags(ctx, nil, []string{g.GroupID}))(t)
	if len(list) != 1 {
		t.Fatalf("list: %+v", list)
	}
	var names []string
	for _, tag := range list[0].Tags {
		names = append(names, tag.Name)
	}
	if want := []string{"VIP", "重要", "普通"}; !slices.Equal(names, want) {
		t.Fatalf("tags %v, want %v (larger order first)", names, want)
	}

	// Without customer-contact permission: 48002, a credential problem.
	_, err = env.limited(t).ListCorpTags(ctx, nil, nil)
	wantCode(t, err, wecom.ErrCodeNoAPIPermission, "externalcontact/get_corp_tag_list")
	if !wecom.IsPermissionDenied(err) {
		t.Fatal("48002 is not IsPermissionDenied")
	}

	ok(t, app.DeleteCorpTags(ctx, nil, []string{g.GroupID}))
	if got := must(app.ListCorpTags(ctx, nil, []string{g.GroupID}))(t); len(got) != 0 {
		t.Fatalf("after delete: %+v", got)
	}
	err = app.DeleteCorpTags(ctx, nil, []string{g.GroupID})
	if !wecom.IsNotFound(err) {
		t.Fatalf("deleting a deleted group: %v", err)
	}
	err = app.EditCorpTag(ctx, wecom.EditCorpTagRequest{ID: g.GroupID, Name: &name})
	if !wecom.IsNotFound(err) {
		t.Fatalf("editing a deleted group: %v", err)
	}
}

func TestSimGroupWelcomeTemplates(t *testing.T) {
	env := newSim(t)
	app := env.app(t)
	ctx := context.Background()

	tpl := wecom.GroupWelcomeTemplate{Text: &wecom.WelcomeText{Content: "欢迎 %NICKNAME%"},
		Link: &wecom.WelcomeLink{Title: "指南", URL: "https://example.com/guide"}}
	id := must(app.AddGroupWelcomeTemplate(ctx, tpl, false))(t)
	got := must(app.GetGroupWelcomeTemplate(ctx, id))(t)
	if got.Text == nil || got.Text.Content != "欢迎 %NICKNAME%" || got.Link == nil || got.Link.URL != "https://example.com/guide" || got.Image != nil {
		t.Fatalf("get: %+v", got)
	}
	if st, _ := env.srv.State().WelcomeTemplate(id); st.Notify {
		t.Fatal("notify false was not sent")
	}
	ok(t, app.EditGroupWelcomeTemplate(ctx, id, wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{PicURL: "https://p.example.com/a.png"}}))
	got = must(app.GetGroupWelcomeTemplate(ctx, id))(t)
	if got.Text != nil || got.Link != nil || got.Image == nil || got.Image.PicURL != "https://p.example.com/a.png" {
		t.Fatalf("get after edit: %+v", got)
	}

	// An edit with nothing in it is refused like an add.
	err := app.EditGroupWelcomeTemplate(ctx, id, wecom.GroupWelcomeTemplate{})
	wantCode(t, err, 44004, "externalcontact/group_welcome_template/edit")

	ok(t, app.DeleteGroupWelcomeTemplate(ctx, id))
	_, err = app.GetGroupWelcomeTemplate(ctx, id)
	wantCode(t, err, wecom.ErrCodeTemplateIDNotFound, "externalcontact/group_welcome_template/get")
	if !wecom.IsNotFound(err) || !wecom.IsNotFound(app.DeleteGroupWelcomeTemplate(ctx, id)) {
		t.Fatal("84020 is not IsNotFound")
	}
}
