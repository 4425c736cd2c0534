package wecomsim

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Message bodies shared by message/send, appchat/send and webhook/send
// (§7, §4, §8). Limits are in bytes unless noted.
const (
	maxTextBytes        = 2048
	maxRobotMarkdown    = 4096
	maxArticles         = 8
	maxURLBytes         = 2048
	maxBtnTxtRunes      = 4
	maxMPNewsContent    = 666 * 1024
	maxRobotImageBytes  = 2 << 20
	maxMiniContentItems = 10
	maxHorizontalItems  = 6
	maxVerticalItems    = 4
	maxJumpItems        = 3
	maxActionMenuItems  = 3
	maxTaskIDBytes      = 128
	maxButtonItems      = 6
	maxVoteOptions      = 20
	maxSelectLists      = 3
	maxSelectOptions    = 10
)

// channel names (Message.Channel).
const (
	chanMessage = "message"
	chanAppChat = "appchat"
	chanWebhook = "webhook"
)

// Allowed msgtypes per channel (unknown → 40008).
var msgTypes = map[string][]string{
	chanMessage: {"text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown", "miniprogram_notice", "template_card"},
	chanAppChat: {"text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown"},
	chanWebhook: {"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"},
}

type contentBody struct {
	Content             optString `json:"content"`
	MentionedList       strList   `json:"mentioned_list"`
	MentionedMobileList strList   `json:"mentioned_mobile_list"`
}

type mediaBody struct {
	MediaID     optString `json:"media_id"`
	Title       optString `json:"title"`
	Description optString `json:"description"`
	Base64      optString `json:"base64"` // webhook image
	MD5         optString `json:"md5"`    // webhook image
}

type textCardBody struct {
	Title       optString `json:"title"`
	Description optString `json:"description"`
	URL         optString `json:"url"`
	BtnTxt      optString `json:"btntxt"`
}

type article struct {
	Title            optString `json:"title"`
	Description      optString `json:"description"`
	URL              optString `json:"url"`
	PicURL           optString `json:"picurl"`
	AppID            optString `json:"appid"`
	PagePath         optString `json:"pagepath"`
	ThumbMediaID     optString `json:"thumb_media_id"`
	Author           optString `json:"author"`
	Content          optString `json:"content"`
	ContentSourceURL optString `json:"content_source_url"`
	Digest           optString `json:"digest"`
}

type articlesBody struct {
	Articles []article `json:"articles"`
}

type miniNoticeBody struct {
	AppID       optString         `json:"appid"`
	Page        optString         `json:"page"`
	Title       optString         `json:"title"`
	ContentItem []json.RawMessage `json:"content_item"`
}

// msgBody is the union of every message payload; only the part named by
// msgtype is examined.
type msgBody struct {
	MsgType           optString       `json:"msgtype"`
	Text              *contentBody    `json:"text"`
	Markdown          *contentBody    `json:"markdown"`
	MarkdownV2        *contentBody    `json:"markdown_v2"`
	Image             *mediaBody      `json:"image"`
	Voice             *mediaBody      `json:"voice"`
	Video             *mediaBody      `json:"video"`
	File              *mediaBody      `json:"file"`
	TextCard          *textCardBody   `json:"textcard"`
	News              *articlesBody   `json:"news"`
	MPNews            *articlesBody   `json:"mpnews"`
	MiniprogramNotice *miniNoticeBody `json:"miniprogram_notice"`
	TemplateCard      *templateCard   `json:"template_card"`
}

// validateBody checks the payload for msgtype on a channel.
func validateBody(b *msgBody, channel string) *apiError {
	mt := b.MsgType.v
	if !slices.Contains(msgTypes[channel], mt) {
		return errCodef(codeInvalidMsgType, "msgtype %q not supported on %s", mt, channel)
	}
	switch mt {
	case "text":
		return checkContent(b.Text, maxTextBytes)
	case "markdown":
		if channel == chanWebhook {
			return checkContent(b.Markdown, maxRobotMarkdown)
		}
		return checkContent(b.Markdown, maxTextBytes)
	case "markdown_v2":
		return checkContent(b.MarkdownV2, maxRobotMarkdown)
	case "image":
		if channel == chanWebhook {
			return checkRobotImage(b.Image)
		}
		return checkMedia(b.Image)
	case "voice":
		return checkMedia(b.Voice)
	case "file":
		return checkMedia(b.File)
	case "video":
		return checkMedia(b.Video)
	case "textcard":
		return checkTextCard(b.TextCard)
	case "news":
		return checkNews(b.News, channel)
	case "mpnews":
		return checkMPNews(b.MPNews)
	case "miniprogram_notice":
		return checkMiniNotice(b.MiniprogramNotice)
	case "template_card":
		return checkTemplateCard(b.TemplateCard, channel)
	}
	return nil
}

