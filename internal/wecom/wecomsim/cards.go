package wecomsim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Interactive template cards (reference §13 template_card_event, §14).
//
// message/send records every card that can call back (button, vote and
// multiple interaction cards, and text/news notice cards with an
// action_menu): its task_id, sending app, the members it reached, the card
// JSON, and what each of those members sees now. Codes for
// message/update_template_card are single-use and valid for 72 h on the
// simulator clock: one comes with the send, and every click (ClickCard,
// POST /sim/card/click) issues a fresh one, pushed in the encrypted
// template_card_event to the sending app's callback.

// responseCodeTTL: "every code expires after 72 h" (older doc: 24 h; the
// duration is "产品逻辑，不支持自定义时长", §14).
const responseCodeTTL = 72 * time.Hour

// sentCard is one card that can call back, as one message/send sent it.
type sentCard struct {
	seq      int64
	agentID  int64
	taskID   string
	msg      *Message // for MsgID and Recalled
	cardType string
	sentAt   time.Time
	card     json.RawMessage
	// recipients are the members the card reached (Message.DeliveredTo):
	// a copy dropped by the per-member quota never reached its member.
	recipients []string
	members    map[string]*memberCard // by lower-cased userid
	updates    []CardUpdate
}

// memberCard is one recipient's copy of a card.
type memberCard struct {
	userID      string
	card        json.RawMessage // the card as sent, or the last replacement
	replaceName string          // set by an update with button.replace_name
	clicks      int
	clickedKey  string
	clickedAt   time.Time
	selected    []CardSelection
	updates     int
	updatedAt   time.Time
}

// responseCode is one single-use code for message/update_template_card.
type responseCode struct {
	card   *sentCard
	issued time.Time
	used   bool
	// clickedBy is the member whose click issued it; "" for the send's code.
	clickedBy string
}

// CardState is one card that can call back (button/vote/multiple
// interaction, or a text/news notice with an action_menu) as sent with
// message/send, and what each recipient sees now (Snapshot.Cards,
// GET /sim/cards).
type CardState struct {
	AgentID  int64     `json:"agent_id"`
	TaskID   string    `json:"task_id"`
	MsgID    string    `json:"msgid"`
	CardType string    `json:"card_type"`
	SentAt   time.Time `json:"sent_at"` // simulator clock
	Recalled bool      `json:"recalled,omitempty"`
	// Card is the template_card object as sent.
	Card json.RawMessage `json:"card"`
	// Recipients are the members the card reached, in delivery order.
	Recipients []string `json:"recipients"`
	// Members is each recipient's copy, by userid.
	Members map[string]MemberCard `json:"members"`
	// Updates lists the successful update_template_card calls, oldest first.
	Updates []CardUpdate `json:"updates"`
}

// Member returns one recipient's copy (userid is case-insensitive).
func (c CardState) Member(userid string) (MemberCard, bool) {
	for id, m := range c.Members {
		if strings.EqualFold(id, userid) {
			return m, true
		}
	}
	return MemberCard{}, false
}

