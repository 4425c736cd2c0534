package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxCustomerTags bounds the tags of one CustomerTagGroup. WeCom documents no per-group cap
// (a corp holds up to 10,000 customer tags); this one keeps an object, and the one
// add_corp_tag call that creates it, a sensible size.
const MaxCustomerTags = 1000

// CustomerTag is one tag of a group: what a member can put on a customer.
type CustomerTag struct {
	// name of the tag: 1 to 30 characters, unique in the group. It is the tag's key: a tag
	// renamed in the spec is a new tag in WeCom (the old one, and its marks on customers,
	// is deleted).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=30
	Name string `json:"name"`
	// order sorts the tag in WeCom's clients: 0 to 4294967295, a larger value first.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +optional
	Order int64 `json:"order,omitempty"`
}

// CustomerTagGroupSpec is a customer corp tag group (客户联系 → 企业客户标签) and its tags. The
// group in WeCom holds exactly the spec's tags: tags added by hand are deleted.
type CustomerTagGroupSpec struct {
	DeletableSpec `json:",inline"`

	// name of the group: 1 to 30 characters. A group of this name that WeCom already has
	// is adopted (WeCom itself adds tags to the group of a name rather than make a second).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=30
	Name string `json:"name"`

	// order sorts the group in WeCom's clients: 0 to 4294967295, a larger value first.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +optional
	Order int64 `json:"order,omitempty"`

	// tags of the group, 1 to 1000, names unique (WeCom deletes a group with no tags).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1000
	// +listType=map
	// +listMapKey=name
	Tags []CustomerTag `json:"tags"`
}

// CustomerTagStatus is the WeCom id of one tag.
type CustomerTagStatus struct {
	// name of the tag, as in spec.tags.
	// +kubebuilder:validation:MaxLength=30
	Name string `json:"name"`
	// id is the tag id WeCom assigned ("et…"), what mark_tag and other objects use.
	// +kubebuilder:validation:MaxLength=128
	ID string `json:"id"`
}

// CustomerTagGroupStatus reports the group's and its tags' WeCom ids.
type CustomerTagGroupStatus struct {
	ManagedStatus `json:",inline"`
	// groupID is the WeCom id of the group ("et…").
	// +optional
	GroupID string `json:"groupID,omitempty"`
	// tags are the ids of the spec's tags that WeCom holds, by name.
	// +kubebuilder:validation:MaxItems=1000
	// +listType=map
	// +listMapKey=name
	// +optional
	Tags []CustomerTagStatus `json:"tags,omitempty"`
}

// CustomerTagGroup is a group of customer tags (企业客户标签) that members put on their
// external contacts. The app of the connection must be allowed to use customer contact
// (客户联系 → 可调用接口的应用), and changes only what it created.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ctg,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.groupID`
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CustomerTagGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CustomerTagGroupSpec   `json:"spec"`
	Status CustomerTagGroupStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CustomerTagGroupList contains a list of CustomerTagGroup.
type CustomerTagGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CustomerTagGroup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CustomerTagGroup{}, &CustomerTagGroupList{})
}

func (o *CustomerTagGroup) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *CustomerTagGroup) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *CustomerTagGroup) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *CustomerTagGroup) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }
func (o *CustomerTagGroup) GetManagedStatus() *ManagedStatus   { return &o.Status.ManagedStatus }
func (o *CustomerTagGroup) GetExternalID() string              { return o.Status.GroupID }
func (o *CustomerTagGroup) SetExternalID(id string) error {
	o.Status.GroupID = id
	return nil
}
