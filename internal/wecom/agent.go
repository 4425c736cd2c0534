package wecom

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// Apps reads and changes a self-built app's settings and custom menu (§12, 应用管理 /
// 自定义菜单). An app can only reach itself: another agentid is 301002 (ErrCodeAgentNotOwned).
// Apps cannot be created or deleted through the API.
type Apps interface {
	GetAgent(ctx context.Context, agentID int64) (*Agent, error)
	ListAgents(ctx context.Context) ([]AgentSummary, error)
	SetAgent(ctx context.Context, agentID int64, s AgentSettings) error
	CreateMenu(ctx context.Context, agentID int64, buttons []MenuButton) error
	GetMenu(ctx context.Context, agentID int64) ([]MenuButton, error)
	DeleteMenu(ctx context.Context, agentID int64) error
}

var _ Apps = (*Client)(nil)

// Limits of agent/set and menu/create (§12).
const (
	MaxAgentNameLength        = 32   // characters (45022)
	MinAgentDescriptionLength = 4    // characters (45004)
	MaxAgentDescriptionLength = 120  // characters (45004)
	MaxMenuButtons            = 3    // top-level buttons (40016)
	MaxMenuSubButtons         = 5    // sub-buttons of one button (40023)
	MaxMenuNameBytes          = 16   // top-level button name, bytes (40018)
	MaxMenuSubNameBytes       = 40   // sub-button name, bytes (40025)
	MaxMenuKeyBytes           = 128  // key of click-like buttons, bytes (40019/40026)
	MaxMenuURLBytes           = 1024 // url of view buttons, bytes (40020/40027)
)

// Errcodes of the app and menu endpoints (§12); agent.go registers them with the shared
// tables (not-found, hints).
const (
	ErrCodeMenuButtonCount   = 40016 // 不合法的按钮个数
	ErrCodeMenuButtonType    = 40017 // 不合法的按钮类型
	ErrCodeMenuNameLength    = 40018 // 不合法的按钮名字长度
	ErrCodeMenuKeyLength     = 40019 // 不合法的按钮KEY长度
	ErrCodeMenuURLLength     = 40020 // 不合法的按钮URL长度
	ErrCodeMenuLevels        = 40022 // 不合法的子菜单级数
	ErrCodeSubMenuCount      = 40023 // 不合法的子菜单按钮个数
	ErrCodeSubMenuType       = 40024 // 不合法的子菜单按钮类型
	ErrCodeSubMenuNameLength = 40025 // 不合法的子菜单按钮名字长度
	ErrCodeSubMenuKeyLength  = 40026 // 不合法的子菜单按钮KEY长度
	ErrCodeSubMenuURLLength  = 40027 // 不合法的子菜单按钮URL长度
	ErrCodeSubMenuURLDomain  = 40054 // 不合法的子菜单url域名
	ErrCodeMenuURLDomain     = 40055 // 不合法的菜单url域名
	ErrCodeInvalidHomeURL    = 40094 // 不合法的URL
	ErrCodeMissingMenuName   = 41102 // 缺少菜单名
	ErrCodeAgentDescLength   = 45004 // 应用description参数长度不符合系统限制
	ErrCodeAgentNameLength   = 45022 // 应用name参数长度不符合系统限制
	ErrCodeMenuNotSet        = 46003 // 菜单未设置
	ErrCodeUntrustedDomain   = 85005 // 可信域名未通过所有权校验
	ErrCodeMissingMiniAppID  = 90200 // 缺少小程序appid参数
)

