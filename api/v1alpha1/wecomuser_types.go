package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Gender of a member as WeCom records it.
// +kubebuilder:validation:Enum=Male;Female;Unspecified
type Gender string

const (
	GenderMale        Gender = "Male"
	GenderFemale      Gender = "Female"
	GenderUnspecified Gender = "Unspecified"
)

// UserDepartment is one department a member belongs to.
// +kubebuilder:validation:XValidation:rule="has(self.ref) != has(self.id)",message="set exactly one of ref and id"
type UserDepartment struct {
	// ref names a WeComDepartment in the same namespace. The user waits until it has an id.
	// +optional
	Ref *LocalObjectReference `json:"ref,omitempty"`
	// id is the WeCom id of a department not managed here (1 is the root).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	ID *int64 `json:"id,omitempty"`
	// order sorts the member within this department: a larger value comes first. 0 to 4294967295.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +optional
	Order int64 `json:"order,omitempty"`
	// leader marks the member as a leader (上级) of this department.
	// +optional
	Leader bool `json:"leader,omitempty"`
}

// WeComUserSpec is a member of the corp (通讯录 → 成员).
// +kubebuilder:validation:XValidation:rule="has(self.mobile) || has(self.email)",message="set mobile or email (WeCom requires at least one)"
// +kubebuilder:validation:XValidation:rule="!has(self.offboarding) || !has(self.offboarding.handoverTo.userID) || self.offboarding.handoverTo.userID.lowerAscii() != self.userID.lowerAscii()",message="offboarding.handoverTo cannot be the member itself"
type WeComUserSpec struct {
	DeletableSpec `json:",inline"`

	// userID is the member's account in WeCom: 1 to 64 characters of letters, digits and
	// _ - @ . that start with a letter or digit. WeCom compares it without case. Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9_@.-]*$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="userID is immutable"
	UserID string `json:"userID"`

	// name is the member's display name, 1 to 64 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Name string `json:"name"`

	// alias is another name, 1 to 64 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Alias string `json:"alias,omitempty"`

	// mobile number, unique in the corp: up to 32 digits, spaces, + and -. Mainland numbers
	// may omit +86; others need the country code. Set mobile or email or both. WeCom ignores a
	// change of mobile once the member has activated WeCom.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^\+?[0-9][0-9 -]*$`
	// +optional
	Mobile string `json:"mobile,omitempty"`

	// email address, unique in the corp, 6 to 64 characters.
	// +kubebuilder:validation:MinLength=6
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[^@\s]+@[^@\s]+\.[^@\s]+$`
	// +optional
	Email string `json:"email,omitempty"`

	// bizMail is the corporate mailbox address, 6 to 64 characters.
	// +kubebuilder:validation:MinLength=6
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[^@\s]+@[^@\s]+\.[^@\s]+$`
	// +optional
	BizMail string `json:"bizMail,omitempty"`

	// telephone is the desk phone: up to 32 digits, +, - and commas.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9+,-]+$`
	// +optional
	Telephone string `json:"telephone,omitempty"`

	// position is the job title, up to 128 characters.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Position string `json:"position,omitempty"`

	// gender is Male, Female or Unspecified (the default).
	// +kubebuilder:default=Unspecified
	// +optional
	Gender Gender `json:"gender,omitempty"`

	// enabled is false to disable the account without deleting it. Defaults to true.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// departments the member belongs to: 1 to 100, each a ref or an id, with the member's
	// order and leader flag in that department. The first is the main department.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	Departments []UserDepartment `json:"departments"`

	// directLeaders are the userIDs of the member's direct leaders (直属上级), at most 5.
	// WeCom's 2025 documentation allows only 1; a second is refused by WeCom with errcode 60257.
	// +kubebuilder:validation:MaxItems=5
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	DirectLeaders []string `json:"directLeaders,omitempty"`

	// toInvite sends the WeCom invitation to the new member on create. Defaults to true.
	// It only matters at creation.
	// +kubebuilder:default=true
	// +optional
	ToInvite *bool `json:"toInvite,omitempty"`

	// offboarding hands the member's customers and customer group chats to a successor when
	// this object is deleted (with deletionPolicy Delete), before the member is deleted. See
	// docs/offboarding.md.
	// +optional
	Offboarding *UserOffboarding `json:"offboarding,omitempty"`
}

// WeComUserStatus reports the member as WeCom holds it.
type WeComUserStatus struct {
	ManagedStatus `json:",inline"`
	// userID is the member's WeCom account once it exists.
	// +optional
	UserID string `json:"userID,omitempty"`
	// departmentIDs are the WeCom ids of the departments last written.
	// +optional
	DepartmentIDs []int64 `json:"departmentIDs,omitempty"`
	// offboarding reports the handover of the member's customers while the object is deleted.
	// +optional
	Offboarding *OffboardingStatus `json:"offboarding,omitempty"`
}

// WeComUser is a member of the corp.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomuser;wcu,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="UserID",type=string,JSONPath=`.status.userID`
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WeComUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WeComUserSpec   `json:"spec"`
	Status WeComUserStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WeComUserList contains a list of WeComUser.
type WeComUserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WeComUser `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WeComUser{}, &WeComUserList{})
}
