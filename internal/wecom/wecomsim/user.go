package wecomsim

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Member limits (§3).
const (
	maxUserIDBytes      = 64
	maxUserNameRunes    = 64
	maxUserDepartments  = 100
	maxDirectLeaders    = 1 // the 2025 page; 60257's text still says 5
	maxBatchDelete      = 200
	maxListIDLimit      = 10000
	maxPositionRunes    = 128
	maxAddressRunes     = 128
	maxAliasRunes       = 64
	maxMobileChars      = 32
	maxTelephoneBytes   = 32
	maxExtPositionRunes = 12
)

var (
	userIDPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_\-@.]*$`)
	emailPattern  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)
	telPattern    = regexp.MustCompile(`^[0-9\-+,]+$`)
)

func validateUserID(id string) *apiError {
	if len(id) < 1 || len(id) > maxUserIDBytes || !userIDPattern.MatchString(id) {
		return errCodef(codeInvalidUserID, "userid %q: 1-64 bytes of [0-9A-Za-z_-@.], letter or digit first", id)
	}
	return nil
}

// validateMobile follows 60103's help text (≤32 chars of digits, + and -).
// Spaces are also accepted because the official create example uses
// "+86 13800000000".
func validateMobile(m string) *apiError {
	if len(m) > maxMobileChars || strings.Trim(m, "0123456789+- ") != "" || !strings.ContainsAny(m, "0123456789") {
		return errCodef(codeInvalidMobile, "mobile %q", m)
	}
	return nil
}

// normalizeMobile makes "+86 138-0000-0000" and "13800000000" compare equal
// for the uniqueness check (mainland numbers may omit +86, §3).
func normalizeMobile(m string) string {
	m = strings.NewReplacer(" ", "", "-", "").Replace(m)
	return strings.TrimPrefix(m, "+86")
}

func validateEmail(e string) *apiError {
	if len(e) < 6 || len(e) > 64 || !emailPattern.MatchString(e) {
		return errCodef(codeInvalidEmail, "email %q", e)
	}
	return nil
}

func runesOver(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// sortedUsers returns members in creation order. The slice is cached
// until the member set changes (putUser/dropUser); callers must not modify it.
func (s *Sim) sortedUsers() []*User {
	if s.userCache == nil {
		out := make([]*User, 0, len(s.users))
		for _, u := range s.users {
			out = append(out, u)
		}
		slices.SortFunc(out, func(a, b *User) int { return cmp.Compare(a.seq, b.seq) })
		s.userCache = out
	}
	return s.userCache
}

// putUser and dropUser are the only writers of s.users.
func (s *Sim) putUser(u *User) {
	s.users[lower(u.UserID)] = u
	s.userCache = nil
}

func (s *Sim) dropUser(u *User) {
	delete(s.users, lower(u.UserID))
	s.userCache = nil
}

func (s *Sim) mobileTaken(m string, except *User) bool {
	n := normalizeMobile(m)
	for _, u := range s.users {
		if u != except && u.Mobile != "" && normalizeMobile(u.Mobile) == n {
			return true
		}
	}
	return false
}

func (s *Sim) emailTaken(e string, except *User) bool {
	for _, u := range s.users {
		if u != except && u.Email != "" && strings.EqualFold(u.Email, e) {
			return true
		}
	}
	return false
}

// userRequest is the body of user/create and user/update.
type userRequest struct {
	UserID           optString       `json:"userid"`
	NewUserID        optString       `json:"new_userid"`
	Name             optString       `json:"name"`
	Alias            optString       `json:"alias"`
	Mobile           optString       `json:"mobile"`
	Email            optString       `json:"email"`
	BizMail          optString       `json:"biz_mail"`
	Position         optString       `json:"position"`
	Gender           genderField     `json:"gender"`
	Telephone        optString       `json:"telephone"`
	Address          optString       `json:"address"`
	AvatarMediaID    optString       `json:"avatar_mediaid"`
	ExternalPosition optString       `json:"external_position"`
	Nickname         optString       `json:"nickname"`
	Department       deptList        `json:"department"`
	Order            intList         `json:"order"`
	IsLeaderInDept   intList         `json:"is_leader_in_dept"`
	DirectLeader     strList         `json:"direct_leader"`
	MainDepartment   optInt          `json:"main_department"`
	Enable           optInt          `json:"enable"`
	ExtAttr          json.RawMessage `json:"extattr"`
	ExternalProfile  json.RawMessage `json:"external_profile"`
	ToInvite         optBool         `json:"to_invite"`
}

// rawObject returns a JSON object field, nil when absent or null, and an
// error when it is something other than an object.
func rawObject(r json.RawMessage) (json.RawMessage, *apiError) {
	t := bytes.TrimSpace(r)
	if len(t) == 0 || string(t) == "null" {
		return nil, nil
	}
	if t[0] != '{' {
		return nil, errCodef(codeInvalidParam, "expected an object")
	}
	return slices.Clone(t), nil
}

// checkUserFields validates the optional attributes shared by create and
// update (only those present).
func checkUserFields(req *userRequest) *apiError {
	if req.Name.set && (req.Name.v == "" || runesOver(req.Name.v, maxUserNameRunes)) {
		return errCodef(codeInvalidUserName, "name must be 1-64 characters")
	}
	if req.Mobile.given() {
		if e := validateMobile(req.Mobile.v); e != nil {
			return e
		}
	}
	if req.Email.given() {
		if e := validateEmail(req.Email.v); e != nil {
			return e
		}
	}
	if req.BizMail.given() {
		if e := validateEmail(req.BizMail.v); e != nil {
			return e
		}
	}
	switch {
	case runesOver(req.Alias.v, maxAliasRunes):
		return errCodef(codeInvalidParam, "alias longer than 64 characters")
	case runesOver(req.Position.v, maxPositionRunes):
		return errCodef(codeInvalidPosition, "position longer than 128 characters")
	case req.Telephone.given() && (len(req.Telephone.v) > maxTelephoneBytes || !telPattern.MatchString(req.Telephone.v)):
		return errCodef(codeInvalidTelephone, "telephone %q", req.Telephone.v)
	case runesOver(req.Address.v, maxAddressRunes):
		return errCodef(codeInvalidParam, "address longer than 128 characters")
	case runesOver(req.ExternalPosition.v, maxExtPositionRunes):
		return errCodef(codeInvalidParam, "external_position longer than 12 characters")
	case req.Enable.set && req.Enable.v != 0 && req.Enable.v != 1:
		return errCodef(codeInvalidParam, "enable must be 0 or 1")
	}
	if len(req.DirectLeader.v) > maxDirectLeaders {
		return errCodef(codeTooManyLeaders, "at most %d direct_leader", maxDirectLeaders)
	}
	return nil
}

// membership is a validated department/order/is_leader_in_dept triple.
type membership struct {
	depts   []int64
	order   []uint32
	leaders []int
	missing []int64 // department ids to create (2025 page)
}

// resolveMembership validates department lists. given is the raw
// department array; order/leaders must have the same length (60132). Id 0
// means 「其他（待设置部门）」 and is dropped; unknown positive ids are to be
// created (DOC-90331, 2025).
func (s *Sim) resolveMembership(given []int64, order, leaders intList) (membership, *apiError) {
	var m membership
	if len(given) > maxUserDepartments {
		return m, errCodef(codeTooManyDepts, "more than %d departments", maxUserDepartments)
	}
	if order.set && len(order.v) != len(given) {
		return m, errCodef(codeLeaderLenMismatch, "order has %d items, department %d", len(order.v), len(given))
	}
	if leaders.set && len(leaders.v) != len(given) {
		return m, errCodef(codeLeaderLenMismatch, "is_leader_in_dept has %d items, department %d", len(leaders.v), len(given))
	}
	m.depts, m.order, m.leaders = []int64{}, []uint32{}, []int{}
	for i, id := range given {
		if id == 0 {
			continue
		}
		if id < 0 || id > math.MaxInt32 {
			return m, errCodef(codeInvalidDeptID, "department %d", id)
		}
		if slices.Contains(m.depts, id) {
			continue
		}
		var o uint32
		if order.set {
			if order.v[i] < 0 || order.v[i] > math.MaxUint32 {
				return m, errCodef(codeInvalidParam, "order out of range")
			}
			o = uint32(order.v[i])
		}
		l := 0
		if leaders.set {
			if leaders.v[i] != 0 && leaders.v[i] != 1 {
				return m, errCodef(codeInvalidParam, "is_leader_in_dept must be 0 or 1")
			}
			l = int(leaders.v[i])
		}
		if s.depts[id] == nil {
			m.missing = append(m.missing, id)
		}
		m.depts, m.order, m.leaders = append(m.depts, id), append(m.order, o), append(m.leaders, l)
	}
	return m, nil
}

// createMissingDepts creates the departments user/create referenced but
// that did not exist. The created department's name is its id and its
// parent is the root (the page does not say; unconfirmed).
func (s *Sim) createMissingDepts(ids []int64) []map[string]any {
	var info []map[string]any
	for _, id := range ids {
		name := strconv.FormatInt(id, 10)
		s.depts[id] = &Department{ID: id, Name: name, ParentID: rootDeptID}
		info = append(info, map[string]any{"name": name, "id": id})
	}
	return info
}

// handleUserCreate implements POST user/create (§3).
func handleUserCreate(s *Sim, c *call) reply {
	var req userRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if e := validateUserID(req.UserID.v); e != nil {
		return failErr(e)
	}
	if s.users[lower(req.UserID.v)] != nil {
		return failf(codeUserIDExists, "userid %q (case-insensitive)", req.UserID.v)
	}
	if !req.Name.set {
		return failf(codeInvalidUserName, "name is required")
	}
	if e := checkUserFields(&req); e != nil {
		return failErr(e)
	}
	if !req.Mobile.given() && !req.Email.given() {
		return fail(codeNoMobileOrEmail)
	}
	if req.Mobile.given() && s.mobileTaken(req.Mobile.v, nil) {
		return fail(codeMobileExists)
	}
	if req.Email.given() && s.emailTaken(req.Email.v, nil) {
		return fail(codeEmailExists)
	}
	m, e := s.resolveMembership(req.Department.v, req.Order, req.IsLeaderInDept)
	if e != nil {
		return failErr(e)
	}
	if e := s.checkMainDepartment(req.MainDepartment, m.depts); e != nil {
		return failErr(e)
	}
	extAttr, e := rawObject(req.ExtAttr)
	if e != nil {
		return failErr(e)
	}
	profile, e := rawObject(req.ExternalProfile)
	if e != nil {
		return failErr(e)
	}
	for _, id := range m.depts {
		if s.depts[id] != nil && s.deptNodeCount(id) >= maxDeptNodes {
			return failf(codeDeptNodesOverLimit, "department %d", id)
		}
	}

	u := &User{
		UserID: req.UserID.v, Name: req.Name.v, Alias: req.Alias.v, Mobile: req.Mobile.v,
		Email: req.Email.v, BizMail: req.BizMail.v, Position: req.Position.v, Gender: "0",
		Telephone: req.Telephone.v, Address: req.Address.v, AvatarMediaID: req.AvatarMediaID.v,
		ExternalPosition: req.ExternalPosition.v, Nickname: req.Nickname.v,
		Department: m.depts, Order: m.order, IsLeaderInDept: m.leaders,
		DirectLeader: slices.Clone(req.DirectLeader.v), MainDepartment: req.MainDepartment.v,
		ExtAttr: extAttr, ExternalProfile: profile,
		Disabled: req.Enable.set && req.Enable.v == 0, // §0a: enable:0 is honoured
		Inactive: !s.opts.ActivateCreatedUsers,
		seq:      s.nextSeq(),
	}
	if req.Gender.set {
		u.Gender = req.Gender.v
	}
	if u.MainDepartment == 0 && len(u.Department) > 0 {
		u.MainDepartment = u.Department[0]
	}
	created := s.createMissingDepts(m.missing)
	s.putUser(u)
	fields := map[string]any{}
	if len(created) > 0 {
		fields["created_department_list"] = map[string]any{"department_info": created}
	}
	return okMsg("created", fields)
}

func (s *Sim) checkMainDepartment(main optInt, depts []int64) *apiError {
	if main.nonZero() && !slices.Contains(depts, main.v) {
		return errCodef(codeInvalidDeptID, "main_department %d is not one of the departments", main.v)
	}
	return nil
}

// handleUserUpdate implements POST user/update: only userid is required;
// fields that are absent or null are unchanged, present fields are set
// (gender 0 means unchanged). §3: mobile is ignored for activated members.
func handleUserUpdate(s *Sim, c *call) reply {
	var req userRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if !req.UserID.given() {
		return fail(codeMissingUserID)
	}
	u := s.users[lower(req.UserID.v)]
	if u == nil {
		return failf(codeUserNotFound, "userid %q", req.UserID.v)
	}
	if e := checkUserFields(&req); e != nil {
		return failErr(e)
	}
	if !u.Inactive {
		req.Mobile = optString{}
	}
	mobile, email := u.Mobile, u.Email
	if req.Mobile.set {
		mobile = req.Mobile.v
	}
	if req.Email.set {
		email = req.Email.v
	}
	if mobile == "" && email == "" {
		return fail(codeNoMobileOrEmail)
	}
	if req.Mobile.given() && s.mobileTaken(mobile, u) {
		return fail(codeMobileExists)
	}
	if req.Email.given() && s.emailTaken(email, u) {
		return fail(codeEmailExists)
	}
	newID, e := s.checkNewUserID(u, req.NewUserID)
	if e != nil {
		return failErr(e)
	}
	m, e := s.updatedMembership(u, &req)
	if e != nil {
		return failErr(e)
	}
	if e := s.checkMainDepartment(req.MainDepartment, m.depts); e != nil {
		return failErr(e)
	}
	extAttr, e := rawObject(req.ExtAttr)
	if e != nil {
		return failErr(e)
	}
	profile, e := rawObject(req.ExternalProfile)
	if e != nil {
		return failErr(e)
	}

	created := s.createMissingDepts(m.missing)
	applyUserFields(u, &req, extAttr, profile)
	u.Mobile, u.Email = mobile, email
	u.Department, u.Order, u.IsLeaderInDept = m.depts, m.order, m.leaders
	if req.MainDepartment.nonZero() {
		u.MainDepartment = req.MainDepartment.v
	}
	if !slices.Contains(u.Department, u.MainDepartment) {
		u.MainDepartment = 0
		if len(u.Department) > 0 {
			u.MainDepartment = u.Department[0]
		}
	}
	if newID != "" {
		s.dropUser(u)
		u.UserID, u.GeneratedID = newID, false
		s.putUser(u)
	}
	fields := map[string]any{}
	if len(created) > 0 {
		fields["created_department_list"] = map[string]any{"department_info": created}
	}
	return okMsg("updated", fields)
}

// checkNewUserID allows one rename of a system-generated userid (301036
// otherwise). References in chats, tags and contact ways are not rewritten.
func (s *Sim) checkNewUserID(u *User, n optString) (string, *apiError) {
	if !n.given() || n.v == u.UserID {
		return "", nil
	}
	if !u.GeneratedID {
		return "", errCode(codeUserIDNotEditable)
	}
	if e := validateUserID(n.v); e != nil {
		return "", e
	}
	if other := s.users[lower(n.v)]; other != nil && other != u {
		return "", errCode(codeUserIDExists)
	}
	return n.v, nil
}

// updatedMembership computes the department lists after an update.
func (s *Sim) updatedMembership(u *User, req *userRequest) (membership, *apiError) {
	if req.Department.set {
		return s.resolveMembership(req.Department.v, req.Order, req.IsLeaderInDept)
	}
	m := membership{depts: slices.Clone(u.Department), order: slices.Clone(u.Order), leaders: slices.Clone(u.IsLeaderInDept)}
	if !req.Order.set && !req.IsLeaderInDept.set {
		return m, nil
	}
	// order or is_leader_in_dept alone must match the current departments.
	order, leaders := req.Order, req.IsLeaderInDept
	if !order.set {
		order = intList{set: true, v: toInt64s(m.order)}
	}
	if !leaders.set {
		leaders = intList{set: true, v: toInt64s(m.leaders)}
	}
	return s.resolveMembership(m.depts, order, leaders)
}

func toInt64s[T uint32 | int](v []T) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func applyUserFields(u *User, req *userRequest, extAttr, profile json.RawMessage) {
	set := func(dst *string, f optString) {
		if f.set {
			*dst = f.v
		}
	}
	set(&u.Name, req.Name)
	set(&u.Alias, req.Alias)
	set(&u.BizMail, req.BizMail)
	set(&u.Position, req.Position)
	set(&u.Telephone, req.Telephone)
	set(&u.Address, req.Address)
	set(&u.AvatarMediaID, req.AvatarMediaID)
	set(&u.ExternalPosition, req.ExternalPosition)
	set(&u.Nickname, req.Nickname)
	if req.Gender.set {
		u.Gender = req.Gender.v
	}
	if req.DirectLeader.set {
		u.DirectLeader = slices.Clone(req.DirectLeader.v)
	}
	if req.Enable.set {
		u.Disabled = req.Enable.v == 0
	}
	if extAttr != nil {
		u.ExtAttr = extAttr
	}
	if profile != nil {
		u.ExternalProfile = profile
	}
}

// userJSON is the user/get (and user/list item) shape; gender is a string.
func userJSON(u *User) map[string]any {
	m := map[string]any{
		"userid":            u.UserID,
		"name":              u.Name,
		"department":        nonNil(u.Department),
		"order":             nonNil(u.Order),
		"position":          u.Position,
		"mobile":            u.Mobile,
		"gender":            cmp.Or(u.Gender, "0"),
		"email":             u.Email,
		"biz_mail":          u.BizMail,
		"is_leader_in_dept": nonNil(u.IsLeaderInDept),
		"direct_leader":     nonNil(u.DirectLeader),
		"avatar":            "",
		"thumb_avatar":      "",
		"telephone":         u.Telephone,
		"alias":             u.Alias,
		"address":           u.Address,
		"main_department":   u.MainDepartment,
		"status":            u.status(),
		"enable":            boolInt(!u.Disabled),
		"qr_code":           "",
		"external_position": u.ExternalPosition,
	}
	if u.ExtAttr != nil {
		m["extattr"] = u.ExtAttr
	} else {
		m["extattr"] = map[string]any{"attrs": []any{}}
	}
	if u.ExternalProfile != nil {
		m["external_profile"] = u.ExternalProfile
	}
	return m
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// userGetFailure is the empty-list decoration of a failed user/get (§0).
var userGetFailure = map[string]any{
	"department": []any{}, "order": []any{}, "is_leader_in_dept": []any{}, "direct_leader": []any{},
}

// handleUserGet implements GET user/get?userid=ID (case-insensitive).
func handleUserGet(s *Sim, c *call) reply {
	id := strings.TrimSpace(c.query.Get("userid"))
	if id == "" {
		return fail(codeMissingUserID).with(userGetFailure)
	}
	u := s.users[lower(id)]
	if u == nil {
		return failf(codeUserNotFound, "userid %q", id).with(userGetFailure)
	}
	return ok(userJSON(u))
}

// handleUserDelete implements GET user/delete?userid=ID.
func handleUserDelete(s *Sim, c *call) reply {
	id := strings.TrimSpace(c.query.Get("userid"))
	if id == "" {
		return fail(codeMissingUserID)
	}
	u := s.users[lower(id)]
	if u == nil {
		return failf(codeUserNotFound, "userid %q", id)
	}
	if u.Creator {
		return fail(codeDeleteCreator)
	}
	s.removeUser(u)
	return okMsg("deleted", nil)
}

// removeUser deletes a member and its tag memberships. App chats and
// contact ways keep the userid (what WeCom does there is unconfirmed).
func (s *Sim) removeUser(u *User) {
	s.dropUser(u)
	for _, t := range s.tags {
		t.Users = slices.DeleteFunc(t.Users, func(id string) bool { return strings.EqualFold(id, u.UserID) })
	}
}

// handleUserBatchDelete implements POST user/batchdelete: ≤200 ids, all or
// nothing.
func handleUserBatchDelete(s *Sim, c *call) reply {
	var req struct {
		UserIDList strList `json:"useridlist"`
	}
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if len(req.UserIDList.v) == 0 {
		return failf(codeInvalidUserList, "useridlist is empty")
	}
	if len(req.UserIDList.v) > maxBatchDelete {
		return failf(codeInvalidUserListLen, "more than %d ids", maxBatchDelete)
	}
	var victims []*User
	for _, id := range req.UserIDList.v {
		u := s.users[lower(id)]
		if u == nil {
			return failf(codeUserNotFound, "userid %q", id)
		}
		if u.Creator {
			return fail(codeDeleteCreator)
		}
		victims = append(victims, u)
	}
	for _, u := range victims {
		if s.users[lower(u.UserID)] != nil {
			s.removeUser(u)
		}
	}
	return okMsg("deleted", nil)
}

// handleUserListID implements POST user/list_id: one row per (member,
// department), paged by an opaque cursor. Members in no department get one
// row with department 0 (their 「待设置部门」 placement; unconfirmed).
func handleUserListID(s *Sim, c *call) reply {
	var req struct {
		Cursor optString `json:"cursor"`
		Limit  optInt    `json:"limit"`
	}
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	// limit 0/absent means the maximum (§0a zero = default; unconfirmed).
	limit := int(req.Limit.or(maxListIDLimit))
	if limit == 0 {
		limit = maxListIDLimit
	}
	if limit < 1 || limit > maxListIDLimit {
		return failf(codeInvalidParam, "limit must be 1-%d", maxListIDLimit)
	}
	offset, e := decodeCursor(req.Cursor.v)
	if e != nil {
		return failErr(e)
	}
	type row struct {
		UserID     string `json:"userid"`
		Department int64  `json:"department"`
	}
	var rows []row
	for _, u := range s.sortedUsers() {
		if len(u.Department) == 0 {
			rows = append(rows, row{u.UserID, 0})
		}
		for _, d := range u.Department {
			rows = append(rows, row{u.UserID, d})
		}
	}
	page, next := paginate(rows, offset, limit)
	return ok(map[string]any{"next_cursor": next, "dept_user": nonNil(page)})
}

// Cursors are opaque to clients: base64 of "o:<offset>".
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func decodeCursor(cur string) (int, *apiError) {
	if cur == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cur)
	if err != nil {
		return 0, errCodef(codeInvalidParam, "bad cursor")
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
	if err != nil || !strings.HasPrefix(string(b), "o:") || n < 0 {
		return 0, errCodef(codeInvalidParam, "bad cursor")
	}
	return n, nil
}

// paginate returns items[offset:offset+limit] and the cursor of the next
// page ("" at the end).
func paginate[T any](items []T, offset, limit int) ([]T, string) {
	if offset >= len(items) {
		return nil, ""
	}
	end := min(offset+limit, len(items))
	next := ""
	if end < len(items) {
		next = encodeCursor(end)
	}
	return items[offset:end], next
}

// usersInDept lists members of a department (and, with fetch_child, of
// its subtree) in creation order.
func (s *Sim) usersInDept(c *call) ([]*User, *apiError) {
	raw := c.query.Get("department_id")
	id, given, e := parseDeptIDParam(raw)
	if e != nil {
		return nil, e
	}
	if !given {
		return nil, errCodef(codeInvalidDeptID, "department_id is required")
	}
	if s.depts[id] == nil {
		return nil, errCodef(codeDeptNotFound, "department %d", id)
	}
	scope := map[int64]bool{id: true}
	if c.query.Get("fetch_child") == "1" {
		scope = s.subtreeIDs(id)
	}
	return s.membersIn(scope), nil
}

// handleUserSimpleList implements GET user/simplelist?department_id=ID[&fetch_child=1].
func handleUserSimpleList(s *Sim, c *call) reply {
	users, e := s.usersInDept(c)
	if e != nil {
		return failErr(e).with(map[string]any{"userlist": []any{}})
	}
	out := []map[string]any{}
	for _, u := range users {
		out = append(out, map[string]any{"userid": u.UserID, "name": u.Name, "department": nonNil(u.Department)})
	}
	return ok(map[string]any{"userlist": out})
}

// handleUserList implements GET user/list?department_id=ID[&fetch_child=1].
func handleUserList(s *Sim, c *call) reply {
	users, e := s.usersInDept(c)
	if e != nil {
		return failErr(e).with(map[string]any{"userlist": []any{}})
	}
	out := []map[string]any{}
	for _, u := range users {
		out = append(out, userJSON(u))
	}
	return ok(map[string]any{"userlist": out})
}
