package v1alpha1

import (
	"fmt"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MenuButtonType is what a menu button does when a member taps it.
// +kubebuilder:validation:Enum=click;view;scancode_push;scancode_waitmsg;pic_sysphoto;pic_photo_or_album;pic_weixin;location_select;view_miniprogram
type MenuButtonType string

// Menu button types (自定义菜单 按钮类型). click, scancode_*, pic_* and location_select push an
// event with the button's key to the app's callback; view opens url; view_miniprogram opens
// pagePath of the mini program appID.
const (
	MenuClick           MenuButtonType = "click"
	MenuView            MenuButtonType = "view"
	MenuScanCodePush    MenuButtonType = "scancode_push"
	MenuScanCodeWaitMsg MenuButtonType = "scancode_waitmsg"
	MenuPicSysPhoto     MenuButtonType = "pic_sysphoto"
	MenuPicPhotoOrAlbum MenuButtonType = "pic_photo_or_album"
	MenuPicWeixin       MenuButtonType = "pic_weixin"
	MenuLocationSelect  MenuButtonType = "location_select"
	MenuViewMiniProgram MenuButtonType = "view_miniprogram"
)

// MenuSubButton is a button of a button's sub-menu (二级菜单).
// +kubebuilder:validation:XValidation:rule="size(bytes(self.name)) <= 40",message="a sub-button's name is at most 40 bytes (13 汉字)"
// +kubebuilder:validation:XValidation:rule="has(self.key) == (self.type in ['click', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select'])",message="key is required for click, scancode_*, pic_* and location_select buttons, and only for them"
// +kubebuilder:validation:XValidation:rule="has(self.url) == (self.type == 'view')",message="url is required for view buttons, and only for them"
// +kubebuilder:validation:XValidation:rule="(has(self.appID) && has(self.pagePath)) == (self.type == 'view_miniprogram') && (has(self.appID) == has(self.pagePath))",message="appID and pagePath are required for view_miniprogram buttons, and only for them"
type MenuSubButton struct {
	// name shown on the button: at most 40 bytes in UTF-8 (13 汉字 or 40 ASCII characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	Name string `json:"name"`
	// type of the button.
	Type MenuButtonType `json:"type"`
	// key is sent with the event of click, scancode_*, pic_* and location_select buttons: at
	// most 128 bytes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 128",message="key is at most 128 bytes"
	// +optional
	Key string `json:"key,omitempty"`
	// url a view button opens: http:// or https://, at most 1024 bytes.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://.+') && size(bytes(self)) <= 1024",message="url starts with http:// or https:// and is at most 1024 bytes"
	// +optional
	URL string `json:"url,omitempty"`
	// pagePath is the page of the mini program a view_miniprogram button opens.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	PagePath string `json:"pagePath,omitempty"`
	// appID of the mini program (bound to the corp) a view_miniprogram button opens.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +optional
	AppID string `json:"appID,omitempty"`
}

// MenuButton is a top-level button of an app's menu (一级菜单): either a sub-menu of 1 to 5
// subButtons (and nothing else), or a button with a type and what the type needs.
// +kubebuilder:validation:XValidation:rule="size(bytes(self.name)) <= 16",message="a top-level button's name is at most 16 bytes (5 汉字)"
// +kubebuilder:validation:XValidation:rule="has(self.subButtons) ? !has(self.type) && !has(self.key) && !has(self.url) && !has(self.appID) && !has(self.pagePath) : has(self.type)",message="a button has either subButtons (and no type, key, url, appID or pagePath) or a type"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || has(self.key) == (self.type in ['click', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select'])",message="key is required for click, scancode_*, pic_* and location_select buttons, and only for them"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || has(self.url) == (self.type == 'view')",message="url is required for view buttons, and only for them"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || ((has(self.appID) && has(self.pagePath)) == (self.type == 'view_miniprogram') && (has(self.appID) == has(self.pagePath)))",message="appID and pagePath are required for view_miniprogram buttons, and only for them"
type MenuButton struct {
	// name shown on the button: at most 16 bytes in UTF-8 (5 汉字 or 16 ASCII characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=16
	Name string `json:"name"`
	// type of the button; unset for a button with subButtons.
	// +optional
	Type MenuButtonType `json:"type,omitempty"`
	// key is sent with the event of click, scancode_*, pic_* and location_select buttons: at
	// most 128 bytes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 128",message="key is at most 128 bytes"
	// +optional
	Key string `json:"key,omitempty"`
	// url a view button opens: http:// or https://, at most 1024 bytes.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://.+') && size(bytes(self)) <= 1024",message="url starts with http:// or https:// and is at most 1024 bytes"
	// +optional
	URL string `json:"url,omitempty"`
	// pagePath is the page of the mini program a view_miniprogram button opens.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	PagePath string `json:"pagePath,omitempty"`
	// appID of the mini program (bound to the corp) a view_miniprogram button opens.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +optional
	AppID string `json:"appID,omitempty"`
	// subButtons make the button open a sub-menu of 1 to 5 buttons.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=5
	// +listType=atomic
	// +optional
	SubButtons []MenuSubButton `json:"subButtons,omitempty"`
}

// AppMenu is the custom menu (自定义菜单) at the bottom of the app's session.
type AppMenu struct {
	// buttons of the menu, at most 3, in order. Empty means the app has no menu: a menu WeCom
	// holds is removed (menu/delete).
	// +kubebuilder:validation:MaxItems=3
	// +listType=atomic
	// +optional
	Buttons []MenuButton `json:"buttons,omitempty"`
	// removeOnDelete removes the menu from WeCom when this object is deleted (and the
	// managementPolicies include Delete). By default the menu stays, like the app.
	// +optional
	RemoveOnDelete bool `json:"removeOnDelete,omitempty"`
}

// WeComAppSpec is the desired state of the self-built app (应用) named by the connection's
// agentID. Every field is optional: a field left out is not managed, and WeCom keeps its
// value (agent/set cannot clear a setting).
type WeComAppSpec struct {
	ManagedSpec `json:",inline"`

	// name of the app: 1 to 32 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +optional
	Name *string `json:"name,omitempty"`

	// description of the app (应用介绍): 4 to 120 characters.
	// +kubebuilder:validation:MinLength=4
	// +kubebuilder:validation:MaxLength=120
	// +optional
	Description *string `json:"description,omitempty"`

	// homeURL is the page the app opens from the workbench (主页): http:// or https://, at most
	// 1024 characters.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^https?://.+`
	// +optional
	HomeURL *string `json:"homeURL,omitempty"`

	// redirectDomain is the app's trusted domain (可信域名) for OAuth and JS-SDK, a host name
	// that must pass WeCom's ownership check (85005 otherwise).
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`
	// +optional
	RedirectDomain *string `json:"redirectDomain,omitempty"`

	// reportLocation makes members' clients report their location when they enter the app's
	// session (report_location_flag).
	// +optional
	ReportLocation *bool `json:"reportLocation,omitempty"`

	// reportEnter pushes an enter_agent event to the app's callback when a member enters the
	// app (isreportenter).
	// +optional
	ReportEnter *bool `json:"reportEnter,omitempty"`

	// logoMediaID sets the app's logo from an uploaded image (a media_id, valid 3 days). WeCom
	// returns only the logo's URL, so the logo is set when this field changes and is not
	// compared with WeCom afterwards.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +optional
	LogoMediaID *string `json:"logoMediaID,omitempty"`

	// menu is the app's custom menu; unset leaves the menu as it is.
	// +optional
	Menu *AppMenu `json:"menu,omitempty"`
}

// WeComAppStatus reports the app as WeCom holds it.
type WeComAppStatus struct {
	ManagedStatus `json:",inline"`
	// agentID of the app this object manages: the connection's agentID when it was adopted.
	// +optional
	AgentID int64 `json:"agentID,omitempty"`
	// name of the app in WeCom.
	// +optional
	Name string `json:"name,omitempty"`
	// squareLogoURL is the app's logo.
	// +optional
	SquareLogoURL string `json:"squareLogoURL,omitempty"`
	// logoMediaID is the spec.logoMediaID last set in WeCom.
	// +optional
	LogoMediaID string `json:"logoMediaID,omitempty"`
	// menuButtons is the number of top-level buttons of the app's menu in WeCom, as the last
	// reconcile found or left it (0: no menu).
	// +optional
	MenuButtons int32 `json:"menuButtons,omitempty"`
}

// WeComApp manages the settings and custom menu of an existing self-built app: the app that
// its connection's agentID names. WeCom has no API to create or delete an app, so the object
// adopts the app, and deleting it releases the app (and removes the menu only with
// spec.menu.removeOnDelete).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomapp;wca,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="AgentID",type=integer,JSONPath=`.status.agentID`
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.status.name`
// +kubebuilder:printcolumn:name="Menu",type=integer,JSONPath=`.status.menuButtons`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WeComApp struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WeComAppSpec   `json:"spec"`
	Status WeComAppStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WeComAppList contains a list of WeComApp.
type WeComAppList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WeComApp `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WeComApp{}, &WeComAppList{})
}

func (o *WeComApp) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComApp) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComApp) GetManagedSpec() *ManagedSpec       { return &o.Spec.ManagedSpec }
func (o *WeComApp) GetManagedStatus() *ManagedStatus   { return &o.Status.ManagedStatus }

// GetDeletionPolicy implements Managed. The app itself is never deleted (WeCom has no API for
// it): Delete means "remove the menu", asked for with spec.menu.removeOnDelete by an object
// that adopted the app (status.agentID); otherwise the app and its menu are released.
func (o *WeComApp) GetDeletionPolicy() DeletionPolicy {
	if o.Spec.Menu != nil && o.Spec.Menu.RemoveOnDelete && o.Status.AgentID != 0 {
		return DeletionDelete
	}
	return DeletionOrphan
}

func (o *WeComApp) GetExternalID() string {
	if o.Status.AgentID == 0 {
		return ""
	}
	return strconv.FormatInt(o.Status.AgentID, 10)
}

func (o *WeComApp) SetExternalID(id string) error {
	if id == "" {
		o.Status.AgentID = 0
		return nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s %q is not a WeCom agentid (a positive integer)", AnnotationExternalName, id)
	}
	o.Status.AgentID = n
	return nil
}
