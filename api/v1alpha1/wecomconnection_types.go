package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WeComConnectionSpec says which WeCom corp and app the operator talks to.
type WeComConnectionSpec struct {
	// corpID is the WeCom corp (enterprise) ID, shown in the admin console under 我的企业; it
	// usually starts with "ww". 1 to 64 letters and digits.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]+$`
	CorpID string `json:"corpID"`

	// agentID is the id of a self-built app (应用 AgentId). Needed for app messages, app chats
	// and schedules; leave it out for the contacts-sync (通讯录同步) secret, which has no agent.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	AgentID *int64 `json:"agentID,omitempty"`

	// secretRef selects the key of a Secret in the same namespace that holds this app's secret
	// (corpsecret). The Secret must carry the label wecom.dev/use: "true"; the operator reads
	// no other Secret. Rotating the Secret takes effect without a restart.
	SecretRef SecretKeySelector `json:"secretRef"`

	// apiURL is the base URL of the WeCom server API, without /cgi-bin. Override it for the
	// simulator or an egress proxy. It must be one of the URLs the operator's administrator
	// allows (manager flag --allowed-api-urls, Helm value allowedAPIURLs; by default only
	// https://qyapi.weixin.qq.com); the operator sends nothing to any other. Defaults to
	// https://qyapi.weixin.qq.com.
	// +kubebuilder:default="https://qyapi.weixin.qq.com"
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[^/?#\\\\s]+(/[^?#\\\\s]*)?$')",message="apiURL must be an http(s) URL without query or fragment, for example https://qyapi.weixin.qq.com"
	// +optional
	APIURL string `json:"apiURL,omitempty"`

	// callback turns on WeCom callbacks (接收事件服务器) for this connection's app, or for the
	// contacts-sync (通讯录同步) or customer-contact (客户联系) secret it names. WeCom then pushes
	// every change made outside the API to the manager at
	// /wecom/callback/<namespace>/<name> (see status.callback.path and docs/callbacks.md), and
	// the objects concerned are repaired within seconds instead of at the next drift check.
	// +optional
	Callback *CallbackSpec `json:"callback,omitempty"`
}

// CallbackSpec names the Secret with the Token and EncodingAESKey entered in WeCom's admin
// console next to the callback URL.
type CallbackSpec struct {
	// secretRef names a Secret in the same namespace, labelled wecom.dev/use: "true", with
	// the callback Token under tokenKey and the EncodingAESKey under encodingAESKeyKey.
	SecretRef LocalObjectReference `json:"secretRef"`
	// tokenKey is the Secret key holding the Token (letters and digits, at most 32).
	// +kubebuilder:default=token
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	TokenKey string `json:"tokenKey,omitempty"`
	// encodingAESKeyKey is the Secret key holding the EncodingAESKey (43 letters and digits).
	// +kubebuilder:default=encodingAESKey
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	EncodingAESKeyKey string `json:"encodingAESKeyKey,omitempty"`
}

// CallbackStatus says whether WeCom callbacks reach the operator for a connection.
type CallbackStatus struct {
	// path is where the manager serves this connection's callbacks; the URL to enter in
	// WeCom's admin console is the manager's public receiver address followed by it.
	Path string `json:"path"`
	// configured is true when the callback Secret holds a valid Token and EncodingAESKey.
	Configured bool `json:"configured"`
	// message says what is missing when configured is false.
	// +optional
	Message string `json:"message,omitempty"`
	// lastReceivedTime is when the last valid callback (URL verification or event) arrived,
	// updated at most once a minute. Until one has arrived, the operator does not rely on
	// callbacks: objects keep the ordinary drift interval.
	// +optional
	LastReceivedTime *metav1.Time `json:"lastReceivedTime,omitempty"`
}

// CallbacksInUse says whether the connection's callbacks are configured and WeCom has
// reached the operator with them at least once since they were.
func (s *WeComConnectionStatus) CallbacksInUse() bool {
	return s.Callback != nil && s.Callback.Configured && s.Callback.LastReceivedTime != nil
}

// SecretUseLabel is the label, with the value SecretUseValue, that a Secret must carry before
// the operator reads it: connection secrets, robot webhook secrets and AlertReceiver auth
// secrets alike. Whoever may create a wecom.dev object in a namespace could otherwise make
// the operator read, and send to WeCom, any Secret of that namespace.
const (
	SecretUseLabel = "wecom.dev/use"
	SecretUseValue = "true"
)

// Condition reasons for what the operator refuses to read or call.
const (
	// ReasonAPIURLNotAllowed: the connection's apiURL, or a robot's webhook URL, is not one
	// of the manager's --allowed-api-urls. Nothing is sent to it.
	ReasonAPIURLNotAllowed = "APIURLNotAllowed"
	// ReasonSecretNotOptedIn: the Secret exists but lacks the label wecom.dev/use: "true".
	// Its data is not read.
	ReasonSecretNotOptedIn = "SecretNotOptedIn"
)

// WeComConnectionStatus reports whether the credentials work.
type WeComConnectionStatus struct {
	ResourceStatus `json:",inline"`
	// lastCheckedTime is when a token was last fetched or refused with these credentials.
	// +optional
	LastCheckedTime *metav1.Time `json:"lastCheckedTime,omitempty"`
	// secretVersion is the resourceVersion of the Secret last used, so a rotation is visible.
	// +optional
	SecretVersion string `json:"secretVersion,omitempty"`
	// calendarID is the cal_id of the calendar the operator created for the connection's app,
	// where Schedules without spec.calendarID are put (so that a schedule whose create reply
	// was lost can be found with oa/schedule/get_by_calendar). Created when the first such
	// Schedule needs it; the annotation wecom.dev/calendar-id binds an existing calendar.
	// +optional
	CalendarID string `json:"calendarID,omitempty"`
	// callback reports the WeCom callbacks of the connection when spec.callback is set.
	// +optional
	Callback *CallbackStatus `json:"callback,omitempty"`
}

// WeComConnection holds the corp, app and Secret the other wecom.dev objects use to reach WeCom.
// It is Ready when an access token can be fetched with its Secret.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomconn;wcc,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Corp",type=string,JSONPath=`.spec.corpID`
// +kubebuilder:printcolumn:name="Agent",type=integer,JSONPath=`.spec.agentID`
// +kubebuilder:printcolumn:name="Callbacks",type=date,JSONPath=`.status.callback.lastReceivedTime`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WeComConnection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WeComConnectionSpec   `json:"spec"`
	Status WeComConnectionStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WeComConnectionList contains a list of WeComConnection.
type WeComConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WeComConnection `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WeComConnection{}, &WeComConnectionList{})
}
