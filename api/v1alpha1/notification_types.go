package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NotificationPhase is where a Notification is in its one-way life.
// +kubebuilder:validation:Enum=Pending;Sent;Failed
type NotificationPhase string

const (
	// NotificationPending: not delivered yet (waiting, held by quota, or retrying).
	NotificationPending NotificationPhase = "Pending"
	// NotificationSent: WeCom accepted the message. Never sent again.
	NotificationSent NotificationPhase = "Sent"
	// NotificationFailed: WeCom refused the message, or the delivery deadline passed.
	NotificationFailed NotificationPhase = "Failed"
)

// Recipients of an app message. At least one of users, parties, tags, tagRefs, or all.
// +kubebuilder:validation:XValidation:rule="(has(self.all) && self.all) || (has(self.users) && size(self.users) > 0) || (has(self.parties) && size(self.parties) > 0) || (has(self.tags) && size(self.tags) > 0) || (has(self.tagRefs) && size(self.tagRefs) > 0)",message="to needs at least one of users, parties, tags, tagRefs, or all: true"
// +kubebuilder:validation:XValidation:rule="(has(self.tags) ? size(self.tags) : 0) + (has(self.tagRefs) ? size(self.tagRefs) : 0) <= 100",message="tags and tagRefs together name at most 100 tags"
type Recipients struct {
	// users are userIDs, at most 1000.
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	Users []string `json:"users,omitempty"`
	// parties are WeCom department ids, at most 100.
	// +kubebuilder:validation:MaxItems=100
	// +listType=set
	// +optional
	Parties []int64 `json:"parties,omitempty"`
	// tags are WeCom tag ids, at most 100.
	// +kubebuilder:validation:MaxItems=100
	// +listType=set
	// +optional
	Tags []int64 `json:"tags,omitempty"`
	// tagRefs name WeComTag objects in the same namespace, sent to as their WeCom tag ids
	// (status.tagID), looked up when the message is sent: a tag without an id yet is waited
	// for (DependencyNotReady) until the deliveryDeadline. Together with tags, at most 100.
	// +kubebuilder:validation:MaxItems=100
	// +listType=map
	// +listMapKey=name
	// +optional
	TagRefs []LocalObjectReference `json:"tagRefs,omitempty"`
	// all sends to everyone in the app's visible range (@all); users, parties, tags and
	// tagRefs are then ignored.
	// +optional
	All bool `json:"all,omitempty"`
}

// RobotTarget is a group robot (群机器人) webhook.
type RobotTarget struct {
	// webhookSecretRef selects the Secret key holding the robot's webhook key (the key=
	// part of its URL) or the whole webhook URL. The Secret must carry the label
	// wecom.dev/use: "true", and a whole URL must start with one of the manager's
	// --allowed-api-urls (by default https://qyapi.weixin.qq.com).
	WebhookSecretRef SecretKeySelector `json:"webhookSecretRef"`
}

// TextMessage is plain text. Longer than WeCom accepts (2048 bytes) is cut with a marker.
type TextMessage struct {
	// content of the message. Up to 2048 bytes are delivered; the rest is cut at a line
	// boundary with a visible marker and status.truncated is set.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	Content string `json:"content"`
	// mentionedUsers are userIDs to @-mention ("@all" for everyone), at most 100 of at most
	// 64 characters each. Group robot only.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	MentionedUsers []string `json:"mentionedUsers,omitempty"`
	// mentionedMobiles are mobile numbers to @-mention ("@all" for everyone), at most 100 of
	// at most 32 characters each. Group robot only.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=32
	// +listType=set
	// +optional
	MentionedMobiles []string `json:"mentionedMobiles,omitempty"`
}

// MarkdownMessage is WeCom markdown (headings, bold, links, quotes, <font color>).
type MarkdownMessage struct {
	// content in WeCom markdown. Up to 2048 bytes (app and chat) or 4096 bytes (group robot)
	// are delivered; the rest is cut at a line boundary with a visible marker.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	Content string `json:"content"`
}

// TextCardMessage is a text card (app message and app chat only).
type TextCardMessage struct {
	// title, up to 128 bytes (WeCom cuts longer titles).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Title string `json:"title"`
	// description, up to 512 bytes; may use <div class="gray|normal|highlight">.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Description string `json:"description"`
	// url the card opens, http or https, up to 2048 bytes.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`
	// buttonText, up to 4 characters. WeCom's default is 详情.
	// +kubebuilder:validation:MaxLength=4
	// +optional
	ButtonText string `json:"buttonText,omitempty"`
}

