package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AlertFormat is the WeCom message type the alerts are rendered as.
// +kubebuilder:validation:Enum=Markdown;Text;Card
type AlertFormat string

const (
	// AlertFormatMarkdown renders WeCom markdown: colours, bold, links. Not shown by the
	// WeChat plugin (微工作台) for app messages.
	AlertFormatMarkdown AlertFormat = "Markdown"
	// AlertFormatText renders plain text; the only format in which a group robot can @all.
	AlertFormatText AlertFormat = "Text"
	// AlertFormatCard sends a button_interaction template card whose buttons (spec.card)
	// acknowledge or silence the alerts from WeCom. App messages (to) only.
	AlertFormatCard AlertFormat = "Card"
)

// AlertCardAction is what a card button does.
// +kubebuilder:validation:Enum=Acknowledge;Silence
type AlertCardAction string

const (
	// AlertCardAcknowledge records who acknowledged the alerts, on the card and in Kubernetes.
	AlertCardAcknowledge AlertCardAction = "Acknowledge"
	// AlertCardSilence creates a silence in Alertmanager (spec.alertmanager) for the
	// labels the card's alerts share, for the button's duration.
	AlertCardSilence AlertCardAction = "Silence"
)

// AlertCardButton is one button of an alert card.
// +kubebuilder:validation:XValidation:rule="self.action != 'Silence' || has(self.duration)",message="a Silence button needs a duration"
// +kubebuilder:validation:XValidation:rule="self.action != 'Acknowledge' || !has(self.duration)",message="an Acknowledge button has no duration"
// +kubebuilder:validation:XValidation:rule="!has(self.duration) || (duration(self.duration) >= duration('1m') && duration(self.duration) <= duration('720h'))",message="duration must be between 1m and 720h (30 days)"
type AlertCardButton struct {
	// text is the button's label, 1 to 20 characters. WeCom suggests at most 10 (Chinese)
	// characters; longer labels may be cut by the WeCom client.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	Text string `json:"text"`
	// action is Acknowledge or Silence.
	Action AlertCardAction `json:"action"`
	// duration of the silence a Silence button creates (1m to 720h), for example 4h.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
	// style is WeCom's button style, 1 to 4 (colours chosen by the WeCom client). Defaults
	// to 1 for Acknowledge and 2 for Silence.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4
	// +optional
	Style int32 `json:"style,omitempty"`
}

// AlertCard configures the template card of format Card.
// +kubebuilder:validation:XValidation:rule="self.buttons.all(b, self.buttons.exists_one(c, c.action == b.action && (has(c.duration) ? (has(b.duration) && duration(c.duration) == duration(b.duration)) : !has(b.duration))))",message="two buttons do the same (same action and duration)"
type AlertCard struct {
	// buttons are the card's buttons, 1 to 6, left to right. Defaults to Acknowledge,
	// Silence 1h and Silence 4h when spec.alertmanager is set, else Acknowledge alone.
	// Each button's callback key is derived from its action and duration ("ack",
	// "silence-4h0m0s"), so no two buttons may do the same.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=6
	// +listType=atomic
	Buttons []AlertCardButton `json:"buttons"`
}

// AlertmanagerAPI is the Alertmanager whose API v2 the Silence buttons of cards call.
type AlertmanagerAPI struct {
	// url is Alertmanager's base URL as the manager reaches it, http or https, for example
	// http://alertmanager-operated.monitoring.svc:9093 (silences are created at
	// <url>/api/v2/silences). Redirects are not followed. At most 2048 characters.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^/?#\s]+(/[^?#\s]*)?$`
	URL string `json:"url"`
	// authSecretRef names the credentials sent to Alertmanager: a bearer token, or a user
	// name and password for basic auth, from a Secret in the receiver's namespace labelled
	// wecom.dev/use: "true". The Secret must also carry the annotation
	// wecom.dev/alertmanager-url with this url: whoever can write the Secret decides where
	// its credentials may be sent, so a receiver cannot send them anywhere else. Empty sends
	// no credentials.
	// +optional
	AuthSecretRef *AlertReceiverAuth `json:"authSecretRef,omitempty"`
}

// AlertFold says whether a receiver's messages may be folded into digests in a storm.
// +kubebuilder:validation:Enum=Auto;Never
type AlertFold string

const (
	// AlertFoldAuto folds the waiting messages into digests when more wait for the same
	// recipients than WeCom's quota lets through in the current window.
	AlertFoldAuto AlertFold = "Auto"
	// AlertFoldNever sends every message on its own, held for a quota slot when needed.
	AlertFoldNever AlertFold = "Never"
)

