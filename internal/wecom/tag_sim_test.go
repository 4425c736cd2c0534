package wecom_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

func TestSimTags(t *testing.T) {
	env := newSim(t)
	app := env.app(t)
	ctx := context.Background()

	id := must(app.CreateTag(ctx, "SRE on call", 0))(t)
	if id != 2 {
		t.Fatalf("created tag %d, want 2 (the seeded tag is 1)", id)
	}
	if got := must(app.CreateTag(ctx, "Platform", 40))(t); got != 40 {
		t.Fatalf("chosen id: %d", got)
	}

	res := must(app.AddTagUsers(ctx, id, []string{"lisi", "ghost", "wangwu"}, []int{4, 77}))(t)
	if diff := cmp.Diff(&wecom.TagMembersResult{InvalidUsers: []string{"ghost"}, InvalidParties: []int{77}}, res); diff != "" {
		t.Fatalf("partial add (-want +got):\n%s", diff)
	}
	tag := must(app.GetTag(ctx, id))(t)
	want := &wecom.Tag{Name: "SRE on call", UserList: []wecom.TagUser{{UserID: "lisi", Name: "李四"}, {UserID: "wangwu", Name: "王五"}}, PartyList: []int{4}}
	if diff := cmp.Diff(want, tag); diff != "" {
		t.Fatalf("get (-want +got):\n%s", diff)
	}
	res = must(app.DeleteTagUsers(ctx, id, []string{"wangwu"}, nil))(t)
	if len(res.InvalidUsers)+len(res.InvalidParties) != 0 {
		t.Fatalf("delete reported invalid members: %+v", res)
	}
	ok(t, app.UpdateTag(ctx, id, "SRE"))
	list := must(app.ListTags(ctx))(t)
	if diff := cmp.Diff([]wecom.TagSummary{{ID: 1, Name: "oncall"}, {ID: 2, Name: "SRE"}, {ID: 40, Name: "Platform"}}, list); diff != "" {
		t.Fatalf("list (-want +got):\n%s", diff)
	}

	// A second create of the same name (a lost reply repeated) reads as "already exists".
	_, err := app.CreateTag(ctx, "SRE", 0)
	wantCode(t, err, wecom.ErrCodeTagNameExists, "tag/create")
	if !wecom.IsAlreadyExists(err) || !wecom.IsTerminal(err) {
		t.Fatalf("40071 on tag/create: IsAlreadyExists %v", wecom.IsAlreadyExists(err))
	}
	// A taken tagid is not "already exists": it may be another tag.
	_, err = app.CreateTag(ctx, "other", id)
	wantCode(t, err, wecom.ErrCodeInvalidTagID, "tag/create")
	if wecom.IsAlreadyExists(err) || wecom.IsNotFound(err) {
		t.Fatal("40068 on tag/create classified as already-exists or not-found")
	}

	// Only the owner writes; another app's write is 81011, terminal and not a credential
	// problem, with a hint that names the rule.
	limited := env.limited(t)
	for name, call := range map[string]func() error{
		"tag/update":      func() error { return limited.UpdateTag(ctx, id, "x") },
		"tag/delete":      func() error { return limited.DeleteTag(ctx, id) },
		"tag/addtagusers": func() error { _, err := limited.AddTagUsers(ctx, id, []string{"wangwu"}, nil); return err },
		"tag/deltagusers": func() error { _, err := limited.DeleteTagUsers(ctx, id, []string{"lisi"}, nil); return err },
	} {
		err := call()
		wantCode(t, err, wecom.ErrCodeTagNotOwned, name)
		if !wecom.IsTagNotOwned(err) || !wecom.IsTerminal(err) || wecom.IsCredential(err) || wecom.Hint(err) == "" {
			t.Fatalf("%s: 81011 classified wrong: %v / %q", name, err, wecom.Hint(err))
		}
	}
	// Any app reads any tag, but sees only the members in its visible range.
	if got := must(limited.GetTag(ctx, id))(t); len(got.UserList) != 0 || got.Name != "SRE" {
		t.Fatalf("the limited app sees %+v", got)
	}

	// All invalid: 40070 on add, 40031 on delete.
	_, err = app.AddTagUsers(ctx, id, []string{"ghost"}, nil)
	wantCode(t, err, wecom.ErrCodeTagAllInvalid, "tag/addtagusers")
	_, err = app.DeleteTagUsers(ctx, id, []string{"ghost"}, nil)
	wantCode(t, err, wecom.ErrCodeInvalidUserIDList, "tag/deltagusers")
	// The client refuses what WeCom would: an empty change and one over the per-call limits.
	if _, err := app.AddTagUsers(ctx, id, nil, nil); !errors.Is(err, wecom.ErrInvalidRequest) {
		t.Fatalf("empty add: %v", err)
	}
	if _, err := app.AddTagUsers(ctx, id, nil, make([]int, wecom.MaxTagPartiesPerCall+1)); !errors.Is(err, wecom.ErrInvalidRequest) {
		t.Fatalf("101 departments: %v", err)
	}

	ok(t, app.DeleteTag(ctx, id))
	_, err = app.GetTag(ctx, id)
	wantCode(t, err, wecom.ErrCodeInvalidTagID, "tag/get")
	if !wecom.IsNotFound(err) {
		t.Fatal("40068 on tag/get is not IsNotFound")
	}
	err = app.DeleteTag(ctx, id)
	if !wecom.IsNotFound(err) {
		t.Fatalf("deleting a deleted tag: %v", err)
	}
}
