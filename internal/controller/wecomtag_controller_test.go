package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

func TestTagDrift(t *testing.T) {
	got := &wecom.Tag{Name: "SRE", UserList: []wecom.TagUser{{UserID: "LiSi"}, {UserID: "wangwu"}}, PartyList: []int{3, 4}}
	cases := []struct {
		name   string
		spec   string
		want   tagMembers
		fields []string
	}{
		{"same (userids without case, any order)", "SRE", tagMembers{users: []string{"wangwu", "lisi"}, parties: []int{4, 3}}, nil},
		{"renamed", "Ops", tagMembers{users: []string{"lisi", "wangwu"}, parties: []int{3, 4}}, []string{"name"}},
		{"name differs only in case", "sre", tagMembers{users: []string{"lisi", "wangwu"}, parties: []int{3, 4}}, []string{"name"}},
		{"a member more in WeCom", "SRE", tagMembers{users: []string{"lisi"}, parties: []int{3, 4}}, []string{"users"}},
		{"a department missing", "SRE", tagMembers{users: []string{"lisi", "wangwu"}, parties: []int{3, 4, 5}}, []string{"departments"}},
		{"no members wanted", "SRE", tagMembers{}, []string{"users", "departments"}},
	}
	for _, tc := range cases {
		var fields []string
		for _, f := range tagDrift(got, tc.spec, tc.want) {
			fields = append(fields, f.Field)
		}
		if diff := cmp.Diff(tc.fields, fields); diff != "" {
			t.Errorf("%s: drifted fields (-want +got):\n%s", tc.name, diff)
		}
	}
}

// fakeTags records tag member calls and answers them as WeCom would for the members in bad.
type fakeTags struct {
	wecom.Tags
	calls []string
	bad   map[string]bool // userids and department ids ("d4") WeCom refuses
}

func (f *fakeTags) members(op string, allInvalid int, users []string, parties []int) (*wecom.TagMembersResult, error) {
	f.calls = append(f.calls, fmt.Sprintf("%s %d users %d departments", op, len(users), len(parties)))
	res := &wecom.TagMembersResult{}
	for _, u := range users {
		if f.bad[u] {
			res.InvalidUsers = append(res.InvalidUsers, u)
		}
	}
	for _, p := range parties {
		if f.bad[fmt.Sprintf("d%d", p)] {
			res.InvalidParties = append(res.InvalidParties, p)
		}
	}
	if len(res.InvalidUsers)+len(res.InvalidParties) == len(users)+len(parties) {
		return nil, &wecom.APIError{Code: allInvalid, API: "tag/" + op}
	}
	return res, nil
}

func (f *fakeTags) AddTagUsers(_ context.Context, _ int, users []string, parties []int) (*wecom.TagMembersResult, error) {
	return f.members("addtagusers", wecom.ErrCodeTagAllInvalid, users, parties)
}

