package wecomsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Hand edits: what a person does in the admin console (通讯录 → 成员/部门).
// They change the contacts like the API does, with the API handlers' own
// validation, but they are not API calls: they are not in the call log, do
// not count toward any frequency limit and are never subject to faults.
// Unlike API writes they are pushed to the contacts-sync callback as
// change_contact events (see events.go for the fields).
//
// API writes (/cgi-bin/ department/* and user/*) are never echoed to the
// contacts-sync callback: WeCom does not echo changes made with the sync
// secret (§13), and in the simulator only the sync secret can write
// contacts, so no API write sends a change_contact event.

// UserEdit is a member as filled in on the console's member form. Field
// names and rules are user/create's and user/update's; nil or omitted
// fields are left unchanged by an update. The console offers only existing
// departments, so unknown department ids are refused (user/create would
// create them).
type UserEdit struct {
	UserID string `json:"userid"`
	// NewUserID renames the member (only once, and only a system-generated
	// userid, as user/update allows: 301036 otherwise).
	NewUserID      string   `json:"new_userid,omitempty"`
	Name           *string  `json:"name,omitempty"`
	Alias          *string  `json:"alias,omitempty"`
	Mobile         *string  `json:"mobile,omitempty"`
	Email          *string  `json:"email,omitempty"`
	BizMail        *string  `json:"biz_mail,omitempty"`
	Position       *string  `json:"position,omitempty"`
	Gender         string   `json:"gender,omitempty"` // "1" male, "2" female
	Telephone      *string  `json:"telephone,omitempty"`
	Address        *string  `json:"address,omitempty"`
	Department     []int64  `json:"department,omitzero"`
	Order          []uint32 `json:"order,omitzero"`
	IsLeaderInDept []int    `json:"is_leader_in_dept,omitzero"`
	DirectLeader   []string `json:"direct_leader,omitzero"`
	// MainDepartment must be one of Department (0: unchanged / the first).
	MainDepartment int64 `json:"main_department,omitempty"`
	// Enable 0 disables the member, 1 enables it.
	Enable *int `json:"enable,omitempty"`
}

// DepartmentEdit is a department as filled in on the console. For a
// create, Name and ParentID are required and ID is optional; for an update
// ID is required and the other fields are changed when given.
type DepartmentEdit struct {
	ID       int64   `json:"id,omitempty"`
	Name     *string `json:"name,omitempty"`
	ParentID *int64  `json:"parentid,omitempty"`
	Order    *uint32 `json:"order,omitempty"`
}

// TagEdit is a tag changed on the console (通讯录 → 标签): members and departments
// added or removed, or a new name. The console may edit any tag, whichever app made
// it. Only existing members and departments are offered.
type TagEdit struct {
	TagID      int64    `json:"tagid"`
	Name       *string  `json:"tagname,omitempty"`
	AddUsers   []string `json:"add_users,omitzero"`
	DelUsers   []string `json:"del_users,omitzero"`
	AddParties []int64  `json:"add_parties,omitzero"`
	DelParties []int64  `json:"del_parties,omitzero"`
}

// Edit is the body of POST /sim/edit: one hand edit.
//
//	{"op":"update_user","user":{"userid":"lisi","department":[3],"main_department":3}}
//	{"op":"create_user","user":{"userid":"qianqi","name":"钱七","mobile":"13800000009","department":[2]}}
//	{"op":"delete_user","userid":"qianqi"}
//	{"op":"create_department","department":{"name":"QA","parentid":2}}
//	{"op":"update_department","department":{"id":3,"parentid":4}}
//	{"op":"delete_department","id":3}
//	{"op":"update_tag","tag":{"tagid":12,"add_users":["lisi"],"del_parties":[4]}}
//	{"op":"update_app","agentid":1000002,"app":{"name":"Renamed","isreportenter":0}}
//	{"op":"set_menu","agentid":1000002,"menu":[{"type":"view","name":"Home","url":"https://example.com/"}]}
//	{"op":"delete_menu","agentid":1000002}
type Edit struct {
	Op         string          `json:"op"`
	User       *UserEdit       `json:"user,omitempty"`
	Department *DepartmentEdit `json:"department,omitempty"`
	Tag        *TagEdit        `json:"tag,omitempty"`
	// UserID is the member of delete_user (or give user.userid).
	UserID string `json:"userid,omitempty"`
	// ID is the department of delete_department (or give department.id).
	ID int64 `json:"id,omitempty"`
	// AgentID, App and Menu are the app edits of agent.go (update_app, set_menu,
	// delete_menu).
	AgentID int64        `json:"agentid,omitempty"`
	App     *AgentEdit   `json:"app,omitempty"`
	Menu    []MenuButton `json:"menu,omitempty"`
}

