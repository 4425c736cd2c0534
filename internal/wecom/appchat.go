package wecom

import (
	"context"
	"fmt"
	"net/url"
)

// AppChats manages group chats created by the app (§4). The app's visible range must be the
// root department (48002 otherwise) and only the creating app may manage a chat (86008).
type AppChats interface {
	CreateAppChat(ctx context.Context, req CreateAppChatRequest) (chatID string, err error)
	UpdateAppChat(ctx context.Context, req UpdateAppChatRequest) error
	GetAppChat(ctx context.Context, chatID string) (*AppChat, error)
	SendAppChat(ctx context.Context, msg AppChatMessage) error
}

// CreateAppChatRequest is the body of appchat/create.
type CreateAppChatRequest struct {
	// Name ≤50 characters (truncated beyond); empty lets WeCom choose.
	Name string `json:"name,omitempty"`
	// Owner is a userid; empty picks a random member.
	Owner string `json:"owner,omitempty"`
	// UserList is required: 2–2000 userids.
	UserList []string `json:"userlist"`
	// ChatID ≤32 chars of [0-9a-zA-Z]; empty lets WeCom choose. Choosing it makes a lost
	// reply recoverable: the retry reports 86215 (IsAlreadyExists).
	ChatID string `json:"chatid,omitempty"`
}

// UpdateAppChatRequest is the body of appchat/update. Only ChatID is required; empty fields
// are not sent. Owner is required when DelUserList removes the current owner.
type UpdateAppChatRequest struct {
	ChatID      string   `json:"chatid"`
	Name        string   `json:"name,omitempty"`
	Owner       string   `json:"owner,omitempty"`
	AddUserList []string `json:"add_user_list,omitempty"`
	DelUserList []string `json:"del_user_list,omitempty"`
}

// AppChat is chat_info of appchat/get.
type AppChat struct {
	ChatID   string   `json:"chatid"`
	Name     string   `json:"name"`
	Owner    string   `json:"owner"`
	UserList []string `json:"userlist"`
	// ChatType is 0 for a normal chat, 1 for a course chat.
	ChatType int `json:"chat_type"`
}

// AppChatMessage is the body of appchat/send: a chat and exactly one of Text, Markdown,
// TextCard, News (same bodies as message/send; there is no agentid).
type AppChatMessage struct {
	ChatID string
	// Safe: 0 shareable, 1 confidential.
	Safe     int
	Text     *Text
	Markdown *Markdown
	TextCard *TextCard
	News     *News
}

// MarshalJSON writes the appchat/send body with msgtype from the body that is set.
func (m AppChatMessage) MarshalJSON() ([]byte, error) {
	body := messageBody{Text: m.Text, Markdown: m.Markdown, TextCard: m.TextCard, News: m.News}
	mt, err := body.msgType()
	if err != nil {
		return nil, err
	}
	return marshalNoEscape(struct {
		ChatID  string `json:"chatid"`
		MsgType string `json:"msgtype"`
		messageBody
		Safe int `json:"safe,omitempty"`
	}{m.ChatID, mt, body, m.Safe})
}

// CreateAppChat creates a chat and returns its chatid (POST appchat/create).
func (c *Client) CreateAppChat(ctx context.Context, req CreateAppChatRequest) (string, error) {
	var resp struct {
		ChatID string `json:"chatid"`
	}
	ep := epAppChatCreate
	if req.ChatID == "" {
		ep = epAppChatCreateOnce
	}
	if err := c.call(ctx, ep, nil, req, &resp); err != nil {
		return "", err
	}
	if resp.ChatID == "" {
		resp.ChatID = req.ChatID
	}
	return resp.ChatID, nil
}

// UpdateAppChat renames the chat, changes its owner or its members (POST appchat/update).
func (c *Client) UpdateAppChat(ctx context.Context, req UpdateAppChatRequest) error {
	return c.call(ctx, epAppChatUpdate, nil, req, nil)
}

// GetAppChat returns a chat (GET appchat/get?chatid=).
func (c *Client) GetAppChat(ctx context.Context, chatID string) (*AppChat, error) {
	var resp struct {
		ChatInfo AppChat `json:"chat_info"`
	}
	if err := c.call(ctx, epAppChatGet, url.Values{"chatid": {chatID}}, nil, &resp); err != nil {
		return nil, err
	}
	return &resp.ChatInfo, nil
}

// SendAppChat sends a message to a chat (POST appchat/send). Messages over WeCom's per-chat
// limits are silently dropped by WeCom, which still answers 0.
func (c *Client) SendAppChat(ctx context.Context, msg AppChatMessage) error {
	if msg.ChatID == "" {
		return fmt.Errorf("%w: appchat/send needs a chatid", ErrInvalidRequest)
	}
	if _, err := (messageBody{Text: msg.Text, Markdown: msg.Markdown, TextCard: msg.TextCard, News: msg.News}).msgType(); err != nil {
		return err
	}
	return c.call(ctx, epAppChatSend, nil, msg, nil)
}
