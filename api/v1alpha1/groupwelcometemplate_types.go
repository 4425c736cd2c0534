package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WelcomeImage is an image: an uploaded image's mediaID, or a picURL from WeCom's image
// upload.
// +kubebuilder:validation:XValidation:rule="has(self.mediaID) != has(self.picURL)",message="set exactly one of mediaID and picURL"
type WelcomeImage struct {
	// mediaID of an image uploaded to WeCom (temporary media lasts 3 days).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +optional
	MediaID string `json:"mediaID,omitempty"`
	// picURL is the URL of an image uploaded with WeCom's image upload API (other URLs are
	// refused by WeCom).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	PicURL string `json:"picURL,omitempty"`
}

// WelcomeLink is a link card.
type WelcomeLink struct {
	// title of the card, up to 128 bytes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="bytes(self).size() <= 128",message="title must be at most 128 bytes"
	Title string `json:"title"`
	// picURL is the card's cover picture URL.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	PicURL string `json:"picURL,omitempty"`
	// desc is the card's description, up to 512 bytes.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="bytes(self).size() <= 512",message="desc must be at most 512 bytes"
	// +optional
	Desc string `json:"desc,omitempty"`
	// url the card opens (http or https).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`
}

// WelcomeMiniProgram is a mini-program card; the mini program must be linked to the corp.
type WelcomeMiniProgram struct {
	// title of the card, up to 64 bytes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="bytes(self).size() <= 64",message="title must be at most 64 bytes"
	Title string `json:"title"`
	// picMediaID is the cover image's media id (520×416 suggested).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	PicMediaID string `json:"picMediaID"`
	// appID of the mini program.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	AppID string `json:"appID"`
	// page path inside the mini program.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Page string `json:"page"`
}

// WelcomeMedia is a file or video uploaded to WeCom.
type WelcomeMedia struct {
	// mediaID of the uploaded file or video.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	MediaID string `json:"mediaID"`
}

// GroupWelcomeTemplateSpec is the welcome message of customer group chats (入群欢迎语素材): a
// text, one attachment, or both (WeCom then sends two messages).
// +kubebuilder:validation:XValidation:rule="has(self.text) || has(self.image) || has(self.link) || has(self.miniProgram) || has(self.file) || has(self.video)",message="set text, an attachment, or both"
// +kubebuilder:validation:XValidation:rule="(has(self.image) ? 1 : 0) + (has(self.link) ? 1 : 0) + (has(self.miniProgram) ? 1 : 0) + (has(self.file) ? 1 : 0) + (has(self.video) ? 1 : 0) <= 1",message="set at most one attachment: image, link, miniProgram, file or video"
// +kubebuilder:validation:XValidation:rule="has(self.notify) == has(oldSelf.notify) && (!has(self.notify) || self.notify == oldSelf.notify)",message="notify is immutable: WeCom reads it only when the template is added"
type GroupWelcomeTemplateSpec struct {
	DeletableSpec `json:",inline"`

	// text of the message, up to 3000 bytes. %NICKNAME% is replaced by the new member's
	// name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=3000
	// +kubebuilder:validation:XValidation:rule="bytes(self).size() <= 3000",message="text must be at most 3000 bytes"
	// +optional
	Text string `json:"text,omitempty"`
	// image sent after the text.
	// +optional
	Image *WelcomeImage `json:"image,omitempty"`
	// link card sent after the text.
	// +optional
	Link *WelcomeLink `json:"link,omitempty"`
	// miniProgram card sent after the text.
	// +optional
	MiniProgram *WelcomeMiniProgram `json:"miniProgram,omitempty"`
	// file sent after the text.
	// +optional
	File *WelcomeMedia `json:"file,omitempty"`
	// video sent after the text.
	// +optional
	Video *WelcomeMedia `json:"video,omitempty"`
	// notify tells the corp's members, when the template is added, to use it in their
	// customer groups (WeCom's default: true). Immutable: WeCom reads it only on add.
	// +optional
	Notify *bool `json:"notify,omitempty"`
}

// GroupWelcomeTemplateStatus reports the template's WeCom id.
type GroupWelcomeTemplateStatus struct {
	ManagedStatus `json:",inline"`
	// templateID is the WeCom id of the template, which group chats are configured with.
	// +optional
	TemplateID string `json:"templateID,omitempty"`
}

// GroupWelcomeTemplate is a welcome message for customer group chats, kept in the corp's
// template library (at most 100). The app of the connection must be allowed to use customer
// contact, and only it may change or delete the template. WeCom cannot list templates, so a
// template whose add reply was lost cannot be found: the object then stops and says so
// (CreateIncomplete) rather than add a second.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=gwt,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.templateID`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GroupWelcomeTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GroupWelcomeTemplateSpec   `json:"spec"`
	Status GroupWelcomeTemplateStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// GroupWelcomeTemplateList contains a list of GroupWelcomeTemplate.
type GroupWelcomeTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GroupWelcomeTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GroupWelcomeTemplate{}, &GroupWelcomeTemplateList{})
}

func (o *GroupWelcomeTemplate) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *GroupWelcomeTemplate) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *GroupWelcomeTemplate) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
func (o *GroupWelcomeTemplate) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }
func (o *GroupWelcomeTemplate) GetManagedStatus() *ManagedStatus   { return &o.Status.ManagedStatus }
func (o *GroupWelcomeTemplate) GetExternalID() string              { return o.Status.TemplateID }
func (o *GroupWelcomeTemplate) SetExternalID(id string) error {
	o.Status.TemplateID = id
	return nil
}