// Edit operations.
const (
	EditCreateUser       = "create_user"
	EditUpdateUser       = "update_user"
	EditDeleteUser       = "delete_user"
	EditCreateDepartment = "create_department"
	EditUpdateDepartment = "update_department"
	EditDeleteDepartment = "delete_department"
	EditUpdateTag        = "update_tag"
)

// EditResult is the answer of POST /sim/edit.
type EditResult struct {
	OK bool `json:"ok"`
	// ID is the new department's id (create_department).
	ID int64 `json:"id,omitempty"`
	// Deliveries are the seqs of the callback deliveries queued (empty when
	// the edit sends no event or no contacts-sync callback is saved).
	Deliveries []int64 `json:"deliveries"`
}

// Edit applies one hand edit (the JSON form of the Console* methods).
func (s *Sim) Edit(e Edit) (EditResult, error) {
	if res, ok, err := s.editApp(e); ok {
		return res, err
	}
	switch e.Op {
	case EditCreateUser, EditUpdateUser:
		if e.User == nil {
			return EditResult{}, fmt.Errorf("%s needs \"user\"", e.Op)
		}
		if e.Op == EditCreateUser {
			return s.ConsoleCreateUser(*e.User)
		}
		return s.ConsoleUpdateUser(*e.User)
	case EditDeleteUser:
		id := e.UserID
		if id == "" && e.User != nil {
			id = e.User.UserID
		}
		return s.ConsoleDeleteUser(id)
	case EditCreateDepartment, EditUpdateDepartment:
		if e.Department == nil {
			return EditResult{}, fmt.Errorf("%s needs \"department\"", e.Op)
		}
		if e.Op == EditCreateDepartment {
			return s.ConsoleCreateDepartment(*e.Department)
		}
		return s.ConsoleUpdateDepartment(*e.Department)
	case EditDeleteDepartment:
		id := e.ID
		if id == 0 && e.Department != nil {
			id = e.Department.ID
		}
		return s.ConsoleDeleteDepartment(id)
	case EditUpdateTag:
		if e.Tag == nil {
			return EditResult{}, fmt.Errorf("%s needs \"tag\"", e.Op)
		}
		return s.ConsoleUpdateTag(*e.Tag)
	}
	return EditResult{}, fmt.Errorf("unknown edit op %q (want create_user, update_user, delete_user, create_department, update_department, delete_department, update_tag, update_app, set_menu or delete_menu)", e.Op)
}

// consoleCall runs an API handler for a hand edit: same validation and
// effects, but no authentication, call log, quota or fault. Callers hold
// s.mu.
func (s *Sim) consoleCall(op string, h func(*Sim, *call) reply, query url.Values, body any) (reply, error) {
	c := &call{now: s.Now(), query: query}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, fmt.Errorf("%s: %v", op, err)
		}
		c.body = b
	}
	if c.query == nil {
		c.query = url.Values{}
	}
	rep := h(s, c)
	if rep.code != 0 {
		msg := fmt.Sprintf("%s refused: errcode %d (%s)", op, rep.code, errText(rep.code))
		if rep.detail != "" {
			msg += ": " + rep.detail
		}
		return rep, fmt.Errorf("%s", msg)
	}
	return rep, nil
}

// checkConsoleDepts refuses department ids that do not exist.
func (s *Sim) checkConsoleDepts(op string, ids []int64) error {
	for _, id := range ids {
		if s.depts[id] == nil {
			return fmt.Errorf("%s refused: department %d does not exist (the console only offers existing departments)", op, id)
		}
	}
	return nil
}

// ConsoleCreateUser adds a member by hand and pushes create_user. The
// member starts "not activated" (status 4) unless
// Options.ActivateCreatedUsers is set, as with user/create.
func (s *Sim) ConsoleCreateUser(e UserEdit) (EditResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkConsoleDepts(EditCreateUser, e.Department); err != nil {
		return EditResult{}, err
	}
	if _, err := s.consoleCall(EditCreateUser, handleUserCreate, nil, e); err != nil {
		return EditResult{}, err
	}
	u := s.users[lower(e.UserID)]
	return EditResult{OK: true, Deliveries: s.pushContactEvents(s.userEvent(wecom.ChangeCreateUser, u.UserID, "", u, true))}, nil
}

