package wecomsim

import (
	"fmt"
	"slices"
)

// Seed is initial or additional simulator state (Options.Seed, Reset,
// Seed, POST /sim/seed). The root department (id 1) always exists and is
// named after the corp; a Departments entry with ID 1 renames it.
type Seed struct {
	Corp        Corp         `json:"corp"`
	Apps        []App        `json:"apps,omitempty"`
	Departments []Department `json:"departments,omitempty"`
	Users       []User       `json:"users,omitempty"`
	Tags        []Tag        `json:"tags,omitempty"`
	Robots      []Robot      `json:"robots,omitempty"`
	// ExternalContacts are customers, each followed by its UserID member
	// (replaced by external_userid).
	ExternalContacts []ExternalContact `json:"external_contacts,omitempty"`
	// CustomerGroupChats are customer group chats and their owners.
	CustomerGroupChats []CustomerGroupChat `json:"customer_group_chats,omitempty"`
	// CorpTagGroups are customer tag groups made in the admin console (owner "").
	CorpTagGroups []CorpTagGroup `json:"corp_tag_groups,omitempty"`
}

// Credentials are the fake secrets of DemoSeed, for tests and the demo.
type Credentials struct {
	CorpID string `json:"corp_id"`
	// ContactsSecret is the 通讯录同步 secret (contacts write + list_id).
	ContactsSecret string `json:"contacts_secret"`
	// AppSecret/AgentID is the self-built app with root visibility and
	// customer-contact permission (appchat, message, contact ways, calendars).
	AppSecret string `json:"app_secret"`
	AgentID   int64  `json:"agent_id"`
	// LimitedAppSecret/LimitedAgentID is a self-built app whose visible range
	// is department 3 only and which lacks customer-contact permission.
	LimitedAppSecret string `json:"limited_app_secret"`
	LimitedAgentID   int64  `json:"limited_agent_id"`
	// RobotKey is the webhook key of the demo group robot.
	RobotKey string `json:"robot_key"`
}

// Demo corp values (fake, for local testing only).
const (
	DemoCorpID           = "ww0000000000demo"
	DemoContactsSecret   = "DemoContactsSyncSecret00000000000000000000a"
	DemoAppSecret        = "DemoOperatorAppSecret000000000000000000000b"
	DemoAgentID          = 1000002
	DemoLimitedAppSecret = "DemoLimitedAppSecret0000000000000000000000c"
	DemoLimitedAgentID   = 1000003
	DemoRobotKey         = "00000000-0000-4000-8000-00000000d3e0"
)

// DemoSeed returns a small deterministic corp and its credentials:
//
//	departments: 1 "Demo Corp" → 2 "Engineering" → 3 "SRE"; 1 → 4 "Sales"
//	users: zhangsan (1,2; leads 2; corp creator), lisi (2), wangwu (3), zhaoliu (4)
//	tags: 1 "oncall" = lisi + department 3
//	apps: contacts-sync; "operator" 1000002 (root visible, customer contact);
//	      "limited" 1000003 (sees department 3 only, no customer contact)
//	robot: "alert-bot" in chat "Ops Alerts"
func DemoSeed() (Seed, Credentials) {
	seed := Seed{
		Corp: Corp{ID: DemoCorpID, Name: "Demo Corp"},
		Apps: []App{
			{Name: "contacts-sync", Secret: DemoContactsSecret, ContactsSync: true, VisibleRoot: true},
			{Name: "operator", Secret: DemoAppSecret, AgentID: DemoAgentID, VisibleRoot: true, CustomerContact: true},
			{Name: "limited", Secret: DemoLimitedAppSecret, AgentID: DemoLimitedAgentID, VisibleParties: []int64{3}},
		},
		Departments: []Department{
			{ID: 2, Name: "Engineering", ParentID: 1, Order: 100},
			{ID: 3, Name: "SRE", ParentID: 2, Order: 100},
			{ID: 4, Name: "Sales", ParentID: 1, Order: 50},
		},
		Users: []User{
			{UserID: "zhangsan", Name: "张三", Mobile: "13800000001", Email: "zhangsan@example.com", Gender: "1",
				Department: []int64{1, 2}, IsLeaderInDept: []int{0, 1}, Position: "CTO", Creator: true},
			{UserID: "lisi", Name: "李四", Mobile: "13800000002", Email: "lisi@example.com", Gender: "2",
				Department: []int64{2}, DirectLeader: []string{"zhangsan"}},
			{UserID: "wangwu", Name: "王五", Mobile: "13800000003", Department: []int64{3}},
			{UserID: "zhaoliu", Name: "赵六", Email: "zhaoliu@example.com", Department: []int64{4}},
		},
		Tags: []Tag{{ID: 1, Name: "oncall", Users: []string{"lisi"}, Parties: []int64{3}}},
		Robots: []Robot{
			{Key: DemoRobotKey, Name: "alert-bot", ChatName: "Ops Alerts"},
		},
	}
	creds := Credentials{
		CorpID:           DemoCorpID,
		ContactsSecret:   DemoContactsSecret,
		AppSecret:        DemoAppSecret,
		AgentID:          DemoAgentID,
		LimitedAppSecret: DemoLimitedAppSecret,
		LimitedAgentID:   DemoLimitedAgentID,
		RobotKey:         DemoRobotKey,
	}
	return seed, creds
}

