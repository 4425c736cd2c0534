package wecomsim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Message send limits (§7, §9).
const (
	maxToUser              = 1000
	maxToParty             = 100
	maxToTag               = 100
	defaultDupInterval     = 1800 // seconds
	maxDupInterval         = 14400
	recallWindow           = 24 * time.Hour
	memberMsgPerMinute     = 30   // per app per member, excess dropped
	memberMsgPerHour       = 1000 // per app per member, excess dropped
	chatMemberMsgPerMinute = 200  // appchat, per member
	chatMemberMsgPerDay    = 10000
	msgIDLength            = 64
	responseCodeLength     = 48
	quotaReasonMinute      = "per-member limit: 30 messages/min per app"
	quotaReasonHour        = "per-member limit: 1000 messages/hour per app"
	quotaReasonChatMinute  = "appchat per-member limit: 200 messages/min"
	quotaReasonChatDay     = "appchat per-member limit: 10000 messages/day"
)

// Message is one accepted message/send, appchat/send or webhook/send call.
type Message struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Channel string    `json:"channel"` // "message", "appchat" or "webhook"
	AgentID int64     `json:"agent_id,omitempty"`
	MsgID   string    `json:"msgid,omitempty"`  // message/send only
	ChatID  string    `json:"chatid,omitempty"` // appchat only
	Robot   string    `json:"robot,omitempty"`  // webhook: robot name (never the key)
	// ChatName is the robot's group for webhook messages.
	ChatName string `json:"chat_name,omitempty"`
	MsgType  string `json:"msgtype"`
	// Body is the exact JSON request body received.
	Body json.RawMessage `json:"body"`
	// DeliveredTo lists the members who received it (message/appchat).
	DeliveredTo []string `json:"delivered_to,omitempty"`
	// DroppedFor lists members whose copy was silently dropped by quota.
	DroppedFor []string `json:"dropped_for,omitempty"`
	// Invalid* echo the reply's invaliduser/invalidparty/invalidtag.
	InvalidUser  string `json:"invaliduser,omitempty"`
	InvalidParty string `json:"invalidparty,omitempty"`
	InvalidTag   string `json:"invalidtag,omitempty"`
	// Duplicate marks a send suppressed by enable_duplicate_check: nothing
	// was delivered and the reply repeated the original msgid.
	Duplicate bool `json:"duplicate,omitempty"`
	Recalled  bool `json:"recalled,omitempty"`
	// ResponseCode is set for interactive template cards.
	ResponseCode string `json:"response_code,omitempty"`
}

func (m *Message) clone() Message {
	out := *m
	out.Body = cloneRaw(m.Body)
	out.DeliveredTo = slices.Clone(m.DeliveredTo)
	out.DroppedFor = slices.Clone(m.DroppedFor)
	return out
}

// Drop records one member copy that a quota silently discarded.
type Drop struct {
	Time    time.Time `json:"time"`
	Channel string    `json:"channel"`
	AgentID int64     `json:"agent_id"`
	UserID  string    `json:"userid"`
	MsgID   string    `json:"msgid,omitempty"`
	ChatID  string    `json:"chatid,omitempty"`
	Reason  string    `json:"reason"`
}

// Delivery is one message as seen by one member.
type Delivery struct {
	Seq      int64           `json:"seq"` // Message.Seq
	Time     time.Time       `json:"time"`
	Channel  string          `json:"channel"`
	AgentID  int64           `json:"agent_id"`
	MsgID    string          `json:"msgid,omitempty"`
	ChatID   string          `json:"chatid,omitempty"`
	MsgType  string          `json:"msgtype"`
	Body     json.RawMessage `json:"body"`
	Recalled bool            `json:"recalled,omitempty"`
}

type dupEntry struct {
	at     time.Time
	fields map[string]any
}

// ---- read API ----

// Messages returns every recorded message (all channels), oldest first.
func (s *Sim) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages))
	for _, m := range s.messages {
		out = append(out, m.clone())
	}
	return out
}