// MemberCard is the card one member sees now: the one sent, the one sent
// with its buttons greyed out under a replace_name, or a replacement
// template_card.
type MemberCard struct {
	UserID string `json:"userid"`
	// CardType, MainTitle, Buttons and Menu summarise Card.
	CardType  string `json:"card_type"`
	MainTitle string `json:"main_title,omitempty"`
	// Buttons are button_list, or the submit_button of a vote or multiple
	// card. After an update with button.replace_name they are one
	// disabled button labelled with it.
	Buttons []CardButton `json:"buttons,omitempty"`
	// Menu is the action_menu's action_list.
	Menu []CardButton `json:"menu,omitempty"`
	// ReplaceName is the button.replace_name of the last update, "" when
	// the buttons are live.
	ReplaceName string `json:"replace_name,omitempty"`
	// Card is the template_card this member sees (as sent, or the
	// replacement of the last template_card update).
	Card json.RawMessage `json:"card"`
	// Clicks counts this member's clicks; ClickedKey, ClickedAt and
	// Selected describe the last one.
	Clicks     int             `json:"clicks,omitempty"`
	ClickedKey string          `json:"clicked_key,omitempty"`
	ClickedAt  time.Time       `json:"clicked_at,omitzero"`
	Selected   []CardSelection `json:"selected,omitempty"`
	// Updates counts the update_template_card calls that reached this
	// member; UpdatedAt is the last one's time.
	Updates   int       `json:"updates,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// CardButton is a button or menu entry of a card.
type CardButton struct {
	Text string `json:"text"`
	Key  string `json:"key,omitempty"`
	// Type 0 calls back with the key; 1 opens URL.
	Type     int    `json:"type,omitempty"`
	URL      string `json:"url,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

// CardSelection is one answer of a vote, multiple or button_selection
// card: SelectedItems/SelectedItem in template_card_event.
type CardSelection struct {
	QuestionKey string   `json:"question_key"`
	OptionIDs   []string `json:"option_ids"`
}

// CardUpdate is one successful message/update_template_card call.
type CardUpdate struct {
	Time         time.Time `json:"time"` // simulator clock
	ResponseCode string    `json:"response_code"`
	// ClickedBy is the member whose click issued the code; "" for the
	// code message/send returned.
	ClickedBy string `json:"clicked_by,omitempty"`
	// Members are the recipients whose copy changed.
	Members []string `json:"members"`
	// InvalidUsers is the reply's invaliduser.
	InvalidUsers []string `json:"invalid_users,omitempty"`
	// ReplaceName is set for a button update, CardType for a template_card
	// update (the replacement's type).
	ReplaceName string `json:"replace_name,omitempty"`
	CardType    string `json:"card_type,omitempty"`
}

func (c *sentCard) state() CardState {
	out := CardState{
		AgentID: c.agentID, TaskID: c.taskID, MsgID: c.msg.MsgID, CardType: c.cardType, SentAt: c.sentAt,
		Recalled: c.msg.Recalled, Card: cloneRaw(c.card), Recipients: slices.Clone(c.recipients),
		Members: make(map[string]MemberCard, len(c.members)), Updates: make([]CardUpdate, 0, len(c.updates)),
	}
	for _, m := range c.members {
		out.Members[m.userID] = m.state()
	}
	for _, u := range c.updates {
		u.Members = slices.Clone(u.Members)
		u.InvalidUsers = slices.Clone(u.InvalidUsers)
		out.Updates = append(out.Updates, u)
	}
	return out
}

func (m *memberCard) state() MemberCard {
	out := MemberCard{
		UserID: m.userID, ReplaceName: m.replaceName, Card: cloneRaw(m.card),
		Clicks: m.clicks, ClickedKey: m.clickedKey, ClickedAt: m.clickedAt, Updates: m.updates, UpdatedAt: m.updatedAt,
	}
	for _, s := range m.selected {
		out.Selected = append(out.Selected, CardSelection{QuestionKey: s.QuestionKey, OptionIDs: slices.Clone(s.OptionIDs)})
	}
	t := parseCard(m.card)
	out.CardType = t.CardType.v
	if t.MainTitle != nil {
		out.MainTitle = t.MainTitle.Title.v
	}
	for _, b := range cardButtons(t) {
		out.Buttons = append(out.Buttons, CardButton{Text: b.Text.v, Key: b.Key.v, Type: int(b.Type.v), URL: b.URL.v})
	}
	if m.replaceName != "" && len(out.Buttons) > 0 {
		out.Buttons = []CardButton{{Text: m.replaceName, Disabled: true}}
	}
	if t.ActionMenu != nil {
		for _, a := range t.ActionMenu.ActionList {
			out.Menu = append(out.Menu, CardButton{Text: a.Text.v, Key: a.Key.v})
		}
	}
	return out
}

// parseCard decodes a stored card; stored cards passed validation, so a
// failure leaves the zero card.
func parseCard(raw json.RawMessage) *templateCard {
	var t templateCard
	_ = decodeBody(raw, &t)
	return &t
}

// cardButtons are the buttons that can be clicked: button_list, or the
// submit_button of vote and multiple cards.
func cardButtons(t *templateCard) []cardButton {
	switch t.CardType.v {
	case "button_interaction":
		return t.ButtonList
	case "vote_interaction", "multiple_interaction":
		if t.SubmitButton != nil {
			return []cardButton{*t.SubmitButton}
		}
	}
	return nil
}

// ---- read API ----

// Cards returns every recorded card that can call back, in send order.
func (s *Sim) Cards() []CardState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cardStatesLocked()
}

