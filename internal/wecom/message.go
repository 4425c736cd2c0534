package wecom

import (
	"context"
	"fmt"
	"strings"
)

// Messenger sends application messages (§7).
type Messenger interface {
	SendMessage(ctx context.Context, msg Message) (*SendResult, error)
	RecallMessage(ctx context.Context, msgID string) error
}

// Message is an application message (message/send). Set the recipients, AgentID and exactly
// one body (Text, Markdown, TextCard, News or TemplateCard); msgtype follows from the body.
type Message struct {
	// ToUser lists userids (≤1000), sent as touser joined with "|". ["@all"] is everyone in
	// the app's visible range.
	ToUser []string
	// ToParty lists department ids (≤100), sent as toparty joined with "|".
	ToParty []string
	// ToTag lists tag ids (≤100), sent as totag joined with "|".
	ToTag []string
	// AgentID is the app's agentid; it must be the app whose secret the client uses (301002).
	AgentID int
	// Safe: 0 shareable, 1 no sharing + watermark (not for news: 40074).
	Safe int
	// EnableIDTrans: 1 turns on id translation.
	EnableIDTrans int
	// EnableDuplicateCheck: 1 makes WeCom drop an identical request within
	// DuplicateCheckInterval. Set it when a retried send must not deliver twice.
	EnableDuplicateCheck int
	// DuplicateCheckInterval in seconds, default 1800, max 14400.
	DuplicateCheckInterval int

	Text         *Text
	Markdown     *Markdown
	TextCard     *TextCard
	News         *News
	TemplateCard *TemplateCard
}

// Text is a text body: content ≤2048 bytes (truncated beyond), \n and <a href> allowed. The
// mention lists are for webhooks only.
type Text struct {
	Content             string   `json:"content"`
	MentionedList       []string `json:"mentioned_list,omitempty"`
	MentionedMobileList []string `json:"mentioned_mobile_list,omitempty"`
}

// Markdown is a markdown body: ≤2048 bytes for apps, ≤4096 for webhooks.
type Markdown struct {
	Content string `json:"content"`
}

// TextCard is a text card: title ≤128 bytes, description ≤512 bytes (required), url
// (required, http/https), btntxt ≤4 chars (default 详情).
type TextCard struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	BtnTxt      string `json:"btntxt,omitempty"`
}

// News is 1–8 articles.
type News struct {
	Articles []Article `json:"articles"`
}

// Article is a news item: title ≤128 bytes (required), description ≤512 bytes, and url or
// appid+pagepath.
type Article struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	PicURL      string `json:"picurl,omitempty"`
	AppID       string `json:"appid,omitempty"`
	PagePath    string `json:"pagepath,omitempty"`
}

// Template card types (§7, §14). The interactive ones need a callback URL on the app (43012)
// and a TaskID; clicks arrive there as template_card_event.
const (
	CardTypeTextNotice          = "text_notice"
	CardTypeNewsNotice          = "news_notice"
	CardTypeButtonInteraction   = "button_interaction"
	CardTypeVoteInteraction     = "vote_interaction"
	CardTypeMultipleInteraction = "multiple_interaction"
)

