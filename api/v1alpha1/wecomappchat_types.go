package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WeComAppChatSpec is a group chat created by a self-built app (应用群聊).
// WeCom has no API to dissolve a chat: deleting the object only stops managing it.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.chatID) || (has(self.chatID) && self.chatID == oldSelf.chatID)",message="chatID is immutable once set"
// +kubebuilder:validation:XValidation:rule="!has(self.owner) || self.owner in self.members",message="owner must be one of members"
type WeComAppChatSpec struct {
	ManagedSpec `json:",inline"`

	// chatID fixes the chat id: up to 32 letters and digits, unique in the corp. When unset
	// the operator chooses one derived from the object's UID (see status.chatID), so that a
	// create repeated after a lost reply is refused by WeCom as a duplicate and adopted.
	// Immutable once set.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9a-zA-Z]+$`
	// +optional
	ChatID string `json:"chatID,omitempty"`

	// name of the chat, up to 50 characters.
	// +kubebuilder:validation:MaxLength=50
	// +optional
	Name string `json:"name,omitempty"`

	// owner is the userID of the chat owner, one of members. When unset WeCom picks a member.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Owner string `json:"owner,omitempty"`

	// members are the userIDs in the chat, 2 to 2000.
	// +kubebuilder:validation:MinItems=2
	// +kubebuilder:validation:MaxItems=2000
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	Members []string `json:"members"`
}

// WeComAppChatStatus reports the chat's id.
type WeComAppChatStatus struct {
	ManagedStatus `json:",inline"`
	// chatID is the WeCom chat id: spec.chatID, or one the operator derived from the object's
	// UID (chats made by operator versions before v0.2 keep the id WeCom generated).
	// +optional
	ChatID string `json:"chatID,omitempty"`
}

// WeComAppChat is a group chat that a self-built app creates and keeps in line with the spec.
// The connection must name a self-built app (agentID set) whose visible range is the root
// department. WeCom cannot dissolve chats through its API, so deletion only releases the object.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=appchat;wcac,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="ChatID",type=string,JSONPath=`.status.chatID`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WeComAppChat struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WeComAppChatSpec   `json:"spec"`
	Status WeComAppChatStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WeComAppChatList contains a list of WeComAppChat.
type WeComAppChatList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WeComAppChat `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WeComAppChat{}, &WeComAppChatList{})
}