// Card returns the card agentID sent with taskID.
func (s *Sim) Card(agentID int64, taskID string) (CardState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cards[cardKey(agentID, taskID)]
	if c == nil {
		return CardState{}, false
	}
	return c.state(), true
}

// Card returns the card agentID sent with taskID from the snapshot.
func (s Snapshot) Card(agentID int64, taskID string) (CardState, bool) {
	for _, c := range s.Cards {
		if c.AgentID == agentID && c.TaskID == taskID {
			return c, true
		}
	}
	return CardState{}, false
}

func (s *Sim) cardStatesLocked() []CardState {
	cards := make([]*sentCard, 0, len(s.cards))
	for _, c := range s.cards {
		cards = append(cards, c)
	}
	slices.SortFunc(cards, func(a, b *sentCard) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]CardState, 0, len(cards))
	for _, c := range cards {
		out = append(out, c.state())
	}
	return out
}

// ---- message/send ----

func cardKey(agentID int64, taskID string) string {
	return strconv.FormatInt(agentID, 10) + "\x00" + taskID
}

// issueResponseCode makes a new single-use code for card. Callers hold s.mu.
func (s *Sim) issueResponseCode(card *sentCard, now time.Time, clickedBy string) string {
	for {
		code := s.randString(responseCodeLength, alnum+"-_")
		if s.respCodes[code] == nil {
			s.respCodes[code] = &responseCode{card: card, issued: now, clickedBy: clickedBy}
			return code
		}
	}
}

// recordCard remembers a card that can call back, sent by m, and returns
// the send's response_code. Callers hold s.mu.
func (s *Sim) recordCard(m *Message, t *templateCard, body []byte, now time.Time) string {
	var raw struct {
		TemplateCard json.RawMessage `json:"template_card"`
	}
	_ = json.Unmarshal(body, &raw) // the body was decoded already
	var card bytes.Buffer
	if json.Compact(&card, raw.TemplateCard) != nil {
		card.Reset()
		card.Write(raw.TemplateCard)
	}
	c := &sentCard{
		seq: m.Seq, agentID: m.AgentID, taskID: t.TaskID.v, msg: m, cardType: t.CardType.v, sentAt: now,
		card: card.Bytes(), recipients: slices.Clone(m.DeliveredTo), members: map[string]*memberCard{},
	}
	for _, uid := range m.DeliveredTo {
		c.members[lower(uid)] = &memberCard{userID: uid, card: c.card}
	}
	s.cards[cardKey(c.agentID, c.taskID)] = c
	return s.issueResponseCode(c, now, "")
}

// ---- message/update_template_card ----

type updateCardRequest struct {
	UserIDs       strList      `json:"userids"`
	PartyIDs      intList      `json:"partyids"`
	TagIDs        intList      `json:"tagids"`
	AtAll         optInt       `json:"atall"`
	AgentID       agentIDField `json:"agentid"`
	ResponseCode  optString    `json:"response_code"`
	EnableIDTrans optInt       `json:"enable_id_trans"` // accepted and ignored
	Button        *struct {
		ReplaceName optString `json:"replace_name"`
	} `json:"button"`
	TemplateCard *templateCard `json:"template_card"`
}

