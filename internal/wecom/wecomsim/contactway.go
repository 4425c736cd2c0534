package wecomsim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"
)

// 「联系我」 limits (§5).
const (
	maxWayMembers       = 100    // users + expanded department members (41041)
	maxContactWays      = 500000 // non-temp ways per corp (41045)
	maxWayTextRunes     = 30     // remark, state; over → 40058 (unconfirmed code)
	defaultTempExpires  = 7 * 24 * 3600
	maxTempExpires      = 14 * 24 * 3600
	defaultChatExpires  = 24 * 3600
	maxChatExpires      = 14 * 24 * 3600
	defaultListWindow   = 90 * 24 * time.Hour
	defaultWayListLimit = 100
	maxWayListLimit     = 1000
	maxConclusionText   = 4000
)

// Mini-program button styles by type (SDK comments; appendix not seen).
var wayStyles = map[int64][]int64{1: {1, 2, 3}, 2: {1, 2}}

type wayRequest struct {
	ConfigID      optString       `json:"config_id"`
	Type          optInt          `json:"type"`
	Scene         optInt          `json:"scene"`
	Style         optInt          `json:"style"`
	Remark        optString       `json:"remark"`
	SkipVerify    optBool         `json:"skip_verify"`
	State         optString       `json:"state"`
	User          strList         `json:"user"`
	Party         intList         `json:"party"`
	IsTemp        optBool         `json:"is_temp"`
	ExpiresIn     optInt          `json:"expires_in"`
	ChatExpiresIn optInt          `json:"chat_expires_in"`
	UnionID       optString       `json:"unionid"`
	IsExclusive   optBool         `json:"is_exclusive"`
	MarkSource    optBool         `json:"mark_source"`
	Conclusions   json.RawMessage `json:"conclusions"`
}

func checkWayText(req *wayRequest) *apiError {
	if utf8.RuneCountInString(req.Remark.v) > maxWayTextRunes {
		return errCodef(codeInvalidParam, "remark longer than %d characters", maxWayTextRunes)
	}
	if utf8.RuneCountInString(req.State.v) > maxWayTextRunes {
		return errCodef(codeInvalidParam, "state longer than %d characters", maxWayTextRunes)
	}
	return nil
}

func checkWayStyle(style optInt, typ int64) *apiError {
	if style.nonZero() && !slices.Contains(wayStyles[typ], style.v) {
		return errCodef(codeInvalidWayStyle, "style %d not allowed for type %d", style.v, typ)
	}
	return nil
}

// wayMembers validates the user and party lists of a way: users must
// exist (60111), be visible (60011) and activated (41054); parties must
// exist (40066); type 1 takes exactly one user (party is ignored, "只在type为2时
// 有效"); the expanded total is ≤100 (41041).
func (s *Sim) wayMembers(app *appState, typ int64, users []string, parties []int64) ([]string, []int64, *apiError) {
	var canon []string
	for _, id := range users {
		u := s.users[lower(id)]
		if u == nil {
			return nil, nil, errCodef(codeUserNotFound, "user %q", id)
		}
		if !s.visibleTo(app, u) {
			return nil, nil, errCodef(codeOutOfRange, "user %q outside the app's visible range", id)
		}
		if u.Inactive || u.Disabled {
			return nil, nil, errCodef(codeUserNotActivated, "user %q is not activated", id)
		}
		if !slices.Contains(canon, u.UserID) {
			canon = append(canon, u.UserID)
		}
	}
	if typ == 1 {
		switch {
		case len(canon) == 0:
			return nil, nil, errCodef(codeMissingUserID, "type 1 needs exactly one user")
		case len(canon) > 1:
			return nil, nil, errCodef(codeWayUsersOverLimit, "type 1 takes exactly one user")
		}
		return canon, []int64{}, nil
	}
	expanded := slices.Clone(canon)
	for _, p := range parties {
		if s.depts[p] == nil {
			return nil, nil, errCodef(codeInvalidDeptList, "party %d", p)
		}
		if !s.partyVisible(app, p) {
			return nil, nil, errCodef(codeOutOfRange, "party %d outside the app's visible range", p)
		}
		for _, u := range s.partyMembers(p) {
			if !slices.Contains(expanded, u.UserID) {
				expanded = append(expanded, u.UserID)
			}
		}
	}
	if len(canon) == 0 && len(parties) == 0 {
		return nil, nil, errCodef(codeMissingUserID, "type 2 needs users or parties")
	}
	if len(expanded) > maxWayMembers {
		return nil, nil, errCodef(codeWayUsersOverLimit, "%d members after expanding departments", len(expanded))
	}
	return canon, nonNil(slices.Clone(parties)), nil
}

