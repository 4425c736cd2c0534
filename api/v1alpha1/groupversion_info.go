// Package v1alpha1 contains the wecom.dev/v1alpha1 API: WeCom (企业微信) objects managed declaratively.
//
// +kubebuilder:object:generate=true
// +groupName=wecom.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "wecom.dev", Version: "v1alpha1"}

	// SchemeBuilder is used to add go types to the GroupVersionKind scheme.
	SchemeBuilder = &schemeBuilder{}

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// schemeBuilder keeps the Register(objects...) call of each *_types.go file on top of
// apimachinery's builder: an API package should not import controller-runtime, whose
// scheme.Builder is deprecated for that reason.
type schemeBuilder struct {
	runtime.SchemeBuilder
}

// Register adds objects to the GroupVersion, as controller-runtime's scheme.Builder did.
func (b *schemeBuilder) Register(objects ...runtime.Object) {
	b.SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, objects...)
		metav1.AddToGroupVersion(s, GroupVersion)
		return nil
	})
}
