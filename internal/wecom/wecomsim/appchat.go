package wecomsim

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// App group chat limits (§4).
const (
	minChatMembers   = 2
	maxChatMembers   = 2000
	maxChatIDLen     = 32
	maxChatNameRunes = 50
)

var chatIDPattern = regexp.MustCompile(`^[0-9a-zA-Z]+$`)

type chatRequest struct {
	ChatID      optString `json:"chatid"`
	Name        optString `json:"name"`
	Owner       optString `json:"owner"`
	UserList    strList   `json:"userlist"`
	AddUserList strList   `json:"add_user_list"`
	DelUserList strList   `json:"del_user_list"`
}

// truncateRunes cuts s to n characters (chat names are truncated, §4).
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// canonicalMembers maps userids to their stored spelling, removing
// duplicates; unknown ids are returned separately.
func (s *Sim) canonicalMembers(ids []string) (members, unknown []string) {
	for _, id := range ids {
		u := s.users[lower(strings.TrimSpace(id))]
		if u == nil {
			unknown = append(unknown, id)
			continue
		}
		if !slices.Contains(members, u.UserID) {
			members = append(members, u.UserID)
		}
	}
	return members, unknown
}

func containsFold(list []string, id string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, id) })
}

func checkChatID(id string) *apiError {
	if len(id) > maxChatIDLen {
		return errCodef(codeChatIDTooLong, "chatid longer than %d", maxChatIDLen)
	}
	if !chatIDPattern.MatchString(id) {
		return errCodef(codeInvalidChatID, "chatid must be [0-9a-zA-Z]")
	}
	return nil
}

// handleAppChatCreate implements POST appchat/create. §0a: "" for name,
// owner and chatid means "not given".
func handleAppChatCreate(s *Sim, c *call) reply {
	var req chatRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if len(req.UserList.v) == 0 {
		return fail(codeMissingChatUsers)
	}
	members, unknown := s.canonicalMembers(req.UserList.v)
	if len(unknown) > 0 {
		return failf(codeInvalidChatMember, "unknown members %v", unknown)
	}
	if len(members) < minChatMembers || len(members) > maxChatMembers {
		return failf(codeChatMemberCount, "%d members, need %d-%d", len(members), minChatMembers, maxChatMembers)
	}
	chatID := req.ChatID.v
	if chatID != "" {
		if e := checkChatID(chatID); e != nil {
			return failErr(e)
		}
		if s.chats[chatID] != nil {
			return fail(codeChatIDExists)
		}
	} else {
		chatID = s.newChatID()
	}
	owner, e := s.chatOwner(req.Owner.v, members)
	if e != nil {
		return failErr(e)
	}
	s.chats[chatID] = &Chat{ChatID: chatID, Name: truncateRunes(req.Name.v, maxChatNameRunes), Owner: owner,
		Members: members, AgentID: c.app.AgentID, CreatedAt: c.now, seq: s.nextSeq()}
	return ok(map[string]any{"chatid": chatID})
}

// chatOwner resolves the owner: "" → a random member; otherwise it must
// be a member of the corp (86005) and of the chat (86207).
func (s *Sim) chatOwner(owner string, members []string) (string, *apiError) {
	if owner == "" {
		return members[s.idRand.IntN(len(members))], nil
	}
	u := s.users[lower(owner)]
	if u == nil {
		return "", errCodef(codeInvalidChatOwner, "owner %q is not a member of the corp", owner)
	}
	if !slices.Contains(members, u.UserID) {
		return "", errCodef(codeOwnerNotInChat, "owner %q not in userlist", owner)
	}
	return u.UserID, nil
}

func (s *Sim) newChatID() string {
	for {
		id := "wr" + s.randString(28, alnum)
		if s.chats[id] == nil {
			return id
		}
	}
}