// handleUpdateTemplateCard implements POST message/update_template_card
// (§14). Check order: agentid (41011/40056/301002); response_code: empty
// or unknown 60140, sent by another app 42015, used or older than 72 h
// 60140; recipient list sizes (40032/82002/82003) and presence (82001);
// then the update itself: exactly one of button and template_card
// (40058), button only for button/vote/multiple interaction cards (40058)
// and with a replace_name (42020), template_card validated as in
// message/send with the card's own task_id (42014); finally, no recipient
// of the card among the targets → 81013. A refused call leaves the code
// unused. Targets that are not recipients of the card are listed in
// invaliduser (an array here, unlike message/send).
func handleUpdateTemplateCard(s *Sim, c *call) reply {
	var req updateCardRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if e := checkAgentID(req.AgentID, c.app); e != nil {
		return failErr(e)
	}
	rc := s.respCodes[req.ResponseCode.v]
	switch {
	case rc == nil:
		return failf(codeBadResponseCode, "unknown response_code")
	case rc.card.agentID != c.app.AgentID:
		return failf(codeCardAppMismatch, "the card was sent by agent %d", rc.card.agentID)
	case rc.used:
		return failf(codeBadResponseCode, "response_code already used")
	case c.now.Sub(rc.issued) > responseCodeTTL:
		return failf(codeBadResponseCode, "response_code expired (issued %s)", rc.issued.Format(time.RFC3339))
	}
	card := rc.card
	switch {
	case len(req.UserIDs.v) > maxToUser:
		return failf(codeInvalidUserListLen, "more than %d userids", maxToUser)
	case len(req.PartyIDs.v) > maxToParty:
		return failf(codeTooManyParties, "more than %d partyids", maxToParty)
	case len(req.TagIDs.v) > maxToTag:
		return failf(codeTooManyTags, "more than %d tagids", maxToTag)
	case req.AtAll.v != 1 && len(req.UserIDs.v) == 0 && len(req.PartyIDs.v) == 0 && len(req.TagIDs.v) == 0:
		return failf(codeNoRecipients, "userids, partyids and tagids empty and atall not 1")
	}
	if e := checkCardUpdate(&req, card); e != nil {
		return failErr(e)
	}

	targets, invalid := s.updateTargets(&req, card)
	if len(targets) == 0 {
		return failf(codeAllRecipientsBad, "no recipient of the card among the targets")
	}
	rc.used = true
	u := CardUpdate{Time: c.now, ResponseCode: req.ResponseCode.v, ClickedBy: rc.clickedBy, InvalidUsers: invalid}
	var replacement json.RawMessage
	if req.TemplateCard != nil {
		var raw struct {
			TemplateCard json.RawMessage `json:"template_card"`
		}
		_ = json.Unmarshal(c.body, &raw)
		var buf bytes.Buffer
		if json.Compact(&buf, raw.TemplateCard) != nil {
			buf.Reset()
			buf.Write(raw.TemplateCard)
		}
		replacement = buf.Bytes()
		u.CardType = req.TemplateCard.CardType.v
	} else {
		u.ReplaceName = req.Button.ReplaceName.v
	}
	for _, m := range targets {
		if replacement != nil {
			m.card, m.replaceName = replacement, ""
		} else {
			m.replaceName = u.ReplaceName
		}
		m.updates++
		m.updatedAt = c.now
		u.Members = append(u.Members, m.userID)
	}
	card.updates = append(card.updates, u)
	if invalid == nil {
		invalid = []string{}
	}
	return ok(map[string]any{"invaliduser": invalid})
}

// checkCardUpdate checks the button / template_card part.
func checkCardUpdate(req *updateCardRequest, card *sentCard) *apiError {
	switch {
	case req.Button != nil && req.TemplateCard != nil:
		return errCodef(codeInvalidParam, "give button or template_card, not both")
	case req.Button == nil && req.TemplateCard == nil:
		return errCodef(codeInvalidParam, "button or template_card required")
	case req.Button != nil:
		if !slices.Contains(interactiveCards, card.cardType) {
			return errCodef(codeInvalidParam, "button updates only button/vote/multiple interaction cards, not %s", card.cardType)
		}
		if req.Button.ReplaceName.v == "" {
			return errCodef(codeCardButtonName, "button.replace_name required")
		}
		return nil
	}
	if e := checkTemplateCard(req.TemplateCard, chanMessage); e != nil {
		return e
	}
	// The replacement belongs to the same task: another task_id is refused
	// (unconfirmed; WeCom may ignore it).
	if id := req.TemplateCard.TaskID.v; id != "" && id != card.taskID {
		return errCodef(codeCardTaskID, "template_card.task_id %q is not the card's %q", id, card.taskID)
	}
	return nil
}