// AlertSplit says how many Notifications one Alertmanager notification becomes.
// +kubebuilder:validation:Enum=Group;Alert
type AlertSplit string

const (
	// AlertSplitGroup makes one Notification per Alertmanager notification (one alert group).
	AlertSplitGroup AlertSplit = "Group"
	// AlertSplitAlert makes one Notification per alert of the group.
	AlertSplitAlert AlertSplit = "Alert"
)

// AlertMention @-mentions people in a group robot message when a firing alert matches.
// +kubebuilder:validation:XValidation:rule="(has(self.users) && size(self.users) > 0) || (has(self.mobiles) && size(self.mobiles) > 0)",message="a mention needs users or mobiles"
type AlertMention struct {
	// severities are values of the alerts' severity label this mention applies to, for
	// example [critical]. Empty applies to every firing message. Resolved messages never
	// mention anyone.
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	// +optional
	Severities []string `json:"severities,omitempty"`
	// users are userIDs to @-mention, or "@all" for everyone in the group; at most 100.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	Users []string `json:"users,omitempty"`
	// mobiles are mobile numbers to @-mention, or "@all"; at most 100.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=32
	// +listType=set
	// +optional
	Mobiles []string `json:"mobiles,omitempty"`
}

// AlertReceiverAuth names credentials in one Secret of the receiver's namespace: a bearer
// token or a user name and password (basic auth). In authSecretRef they are what
// Alertmanager's webhook http_config must present (http_config.authorization or
// http_config.basic_auth); in alertmanager.authSecretRef, what the operator presents to
// Alertmanager's API.
// +kubebuilder:validation:XValidation:rule="has(self.bearerTokenKey) != (has(self.usernameKey) && has(self.passwordKey))",message="set bearerTokenKey, or usernameKey and passwordKey"
// +kubebuilder:validation:XValidation:rule="has(self.usernameKey) == has(self.passwordKey)",message="usernameKey and passwordKey go together"
type AlertReceiverAuth struct {
	// name of the Secret in the same namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// bearerTokenKey is the Secret key holding the token Alertmanager sends as
	// "Authorization: Bearer <token>". Use at least 32 random characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	BearerTokenKey string `json:"bearerTokenKey,omitempty"`
	// usernameKey is the Secret key holding the basic-auth user name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	UsernameKey string `json:"usernameKey,omitempty"`
	// passwordKey is the Secret key holding the basic-auth password.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	PasswordKey string `json:"passwordKey,omitempty"`
}

