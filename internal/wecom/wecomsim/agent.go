package wecomsim

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Apps and menus (§12): agent/get, agent/list and agent/set read and change the calling
// app's own settings; menu/create, menu/get and menu/delete its custom menu. An app can only
// reach itself: another agentid is 301002 (§1, "企业仅可获取当前凭证对应的应用"). The
// contacts-sync secret is not an app (AgentID 0), so every agentid is another app's to it.

// Errcodes of §12, from the official table (wecom-errcodes.json).
const (
	codeMenuButtonCount   = 40016 // 不合法的按钮个数 (1-3)
	codeMenuButtonType    = 40017 // 不合法的按钮类型
	codeMenuNameLength    = 40018 // 不合法的按钮名字长度 (≤16 bytes)
	codeMenuKeyLength     = 40019 // 不合法的按钮KEY长度 (≤128 bytes)
	codeMenuURLLength     = 40020 // 不合法的按钮URL长度 (≤1024 bytes)
	codeMenuLevels        = 40022 // 不合法的子菜单级数 (two levels)
	codeSubMenuCount      = 40023 // 不合法的子菜单按钮个数 (1-5)
	codeSubMenuType       = 40024 // 不合法的子菜单按钮类型
	codeSubMenuNameLength = 40025 // 不合法的子菜单按钮名字长度 (≤40 bytes)
	codeSubMenuKeyLength  = 40026 // 不合法的子菜单按钮KEY长度
	codeSubMenuURLLength  = 40027 // 不合法的子菜单按钮URL长度
	codeSubMenuURLDomain  = 40054 // 不合法的子菜单url域名
	codeMenuURLDomain     = 40055 // 不合法的菜单url域名
	codeInvalidHomeURL    = 40094 // 不合法的URL (home_url without http:// or https://)
	codeMissingMenuName   = 41102 // 缺少菜单名
	codeAgentDescLength   = 45004 // 应用description参数长度不符合系统限制 (4-120 characters)
	codeAgentNameLength   = 45022 // 应用name参数长度不符合系统限制 (1-32 characters)
	codeMenuNotSet        = 46003 // 菜单未设置
	codeUntrustedDomain   = 85005 // 可信域名未通过所有权校验
	maxAgentNameRunes     = 32
	minAgentDescRunes     = 4
	maxAgentDescRunes     = 120
	maxMenuButtons        = 3
	maxSubButtons         = 5
	maxMenuNameBytes      = 16
	maxSubMenuNameBytes   = 40
	maxMenuKeyBytes       = 128
	maxMenuURLBytes       = 1024
	squareLogoURLTemplate = "https://p.qlogo.cn/bizmail/sim%d-%d/0"
)

func init() {
	for code, msg := range map[int]string{
		codeMenuButtonCount:   "invalid button size",
		codeMenuButtonType:    "invalid button type",
		codeMenuNameLength:    "invalid button name size",
		codeMenuKeyLength:     "invalid button key size",
		codeMenuURLLength:     "invalid button url size",
		codeMenuLevels:        "invalid sub button level",
		codeSubMenuCount:      "invalid sub button size",
		codeSubMenuType:       "invalid sub button type",
		codeSubMenuNameLength: "invalid sub button name size",
		codeSubMenuKeyLength:  "invalid sub button key size",
		codeSubMenuURLLength:  "invalid sub button url size",
		codeSubMenuURLDomain:  "invalid sub button url domain",
		codeMenuURLDomain:     "invalid button url domain",
		codeInvalidHomeURL:    "invalid url",
		codeMissingMenuName:   "missing menu name",
		codeAgentDescLength:   "agent description size out of limit",
		codeAgentNameLength:   "agent name size out of limit",
		codeMenuNotSet:        "menu no exist",
		codeUntrustedDomain:   "domain ownership verification failed",
	} {
		errMessages[code] = msg
	}
}