// Inbox returns what one member received (message/send and appchat/send),
// oldest first. userid is case-insensitive.
func (s *Sim) Inbox(userid string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	for _, m := range s.messages {
		if !slices.ContainsFunc(m.DeliveredTo, func(u string) bool { return strings.EqualFold(u, userid) }) {
			continue
		}
		out = append(out, Delivery{Seq: m.Seq, Time: m.Time, Channel: m.Channel, AgentID: m.AgentID,
			MsgID: m.MsgID, ChatID: m.ChatID, MsgType: m.MsgType, Body: cloneRaw(m.Body), Recalled: m.Recalled})
	}
	return out
}

// ChatMessages returns the messages sent to an app chat.
func (s *Sim) ChatMessages(chatid string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.Channel == chanAppChat && m.ChatID == chatid {
			out = append(out, m)
		}
	}
	return out
}

// RobotMessages returns webhook messages; robot filters by robot name
// ("" = all robots).
func (s *Sim) RobotMessages(robot string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.Channel == chanWebhook && (robot == "" || m.Robot == robot) {
			out = append(out, m)
		}
	}
	return out
}

// Drops returns the member copies silently dropped by quotas.
func (s *Sim) Drops() []Drop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.drops)
}

// ClearMessages forgets recorded messages, drops, quota windows, the
// duplicate-check memory, used task_ids, and the interactive cards with
// their response codes.
func (s *Sim) ClearMessages() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages, s.drops = nil, nil
	s.taskIDs = map[string]bool{}
	s.cards = map[string]*sentCard{}
	s.respCodes = map[string]*responseCode{}
	s.msgByID = map[string]*Message{}
	s.dupSeen = map[string]dupEntry{}
	s.quota = map[string][]time.Time{}
	s.robotSends = map[string][]time.Time{}
}

func (s *Sim) recordMessage(m *Message) {
	m.Seq = s.nextSeq()
	s.messages = append(s.messages, m)
	if m.MsgID != "" {
		s.msgByID[m.MsgID] = m
	}
}

// ---- quotas ----

type quotaRule struct {
	window time.Duration
	limit  int
	reason string
}

// admit records a delivery for key unless one of the sliding-window rules
// is full; it returns the violated rule's reason, or "".
func (s *Sim) admit(key string, now time.Time, rules ...quotaRule) string {
	longest := time.Duration(0)
	for _, r := range rules {
		longest = max(longest, r.window)
	}
	hist := s.quota[key]
	keep := 0
	for keep < len(hist) && !hist[keep].After(now.Add(-longest)) {
		keep++
	}
	hist = hist[keep:]
	for _, r := range rules {
		n := 0
		for _, t := range hist {
			if t.After(now.Add(-r.window)) {
				n++
			}
		}
		if n >= r.limit {
			s.quota[key] = hist
			return r.reason
		}
	}
	s.quota[key] = append(hist, now)
	return ""
}

// deliver applies per-member quotas and fills m.DeliveredTo / DroppedFor.
func (s *Sim) deliver(m *Message, users []string, now time.Time) {
	for _, uid := range users {
		var reason string
		if m.Channel == chanAppChat {
			reason = s.admit("chat\x00"+strconv.FormatInt(m.AgentID, 10)+"\x00"+lower(uid), now,
				quotaRule{time.Minute, chatMemberMsgPerMinute, quotaReasonChatMinute},
				quotaRule{24 * time.Hour, chatMemberMsgPerDay, quotaReasonChatDay})
		} else {
			reason = s.admit("msg\x00"+strconv.FormatInt(m.AgentID, 10)+"\x00"+lower(uid), now,
				quotaRule{time.Minute, memberMsgPerMinute, quotaReasonMinute},
				quotaRule{time.Hour, memberMsgPerHour, quotaReasonHour})
		}
		if reason != "" {
			m.DroppedFor = append(m.DroppedFor, uid)
			s.drops = append(s.drops, Drop{Time: now, Channel: m.Channel, AgentID: m.AgentID, UserID: uid,
				MsgID: m.MsgID, ChatID: m.ChatID, Reason: reason})
			continue
		}
		m.DeliveredTo = append(m.DeliveredTo, uid)
	}
}

