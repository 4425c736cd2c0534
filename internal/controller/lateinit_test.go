package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

func TestDepartmentLateInitialize(t *testing.T) {
	seen := &wecom.Department{ID: 3, Name: "Ops", NameEn: "Operations", Order: 40}
	cases := []struct {
		name   string
		seen   *wecom.Department
		spec   v1.WeComDepartmentSpec
		want   v1.WeComDepartmentSpec
		filled []string
	}{
		{name: "both empty: both filled", seen: seen, spec: v1.WeComDepartmentSpec{Name: "Ops"},
			want: v1.WeComDepartmentSpec{Name: "Ops", NameEn: "Operations", Order: ptr(int64(40))}, filled: []string{"nameEn", "order"}},
		{name: "both set: left alone", seen: seen, spec: v1.WeComDepartmentSpec{Name: "Ops", NameEn: "Ops EN", Order: ptr(int64(0))},
			want: v1.WeComDepartmentSpec{Name: "Ops", NameEn: "Ops EN", Order: ptr(int64(0))}},
		{name: "WeCom has no English name: only the order", seen: &wecom.Department{ID: 3, Name: "Ops"}, spec: v1.WeComDepartmentSpec{Name: "Ops"},
			want: v1.WeComDepartmentSpec{Name: "Ops", Order: ptr(int64(0))}, filled: []string{"order"}},
		{name: "nothing observed: nothing filled", spec: v1.WeComDepartmentSpec{Name: "Ops"}, want: v1.WeComDepartmentSpec{Name: "Ops"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &v1.WeComDepartment{Spec: tc.spec}
			filled := (&departmentClient{seen: tc.seen}).LateInitialize(obj)
			if diff := cmp.Diff(tc.filled, filled); diff != "" {
				t.Errorf("filled (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, obj.Spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserLateInitialize(t *testing.T) {
	cases := []struct {
		name       string
		got        *wecom.User
		bizMail    string
		want       string
		wantFilled bool
	}{
		{name: "empty, WeCom assigned one: filled", got: &wecom.User{BizMail: "li@corp.example.com"}, want: "li@corp.example.com", wantFilled: true},
		{name: "set: never overwritten", got: &wecom.User{BizMail: "li@corp.example.com"}, bizMail: "ming@corp.example.com", want: "ming@corp.example.com"},
		{name: "WeCom has none: nothing", got: &wecom.User{}},
		{name: "no user/get this reconcile: nothing", bizMail: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &v1.WeComUser{Spec: v1.WeComUserSpec{UserID: "li", Name: "Li", BizMail: tc.bizMail, Position: "", Alias: ""}}
			filled := (&userClient{got: tc.got}).LateInitialize(obj)
			if (len(filled) > 0) != tc.wantFilled || obj.Spec.BizMail != tc.want {
				t.Errorf("filled %v, bizMail %q; want filled=%v, %q", filled, obj.Spec.BizMail, tc.wantFilled, tc.want)
			}
			if obj.Spec.Position != "" || obj.Spec.Alias != "" {
				t.Errorf("filled a field that is not late-initialised: %+v", obj.Spec)
			}
		})
	}
}