// Reset wipes all state (objects, tokens, messages, call log, callback
// configurations, customers, welcome codes, the delivery log) and loads
// seed. Deliveries still queued or in flight are abandoned. The clock and
// fault rules are kept.
func (s *Sim) Reset(seed Seed) error {
	if seed.Corp.ID == "" {
		return fmt.Errorf("seed: corp.corp_id is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	return s.applySeedLocked(seed)
}

// Seed merges seed into the current state: objects with the same key
// (app name, department id, userid, tag id, robot key) are replaced. A
// non-empty Corp replaces the corp. On error the state may be partly seeded.
func (s *Sim) Seed(seed Seed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applySeedLocked(seed)
}

func (s *Sim) applySeedLocked(seed Seed) error {
	if seed.Corp.ID != "" {
		s.corp = seed.Corp
		if s.corp.Name == "" {
			s.corp.Name = s.corp.ID
		}
		s.upsertRoot(s.corp.Name)
	}
	for _, a := range seed.Apps {
		if err := s.seedApp(a); err != nil {
			return err
		}
	}
	for _, d := range seed.Departments {
		if err := s.seedDepartment(d); err != nil {
			return err
		}
	}
	for _, u := range seed.Users {
		if err := s.seedUser(u); err != nil {
			return err
		}
	}
	for _, t := range seed.Tags {
		t = t.clone()
		s.tags[t.ID] = &t
	}
	for _, e := range seed.ExternalContacts {
		if e.ExternalUserID == "" || s.users[lower(e.UserID)] == nil {
			return fmt.Errorf("seed: external contact %q needs an id and an existing member (%q)", e.ExternalUserID, e.UserID)
		}
		if old := s.external(e.ExternalUserID); old != nil {
			*old = e
		} else {
			s.externals = append(s.externals, &e)
		}
	}
	for _, ch := range seed.CustomerGroupChats {
		if ch.ChatID == "" || s.users[lower(ch.Owner)] == nil {
			return fmt.Errorf("seed: customer group chat %q needs an id and an existing owner (%q)", ch.ChatID, ch.Owner)
		}
		ch.Transfers = slices.Clone(ch.Transfers)
		s.groupChats[ch.ChatID] = &ch
	}
	for _, r := range seed.Robots {
		if r.Key == "" {
			return fmt.Errorf("seed: robot %q has no key", r.Name)
		}
		s.robots[r.Key] = &r
	}
	for _, g := range seed.CorpTagGroups {
		s.seedCorpTagGroup(g)
	}
	return nil
}

func (s *Sim) upsertRoot(name string) {
	if root := s.depts[rootDeptID]; root != nil {
		root.Name = name
		return
	}
	s.depts[rootDeptID] = &Department{ID: rootDeptID, Name: name}
}

func (s *Sim) seedApp(a App) error {
	if a.Secret == "" {
		return fmt.Errorf("seed: app %q has no secret", a.Name)
	}
	st, err := newAppState(a)
	if err != nil {
		return err
	}
	for i, old := range s.apps {
		if old.Name == a.Name || old.Secret == a.Secret {
			delete(s.appsBySecret, old.Secret)
			s.dropAppTokens(old)
			s.apps = slices.Delete(s.apps, i, i+1)
			break
		}
	}
	s.apps = append(s.apps, st)
	s.appsBySecret[a.Secret] = st
	return nil
}

func (s *Sim) dropAppTokens(app *appState) {
	for v, t := range s.tokens {
		if t.app == app {
			delete(s.tokens, v)
		}
	}
}

func (s *Sim) seedDepartment(d Department) error {
	if d.ID == rootDeptID {
		s.upsertRoot(d.Name)
		s.depts[rootDeptID].NameEn, s.depts[rootDeptID].Order = d.NameEn, d.Order
		return nil
	}
	if d.ID <= 1 {
		return fmt.Errorf("seed: department id %d must be > 1", d.ID)
	}
	if s.depts[d.ParentID] == nil {
		return fmt.Errorf("seed: department %d: parent %d does not exist", d.ID, d.ParentID)
	}
	d.Leaders = nil
	s.depts[d.ID] = &d
	return nil
}

func (s *Sim) seedUser(u User) error {
	if u.UserID == "" {
		return fmt.Errorf("seed: user without userid")
	}
	for _, id := range u.Department {
		if s.depts[id] == nil {
			return fmt.Errorf("seed: user %q: department %d does not exist", u.UserID, id)
		}
	}
	u = u.clone()
	u.Status = 0
	if u.Department == nil {
		u.Department = []int64{}
	}
	u.Order = padUint32(u.Order, len(u.Department))
	u.IsLeaderInDept = padInt(u.IsLeaderInDept, len(u.Department))
	if u.MainDepartment == 0 && len(u.Department) > 0 {
		u.MainDepartment = u.Department[0]
	}
	if u.Gender == "" {
		u.Gender = "0"
	}
	if old := s.users[lower(u.UserID)]; old != nil {
		u.seq = old.seq
	} else {
		u.seq = s.nextSeq()
	}
	s.putUser(&u)
	return nil
}

func padUint32(v []uint32, n int) []uint32 {
	for len(v) < n {
		v = append(v, 0)
	}
	return v[:n]
}

func padInt(v []int, n int) []int {
	for len(v) < n {
		v = append(v, 0)
	}
	return v[:n]
}

// SetUserActive marks a member as having logged in (status 1) or not
// (status 4), e.g. to let add_contact_way accept a member created through
// the API.
func (s *Sim) SetUserActive(userid string, active bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[lower(userid)]
	if u == nil {
		return fmt.Errorf("no user %q", userid)
	}
	u.Inactive = !active
	return nil
}

// Credentials-free description of an app for snapshots.
func (a *appState) info() App {
	out := a.App.clone()
	out.Secret = ""
	return out
}

// robotInfo strips the key (a credential) for snapshots.
func robotInfo(r *Robot) Robot {
	out := *r
	out.Key = ""
	return out
}
