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

// CardButton is a button of a button_interaction card.
// +kubebuilder:validation:XValidation:rule="(has(self.type) && self.type == 1) ? has(self.url) : has(self.key)",message="a callback button (type 0) needs key; a link button (type 1) needs url"
type CardButton struct {
	// type 0 (the default) calls back: a click sends WeCom's template_card_event with key to
	// the app's callback; 1 opens url.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	// +optional
	Type int32 `json:"type,omitempty"`
	// text is the label; WeCom suggests at most 10 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Text string `json:"text"`
	// style is WeCom's button style, 1 to 4.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4
	// +optional
	Style int32 `json:"style,omitempty"`
	// key is the event key of a callback button, unique in the card, at most 1024 bytes.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Key string `json:"key,omitempty"`
	// url a link button opens.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	URL string `json:"url,omitempty"`
}

// TemplateCardMessage is a template card of type text_notice, news_notice or
// button_interaction. A button_interaction card needs the connection's WeCom callbacks
// (spec.callback on the WeComConnection, and the callback URL saved for the app in WeCom,
// which refuses such cards otherwise with 43012); its clicks are acted on when the
// Notification was made by an AlertReceiver with format Card (spec.alert), and otherwise
// recorded as events on the Notification.
// +kubebuilder:validation:XValidation:rule="self.cardType != 'text_notice' || (has(self.mainTitle) && has(self.mainTitle.title)) || has(self.subTitleText)",message="a text_notice card needs mainTitle.title or subTitleText"
// +kubebuilder:validation:XValidation:rule="self.cardType != 'news_notice' || has(self.cardImage)",message="a news_notice card needs cardImage"
// +kubebuilder:validation:XValidation:rule="self.cardType != 'button_interaction' || (has(self.buttonList) && size(self.buttonList) > 0)",message="a button_interaction card needs buttonList"
// +kubebuilder:validation:XValidation:rule="self.cardType == 'button_interaction' || (!has(self.buttonList) && !has(self.taskID))",message="buttonList and taskID are for button_interaction cards"
type TemplateCardMessage struct {
	// cardType is text_notice, news_notice or button_interaction.
	// +kubebuilder:validation:Enum=text_notice;news_notice;button_interaction
	CardType string `json:"cardType"`
	// taskID names a button_interaction card in WeCom: at most 128 bytes of
	// [0-9A-Za-z_-@], never used before by the app. Empty (recommended) derives one from
	// the Notification's name and a hash of its namespace, name and UID; the one used is in
	// status.card.taskID.
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[0-9A-Za-z_@-]+$`
	// +optional
	TaskID string `json:"taskID,omitempty"`
	// buttonList are a button_interaction card's buttons, 1 to 6.
	// +kubebuilder:validation:MaxItems=6
	// +listType=atomic
	// +optional
	ButtonList []CardButton `json:"buttonList,omitempty"`
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
	// cardAction is what tapping the card does: type 1 URL or 2 mini-program (required for
	// notice cards; 0, nothing, for a button_interaction card).
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
	// templateCard is a text_notice, news_notice or (app messages only)
	// button_interaction card; not for app chats.
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
// +kubebuilder:validation:XValidation:rule="!has(self.robot) || !has(self.message.templateCard) || self.message.templateCard.cardType != 'button_interaction'",message="group robots cannot send button_interaction cards"
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

	// alert is set on the Notifications of AlertReceivers with format Card: what the
	// buttons of the card act on.
	// +optional
	Alert *NotificationAlert `json:"alert,omitempty"`

	// safe marks an app or chat message confidential (no sharing, watermark).
	// +optional
	Safe bool `json:"safe,omitempty"`

	// fold lets the operator fold this message into a digest during a storm: when more
	// foldable Notifications wait for the same recipients than WeCom's quota lets through
	// in the current window, the waiting ones are sent together as digest messages, one
	// entry each (severity, title, summary, link), and this one ends Sent with
	// status.deliveredIn naming the digest. Without it the message is only ever sent on
	// its own (held for a quota slot when needed). AlertReceivers set it unless their
	// spec.fold is Never.
	// +optional
	Fold *NotificationFold `json:"fold,omitempty"`

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

// NotificationFold is this message's entry in a digest.
type NotificationFold struct {
	// title is the entry's text, one line of at most 256 bytes (longer is cut). Empty uses
	// the message's title or first line.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Title string `json:"title,omitempty"`
	// severity is shown before the title, for example critical. At most 63 characters.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Severity string `json:"severity,omitempty"`
	// summary follows the title, one line of at most 512 bytes (the digest shows the first
	// 160 bytes).
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Summary string `json:"summary,omitempty"`
	// url the entry links to, http or https, at most 2048 characters.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://`
	// +optional
	URL string `json:"url,omitempty"`
}

