package wecomsim

import (
	"cmp"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Customer corp tags (§11, 客户联系 → 企业客户标签): groups of tags that members put on their
// customers. Ids are opaque "et…" strings; order is a uint32 and a larger value sorts first.

const (
	maxCorpTagNameRunes = 30    // group_name and tag name
	maxCorpTags         = 10000 // per corp (40126); the reference's choice between 3000 and 10000
	corpTagIDPrefix     = "et"
)

// CorpTagGroup is a customer tag group with its tags, in creation order (get_corp_tag_list
// sorts them).
type CorpTagGroup struct {
	ID         string    `json:"group_id"`
	Name       string    `json:"group_name"`
	CreateTime int64     `json:"create_time"`
	Order      uint32    `json:"order"`
	Tags       []CorpTag `json:"tag"`
	// Owner is the app that created the group with add_corp_tag: "应用仅能编辑和删除本应用创建
	// 的标签" (DOC-92117). "" is a group made in the admin console (a seeded one), which every
	// app with customer-contact permission may change (unconfirmed).
	Owner string `json:"owner_app,omitempty"`
	seq   int64
}

// CorpTag is one tag of a group.
type CorpTag struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	CreateTime int64  `json:"create_time"`
	Order      uint32 `json:"order"`
	// Owner: as CorpTagGroup.Owner; a tag added to another app's group belongs to its adder.
	Owner string `json:"owner_app,omitempty"`
	seq   int64
}

func (g CorpTagGroup) clone() CorpTagGroup {
	g.Tags = slices.Clone(g.Tags)
	return g
}

// canWriteCorpTag: an app edits and deletes only what it created (DOC-92117). The errcode
// is unconfirmed; the reference cites 301002 from an unofficial guide.
func canWriteCorpTag(app *appState, owner string) bool { return owner == "" || owner == app.Name }

func (s *Sim) newCorpTagID() string {
	for {
		id := corpTagIDPrefix + s.randString(20, alnum)
		if g, _ := s.corpTagByID(id); g == nil && s.corpTagGroups[id] == nil {
			return id
		}
	}
}

// corpTagByID finds the tag id and its group.
func (s *Sim) corpTagByID(id string) (*CorpTagGroup, int) {
	for _, g := range s.corpTagGroups {
		if i := slices.IndexFunc(g.Tags, func(t CorpTag) bool { return t.ID == id }); i >= 0 {
			return g, i
		}
	}
	return nil, -1
}

func (s *Sim) corpTagGroupNamed(name string) *CorpTagGroup {
	for _, g := range s.corpTagGroups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

func (s *Sim) corpTagCount() int {
	n := 0
	for _, g := range s.corpTagGroups {
		n += len(g.Tags)
	}
	return n
}

// sortedCorpTagGroups is get_corp_tag_list's order: larger order first, then older first.
func (s *Sim) sortedCorpTagGroups() []*CorpTagGroup {
	out := make([]*CorpTagGroup, 0, len(s.corpTagGroups))
	for _, g := range s.corpTagGroups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *CorpTagGroup) int {
		return cmp.Or(cmp.Compare(b.Order, a.Order), cmp.Compare(a.seq, b.seq))
	})
	return out
}

func sortedCorpTags(tags []CorpTag) []CorpTag {
	out := slices.Clone(tags)
	slices.SortFunc(out, func(a, b CorpTag) int {
		return cmp.Or(cmp.Compare(b.Order, a.Order), cmp.Compare(a.seq, b.seq))
	})
	return out
}

func checkCorpTagName(what string, name optString) *apiError {
	if !name.given() {
		return errCodef(codeMissingTagName, "%s is required", what)
	}
	if n := utf8.RuneCountInString(name.v); n > maxCorpTagNameRunes {
		// The errcode of an over-long name is unconfirmed; 40058 is the generic one.
		return errCodef(codeInvalidParam, "%s is %d characters, at most %d", what, n, maxCorpTagNameRunes)
	}
	return nil
}

// corpOrder reads an order field: a uint32 (a number or a decimal string, §0a).
func corpOrder(o optInt) (uint32, *apiError) {
	if o.v < 0 || o.v > 1<<32-1 {
		return 0, errCodef(codeInvalidParam, "order %d is outside [0, 2^32)", o.v)
	}
	return uint32(o.v), nil
}

type corpTagListRequest struct {
	TagID   strList `json:"tag_id"`
	GroupID strList `json:"group_id"`
}

