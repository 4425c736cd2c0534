package wecomsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Customers (客户联系): a WeChat user scanning a 「联系我」 code adds the
// way's member, which WeCom reports with change_external_contact /
// add_external_contact carrying the way's State and a WelcomeCode; the app
// may then send one welcome message with externalcontact/send_welcome_msg
// (§13; DOC-92137/92599, seed 002).

const (
	// welcomeCodeTTL: "仅可在收到相关事件后20秒内调用，且只可调用一次"
	// (DOC-92599; §13). Measured on the simulator clock.
	welcomeCodeTTL = 20 * time.Second

	// send_welcome_msg limits (DOC-92599, as copied by SDKs generated from
	// it): text ≤4000 bytes; ≤9 attachments; link title ≤128 and desc ≤512
	// bytes; miniprogram title ≤64 bytes.
	maxWelcomeText        = 4000
	maxWelcomeAttachments = 9
	maxWelcomeLinkTitle   = 128
	maxWelcomeLinkDesc    = 512
	maxWelcomeMiniTitle   = 64
)

// ExternalContact is a customer (外部联系人) added through a contact way.
type ExternalContact struct {
	ExternalUserID string `json:"external_userid"`
	// UserID is the member who added the customer (the follow user).
	UserID string `json:"userid"`
	// State is the contact way's state.
	State    string    `json:"state,omitempty"`
	ConfigID string    `json:"config_id"`
	AddTime  time.Time `json:"add_time"` // simulator clock
	// TransferOutcome, when seeded as 3 (the customer refuses) or 4 (the
	// takeover member has too many customers), is how a handover of this
	// customer ends (transfer.go); 0 completes it.
	TransferOutcome int `json:"transfer_outcome,omitempty"`
}

// welcomeCode is a WelcomeCode pushed with add_external_contact.
type welcomeCode struct {
	code           string
	externalUserID string
	userID         string
	issued         time.Time
	used           bool
}

// WelcomeMessage is a welcome message sent with send_welcome_msg.
type WelcomeMessage struct {
	WelcomeCode    string              `json:"welcome_code"`
	ExternalUserID string              `json:"external_userid"`
	UserID         string              `json:"userid"`
	AgentID        int64               `json:"agent_id"` // the sending app
	Text           string              `json:"text,omitempty"`
	Attachments    []WelcomeAttachment `json:"attachments,omitempty"`
	SentAt         time.Time           `json:"sent_at"` // simulator clock
}

// WelcomeAttachment is one attachment of a welcome message: MsgType and
// the matching object.
type WelcomeAttachment struct {
	MsgType     string              `json:"msgtype"`
	Image       *WelcomeImage       `json:"image,omitempty"`
	Link        *WelcomeLink        `json:"link,omitempty"`
	MiniProgram *WelcomeMiniProgram `json:"miniprogram,omitempty"`
	Video       *WelcomeMedia       `json:"video,omitempty"`
	File        *WelcomeMedia       `json:"file,omitempty"`
}

// WelcomeImage has a media_id or a pic_url (media_id wins when both are given).
type WelcomeImage struct {
	MediaID string `json:"media_id,omitempty"`
	PicURL  string `json:"pic_url,omitempty"`
}

// WelcomeLink is a link card.
type WelcomeLink struct {
	Title  string `json:"title"`
	PicURL string `json:"picurl,omitempty"`
	Desc   string `json:"desc,omitempty"`
	URL    string `json:"url"`
}

// WelcomeMiniProgram is a mini-program card.
type WelcomeMiniProgram struct {
	Title      string `json:"title"`
	PicMediaID string `json:"pic_media_id"`
	AppID      string `json:"appid"`
	Page       string `json:"page"`
}

// WelcomeMedia is a video or file.
type WelcomeMedia struct {
	MediaID string `json:"media_id"`
}

func (m WelcomeMessage) clone() WelcomeMessage {
	m.Attachments = slices.Clone(m.Attachments)
	return m
}

// ScanRequest is the body of POST /sim/scan: the contact way by config_id,
// or the first way (in creation order) with that state.
type ScanRequest struct {
	ConfigID string `json:"config_id,omitempty"`
	State    string `json:"state,omitempty"`
}

