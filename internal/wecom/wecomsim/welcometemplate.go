package wecomsim

import (
	"slices"
)

// Group welcome templates (入群欢迎语素材, DOC-92366, 2023/12/01; seed 002): the message a
// customer group chat shows new members. add returns a template_id; edit, get and del take
// it. WeCom has no call that lists them.

const (
	maxWelcomeTemplates    = 100  // "每个企业的入群欢迎语素材库中，最多容纳100个素材" (41055)
	maxWelcomeTemplateText = 3000 // text.content, bytes (DOC-92366)
)

// welcomeTemplateParts is the order in which a template's attachment is chosen when several
// are given: "image、link和miniprogram只能有一个，如果三者同时填，则按image、link、miniprogram的
// 优先顺序取参" (DOC-92366). file and video came later; that they follow miniprogram is
// unconfirmed.
var welcomeTemplateParts = []string{"image", "link", "miniprogram", "file", "video"}

// GroupWelcomeTemplate is one template as stored: the text and the one attachment that took
// effect.
type GroupWelcomeTemplate struct {
	ID         string             `json:"template_id"`
	Text       string             `json:"text,omitempty"`
	Attachment *WelcomeAttachment `json:"attachment,omitempty"`
	Notify     bool               `json:"notify"`
	Owner      string             `json:"owner_app"`
	seq        int64
}

func (t GroupWelcomeTemplate) clone() GroupWelcomeTemplate {
	if t.Attachment != nil {
		a := *t.Attachment
		t.Attachment = &a
	}
	return t
}

type welcomeTemplateRequest struct {
	welcomeAttachmentBody
	TemplateID optString `json:"template_id"`
	Text       *struct {
		Content optString `json:"content"`
	} `json:"text"`
	Notify optBool `json:"notify"`
}

// content validates a template's text and attachment: text ≤3000 bytes (45002, unconfirmed
// code), text and attachment not both empty (44004, unconfirmed code), each part as
// send_welcome_msg checks it. Parts after the one that takes effect are ignored unchecked.
func (req *welcomeTemplateRequest) content() (string, *WelcomeAttachment, *apiError) {
	text := ""
	if req.Text != nil {
		text = req.Text.Content.v
	}
	if len(text) > maxWelcomeTemplateText {
		return "", nil, errCodef(codeContentTooLarge, "text.content is %d bytes, limit %d", len(text), maxWelcomeTemplateText)
	}
	b := &req.welcomeAttachmentBody
	given := map[string]bool{
		"image": b.Image != nil, "link": b.Link != nil, "miniprogram": b.MiniProgram != nil,
		"file": b.File != nil, "video": b.Video != nil,
	}
	for _, kind := range welcomeTemplateParts {
		if !given[kind] {
			continue
		}
		a, e := checkWelcomePart(kind, b, kind)
		if e != nil {
			return "", nil, e
		}
		return text, &a, nil
	}
	if text == "" {
		return "", nil, errCodef(codeEmptyContent, "text and every attachment are empty")
	}
	return text, nil, nil
}

func (s *Sim) newTemplateID() string {
	for {
		id := "msg" + s.randString(24, alnum)
		if s.welcomeTemplates[id] == nil {
			return id
		}
	}
}

// ownTemplate decodes an edit or del body and resolves its template, which only the app
// that added it may change ("仅能够编辑/删除调用方自己创建的", 41058).
func (s *Sim) ownTemplate(c *call) (*GroupWelcomeTemplate, *welcomeTemplateRequest, *apiError) {
	var req welcomeTemplateRequest
	if e := c.decode(&req); e != nil {
		return nil, nil, e
	}
	t, e := s.templateFor(req.TemplateID)
	if e != nil {
		return nil, nil, e
	}
	if t.Owner != c.app.Name {
		return nil, nil, errCodef(codeWelcomeTemplateNotMine, "template %s belongs to app %q", t.ID, t.Owner)
	}
	return t, &req, nil
}