// handleGetCorpTagList implements POST externalcontact/get_corp_tag_list (§11): every group
// when neither filter is given; group_id filters when given (tag_id is then ignored); else
// tag_id selects tags, each returned inside its group. Unknown ids select nothing. The group's
// deleted flag comes only with a tag_id query, a tag's with a tag_id or group_id query;
// deleted tags are forgotten here, so both are always false.
func handleGetCorpTagList(s *Sim, c *call) reply {
	var req corpTagListRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	byGroup, byTag := len(req.GroupID.v) > 0, len(req.TagID.v) > 0 && len(req.GroupID.v) == 0
	groups := []map[string]any{}
	for _, g := range s.sortedCorpTagGroups() {
		if byGroup && !slices.Contains(req.GroupID.v, g.ID) {
			continue
		}
		tags := []map[string]any{}
		for _, t := range sortedCorpTags(g.Tags) {
			if byTag && !slices.Contains(req.TagID.v, t.ID) {
				continue
			}
			tag := map[string]any{"id": t.ID, "name": t.Name, "create_time": t.CreateTime, "order": t.Order}
			if byTag || byGroup {
				tag["deleted"] = false
			}
			tags = append(tags, tag)
		}
		if byTag && len(tags) == 0 {
			continue
		}
		group := map[string]any{"group_id": g.ID, "group_name": g.Name, "create_time": g.CreateTime, "order": g.Order, "tag": tags}
		if byTag {
			group["deleted"] = false
		}
		groups = append(groups, group)
	}
	return ok(map[string]any{"tag_group": groups})
}

type addCorpTagRequest struct {
	GroupID   optString `json:"group_id"`
	GroupName optString `json:"group_name"`
	Order     optInt    `json:"order"`
	Tag       *[]struct {
		Name  optString `json:"name"`
		Order optInt    `json:"order"`
	} `json:"tag"`
}

// handleAddCorpTag implements POST externalcontact/add_corp_tag (§11). group_id adds to that
// group (group_name and order are then ignored; "" is 40068, as reported); otherwise a group
// named group_name takes the tags, or a new group is made. Repeated names in one call make
// one tag; a name the group already has is 40071 (unconfirmed); past 10,000 tags is 40126.
// The reply's tag_group holds the group and the tags this call made.
func handleAddCorpTag(s *Sim, c *call) reply {
	var req addCorpTagRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	var group *CorpTagGroup
	switch {
	case req.GroupID.set:
		if group = s.corpTagGroups[req.GroupID.v]; group == nil {
			return failf(codeInvalidTagID, "group_id %q does not exist", req.GroupID.v)
		}
	default:
		if e := checkCorpTagName("group_name", req.GroupName); e != nil {
			return failErr(e)
		}
		group = s.corpTagGroupNamed(req.GroupName.v)
	}
	if req.Tag == nil || len(*req.Tag) == 0 {
		return failf(codeMissingTagName, "tag is required: a group cannot be empty")
	}
	type newTag struct {
		name  string
		order uint32
	}
	var add []newTag
	for i, t := range *req.Tag {
		if e := checkCorpTagName("tag.name", t.Name); e != nil {
			e.detail = fmt.Sprintf("tag %d: %s", i, e.detail)
			return failErr(e)
		}
		order, e := corpOrder(t.Order)
		if e != nil {
			return failErr(e)
		}
		if slices.ContainsFunc(add, func(n newTag) bool { return n.name == t.Name.v }) {
			continue
		}
		if group != nil && slices.ContainsFunc(group.Tags, func(x CorpTag) bool { return x.Name == t.Name.v }) {
			return failf(codeTagNameExists, "group %q already has a tag named %q", group.Name, t.Name.v)
		}
		add = append(add, newTag{t.Name.v, order})
	}
	if s.corpTagCount()+len(add) > maxCorpTags {
		return failf(codeTagCountLimit, "the corp would have %d customer tags, at most %d", s.corpTagCount()+len(add), maxCorpTags)
	}
	now := c.now.Unix()
	if group == nil {
		order, e := corpOrder(req.Order)
		if e != nil {
			return failErr(e)
		}
		group = &CorpTagGroup{ID: s.newCorpTagID(), Name: req.GroupName.v, CreateTime: now, Order: order, Owner: c.app.Name, seq: s.nextSeq()}
		s.corpTagGroups[group.ID] = group
	}
	made := []map[string]any{}
	for _, n := range add {
		t := CorpTag{ID: s.newCorpTagID(), Name: n.name, CreateTime: now, Order: n.order, Owner: c.app.Name, seq: s.nextSeq()}
		group.Tags = append(group.Tags, t)
		made = append(made, map[string]any{"id": t.ID, "name": t.Name, "create_time": t.CreateTime, "order": t.Order})
	}
	return ok(map[string]any{"tag_group": map[string]any{
		"group_id": group.ID, "group_name": group.Name, "create_time": group.CreateTime, "order": group.Order, "tag": made,
	}})
}

type editCorpTagRequest struct {
	ID    optString `json:"id"`
	Name  optString `json:"name"`
	Order optInt    `json:"order"`
}

