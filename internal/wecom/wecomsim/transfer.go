package wecomsim

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Customer succession of members in service (客户联系 → 在职继承; DOC-92125/94088/95703,
// the 2023 copies 96325 and following): a member's customers (externalcontact/list) and
// the customer group chats they own (externalcontact/groupchat/list) are handed to another
// member with externalcontact/transfer_customer and externalcontact/groupchat/onjob_transfer;
// externalcontact/transfer_result says how each customer's handover went.
//
// A customer handover starts "waiting" (status 2) and, 24 hours later unless the customer
// refuses, completes (status 1): the customer then follows the takeover member. The delay is
// Options.TransferDelay on the simulator clock. A seeded customer with TransferOutcome 3
// (客户拒绝) or 4 (接替成员客户达到上限) ends with that status instead and stays with the
// handover member. A group chat's owner changes at once.
const (
	// defaultTransferDelay: "0表示成功发起接替,待24小时后自动接替" (DOC-92125).
	defaultTransferDelay = 24 * time.Hour
	// maxTransferCustomers: "每次最多分配100个客户" (DOC-92125).
	maxTransferCustomers = 100
	// maxTransferMsgRunes: transfer_success_msg "最多200个字符".
	maxTransferMsgRunes = 200
	// transferProtection and maxTransfersInProtection: "90个自然日内,在职成员的每位客户仅
	// 可被转接2次" (DOC-92125; errcode 40128).
	transferProtection       = 90 * 24 * time.Hour
	maxTransfersInProtection = 2
	// maxTransferResultPage: "每个分页返回的数据不会超过1000条" (DOC-94088).
	maxTransferResultPage = 1000
	// maxChatTransfer: chat_id_list "取值范围: 1 ~ 100" (DOC-95703).
	maxChatTransfer = 100
	// maxGroupChatListLimit: groupchat/list limit "取值范围 1 ~ 1000" (DOC-92120).
	maxGroupChatListLimit = 1000
	// maxGroupChatOwners: owner_filter.userid_list "最多100个" (DOC-92120).
	maxGroupChatOwners = 100
	// maxGroupChatVisible: without owner_filter, "如果可见范围内人数超过1000人，为了防止数据包过大，
	// 会报错 81017" (DOC-92120).
	maxGroupChatVisible = 1000
	// chatTransferProtection and maxChatTransfersInProtection: "90个自然日内,在职成员的每个
	// 客户群仅可被转接2次" (DOC-95703).
	chatTransferProtection       = 90 * 24 * time.Hour
	maxChatTransfersInProtection = 2
)

// Transfer statuses of transfer_result.
const (
	TransferDone         = 1 // 接替完毕
	TransferWaiting      = 2 // 等待接替
	TransferRefused      = 3 // 客户拒绝
	TransferTakeoverFull = 4 // 接替成员客户达到上限
)

// CustomerGroupChat is a customer group chat (客户群) and its owner.
type CustomerGroupChat struct {
	ChatID string `json:"chat_id"`
	Name   string `json:"name"`
	Owner  string `json:"owner"`
	// Status as groupchat/list reports it: 0 normal (the only one simulated).
	Status int `json:"status"`
	// Transfers are the times (simulator clock) of its handovers with onjob_transfer.
	Transfers []time.Time `json:"transfers,omitempty"`
}

// recentTransfers counts the chat's handovers within the 90-day protection before now.
func (ch *CustomerGroupChat) recentTransfers(now time.Time) int {
	n := 0
	for _, t := range ch.Transfers {
		if now.Sub(t) < chatTransferProtection {
			n++
		}
	}
	return n
}

// CustomerTransfer is one customer handed over with transfer_customer.
type CustomerTransfer struct {
	ExternalUserID string    `json:"external_userid"`
	Handover       string    `json:"handover_userid"`
	Takeover       string    `json:"takeover_userid"`
	Status         int       `json:"status"`
	Started        time.Time `json:"started"`       // simulator clock
	TakeoverTime   time.Time `json:"takeover_time"` // when it completes (or completed)
	SuccessMsg     string    `json:"transfer_success_msg,omitempty"`
}

// transferDelay is how long a customer handover waits before it completes.
func (s *Sim) transferDelay() time.Duration {
	if s.opts.TransferDelay > 0 {
		return s.opts.TransferDelay
	}
	return defaultTransferDelay
}

// settleTransfers completes the handovers whose time has come: the customer follows the
// takeover member, or the handover ends with the customer's seeded outcome.
func (s *Sim) settleTransfers(now time.Time) {
	for _, t := range s.transfers {
		if t.Status != TransferWaiting || now.Before(t.TakeoverTime) {
			continue
		}
		ext := s.external(t.ExternalUserID)
		switch {
		case ext == nil:
			t.Status = TransferRefused
		case ext.TransferOutcome == TransferRefused || ext.TransferOutcome == TransferTakeoverFull:
			t.Status = ext.TransferOutcome
		default:
			t.Status = TransferDone
			ext.UserID = t.Takeover
		}
		if t.Status != TransferDone {
			t.TakeoverTime = time.Time{}
		}
	}
}

func (s *Sim) external(id string) *ExternalContact {
	for _, e := range s.externals {
		if e.ExternalUserID == id {
			return e
		}
	}
	return nil
}

// handleExternalList implements GET externalcontact/list?userid=: the external_userids of
// the member's customers. A member without customers gets 84061 (不存在外部联系人的关系),
// which is what SDK issue threads report for it (unconfirmed in the official page). A
// missing userid gets 41009 and an unknown one 40003: the page names no codes, so these
// are choices.
func handleExternalList(s *Sim, c *call) reply {
	s.settleTransfers(c.now)
	id := strings.TrimSpace(c.query.Get("userid"))
	if id == "" {
		return fail(codeMissingUserID)
	}
	u := s.users[lower(id)]
	if u == nil {
		return fail(codeInvalidUserID)
	}
	ids := []string{}
	for _, e := range s.externals {
		if equalFoldASCII(e.UserID, u.UserID) {
			ids = append(ids, e.ExternalUserID)
		}
	}
	if len(ids) == 0 {
		return fail(codeNoExternalRelation)
	}
	return ok(map[string]any{"external_userid": ids})
}

// transferMember resolves a handover or takeover userid: a member of the corp, active
// ("需要在企业微信激活且已经过实名认证": an inactive member gets 40098, 成员尚未实名认证;
// that mapping is unconfirmed).
func (s *Sim) transferMember(id string) (*User, *apiError) {
	if strings.TrimSpace(id) == "" {
		return nil, errCode(codeMissingUserID)
	}
	u := s.users[lower(id)]
	switch {
	case u == nil:
		return nil, errCodef(codeInvalidUserID, "userid %q", id)
	case u.Inactive || u.Disabled:
		return nil, errCodef(codeNotRealName, "member %q is not activated", id)
	}
	return u, nil
}

// handleTransferCustomer implements POST externalcontact/transfer_customer. Each customer
// gets its own errcode: 0 (handover started), 40096 (no such customer), 84061 (not a
// customer of handover_userid), 40129 (a handover of this customer is in progress), 40128
// (already handed over twice in 90 days). The page gives the limits but not the codes of
// the whole-call refusals, so these are choices: more than 100 customers 81017, none 40063,
// a message over 200 characters 40058, the same member on both sides 40058.
func handleTransferCustomer(s *Sim, c *call) reply {
	var req struct {
		Handover   optString `json:"handover_userid"`
		Takeover   optString `json:"takeover_userid"`
		External   strList   `json:"external_userid"`
		SuccessMsg optString `json:"transfer_success_msg"`
	}
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	s.settleTransfers(c.now)
	from, e := s.transferMember(req.Handover.v)
	if e != nil {
		return failErr(e)
	}
	to, e := s.transferMember(req.Takeover.v)
	if e != nil {
		return failErr(e)
	}
	if equalFoldASCII(from.UserID, to.UserID) {
		return failf(codeInvalidParam, "handover and takeover are the same member")
	}
	switch n := len(req.External.v); {
	case n == 0:
		return failf(codeEmptyParam, "external_userid is empty")
	case n > maxTransferCustomers:
		return failf(codeTooManyItems, "more than %d customers", maxTransferCustomers)
	}
	if utf8.RuneCountInString(req.SuccessMsg.v) > maxTransferMsgRunes {
		return failf(codeInvalidParam, "transfer_success_msg longer than %d characters", maxTransferMsgRunes)
	}
	out := []map[string]any{}
	for _, id := range req.External.v {
		out = append(out, map[string]any{"external_userid": id, "errcode": s.startTransfer(id, from, to, req.SuccessMsg.v, c.now)})
	}
	return ok(map[string]any{"customer": out})
}

// startTransfer begins one customer's handover and returns its errcode.
func (s *Sim) startTransfer(id string, from, to *User, msg string, now time.Time) int {
	ext := s.external(id)
	switch {
	case ext == nil:
		return codeInvalidExternalUserID
	case !equalFoldASCII(ext.UserID, from.UserID):
		return codeNoExternalRelation
	}
	recent := 0
	for _, t := range s.transfers {
		if t.ExternalUserID != id {
			continue
		}
		if t.Status == TransferWaiting {
			return codeTransferInProgress
		}
		if t.Status == TransferDone && now.Sub(t.Started) < transferProtection {
			recent++
		}
	}
	if recent >= maxTransfersInProtection {
		return codeTransferTooOften
	}
	s.transfers = append(s.transfers, &CustomerTransfer{ExternalUserID: id, Handover: from.UserID, Takeover: to.UserID,
		Status: TransferWaiting, Started: now, TakeoverTime: now.Add(s.transferDelay()), SuccessMsg: msg})
	return codeOK
}

// handleTransferResult implements POST externalcontact/transfer_result: the handovers from
// handover_userid to takeover_userid, oldest first, in pages of at most 1000. A missing
// userid gets 41009; userids that are not members are not checked and give an empty list
// (a choice: the page names no codes).
func handleTransferResult(s *Sim, c *call) reply {
	var req struct {
		Handover optString `json:"handover_userid"`
		Takeover optString `json:"takeover_userid"`
		Cursor   optString `json:"cursor"`
	}
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	s.settleTransfers(c.now)
	if !req.Handover.given() || !req.Takeover.given() {
		return fail(codeMissingUserID)
	}
	offset, e := decodeCursor(req.Cursor.v)
	if e != nil {
		return failErr(e)
	}
	var all []*CustomerTransfer
	for _, t := range s.transfers {
		if equalFoldASCII(t.Handover, req.Handover.v) && equalFoldASCII(t.Takeover, req.Takeover.v) {
			all = append(all, t)
		}
	}
	out := []map[string]any{}
	next := ""
	for i := offset; i < len(all); i++ {
		if len(out) == maxTransferResultPage {
			next = encodeCursor(i)
			break
		}
		t := all[i]
		var at int64
		if !t.TakeoverTime.IsZero() {
			at = t.TakeoverTime.Unix()
		}
		out = append(out, map[string]any{"external_userid": t.ExternalUserID, "status": t.Status, "takeover_time": at})
	}
	return ok(map[string]any{"customer": out, "next_cursor": next})
}

// handleGroupChatList implements POST externalcontact/groupchat/list: customer group chats,
// filtered by owner_filter.userid_list, in pages of limit (1–1000, required) by cursor.
// Only chats whose owner is in the app's visible range are listed ("如果不填，表示获取应用可见
// 范围内全部群主的数据"); an owner named in owner_filter but outside the range is left out
// rather than refused (a choice). A limit out of range gets 40058 and more than 100 owners
// 81017: the page gives the limits, not the errcodes (choices; 81017 is the code the page
// names for too many members in the visible range). status_filter values other than 0–3
// match no chat rather than being refused (a choice).
func handleGroupChatList(s *Sim, c *call) reply {
	var req struct {
		StatusFilter optInt    `json:"status_filter"`
		Cursor       optString `json:"cursor"`
		Limit        optInt    `json:"limit"`
		OwnerFilter  *struct {
			UserIDList strList `json:"userid_list"`
		} `json:"owner_filter"`
	}
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if req.Limit.v < 1 || req.Limit.v > maxGroupChatListLimit {
		return failf(codeInvalidParam, "limit must be 1-%d", maxGroupChatListLimit)
	}
	offset, e := decodeCursor(req.Cursor.v)
	if e != nil {
		return failErr(e)
	}
	var owners []string
	if req.OwnerFilter != nil {
		owners = req.OwnerFilter.UserIDList.v
	}
	if len(owners) > maxGroupChatOwners {
		return failf(codeTooManyItems, "owner_filter.userid_list: more than %d userids", maxGroupChatOwners)
	}
	if len(owners) == 0 && s.countVisible(c.app) > maxGroupChatVisible {
		return failf(codeTooManyItems, "more than %d members in the app's visible range: give owner_filter", maxGroupChatVisible)
	}
	chats := s.sortedGroupChats()
	var match []*CustomerGroupChat
	for _, ch := range chats {
		if req.StatusFilter.v != 0 && int64(ch.Status) != req.StatusFilter.v {
			continue
		}
		if len(owners) > 0 && !slices.ContainsFunc(owners, func(o string) bool { return equalFoldASCII(o, ch.Owner) }) {
			continue
		}
		if u := s.users[lower(ch.Owner)]; u == nil || !s.visibleTo(c.app, u) {
			continue
		}
		match = append(match, ch)
	}
	out := []map[string]any{}
	next := ""
	for i := offset; i < len(match); i++ {
		if int64(len(out)) == req.Limit.v {
			next = encodeCursor(i)
			break
		}
		out = append(out, map[string]any{"chat_id": match[i].ChatID, "status": match[i].Status})
	}
	return ok(map[string]any{"group_chat_list": out, "next_cursor": next})
}

// countVisible counts the members in the app's visible range.
func (s *Sim) countVisible(app *appState) int {
	n := 0
	for _, u := range s.users {
		if s.visibleTo(app, u) {
			n++
		}
	}
	return n
}

func (s *Sim) sortedGroupChats() []*CustomerGroupChat {
	out := make([]*CustomerGroupChat, 0, len(s.groupChats))
	for _, ch := range s.groupChats {
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b *CustomerGroupChat) int { return cmp.Compare(a.ChatID, b.ChatID) })
	return out
}

