package wecom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// WebhookSender posts group-robot messages (§8). The robot key is the credential; there is
// no access token.
type WebhookSender interface {
	Send(ctx context.Context, key string, msg WebhookMessage) error
}

// WebhookMessage is a group-robot message: exactly one of Text (content ≤2048 bytes, with
// optional mentioned_list / mentioned_mobile_list), Markdown (≤4096 bytes), MarkdownV2
// (≤4096 bytes, no colours or mentions), News (1–8 articles, url required) or TemplateCard
// (text_notice or news_notice; main_title and card_action required).
type WebhookMessage struct {
	Text         *Text
	Markdown     *Markdown
	MarkdownV2   *Markdown
	News         *News
	TemplateCard *TemplateCard
}

// MarshalJSON writes the webhook/send body with msgtype from the body that is set.
func (m WebhookMessage) MarshalJSON() ([]byte, error) {
	body := messageBody{Text: m.Text, Markdown: m.Markdown, MarkdownV2: m.MarkdownV2, News: m.News, TemplateCard: m.TemplateCard}
	mt, err := body.msgType()
	if err != nil {
		return nil, err
	}
	return marshalNoEscape(struct {
		MsgType string `json:"msgtype"`
		messageBody
	}{mt, body})
}

// WebhookConfig configures a WebhookClient; all fields are optional (see Config).
type WebhookConfig struct {
	BaseURL    string
	HTTPClient *http.Client
	Retry      RetryPolicy
	Limiters   *Limiters
}

// WebhookClient sends group-robot messages for any number of robots. Each robot gets its own
// rate limiter (WeCom allows 20 messages per robot per minute), keyed by a hash of its key.
type WebhookClient struct {
	core
}

var _ WebhookSender = (*WebhookClient)(nil)

// NewWebhookClient returns a WebhookClient.
func NewWebhookClient(cfg WebhookConfig) (*WebhookClient, error) {
	c, err := newCore(cfg.BaseURL, cfg.HTTPClient, cfg.Retry, cfg.Limiters)
	if err != nil {
		return nil, err
	}
	return &WebhookClient{core: c}, nil
}

// Send posts msg to the robot with the given key (POST webhook/send?key=). A wrong key or a
// robot removed from its group is 93000 (IsCredential).
func (w *WebhookClient) Send(ctx context.Context, key string, msg WebhookMessage) error {
	if key == "" {
		return fmt.Errorf("%w: webhook key is empty", ErrInvalidRequest)
	}
	body, err := encodeBody(epWebhookSend, msg)
	if err != nil {
		return err
	}
	robot := w.core
	robot.scope = w.base.String() + "|robot:" + hashHex(key)[:16]
	robot.secrets = scrubber{newCredential(key)}
	q := url.Values{"key": {key}}
	return robot.withRetry(ctx, epWebhookSend, func(ctx context.Context) error {
		return robot.send(ctx, epWebhookSend, q, body, nil)
	})
}