// updateTargets resolves userids/partyids/tagids/atall to the card's
// recipients. Named userids that are not recipients are invalid (lower-
// cased, as message/send reports them); departments and tags only select
// recipients among their members, and unknown ones are ignored (the reply
// has no invalidparty/invalidtag: unconfirmed).
func (s *Sim) updateTargets(req *updateCardRequest, card *sentCard) (targets []*memberCard, invalid []string) {
	seen := map[*memberCard]bool{}
	add := func(m *memberCard) {
		if m != nil && !seen[m] {
			seen[m] = true
			targets = append(targets, m)
		}
	}
	if req.AtAll.v == 1 {
		for _, uid := range card.recipients {
			add(card.members[lower(uid)])
		}
		return targets, nil
	}
	for _, id := range req.UserIDs.v {
		if m := card.members[lower(id)]; m != nil {
			add(m)
		} else if id != "" {
			invalid = append(invalid, lower(id))
		}
	}
	var users []*User
	for _, p := range req.PartyIDs.v {
		if s.depts[p] != nil {
			users = append(users, s.partyMembers(p)...)
		}
	}
	for _, id := range req.TagIDs.v {
		if t := s.tags[id]; t != nil {
			users = append(users, s.tagMembers(t)...)
		}
	}
	for _, u := range users {
		add(card.members[lower(u.UserID)])
	}
	return targets, invalid
}

// ---- clicks ----

// CardClick is the body of POST /sim/card/click: member UserID clicks the
// button (or submit button, or action_menu entry) with Key on the card
// sent with TaskID. Selected answers the card's questions (vote,
// multiple, button_selection); questions left out keep the card's
// defaults (is_checked, selected_id).
type CardClick struct {
	// AgentID is the sending app; needed only when two apps used TaskID.
	AgentID  int64           `json:"agent_id,omitempty"`
	TaskID   string          `json:"task_id"`
	UserID   string          `json:"userid"`
	Key      string          `json:"key"`
	Selected []CardSelection `json:"selected,omitempty"`
}

// CardClickResult is the answer of POST /sim/card/click.
type CardClickResult struct {
	AgentID int64  `json:"agent_id"`
	TaskID  string `json:"task_id"`
	UserID  string `json:"userid"`
	// Event is template_card_event, or template_card_menu_event for an
	// action_menu entry.
	Event    string `json:"event"`
	EventKey string `json:"event_key"`
	CardType string `json:"card_type"`
	// ResponseCode is the fresh single-use code the event carries.
	ResponseCode string          `json:"response_code"`
	Selected     []CardSelection `json:"selected,omitempty"`
	// Delivery is the seq of the callback delivery queued.
	Delivery int64 `json:"delivery"`
}