// AlertReceiverSpec says which alerts Alertmanager may post here, who gets them in WeCom and
// how they look. Each alert notification becomes one or more Notifications in this namespace.
// +kubebuilder:validation:XValidation:rule="[has(self.to), has(self.chatRef) || has(self.chatID), has(self.robot)].filter(x, x).size() == 1",message="set exactly one channel: to (app message), chatRef or chatID (app chat), or robot"
// +kubebuilder:validation:XValidation:rule="!(has(self.chatRef) && has(self.chatID))",message="set chatRef or chatID, not both"
// +kubebuilder:validation:XValidation:rule="!(has(self.to) || has(self.chatID)) || has(self.connectionRef)",message="app messages and chatID need connectionRef"
// +kubebuilder:validation:XValidation:rule="!has(self.mentions) || size(self.mentions) == 0 || has(self.robot)",message="mentions only work with a group robot"
// +kubebuilder:validation:XValidation:rule="!has(self.format) || self.format != 'Card' || has(self.to)",message="format Card needs the app channel (to): app chats and group robots cannot send interactive cards; use Markdown or Text there"
// +kubebuilder:validation:XValidation:rule="!has(self.format) || self.format != 'Card' || !has(self.template)",message="template does not apply to format Card, whose card layout is fixed"
// +kubebuilder:validation:XValidation:rule="!has(self.card) || (has(self.format) && self.format == 'Card')",message="card applies to format Card only"
// +kubebuilder:validation:XValidation:rule="!has(self.card) || !self.card.buttons.exists(b, b.action == 'Silence') || has(self.alertmanager)",message="Silence buttons need spec.alertmanager (the Alertmanager API that creates the silences)"
type AlertReceiverSpec struct {
	// connectionRef names the WeComConnection (same namespace) for app messages and app
	// chats. A chatRef may leave it out: the chat's connection is used.
	// +optional
	ConnectionRef *ConnectionReference `json:"connectionRef,omitempty"`

	// to sends the alerts as app messages (message/send) to these recipients. WeCom drops
	// app messages beyond 30 per minute per member; the operator holds them instead.
	// +optional
	To *Recipients `json:"to,omitempty"`

	// chatRef sends the alerts to the app chat of this WeComAppChat (same namespace).
	// +optional
	ChatRef *LocalObjectReference `json:"chatRef,omitempty"`

	// chatID sends the alerts to an app chat by its WeCom chat id.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9a-zA-Z]+$`
	// +optional
	ChatID string `json:"chatID,omitempty"`

	// robot sends the alerts through a group robot webhook (at most 20 messages per minute
	// per robot; the operator holds the rest).
	// +optional
	Robot *RobotTarget `json:"robot,omitempty"`

	// format is Markdown (the default: colours, bold, links), Text, or Card: a
	// button_interaction template card whose buttons acknowledge or silence the alerts
	// (app messages only; clicks reach the operator through the connection's WeCom
	// callbacks, spec.callback, which WeCom requires for such cards).
	// +kubebuilder:default=Markdown
	// +optional
	Format AlertFormat `json:"format,omitempty"`

	// card sets the buttons of format Card.
	// +optional
	Card *AlertCard `json:"card,omitempty"`

	// alertmanager is the Alertmanager API the Silence buttons of cards create silences
	// in. Without it cards have no Silence buttons.
	// +optional
	Alertmanager *AlertmanagerAPI `json:"alertmanager,omitempty"`

	// fold is Auto (the default) or Never. Auto: in a storm, when more of the receiver's
	// messages wait for the same recipients than WeCom's quota lets through in the current
	// window (30 a minute and 1000 an hour per member for app messages, 20 a minute per
	// robot, 200 a minute per chat), the waiting ones are sent together as digest messages
	// with one line per message (severity, title, summary, link), so every alert is seen
	// at once instead of over minutes. Cards fold into markdown digests without buttons;
	// each entry links to the alert. Never: every message is sent on its own, paced.
	// +kubebuilder:default=Auto
	// +optional
	Fold AlertFold `json:"fold,omitempty"`

	// template is a Go text/template that renders one message from Alertmanager's webhook
	// data (.Status, .Alerts, .GroupLabels, .CommonLabels, .CommonAnnotations, .ExternalURL,
	// .Receiver, .GroupKey; each alert has .Status, .Labels, .Annotations, .StartsAt, .EndsAt,
	// .GeneratorURL, .Fingerprint; $.SilenceURL $alert links to a new silence). Functions:
	// localTime, duration, color, without, first, join, toUpper, toLower, title, trimSpace,
	// truncate. Empty uses the built-in template of the format, shown in docs/alerting.md.
	// Label and annotation values are escaped for markdown (no markup, mentions or line
	// breaks). Each message is rendered within a budget (100ms, 100000 steps, 64 KiB per
	// value, 4 MiB in all; no recursion, at most 64 variables and 32 levels of nesting); a
	// template over it is refused (Ready=False, TemplateInvalid). A template that is refused
	// or fails to execute falls back to the built-in one, so an alert is never lost to a
	// template bug. At most 16384 characters.
	// +kubebuilder:validation:MaxLength=16384
	// +optional
	Template string `json:"template,omitempty"`

	// sendResolved sends a message when alerts resolve. Defaults to true.
	// +kubebuilder:default=true
	// +optional
	SendResolved *bool `json:"sendResolved,omitempty"`

	// split is Group (the default: one message per Alertmanager notification, listing its
	// alerts) or Alert (one message per alert).
	// +kubebuilder:default=Group
	// +optional
	Split AlertSplit `json:"split,omitempty"`

	// maxNotifications is how many messages (Notifications) one Alertmanager notification
	// becomes at most, 1 to 100. Defaults to 100. It matters with split Alert: the alerts
	// beyond the first maxNotifications-1 are sent together in the last message, which says
	// how many they are. A markdown robot message that must @all or mention mobiles has a
	// short text companion, which is not counted.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxNotifications *int32 `json:"maxNotifications,omitempty"`

	// maxAlerts is how many alerts one message lists before "…and N more", 1 to 100.
	// Defaults to 10. Fewer are listed when they would not fit WeCom's size limit.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxAlerts *int32 `json:"maxAlerts,omitempty"`

	// mentions @-mention people in group robot messages when firing alerts match, at most
	// 10 rules. With format Text the robot's mentioned_list is used; with Markdown, userIDs
	// become <@userid> in the message, and "@all" or mobiles are sent as a short text message
	// right after it (WeCom markdown cannot @all).
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	// +optional
	Mentions []AlertMention `json:"mentions,omitempty"`

	// authSecretRef names the credentials Alertmanager must present. Requests without them
	// get 401 and create nothing.
	AuthSecretRef AlertReceiverAuth `json:"authSecretRef"`

	// timezone is the IANA time zone start and end times are shown in, for example
	// Asia/Shanghai. Defaults to UTC.
	// +kubebuilder:default=UTC
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Timezone string `json:"timezone,omitempty"`

	// safe marks app and chat messages confidential (no sharing, watermark).
	// +optional
	Safe bool `json:"safe,omitempty"`

	// retryWindow is how long after a message a POST with the same alerts in the same state
	// counts as Alertmanager retrying (nothing new is sent) rather than a repeat_interval
	// reminder (sent again). It is also the duplicate-check window of the app messages made.
	// Defaults to 10m; keep it above Alertmanager's group_interval and below its
	// repeat_interval. At most 4h.
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s') && duration(self) <= duration('4h')",message="retryWindow must be more than 0s and at most 4h"
	// +optional
	RetryWindow *metav1.Duration `json:"retryWindow,omitempty"`

	// deliveryDeadline is the deliveryDeadline of the Notifications made (default 1h): how
	// long WeCom errors are retried before a message is Failed.
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="deliveryDeadline must be positive"
	// +optional
	DeliveryDeadline *metav1.Duration `json:"deliveryDeadline,omitempty"`

	// ttlAfterFinished is the ttlAfterFinished of the Notifications made (default 24h).
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="ttlAfterFinished must not be negative"
	// +optional
	TTLAfterFinished *metav1.Duration `json:"ttlAfterFinished,omitempty"`
}