// NewsArticle is one article of a news message.
// +kubebuilder:validation:XValidation:rule="has(self.url) || (has(self.appID) && has(self.pagePath))",message="an article needs url, or appID and pagePath"
type NewsArticle struct {
	// title, up to 128 bytes.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Title string `json:"title"`
	// description, up to 512 bytes.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Description string `json:"description,omitempty"`
	// url the article opens, up to 2048 bytes.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	URL string `json:"url,omitempty"`
	// picURL is the article's picture (JPG or PNG).
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	PicURL string `json:"picURL,omitempty"`
	// appID of a mini-program to open instead of url (app messages only).
	// +kubebuilder:validation:MaxLength=64
	// +optional
	AppID string `json:"appID,omitempty"`
	// pagePath inside that mini-program.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	PagePath string `json:"pagePath,omitempty"`
}

// NewsMessage is 1 to 8 articles.
type NewsMessage struct {
	// articles, 1 to 8.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	Articles []NewsArticle `json:"articles"`
}

// CardTitle is a title with a description.
type CardTitle struct {
	// title text.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Title string `json:"title,omitempty"`
	// desc text.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Desc string `json:"desc,omitempty"`
}

// CardSource is the card's source line.
type CardSource struct {
	// iconURL of the source icon.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	IconURL string `json:"iconURL,omitempty"`
	// desc is the source text.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Desc string `json:"desc,omitempty"`
	// descColor: 0 grey, 1 black, 2 red, 3 green.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3
	// +optional
	DescColor int32 `json:"descColor,omitempty"`
}

// CardLink is a link target: type 0 none, 1 URL, 2 mini-program (3 member detail for
// horizontal content).
type CardLink struct {
	// type of the link.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3
	// +optional
	Type int32 `json:"type,omitempty"`
	// url for type 1.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	URL string `json:"url,omitempty"`
	// appID of the mini-program for type 2.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	AppID string `json:"appID,omitempty"`
	// pagePath in the mini-program for type 2.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	PagePath string `json:"pagePath,omitempty"`
}

// CardQuote is the card's quote area.
type CardQuote struct {
	CardLink `json:",inline"`
	// title of the quote.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Title string `json:"title,omitempty"`
	// quoteText is the quoted text.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	QuoteText string `json:"quoteText,omitempty"`
}

// CardHorizontalContent is one key/value row.
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 2",message="horizontal content type 2 (an attachment) needs a media id, which Notifications cannot upload; use type 0, 1 or 3"
type CardHorizontalContent struct {
	CardLink `json:",inline"`
	// keyName is the row's label.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	KeyName string `json:"keyName"`
	// value is the row's text.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Value string `json:"value,omitempty"`
	// userID for type 3 (member detail).
	// +kubebuilder:validation:MaxLength=64
	// +optional
	UserID string `json:"userID,omitempty"`
}

// CardJump is one link at the bottom of the card.
type CardJump struct {
	CardLink `json:",inline"`
	// title of the link.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Title string `json:"title"`
}

// CardImage is a news_notice card's image.
type CardImage struct {
	// url of the image.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url"`
	// aspectRatio is width/height, 1.3 to 2.25, as a decimal string such as "1.3", at most
	// 8 characters.
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:Pattern=`^[12](\.[0-9]+)?$`
	// +optional
	AspectRatio string `json:"aspectRatio,omitempty"`
}