// ClickCard is a member clicking a button of a card in the WeCom client.
// Only a member the card reached may click, only a callback button
// (button_list type 0, a vote or multiple card's submit_button, or an
// action_menu entry) of the card that member sees now, and not a button
// an update greyed out with replace_name. The click is recorded in the
// member's card state, issues a fresh response_code (single use, 72 h),
// and pushes template_card_event (template_card_menu_event for a menu
// entry) with FromUserName = the member, EventKey, TaskId, CardType,
// ResponseCode, AgentID and SelectedItems to the sending app's callback,
// through the same delivery queue as every callback (retries, delivery
// log). A member may click again (each click is a new event with a new
// code; unconfirmed: the WeCom client may lock a card until it is
// updated). It is not an API call (no call log, no quota).
func (s *Sim) ClickCard(click CardClick) (CardClickResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	card, err := s.cardForClick(click)
	if err != nil {
		return CardClickResult{}, err
	}
	m := card.members[lower(click.UserID)]
	if m == nil || click.UserID == "" {
		return CardClickResult{}, fmt.Errorf("click refused: %q is not a recipient of card %q (it reached %d members)",
			click.UserID, card.taskID, len(card.recipients))
	}
	if card.msg.Recalled {
		return CardClickResult{}, fmt.Errorf("click refused: the message of card %q was recalled", card.taskID)
	}
	t := parseCard(m.card)
	event, err := clickEvent(t, m, click.Key)
	if err != nil {
		return CardClickResult{}, err
	}
	var selected []CardSelection
	if event == wecom.EventTemplateCard {
		if selected, err = clickSelections(t, click.Selected); err != nil {
			return CardClickResult{}, err
		}
	} else if len(click.Selected) > 0 {
		return CardClickResult{}, fmt.Errorf("click refused: a menu entry carries no selection")
	}
	cfg := s.callbacks[card.agentID]
	if cfg == nil {
		return CardClickResult{}, fmt.Errorf("click refused: app %d has no callback URL, so WeCom has nowhere to send the event "+
			"(and refuses interactive cards without one: 43012)", card.agentID)
	}
	now := s.Now()
	code := s.issueResponseCode(card, now, m.userID)
	m.clicks++
	m.clickedKey, m.clickedAt, m.selected = click.Key, now, selected
	ev := s.cardEvent(event, card, m.userID, click.Key, t.CardType.v, code, selected)
	seq := s.push(cfg, ev)
	if seq == 0 {
		return CardClickResult{}, fmt.Errorf("click refused: the simulator is closed")
	}
	return CardClickResult{
		AgentID: card.agentID, TaskID: card.taskID, UserID: m.userID, Event: event, EventKey: click.Key,
		CardType: t.CardType.v, ResponseCode: code, Selected: selected, Delivery: seq,
	}, nil
}

func (s *Sim) cardForClick(click CardClick) (*sentCard, error) {
	if click.TaskID == "" {
		return nil, fmt.Errorf("click needs task_id")
	}
	if click.AgentID != 0 {
		if c := s.cards[cardKey(click.AgentID, click.TaskID)]; c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("click refused: app %d sent no interactive card with task_id %q", click.AgentID, click.TaskID)
	}
	var found *sentCard
	for _, c := range s.cards {
		if c.taskID != click.TaskID {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("click refused: apps %d and %d both sent task_id %q; give agent_id", found.agentID, c.agentID, click.TaskID)
		}
		found = c
	}
	if found == nil {
		return nil, fmt.Errorf("click refused: no interactive card with task_id %q was sent", click.TaskID)
	}
	return found, nil
}

// clickEvent finds key on the member's card: a callback button gives
// template_card_event, an action_menu entry template_card_menu_event.
func clickEvent(t *templateCard, m *memberCard, key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("click needs key")
	}
	var keys []string
	for _, b := range cardButtons(t) {
		if b.Type.v == 1 {
			if b.Key.v == key {
				return "", fmt.Errorf("click refused: button %q of card %q opens a URL; WeCom sends no event for it", b.Text.v, t.TaskID.v)
			}
			continue
		}
		if b.Key.v == key {
			if m.replaceName != "" {
				return "", fmt.Errorf("click refused: %s's buttons were replaced by %q (greyed out) and cannot be clicked", m.userID, m.replaceName)
			}
			return wecom.EventTemplateCard, nil
		}
		keys = append(keys, b.Key.v)
	}
	if t.ActionMenu != nil {
		for _, a := range t.ActionMenu.ActionList {
			if a.Key.v == key {
				return wecom.EventTemplateCardMenu, nil
			}
			keys = append(keys, a.Key.v)
		}
	}
	return "", fmt.Errorf("click refused: the card %s sees has no callback button or menu entry with key %q (keys: %s)",
		m.userID, truncateRunes(key, 40), strings.Join(keys, ", "))
}

// questions lists a card's questions in card order.
func questions(t *templateCard) []*cardQuestion {
	switch t.CardType.v {
	case "button_interaction":
		if t.ButtonSelection != nil {
			return []*cardQuestion{t.ButtonSelection}
		}
	case "vote_interaction":
		if t.Checkbox != nil {
			return []*cardQuestion{t.Checkbox}
		}
	case "multiple_interaction":
		out := make([]*cardQuestion, 0, len(t.SelectList))
		for i := range t.SelectList {
			out = append(out, &t.SelectList[i])
		}
		return out
	}
	return nil
}

