package controller

import (
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// A kind missing from connectionUserKinds would let its connection go, in a namespace being
// deleted, before it has deleted from WeCom.
func TestConnectionUserKindsAreEveryManagedKind(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	managed := reflect.TypeFor[v1.Managed]()
	var want, got []string
	for kind, typ := range scheme.KnownTypes(v1.GroupVersion) {
		if reflect.PointerTo(typ).Implements(managed) {
			want = append(want, kind)
		}
	}
	for _, k := range connectionUserKinds {
		got = append(got, kindOf(k.object()))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		t.Errorf("connectionUserKinds %v, want every v1.Managed kind %v", got, want)
	}
}
