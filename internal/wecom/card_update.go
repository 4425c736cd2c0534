package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Errcodes of interactive template cards (§14).
const (
	ErrCodeInvalidTaskID       = 42014 // 任务卡片消息的task_id不合法: empty, repeated (per app) or too long
	ErrCodeCardAppMismatch     = 42015 // 更新的消息的应用与发送消息的应用不匹配
	ErrCodeCallbackURLRequired = 43012 // 应用需配置回调url: interactive cards need the app's callback
	ErrCodeInvalidResponseCode = 60140 // 无效的response_code: unknown, used, or older than 72 h
)

var _ CardUpdater = (*Client)(nil)

// CardUpdater updates template cards already sent (§14).
type CardUpdater interface {
	UpdateTemplateCard(ctx context.Context, req UpdateTemplateCardRequest) (invalidUsers []string, err error)
}

// UpdateTemplateCardRequest is a message/update_template_card call: change the copies of
// one card, named by a response code, for some or all of its recipients.
//
// ResponseCode comes from SendMessage (SendResult.ResponseCode) or from a click
// (TemplateCardEvent.ResponseCode). Each code works once, within 72 hours; a used or expired
// one gets ErrCodeInvalidResponseCode. Any code of a card can update any of its recipients.
type UpdateTemplateCardRequest struct {
	// UserIDs (≤1000), PartyIDs (≤100) and TagIDs (≤100) select recipients of the card;
	// AtAll selects all of them. At least one is required.
	UserIDs  []string
	PartyIDs []int
	TagIDs   []int
	AtAll    bool
	// AgentID must be the app that sent the card (301002 if it is not the client's app,
	// ErrCodeCardAppMismatch if the card came from another app).
	AgentID      int
	ResponseCode string
	// EnableIDTrans: 1 turns on id translation.
	EnableIDTrans int

	// Exactly one of ReplaceName and TemplateCard. ReplaceName greys the card's buttons out
	// under this label (button, vote and multiple interaction cards only). TemplateCard
	// replaces the whole card with one of any type; an interactive replacement keeps the
	// card's TaskID.
	ReplaceName  string
	TemplateCard *TemplateCard
}

// MarshalJSON writes the update_template_card body.
func (r UpdateTemplateCardRequest) MarshalJSON() ([]byte, error) {
	type button struct {
		ReplaceName string `json:"replace_name"`
	}
	body := struct {
		UserIDs       []string      `json:"userids,omitempty"`
		PartyIDs      []int         `json:"partyids,omitempty"`
		TagIDs        []int         `json:"tagids,omitempty"`
		AtAll         int           `json:"atall,omitempty"`
		AgentID       int           `json:"agentid"`
		ResponseCode  string        `json:"response_code"`
		EnableIDTrans int           `json:"enable_id_trans,omitempty"`
		Button        *button       `json:"button,omitempty"`
		TemplateCard  *TemplateCard `json:"template_card,omitempty"`
	}{
		UserIDs: r.UserIDs, PartyIDs: r.PartyIDs, TagIDs: r.TagIDs, AgentID: r.AgentID,
		ResponseCode: r.ResponseCode, EnableIDTrans: r.EnableIDTrans, TemplateCard: r.TemplateCard,
	}
	if r.AtAll {
		body.AtAll = 1
	}
	if r.ReplaceName != "" {
		body.Button = &button{ReplaceName: r.ReplaceName}
	}
	return marshalNoEscape(body)
}

func (r UpdateTemplateCardRequest) check() error {
	switch {
	case r.ResponseCode == "":
		return fmt.Errorf("%w: update_template_card needs a response code", ErrInvalidRequest)
	case (r.ReplaceName == "") == (r.TemplateCard == nil):
		return fmt.Errorf("%w: update_template_card needs exactly one of ReplaceName and TemplateCard", ErrInvalidRequest)
	case !r.AtAll && len(r.UserIDs)+len(r.PartyIDs)+len(r.TagIDs) == 0:
		return fmt.Errorf("%w: update_template_card names no recipients (userids, partyids, tagids empty and not AtAll)", ErrInvalidRequest)
	}
	return nil
}

// UpdateTemplateCard updates a sent template card (POST message/update_template_card) and
// returns the userids WeCom reported as invalid (named but not recipients of the card).
//
// The response code is spent by a successful call. The call is retried after transport
// failures like other writes; if an earlier attempt was applied, the retry gets
// ErrCodeInvalidResponseCode with IsAmbiguous(err) true: the card was most likely updated.
func (c *Client) UpdateTemplateCard(ctx context.Context, req UpdateTemplateCardRequest) ([]string, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	var resp struct {
		// An array here (the reference marks the shape unconfirmed); a pipe-joined string, as
		// message/send has, is accepted too.
		InvalidUser json.RawMessage `json:"invaliduser"`
	}
	if err := c.call(ctx, epMessageUpdateTemplateCard, nil, req, &resp); err != nil {
		return nil, err
	}
	return stringsOrPipe(resp.InvalidUser), nil
}

// stringsOrPipe reads ["a","b"] or "a|b"; anything else (absent, null) gives nil.
func stringsOrPipe(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, s := range list {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return splitPipe(s)
	}
	return nil
}