// clickSelections checks the given answers against the card and fills in
// the defaults: a checkbox takes one option (mode 0) or several (mode 1)
// and at least one; a select_list or button_selection takes one.
func clickSelections(t *templateCard, given []CardSelection) ([]CardSelection, error) {
	qs := questions(t)
	byKey := map[string]CardSelection{}
	for _, g := range given {
		if !slices.ContainsFunc(qs, func(q *cardQuestion) bool { return q.QuestionKey.v == g.QuestionKey }) {
			return nil, fmt.Errorf("click refused: the card has no question %q", g.QuestionKey)
		}
		if _, dup := byKey[g.QuestionKey]; dup {
			return nil, fmt.Errorf("click refused: question %q answered twice", g.QuestionKey)
		}
		byKey[g.QuestionKey] = g
	}
	var out []CardSelection
	for _, q := range qs {
		var ids []string
		if g, ok := byKey[q.QuestionKey.v]; ok {
			ids = g.OptionIDs
			for _, id := range ids {
				if !slices.ContainsFunc(q.OptionList, func(o cardOption) bool { return o.ID.v == id }) {
					return nil, fmt.Errorf("click refused: question %q has no option %q", q.QuestionKey.v, id)
				}
			}
		} else {
			ids = defaultOptions(t.CardType.v, q)
		}
		single := t.CardType.v != "vote_interaction" || q.Mode.v == 0
		switch {
		case single && len(ids) > 1:
			return nil, fmt.Errorf("click refused: question %q takes one option, got %d", q.QuestionKey.v, len(ids))
		case t.CardType.v == "vote_interaction" && len(ids) == 0:
			return nil, fmt.Errorf("click refused: the vote %q needs at least one option", q.QuestionKey.v)
		case len(ids) == 0:
			continue
		}
		out = append(out, CardSelection{QuestionKey: q.QuestionKey.v, OptionIDs: slices.Clone(ids)})
	}
	return out, nil
}

func defaultOptions(cardType string, q *cardQuestion) []string {
	var ids []string
	if cardType == "vote_interaction" {
		for _, o := range q.OptionList {
			if o.IsChecked.v {
				ids = append(ids, o.ID.v)
			}
		}
		return ids
	}
	if q.SelectedID.v != "" {
		return []string{q.SelectedID.v}
	}
	return nil
}

// cardEvent builds template_card_event / template_card_menu_event in the
// §13 shape (element order as in the reference's example, which has no
// ChangeType). Callers hold s.mu.
func (s *Sim) cardEvent(event string, card *sentCard, userID, key, cardType, code string, selected []CardSelection) *callbackEvent {
	x := &eventBuilder{ev: callbackEvent{event: event, createTime: s.Now().Unix(), userID: userID, taskID: card.taskID, eventKey: key}}
	x.b.WriteString("<xml>")
	x.text("ToUserName", s.corp.ID)
	x.text("FromUserName", userID)
	x.num("CreateTime", x.ev.createTime)
	x.text("MsgType", wecom.CallbackMsgTypeEvent)
	x.text("Event", event)
	x.text("EventKey", key)
	x.text("TaskId", card.taskID)
	x.text("CardType", cardType)
	x.text("ResponseCode", code)
	x.num("AgentID", card.agentID)
	if len(selected) > 0 {
		x.b.WriteString("<SelectedItems>")
		for _, sel := range selected {
			x.b.WriteString("<SelectedItem>")
			x.text("QuestionKey", sel.QuestionKey)
			x.b.WriteString("<OptionIds>")
			for _, id := range sel.OptionIDs {
				x.text("OptionId", id)
			}
			x.b.WriteString("</OptionIds></SelectedItem>")
		}
		x.b.WriteString("</SelectedItems>")
	}
	return x.done()
}

func (s *Sim) adminCardClick(r *http.Request) (any, error) {
	var req CardClick
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	return s.ClickCard(req)
}