// TemplateCard is a template card (§7, §14). text_notice needs MainTitle.Title or
// SubTitleText; both notice types need CardAction; news_notice needs CardImage or
// ImageTextArea. button_interaction needs ButtonList; vote_interaction Checkbox and
// SubmitButton; multiple_interaction SelectList and SubmitButton. The interactive types and
// cards with an ActionMenu need TaskID, and only they can be updated later
// (UpdateTemplateCard).
type TemplateCard struct {
	CardType              string                `json:"card_type"`
	Source                *CardSource           `json:"source,omitempty"`
	ActionMenu            *CardActionMenu       `json:"action_menu,omitempty"`
	MainTitle             *CardTitle            `json:"main_title,omitempty"`
	EmphasisContent       *CardTitle            `json:"emphasis_content,omitempty"`
	QuoteArea             *CardQuoteArea        `json:"quote_area,omitempty"`
	SubTitleText          string                `json:"sub_title_text,omitempty"`
	HorizontalContentList []CardHorizontal      `json:"horizontal_content_list,omitempty"`
	JumpList              []CardJump            `json:"jump_list,omitempty"`
	CardAction            *CardAction           `json:"card_action,omitempty"`
	CardImage             *CardImage            `json:"card_image,omitempty"`
	ImageTextArea         *CardImageTextArea    `json:"image_text_area,omitempty"`
	VerticalContentList   []CardVerticalContent `json:"vertical_content_list,omitempty"`
	// ButtonList is button_interaction's buttons (1–6).
	ButtonList []CardButton `json:"button_list,omitempty"`
	// ButtonSelection is button_interaction's optional drop-down above the buttons.
	ButtonSelection *CardQuestion `json:"button_selection,omitempty"`
	// Checkbox is vote_interaction's question.
	Checkbox *CardCheckbox `json:"checkbox,omitempty"`
	// SelectList is multiple_interaction's questions (1–3).
	SelectList []CardQuestion `json:"select_list,omitempty"`
	// SubmitButton submits a vote or multiple card; its Key is the event's EventKey.
	SubmitButton *CardSubmitButton `json:"submit_button,omitempty"`
	// TaskID is required with ActionMenu and for the interactive types: ≤128 bytes of
	// [0-9A-Za-z_-@], unique per app and never reusable (42014). It names the card in
	// template_card_event.
	TaskID string `json:"task_id,omitempty"`
}

// Values of CardButton.Type.
const (
	CardButtonCallback = 0 // a click sends template_card_event with Key
	CardButtonURL      = 1 // a click opens URL
)

// CardButton is a button of a button_interaction card. Text is required (≤10 characters
// suggested). A callback button (Type 0) needs Key: ≤1024 bytes, unique in the card, the
// event's EventKey. A URL button (Type 1) needs URL. Style 1–4 picks the colour.
type CardButton struct {
	Type  int    `json:"type,omitempty"`
	Text  string `json:"text"`
	Style int    `json:"style,omitempty"`
	Key   string `json:"key,omitempty"`
	URL   string `json:"url,omitempty"`
}

// CardQuestion is a single-choice question: button_selection or an item of select_list.
// QuestionKey ≤1024 bytes; 1–10 options; SelectedID preselects one.
type CardQuestion struct {
	QuestionKey string       `json:"question_key"`
	Title       string       `json:"title,omitempty"`
	SelectedID  string       `json:"selected_id,omitempty"`
	OptionList  []CardOption `json:"option_list"`
}

// CardCheckbox is vote_interaction's question: 1–20 options, Mode 0 single choice, 1 multiple.
type CardCheckbox struct {
	QuestionKey string       `json:"question_key"`
	OptionList  []CardOption `json:"option_list"`
	Mode        int          `json:"mode,omitempty"`
}

// CardOption is one option: ID ≤128 bytes, unique in its question. IsChecked preselects it
// (checkbox only).
type CardOption struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	IsChecked bool   `json:"is_checked,omitempty"`
}

// CardSubmitButton submits a vote or multiple card.
type CardSubmitButton struct {
	Text string `json:"text"`
	Key  string `json:"key"`
}

// CardSource is the card's source line; DescColor 0 grey, 1 black, 2 red, 3 green.
type CardSource struct {
	IconURL   string `json:"icon_url,omitempty"`
	Desc      string `json:"desc,omitempty"`
	DescColor int    `json:"desc_color,omitempty"`
}

// CardActionMenu is the "…" menu: 1–3 actions.
type CardActionMenu struct {
	Desc       string           `json:"desc,omitempty"`
	ActionList []CardMenuAction `json:"action_list"`
}

// CardMenuAction is one menu entry; Key ≤1024 bytes.
type CardMenuAction struct {
	Text string `json:"text"`
	Key  string `json:"key"`
}