// ---- recipients ----

// visibleTo reports whether a member is in the app's visible range.
func (s *Sim) visibleTo(app *appState, u *User) bool {
	if app.VisibleRoot {
		return true
	}
	if slices.ContainsFunc(app.VisibleUsers, func(id string) bool { return strings.EqualFold(id, u.UserID) }) {
		return true
	}
	for _, d := range u.Department {
		if s.partyVisible(app, d) {
			return true
		}
	}
	return false
}

func (s *Sim) partyVisible(app *appState, id int64) bool {
	if app.VisibleRoot {
		return true
	}
	for _, p := range app.VisibleParties {
		if s.isDescendant(id, p) {
			return true
		}
	}
	return false
}

// partyMembers lists members of a department and its sub-departments.
func (s *Sim) partyMembers(id int64) []*User {
	return s.membersIn(s.subtreeIDs(id))
}

type recipients struct {
	users                                 []string
	seen                                  map[string]bool
	invalidUser, invalidParty, invalidTag []string
	validTargets                          int
}

func (r *recipients) add(u *User) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if !r.seen[u.UserID] {
		r.seen[u.UserID] = true
		r.users = append(r.users, u.UserID)
	}
}

// resolveRecipients expands touser/toparty/totag for an app. "@all" means
// every visible member and ignores toparty/totag.
func (s *Sim) resolveRecipients(app *appState, touser, toparty, totag string) (recipients, *apiError) {
	var r recipients
	users, parties, tags := splitPipe(touser), splitPipe(toparty), splitPipe(totag)
	switch {
	case len(users) > maxToUser:
		return r, errCodef(codeInvalidUserListLen, "more than %d users", maxToUser)
	case len(parties) > maxToParty:
		return r, errCodef(codeTooManyParties, "more than %d parties", maxToParty)
	case len(tags) > maxToTag:
		return r, errCodef(codeTooManyTags, "more than %d tags", maxToTag)
	}
	if touser == "@all" {
		for _, u := range s.sortedUsers() {
			if s.visibleTo(app, u) {
				r.add(u)
			}
		}
		r.validTargets = 1
		return r, nil
	}
	for _, id := range users {
		u := s.users[lower(id)]
		if u == nil || !s.visibleTo(app, u) {
			r.invalidUser = append(r.invalidUser, lower(id)) // lower-cased (§0)
			continue
		}
		r.validTargets++
		r.add(u)
	}
	for _, p := range parties {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || s.depts[id] == nil || !s.partyVisible(app, id) {
			r.invalidParty = append(r.invalidParty, p)
			continue
		}
		r.validTargets++
		s.addVisible(&r, app, s.partyMembers(id))
	}
	for _, t := range tags {
		id, err := strconv.ParseInt(t, 10, 64)
		tag := s.tags[id]
		if err != nil || tag == nil {
			r.invalidTag = append(r.invalidTag, t)
			continue
		}
		r.validTargets++
		s.addVisible(&r, app, s.tagMembers(tag))
	}
	return r, nil
}

func (s *Sim) addVisible(r *recipients, app *appState, users []*User) {
	for _, u := range users {
		if s.visibleTo(app, u) {
			r.add(u)
		}
	}
}

func (s *Sim) tagMembers(t *Tag) []*User {
	var out []*User
	for _, id := range t.Users {
		if u := s.users[lower(id)]; u != nil {
			out = append(out, u)
		}
	}
	for _, p := range t.Parties {
		if s.depts[p] != nil {
			out = append(out, s.partyMembers(p)...)
		}
	}
	return out
}

// ---- message/send ----

