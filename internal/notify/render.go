package notify

import (
	"errors"
	"strconv"
	"time"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// DefaultDuplicateCheckInterval is WeCom's default enable_duplicate_check window (1800 s).
const DefaultDuplicateCheckInterval = 30 * time.Minute

// ErrNoMessage means the Notification's message has no body the channel can send; the API
// validation normally prevents it.
var ErrNoMessage = errors.New("the message has no body this channel can send")

// Rendered is a message ready for one channel, and whether its content was cut.
type Rendered[T any] struct {
	Body      T
	Truncated bool
}

// DuplicateCheckSeconds is the enable_duplicate_check window of spec in seconds.
func DuplicateCheckSeconds(spec *v1.NotificationSpec) int {
	d := DefaultDuplicateCheckInterval
	if spec.DuplicateCheckInterval != nil && spec.DuplicateCheckInterval.Duration > 0 {
		d = spec.DuplicateCheckInterval.Duration
	}
	return int(d / time.Second)
}

// AppMessage renders spec as a message/send body for the app agentID. Duplicate checking is
// always on, so that a resend of the same Notification within the window (after a crash
// between the call and the status write) is dropped by WeCom. The body is a pure function of
// the spec and agentID: a resend is byte-for-byte the same request, which is what WeCom's
// duplicate check compares.
func AppMessage(spec *v1.NotificationSpec, agentID int64) (Rendered[wecom.Message], error) {
	m := wecom.Message{
		AgentID:                int(agentID),
		EnableDuplicateCheck:   1,
		DuplicateCheckInterval: DuplicateCheckSeconds(spec),
	}
	if spec.Safe {
		m.Safe = 1
	}
	if to := spec.To; to != nil {
		if to.All {
			m.ToUser = []string{"@all"}
		} else {
			m.ToUser = append([]string(nil), to.Users...)
			m.ToParty = ids(to.Parties)
			m.ToTag = ids(to.Tags)
		}
	}
	msg := spec.Message
	b, cut := appBody(msg)
	m.Text, m.Markdown, m.TextCard, m.News = b.text, b.markdown, b.textCard, b.news
	if msg.TemplateCard != nil {
		m.TemplateCard = templateCard(msg.TemplateCard)
	} else if b.empty() {
		return Rendered[wecom.Message]{}, ErrNoMessage
	}
	return Rendered[wecom.Message]{Body: m, Truncated: cut}, nil
}

// ChatMessage renders spec as an appchat/send body for chatID. App chats take text,
// markdown, textcard and news (no template cards).
func ChatMessage(spec *v1.NotificationSpec, chatID string) (Rendered[wecom.AppChatMessage], error) {
	m := wecom.AppChatMessage{ChatID: chatID}
	if spec.Safe {
		m.Safe = 1
	}
	b, cut := appBody(spec.Message)
	if b.empty() {
		return Rendered[wecom.AppChatMessage]{}, ErrNoMessage
	}
	m.Text, m.Markdown, m.TextCard, m.News = b.text, b.markdown, b.textCard, b.news
	return Rendered[wecom.AppChatMessage]{Body: m, Truncated: cut}, nil
}

// body is the part app messages and app chats share: the same text, markdown, textcard and
// news bodies with the same limits (reference §4, §7).
type body struct {
	text     *wecom.Text
	markdown *wecom.Markdown
	textCard *wecom.TextCard
	news     *wecom.News
}

func (b body) empty() bool {
	return b.text == nil && b.markdown == nil && b.textCard == nil && b.news == nil
}

// appBody renders the shared message types, cutting text and markdown to WeCom's limit.
func appBody(msg v1.Message) (b body, cut bool) {
	switch {
	case msg.Text != nil:
		b.text = &wecom.Text{}
		b.text.Content, cut = Truncate(msg.Text.Content, AppTextLimit)
	case msg.Markdown != nil:
		b.markdown = &wecom.Markdown{}
		b.markdown.Content, cut = Truncate(msg.Markdown.Content, AppMarkdownLimit)
	case msg.TextCard != nil:
		b.textCard = textCard(msg.TextCard)
	case msg.News != nil:
		b.news = news(msg.News)
	}
	return b, cut
}

// RobotMessage renders spec as a webhook/send body. Robots take text (with mentions),
// markdown (up to 4096 bytes), news and template cards (no text cards).
func RobotMessage(spec *v1.NotificationSpec) (Rendered[wecom.WebhookMessage], error) {
	var (
		m   wecom.WebhookMessage
		cut bool
	)
	msg := spec.Message
	switch {
	case msg.Text != nil:
		m.Text = &wecom.Text{
			MentionedList:       append([]string(nil), msg.Text.MentionedUsers...),
			MentionedMobileList: append([]string(nil), msg.Text.MentionedMobiles...),
		}
		m.Text.Content, cut = Truncate(msg.Text.Content, RobotTextLimit)
	case msg.Markdown != nil:
		m.Markdown = &wecom.Markdown{}
		m.Markdown.Content, cut = Truncate(msg.Markdown.Content, RobotMarkdownLimit)
	case msg.News != nil:
		m.News = news(msg.News)
	case msg.TemplateCard != nil:
		m.TemplateCard = templateCard(msg.TemplateCard)
	default:
		return Rendered[wecom.WebhookMessage]{}, ErrNoMessage
	}
	return Rendered[wecom.WebhookMessage]{Body: m, Truncated: cut}, nil
}

func ids(in []int64) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = strconv.FormatInt(v, 10)
	}
	return out
}