// ScanResult is the answer of POST /sim/scan.
type ScanResult struct {
	ExternalUserID string `json:"external_userid"`
	UserID         string `json:"userid"`
	State          string `json:"state"`
	WelcomeCode    string `json:"welcome_code"`
	// Deliveries are the seqs of the add_external_contact deliveries queued.
	Deliveries []int64 `json:"deliveries"`
}

// Scan is a new customer scanning a contact way's QR code (or tapping its
// mini-program button) and being added by the way's member: the way's
// first member who still exists and is enabled, or else the first such
// member of its departments, in order (which member WeCom picks for a
// multi-member way is its own; the first is a simulator choice). It
// records a new external contact, issues a WelcomeCode valid for 20 s on
// the simulator clock, and pushes add_external_contact to every app with
// customer-contact permission, a saved callback and the member in its
// visible range. It is not an API call (no call log, no quota).
//
// No admin-configured welcome message is simulated, so the WelcomeCode is
// always sent (WeCom leaves it out when one is configured).
func (s *Sim) Scan(req ScanRequest) (ScanResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.wayForScan(req)
	if err != nil {
		return ScanResult{}, err
	}
	now := s.Now()
	if w.IsTemp {
		// A temp-session code expires, and becomes invalid once the friend
		// is added (§5).
		if now.After(w.CreatedAt.Add(time.Duration(w.ExpiresIn) * time.Second)) {
			return ScanResult{}, fmt.Errorf("scan refused: temporary contact way %s has expired", w.ConfigID)
		}
		if slices.ContainsFunc(s.externals, func(c *ExternalContact) bool { return c.ConfigID == w.ConfigID }) {
			return ScanResult{}, fmt.Errorf("scan refused: temporary contact way %s was already used", w.ConfigID)
		}
	}
	member := s.wayMember(w)
	if member == nil {
		return ScanResult{}, fmt.Errorf("scan refused: contact way %s has no existing, enabled member", w.ConfigID)
	}
	ext := &ExternalContact{ExternalUserID: s.newExternalUserID(), UserID: member.UserID, State: w.State,
		ConfigID: w.ConfigID, AddTime: now}
	s.externals = append(s.externals, ext)
	code := &welcomeCode{code: s.newWelcomeCode(), externalUserID: ext.ExternalUserID, userID: member.UserID, issued: now}
	s.welcomeCodes[code.code] = code
	ev := s.externalContactEvent(wecom.ChangeAddExternalContact, member.UserID, ext.ExternalUserID, w.State, code.code)
	return ScanResult{
		ExternalUserID: ext.ExternalUserID, UserID: member.UserID, State: w.State, WelcomeCode: code.code,
		Deliveries: s.pushCustomerEvent(member, ev),
	}, nil
}

func (s *Sim) wayForScan(req ScanRequest) (*ContactWay, error) {
	switch {
	case req.ConfigID != "":
		if w := s.ways[req.ConfigID]; w != nil {
			return w, nil
		}
		return nil, fmt.Errorf("scan refused: no contact way with config_id %q", req.ConfigID)
	case req.State != "":
		for _, w := range s.sortedWays() {
			if w.State == req.State {
				return w, nil
			}
		}
		return nil, fmt.Errorf("scan refused: no contact way with state %q", req.State)
	}
	return nil, fmt.Errorf("scan needs config_id or state")
}

// wayMember picks the member a scan adds.
func (s *Sim) wayMember(w *ContactWay) *User {
	usable := func(u *User) bool { return u != nil && !u.Disabled }
	for _, id := range w.Users {
		if u := s.users[lower(id)]; usable(u) {
			return u
		}
	}
	for _, p := range w.Parties {
		for _, u := range s.partyMembers(p) {
			if usable(u) {
				return u
			}
		}
	}
	return nil
}

// newExternalUserID makes an id shaped like WeCom's ("wm" + 30 characters).
func (s *Sim) newExternalUserID() string {
	for {
		id := "wm" + s.randString(30, alnum)
		if !slices.ContainsFunc(s.externals, func(c *ExternalContact) bool { return c.ExternalUserID == id }) {
			return id
		}
	}
}

