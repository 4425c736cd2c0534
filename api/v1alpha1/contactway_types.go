package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ContactWayType says whether one member or several answer the way.
// +kubebuilder:validation:Enum=Single;Multi
type ContactWayType string

const (
	ContactWaySingle ContactWayType = "Single"
	ContactWayMulti  ContactWayType = "Multi"
)

// ContactWayScene says where the way is shown.
// +kubebuilder:validation:Enum=MiniProgram;QRCode
type ContactWayScene string

const (
	ContactWayMiniProgram ContactWayScene = "MiniProgram"
	ContactWayQRCode      ContactWayScene = "QRCode"
)

// ContactWayConclusions is the message sent when a temporary session ends. Set at least one
// part; text can go with one of image, link or miniprogram (priority image > link > miniprogram).
// +kubebuilder:validation:XValidation:rule="has(self.text) || has(self.image) || has(self.link) || has(self.miniprogram)",message="conclusions needs at least one of text, image, link, miniprogram"
type ContactWayConclusions struct {
	// text is the closing text.
	// +optional
	Text *ConclusionText `json:"text,omitempty"`
	// image is a closing image.
	// +optional
	Image *ConclusionImage `json:"image,omitempty"`
	// link is a closing link card.
	// +optional
	Link *ConclusionLink `json:"link,omitempty"`
	// miniprogram is a closing mini-program card.
	// +optional
	Miniprogram *ConclusionMiniprogram `json:"miniprogram,omitempty"`
}

// ConclusionText is a closing text.
type ConclusionText struct {
	// content of the text, up to 4000 bytes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="bytes(self).size() <= 4000",message="content must be at most 4000 bytes"
	Content string `json:"content"`
}

// ConclusionImage is a closing image.
type ConclusionImage struct {
	// mediaID of an image uploaded to WeCom (temporary media lasts 3 days).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	MediaID string `json:"mediaID"`
}

// ConclusionLink is a closing link card.
type ConclusionLink struct {
	// title of the card, up to 128 bytes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="bytes(self).size() <= 128",message="title must be at most 128 bytes"
	Title string `json:"title"`
	// picURL is the card's picture URL.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	PicURL string `json:"picURL,omitempty"`
	// desc is the card's description, up to 512 bytes.
	// +kubebuilder:validation:XValidation:rule="bytes(self).size() <= 512",message="desc must be at most 512 bytes"
	// +optional
	Desc string `json:"desc,omitempty"`
	// url the card opens.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url"`
}

// ConclusionMiniprogram is a closing mini-program card.
type ConclusionMiniprogram struct {
	// title of the card, up to 64 bytes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="bytes(self).size() <= 64",message="title must be at most 64 bytes"
	Title string `json:"title"`
	// picMediaID is the cover image's media id.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	PicMediaID string `json:"picMediaID"`
	// appID of the mini-program.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	AppID string `json:"appID"`
	// page path inside the mini-program.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Page string `json:"page"`
}

// ContactWayTemporary makes the way a temporary session (临时会话), only for Single ways and
// only for medical-industry corps.
type ContactWayTemporary struct {
	// expiresIn is how long the temporary QR code stays valid, in seconds: 1 to 1209600
	// (14 days). WeCom's default is 604800 (7 days).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1209600
	// +optional
	ExpiresIn *int32 `json:"expiresIn,omitempty"`
	// chatExpiresIn is how long the temporary session lasts after the customer is added, in
	// seconds: 1 to 1209600 (14 days). WeCom's default is 86400 (24 hours).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1209600
	// +optional
	ChatExpiresIn *int32 `json:"chatExpiresIn,omitempty"`
	// unionID restricts the session to this WeChat unionid. Needs a bound WeChat developer
	// account (errcode 41057 otherwise).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	UnionID string `json:"unionID,omitempty"`
	// conclusions is the message sent when the session ends.
	// +optional
	Conclusions *ContactWayConclusions `json:"conclusions,omitempty"`
}