// AgentSettings are an app's settings as agent/get returns them and agent/set changes them.
// On seed, an empty Name is the App's Name.
type AgentSettings struct {
	Name               string `json:"name,omitempty"`
	Description        string `json:"description,omitempty"`
	RedirectDomain     string `json:"redirect_domain,omitempty"`
	HomeURL            string `json:"home_url,omitempty"`
	ReportLocationFlag int    `json:"report_location_flag"`
	IsReportEnter      int    `json:"isreportenter"`
	// LogoSerial counts logo_mediaid changes: square_logo_url is derived from it.
	LogoSerial int `json:"logo_serial,omitempty"`
}

// MenuButton is one button of an app's custom menu, as menu/create takes it.
type MenuButton struct {
	Type       string       `json:"type,omitempty"`
	Name       string       `json:"name"`
	Key        string       `json:"key,omitempty"`
	URL        string       `json:"url,omitempty"`
	PagePath   string       `json:"pagepath,omitempty"`
	AppID      string       `json:"appid,omitempty"`
	SubButtons []MenuButton `json:"sub_button,omitempty"`
}

func cloneMenu(m []MenuButton) []MenuButton {
	if m == nil {
		return nil
	}
	out := make([]MenuButton, len(m))
	for i, b := range m {
		b.SubButtons = cloneMenu(b.SubButtons)
		out[i] = b
	}
	return out
}

// menuKeyTypes are the button types that push an event with the button's key.
var menuKeyTypes = []string{"click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select"}

// agentByQuery checks ?agentid= of agent/get and the menu endpoints: missing 41011, not a
// number 40056, not the token's app 301002.
func agentByQuery(c *call) *apiError {
	v := strings.TrimSpace(c.query.Get("agentid"))
	if v == "" {
		return errCodef(codeMissingAgentID, "agentid is required")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return errCodef(codeInvalidAgentID, "agentid %q is not a number", v)
	}
	return checkAgentID(agentIDField{set: true, v: id}, c.app)
}

// agentInfo is agent/get's reply for app a.
func (s *Sim) agentInfo(a *appState) map[string]any {
	users := []map[string]any{}
	for _, u := range a.VisibleUsers {
		users = append(users, map[string]any{"userid": u})
	}
	parties := nonNil(slices.Clone(a.VisibleParties))
	if a.VisibleRoot {
		parties = []int64{rootDeptID}
	}
	return map[string]any{
		"agentid":              a.AgentID,
		"name":                 agentName(a),
		"square_logo_url":      fmt.Sprintf(squareLogoURLTemplate, a.AgentID, a.Settings.LogoSerial),
		"description":          a.Settings.Description,
		"allow_userinfos":      map[string]any{"user": users},
		"allow_partys":         map[string]any{"partyid": parties},
		"allow_tags":           map[string]any{"tagid": []int64{}},
		"close":                0, // a disabled app cannot get a token at all
		"redirect_domain":      a.Settings.RedirectDomain,
		"report_location_flag": a.Settings.ReportLocationFlag,
		"isreportenter":        a.Settings.IsReportEnter,
		"home_url":             a.Settings.HomeURL,
	}
}

func agentName(a *appState) string {
	if a.Settings.Name != "" {
		return a.Settings.Name
	}
	return a.Name
}

// handleAgentGet implements GET agent/get?agentid= (§12): the token's own app only.
func handleAgentGet(s *Sim, c *call) reply {
	if e := agentByQuery(c); e != nil {
		return failErr(e)
	}
	return ok(s.agentInfo(c.app))
}

// handleAgentList implements GET agent/list: a self-built app's token lists only its own app
// (§12, an operator's answer); the contacts-sync secret, which is no app, lists none.
func handleAgentList(s *Sim, c *call) reply {
	list := []map[string]any{}
	if c.app.AgentID != 0 {
		list = append(list, map[string]any{
			"agentid": c.app.AgentID, "name": agentName(c.app),
			"square_logo_url": fmt.Sprintf(squareLogoURLTemplate, c.app.AgentID, c.app.Settings.LogoSerial),
		})
	}
	return ok(map[string]any{"agentlist": list})
}