func init() {
	// menu/get of an app without a menu: "nothing there", which the caller reads as an
	// empty menu.
	notFoundCodes[apiMenuGet] = []int{ErrCodeMenuNotSet}
	for code, m := range map[int]string{
		ErrCodeMenuButtonCount:   "invalid number of menu buttons",
		ErrCodeMenuButtonType:    "invalid menu button type",
		ErrCodeMenuNameLength:    "invalid menu button name length",
		ErrCodeMenuKeyLength:     "invalid menu button key length",
		ErrCodeMenuURLLength:     "invalid menu button url length",
		ErrCodeMenuLevels:        "invalid menu levels",
		ErrCodeSubMenuCount:      "invalid number of sub-buttons",
		ErrCodeSubMenuType:       "invalid sub-button type",
		ErrCodeSubMenuNameLength: "invalid sub-button name length",
		ErrCodeSubMenuKeyLength:  "invalid sub-button key length",
		ErrCodeSubMenuURLLength:  "invalid sub-button url length",
		ErrCodeSubMenuURLDomain:  "invalid sub-button url domain",
		ErrCodeMenuURLDomain:     "invalid menu button url domain",
		ErrCodeInvalidHomeURL:    "invalid home url",
		ErrCodeMissingMenuName:   "menu button name missing",
		ErrCodeAgentDescLength:   "invalid app description length",
		ErrCodeAgentNameLength:   "invalid app name length",
		ErrCodeMenuNotSet:        "the app has no menu",
		ErrCodeUntrustedDomain:   "trusted domain failed the ownership check",
		ErrCodeMissingMiniAppID:  "mini program appid missing",
	} {
		if _, ok := meanings[code]; !ok {
			meanings[code] = m
		}
	}
	const menuLimits = "Menus have 1–3 buttons of at most 16 bytes (5 汉字), each with at most 5 sub-buttons of at most 40 bytes; keys are at most 128 bytes and urls 1024 bytes."
	for code, h := range map[int]string{
		ErrCodeMenuButtonCount:   menuLimits,
		ErrCodeMenuNameLength:    menuLimits,
		ErrCodeSubMenuCount:      menuLimits,
		ErrCodeSubMenuNameLength: menuLimits,
		ErrCodeMenuKeyLength:     menuLimits,
		ErrCodeSubMenuKeyLength:  menuLimits,
		ErrCodeMenuURLLength:     menuLimits,
		ErrCodeSubMenuURLLength:  menuLimits,
		ErrCodeMenuURLDomain:     "The button's url must be http:// or https:// on a domain WeCom accepts for the app (its trusted domain).",
		ErrCodeSubMenuURLDomain:  "The button's url must be http:// or https:// on a domain WeCom accepts for the app (its trusted domain).",
		ErrCodeInvalidHomeURL:    "The home URL must start with http:// or https://.",
		ErrCodeAgentDescLength:   "An app's description is 4–120 characters.",
		ErrCodeAgentNameLength:   "An app's name is 1–32 characters.",
		ErrCodeUntrustedDomain:   "The redirect domain must pass WeCom's ownership check: verify it in the admin console (应用管理 → the app → 网页授权及JS-SDK) first.",
		ErrCodeMissingMiniAppID:  "A view_miniprogram button needs the appid of a mini program bound to the corp.",
	} {
		if _, ok := hints[code]; !ok {
			hints[code] = h
		}
	}
}

// Agent is an app as agent/get returns it. The visible range (allow_userinfos, allow_partys,
// allow_tags) is not decoded: nothing here uses it.
type Agent struct {
	AgentID        int64  `json:"agentid"`
	Name           string `json:"name"`
	SquareLogoURL  string `json:"square_logo_url"`
	Description    string `json:"description"`
	Close          int    `json:"close"` // 1: the app is disabled
	RedirectDomain string `json:"redirect_domain"`
	// ReportLocationFlag 1: members' location is reported on entering the app's session.
	ReportLocationFlag int `json:"report_location_flag"`
	// IsReportEnter 1: enter_agent events are pushed to the app's callback.
	IsReportEnter int    `json:"isreportenter"`
	HomeURL       string `json:"home_url"`
}

// AgentSummary is an item of agent/list.
type AgentSummary struct {
	AgentID       int64  `json:"agentid"`
	Name          string `json:"name"`
	SquareLogoURL string `json:"square_logo_url"`
}

// AgentSettings are the fields agent/set changes; nil fields are not sent and stay as they
// are.
type AgentSettings struct {
	Name           *string
	Description    *string
	RedirectDomain *string
	LogoMediaID    *string
	HomeURL        *string
	ReportLocation *bool
	ReportEnter    *bool
}