// ContactWaySpec is a customer "Contact Me" (联系我) way: a QR code or mini-program button.
// +kubebuilder:validation:XValidation:rule="self.type == oldSelf.type",message="type is immutable"
// +kubebuilder:validation:XValidation:rule="self.scene == oldSelf.scene",message="scene is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.temporary) == has(oldSelf.temporary)",message="whether the way is temporary is immutable"
// +kubebuilder:validation:XValidation:rule="self.type != 'Single' || (has(self.users) && size(self.users) == 1 && (!has(self.parties) || size(self.parties) == 0))",message="a Single way needs exactly one user and no parties"
// +kubebuilder:validation:XValidation:rule="self.type != 'Multi' || (has(self.users) && size(self.users) > 0) || (has(self.parties) && size(self.parties) > 0)",message="a Multi way needs at least one user or party"
// +kubebuilder:validation:XValidation:rule="!has(self.temporary) || self.type == 'Single'",message="temporary is only allowed with type Single"
// +kubebuilder:validation:XValidation:rule="!has(self.style) || self.scene == 'MiniProgram'",message="style only applies to scene MiniProgram"
// +kubebuilder:validation:XValidation:rule="!has(self.style) || self.type == 'Single' || self.style <= 2",message="a Multi way's style is 1 or 2"
type ContactWaySpec struct {
	DeletableSpec `json:",inline"`

	// type is Single (one member) or Multi (several members and departments). Immutable.
	Type ContactWayType `json:"type"`

	// scene is QRCode (a QR code; its image URL goes to status.qrCode) or MiniProgram (a
	// button in a mini-program). Immutable.
	Scene ContactWayScene `json:"scene"`

	// style of the mini-program button: 1 to 3 for Single, 1 or 2 for Multi.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3
	// +optional
	Style *int32 `json:"style,omitempty"`

	// remark is a note on the way, up to 30 characters.
	// +kubebuilder:validation:MaxLength=30
	// +optional
	Remark string `json:"remark,omitempty"`

	// skipVerify adds customers without asking the member first. Defaults to true.
	// +kubebuilder:default=true
	// +optional
	SkipVerify *bool `json:"skipVerify,omitempty"`

	// state is returned with each customer added through this way, up to 30 characters. The
	// operator also uses it to recognise its own ways; leave it unset to let the operator
	// choose one.
	// +kubebuilder:validation:MaxLength=30
	// +optional
	State string `json:"state,omitempty"`

	// users are the userIDs who answer: exactly one for Single; for Multi, users and the
	// members of parties together at most 100.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	Users []string `json:"users,omitempty"`

	// parties are WeCom department ids whose members answer (Multi only).
	// +kubebuilder:validation:MaxItems=100
	// +listType=set
	// +optional
	Parties []int64 `json:"parties,omitempty"`

	// exclusive lets one external customer add only one member through this way.
	// +optional
	Exclusive bool `json:"exclusive,omitempty"`

	// temporary makes this a temporary-session way. Set at creation only.
	// +optional
	Temporary *ContactWayTemporary `json:"temporary,omitempty"`

	// welcome is the message a customer who adds a member through this way receives at once
	// (发送新客户欢迎语). It needs callbacks on the connection (spec.callback): WeCom's
	// add_external_contact event carries a single-use code valid for 20 seconds, and WeCom
	// omits it when a welcome message is configured for the member in the admin console.
	// +optional
	Welcome *ContactWayWelcome `json:"welcome,omitempty"`
}

