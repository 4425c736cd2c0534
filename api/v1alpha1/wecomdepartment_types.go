package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WeComDepartmentSpec is a department of the corp's org chart (通讯录 → 部门).
// +kubebuilder:validation:XValidation:rule="!(has(self.parentRef) && has(self.parentID))",message="set at most one of parentRef and parentID"
// +kubebuilder:validation:XValidation:rule="has(self.id) == has(oldSelf.id) && (!has(self.id) || self.id == oldSelf.id)",message="id is immutable"
type WeComDepartmentSpec struct {
	DeletableSpec `json:",inline"`

	// name of the department: 1 to 32 characters, unique among its siblings, without any of
	// \ : * ? " < > | (ASCII or full-width).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\\\\\:*?\"<>|：＊？＂“”＜＞｜＼]')",message="name must not contain any of \\ : * ? \" < > | (ASCII or full-width)"
	Name string `json:"name"`

	// nameEn is the English name, with the same rules as name. WeCom only shows it when
	// multi-language is enabled in the admin console.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\\\\\:*?\"<>|：＊？＂“”＜＞｜＼]')",message="nameEn must not contain any of \\ : * ? \" < > | (ASCII or full-width)"
	// +optional
	NameEn string `json:"nameEn,omitempty"`

	// parentRef names the parent WeComDepartment in the same namespace. The department waits
	// until the parent has a WeCom id. Set at most one of parentRef and parentID.
	// +optional
	ParentRef *LocalObjectReference `json:"parentRef,omitempty"`

	// parentID is the WeCom id of the parent department, for a parent not managed here.
	// When neither parentRef nor parentID is set the parent is the root department, id 1.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	ParentID *int64 `json:"parentID,omitempty"`

	// order sorts siblings: a larger value comes first. 0 to 4294967295.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +optional
	Order *int64 `json:"order,omitempty"`

	// id fixes the WeCom department id (2 to 2147483647; 1 is the root). When unset WeCom
	// chooses it. Immutable.
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	ID *int64 `json:"id,omitempty"`
}

// WeComDepartmentStatus reports the department's WeCom id.
type WeComDepartmentStatus struct {
	ManagedStatus `json:",inline"`
	// id is the WeCom department id.
	// +optional
	ID int64 `json:"id,omitempty"`
	// parentID is the WeCom id of the parent the department was last placed under.
	// +optional
	ParentID int64 `json:"parentID,omitempty"`
}

// WeComDepartment is a department in the corp's org chart.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomdept;wcd,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="ID",type=integer,JSONPath=`.status.id`
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WeComDepartment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WeComDepartmentSpec   `json:"spec"`
	Status WeComDepartmentStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WeComDepartmentList contains a list of WeComDepartment.
type WeComDepartmentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WeComDepartment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WeComDepartment{}, &WeComDepartmentList{})
}