// TemplateCardMessage is a template card of type text_notice or news_notice (the
// interactive types need a callback URL the operator does not serve).
// +kubebuilder:validation:XValidation:rule="self.cardType != 'text_notice' || (has(self.mainTitle) && has(self.mainTitle.title)) || has(self.subTitleText)",message="a text_notice card needs mainTitle.title or subTitleText"
// +kubebuilder:validation:XValidation:rule="self.cardType != 'news_notice' || has(self.cardImage)",message="a news_notice card needs cardImage"
type TemplateCardMessage struct {
	// cardType is text_notice or news_notice.
	// +kubebuilder:validation:Enum=text_notice;news_notice
	CardType string `json:"cardType"`
	// source is the card's source line.
	// +optional
	Source *CardSource `json:"source,omitempty"`
	// mainTitle is the card's title.
	// +optional
	MainTitle *CardTitle `json:"mainTitle,omitempty"`
	// emphasisContent is the big number or text of a text_notice card.
	// +optional
	EmphasisContent *CardTitle `json:"emphasisContent,omitempty"`
	// quoteArea is a quote block.
	// +optional
	QuoteArea *CardQuote `json:"quoteArea,omitempty"`
	// subTitleText is secondary text.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	SubTitleText string `json:"subTitleText,omitempty"`
	// horizontalContentList are key/value rows, at most 6.
	// +kubebuilder:validation:MaxItems=6
	// +listType=atomic
	// +optional
	HorizontalContentList []CardHorizontalContent `json:"horizontalContentList,omitempty"`
	// jumpList are links, at most 3.
	// +kubebuilder:validation:MaxItems=3
	// +listType=atomic
	// +optional
	JumpList []CardJump `json:"jumpList,omitempty"`
	// cardAction is what tapping the card does: type 1 URL or 2 mini-program. Required.
	CardAction CardLink `json:"cardAction"`
	// cardImage is the image of a news_notice card.
	// +optional
	CardImage *CardImage `json:"cardImage,omitempty"`
	// verticalContentList are title/desc rows of a news_notice card, at most 4.
	// +kubebuilder:validation:MaxItems=4
	// +listType=atomic
	// +optional
	VerticalContentList []CardTitle `json:"verticalContentList,omitempty"`
}

// Message is exactly one of text, markdown, textCard, news, templateCard.
// +kubebuilder:validation:XValidation:rule="[has(self.text), has(self.markdown), has(self.textCard), has(self.news), has(self.templateCard)].filter(x, x).size() == 1",message="message needs exactly one of text, markdown, textCard, news, templateCard"
type Message struct {
	// text is a plain text message.
	// +optional
	Text *TextMessage `json:"text,omitempty"`
	// markdown is a WeCom markdown message.
	// +optional
	Markdown *MarkdownMessage `json:"markdown,omitempty"`
	// textCard is a text card (not for group robots).
	// +optional
	TextCard *TextCardMessage `json:"textCard,omitempty"`
	// news is 1 to 8 articles.
	// +optional
	News *NewsMessage `json:"news,omitempty"`
	// templateCard is a text_notice or news_notice card (not for app chats).
	// +optional
	TemplateCard *TemplateCardMessage `json:"templateCard,omitempty"`
}

// NotificationSpec is one message to send once. The whole spec is immutable.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a Notification is immutable once created; create a new one"
// +kubebuilder:validation:XValidation:rule="[has(self.to), has(self.chatRef) || has(self.chatID), has(self.robot)].filter(x, x).size() == 1",message="set exactly one channel: to (app message), chatRef or chatID (app chat), or robot"
// +kubebuilder:validation:XValidation:rule="!(has(self.chatRef) && has(self.chatID))",message="set chatRef or chatID, not both"
// +kubebuilder:validation:XValidation:rule="!(has(self.to) || has(self.chatID)) || has(self.connectionRef)",message="app messages and chatID need connectionRef"
// +kubebuilder:validation:XValidation:rule="!has(self.robot) || !has(self.message.textCard)",message="group robots cannot send textCard; use markdown or templateCard"
// +kubebuilder:validation:XValidation:rule="!(has(self.chatRef) || has(self.chatID)) || !has(self.message.templateCard)",message="app chats cannot send templateCard"
// +kubebuilder:validation:XValidation:rule="!has(self.robot) || !has(self.message.news) || self.message.news.articles.all(a, has(a.url))",message="group robot news articles need url"
// +kubebuilder:validation:XValidation:rule="!has(self.safe) || !self.safe || !has(self.message.news)",message="news messages cannot be safe (WeCom answers 40074)"
// +kubebuilder:validation:XValidation:rule="has(self.robot) || !has(self.message.text) || ((!has(self.message.text.mentionedUsers) || size(self.message.text.mentionedUsers) == 0) && (!has(self.message.text.mentionedMobiles) || size(self.message.text.mentionedMobiles) == 0))",message="mentions only work with a group robot"
type NotificationSpec struct {
	// connectionRef names the WeComConnection (same namespace) for app messages and app chats.
	// A chatRef may leave it out: the chat's connection is used.
	// +optional
	ConnectionRef *ConnectionReference `json:"connectionRef,omitempty"`

	// to sends an app message (message/send) to these recipients.
	// +optional
	To *Recipients `json:"to,omitempty"`

	// chatRef sends to the app chat of this WeComAppChat (same namespace).
	// +optional
	ChatRef *LocalObjectReference `json:"chatRef,omitempty"`

	// chatID sends to an app chat by its WeCom chat id.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9a-zA-Z]+$`
	// +optional
	ChatID string `json:"chatID,omitempty"`

	// robot sends through a group robot webhook.
	// +optional
	Robot *RobotTarget `json:"robot,omitempty"`

	// message is what to send.
	Message Message `json:"message"`

	// safe marks an app or chat message confidential (no sharing, watermark).
	// +optional
	Safe bool `json:"safe,omitempty"`

	// duplicateCheckInterval is WeCom's server-side dedupe window for app messages, at most
	// 4h. Defaults to 30m (WeCom's 1800 s).
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s') && duration(self) <= duration('4h')",message="duplicateCheckInterval must be more than 0s and at most 4h"
	// +optional
	DuplicateCheckInterval *metav1.Duration `json:"duplicateCheckInterval,omitempty"`

	// deliveryDeadline is how long after creation transient WeCom errors are retried before
	// the Notification is Failed. Defaults to 1h.
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="deliveryDeadline must be positive"
	// +optional
	DeliveryDeadline *metav1.Duration `json:"deliveryDeadline,omitempty"`

	// ttlAfterFinished is how long a Sent or Failed Notification is kept before it is
	// deleted. Defaults to 24h.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="ttlAfterFinished must not be negative"
	// +optional
	TTLAfterFinished *metav1.Duration `json:"ttlAfterFinished,omitempty"`
}