type agentSetRequest struct {
	AgentID            agentIDField `json:"agentid"`
	Name               optString    `json:"name"`
	Description        optString    `json:"description"`
	RedirectDomain     optString    `json:"redirect_domain"`
	LogoMediaID        optString    `json:"logo_mediaid"`
	HomeURL            optString    `json:"home_url"`
	ReportLocationFlag optInt       `json:"report_location_flag"`
	IsReportEnter      optInt       `json:"isreportenter"`
	// isreportuser (企业号 era) and chat_extension_url are ignored, like any unknown field.
}

// handleAgentSet implements POST agent/set (§12). Every field but agentid is optional and
// only the given ones change. name "" is 45022 and description "" 45004, as their limits
// say ("若带有…参数"); "" for redirect_domain, logo_mediaid and home_url is read as "not
// given" (§0a zero values; unconfirmed). All fields are checked before any is applied.
func handleAgentSet(s *Sim, c *call) reply {
	var req agentSetRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if e := checkAgentID(req.AgentID, c.app); e != nil {
		return failErr(e)
	}
	next := c.app.Settings
	if req.Name.set {
		if n := utf8.RuneCountInString(req.Name.v); n < 1 || n > maxAgentNameRunes {
			return failf(codeAgentNameLength, "name must be 1-%d characters, got %d", maxAgentNameRunes, n)
		}
		next.Name = req.Name.v
	}
	if req.Description.set {
		if n := utf8.RuneCountInString(req.Description.v); n < minAgentDescRunes || n > maxAgentDescRunes {
			return failf(codeAgentDescLength, "description must be %d-%d characters, got %d", minAgentDescRunes, maxAgentDescRunes, n)
		}
		next.Description = req.Description.v
	}
	if req.HomeURL.given() {
		if !hasHTTPScheme(req.HomeURL.v) {
			return failf(codeInvalidHomeURL, "home_url %q must start with http:// or https://", req.HomeURL.v)
		}
		next.HomeURL = req.HomeURL.v
	}
	if req.RedirectDomain.given() {
		// The ownership check itself cannot be simulated; a value that is not a host name
		// (a scheme, a path, a space) fails it (unconfirmed).
		if !validDomain(req.RedirectDomain.v) {
			return failf(codeUntrustedDomain, "redirect_domain %q is not a domain name", req.RedirectDomain.v)
		}
		if v := c.app.VerifiedDomains; len(v) > 0 && !slices.Contains(v, strings.ToLower(req.RedirectDomain.v)) {
			return failf(codeUntrustedDomain, "redirect_domain %q is not among the app's verified domains %v", req.RedirectDomain.v, v)
		}
		next.RedirectDomain = req.RedirectDomain.v
	}
	for _, f := range []struct {
		name string
		v    optInt
		dst  *int
	}{{"report_location_flag", req.ReportLocationFlag, &next.ReportLocationFlag}, {"isreportenter", req.IsReportEnter, &next.IsReportEnter}} {
		if !f.v.set {
			continue
		}
		if f.v.v != 0 && f.v.v != 1 {
			return failf(codeInvalidParam, "%s must be 0 or 1, got %d", f.name, f.v.v)
		}
		*f.dst = int(f.v.v)
	}
	if req.LogoMediaID.given() {
		// Media upload is not simulated (see checkMedia): any id is taken, and the logo
		// URL changes.
		next.LogoSerial++
	}
	c.app.Settings = next
	return ok(nil)
}