// ConsoleUpdateUser edits a member by hand and pushes update_user when
// something changed: UserID, NewUserID when the userid changed, and
// Department/MainDepartment when either changed. That a change of other
// fields (name, mobile…) still sends update_user with only UserID is
// unconfirmed.
func (s *Sim) ConsoleUpdateUser(e UserEdit) (EditResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[lower(e.UserID)]
	if u == nil || e.UserID == "" {
		return EditResult{}, fmt.Errorf("%s refused: no member %q", EditUpdateUser, e.UserID)
	}
	if err := s.checkConsoleDepts(EditUpdateUser, e.Department); err != nil {
		return EditResult{}, err
	}
	if e.Mobile != nil && !u.Inactive && normalizeMobile(*e.Mobile) != normalizeMobile(u.Mobile) {
		// user/update silently ignores it; a console form would not offer it.
		return EditResult{}, fmt.Errorf("%s refused: member %q is activated, so only the member can change the mobile", EditUpdateUser, u.UserID)
	}
	old := u.clone()
	if _, err := s.consoleCall(EditUpdateUser, handleUserUpdate, nil, e); err != nil {
		return EditResult{}, err
	}
	res := EditResult{OK: true, Deliveries: []int64{}}
	if !userChanged(&old, u) {
		return res, nil
	}
	newID := ""
	if u.UserID != old.UserID {
		newID = u.UserID
	}
	depts := !slices.Equal(old.Department, u.Department) || old.MainDepartment != u.MainDepartment
	res.Deliveries = s.pushContactEvents(s.userEvent(wecom.ChangeUpdateUser, old.UserID, newID, u, depts))
	return res, nil
}

// userChanged compares what a member edit can change (nil and empty lists
// are equal).
func userChanged(a, b *User) bool {
	return a.UserID != b.UserID || a.Name != b.Name || a.Alias != b.Alias || a.Mobile != b.Mobile ||
		a.Email != b.Email || a.BizMail != b.BizMail || a.Position != b.Position || a.Gender != b.Gender ||
		a.Telephone != b.Telephone || a.Address != b.Address || a.MainDepartment != b.MainDepartment ||
		a.Disabled != b.Disabled || a.ExternalPosition != b.ExternalPosition || a.Nickname != b.Nickname ||
		a.AvatarMediaID != b.AvatarMediaID ||
		!slices.Equal(a.Department, b.Department) || !slices.Equal(a.Order, b.Order) ||
		!slices.Equal(a.IsLeaderInDept, b.IsLeaderInDept) || !slices.Equal(a.DirectLeader, b.DirectLeader) ||
		!bytes.Equal(a.ExtAttr, b.ExtAttr) || !bytes.Equal(a.ExternalProfile, b.ExternalProfile)
}

// ConsoleDeleteUser removes a member by hand and pushes delete_user.
func (s *Sim) ConsoleDeleteUser(userid string) (EditResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[lower(userid)]
	if _, err := s.consoleCall(EditDeleteUser, handleUserDelete, url.Values{"userid": {userid}}, nil); err != nil {
		return EditResult{}, err
	}
	return EditResult{OK: true, Deliveries: s.pushContactEvents(s.userEvent(wecom.ChangeDeleteUser, u.UserID, "", nil, false))}, nil
}

// ConsoleCreateDepartment adds a department by hand and pushes
// create_party (Id, ParentId).
func (s *Sim) ConsoleCreateDepartment(e DepartmentEdit) (EditResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, err := s.consoleCall(EditCreateDepartment, handleDeptCreate, nil, e)
	if err != nil {
		return EditResult{}, err
	}
	id, _ := rep.fields["id"].(int64)
	d := s.depts[id]
	return EditResult{OK: true, ID: id, Deliveries: s.pushContactEvents(s.partyEvent(wecom.ChangeCreateParty, id, d.ParentID))}, nil
}

// ConsoleUpdateDepartment edits a department by hand (name, parent,
// order). It pushes update_party (Id, ParentId) only when the parent
// changed: a rename or a new order alone sends nothing (§13, URLs saved
// after 2022-08-15).
func (s *Sim) ConsoleUpdateDepartment(e DepartmentEdit) (EditResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.depts[e.ID]
	if e.ID == 0 || d == nil {
		return EditResult{}, fmt.Errorf("%s refused: no department %d", EditUpdateDepartment, e.ID)
	}
	if e.ParentID != nil && *e.ParentID <= 0 {
		return EditResult{}, fmt.Errorf("%s refused: parentid %d is not a department", EditUpdateDepartment, *e.ParentID)
	}
	oldParent := d.ParentID
	if _, err := s.consoleCall(EditUpdateDepartment, handleDeptUpdate, nil, e); err != nil {
		return EditResult{}, err
	}
	res := EditResult{OK: true, Deliveries: []int64{}}
	if d.ParentID != oldParent {
		res.Deliveries = s.pushContactEvents(s.partyEvent(wecom.ChangeUpdateParty, d.ID, d.ParentID))
	}
	return res, nil
}