// NotificationStatus reports delivery.
type NotificationStatus struct {
	ResourceStatus `json:",inline"`
	// phase is Pending, Sent or Failed. It never goes back.
	// +optional
	Phase NotificationPhase `json:"phase,omitempty"`
	// sentAt is when WeCom accepted the message.
	// +optional
	SentAt *metav1.Time `json:"sentAt,omitempty"`
	// msgID is WeCom's message id (app messages).
	// +optional
	MsgID string `json:"msgID,omitempty"`
	// invalidUsers are recipients WeCom reported as invalid (lower-cased userIDs).
	// +optional
	InvalidUsers []string `json:"invalidUsers,omitempty"`
	// invalidParties are department ids WeCom reported as invalid.
	// +optional
	InvalidParties []string `json:"invalidParties,omitempty"`
	// invalidTags are tag ids WeCom reported as invalid.
	// +optional
	InvalidTags []string `json:"invalidTags,omitempty"`
	// attempts counts calls made to WeCom to deliver this message.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// lastAttemptTime is when the last call was started. It is written before the call.
	// +optional
	LastAttemptTime *metav1.Time `json:"lastAttemptTime,omitempty"`
	// truncated is true when the content was cut to fit WeCom's size limit.
	// +optional
	Truncated bool `json:"truncated,omitempty"`
	// lastErrorCode is the WeCom errcode of the last failed attempt (0 when it failed without
	// one: a network error or an HTTP status other than 200).
	// +optional
	LastErrorCode int `json:"lastErrorCode,omitempty"`
	// unlicensedUsers are recipients WeCom reported as having no API licence; they did not get
	// the message.
	// +optional
	UnlicensedUsers []string `json:"unlicensedUsers,omitempty"`
	// completionTime is when the Notification became Sent or Failed; ttlAfterFinished counts
	// from here.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
}

// Condition reasons and event reasons of Notifications, beyond the shared ones.
const (
	// ReasonPending: not sent yet and nothing is in the way.
	ReasonPending = "Pending"
	// ReasonDeadlineExceeded: spec.deliveryDeadline passed before WeCom accepted the message.
	ReasonDeadlineExceeded = "DeadlineExceeded"
	// ReasonInvalidRecipients: WeCom delivered the message but named some recipients invalid.
	ReasonInvalidRecipients = "InvalidRecipients"
	// ReasonAllRecipientsInvalid: WeCom refused the message because every recipient is
	// invalid (errcode 81013).
	ReasonAllRecipientsInvalid = "AllRecipientsInvalid"
	// ReasonTruncated: the content was cut to WeCom's size limit.
	ReasonTruncated = "Truncated"
)

// Notification is one message sent once through an app, an app chat or a group robot.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomnotif;wcn,categories=wecom
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="MsgID",type=string,JSONPath=`.status.msgID`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Notification struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   NotificationSpec   `json:"spec"`
	Status NotificationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// NotificationList contains a list of Notification.
type NotificationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Notification `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Notification{}, &NotificationList{})
}
