package wecom

import (
	"context"
)

// ContactWays manages 「联系我」 contact ways (§5). The app must be listed under 客户联系 →
// 可调用接口的应用 (48002 otherwise). Store the config_id: it is the only handle.
type ContactWays interface {
	AddContactWay(ctx context.Context, req AddContactWayRequest) (*AddContactWayResult, error)
	GetContactWay(ctx context.Context, configID string) (*ContactWay, error)
	UpdateContactWay(ctx context.Context, req UpdateContactWayRequest) error
	DeleteContactWay(ctx context.Context, configID string) error
	ListContactWays(ctx context.Context, req ListContactWayRequest) (*ContactWayPage, error)
}

// Contact way type and scene values.
const (
	ContactWaySingle      = 1 // type: one member
	ContactWayMulti       = 2 // type: several members
	ContactWaySceneButton = 1 // scene: mini-program button
	ContactWaySceneQRCode = 2 // scene: QR code
)

// AddContactWayRequest is the body of externalcontact/add_contact_way. There is no natural
// key, so a create whose reply was lost cannot be detected by retrying; use State to tag it
// and find it again through ListContactWays + GetContactWay.
type AddContactWayRequest struct {
	// Type is required: ContactWaySingle or ContactWayMulti.
	Type int `json:"type"`
	// Scene is required: ContactWaySceneButton or ContactWaySceneQRCode.
	Scene int `json:"scene"`
	// Style is the mini-program button style.
	Style int `json:"style,omitempty"`
	// Remark ≤30 characters.
	Remark string `json:"remark,omitempty"`
	// SkipVerify: nil leaves WeCom's default (true: add without confirmation).
	SkipVerify *bool `json:"skip_verify,omitempty"`
	// State ≤30 characters, returned with the customer's details.
	State string `json:"state,omitempty"`
	// User: exactly one userid for single; for multi, User and Party together ≤100 members.
	User  []string `json:"user,omitempty"`
	Party []int    `json:"party,omitempty"`
	// IsTemp makes a temporary-session way (medical corps only; single only).
	IsTemp bool `json:"is_temp,omitempty"`
	// ExpiresIn is the temporary QR code's validity in seconds (default 7 days, max 14).
	ExpiresIn int `json:"expires_in,omitempty"`
	// ChatExpiresIn is the temporary session's validity in seconds (default 24 h, max 14 d).
	ChatExpiresIn int    `json:"chat_expires_in,omitempty"`
	UnionID       string `json:"unionid,omitempty"`
	// IsExclusive: a customer can add only one member of the corp through this way.
	IsExclusive bool `json:"is_exclusive,omitempty"`
	// MarkSource: nil leaves WeCom's default (true); only for 「营销获客」 apps.
	MarkSource *bool `json:"mark_source,omitempty"`
	// Conclusions is the closing message of a temporary session.
	Conclusions *Conclusions `json:"conclusions,omitempty"`
}

// Conclusions is the end message of a temporary session: text plus at most one of image,
// link, miniprogram (priority image > link > miniprogram).
type Conclusions struct {
	Text        *ConclusionText  `json:"text,omitempty"`
	Image       *ConclusionImage `json:"image,omitempty"`
	Link        *ConclusionLink  `json:"link,omitempty"`
	MiniProgram *ConclusionMini  `json:"miniprogram,omitempty"`
}

// ConclusionText is ≤4000 bytes.
type ConclusionText struct {
	Content string `json:"content"`
}

// ConclusionImage takes media_id on write and comes back as pic_url on read.
type ConclusionImage struct {
	MediaID string `json:"media_id,omitempty"`
	PicURL  string `json:"pic_url,omitempty"`
}

// ConclusionLink is a link card: title ≤128 bytes, desc ≤512 bytes.
type ConclusionLink struct {
	Title  string `json:"title"`
	PicURL string `json:"picurl,omitempty"`
	Desc   string `json:"desc,omitempty"`
	URL    string `json:"url"`
}

// ConclusionMini is a mini-program card: title ≤64 bytes.
type ConclusionMini struct {
	Title      string `json:"title"`
	PicMediaID string `json:"pic_media_id"`
	AppID      string `json:"appid"`
	Page       string `json:"page"`
}

// AddContactWayResult is the reply of add_contact_way.
type AddContactWayResult struct {
	ConfigID string `json:"config_id"`
	// QRCode is only returned for the QR-code scene.
	QRCode string `json:"qr_code"`
}

