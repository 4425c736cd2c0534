package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

func fields(d drift) []string {
	var out []string
	for _, f := range d {
		out = append(out, f.Field)
	}
	return out
}

func TestCorpTagDrift(t *testing.T) {
	got := &wecom.CorpTagGroup{GroupID: "etG", GroupName: "客户等级", Order: 5, Tags: []wecom.CorpTag{
		{ID: "et1", Name: "一般", Order: 1}, {ID: "et2", Name: "重要", Order: 2},
	}}
	spec := func(mutate func(*v1.CustomerTagGroupSpec)) *v1.CustomerTagGroup {
		g := &v1.CustomerTagGroup{Spec: v1.CustomerTagGroupSpec{Name: "客户等级", Order: 5,
			Tags: []v1.CustomerTag{{Name: "重要", Order: 2}, {Name: "一般", Order: 1}}}}
		if mutate != nil {
			mutate(&g.Spec)
		}
		return g
	}
	for _, c := range []struct {
		name   string
		obj    *v1.CustomerTagGroup
		fields []string
	}{
		{"same (tags in any order)", spec(nil), nil},
		{"renamed", spec(func(s *v1.CustomerTagGroupSpec) { s.Name = "级别" }), []string{"name"}},
		{"reordered group", spec(func(s *v1.CustomerTagGroupSpec) { s.Order = 0 }), []string{"order"}},
		{"a tag reordered", spec(func(s *v1.CustomerTagGroupSpec) { s.Tags[1].Order = 9 }), []string{"tags[一般].order"}},
		{"a tag more in the spec", spec(func(s *v1.CustomerTagGroupSpec) { s.Tags = append(s.Tags, v1.CustomerTag{Name: "VIP"}) }), []string{"tags"}},
		{"a tag more in WeCom", spec(func(s *v1.CustomerTagGroupSpec) { s.Tags = s.Tags[:1] }), []string{"tags"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.fields, fields(corpTagDrift(got, c.obj))); diff != "" {
				t.Fatalf("drift fields (-want +got):\n%s", diff)
			}
		})
	}
	ids := customerTagIDs(spec(nil), got.Tags)
	if diff := cmp.Diff([]v1.CustomerTagStatus{{Name: "重要", ID: "et2"}, {Name: "一般", ID: "et1"}}, ids); diff != "" {
		t.Fatalf("status tags in the spec's order (-want +got):\n%s", diff)
	}
}

func TestWelcomeTemplateDrift(t *testing.T) {
	text := &wecom.WelcomeText{Content: "hi"}
	link := &wecom.WelcomeLink{Title: "t", URL: "https://x"}
	for _, c := range []struct {
		name      string
		got, want wecom.GroupWelcomeTemplate
		fields    []string
	}{
		{"same", wecom.GroupWelcomeTemplate{Text: text, Link: link}, wecom.GroupWelcomeTemplate{Text: text, Link: link}, nil},
		{"text changed", wecom.GroupWelcomeTemplate{Text: &wecom.WelcomeText{Content: "yo"}}, wecom.GroupWelcomeTemplate{Text: text}, []string{"text"}},
		{"text gone", wecom.GroupWelcomeTemplate{Link: link}, wecom.GroupWelcomeTemplate{Text: text, Link: link}, []string{"text"}},
		{"link changed", wecom.GroupWelcomeTemplate{Link: &wecom.WelcomeLink{Title: "u", URL: "https://x"}}, wecom.GroupWelcomeTemplate{Link: link}, []string{"link"}},
		{"another attachment", wecom.GroupWelcomeTemplate{File: &wecom.WelcomeMedia{MediaID: "f"}}, wecom.GroupWelcomeTemplate{Link: link}, []string{"link", "file"}},
		{"image by media id, same", wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{MediaID: "m"}}, wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{MediaID: "m"}}, nil},
		{"image by media id, other", wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{MediaID: "n"}}, wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{MediaID: "m"}}, []string{"image"}},
		{"image by media id returned as a pic_url", wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{PicURL: "https://p"}}, wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{MediaID: "m"}}, nil},
		{"image by pic_url, other", wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{PicURL: "https://q"}}, wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{PicURL: "https://p"}}, []string{"image"}},
		{"image gone", wecom.GroupWelcomeTemplate{}, wecom.GroupWelcomeTemplate{Image: &wecom.WelcomeImage{PicURL: "https://p"}}, []string{"image"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.fields, fields(welcomeTemplateDrift(&c.got, c.want))); diff != "" {
				t.Fatalf("drift fields (-want +got):\n%s", diff)
			}
		})
	}
}