// checkTempSeconds validates expires_in / chat_expires_in: 0/absent means
// the default; otherwise 1..max seconds (over → 40058, unconfirmed code).
func checkTempSeconds(v optInt, def, maxSecs int64, name string) (int64, *apiError) {
	if !v.nonZero() {
		return def, nil
	}
	if v.v < 0 || v.v > maxSecs {
		return 0, errCodef(codeInvalidParam, "%s must be ≤ %d seconds", name, maxSecs)
	}
	return v.v, nil
}

// checkConclusions validates the temp-session end message: an object whose
// text/image/link/miniprogram are not all empty.
func checkConclusions(raw json.RawMessage) (json.RawMessage, *apiError) {
	obj, e := rawObject(raw)
	if e != nil || obj == nil {
		return nil, e
	}
	var c struct {
		Text *struct {
			Content optString `json:"content"`
		} `json:"text"`
		Image *struct {
			MediaID optString `json:"media_id"`
		} `json:"image"`
		Link *struct {
			Title optString `json:"title"`
			URL   optString `json:"url"`
		} `json:"link"`
		Miniprogram *struct {
			Title optString `json:"title"`
			AppID optString `json:"appid"`
		} `json:"miniprogram"`
	}
	if err := json.Unmarshal(obj, &c); err != nil {
		return nil, errCodef(codeInvalidParam, "bad conclusions")
	}
	text := c.Text != nil && c.Text.Content.v != ""
	if text && len(c.Text.Content.v) > maxConclusionText {
		return nil, errCodef(codeInvalidParam, "conclusions text over %d bytes", maxConclusionText)
	}
	other := (c.Image != nil && c.Image.MediaID.v != "") || (c.Link != nil && c.Link.Title.v != "") ||
		(c.Miniprogram != nil && c.Miniprogram.Title.v != "")
	if !text && !other {
		return nil, nil // an all-empty object is what SDKs send for "none" (§0a)
	}
	return obj, nil
}

// handleAddContactWay implements POST externalcontact/add_contact_way.
func handleAddContactWay(s *Sim, c *call) reply {
	var req wayRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	switch {
	case !req.Type.nonZero():
		return fail(codeMissingWayType)
	case req.Type.v != 1 && req.Type.v != 2:
		return fail(codeInvalidWayType)
	case !req.Scene.nonZero():
		return fail(codeMissingWayScene)
	case req.Scene.v != 1 && req.Scene.v != 2:
		return fail(codeInvalidWayScene)
	}
	if e := checkWayStyle(req.Style, req.Type.v); e != nil {
		return failErr(e)
	}
	if e := checkWayText(&req); e != nil {
		return failErr(e)
	}
	isTemp := req.IsTemp.v
	if isTemp && req.Type.v != 1 {
		return failf(codeInvalidWayType, "is_temp only allows type 1")
	}
	users, parties, e := s.wayMembers(c.app, req.Type.v, req.User.v, req.Party.v)
	if e != nil {
		return failErr(e)
	}
	w := &ContactWay{
		AgentID: c.app.AgentID, Type: int(req.Type.v), Scene: int(req.Scene.v), Style: int(req.Style.v),
		Remark: req.Remark.v, SkipVerify: req.SkipVerify.or(true), State: req.State.v,
		Users: users, Parties: parties, IsTemp: isTemp, IsExclusive: req.IsExclusive.v,
		MarkSource: req.MarkSource.or(true), CreatedAt: c.now,
	}
	if isTemp {
		if e := applyTempFields(w, &req); e != nil {
			return failErr(e)
		}
	} else if s.countPermanentWays() >= maxContactWays {
		return fail(codeWayCountOverLimit)
	}
	w.ConfigID = s.newConfigID()
	if w.Scene == 2 {
		w.QRCode = "https://wework.qpic.cn/wwpic/" + s.randString(24, hexDigits) + "/0"
	}
	w.seq = s.nextSeq()
	s.ways[w.ConfigID] = w
	fields := map[string]any{"config_id": w.ConfigID}
	if w.QRCode != "" { // qr_code only for scene=2 (§5)
		fields["qr_code"] = w.QRCode
	}
	return ok(fields)
}