// CardTitle is a title and description pair (main_title, emphasis_content).
type CardTitle struct {
	Title string `json:"title,omitempty"`
	Desc  string `json:"desc,omitempty"`
}

// CardQuoteArea is a quote; Type 0 none, 1 url, 2 mini-program.
type CardQuoteArea struct {
	Type      int    `json:"type,omitempty"`
	URL       string `json:"url,omitempty"`
	AppID     string `json:"appid,omitempty"`
	PagePath  string `json:"pagepath,omitempty"`
	Title     string `json:"title,omitempty"`
	QuoteText string `json:"quote_text,omitempty"`
}

// CardHorizontal is an item of horizontal_content_list (≤6); Type 0 text, 1 url, 2 media,
// 3 member detail.
type CardHorizontal struct {
	Type    int    `json:"type,omitempty"`
	KeyName string `json:"keyname"`
	Value   string `json:"value,omitempty"`
	URL     string `json:"url,omitempty"`
	MediaID string `json:"media_id,omitempty"`
	UserID  string `json:"userid,omitempty"`
}

// CardJump is an item of jump_list (≤3); Type 0 none, 1 url, 2 mini-program.
type CardJump struct {
	Type     int    `json:"type,omitempty"`
	Title    string `json:"title"`
	URL      string `json:"url,omitempty"`
	AppID    string `json:"appid,omitempty"`
	PagePath string `json:"pagepath,omitempty"`
}

// CardAction is what a click on the card does; Type 1 url, 2 mini-program.
type CardAction struct {
	Type     int    `json:"type"`
	URL      string `json:"url,omitempty"`
	AppID    string `json:"appid,omitempty"`
	PagePath string `json:"pagepath,omitempty"`
}

// CardImage is news_notice's picture; AspectRatio 1.3–2.25.
type CardImage struct {
	URL         string  `json:"url"`
	AspectRatio float64 `json:"aspect_ratio,omitempty"`
}

// CardImageTextArea is news_notice's left-image area. The key is image_url (some SDKs
// wrongly send images_url).
type CardImageTextArea struct {
	Type     int    `json:"type,omitempty"`
	URL      string `json:"url,omitempty"`
	AppID    string `json:"appid,omitempty"`
	PagePath string `json:"pagepath,omitempty"`
	Title    string `json:"title,omitempty"`
	Desc     string `json:"desc,omitempty"`
	ImageURL string `json:"image_url"`
}

// CardVerticalContent is an item of vertical_content_list (≤4).
type CardVerticalContent struct {
	Title string `json:"title"`
	Desc  string `json:"desc,omitempty"`
}

// SendResult is the reply of message/send. Partly invalid recipients still succeed
// (errcode 0) and are listed here, userids lower-cased; if all are invalid WeCom answers
// 81013 instead.
type SendResult struct {
	InvalidUser    []string
	InvalidParty   []string
	InvalidTag     []string
	UnlicensedUser []string
	MsgID          string
	// ResponseCode is set for interactive template cards (presumably also for notice cards
	// with an action menu, unconfirmed): one use of UpdateTemplateCard within 72 h.
	ResponseCode string
}

// messageBody holds the one-of bodies shared by message/send, appchat/send and webhook/send.
type messageBody struct {
	Text         *Text         `json:"text,omitempty"`
	Markdown     *Markdown     `json:"markdown,omitempty"`
	MarkdownV2   *Markdown     `json:"markdown_v2,omitempty"`
	TextCard     *TextCard     `json:"textcard,omitempty"`
	News         *News         `json:"news,omitempty"`
	TemplateCard *TemplateCard `json:"template_card,omitempty"`
}