// handleGroupChatOnjobTransfer implements POST externalcontact/groupchat/onjob_transfer:
// the chats' owner becomes new_owner at once. Chats that cannot be handed over are listed in
// failed_chat_list (90501 not a customer group chat, 90504 the owner is already new_owner,
// 40128 the chat was already handed over twice in the last 90 days) and do not fail the
// call. The page states the 90-day rule but no errcode for it: 40128, the code of the same
// rule for customers, is a choice, as are 40063 for no chats and 81017 for more than 100.
func handleGroupChatOnjobTransfer(s *Sim, c *call) reply {
	var req struct {
		ChatIDs  strList   `json:"chat_id_list"`
		NewOwner optString `json:"new_owner"`
	}
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	switch n := len(req.ChatIDs.v); {
	case n == 0:
		return failf(codeEmptyParam, "chat_id_list is empty")
	case n > maxChatTransfer:
		return failf(codeTooManyItems, "more than %d chats", maxChatTransfer)
	}
	to, e := s.transferMember(req.NewOwner.v)
	if e != nil {
		return failErr(e)
	}
	failed := []map[string]any{}
	for _, id := range req.ChatIDs.v {
		ch := s.groupChats[id]
		code := codeOK
		switch {
		case ch == nil:
			code = codeNotCustomerChat
		case equalFoldASCII(ch.Owner, to.UserID):
			code = codeChatOwnerSame
		case ch.recentTransfers(c.now) >= maxChatTransfersInProtection:
			code = codeTransferTooOften
		default:
			ch.Owner = to.UserID
			ch.Transfers = append(ch.Transfers, c.now)
		}
		if code != codeOK {
			failed = append(failed, map[string]any{"chat_id": id, "errcode": code, "errmsg": errText(code)})
		}
	}
	return ok(map[string]any{"failed_chat_list": failed})
}