// ContactWay is contact_way of get_contact_way.
type ContactWay struct {
	ConfigID      string       `json:"config_id"`
	Type          int          `json:"type"`
	Scene         int          `json:"scene"`
	Style         int          `json:"style,omitempty"`
	Remark        string       `json:"remark,omitempty"`
	SkipVerify    bool         `json:"skip_verify"`
	State         string       `json:"state,omitempty"`
	QRCode        string       `json:"qr_code,omitempty"`
	User          []string     `json:"user,omitempty"`
	Party         []int        `json:"party,omitempty"`
	IsTemp        bool         `json:"is_temp"`
	ExpiresIn     int          `json:"expires_in,omitempty"`
	ChatExpiresIn int          `json:"chat_expires_in,omitempty"`
	UnionID       string       `json:"unionid,omitempty"`
	IsExclusive   bool         `json:"is_exclusive"`
	MarkSource    bool         `json:"mark_source"`
	Conclusions   *Conclusions `json:"conclusions,omitempty"`
}

// UpdateContactWayRequest is the body of update_contact_way. Only ConfigID is required; nil
// fields are not sent and stay unchanged. User and Party replace the lists when non-nil.
// type, scene and is_temp cannot be changed.
type UpdateContactWayRequest struct {
	ConfigID      string       `json:"config_id"`
	Remark        *string      `json:"remark,omitzero"`
	SkipVerify    *bool        `json:"skip_verify,omitzero"`
	Style         *int         `json:"style,omitzero"`
	State         *string      `json:"state,omitzero"`
	User          []string     `json:"user,omitzero"`
	Party         []int        `json:"party,omitzero"`
	ExpiresIn     *int         `json:"expires_in,omitzero"`
	ChatExpiresIn *int         `json:"chat_expires_in,omitzero"`
	UnionID       *string      `json:"unionid,omitzero"`
	Conclusions   *Conclusions `json:"conclusions,omitzero"`
	IsExclusive   *bool        `json:"is_exclusive,omitzero"`
}

// ListContactWayRequest is the body of list_contact_way. Times are unix seconds; zero
// leaves WeCom's defaults (90 days ago, now). Limit ≤1000 (default 100).
type ListContactWayRequest struct {
	StartTime int64  `json:"start_time,omitempty"`
	EndTime   int64  `json:"end_time,omitempty"`
	Cursor    string `json:"cursor,omitempty"`
	Limit     int    `json:"limit,omitempty"`
}

// ContactWayPage is a page of list_contact_way. Temporary ways are never listed.
type ContactWayPage struct {
	ConfigIDs []string
	// NextCursor is empty on the last page.
	NextCursor string
}

type configIDBody struct {
	ConfigID string `json:"config_id"`
}

// AddContactWay creates a contact way (POST externalcontact/add_contact_way).
func (c *Client) AddContactWay(ctx context.Context, req AddContactWayRequest) (*AddContactWayResult, error) {
	var res AddContactWayResult
	if err := c.call(ctx, epAddContactWay, nil, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// GetContactWay returns a contact way (POST externalcontact/get_contact_way).
func (c *Client) GetContactWay(ctx context.Context, configID string) (*ContactWay, error) {
	var resp struct {
		ContactWay ContactWay `json:"contact_way"`
	}
	if err := c.call(ctx, epGetContactWay, nil, configIDBody{configID}, &resp); err != nil {
		return nil, err
	}
	return &resp.ContactWay, nil
}

// UpdateContactWay changes the given fields (POST externalcontact/update_contact_way).
func (c *Client) UpdateContactWay(ctx context.Context, req UpdateContactWayRequest) error {
	return c.call(ctx, epUpdateContactWay, nil, req, nil)
}

// DeleteContactWay deletes a contact way (POST externalcontact/del_contact_way).
func (c *Client) DeleteContactWay(ctx context.Context, configID string) error {
	return c.call(ctx, epDelContactWay, nil, configIDBody{configID}, nil)
}

// ListContactWays returns one page of config ids (POST externalcontact/list_contact_way).
func (c *Client) ListContactWays(ctx context.Context, req ListContactWayRequest) (*ContactWayPage, error) {
	var resp struct {
		ContactWay []configIDBody `json:"contact_way"`
		NextCursor string         `json:"next_cursor"`
	}
	if err := c.call(ctx, epListContactWay, nil, req, &resp); err != nil {
		return nil, err
	}
	page := &ContactWayPage{NextCursor: resp.NextCursor}
	for _, w := range resp.ContactWay {
		page.ConfigIDs = append(page.ConfigIDs, w.ConfigID)
	}
	return page, nil
}