// msgType returns the msgtype of the one body that is set.
func (b messageBody) msgType() (string, error) {
	var types []string
	for _, c := range []struct {
		set bool
		t   string
	}{
		{b.Text != nil, "text"},
		{b.Markdown != nil, "markdown"},
		{b.MarkdownV2 != nil, "markdown_v2"},
		{b.TextCard != nil, "textcard"},
		{b.News != nil, "news"},
		{b.TemplateCard != nil, "template_card"},
	} {
		if c.set {
			types = append(types, c.t)
		}
	}
	if len(types) != 1 {
		return "", fmt.Errorf("%w: a message needs exactly one body, got %d (%s)", ErrInvalidRequest, len(types), strings.Join(types, ", "))
	}
	return types[0], nil
}

// MarshalJSON writes the message/send body: recipients joined with "|", msgtype from the
// body, zero flags left out (WeCom's defaults).
func (m Message) MarshalJSON() ([]byte, error) {
	body := messageBody{Text: m.Text, Markdown: m.Markdown, TextCard: m.TextCard, News: m.News, TemplateCard: m.TemplateCard}
	mt, err := body.msgType()
	if err != nil {
		return nil, err
	}
	return marshalNoEscape(struct {
		ToUser                 string `json:"touser,omitempty"`
		ToParty                string `json:"toparty,omitempty"`
		ToTag                  string `json:"totag,omitempty"`
		MsgType                string `json:"msgtype"`
		AgentID                int    `json:"agentid"`
		Safe                   int    `json:"safe,omitempty"`
		EnableIDTrans          int    `json:"enable_id_trans,omitempty"`
		EnableDuplicateCheck   int    `json:"enable_duplicate_check,omitempty"`
		DuplicateCheckInterval int    `json:"duplicate_check_interval,omitempty"`
		messageBody
	}{
		ToUser: strings.Join(m.ToUser, "|"), ToParty: strings.Join(m.ToParty, "|"), ToTag: strings.Join(m.ToTag, "|"),
		MsgType: mt, AgentID: m.AgentID, Safe: m.Safe, EnableIDTrans: m.EnableIDTrans,
		EnableDuplicateCheck: m.EnableDuplicateCheck, DuplicateCheckInterval: m.DuplicateCheckInterval,
		messageBody: body,
	})
}

// SendMessage sends an application message (POST message/send).
func (c *Client) SendMessage(ctx context.Context, msg Message) (*SendResult, error) {
	if len(msg.ToUser)+len(msg.ToParty)+len(msg.ToTag) == 0 {
		return nil, fmt.Errorf("%w: message has no recipients (touser, toparty, totag all empty)", ErrInvalidRequest)
	}
	if _, err := (messageBody{Text: msg.Text, Markdown: msg.Markdown, TextCard: msg.TextCard, News: msg.News, TemplateCard: msg.TemplateCard}).msgType(); err != nil {
		return nil, err
	}
	var resp struct {
		InvalidUser    string `json:"invaliduser"`
		InvalidParty   string `json:"invalidparty"`
		InvalidTag     string `json:"invalidtag"`
		UnlicensedUser string `json:"unlicenseduser"`
		MsgID          string `json:"msgid"`
		ResponseCode   string `json:"response_code"`
	}
	ep := epMessageSend
	if msg.EnableDuplicateCheck != 1 {
		ep = epMessageSendOnce
	}
	if err := c.call(ctx, ep, nil, msg, &resp); err != nil {
		return nil, err
	}
	return &SendResult{
		InvalidUser:    splitPipe(resp.InvalidUser),
		InvalidParty:   splitPipe(resp.InvalidParty),
		InvalidTag:     splitPipe(resp.InvalidTag),
		UnlicensedUser: splitPipe(resp.UnlicensedUser),
		MsgID:          resp.MsgID,
		ResponseCode:   resp.ResponseCode,
	}, nil
}

// RecallMessage recalls a message sent by the same app within the last 24 hours
// (POST message/recall).
func (c *Client) RecallMessage(ctx context.Context, msgID string) error {
	req := struct {
		MsgID string `json:"msgid"`
	}{msgID}
	return c.call(ctx, epMessageRecall, nil, req, nil)
}

// splitPipe splits "a|b" into its non-empty parts; "" gives nil.
func splitPipe(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, "|") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