// AlertReceiverStatus reports whether the receiver can take alerts.
type AlertReceiverStatus struct {
	ResourceStatus `json:",inline"`
	// webhookPath is the path on the manager's Alertmanager port (--receiver-bind-address,
	// default :9094) to put in Alertmanager's webhook_configs url:
	// /alertmanager/<namespace>/<name>.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`
}

// Condition and event reasons of AlertReceivers, beyond the shared ones.
const (
	// ReasonTemplateInvalid: spec.template does not parse, or goes over its budget.
	ReasonTemplateInvalid = "TemplateInvalid"
	// ReasonTimezoneInvalid: spec.timezone is not a known IANA time zone.
	ReasonTimezoneInvalid = "TimezoneInvalid"
	// ReasonTemplateFailed: the template failed on an alert and the built-in one was used.
	ReasonTemplateFailed = "TemplateFailed"
	// ReasonCredentialsNotForURL: spec.alertmanager.authSecretRef's Secret does not carry
	// the annotation wecom.dev/alertmanager-url with spec.alertmanager.url.
	ReasonCredentialsNotForURL = "CredentialsNotForURL"
)

// AnnotationAlertmanagerURL on a Secret names the one Alertmanager URL its credentials may
// be sent to (spec.alertmanager.authSecretRef).
const AnnotationAlertmanagerURL = "wecom.dev/alertmanager-url"

// Labels and annotations on the Notifications an AlertReceiver makes.
const (
	// LabelAlertReceiver names the AlertReceiver that made a Notification.
	LabelAlertReceiver = "wecom.dev/alert-receiver"
	// LabelAlertStatus is firing or resolved.
	LabelAlertStatus = "wecom.dev/alert-status"
	// LabelAlertKey identifies the alerts of one group in one state for one receiver:
	// Notifications with the same key are the same message, sent again only as a reminder
	// after retryWindow.
	LabelAlertKey = "wecom.dev/alert-key"
	// AnnotationAlertGroupKey is the SHA-256 (hex) of Alertmanager's group key, which may be
	// larger than an annotation.
	AnnotationAlertGroupKey = "wecom.dev/alert-group-key"
	// AnnotationAlertRepeat numbers the reminders of one message: 0 for the first.
	AnnotationAlertRepeat = "wecom.dev/alert-repeat"
	// LabelAlertCard identifies the alerts one card shows (one group, or one alert with
	// split Alert) for one receiver: the resolved Notification with the same value updates
	// the firing cards in place.
	LabelAlertCard = "wecom.dev/alert-card"
)

// AlertReceiver turns Prometheus Alertmanager webhook notifications into WeCom messages
// (Notifications). Point an Alertmanager webhook_configs url at
// http://<manager-service>:9094/alertmanager/<namespace>/<name>.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wcar;alertrcv,categories=wecom
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Format",type=string,JSONPath=`.spec.format`
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.webhookPath`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AlertReceiver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AlertReceiverSpec   `json:"spec"`
	Status AlertReceiverStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// AlertReceiverList contains a list of AlertReceiver.
type AlertReceiverList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AlertReceiver `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AlertReceiver{}, &AlertReceiverList{})
}
