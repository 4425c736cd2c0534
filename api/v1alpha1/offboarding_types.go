package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Offboarding: a WeComUser that is deleted first hands its customers and customer group
// chats to a successor (issue 12).

// Reasons of a WeComUser being deleted with spec.offboarding.
const (
	// ReasonHandingOver: customer handovers are waiting for WeCom (up to 24 hours).
	ReasonHandingOver = "HandingOver"
	// ReasonHandoverRefused: WeCom refused to hand over a customer or group chat; the member is
	// not deleted.
	ReasonHandoverRefused = "HandoverRefused"
)

// MaxOffboardingItems bounds the customers and group chats listed in the status; the counts
// cover them all.
const MaxOffboardingItems = 1000

// UserReference is a member: a WeComUser of the namespace, or a userid.
// +kubebuilder:validation:XValidation:rule="has(self.ref) != has(self.userID)",message="set exactly one of ref and userID"
type UserReference struct {
	// ref names a WeComUser in the same namespace; the handover waits until it exists in WeCom.
	// +optional
	Ref *LocalObjectReference `json:"ref,omitempty"`
	// userID is the WeCom userid of a member not managed here: 1 to 64 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +optional
	UserID string `json:"userID,omitempty"`
}

// UserOffboarding says who takes over the member's customers when the WeComUser is deleted.
type UserOffboarding struct {
	// handoverTo is the successor: the member who takes over the customers (客户) and the
	// customer group chats (客户群) of this member. The successor must be active in WeCom,
	// have customer contact enabled, and be in the visible range of the connection's app.
	HandoverTo UserReference `json:"handoverTo"`

	// connectionRef names the WeComConnection whose app calls WeCom's customer succession APIs
	// (客户联系 → 在职继承). Its app must be allowed to call customer contact APIs (客户联系 →
	// 可调用接口的应用), which the contacts-sync secret is not. Defaults to spec.connectionRef.
	// +optional
	ConnectionRef *ConnectionReference `json:"connectionRef,omitempty"`

	// successMessage is what WeCom sends each customer once handed over, up to 200
	// characters. Empty uses WeCom's default text.
	// +kubebuilder:validation:MaxLength=200
	// +optional
	SuccessMessage string `json:"successMessage,omitempty"`
}

// HandoverState is where one customer's or group chat's handover stands.
// +kubebuilder:validation:Enum=Transferred;Waiting;Failed
type HandoverState string

const (
	// HandoverTransferred: the successor has it.
	HandoverTransferred HandoverState = "Transferred"
	// HandoverWaiting: WeCom completes it 24 hours after it started, unless the customer refuses.
	HandoverWaiting HandoverState = "Waiting"
	// HandoverFailed: WeCom refused it (see reason); it stays with the leaving member.
	HandoverFailed HandoverState = "Failed"
)

// CustomerHandover is one customer's handover.
type CustomerHandover struct {
	// externalUserID is the customer's WeCom external_userid.
	ExternalUserID string `json:"externalUserID"`
	// state is Transferred, Waiting or Failed.
	State HandoverState `json:"state"`
	// reason says why it failed: WeCom's errcode or transfer status, and its meaning.
	// +optional
	Reason string `json:"reason,omitempty"`
	// takeoverTime is when the handover completed, or for a waiting one when WeCom completes it.
	// +optional
	TakeoverTime *metav1.Time `json:"takeoverTime,omitempty"`
}

// GroupChatHandover is one customer group chat's handover.
type GroupChatHandover struct {
	// chatID is the chat's WeCom chat_id.
	ChatID string `json:"chatID"`
	// state is Transferred or Failed (a chat's owner changes at once).
	State HandoverState `json:"state"`
	// reason says why it failed: WeCom's errcode and its meaning.
	// +optional
	Reason string `json:"reason,omitempty"`
}

// OffboardingStatus reports the handover of a member's customers while its WeComUser is
// deleted. The member is deleted only once every customer and chat is Transferred.
type OffboardingStatus struct {
	// successor is the userid taking over.
	Successor string `json:"successor,omitempty"`
	// transferred, waiting and failed count the customers in each state.
	Transferred int32 `json:"transferred"`
	Waiting     int32 `json:"waiting"`
	Failed      int32 `json:"failed"`
	// customers lists the customers' handovers, failed ones first, at most 1000.
	// +kubebuilder:validation:MaxItems=1000
	// +listType=atomic
	// +optional
	Customers []CustomerHandover `json:"customers,omitempty"`
	// groupChats lists the customer group chats' handovers, failed ones first, at most 1000.
	// +kubebuilder:validation:MaxItems=1000
	// +listType=atomic
	// +optional
	GroupChats []GroupChatHandover `json:"groupChats,omitempty"`
}