// handleEditCorpTag implements POST externalcontact/edit_corp_tag (§11): id names a tag or a
// group; name and order are optional ("" is "not given", §0a). A group may not take another
// group's name, a tag not a sibling's (40071). Only the creating app may edit (301002,
// unconfirmed).
func handleEditCorpTag(s *Sim, c *call) reply {
	var req editCorpTagRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if !req.ID.given() {
		return failf(codeInvalidTagID, "id is required")
	}
	if req.Name.given() {
		if e := checkCorpTagName("name", req.Name); e != nil {
			return failErr(e)
		}
	}
	var order uint32
	if req.Order.set {
		var e *apiError
		if order, e = corpOrder(req.Order); e != nil {
			return failErr(e)
		}
	}
	if g := s.corpTagGroups[req.ID.v]; g != nil {
		if !canWriteCorpTag(c.app, g.Owner) {
			return failf(codeAgentNotAllowed, "group %s belongs to app %q", g.ID, g.Owner)
		}
		if req.Name.given() {
			if other := s.corpTagGroupNamed(req.Name.v); other != nil && other != g {
				return failf(codeTagNameExists, "another group is named %q", req.Name.v)
			}
			g.Name = req.Name.v
		}
		if req.Order.set {
			g.Order = order
		}
		return ok(nil)
	}
	g, i := s.corpTagByID(req.ID.v)
	if g == nil {
		return failf(codeInvalidTagID, "no tag or group %q", req.ID.v)
	}
	t := &g.Tags[i]
	if !canWriteCorpTag(c.app, t.Owner) {
		return failf(codeAgentNotAllowed, "tag %s belongs to app %q", t.ID, t.Owner)
	}
	if req.Name.given() {
		if slices.ContainsFunc(g.Tags, func(x CorpTag) bool { return x.Name == req.Name.v && x.ID != t.ID }) {
			return failf(codeTagNameExists, "group %q already has a tag named %q", g.Name, req.Name.v)
		}
		t.Name = req.Name.v
	}
	if req.Order.set {
		t.Order = order
	}
	return ok(nil)
}

// handleDelCorpTag implements POST externalcontact/del_corp_tag (§11): tag_id and group_id
// not both empty (40068); an unknown id refuses the whole call (40068, unconfirmed), as does
// another app's tag or group (301002, unconfirmed). A group goes with its tags, and a group
// whose last tag goes is deleted too.
func handleDelCorpTag(s *Sim, c *call) reply {
	var req corpTagListRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if len(req.TagID.v) == 0 && len(req.GroupID.v) == 0 {
		return failf(codeInvalidTagID, "tag_id and group_id are both empty")
	}
	for _, id := range req.GroupID.v {
		g := s.corpTagGroups[id]
		if g == nil {
			return failf(codeInvalidTagID, "group_id %q does not exist", id)
		}
		if !canWriteCorpTag(c.app, g.Owner) {
			return failf(codeAgentNotAllowed, "group %s belongs to app %q", g.ID, g.Owner)
		}
	}
	for _, id := range req.TagID.v {
		g, i := s.corpTagByID(id)
		if g == nil {
			return failf(codeInvalidTagID, "tag_id %q does not exist", id)
		}
		if !canWriteCorpTag(c.app, g.Tags[i].Owner) {
			return failf(codeAgentNotAllowed, "tag %s belongs to app %q", id, g.Tags[i].Owner)
		}
	}
	for _, id := range req.GroupID.v {
		delete(s.corpTagGroups, id)
	}
	for _, id := range req.TagID.v {
		if g, i := s.corpTagByID(id); g != nil {
			g.Tags = slices.Delete(g.Tags, i, i+1)
			if len(g.Tags) == 0 {
				delete(s.corpTagGroups, g.ID)
			}
		}
	}
	return ok(nil)
}

// seedCorpTagGroup adds a group made in the admin console, with ids and times filled in
// when the seed leaves them out.
func (s *Sim) seedCorpTagGroup(g CorpTagGroup) {
	g = g.clone()
	now := s.Now().Unix()
	if g.ID == "" {
		g.ID = s.newCorpTagID()
	}
	if g.CreateTime == 0 {
		g.CreateTime = now
	}
	g.seq = s.nextSeq()
	for i := range g.Tags {
		t := &g.Tags[i]
		if t.ID == "" {
			t.ID = s.newCorpTagID()
		}
		if t.CreateTime == 0 {
			t.CreateTime = now
		}
		t.seq = s.nextSeq()
	}
	s.corpTagGroups[g.ID] = &g
}

// CorpTagGroup returns the customer tag group with id from the snapshot.
func (s Snapshot) CorpTagGroup(id string) (CorpTagGroup, bool) {
	for _, g := range s.CorpTagGroups {
		if g.ID == id {
			return g, true
		}
	}
	return CorpTagGroup{}, false
}