func hasHTTPScheme(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// validDomain accepts a host name, optionally with a port.
func validDomain(d string) bool {
	if d == "" || strings.ContainsAny(d, "/ \t?#@") {
		return false
	}
	u, err := url.Parse("http://" + d)
	return err == nil && u.Hostname() != "" && u.Host == d
}

type menuButtonRequest struct {
	Type       optString           `json:"type"`
	Name       optString           `json:"name"`
	Key        optString           `json:"key"`
	URL        optString           `json:"url"`
	PagePath   optString           `json:"pagepath"`
	AppID      optString           `json:"appid"`
	SubButtons []menuButtonRequest `json:"sub_button"`
}

type menuCreateRequest struct {
	Button []menuButtonRequest `json:"button"`
}

// menuCodes are the errcodes of one menu level: top-level buttons and sub-buttons have
// their own (§12).
type menuCodes struct {
	typ, name, key, url, domain int
	maxName                     int
}

var (
	topMenuCodes = menuCodes{codeMenuButtonType, codeMenuNameLength, codeMenuKeyLength, codeMenuURLLength, codeMenuURLDomain, maxMenuNameBytes}
	subMenuCodes = menuCodes{codeSubMenuType, codeSubMenuNameLength, codeSubMenuKeyLength, codeSubMenuURLLength, codeSubMenuURLDomain, maxSubMenuNameBytes}
)

// checkMenuLeaf validates a button that acts (has no sub-buttons) and returns it as stored.
// An empty key or url is refused with the length code (unconfirmed: no "missing key" code
// exists), a url without http:// or https:// with the domain code (the exact domain rule is
// unconfirmed); view_miniprogram needs appid (90200) and pagepath (40058, unconfirmed).
func checkMenuLeaf(b *menuButtonRequest, codes menuCodes, at string) (MenuButton, *apiError) {
	out := MenuButton{Type: b.Type.v, Name: b.Name.v}
	switch t := b.Type.v; {
	case slices.Contains(menuKeyTypes, t):
		if n := len(b.Key.v); n < 1 || n > maxMenuKeyBytes {
			return out, errCodef(codes.key, "%s: key must be 1-%d bytes, got %d", at, maxMenuKeyBytes, n)
		}
		out.Key = b.Key.v
	case t == "view":
		if n := len(b.URL.v); n < 1 || n > maxMenuURLBytes {
			return out, errCodef(codes.url, "%s: url must be 1-%d bytes, got %d", at, maxMenuURLBytes, n)
		}
		if !hasHTTPScheme(b.URL.v) {
			return out, errCodef(codes.domain, "%s: url %q must start with http:// or https://", at, b.URL.v)
		}
		out.URL = b.URL.v
	case t == "view_miniprogram":
		if !b.AppID.given() {
			return out, errCodef(codeMissingMiniAppID, "%s: appid is required", at)
		}
		if !b.PagePath.given() {
			return out, errCodef(codeInvalidParam, "%s: pagepath is required", at)
		}
		out.AppID, out.PagePath = b.AppID.v, b.PagePath.v
	default:
		return out, errCodef(codes.typ, "%s: type %q", at, t)
	}
	return out, nil
}

func checkMenuName(b *menuButtonRequest, codes menuCodes, at string) *apiError {
	if !b.Name.given() {
		return errCodef(codeMissingMenuName, "%s: name is required", at)
	}
	if n := len(b.Name.v); n > codes.maxName {
		return errCodef(codes.name, "%s: name is %d bytes, at most %d", at, n, codes.maxName)
	}
	return nil
}

// checkMenu validates menu/create's body and returns the menu as stored. Buttons are
// checked in order, each fully before the next; the leaf buttons' "sub_button":[] of the
// official example is accepted.
func checkMenu(req *menuCreateRequest) ([]MenuButton, *apiError) {
	if n := len(req.Button); n < 1 || n > maxMenuButtons {
		return nil, errCodef(codeMenuButtonCount, "button must have 1-%d items, got %d", maxMenuButtons, n)
	}
	menu := make([]MenuButton, 0, len(req.Button))
	for i := range req.Button {
		b := &req.Button[i]
		at := fmt.Sprintf("button[%d]", i)
		if e := checkMenuName(b, topMenuCodes, at); e != nil {
			return nil, e
		}
		if len(b.SubButtons) == 0 {
			leaf, e := checkMenuLeaf(b, topMenuCodes, at)
			if e != nil {
				return nil, e
			}
			menu = append(menu, leaf)
			continue
		}
		if n := len(b.SubButtons); n > maxSubButtons {
			return nil, errCodef(codeSubMenuCount, "%s: sub_button must have 1-%d items, got %d", at, maxSubButtons, n)
		}
		// A button with sub-buttons opens them and does nothing else: its type, key and url
		// are not kept.
		parent := MenuButton{Name: b.Name.v}
		for j := range b.SubButtons {
			sb := &b.SubButtons[j]
			sat := fmt.Sprintf("%s.sub_button[%d]", at, j)
			if len(sb.SubButtons) > 0 {
				return nil, errCodef(codeMenuLevels, "%s: menus have two levels", sat)
			}
			if e := checkMenuName(sb, subMenuCodes, sat); e != nil {
				return nil, e
			}
			leaf, e := checkMenuLeaf(sb, subMenuCodes, sat)
			if e != nil {
				return nil, e
			}
			parent.SubButtons = append(parent.SubButtons, leaf)
		}
		menu = append(menu, parent)
	}
	return menu, nil
}

// handleMenuCreate implements POST menu/create?agentid= (§12): the agentid is in the query
// string, the menu replaces the app's whole menu.
func handleMenuCreate(s *Sim, c *call) reply {
	if e := agentByQuery(c); e != nil {
		return failErr(e)
	}
	var req menuCreateRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	menu, e := checkMenu(&req)
	if e != nil {
		return failErr(e)
	}
	c.app.Menu = menu
	return ok(nil)
}

// handleMenuGet implements GET menu/get?agentid=: the menu as created, 46003 when the app has
// none. Leaf top-level buttons come back with "sub_button":[] as in the official create
// example (whether WeCom adds it is unconfirmed; clients must accept either).
func handleMenuGet(s *Sim, c *call) reply {
	if e := agentByQuery(c); e != nil {
		return failErr(e)
	}
	if len(c.app.Menu) == 0 {
		return failf(codeMenuNotSet, "app %q has no menu", c.app.Name)
	}
	buttons := make([]map[string]any, 0, len(c.app.Menu))
	for _, b := range c.app.Menu {
		m := menuButtonJSON(b)
		subs := []map[string]any{}
		for _, sb := range b.SubButtons {
			subs = append(subs, menuButtonJSON(sb))
		}
		m["sub_button"] = subs
		buttons = append(buttons, m)
	}
	return ok(map[string]any{"button": buttons})
}

func menuButtonJSON(b MenuButton) map[string]any {
	m := map[string]any{"name": b.Name}
	for k, v := range map[string]string{"type": b.Type, "key": b.Key, "url": b.URL, "pagepath": b.PagePath, "appid": b.AppID} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// handleMenuDelete implements GET menu/delete?agentid=: ok whether or not the app had a menu
// (unconfirmed: WeCom may answer 46003 for none).
func handleMenuDelete(s *Sim, c *call) reply {
	if e := agentByQuery(c); e != nil {
		return failErr(e)
	}
	c.app.Menu = nil
	return ok(nil)
}

// ---- hand edits in the admin console (应用管理) ----

// AgentEdit is an app's settings as changed on the console's app page; nil fields are left
// unchanged. The rules are agent/set's.
type AgentEdit struct {
	Name               *string `json:"name,omitempty"`
	Description        *string `json:"description,omitempty"`
	RedirectDomain     *string `json:"redirect_domain,omitempty"`
	HomeURL            *string `json:"home_url,omitempty"`
	ReportLocationFlag *int    `json:"report_location_flag,omitempty"`
	IsReportEnter      *int    `json:"isreportenter,omitempty"`
}

// appByAgentID returns the app with agentID; callers hold s.mu.
func (s *Sim) appByAgentID(agentID int64) (*appState, error) {
	for _, a := range s.apps {
		if a.AgentID == agentID && agentID != 0 {
			return a, nil
		}
	}
	return nil, fmt.Errorf("no app with agentid %d", agentID)
}

// consoleAppCall runs an app endpoint's handler for a hand edit of app agentID, with the
// endpoint's validation; like every hand edit it is not an API call (no call log, quota or
// fault).
func (s *Sim) consoleAppCall(op string, agentID int64, h func(*Sim, *call) reply, body any) error {
	app, err := s.appByAgentID(agentID)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	q := url.Values{"agentid": {strconv.FormatInt(agentID, 10)}}
	_, err = s.consoleCallAs(op, app, h, q, body)
	return err
}

// consoleCallAs is consoleCall for a handler that acts on the calling app.
func (s *Sim) consoleCallAs(op string, app *appState, h func(*Sim, *call) reply, query url.Values, body any) (reply, error) {
	return s.consoleCall(op, func(s *Sim, c *call) reply {
		c.app = app
		return h(s, c)
	}, query, body)
}

// App edit operations of POST /sim/edit.
const (
	EditUpdateApp  = "update_app"
	EditSetMenu    = "set_menu"
	EditDeleteMenu = "delete_menu"
)

// editApp applies an app edit of POST /sim/edit; ok is false for other operations. App
// edits send no callback (WeCom has no event for them).
func (s *Sim) editApp(e Edit) (res EditResult, ok bool, err error) {
	switch e.Op {
	case EditUpdateApp:
		if e.App == nil {
			return res, true, fmt.Errorf("%s needs \"app\"", e.Op)
		}
		err = s.ConsoleSetAgent(e.AgentID, *e.App)
	case EditSetMenu:
		err = s.ConsoleSetMenu(e.AgentID, e.Menu)
	case EditDeleteMenu:
		err = s.ConsoleDeleteMenu(e.AgentID)
	default:
		return res, false, nil
	}
	return EditResult{OK: err == nil, Deliveries: []int64{}}, true, err
}

// ConsoleSetAgent changes an app's settings by hand (应用管理 → the app's page).
func (s *Sim) ConsoleSetAgent(agentID int64, e AgentEdit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := map[string]any{"agentid": agentID}
	for k, v := range map[string]*string{"name": e.Name, "description": e.Description, "redirect_domain": e.RedirectDomain, "home_url": e.HomeURL} {
		if v != nil {
			body[k] = *v
		}
	}
	for k, v := range map[string]*int{"report_location_flag": e.ReportLocationFlag, "isreportenter": e.IsReportEnter} {
		if v != nil {
			body[k] = *v
		}
	}
	return s.consoleAppCall("console agent edit", agentID, handleAgentSet, body)
}

// ConsoleSetMenu publishes a custom menu by hand, with menu/create's rules.
func (s *Sim) ConsoleSetMenu(agentID int64, menu []MenuButton) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consoleAppCall("console menu edit", agentID, handleMenuCreate, map[string]any{"button": menu})
}

// ConsoleDeleteMenu removes an app's menu by hand.
func (s *Sim) ConsoleDeleteMenu(agentID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consoleAppCall("console menu delete", agentID, handleMenuDelete, nil)
}

// SetVerifiedDomains records the domains whose ownership the admin verified for app agentID
// (none: any redirect_domain passes).
func (s *Sim) SetVerifiedDomains(agentID int64, domains ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.appByAgentID(agentID)
	if err != nil {
		return err
	}
	app.VerifiedDomains = nil
	for _, d := range domains {
		app.VerifiedDomains = append(app.VerifiedDomains, strings.ToLower(d))
	}
	return nil
}

// Agent returns app agentID's settings and menu as WeCom holds them.
func (s *Sim) Agent(agentID int64) (AgentSettings, []MenuButton, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.appByAgentID(agentID)
	if err != nil {
		return AgentSettings{}, nil, false
	}
	out := app.Settings
	out.Name = agentName(app)
	return out, cloneMenu(app.Menu), true
}