func (s *Sim) newWelcomeCode() string {
	for {
		c := s.randString(43, alnum)
		if s.welcomeCodes[c] == nil {
			return c
		}
	}
}

func (s *Sim) adminScan(r *http.Request) (any, error) {
	var req ScanRequest
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	return s.Scan(req)
}

// ---- externalcontact/send_welcome_msg ----

type welcomeRequest struct {
	WelcomeCode optString `json:"welcome_code"`
	Text        *struct {
		Content optString `json:"content"`
	} `json:"text"`
	Attachments json.RawMessage `json:"attachments"`
}

type welcomeAttachmentBody struct {
	MsgType optString `json:"msgtype"`
	Image   *struct {
		MediaID optString `json:"media_id"`
		PicURL  optString `json:"pic_url"`
	} `json:"image"`
	Link *struct {
		Title  optString `json:"title"`
		PicURL optString `json:"picurl"`
		Desc   optString `json:"desc"`
		URL    optString `json:"url"`
	} `json:"link"`
	MiniProgram *struct {
		Title      optString `json:"title"`
		PicMediaID optString `json:"pic_media_id"`
		AppID      optString `json:"appid"`
		Page       optString `json:"page"`
	} `json:"miniprogram"`
	Video *struct {
		MediaID optString `json:"media_id"`
	} `json:"video"`
	File *struct {
		MediaID optString `json:"media_id"`
	} `json:"file"`
}

// parseWelcomeAttachments validates attachments: ≤9 (41064), each with a
// known msgtype (41065) and the object that msgtype names filled in. Media
// upload is not simulated, so any non-empty media_id is accepted. The
// codes for missing or over-long fields are unconfirmed; the simulator uses
// the ones message/send uses for the same faults: 41006 media_id missing,
// 41016 title missing, 41010/40039/45034 for the url, 90200 appid missing,
// 45002 over a byte limit, 40058 otherwise.
func parseWelcomeAttachments(raw json.RawMessage) ([]WelcomeAttachment, *apiError) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, nil
	}
	var items []welcomeAttachmentBody
	if err := json.Unmarshal(t, &items); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, errCodef(codeInvalidParam, "attachments must be a list of objects")
	}
	if len(items) > maxWelcomeAttachments {
		return nil, errCodef(codeTooManyAttachments, "%d attachments, at most %d", len(items), maxWelcomeAttachments)
	}
	out := make([]WelcomeAttachment, 0, len(items))
	for i, it := range items {
		a, e := checkWelcomePart(it.MsgType.v, &it, fmt.Sprintf("attachment %d", i))
		if e != nil {
			return nil, e
		}
		out = append(out, a)
	}
	return out, nil
}