// ConsoleDeleteDepartment removes an empty department by hand and pushes
// delete_party (Id).
func (s *Sim) ConsoleDeleteDepartment(id int64) (EditResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.consoleCall(EditDeleteDepartment, handleDeptDelete, url.Values{"id": {strconv.FormatInt(id, 10)}}, nil); err != nil {
		return EditResult{}, err
	}
	return EditResult{OK: true, Deliveries: s.pushContactEvents(s.partyEvent(wecom.ChangeDeleteParty, id, -1))}, nil
}

// ConsoleUpdateTag changes a tag by hand and pushes update_tag (TagId and the members and
// departments that were really added or removed) when its members changed. A rename alone
// pushes nothing: update_tag is documented with member lists only (whether WeCom sends an
// event for a rename is unconfirmed). Members added and removed in one edit cancel out.
func (s *Sim) ConsoleUpdateTag(e TagEdit) (EditResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tags[e.TagID]
	if t == nil {
		return EditResult{}, fmt.Errorf("%s refused: no tag %d", EditUpdateTag, e.TagID)
	}
	if e.Name != nil {
		if ae := validateTagName(optString{set: true, v: *e.Name}); ae != nil {
			return EditResult{}, fmt.Errorf("%s refused: errcode %d (%s)", EditUpdateTag, ae.code, ae.detail)
		}
		if other := s.tagNamed(*e.Name); other != nil && other != t {
			return EditResult{}, fmt.Errorf("%s refused: errcode %d (%s): tag %d is called %q", EditUpdateTag, codeTagNameExists, errText(codeTagNameExists), other.ID, *e.Name)
		}
	}
	users := make([]string, 0, len(e.AddUsers))
	for _, id := range e.AddUsers {
		u := s.users[lower(id)]
		if u == nil {
			return EditResult{}, fmt.Errorf("%s refused: no member %q (the console only offers existing members)", EditUpdateTag, id)
		}
		users = append(users, u.UserID)
	}
	if err := s.checkConsoleDepts(EditUpdateTag, e.AddParties); err != nil {
		return EditResult{}, err
	}
	if n := len(t.Users) + len(t.Parties) + len(users) + len(e.AddParties); n > maxTagMembers {
		return EditResult{}, fmt.Errorf("%s refused: errcode %d (%s): the tag would have %d members", EditUpdateTag, codeTagMembersOverLimit, errText(codeTagMembersOverLimit), n)
	}
	if e.Name != nil {
		t.Name = *e.Name
	}
	var added, removed []string
	var addedParties, removedParties []int64
	for _, id := range e.DelUsers {
		if i := slices.IndexFunc(t.Users, func(u string) bool { return equalFoldASCII(u, id) }); i >= 0 {
			removed = append(removed, t.Users[i])
			t.Users = slices.Delete(t.Users, i, i+1)
		}
	}
	for _, id := range e.DelParties {
		if i := slices.Index(t.Parties, id); i >= 0 {
			removedParties = append(removedParties, id)
			t.Parties = slices.Delete(t.Parties, i, i+1)
		}
	}
	for _, id := range users {
		if !slices.ContainsFunc(t.Users, func(u string) bool { return equalFoldASCII(u, id) }) {
			t.Users = append(t.Users, id)
			added = append(added, id)
		}
	}
	for _, id := range e.AddParties {
		if !slices.Contains(t.Parties, id) {
			t.Parties = append(t.Parties, id)
			addedParties = append(addedParties, id)
		}
	}
	added, removed = cancelOut(added, removed)
	addedParties, removedParties = cancelOut(addedParties, removedParties)
	res := EditResult{OK: true, Deliveries: []int64{}}
	if len(added)+len(removed)+len(addedParties)+len(removedParties) > 0 {
		res.Deliveries = s.pushContactEvents(s.tagEvent(t.ID, added, removed, addedParties, removedParties))
	}
	return res, nil
}

// cancelOut drops what is both in add and in del.
func cancelOut[T comparable](add, del []T) ([]T, []T) {
	both := func(v T) bool { return slices.Contains(add, v) && slices.Contains(del, v) }
	var a, d []T
	for _, v := range add {
		if !both(v) {
			a = append(a, v)
		}
	}
	for _, v := range del {
		if !both(v) {
			d = append(d, v)
		}
	}
	return a, d
}

func (s *Sim) adminEdit(r *http.Request) (any, error) {
	var e Edit
	if err := decodeAdmin(r, &e); err != nil {
		return nil, err
	}
	return s.Edit(e)
}
