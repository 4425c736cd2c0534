package wecomsim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tag limits (§10).
const (
	maxTagNameRunes      = 32
	maxTags              = 3000  // per corp (40126, the official table's 企业标签个数达到上限)
	maxTagMembers        = 30000 // users + departments per tag (81003)
	maxTagUsersPerCall   = 1000  // userlist of addtagusers / deltagusers (81014)
	maxTagPartiesPerCall = 100   // partylist of addtagusers / deltagusers (81014)
)

// Tags belong to the app that created them (Tag.Owner): only that app may rename one,
// change its members or delete it; any other app gets 81011 (the errcode is the reference's
// best fit, unconfirmed). A tag without an owner was made in the admin console (a seeded
// tag); the simulator lets the contacts-sync secret write those and no other app
// (unconfirmed: the docs say nothing about console-made tags).
func canWriteTag(app *appState, t *Tag) bool {
	if t.Owner == "" {
		return app.ContactsSync
	}
	return t.Owner == app.Name
}

func validateTagName(name optString) *apiError {
	if !name.set {
		return errCodef(codeMissingTagName, "tagname is required")
	}
	n := utf8.RuneCountInString(name.v)
	if n < 1 || n > maxTagNameRunes {
		return errCodef(codeTagNameLength, "tagname must be 1-%d characters, got %d", maxTagNameRunes, n)
	}
	return nil
}