// ContactWayWelcome is a welcome message: a text, optionally followed by a link or a
// mini-program.
// +kubebuilder:validation:XValidation:rule="has(self.text) || has(self.link) || has(self.miniprogram)",message="a welcome message needs a text, a link or a mini-program"
// +kubebuilder:validation:XValidation:rule="!(has(self.link) && has(self.miniprogram))",message="a welcome message carries a link or a mini-program, not both"
type ContactWayWelcome struct {
	// text of the message, up to 4000 bytes.
	// +optional
	Text *ConclusionText `json:"text,omitempty"`
	// link is a link card after the text.
	// +optional
	Link *ConclusionLink `json:"link,omitempty"`
	// miniprogram is a mini-program card after the text.
	// +optional
	Miniprogram *ConclusionMiniprogram `json:"miniprogram,omitempty"`
}

// Welcome outcomes in ContactWayCustomer.welcome.
const (
	// WelcomeSent: WeCom accepted the welcome message.
	WelcomeSent = "Sent"
	// WelcomePending: the customer was recorded and the message is being sent.
	WelcomePending = "Pending"
	// WelcomeFailed: WeCom refused the message; the message says why (the code expires 20 s
	// after the customer added the member and can be used once).
	WelcomeFailed = "Failed"
	// WelcomeNone: the way has no spec.welcome, or WeCom sent no welcome code (a welcome
	// message is configured for the member in the admin console).
	WelcomeNone = "None"
)

// ContactWayCustomer is a customer who added a member through the way.
type ContactWayCustomer struct {
	// externalUserID is WeCom's id of the customer (external_userid).
	ExternalUserID string `json:"externalUserID"`
	// userID is the member the customer added.
	UserID string `json:"userID"`
	// addedTime is when WeCom says the customer added the member.
	AddedTime metav1.Time `json:"addedTime"`
	// welcome is what became of the welcome message: Sent, Pending, Failed or None.
	Welcome string `json:"welcome"`
	// message says why the welcome message failed, with the WeCom errcode.
	// +optional
	Message string `json:"message,omitempty"`
}

// MaxRecentCustomers bounds ContactWayStatus.RecentCustomers.
const MaxRecentCustomers = 20

// ContactWayStatus reports the way's WeCom ids.
type ContactWayStatus struct {
	ManagedStatus `json:",inline"`
	// configID is the WeCom id of the way; it is needed to edit or delete it.
	// +optional
	ConfigID string `json:"configID,omitempty"`
	// qrCode is the URL of the QR code image, for scene QRCode.
	// +optional
	QRCode string `json:"qrCode,omitempty"`
	// state is the state string written to WeCom (spec.state, or one the operator chose).
	// +optional
	State string `json:"state,omitempty"`
	// pendingCreateTime was set by operator versions before v0.2 just before add_contact_way was
	// called. Deprecated: the annotation wecom.dev/create-pending replaces it; a value left by
	// an older version is still honoured (the operator looks for the way that create made) and
	// then cleared.
	// +optional
	PendingCreateTime *metav1.Time `json:"pendingCreateTime,omitempty"`
	// customersAdded counts the customers who added a member through this way, as WeCom's
	// add_external_contact callbacks reported them (needs spec.callback on the connection).
	// +optional
	CustomersAdded int64 `json:"customersAdded,omitempty"`
	// lastCustomerAddedTime is when the last of them did.
	// +optional
	LastCustomerAddedTime *metav1.Time `json:"lastCustomerAddedTime,omitempty"`
	// recentCustomers are the last 20 of them, newest last, with what became of their welcome
	// message. A callback that WeCom repeats finds its customer here and is not counted again.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +optional
	RecentCustomers []ContactWayCustomer `json:"recentCustomers,omitempty"`
}

// ContactWay is a customer "Contact Me" way (联系我): a QR code or mini-program button that
// lets external customers add one or more members.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cway,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="ConfigID",type=string,JSONPath=`.status.configID`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Customers",type=integer,JSONPath=`.status.customersAdded`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ContactWay struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ContactWaySpec   `json:"spec"`
	Status ContactWayStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ContactWayList contains a list of ContactWay.
type ContactWayList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ContactWay `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ContactWay{}, &ContactWayList{})
}
