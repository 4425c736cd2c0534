package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	kptr "k8s.io/utils/ptr"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// The WeComApp's "does WeCom match the spec": only the fields the spec sets, the menu as a
// whole, and the logo against the one last set.
func TestAppDrift(t *testing.T) {
	got := &wecom.Agent{AgentID: 1000002, Name: "运维助手", Description: "告警与值班", HomeURL: "https://ops.example.com/",
		RedirectDomain: "ops.example.com", ReportLocationFlag: 0, IsReportEnter: 1}
	menu := []wecom.MenuButton{
		{Type: "click", Name: "值班", Key: "ONCALL"},
		{Name: "告警", SubButtons: []wecom.MenuButton{{Type: "view", Name: "当前告警", URL: "https://alerts.example.com/"}}},
	}
	specMenu := func() *v1.AppMenu {
		return &v1.AppMenu{Buttons: []v1.MenuButton{
			{Name: "值班", Type: v1.MenuClick, Key: "ONCALL"},
			{Name: "告警", SubButtons: []v1.MenuSubButton{{Name: "当前告警", Type: v1.MenuView, URL: "https://alerts.example.com/"}}},
		}}
	}
	cases := []struct {
		name   string
		spec   v1.WeComAppSpec
		logo   string // status.logoMediaID
		menu   []wecom.MenuButton
		fields []string
	}{
		{"nothing set is nothing managed", v1.WeComAppSpec{}, "", nil, nil},
		{"every setting the same", v1.WeComAppSpec{Name: kptr.To("运维助手"), Description: kptr.To("告警与值班"), HomeURL: kptr.To("https://ops.example.com/"),
			RedirectDomain: kptr.To("ops.example.com"), ReportLocation: kptr.To(false), ReportEnter: kptr.To(true)}, "", nil, nil},
		{"name", v1.WeComAppSpec{Name: kptr.To("Ops")}, "", nil, []string{"name"}},
		{"description and homeURL", v1.WeComAppSpec{Description: kptr.To("值班告警"), HomeURL: kptr.To("https://x/")}, "", nil, []string{"description", "homeURL"}},
		{"flags", v1.WeComAppSpec{ReportLocation: kptr.To(true), ReportEnter: kptr.To(false)}, "", nil, []string{"reportLocation", "reportEnter"}},
		{"a logo not set yet", v1.WeComAppSpec{LogoMediaID: kptr.To("M1")}, "", nil, []string{"logoMediaID"}},
		{"the logo last set", v1.WeComAppSpec{LogoMediaID: kptr.To("M1")}, "M1", nil, nil},
		{"the same menu", v1.WeComAppSpec{Menu: specMenu()}, "", menu, nil},
		{"a menu WeCom lacks", v1.WeComAppSpec{Menu: specMenu()}, "", nil, []string{"menu.buttons"}},
		{"no menu wanted, none there", v1.WeComAppSpec{Menu: &v1.AppMenu{}}, "", nil, nil},
		{"no menu wanted, one there", v1.WeComAppSpec{Menu: &v1.AppMenu{}}, "", menu, []string{"menu.buttons"}},
		{"a sub-button renamed", v1.WeComAppSpec{Menu: func() *v1.AppMenu {
			m := specMenu()
			m.Buttons[1].SubButtons[0].Name = "告警列表"
			return m
		}()}, "", menu, []string{"menu.buttons"}},
		{"buttons reordered", v1.WeComAppSpec{Menu: func() *v1.AppMenu {
			m := specMenu()
			m.Buttons[0], m.Buttons[1] = m.Buttons[1], m.Buttons[0]
			return m
		}()}, "", menu, []string{"menu.buttons"}},
	}
	for _, tc := range cases {
		obj := &v1.WeComApp{Spec: tc.spec}
		obj.Status.LogoMediaID = tc.logo
		var fields []string
		for _, f := range appDrift(got, tc.menu, obj) {
			fields = append(fields, f.Field)
		}
		if diff := cmp.Diff(tc.fields, fields); diff != "" {
			t.Errorf("%s: drifted fields (-want +got):\n%s", tc.name, diff)
		}
	}
}
