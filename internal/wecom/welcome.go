package wecom

import (
	"context"
	"fmt"
)

// WelcomeMessenger sends the welcome message for a new customer (客户联系 → 发送新客户欢迎语,
// DOC-92137/92599). The app must be listed under 客户联系 → 可调用接口的应用 (48002 otherwise)
// and the member must be in its visible range.
type WelcomeMessenger interface {
	SendWelcomeMsg(ctx context.Context, msg WelcomeMessage) error
}

var _ WelcomeMessenger = (*Client)(nil)

// Errcodes of send_welcome_msg (official error table; DOC-92599 for 41051).
const (
	ErrCodeMissingWelcomeCode    = 41049 // 缺少欢迎语code参数
	ErrCodeInvalidWelcomeCode    = 41050 // 无效的欢迎语code: unknown, or more than 20 s old
	ErrCodeWelcomeChatStarted    = 41051 // 客户和服务人员已经开始聊天了: the code was already used (by this or another app)
	ErrCodeTooManyAttachments    = 41064 // 附件数量超过限制 (more than 9)
	ErrCodeInvalidAttachmentType = 41065 // 无效的附件类型
	ErrCodeWelcomeSending        = 41096 // 欢迎语已在发送中 (another app is sending it)
)

// MaxWelcomeAttachments is how many attachments one welcome message may carry.
const MaxWelcomeAttachments = 9

// WelcomeMessage is the body of externalcontact/send_welcome_msg. WelcomeCode comes from an
// add_external_contact callback (ExternalContactEvent.WelcomeCode) and works once, within
// 20 s of the event; it is absent when the admin configured a welcome message. Text and
// Attachments may go together (the customer gets several messages) but not both be empty.
//
// A retry after an ambiguous failure is safe but may answer ErrCodeWelcomeChatStarted when the
// first attempt was in fact delivered; that code also means another app used the code first.
type WelcomeMessage struct {
	WelcomeCode string       `json:"welcome_code"`
	Text        *WelcomeText `json:"text,omitempty"`
	// Attachments: at most MaxWelcomeAttachments.
	Attachments []WelcomeAttachment `json:"attachments,omitempty"`
}

// WelcomeText is the text part, ≤4000 bytes.
type WelcomeText struct {
	Content string `json:"content"`
}

// Attachment types (WelcomeAttachment.MsgType).
const (
	AttachmentTypeImage       = "image"
	AttachmentTypeLink        = "link"
	AttachmentTypeMiniProgram = "miniprogram"
	AttachmentTypeVideo       = "video"
	AttachmentTypeFile        = "file"
)

// WelcomeAttachment is one attachment: MsgType and the object of that type.
type WelcomeAttachment struct {
	MsgType     string              `json:"msgtype"`
	Image       *WelcomeImage       `json:"image,omitempty"`
	Link        *WelcomeLink        `json:"link,omitempty"`
	MiniProgram *WelcomeMiniProgram `json:"miniprogram,omitempty"`
	Video       *WelcomeMedia       `json:"video,omitempty"`
	File        *WelcomeMedia       `json:"file,omitempty"`
}

// WelcomeImage takes a media_id or a pic_url (from the image upload API); media_id wins
// when both are set.
type WelcomeImage struct {
	MediaID string `json:"media_id,omitempty"`
	PicURL  string `json:"pic_url,omitempty"`
}

// WelcomeLink is a link card: Title ≤128 bytes, Desc ≤512 bytes, URL required.
type WelcomeLink struct {
	Title  string `json:"title"`
	PicURL string `json:"picurl,omitempty"`
	Desc   string `json:"desc,omitempty"`
	URL    string `json:"url"`
}

// WelcomeMiniProgram is a mini-program card: Title ≤64 bytes; the mini program must be
// linked to the corp.
type WelcomeMiniProgram struct {
	Title      string `json:"title"`
	PicMediaID string `json:"pic_media_id"`
	AppID      string `json:"appid"`
	Page       string `json:"page"`
}

// WelcomeMedia is a video or file by media_id.
type WelcomeMedia struct {
	MediaID string `json:"media_id"`
}

// SendWelcomeMsg sends the welcome message for a new customer (POST
// externalcontact/send_welcome_msg). An expired or unknown code answers ErrCodeInvalidWelcomeCode,
// a used one ErrCodeWelcomeChatStarted; neither is worth retrying.
func (c *Client) SendWelcomeMsg(ctx context.Context, msg WelcomeMessage) error {
	if msg.WelcomeCode == "" {
		return fmt.Errorf("%w: %s needs a welcome code", ErrInvalidRequest, apiSendWelcomeMsg)
	}
	return c.call(ctx, epSendWelcomeMsg, nil, msg, nil)
}