func textCard(c *v1.TextCardMessage) *wecom.TextCard {
	return &wecom.TextCard{Title: c.Title, Description: c.Description, URL: c.URL, BtnTxt: c.ButtonText}
}

func news(n *v1.NewsMessage) *wecom.News {
	out := &wecom.News{Articles: make([]wecom.Article, len(n.Articles))}
	for i, a := range n.Articles {
		out.Articles[i] = wecom.Article{Title: a.Title, Description: a.Description, URL: a.URL, PicURL: a.PicURL,
			AppID: a.AppID, PagePath: a.PagePath}
	}
	return out
}

func templateCard(c *v1.TemplateCardMessage) *wecom.TemplateCard {
	out := &wecom.TemplateCard{
		CardType:     c.CardType,
		SubTitleText: c.SubTitleText,
		CardAction: &wecom.CardAction{Type: int(c.CardAction.Type), URL: c.CardAction.URL,
			AppID: c.CardAction.AppID, PagePath: c.CardAction.PagePath},
	}
	if s := c.Source; s != nil {
		out.Source = &wecom.CardSource{IconURL: s.IconURL, Desc: s.Desc, DescColor: int(s.DescColor)}
	}
	if t := c.MainTitle; t != nil {
		out.MainTitle = &wecom.CardTitle{Title: t.Title, Desc: t.Desc}
	}
	if t := c.EmphasisContent; t != nil {
		out.EmphasisContent = &wecom.CardTitle{Title: t.Title, Desc: t.Desc}
	}
	if q := c.QuoteArea; q != nil {
		out.QuoteArea = &wecom.CardQuoteArea{Type: int(q.Type), URL: q.URL, AppID: q.AppID, PagePath: q.PagePath,
			Title: q.Title, QuoteText: q.QuoteText}
	}
	for _, h := range c.HorizontalContentList {
		out.HorizontalContentList = append(out.HorizontalContentList, wecom.CardHorizontal{
			Type: int(h.Type), KeyName: h.KeyName, Value: h.Value, URL: h.URL, UserID: h.UserID})
	}
	for _, j := range c.JumpList {
		out.JumpList = append(out.JumpList, wecom.CardJump{Type: int(j.Type), Title: j.Title, URL: j.URL,
			AppID: j.AppID, PagePath: j.PagePath})
	}
	if img := c.CardImage; img != nil {
		out.CardImage = &wecom.CardImage{URL: img.URL}
		if r, err := strconv.ParseFloat(img.AspectRatio, 64); err == nil {
			out.CardImage.AspectRatio = r
		}
	}
	for _, v := range c.VerticalContentList {
		out.VerticalContentList = append(out.VerticalContentList, wecom.CardVerticalContent{Title: v.Title, Desc: v.Desc})
	}
	return out
}