// chatForApp finds a chat the calling app created (86201/86003/86008).
func (s *Sim) chatForApp(chatID string, app *appState) (*Chat, *apiError) {
	if chatID == "" {
		return nil, errCode(codeMissingChatID)
	}
	ch := s.chats[chatID]
	if ch == nil {
		return nil, errCodef(codeChatNotFound, "chatid %q", chatID)
	}
	if ch.AgentID != app.AgentID {
		return nil, errCodef(codeNotChatCreator, "chat created by agent %d", ch.AgentID)
	}
	return ch, nil
}

// handleAppChatUpdate implements POST appchat/update. Removing the current
// owner requires naming a new owner in the same call (86203).
func handleAppChatUpdate(s *Sim, c *call) reply {
	var req chatRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	ch, e := s.chatForApp(req.ChatID.v, c.app)
	if e != nil {
		return failErr(e)
	}
	members := slices.Clone(ch.Members)
	added, unknown := s.canonicalMembers(req.AddUserList.v)
	if len(unknown) > 0 {
		return failf(codeBadChatMemberID, "add_user_list: unknown %v", unknown)
	}
	for _, id := range added {
		if !slices.Contains(members, id) {
			members = append(members, id)
		}
	}
	for _, id := range req.DelUserList.v {
		if !containsFold(ch.Members, id) {
			return failf(codeBadChatMemberID, "del_user_list: %q is not in the chat", id)
		}
		members = slices.DeleteFunc(members, func(m string) bool { return strings.EqualFold(m, id) })
	}
	owner := ch.Owner
	if req.Owner.given() {
		o, e := s.chatOwner(req.Owner.v, members)
		if e != nil {
			return failErr(e)
		}
		owner = o
	} else if !slices.Contains(members, owner) {
		return failf(codeMissingChatOwner, "the owner is removed; name a new owner")
	}
	if len(members) < minChatMembers || len(members) > maxChatMembers {
		return failf(codeChatMemberCount, "%d members, need %d-%d", len(members), minChatMembers, maxChatMembers)
	}
	ch.Members, ch.Owner = members, owner
	if req.Name.given() {
		ch.Name = truncateRunes(req.Name.v, maxChatNameRunes)
	}
	return ok(nil)
}

// handleAppChatGet implements GET appchat/get?chatid=ID.
func handleAppChatGet(s *Sim, c *call) reply {
	ch, e := s.chatForApp(strings.TrimSpace(c.query.Get("chatid")), c.app)
	if e != nil {
		return failErr(e)
	}
	return ok(map[string]any{"chat_info": map[string]any{
		"chatid": ch.ChatID, "name": ch.Name, "owner": ch.Owner,
		"userlist": nonNil(slices.Clone(ch.Members)), "chat_type": 0,
	}})
}

type chatSendRequest struct {
	msgBody
	ChatID optString `json:"chatid"`
	Safe   optInt    `json:"safe"`
	// agentid is ignored (go-workwx sends it, §0a).
}

// handleAppChatSend implements POST appchat/send: the message/send bodies
// without recipients or agentid. Per-member quotas drop silently (§4).
func handleAppChatSend(s *Sim, c *call) reply {
	var req chatSendRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	ch, e := s.chatForApp(req.ChatID.v, c.app)
	if e != nil {
		return failErr(e)
	}
	if e := validateBody(&req.msgBody, chanAppChat); e != nil {
		return failErr(e)
	}
	if e := checkSafe(req.Safe, req.MsgType.v, chanAppChat); e != nil {
		return failErr(e)
	}
	m := &Message{Time: c.now, Channel: chanAppChat, AgentID: c.app.AgentID, ChatID: ch.ChatID,
		MsgType: req.MsgType.v, Body: slices.Clone(c.body)}
	s.deliver(m, ch.Members, c.now)
	s.recordMessage(m)
	return ok(nil)
}

// sortedChats returns chats in creation order.
func (s *Sim) sortedChats() []*Chat {
	out := make([]*Chat, 0, len(s.chats))
	for _, ch := range s.chats {
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b *Chat) int { return cmp.Compare(a.seq, b.seq) })
	return out
}