// applyTempFields sets the fields that only apply to temp-session ways.
func applyTempFields(w *ContactWay, req *wayRequest) *apiError {
	exp, e := checkTempSeconds(req.ExpiresIn, cmp.Or(w.ExpiresIn, defaultTempExpires), maxTempExpires, "expires_in")
	if e != nil {
		return e
	}
	chatExp, e := checkTempSeconds(req.ChatExpiresIn, cmp.Or(w.ChatExpiresIn, defaultChatExpires), maxChatExpires, "chat_expires_in")
	if e != nil {
		return e
	}
	conc, e := checkConclusions(req.Conclusions)
	if e != nil {
		return e
	}
	w.ExpiresIn, w.ChatExpiresIn = exp, chatExp
	if req.UnionID.set {
		w.UnionID = req.UnionID.v
	}
	if conc != nil || len(bytes.TrimSpace(req.Conclusions)) > 0 {
		w.Conclusions = conc
	}
	return nil
}

func (s *Sim) countPermanentWays() int {
	n := 0
	for _, w := range s.ways {
		if !w.IsTemp {
			n++
		}
	}
	return n
}

func (s *Sim) newConfigID() string {
	for {
		id := s.randString(32, hexDigits)
		if s.ways[id] == nil {
			return id
		}
	}
}

// wayByConfigID resolves config_id (41043 missing, 41044 unknown).
func (s *Sim) wayByConfigID(id optString) (*ContactWay, *apiError) {
	if !id.given() {
		return nil, errCode(codeMissingConfigID)
	}
	w := s.ways[id.v]
	if w == nil {
		return nil, errCodef(codeInvalidConfigID, "config_id %q", id.v)
	}
	return w, nil
}

func wayJSON(w *ContactWay) map[string]any {
	m := map[string]any{
		"config_id": w.ConfigID, "type": w.Type, "scene": w.Scene, "remark": w.Remark,
		"skip_verify": w.SkipVerify, "state": w.State, "user": nonNil(slices.Clone(w.Users)),
		"party": nonNil(slices.Clone(w.Parties)), "is_temp": w.IsTemp, "mark_source": w.MarkSource,
		// is_exclusive in the get response is unconfirmed; emitted since
		// newer SDKs read it and clients ignore unknown keys.
		"is_exclusive": w.IsExclusive,
	}
	if w.Scene == 1 {
		m["style"] = w.Style
	}
	if w.Scene == 2 {
		m["qr_code"] = w.QRCode
	}
	if w.IsTemp {
		m["expires_in"], m["chat_expires_in"], m["unionid"] = w.ExpiresIn, w.ChatExpiresIn, w.UnionID
		if w.Conclusions != nil {
			m["conclusions"] = w.Conclusions
		}
	}
	return m
}

// handleGetContactWay implements POST externalcontact/get_contact_way.
func handleGetContactWay(s *Sim, c *call) reply {
	var req wayRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	w, e := s.wayByConfigID(req.ConfigID)
	if e != nil {
		return failErr(e)
	}
	return ok(map[string]any{"contact_way": wayJSON(w)})
}