// tagNamed returns the tag called name, if any. Names are compared exactly (whether WeCom
// ignores case here is unconfirmed).
func (s *Sim) tagNamed(name string) *Tag {
	for _, t := range s.tags {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// tagByID resolves a tagid given in a body (absent: 41017; negative or unknown: 40068).
func (s *Sim) tagByID(id optInt) (*Tag, *apiError) {
	if !id.set {
		return nil, errCodef(codeMissingTagID, "tagid is required")
	}
	t := s.tags[id.v]
	if t == nil {
		return nil, errCodef(codeInvalidTagID, "tag %d does not exist", id.v)
	}
	return t, nil
}

// tagByQuery resolves ?tagid= of the GET endpoints.
func (s *Sim) tagByQuery(c *call) (*Tag, *apiError) {
	v := strings.TrimSpace(c.query.Get("tagid"))
	if v == "" {
		return nil, errCodef(codeMissingTagID, "tagid is required")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, errCodef(codeInvalidTagID, "bad tagid %q", v)
	}
	return s.tagByID(optInt{set: true, v: id})
}

// checkTagOwner refuses a change of t by an app that does not own it.
func checkTagOwner(app *appState, t *Tag) *apiError {
	if canWriteTag(app, t) {
		return nil
	}
	owner := t.Owner
	if owner == "" {
		owner = "the admin console"
	}
	return errCodef(codeTagNoPermission, "tag %d belongs to %s, not app %q", t.ID, owner, app.Name)
}

type tagRequest struct {
	TagID   optInt    `json:"tagid"`
	TagName optString `json:"tagname"`
}

// handleTagCreate implements POST tag/create (§10). tagid 0 is read as "not given" (one
// public SDK always sends it; unconfirmed, as 0 is also a non-negative id); a tagid that
// exists is refused with 40068 (unconfirmed).
func handleTagCreate(s *Sim, c *call) reply {
	var req tagRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if e := validateTagName(req.TagName); e != nil {
		return failErr(e)
	}
	id := int64(1)
	for existing := range s.tags {
		id = max(id, existing+1)
	}
	if req.TagID.set {
		switch {
		case req.TagID.v < 0:
			return failf(codeInvalidTagID, "tagid %d is negative", req.TagID.v)
		case req.TagID.v > 0 && s.tags[req.TagID.v] != nil:
			return failf(codeInvalidTagID, "tagid %d exists", req.TagID.v)
		case req.TagID.v > 0:
			id = req.TagID.v
		}
	}
	if s.tagNamed(req.TagName.v) != nil {
		return failf(codeTagNameExists, "a tag named %q exists", req.TagName.v)
	}
	if len(s.tags) >= maxTags {
		return failf(codeTagCountLimit, "the corp has %d tags", len(s.tags))
	}
	s.tags[id] = &Tag{ID: id, Name: req.TagName.v, Owner: c.app.Name}
	return okMsg("created", map[string]any{"tagid": id})
}

// handleTagUpdate implements POST tag/update: a rename, by the owner only.
func handleTagUpdate(s *Sim, c *call) reply {
	var req tagRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	tag, e := s.tagByID(req.TagID)
	if e == nil {
		e = checkTagOwner(c.app, tag)
	}
	if e != nil {
		return failErr(e)
	}
	if e := validateTagName(req.TagName); e != nil {
		return failErr(e)
	}
	if other := s.tagNamed(req.TagName.v); other != nil && other != tag {
		return failf(codeTagNameExists, "a tag named %q exists", req.TagName.v)
	}
	tag.Name = req.TagName.v
	return okMsg("updated", nil)
}

// handleTagDelete implements GET tag/delete?tagid=: by the owner only, members or not (the
// current page does not ask for an empty tag, §10).
func handleTagDelete(s *Sim, c *call) reply {
	tag, e := s.tagByQuery(c)
	if e == nil {
		e = checkTagOwner(c.app, tag)
	}
	if e != nil {
		return failErr(e)
	}
	delete(s.tags, tag.ID)
	return okMsg("deleted", nil)
}

// handleTagGet implements GET tag/get?tagid=: any app may read a tag, but userlist holds only
// the members in the caller's visible range.
func handleTagGet(s *Sim, c *call) reply {
	tag, e := s.tagByQuery(c)
	if e != nil {
		return failErr(e)
	}
	users := []map[string]any{}
	for _, id := range tag.Users {
		if u := s.users[lower(id)]; u != nil && s.visibleTo(c.app, u) {
			users = append(users, map[string]any{"userid": u.UserID, "name": u.Name})
		}
	}
	return ok(map[string]any{"tagname": tag.Name, "userlist": users, "partylist": nonNil(slices.Clone(tag.Parties))})
}

// handleTagList implements GET tag/list: every tag of the corp, by id, for a self-built app
// and the contacts-sync secret alike.
func handleTagList(s *Sim, c *call) reply {
	out := []map[string]any{}
	for _, t := range s.sortedTags() {
		out = append(out, map[string]any{"tagid": t.ID, "tagname": t.Name})
	}
	return ok(map[string]any{"taglist": out})
}

func (s *Sim) sortedTags() []*Tag {
	out := make([]*Tag, 0, len(s.tags))
	for _, t := range s.tags {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Tag) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

type tagMembersRequest struct {
	TagID     optInt  `json:"tagid"`
	UserList  strList `json:"userlist"`
	PartyList intList `json:"partylist"`
}

// tagMembers sorts the members named by an addtagusers or deltagusers body into the ones the
// calling app may name (existing, in its visible range) and the invalid rest.
type tagMembers struct {
	users        []string // canonical userids, without repeats
	parties      []int64
	invalidUsers []string // as given
	invalidParty []int64
}

func (s *Sim) sortTagMembers(app *appState, req *tagMembersRequest) tagMembers {
	var m tagMembers
	for _, id := range req.UserList.v {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		u := s.users[lower(id)]
		switch {
		case u == nil || !s.visibleTo(app, u):
			m.invalidUsers = append(m.invalidUsers, id)
		case !slices.Contains(m.users, u.UserID):
			m.users = append(m.users, u.UserID)
		}
	}
	for _, id := range req.PartyList.v {
		switch {
		case s.depts[id] == nil || !s.partyVisible(app, id):
			m.invalidParty = append(m.invalidParty, id)
		case !slices.Contains(m.parties, id):
			m.parties = append(m.parties, id)
		}
	}
	return m
}

// tagMemberCall decodes and checks what addtagusers and deltagusers share: the tag, its
// owner, the per-call limits, and the members' validity. allInvalid is the errcode when no
// member is valid (or none is given).
func (s *Sim) tagMemberCall(c *call, allInvalid int) (*Tag, tagMembers, *apiError) {
	var req tagMembersRequest
	if e := c.decode(&req); e != nil {
		return nil, tagMembers{}, e
	}
	tag, e := s.tagByID(req.TagID)
	if e == nil {
		e = checkTagOwner(c.app, tag)
	}
	if e != nil {
		return nil, tagMembers{}, e
	}
	// The errcode of a deltagusers over the limits is unconfirmed; addtagusers' is used.
	if len(req.UserList.v) > maxTagUsersPerCall || len(req.PartyList.v) > maxTagPartiesPerCall {
		return nil, tagMembers{}, errCodef(codeTagTooManyPerCall, "at most %d users and %d departments per call, got %d and %d",
			maxTagUsersPerCall, maxTagPartiesPerCall, len(req.UserList.v), len(req.PartyList.v))
	}
	m := s.sortTagMembers(c.app, &req)
	if len(m.users) == 0 && len(m.parties) == 0 {
		return nil, m, errCodef(allInvalid, "no valid member (invalid users %v, departments %v)", m.invalidUsers, m.invalidParty)
	}
	return tag, m, nil
}

// partial is the reply of a member change that was applied: invalidlist (a pipe-joined
// string) and invalidparty (an int array) name what was left out, with errcode 0 (§10).
func (m tagMembers) partial(msg string) reply {
	fields := map[string]any{}
	if len(m.invalidUsers) > 0 {
		fields["invalidlist"] = strings.Join(m.invalidUsers, "|")
	}
	if len(m.invalidParty) > 0 {
		fields["invalidparty"] = m.invalidParty
	}
	return okMsg(msg, fields)
}

// handleTagAddUsers implements POST tag/addtagusers. Members already in the tag are valid
// and stay once.
func handleTagAddUsers(s *Sim, c *call) reply {
	tag, m, e := s.tagMemberCall(c, codeTagAllInvalid)
	if e != nil {
		return failErr(e)
	}
	users, parties := slices.Clone(tag.Users), slices.Clone(tag.Parties)
	for _, id := range m.users {
		if !slices.ContainsFunc(users, func(u string) bool { return equalFoldASCII(u, id) }) {
			users = append(users, id)
		}
	}
	for _, id := range m.parties {
		if !slices.Contains(parties, id) {
			parties = append(parties, id)
		}
	}
	if len(users)+len(parties) > maxTagMembers {
		return failf(codeTagMembersOverLimit, "the tag would have %d members", len(users)+len(parties))
	}
	tag.Users, tag.Parties = users, parties
	return m.partial("ok")
}

// handleTagDelUsers implements POST tag/deltagusers: errmsg "deleted", and 40031 (not 40070)
// when every member is invalid. A valid member that is not in the tag is not an error.
func handleTagDelUsers(s *Sim, c *call) reply {
	tag, m, e := s.tagMemberCall(c, codeInvalidUserList)
	if e != nil {
		return failErr(e)
	}
	tag.Users = slices.DeleteFunc(tag.Users, func(u string) bool {
		return slices.ContainsFunc(m.users, func(id string) bool { return equalFoldASCII(u, id) })
	})
	tag.Parties = slices.DeleteFunc(tag.Parties, func(p int64) bool { return slices.Contains(m.parties, p) })
	return m.partial("deleted")
}

// dropDeptFromTags removes a deleted department from every tag.
func (s *Sim) dropDeptFromTags(id int64) {
	for _, t := range s.tags {
		t.Parties = slices.DeleteFunc(t.Parties, func(p int64) bool { return p == id })
	}
}
