package wecomsim

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Structural limits of the contacts tree (§2).
const (
	rootDeptID       = 1
	maxDeptDepth     = 15    // levels including the root (81002)
	maxDeptNodes     = 30000 // sub-departments + members under one department (81001)
	maxDeptNameRunes = 32    // simulator choice per §2 (the 3rd-party page says 64)
)

// forbiddenDeptChars are rejected in department names (60009): backslash,
// colon, star, question mark, double quote, angle brackets and pipe, ASCII
// and full-width. The create page writes the quote as ” (U+201D), so that is
// rejected too.
const forbiddenDeptChars = `\:*?"<>|` + "＼：＊？＂＜＞｜”"

func validateDeptName(name string) *apiError {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > maxDeptNameRunes {
		return errCodef(codeDeptNameLength, "name must be 1-%d characters, got %d", maxDeptNameRunes, n)
	}
	if i := strings.IndexAny(name, forbiddenDeptChars); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return errCodef(codeDeptNameChars, "name contains %q", r)
	}
	return nil
}

// ---- tree helpers (callers hold s.mu) ----

// deptDepth is the level of a department; the root is level 1.
func (s *Sim) deptDepth(id int64) int {
	depth := 0
	for d := s.depts[id]; d != nil && depth <= len(s.depts); d = s.depts[d.ParentID] {
		depth++
	}
	return depth
}

// deptHeight is the number of levels in the subtree rooted at id (1 = leaf).
func (s *Sim) deptHeight(id int64) int {
	base := s.deptDepth(id)
	h := 1
	for _, d := range s.subtree(id) {
		h = max(h, s.deptDepth(d.ID)-base+1)
	}
	return h
}

// isDescendant reports whether id is below ancestor (or is ancestor).
func (s *Sim) isDescendant(id, ancestor int64) bool {
	for steps := 0; steps <= len(s.depts); steps++ {
		if id == ancestor {
			return true
		}
		d := s.depts[id]
		if d == nil || d.ParentID == 0 {
			return false
		}
		id = d.ParentID
	}
	return false
}

// childDepts returns the direct children, larger order first, then by id.
func (s *Sim) childDepts(id int64) []*Department {
	var out []*Department
	for _, d := range s.depts {
		if d.ParentID == id && d.ID != id {
			out = append(out, d)
		}
	}
	sortSiblings(out)
	return out
}

