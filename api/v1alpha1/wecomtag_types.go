package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bounds of one WeComTag. WeCom takes at most 1000 users and 100 departments per
// tag/addtagusers call and holds up to 30,000 members per tag; an object manages at most one
// call's worth, so that making it match its spec never needs more than one add.
const (
	MaxTagUsers       = 1000
	MaxTagDepartments = 100
)

// TagUser is one member of a tag: a WeComUser of the namespace, or a userid.
// +kubebuilder:validation:XValidation:rule="has(self.ref) != has(self.userID)",message="set exactly one of ref and userID"
type TagUser struct {
	// ref names a WeComUser in the same namespace. The tag waits until the member exists in
	// WeCom (the WeComUser has status.userID).
	// +optional
	Ref *LocalObjectReference `json:"ref,omitempty"`
	// userID is the WeCom userid of a member not managed here: 1 to 64 characters. WeCom
	// compares userids without case.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +optional
	UserID string `json:"userID,omitempty"`
}

// TagDepartment is one department of a tag; its members, and the members of its
// sub-departments, receive what is sent to the tag.
// +kubebuilder:validation:XValidation:rule="has(self.ref) != has(self.id)",message="set exactly one of ref and id"
type TagDepartment struct {
	// ref names a WeComDepartment in the same namespace. The tag waits until it has an id.
	// +optional
	Ref *LocalObjectReference `json:"ref,omitempty"`
	// id is the WeCom id of a department not managed here (1 is the root).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	ID *int64 `json:"id,omitempty"`
}

// WeComTagSpec is a member tag (通讯录 → 标签): a name, and members as users and departments.
// The tag's members in WeCom are exactly the spec's: members added by hand are removed.
// +kubebuilder:validation:XValidation:rule="has(self.id) == has(oldSelf.id) && (!has(self.id) || self.id == oldSelf.id)",message="id is immutable"
type WeComTagSpec struct {
	DeletableSpec `json:",inline"`

	// name of the tag: 1 to 32 characters, unique among all the corp's tags (WeCom answers
	// 40071 for a name another tag has). A tag of this name that WeCom already has is adopted.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	Name string `json:"name"`

	// id fixes the WeCom tag id (1 to 2147483647). When unset WeCom chooses it (the largest
	// id in use plus one). Immutable.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	ID *int64 `json:"id,omitempty"`

	// users are the members of the tag, each a WeComUser (ref) or a userid, at most 1000 (one
	// tag/addtagusers call's worth; WeCom allows 30,000 members per tag). They must be in the
	// visible range of the connection's app; WeCom leaves out the others (status.invalidUsers).
	// +kubebuilder:validation:MaxItems=1000
	// +listType=atomic
	// +optional
	Users []TagUser `json:"users,omitempty"`

	// departments of the tag, each a WeComDepartment (ref) or a department id, at most 100
	// (one call's worth). Invalid ones are left out (status.invalidDepartments).
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	// +optional
	Departments []TagDepartment `json:"departments,omitempty"`
}

// WeComTagStatus reports the tag's WeCom id and what WeCom left out of it.
type WeComTagStatus struct {
	ManagedStatus `json:",inline"`
	// tagID is the WeCom tag id, what totag and Notification tagRefs send to.
	// +optional
	TagID int64 `json:"tagID,omitempty"`
	// invalidUsers are the userids WeCom refused to add (no such member, or outside the
	// visible range of the connection's app), at most 1000. Ready is False while any is listed.
	// +kubebuilder:validation:MaxItems=1000
	// +listType=atomic
	// +optional
	InvalidUsers []string `json:"invalidUsers,omitempty"`
	// invalidDepartments are the department ids WeCom refused to add, at most 100.
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	// +optional
	InvalidDepartments []int64 `json:"invalidDepartments,omitempty"`
	// memberCount is the number of users and departments the tag holds in WeCom, as the last
	// reconcile found or left it (users outside the app's visible range are not counted).
	// +optional
	MemberCount int32 `json:"memberCount,omitempty"`
}

// WeComTag is a member tag of the corp's contacts, to group members and departments as
// recipients (message/send totag, Notification and AlertReceiver tagRefs). A tag belongs to
// the app whose secret created it: only a connection with that secret can change or delete it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomtag;wct,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="ID",type=integer,JSONPath=`.status.tagID`
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.memberCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WeComTag struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WeComTagSpec   `json:"spec"`
	Status WeComTagStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WeComTagList contains a list of WeComTag.
type WeComTagList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WeComTag `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WeComTag{}, &WeComTagList{})
}