// templateFor resolves template_id (84019 missing, 84020 unknown; unconfirmed codes).
func (s *Sim) templateFor(id optString) (*GroupWelcomeTemplate, *apiError) {
	if !id.given() {
		return nil, errCodef(codeMissingTemplateID, "template_id is required")
	}
	t := s.welcomeTemplates[id.v]
	if t == nil {
		return nil, errCodef(codeTemplateIDNotFound, "template %q does not exist", id.v)
	}
	return t, nil
}

// handleAddGroupWelcomeTemplate implements POST externalcontact/group_welcome_template/add.
// notify (0/1, number or string) defaults to 1: the members are told to use the template in
// their customer groups. agentid is for old multi-app suites and is ignored.
func handleAddGroupWelcomeTemplate(s *Sim, c *call) reply {
	var req welcomeTemplateRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	text, att, e := req.content()
	if e != nil {
		return failErr(e)
	}
	if len(s.welcomeTemplates) >= maxWelcomeTemplates {
		return failf(codeWelcomeTemplateLimit, "the corp has %d templates, at most %d", len(s.welcomeTemplates), maxWelcomeTemplates)
	}
	t := &GroupWelcomeTemplate{ID: s.newTemplateID(), Text: text, Attachment: att, Notify: req.Notify.or(true), Owner: c.app.Name, seq: s.nextSeq()}
	s.welcomeTemplates[t.ID] = t
	return ok(map[string]any{"template_id": t.ID})
}

// handleEditGroupWelcomeTemplate implements POST externalcontact/group_welcome_template/edit:
// only the app that added the template may edit it ("仅能够编辑调用方自己创建的", 41058). The
// body replaces the template's whole content, as add sets it (whether WeCom keeps parts an
// edit leaves out is unconfirmed). notify is not an edit field.
func handleEditGroupWelcomeTemplate(s *Sim, c *call) reply {
	t, req, e := s.ownTemplate(c)
	if e != nil {
		return failErr(e)
	}
	text, att, e := req.content()
	if e != nil {
		return failErr(e)
	}
	t.Text, t.Attachment = text, att
	return ok(nil)
}

// handleGetGroupWelcomeTemplate implements POST externalcontact/group_welcome_template/get:
// any app with customer-contact permission may read a template; the reply carries text and
// the attachment under its own key, as add takes them. An image added by media_id is
// returned with that media_id (real WeCom may answer a pic_url instead: unconfirmed).
func handleGetGroupWelcomeTemplate(s *Sim, c *call) reply {
	var req welcomeTemplateRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	t, e := s.templateFor(req.TemplateID)
	if e != nil {
		return failErr(e)
	}
	out := map[string]any{}
	if t.Text != "" {
		out["text"] = map[string]any{"content": t.Text}
	}
	if a := t.Attachment; a != nil {
		switch {
		case a.Image != nil:
			out["image"] = a.Image
		case a.Link != nil:
			out["link"] = a.Link
		case a.MiniProgram != nil:
			out["miniprogram"] = a.MiniProgram
		case a.File != nil:
			out["file"] = a.File
		case a.Video != nil:
			out["video"] = a.Video
		}
	}
	return ok(out)
}

// handleDelGroupWelcomeTemplate implements POST externalcontact/group_welcome_template/del:
// by the adding app only (41058).
func handleDelGroupWelcomeTemplate(s *Sim, c *call) reply {
	t, _, e := s.ownTemplate(c)
	if e != nil {
		return failErr(e)
	}
	delete(s.welcomeTemplates, t.ID)
	return ok(nil)
}

// WelcomeTemplate returns the group welcome template with id from the snapshot.
func (s Snapshot) WelcomeTemplate(id string) (GroupWelcomeTemplate, bool) {
	i := slices.IndexFunc(s.WelcomeTemplates, func(t GroupWelcomeTemplate) bool { return t.ID == id })
	if i < 0 {
		return GroupWelcomeTemplate{}, false
	}
	return s.WelcomeTemplates[i], true
}