// NotificationAlert ties a card to the AlertReceiver that made it and to its alerts.
type NotificationAlert struct {
	// receiver is the AlertReceiver (same namespace) that made the Notification; its
	// spec.alertmanager and timezone apply to clicks.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Receiver string `json:"receiver"`
	// labels are the labels every alert of the card shares (Alertmanager's commonLabels for
	// a whole group): a Silence button's silence matches exactly these. At most 64; empty
	// when the alerts share none, and then the card has no Silence buttons.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// NotificationCardStatus is the state of a button_interaction card.
type NotificationCardStatus struct {
	// taskID is the card's task_id in WeCom. It is written before the send.
	TaskID string `json:"taskID"`
	// responseCode is the newest code for message/update_template_card that is not known
	// to be used (from the send's reply or a click), and responseCodeTime when WeCom issued
	// it: WeCom accepts a code once, within 72 hours. Empty once used.
	// +optional
	ResponseCode string `json:"responseCode,omitempty"`
	// +optional
	ResponseCodeTime *metav1.Time `json:"responseCodeTime,omitempty"`
	// resolvedBy names the Notification of the resolved alerts whose card replaced this
	// one in place, at resolvedTime.
	// +optional
	ResolvedBy string `json:"resolvedBy,omitempty"`
	// +optional
	ResolvedTime *metav1.Time `json:"resolvedTime,omitempty"`
}

// NotificationActionState is how far an action on a card got.
// +kubebuilder:validation:Enum=Pending;Done;Failed
type NotificationActionState string

const (
	// ActionPending: recorded, not finished (in progress, or interrupted and finished by
	// WeCom's retry of the click).
	ActionPending NotificationActionState = "Pending"
	// ActionDone: done (the silence exists, or the acknowledgement is recorded).
	ActionDone NotificationActionState = "Done"
	// ActionFailed: it could not be done; message says why. The member may click again.
	ActionFailed NotificationActionState = "Failed"
)

// MaxNotificationActions bounds status.actions; the oldest go first.
const MaxNotificationActions = 20

// NotificationAction is one click on a card's button: who did what, when, and what came
// of it.
type NotificationAction struct {
	// id identifies the click (a hash of the single-use code WeCom gave it), so that WeCom
	// retrying the callback, here or on another replica, does not act twice.
	ID string `json:"id"`
	// action is Acknowledge or Silence.
	Action AlertCardAction `json:"action"`
	// duration of a silence.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
	// userID of the member who clicked, and name, their name in WeCom (the userID when it
	// could not be read).
	UserID string `json:"userID"`
	// +optional
	Name string `json:"name,omitempty"`
	// time of the click.
	Time metav1.Time `json:"time"`
	// state is Pending, Done or Failed.
	State NotificationActionState `json:"state"`
	// silenceID is the id of the silence Alertmanager created.
	// +optional
	SilenceID string `json:"silenceID,omitempty"`
	// cardUpdated is true once every recipient's card shows the action.
	// +optional
	CardUpdated bool `json:"cardUpdated,omitempty"`
	// message says what happened beyond that: why it failed, or why the card was not
	// updated.
	// +optional
	Message string `json:"message,omitempty"`
}

// MaxFoldDigests bounds the digests of one fold plan: WeCom lets at most 30 app messages
// a minute through per member, so no window ever has room for more.
const MaxFoldDigests = 30

// MaxDigestEntries bounds the Notifications one digest carries.
const MaxDigestEntries = 100

// NotificationDigest is one digest message of a fold plan.
type NotificationDigest struct {
	// members are the Notifications (same namespace) the digest carries, in the order
	// listed, 1 to 100.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=atomic
	Members []string `json:"members"`
	// attempts counts the calls made to WeCom to deliver the digest, each written before
	// its call.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// lastAttemptTime is when the last call was started.
	// +optional
	LastAttemptTime *metav1.Time `json:"lastAttemptTime,omitempty"`
	// sentAt is when WeCom accepted the digest, msgID its message id (app messages).
	// +optional
	SentAt *metav1.Time `json:"sentAt,omitempty"`
	// +optional
	MsgID string `json:"msgID,omitempty"`
	// failed is set when WeCom refused the digest for good, or the leader's
	// deliveryDeadline passed before it was sent; its members then go on on their own.
	// +optional
	Failed bool `json:"failed,omitempty"`
}

// NotificationFoldPlan is the fold plan a Notification leads: which Notifications go into
// which digest. It is recorded before the first digest is sent and never re-planned, so a
// manager that restarts (or another replica) resumes it.
type NotificationFoldPlan struct {
	// digests in the order they are sent, 1 to 30.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=30
	// +listType=atomic
	Digests []NotificationDigest `json:"digests"`
	// plannedAt is when the plan was recorded.
	PlannedAt metav1.Time `json:"plannedAt"`
}

// NotificationDeliveredIn names the digest that delivers a folded Notification.
type NotificationDeliveredIn struct {
	// notification leads the fold plan (same namespace; status.fold lists the digests).
	// It is written before the digest is sent.
	Notification string `json:"notification"`
	// digest is the digest's number in the plan, 1 to digests, and digests how many the
	// plan has; both are written with the outcome.
	// +optional
	Digest int32 `json:"digest,omitempty"`
	// +optional
	Digests int32 `json:"digests,omitempty"`
	// msgID is WeCom's message id of the digest (app messages), once sent.
	// +optional
	MsgID string `json:"msgID,omitempty"`
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
	// card is the state of a button_interaction card.
	// +optional
	Card *NotificationCardStatus `json:"card,omitempty"`
	// fold is the fold plan this Notification leads (it is the oldest of the plan).
	// +optional
	Fold *NotificationFoldPlan `json:"fold,omitempty"`
	// deliveredIn names the digest this Notification is (to be) delivered in, when it was
	// folded; the plan's leader names itself.
	// +optional
	DeliveredIn *NotificationDeliveredIn `json:"deliveredIn,omitempty"`
	// actions are the clicks on the card's buttons, oldest first, at most 20.
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	Actions []NotificationAction `json:"actions,omitempty"`
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
	// ReasonFolded: the message was folded into a digest (status.deliveredIn): Pending
	// until the digest is sent, then Sent.
	ReasonFolded = "Folded"
	// ReasonCardUpdated: the message of resolved alerts was not sent; the cards of the same
	// alerts were updated in place to show them resolved.
	ReasonCardUpdated = "CardUpdated"
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
// +kubebuilder:printcolumn:name="Digest",type=string,JSONPath=`.status.deliveredIn.notification`,priority=1
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