// MenuButton is one button of an app's menu. A button with SubButtons only opens them (no
// type); the others have a Type and what it needs: Key (click, scancode_*, pic_*,
// location_select), URL (view), AppID and PagePath (view_miniprogram).
type MenuButton struct {
	Type       string       `json:"type,omitempty"`
	Name       string       `json:"name"`
	Key        string       `json:"key,omitempty"`
	URL        string       `json:"url,omitempty"`
	PagePath   string       `json:"pagepath,omitempty"`
	AppID      string       `json:"appid,omitempty"`
	SubButtons []MenuButton `json:"sub_button,omitempty"`
}

// GetAgent returns the app's settings (GET agent/get?agentid=); only the token's own app.
func (c *Client) GetAgent(ctx context.Context, agentID int64) (*Agent, error) {
	var resp Agent
	if err := c.call(ctx, epAgentGet, agentQuery(agentID), nil, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// ListAgents lists the apps the token may see (GET agent/list): a self-built app's token
// lists only its own app.
func (c *Client) ListAgents(ctx context.Context) ([]AgentSummary, error) {
	var resp struct {
		AgentList []AgentSummary `json:"agentlist"`
	}
	if err := c.call(ctx, epAgentList, nil, nil, &resp); err != nil {
		return nil, err
	}
	return resp.AgentList, nil
}

// SetAgent changes the given settings of the app (POST agent/set).
func (c *Client) SetAgent(ctx context.Context, agentID int64, s AgentSettings) error {
	req := struct {
		AgentID            int64   `json:"agentid"`
		Name               *string `json:"name,omitempty"`
		Description        *string `json:"description,omitempty"`
		RedirectDomain     *string `json:"redirect_domain,omitempty"`
		LogoMediaID        *string `json:"logo_mediaid,omitempty"`
		HomeURL            *string `json:"home_url,omitempty"`
		ReportLocationFlag *int    `json:"report_location_flag,omitempty"`
		IsReportEnter      *int    `json:"isreportenter,omitempty"`
	}{
		AgentID: agentID, Name: s.Name, Description: s.Description, RedirectDomain: s.RedirectDomain,
		LogoMediaID: s.LogoMediaID, HomeURL: s.HomeURL,
		ReportLocationFlag: flag01(s.ReportLocation), IsReportEnter: flag01(s.ReportEnter),
	}
	return c.call(ctx, epAgentSet, nil, req, nil)
}

func flag01(b *bool) *int {
	if b == nil {
		return nil
	}
	if *b {
		return Ptr(1)
	}
	return Ptr(0)
}

// CreateMenu replaces the app's whole menu (POST menu/create?agentid=; the agentid goes in
// the query string).
func (c *Client) CreateMenu(ctx context.Context, agentID int64, buttons []MenuButton) error {
	if len(buttons) == 0 {
		return fmt.Errorf("%w: %s: a menu has 1 to %d buttons; use DeleteMenu for none", ErrInvalidRequest, apiMenuCreate, MaxMenuButtons)
	}
	req := struct {
		Button []MenuButton `json:"button"`
	}{buttons}
	return c.call(ctx, epMenuCreate, agentQuery(agentID), req, nil)
}

// GetMenu returns the app's menu (GET menu/get?agentid=), or nil when it has none (46003).
// Leaf buttons may come back with an empty sub_button list; they are returned without one.
func (c *Client) GetMenu(ctx context.Context, agentID int64) ([]MenuButton, error) {
	var resp struct {
		Button []MenuButton `json:"button"`
	}
	err := c.call(ctx, epMenuGet, agentQuery(agentID), nil, &resp)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return withoutEmptySubButtons(resp.Button), nil
}

// withoutEmptySubButtons drops the empty sub_button lists WeCom may return on leaf buttons.
func withoutEmptySubButtons(buttons []MenuButton) []MenuButton {
	for i := range buttons {
		if len(buttons[i].SubButtons) == 0 {
			buttons[i].SubButtons = nil
		}
		withoutEmptySubButtons(buttons[i].SubButtons)
	}
	return buttons
}

// DeleteMenu removes the app's menu (GET menu/delete?agentid=).
func (c *Client) DeleteMenu(ctx context.Context, agentID int64) error {
	return c.call(ctx, epMenuDelete, agentQuery(agentID), nil, nil)
}

func agentQuery(id int64) url.Values { return url.Values{"agentid": {strconv.FormatInt(id, 10)}} }
