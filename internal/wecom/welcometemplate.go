package wecom

import (
	"context"
	"fmt"
)

// GroupWelcomeTemplates manages the welcome messages of customer group chats (入群欢迎语素材,
// DOC-92366): at most 100 per corp, each edited and deleted only by the app that added it.
// WeCom has no call that lists them: the template_id add returns is the only handle.
type GroupWelcomeTemplates interface {
	AddGroupWelcomeTemplate(ctx context.Context, t GroupWelcomeTemplate, notify bool) (string, error)
	EditGroupWelcomeTemplate(ctx context.Context, id string, t GroupWelcomeTemplate) error
	GetGroupWelcomeTemplate(ctx context.Context, id string) (*GroupWelcomeTemplate, error)
	DeleteGroupWelcomeTemplate(ctx context.Context, id string) error
}

// Limits of group welcome templates (DOC-92366).
const (
	MaxGroupWelcomeTemplates    = 100
	MaxGroupWelcomeTemplateText = 3000 // text.content, bytes
)

// Errcodes of the group welcome template endpoints. Which codes WeCom answers for a missing
// or unknown template_id is unconfirmed; 84019/84020 are the official table's closest.
const (
	ErrCodeWelcomeTemplateLimit   = 41055 // 群欢迎语模板数量达到上限
	ErrCodeWelcomeTemplateNotMine = 41058 // 无此群欢迎语模板的编辑权限
	ErrCodeMissingTemplateID      = 84019 // 缺少templateid参数
	ErrCodeTemplateIDNotFound     = 84020 // templateid不存在
)

func init() {
	for _, api := range []string{apiGroupWelcomeTemplateEdit, apiGroupWelcomeTemplateGet, apiGroupWelcomeTemplateDel} {
		notFoundCodes[api] = []int{ErrCodeTemplateIDNotFound}
	}
	for code, m := range map[int]string{
		ErrCodeWelcomeTemplateLimit:   "too many group welcome templates",
		ErrCodeWelcomeTemplateNotMine: "no permission for the group welcome template",
		ErrCodeMissingTemplateID:      "template_id missing",
		ErrCodeTemplateIDNotFound:     "no such template_id",
	} {
		meanings[code] = m
	}
	for code, h := range map[int]string{
		ErrCodeWelcomeTemplateLimit:   "A corp holds at most 100 group welcome templates: delete ones it no longer uses.",
		ErrCodeWelcomeTemplateNotMine: "The template was added by another app: only that app may edit or delete it. Use a connection with that app's secret.",
		ErrCodeTemplateIDNotFound:     "The template does not exist (deleted in WeCom).",
	} {
		hints[code] = h
	}
}

// GroupWelcomeTemplate is a template's content: Text, and at most one attachment. When
// several are set WeCom keeps one, by priority image > link > miniprogram (then file and
// video). Text and attachment must not both be empty.
type GroupWelcomeTemplate struct {
	Text        *WelcomeText        `json:"text,omitempty"`
	Image       *WelcomeImage       `json:"image,omitempty"`
	Link        *WelcomeLink        `json:"link,omitempty"`
	MiniProgram *WelcomeMiniProgram `json:"miniprogram,omitempty"`
	File        *WelcomeMedia       `json:"file,omitempty"`
	Video       *WelcomeMedia       `json:"video,omitempty"`
}

// AddGroupWelcomeTemplate adds a template and returns its template_id (POST
// group_welcome_template/add). notify tells the corp's members to use it in their customer
// groups. A repeat adds a second template: after an ambiguous failure it is not retried.
func (c *Client) AddGroupWelcomeTemplate(ctx context.Context, t GroupWelcomeTemplate, notify bool) (string, error) {
	req := struct {
		GroupWelcomeTemplate
		Notify int `json:"notify"`
	}{t, boolInt(notify)}
	var resp struct {
		TemplateID string `json:"template_id"`
	}
	if err := c.call(ctx, epGroupWelcomeTemplateAdd, nil, req, &resp); err != nil {
		return "", err
	}
	return resp.TemplateID, nil
}

// EditGroupWelcomeTemplate replaces a template's content (POST group_welcome_template/edit);
// only the app that added it may.
func (c *Client) EditGroupWelcomeTemplate(ctx context.Context, id string, t GroupWelcomeTemplate) error {
	if id == "" {
		return fmt.Errorf("%w: %s needs a template_id", ErrInvalidRequest, apiGroupWelcomeTemplateEdit)
	}
	req := struct {
		TemplateID string `json:"template_id"`
		GroupWelcomeTemplate
	}{id, t}
	return c.call(ctx, epGroupWelcomeTemplateEdit, nil, req, nil)
}

// GetGroupWelcomeTemplate reads a template (POST group_welcome_template/get).
func (c *Client) GetGroupWelcomeTemplate(ctx context.Context, id string) (*GroupWelcomeTemplate, error) {
	var resp GroupWelcomeTemplate
	if err := c.call(ctx, epGroupWelcomeTemplateGet, nil, templateIDBody{id}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// DeleteGroupWelcomeTemplate deletes a template (POST group_welcome_template/del); only the
// app that added it may.
func (c *Client) DeleteGroupWelcomeTemplate(ctx context.Context, id string) error {
	return c.call(ctx, epGroupWelcomeTemplateDel, nil, templateIDBody{id}, nil)
}

type templateIDBody struct {
	TemplateID string `json:"template_id"`
}