type sendRequest struct {
	msgBody
	ToUser                 idText       `json:"touser"`
	ToParty                idText       `json:"toparty"`
	ToTag                  idText       `json:"totag"`
	AgentID                agentIDField `json:"agentid"`
	Safe                   optInt       `json:"safe"`
	EnableIDTrans          optInt       `json:"enable_id_trans"`
	EnableDuplicateCheck   optInt       `json:"enable_duplicate_check"`
	DuplicateCheckInterval optInt       `json:"duplicate_check_interval"`
}

// handleMessageSend implements POST message/send (§7). Check order:
// agentid, recipient presence and counts, msgtype and body, safe, then
// recipient resolution.
func handleMessageSend(s *Sim, c *call) reply {
	var req sendRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if e := checkAgentID(req.AgentID, c.app); e != nil {
		return failErr(e)
	}
	if !req.ToUser.set && !req.ToParty.set && !req.ToTag.set {
		return fail(codeNoRecipients)
	}
	if e := validateBody(&req.msgBody, chanMessage); e != nil {
		return failErr(e)
	}
	if e := checkSafe(req.Safe, req.MsgType.v, chanMessage); e != nil {
		return failErr(e)
	}
	// Interactive cards call back, so the app needs a callback URL
	// (43012, §14). Notice cards with an action_menu also call back
	// (template_card_menu_event), but the reference ties 43012 to the
	// interactive types only: they are not refused (unconfirmed).
	if req.TemplateCard != nil && slices.Contains(interactiveCards, req.TemplateCard.CardType.v) && s.callbacks[c.app.AgentID] == nil {
		return failf(codeCallbackURLRequired, "app %d has no callback URL for %s", c.app.AgentID, req.TemplateCard.CardType.v)
	}
	if req.MsgType.v == "miniprogram_notice" && req.ToUser.v == "@all" {
		return failf(codeInvalidParam, "miniprogram_notice does not support @all")
	}
	rcpt, e := s.resolveRecipients(c.app, req.ToUser.v, req.ToParty.v, req.ToTag.v)
	if e != nil {
		return failErr(e)
	}
	if rcpt.validTargets == 0 {
		return fail(codeAllRecipientsBad)
	}
	dupKey, interval := s.dupKey(c, &req)
	if dupKey != "" {
		if prev, seen := s.dupSeen[dupKey]; seen && c.now.Sub(prev.at) < interval {
			// Not delivered again. The reply repeats the original one,
			// including its msgid (simulator choice: the duplicate *is*
			// that message, so recalling the msgid recalls it) and a
			// card's response_code. The duplicate check runs before the
			// task_id check, so a repeated card is a duplicate, not a
			// 42014 (unconfirmed).
			s.recordMessage(&Message{Time: c.now, Channel: chanMessage, AgentID: c.app.AgentID,
				MsgType: req.MsgType.v, Body: slices.Clone(c.body), Duplicate: true})
			return ok(prev.fields)
		}
	}
	if e := s.checkTaskID(c.app, req.TemplateCard); e != nil {
		return failErr(e)
	}

	m := &Message{Time: c.now, Channel: chanMessage, AgentID: c.app.AgentID, MsgID: s.newMsgID(),
		MsgType: req.MsgType.v, Body: slices.Clone(c.body),
		InvalidUser: strings.Join(rcpt.invalidUser, "|"), InvalidParty: strings.Join(rcpt.invalidParty, "|"),
		InvalidTag: strings.Join(rcpt.invalidTag, "|")}
	s.deliver(m, rcpt.users, c.now)
	s.recordMessage(m)
	if req.TemplateCard.callsBack() {
		// Cards that can call back are recorded with their recipients and
		// get a single-use response_code (cards.go). §7 promises one for
		// the interactive types; that action_menu notice cards get one
		// too is the reference's "presumably" (unconfirmed).
		m.ResponseCode = s.recordCard(m, req.TemplateCard, c.body, c.now)
	}
	if k := taskKey(c.app, req.TemplateCard); k != "" {
		s.taskIDs[k] = true
	}

	fields := map[string]any{
		"invaliduser": m.InvalidUser, "invalidparty": m.InvalidParty, "invalidtag": m.InvalidTag,
		"unlicenseduser": "", "msgid": m.MsgID,
	}
	if m.ResponseCode != "" {
		fields["response_code"] = m.ResponseCode
	}
	if dupKey != "" {
		s.dupSeen[dupKey] = dupEntry{at: c.now, fields: fields}
	}
	return ok(fields)
}