func sortSiblings(ds []*Department) {
	slices.SortFunc(ds, func(a, b *Department) int {
		if a.Order != b.Order {
			return cmp.Compare(b.Order, a.Order)
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// subtree returns id and all its descendants in pre-order (siblings by
// order, then id). It indexes children once, so it is O(n log n).
func (s *Sim) subtree(id int64) []*Department {
	if s.depts[id] == nil {
		return nil
	}
	children := map[int64][]*Department{}
	for _, d := range s.depts {
		if d.ID != d.ParentID {
			children[d.ParentID] = append(children[d.ParentID], d)
		}
	}
	var out []*Department
	stack := []*Department{s.depts[id]}
	seen := map[int64]bool{}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[d.ID] {
			continue
		}
		seen[d.ID] = true
		out = append(out, d)
		kids := children[d.ID]
		sortSiblings(kids)
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
	return out
}

// subtreeIDs is the set of ids in the subtree rooted at id.
func (s *Sim) subtreeIDs(id int64) map[int64]bool {
	set := map[int64]bool{}
	for _, d := range s.subtree(id) {
		set[d.ID] = true
	}
	return set
}

// directMembers lists users whose department list contains id.
func (s *Sim) directMembers(id int64) []*User {
	var out []*User
	for _, u := range s.sortedUsers() {
		if slices.Contains(u.Department, id) {
			out = append(out, u)
		}
	}
	return out
}

// membersIn lists users in any of the departments in set, in creation order.
func (s *Sim) membersIn(set map[int64]bool) []*User {
	var out []*User
	for _, u := range s.sortedUsers() {
		if slices.ContainsFunc(u.Department, func(d int64) bool { return set[d] }) {
			out = append(out, u)
		}
	}
	return out
}

func (s *Sim) deptNodeCount(id int64) int {
	return len(s.childDepts(id)) + len(s.directMembers(id))
}

// leaderIndex maps each department to its members with
// is_leader_in_dept=1, in one pass over the members.
func (s *Sim) leaderIndex() map[int64][]string {
	out := map[int64][]string{}
	for _, u := range s.sortedUsers() {
		for i, d := range u.Department {
			if i < len(u.IsLeaderInDept) && u.IsLeaderInDept[i] == 1 {
				out[d] = append(out[d], u.UserID)
			}
		}
	}
	return out
}

func (s *Sim) siblingNameTaken(parent int64, name string, except int64) bool {
	for _, c := range s.childDepts(parent) {
		if c.ID != except && c.Name == name {
			return true
		}
	}
	return false
}

func (s *Sim) nextDeptID() int64 {
	var maxID int64 = rootDeptID
	for id := range s.depts {
		maxID = max(maxID, id)
	}
	return maxID + 1
}

// parseDeptIDParam reads ?id= style parameters; absent is (0, false).
func parseDeptIDParam(v string) (int64, bool, *apiError) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, true, errCodef(codeInvalidDeptID, "bad department id %q", v)
	}
	return id, true, nil
}

func checkOrder(o optInt) *apiError {
	if o.set && (o.v < 0 || o.v > math.MaxUint32) {
		return errCodef(codeInvalidParam, "order out of [0, 2^32)")
	}
	return nil
}

// ---- handlers ----

type deptRequest struct {
	ID       optInt    `json:"id"`
	Name     optString `json:"name"`
	NameEn   optString `json:"name_en"`
	ParentID optInt    `json:"parentid"`
	Order    optInt    `json:"order"`
}

// handleDeptCreate implements POST department/create (§2).
func handleDeptCreate(s *Sim, c *call) reply {
	var req deptRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if e := validateDeptName(req.Name.v); e != nil {
		return failErr(e)
	}
	if req.NameEn.given() {
		if e := validateDeptName(req.NameEn.v); e != nil {
			return failErr(e)
		}
	}
	if !req.ParentID.set || req.ParentID.v <= 0 {
		return failf(codeInvalidParentID, "parentid is required")
	}
	if s.depts[req.ParentID.v] == nil {
		return failf(codeParentNotFound, "parent %d", req.ParentID.v)
	}
	if e := checkOrder(req.Order); e != nil {
		return failErr(e)
	}
	id := s.nextDeptID()
	if req.ID.nonZero() {
		// "id must be >1 if given" and fits int32.
		if req.ID.v <= rootDeptID || req.ID.v > math.MaxInt32 {
			return failf(codeInvalidDeptID, "id %d must be in (1, 2^31)", req.ID.v)
		}
		if s.depts[req.ID.v] != nil {
			return failf(codeDeptExists, "id %d exists", req.ID.v)
		}
		id = req.ID.v
	}
	if s.siblingNameTaken(req.ParentID.v, req.Name.v, 0) {
		return failf(codeDeptExists, "sibling named %q exists", req.Name.v)
	}
	if s.deptDepth(req.ParentID.v)+1 > maxDeptDepth {
		return failf(codeDeptTooDeep, "more than %d levels", maxDeptDepth)
	}
	if s.deptNodeCount(req.ParentID.v) >= maxDeptNodes {
		return fail(codeDeptNodesOverLimit)
	}
	s.depts[id] = &Department{ID: id, Name: req.Name.v, NameEn: req.NameEn.v,
		ParentID: req.ParentID.v, Order: uint32(req.Order.v)}
	return okMsg("created", map[string]any{"id": id})
}

// handleDeptUpdate implements POST department/update: only id is
// required; omitted fields are unchanged. §0a: parentid 0 means "not
// given"; an empty name is also read as "not given" (clients send zero
// values; an empty name could never be valid anyway).
func handleDeptUpdate(s *Sim, c *call) reply {
	var req deptRequest
	if e := c.decode(&req); e != nil {
		return failErr(e)
	}
	if !req.ID.nonZero() {
		return failf(codeInvalidDeptID, "id is required")
	}
	d := s.depts[req.ID.v]
	if d == nil {
		return failf(codeDeptNotFound, "department %d", req.ID.v)
	}
	name, parent := d.Name, d.ParentID
	if req.Name.given() {
		if e := validateDeptName(req.Name.v); e != nil {
			return failErr(e)
		}
		name = req.Name.v
	}
	if req.NameEn.given() {
		if e := validateDeptName(req.NameEn.v); e != nil {
			return failErr(e)
		}
	}
	if e := checkOrder(req.Order); e != nil {
		return failErr(e)
	}
	if req.ParentID.nonZero() && req.ParentID.v != d.ParentID {
		if r, bad := s.checkMove(d, req.ParentID.v); bad {
			return r
		}
		parent = req.ParentID.v
	}
	if d.ID != rootDeptID && s.siblingNameTaken(parent, name, d.ID) {
		return failf(codeDeptExists, "sibling named %q exists", name)
	}
	d.Name, d.ParentID = name, parent
	if req.NameEn.set {
		d.NameEn = req.NameEn.v
	}
	if req.Order.set {
		d.Order = uint32(req.Order.v)
	}
	return okMsg("updated", nil)
}

// checkMove validates re-parenting d under newParent.
func (s *Sim) checkMove(d *Department, newParent int64) (reply, bool) {
	if s.depts[newParent] == nil {
		return failf(codeParentNotFound, "parent %d", newParent), true
	}
	// Moving under itself or a descendant (the root is everyone's
	// ancestor, so it can never move) is a cycle.
	if s.isDescendant(newParent, d.ID) {
		return failf(codeDeptCycle, "%d is %d or below it", newParent, d.ID), true
	}
	if s.deptDepth(newParent)+s.deptHeight(d.ID) > maxDeptDepth {
		return failf(codeDeptTooDeep, "move would exceed %d levels", maxDeptDepth), true
	}
	if s.deptNodeCount(newParent) >= maxDeptNodes {
		return fail(codeDeptNodesOverLimit), true
	}
	return reply{}, false
}

// handleDeptDelete implements GET department/delete?id=ID. Sub-departments
// are checked before members (order unconfirmed).
func handleDeptDelete(s *Sim, c *call) reply {
	id, given, e := parseDeptIDParam(c.query.Get("id"))
	if e != nil {
		return failErr(e)
	}
	if !given {
		return failf(codeInvalidDeptID, "id is required")
	}
	if s.depts[id] == nil {
		return failf(codeDeptNotFound, "department %d", id)
	}
	if id == rootDeptID {
		return fail(codeDeleteRootDept)
	}
	if len(s.childDepts(id)) > 0 {
		return fail(codeDeptHasChildren)
	}
	if len(s.directMembers(id)) > 0 {
		return fail(codeDeptHasMembers)
	}
	delete(s.depts, id)
	s.dropDeptFromTags(id)
	return okMsg("deleted", nil)
}

// listRoot resolves the optional ?id= of list/simplelist (default root).
func (s *Sim) listRoot(c *call) (int64, *apiError) {
	id, given, e := parseDeptIDParam(c.query.Get("id"))
	if e != nil {
		return 0, e
	}
	if !given {
		return rootDeptID, nil
	}
	if s.depts[id] == nil {
		return 0, errCodef(codeDeptNotFound, "department %d", id)
	}
	return id, nil
}

func deptJSON(d *Department, leaders map[int64][]string) map[string]any {
	m := map[string]any{
		"id":                d.ID,
		"name":              d.Name,
		"parentid":          d.ParentID,
		"order":             d.Order,
		"department_leader": nonNil(leaders[d.ID]),
	}
	if d.NameEn != "" {
		m["name_en"] = d.NameEn
	}
	return m
}

// handleDeptList implements GET department/list[?id=ID]: the department and
// everything below it (read APIs ignore the app's visible range).
func handleDeptList(s *Sim, c *call) reply {
	root, e := s.listRoot(c)
	if e != nil {
		return failErr(e).with(map[string]any{"department": []any{}})
	}
	out := []map[string]any{}
	leaders := s.leaderIndex()
	for _, d := range s.subtree(root) {
		out = append(out, deptJSON(d, leaders))
	}
	return ok(map[string]any{"department": out})
}

// handleDeptSimpleList implements GET department/simplelist[?id=ID].
func handleDeptSimpleList(s *Sim, c *call) reply {
	root, e := s.listRoot(c)
	if e != nil {
		// §0: a failed simplelist still carries "department_id":[].
		return failErr(e).with(map[string]any{"department_id": []any{}})
	}
	out := []map[string]any{}
	for _, d := range s.subtree(root) {
		out = append(out, map[string]any{"id": d.ID, "parentid": d.ParentID, "order": d.Order})
	}
	return ok(map[string]any{"department_id": out})
}

// handleDeptGet implements GET department/get?id=ID.
func handleDeptGet(s *Sim, c *call) reply {
	id, given, e := parseDeptIDParam(c.query.Get("id"))
	if e != nil {
		return failErr(e)
	}
	if !given {
		return failf(codeInvalidDeptID, "id is required")
	}
	d := s.depts[id]
	if d == nil {
		return failf(codeDeptNotFound, "department %d", id)
	}
	return ok(map[string]any{"department": deptJSON(d, s.leaderIndex())})
}