// handleUpdateContactWay implements POST externalcontact/update_contact_way:
// user/party replace the lists; type, scene and is_temp are not update
// fields and are ignored; an expired temp way answers 41044 (unconfirmed).
func handleUpdateContactWay(s *Sim, c *call) reply {
	var req wayRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	w, e := s.wayByConfigID(req.ConfigID)
	if e != nil {
		return failErr(e)
	}
	if w.IsTemp && c.now.After(w.CreatedAt.Add(time.Duration(w.ExpiresIn)*time.Second)) {
		return failf(codeInvalidConfigID, "temp contact way has expired")
	}
	if e := checkWayStyle(req.Style, int64(w.Type)); e != nil {
		return failErr(e)
	}
	if e := checkWayText(&req); e != nil {
		return failErr(e)
	}
	users, parties := w.Users, w.Parties
	if req.User.set {
		users = req.User.v
	}
	if req.Party.set && w.Type == 2 {
		parties = req.Party.v
	}
	users, parties, e = s.wayMembers(c.app, int64(w.Type), users, parties)
	if e != nil {
		return failErr(e)
	}
	next := w.clone()
	if w.IsTemp {
		if e := applyTempFields(&next, &req); e != nil {
			return failErr(e)
		}
	}
	next.Users, next.Parties = users, parties
	if req.Remark.set {
		next.Remark = req.Remark.v
	}
	if req.State.set {
		next.State = req.State.v
	}
	if req.SkipVerify.set {
		next.SkipVerify = req.SkipVerify.v
	}
	if req.Style.nonZero() {
		next.Style = int(req.Style.v)
	}
	if req.IsExclusive.set {
		next.IsExclusive = req.IsExclusive.v
	}
	*w = next
	return ok(nil)
}

// handleDelContactWay implements POST externalcontact/del_contact_way.
func handleDelContactWay(s *Sim, c *call) reply {
	var req wayRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	w, e := s.wayByConfigID(req.ConfigID)
	if e != nil {
		return failErr(e)
	}
	delete(s.ways, w.ConfigID)
	return ok(nil)
}

// handleListContactWay implements POST externalcontact/list_contact_way:
// non-temp ways created in [start_time, end_time] (default: the last 90
// days), by creation time. limit defaults to 100 and is capped at 1000
// (capping rather than rejecting is a simulator choice).
func handleListContactWay(s *Sim, c *call) reply {
	var req struct {
		StartTime optInt    `json:"start_time"`
		EndTime   optInt    `json:"end_time"`
		Cursor    optString `json:"cursor"`
		Limit     optInt    `json:"limit"`
	}
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	end := req.EndTime.v
	if !req.EndTime.nonZero() {
		end = c.now.Unix()
	}
	start := req.StartTime.v
	if !req.StartTime.nonZero() {
		start = c.now.Add(-defaultListWindow).Unix()
	}
	if start > end || start < 0 {
		return failf(codeInvalidParam, "start_time after end_time")
	}
	limit := req.Limit.v
	if !req.Limit.nonZero() {
		limit = defaultWayListLimit
	}
	if limit < 0 {
		return failf(codeInvalidParam, "limit %d", limit)
	}
	limit = min(limit, maxWayListLimit)
	offset, e := decodeCursor(req.Cursor.v)
	if e != nil {
		return failErr(e)
	}
	var ways []*ContactWay
	for _, w := range s.ways {
		if t := w.CreatedAt.Unix(); !w.IsTemp && t >= start && t <= end {
			ways = append(ways, w)
		}
	}
	slices.SortFunc(ways, func(a, b *ContactWay) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.seq, b.seq))
	})
	page, next := paginate(ways, offset, int(limit))
	out := []map[string]any{}
	for _, w := range page {
		out = append(out, map[string]any{"config_id": w.ConfigID})
	}
	return ok(map[string]any{"contact_way": out, "next_cursor": next})
}

func (s *Sim) sortedWays() []*ContactWay {
	out := make([]*ContactWay, 0, len(s.ways))
	for _, w := range s.ways {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b *ContactWay) int { return cmp.Compare(a.seq, b.seq) })
	return out
}