// checkWelcomePart validates the object of kind (image, link, miniprogram, video or file) in
// it, for send_welcome_msg's attachments and the group welcome templates alike; where names
// the part in the call log.
func checkWelcomePart(kind string, it *welcomeAttachmentBody, where string) (WelcomeAttachment, *apiError) {
	a := WelcomeAttachment{MsgType: kind}
	switch kind {
	case "image":
		// "media_id和pic_url只需填写一个，两者同时填写时使用media_id，二者不可同时为空"
		if it.Image == nil || (it.Image.MediaID.v == "" && it.Image.PicURL.v == "") {
			return a, errCodef(codeMissingMediaID, "%s: image needs media_id or pic_url", where)
		}
		a.Image = &WelcomeImage{MediaID: it.Image.MediaID.v}
		if a.Image.MediaID == "" {
			a.Image.PicURL = it.Image.PicURL.v
		}
	case "link":
		l := it.Link
		switch {
		case l == nil || l.Title.v == "":
			return a, errCodef(codeMissingTitle, "%s: link needs a title", where)
		case len(l.Title.v) > maxWelcomeLinkTitle:
			return a, errCodef(codeContentTooLarge, "%s: link title over %d bytes", where, maxWelcomeLinkTitle)
		case len(l.Desc.v) > maxWelcomeLinkDesc:
			return a, errCodef(codeContentTooLarge, "%s: link desc over %d bytes", where, maxWelcomeLinkDesc)
		}
		if e := checkURL(l.URL.v); e != nil {
			e.detail = where + ": link url"
			return a, e
		}
		a.Link = &WelcomeLink{Title: l.Title.v, PicURL: l.PicURL.v, Desc: l.Desc.v, URL: l.URL.v}
	case "miniprogram":
		m := it.MiniProgram
		switch {
		case m == nil || m.Title.v == "":
			return a, errCodef(codeMissingTitle, "%s: miniprogram needs a title", where)
		case len(m.Title.v) > maxWelcomeMiniTitle:
			return a, errCodef(codeContentTooLarge, "%s: miniprogram title over %d bytes", where, maxWelcomeMiniTitle)
		case m.PicMediaID.v == "":
			return a, errCodef(codeMissingMediaID, "%s: miniprogram needs pic_media_id", where)
		case m.AppID.v == "":
			return a, errCodef(codeMissingMiniAppID, "%s: miniprogram needs appid", where)
		case m.Page.v == "":
			return a, errCodef(codeInvalidParam, "%s: miniprogram needs page", where)
		}
		a.MiniProgram = &WelcomeMiniProgram{Title: m.Title.v, PicMediaID: m.PicMediaID.v, AppID: m.AppID.v, Page: m.Page.v}
	case "video":
		if it.Video == nil || it.Video.MediaID.v == "" {
			return a, errCodef(codeMissingMediaID, "%s: video needs media_id", where)
		}
		a.Video = &WelcomeMedia{MediaID: it.Video.MediaID.v}
	case "file":
		if it.File == nil || it.File.MediaID.v == "" {
			return a, errCodef(codeMissingMediaID, "%s: file needs media_id", where)
		}
		a.File = &WelcomeMedia{MediaID: it.File.MediaID.v}
	default:
		return a, errCodef(codeInvalidAttachmentType, "%s: msgtype %q (want image, link, miniprogram, video or file)", where, kind)
	}
	return a, nil
}

// handleSendWelcomeMsg implements POST externalcontact/send_welcome_msg
// (DOC-92137/92599). Check order (unconfirmed): welcome_code present
// (41049), the body (attachments, then text: "text与附件信息可以同时发送" but
// not both empty → 44004, unconfirmed code; text ≤4000 bytes → 45002,
// unconfirmed code), then the code: unknown or older than 20 s → 41050,
// already used → 41051 (DOC-92599: later callers get 41051), the member
// outside the calling app's visible range → 60011 (unconfirmed code). A
// refused call does not use up the code. 41096 (欢迎语已在发送中) never
// happens: the simulator handles one call at a time.
func handleSendWelcomeMsg(s *Sim, c *call) reply {
	var req welcomeRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if !req.WelcomeCode.given() {
		return fail(codeMissingWelcomeCode)
	}
	attachments, e := parseWelcomeAttachments(req.Attachments)
	if e != nil {
		return failErr(e)
	}
	text := ""
	if req.Text != nil {
		text = req.Text.Content.v
	}
	if len(text) > maxWelcomeText {
		return failf(codeContentTooLarge, "text.content is %d bytes, limit %d", len(text), maxWelcomeText)
	}
	if text == "" && len(attachments) == 0 {
		return failf(codeEmptyContent, "text.content and attachments are both empty")
	}
	wc := s.welcomeCodes[req.WelcomeCode.v]
	switch {
	case wc == nil:
		return failf(codeInvalidWelcomeCode, "unknown welcome_code")
	case wc.used:
		return failf(codeWelcomeChatStarted, "welcome_code already used")
	case c.now.Sub(wc.issued) > welcomeCodeTTL:
		return failf(codeInvalidWelcomeCode, "welcome_code expired %s after the event", c.now.Sub(wc.issued).Round(time.Second))
	}
	if u := s.users[lower(wc.userID)]; u != nil && !s.visibleTo(c.app, u) {
		return failf(codeOutOfRange, "member %q outside the app's visible range", wc.userID)
	}
	wc.used = true
	s.welcomes = append(s.welcomes, &WelcomeMessage{
		WelcomeCode: wc.code, ExternalUserID: wc.externalUserID, UserID: wc.userID, AgentID: c.app.AgentID,
		Text: text, Attachments: attachments, SentAt: c.now,
	})
	return ok(nil)
}