// checkAgentID: missing → 41011, not a number → 40056, not the token's
// app → 301002.
func checkAgentID(a agentIDField, app *appState) *apiError {
	switch {
	case a.bad:
		return errCodef(codeInvalidAgentID, "agentid is not a number")
	case !a.set:
		return errCode(codeMissingAgentID)
	case a.v <= 0:
		return errCodef(codeInvalidAgentID, "agentid %d", a.v)
	case a.v != app.AgentID:
		return errCodef(codeAgentNotAllowed, "agentid %d is not the token's app", a.v)
	}
	return nil
}

// checkSafe: 0/1, and 2 for mpnews only; news with safe → 40074. appchat
// allows 0/1.
func checkSafe(safe optInt, msgType, channel string) *apiError {
	v := safe.v
	switch {
	case v == 0:
		return nil
	case msgType == "news":
		return errCode(codeNewsNoSafe)
	case v == 1:
		return nil
	case v == 2 && msgType == "mpnews" && channel == chanMessage:
		return nil
	}
	return errCodef(codeInvalidParam, "safe %d", v)
}

// taskKey identifies a template_card task_id, unique per app.
func taskKey(app *appState, card *templateCard) string {
	if card == nil || card.TaskID.v == "" {
		return ""
	}
	return strconv.FormatInt(app.AgentID, 10) + "\x00" + card.TaskID.v
}

// checkTaskID enforces "task_id unique per app" for template cards.
func (s *Sim) checkTaskID(app *appState, card *templateCard) *apiError {
	if k := taskKey(app, card); k != "" && s.taskIDs[k] {
		return errCodef(codeCardTaskID, "task_id %q already used", card.TaskID.v)
	}
	return nil
}

// dupKey returns the duplicate-check key and interval, or "" when the
// check is off. The key is the app plus the whitespace-normalised body.
// interval: 0/absent → 1800 s; above 14400 it is capped (unconfirmed).
func (s *Sim) dupKey(c *call, req *sendRequest) (string, time.Duration) {
	if req.EnableDuplicateCheck.v != 1 {
		return "", 0
	}
	secs := req.DuplicateCheckInterval.v
	if secs <= 0 {
		secs = defaultDupInterval
	}
	secs = min(secs, maxDupInterval)
	var buf bytes.Buffer
	if json.Compact(&buf, c.body) != nil {
		buf.Reset()
		buf.Write(c.body)
	}
	return strconv.FormatInt(c.app.AgentID, 10) + "\x00" + buf.String(), time.Duration(secs) * time.Second
}

func (s *Sim) newMsgID() string {
	for {
		id := s.randString(msgIDLength, alnum+"-_")
		if s.msgByID[id] == nil {
			return id
		}
	}
}

// handleMessageRecall implements POST message/recall: ≤24 h, same app.
// An unknown msgid or another app's message → 40058; recalling twice is ok.
func handleMessageRecall(s *Sim, c *call) reply {
	var req struct {
		MsgID optString `json:"msgid"`
	}
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if !req.MsgID.given() {
		return failf(codeInvalidParam, "msgid is required")
	}
	m := s.msgByID[req.MsgID.v]
	if m == nil {
		return failf(codeInvalidParam, "unknown msgid")
	}
	if m.AgentID != c.app.AgentID {
		return failf(codeInvalidParam, "msgid was sent by another app")
	}
	if c.now.Sub(m.Time) > recallWindow {
		return fail(codeMsgIDExpired)
	}
	m.Recalled = true
	return ok(nil)
}