func (f *fakeTags) DeleteTagUsers(_ context.Context, _ int, users []string, parties []int) (*wecom.TagMembersResult, error) {
	return f.members("deltagusers", wecom.ErrCodeInvalidUserIDList, users, parties)
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func TestApplyTagMembers(t *testing.T) {
	cases := []struct {
		name        string
		have, want  tagMembers
		bad         []string
		calls       []string
		count       int32
		invalid     []string
		invalidDept []int64
	}{
		{name: "nothing to do", have: tagMembers{users: []string{"a"}}, want: tagMembers{users: []string{"A"}}, count: 1},
		{name: "removals first, then adds", have: tagMembers{users: []string{"a", "b"}, parties: []int{1}},
			want:  tagMembers{users: []string{"b", "c"}, parties: []int{2, 3}},
			calls: []string{"deltagusers 1 users 1 departments", "addtagusers 1 users 2 departments"}, count: 4},
		{name: "removals in calls of WeCom's limits", have: tagMembers{users: ids("u", 2500)}, want: tagMembers{},
			calls: []string{"deltagusers 1000 users 0 departments", "deltagusers 1000 users 0 departments", "deltagusers 500 users 0 departments"}},
		{name: "some left out", want: tagMembers{users: []string{"a", "ghost"}, parties: []int{4, 77}}, bad: []string{"ghost", "d77"},
			calls: []string{"addtagusers 2 users 2 departments"}, count: 2, invalid: []string{"ghost"}, invalidDept: []int64{77}},
		{name: "all left out (40070) is listed, not an error of its own", want: tagMembers{users: []string{"ghost"}}, bad: []string{"ghost"},
			calls: []string{"addtagusers 1 users 0 departments"}, invalid: []string{"ghost"}},
		{name: "a removal WeCom refuses (40031) is listed too", have: tagMembers{parties: []int{9}}, bad: []string{"d9"},
			calls: []string{"deltagusers 0 users 1 departments"}, count: 1, invalidDept: []int64{9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := map[string]bool{}
			for _, b := range tc.bad {
				bad[b] = true
			}
			api := &fakeTags{bad: bad}
			obj := &v1.WeComTag{Status: v1.WeComTagStatus{TagID: 5}}
			err := (&tagClient{api: api, conn: "contacts"}).applyMembers(context.Background(), obj, tc.have, tc.want)
			if diff := cmp.Diff(tc.calls, api.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if obj.Status.MemberCount != tc.count {
				t.Errorf("memberCount %d, want %d", obj.Status.MemberCount, tc.count)
			}
			if diff := cmp.Diff(tc.invalid, obj.Status.InvalidUsers); diff != "" {
				t.Errorf("invalidUsers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.invalidDept, obj.Status.InvalidDepartments); diff != "" {
				t.Errorf("invalidDepartments (-want +got):\n%s", diff)
			}
			var partial *tagPartialError
			switch {
			case len(tc.invalid)+len(tc.invalidDept) == 0 && err != nil:
				t.Errorf("error %v", err)
			case len(tc.invalid)+len(tc.invalidDept) > 0:
				if !errors.As(err, &partial) || !wecom.IsTerminal(err) || wecom.Code(err) != 0 {
					t.Fatalf("want a terminal tagPartialError, got %v", err)
				}
				for _, id := range tc.invalid {
					if !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), `WeComConnection "contacts"`) {
						t.Errorf("message %q does not name %s and the connection", err, id)
					}
				}
			}
		})
	}
}

func TestResolveTagRefs(t *testing.T) {
	scheme := testScheme(t)
	withID := &v1.WeComTag{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: "ns"}, Status: v1.WeComTagStatus{TagID: 7}}
	noID := &v1.WeComTag{ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: "ns"}}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(withID, noID).WithStatusSubresource(withID, noID).Build()
	ctx := context.Background()

	to := &v1.Recipients{Users: []string{"lisi"}, Tags: []int64{7, 1}, TagRefs: []v1.LocalObjectReference{{Name: "oncall"}}}
	got, err := resolveTagRefs(ctx, kube, "ns", to)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&v1.Recipients{Users: []string{"lisi"}, Tags: []int64{7, 1}}, got); diff != "" {
		t.Errorf("resolved (-want +got):\n%s", diff)
	}
	if len(to.TagRefs) != 1 {
		t.Error("the spec's recipients were changed")
	}
	for name, msg := range map[string]string{"new": "to get a WeCom tag id", "missing": "not found"} {
		_, err := resolveTagRefs(ctx, kube, "ns", &v1.Recipients{TagRefs: []v1.LocalObjectReference{{Name: name}}})
		reason, text, waiting := IsWaiting(err)
		if !waiting || reason != v1.ReasonDependencyNotReady || !strings.Contains(text, msg) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got, _ := resolveTagRefs(ctx, kube, "ns", &v1.Recipients{All: true, TagRefs: []v1.LocalObjectReference{{Name: "missing"}}}); !got.All {
		t.Error("all: true waited for its tagRefs, which it ignores")
	}
}