// checkContent: empty → 44004; over the byte limit → 45002. (§7 says text
// beyond 2048 bytes is truncated while its error list gives 45002 for it;
// the simulator rejects, which surfaces over-long messages in tests.)
func checkContent(c *contentBody, limit int) *apiError {
	if c == nil || c.Content.v == "" {
		return errCode(codeEmptyContent)
	}
	if len(c.Content.v) > limit {
		return errCodef(codeContentTooLarge, "content is %d bytes, limit %d", len(c.Content.v), limit)
	}
	return nil
}

// checkMedia only requires a media_id: media upload is not simulated, so
// any non-empty id is accepted.
func checkMedia(m *mediaBody) *apiError {
	if m == nil || m.MediaID.v == "" {
		return errCode(codeMissingMediaID)
	}
	return nil
}

// checkRobotImage validates webhook image {base64, md5}: md5 of the raw
// bytes, ≤2 MB.
func checkRobotImage(m *mediaBody) *apiError {
	if m == nil || m.Base64.v == "" || m.MD5.v == "" {
		return errCodef(codeInvalidParam, "image needs base64 and md5")
	}
	raw, err := base64.StdEncoding.DecodeString(m.Base64.v)
	if err != nil {
		return errCodef(codeInvalidParam, "image base64: %v", err)
	}
	if len(raw) == 0 || len(raw) > maxRobotImageBytes {
		return errCodef(codeInvalidImageSize, "image is %d bytes", len(raw))
	}
	sum := md5.Sum(raw)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), m.MD5.v) {
		return errCode(codeInvalidMD5)
	}
	return nil
}

var schemeRE = regexp.MustCompile(`(?i)^https?://`)

// checkURL: required, ≤2048 bytes, with http(s) scheme.
func checkURL(u string) *apiError {
	switch {
	case u == "":
		return errCode(codeMissingURL)
	case len(u) > maxURLBytes:
		return errCode(codeInvalidURLSize)
	case !schemeRE.MatchString(u):
		return errCodef(codeURLNoProtocol, "url %q", u)
	}
	return nil
}

// checkTextCard: title and description required (over-long ones are
// truncated by WeCom, so not rejected), url required, btntxt ≤4 chars.
func checkTextCard(t *textCardBody) *apiError {
	if t == nil || t.Title.v == "" {
		return errCode(codeMissingTitle)
	}
	if t.Description.v == "" {
		return errCode(codeMissingDescription)
	}
	if e := checkURL(t.URL.v); e != nil {
		return e
	}
	if utf8.RuneCountInString(t.BtnTxt.v) > maxBtnTxtRunes {
		return errCodef(codeInvalidParam, "btntxt longer than %d characters", maxBtnTxtRunes)
	}
	return nil
}

// checkNews: 1..8 articles, each with a title and url or appid+pagepath
// (webhook: url required).
func checkNews(n *articlesBody, channel string) *apiError {
	if n == nil || len(n.Articles) == 0 || len(n.Articles) > maxArticles {
		return errCodef(codeArticleCount, "news needs 1-%d articles", maxArticles)
	}
	for _, a := range n.Articles {
		if a.Title.v == "" {
			return errCode(codeMissingTitle)
		}
		if channel != chanWebhook && a.AppID.v != "" && a.PagePath.v != "" {
			continue // url is ignored when appid+pagepath are given
		}
		if e := checkURL(a.URL.v); e != nil {
			return e
		}
	}
	return nil
}

func checkMPNews(n *articlesBody) *apiError {
	if n == nil || len(n.Articles) == 0 || len(n.Articles) > maxArticles {
		return errCodef(codeArticleCount, "mpnews needs 1-%d articles", maxArticles)
	}
	for _, a := range n.Articles {
		switch {
		case a.Title.v == "":
			return errCode(codeMissingTitle)
		case a.ThumbMediaID.v == "":
			return errCode(codeMissingMediaID)
		case len(a.Content.v) > maxMPNewsContent:
			return errCodef(codeContentTooLarge, "mpnews content over 666 KB")
		case len(a.Author.v) > 64:
			return errCodef(codeAuthorTooLong, "author longer than 64 bytes")
		}
	}
	return nil
}

func checkMiniNotice(m *miniNoticeBody) *apiError {
	if m == nil || m.AppID.v == "" {
		return errCode(codeMissingMiniAppID)
	}
	if m.Title.v == "" {
		return errCode(codeMissingTitle)
	}
	if len(m.ContentItem) > maxMiniContentItems {
		return errCode(codeMiniItemsOver)
	}
	return nil
}
