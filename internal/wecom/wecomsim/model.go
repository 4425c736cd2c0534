package wecomsim

import (
	"encoding/json"
	"slices"
	"time"
)

// The exported types below are used three ways: as seed input, as the
// simulator's stored state, and (deep-copied) in Snapshot. JSON tags are
// the shapes of GET /sim/state and POST /sim/seed.

// Corp identifies the simulated corporation. Its name is the root
// department's name.
type Corp struct {
	ID   string `json:"corp_id"`
	Name string `json:"name"`
}

// App is one application of the corp, with its own secret and token
// (reference §1). Permission flags model what the admin console grants.
type App struct {
	Name   string `json:"name"`
	Secret string `json:"secret,omitempty"`
	// AgentID is the self-built app's agentid; 0 for the 通讯录同步
	// (contacts-sync) secret, which is not an agent and cannot send.
	AgentID int64 `json:"agent_id"`
	// ContactsSync lets the app write departments/users and call
	// user/list_id (otherwise 48002).
	ContactsSync bool `json:"contacts_sync,omitempty"`
	// VisibleRoot: the app's visible range is the root department. Needed
	// for appchat/* (otherwise 48002) and makes every member a valid
	// message recipient.
	VisibleRoot bool `json:"visible_root,omitempty"`
	// VisibleParties/VisibleUsers is the visible range when VisibleRoot is
	// false; recipients outside it are reported as invalid by message/send.
	VisibleParties []int64  `json:"visible_parties,omitempty"`
	VisibleUsers   []string `json:"visible_users,omitempty"`
	// CustomerContact: configured under 客户联系 → 可调用接口的应用 (needed for
	// externalcontact/*, otherwise 48002).
	CustomerContact bool `json:"customer_contact,omitempty"`
	// TrustedIPs, when non-empty, is the 企业可信IP list: calls from other
	// addresses get 60020. Entries are IPs or CIDR prefixes.
	TrustedIPs []string `json:"trusted_ips,omitempty"`
	// Disabled apps cannot get a token (40001).
	Disabled bool `json:"disabled,omitempty"`
	// Settings are what agent/get returns and agent/set changes (§12, agent.go).
	Settings AgentSettings `json:"settings"`
	// Menu is the app's custom menu (menu/create); empty when none is set.
	Menu []MenuButton `json:"menu,omitempty"`
	// VerifiedDomains, when non-empty, are the domains whose ownership the admin verified
	// (可信域名 → 校验): agent/set refuses any other redirect_domain with 85005.
	VerifiedDomains []string `json:"verified_domains,omitempty"`
}

// Department is a node of the contacts tree. The root has ID 1 and
// ParentID 0.
type Department struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	NameEn   string `json:"name_en,omitempty"`
	ParentID int64  `json:"parentid"`
	Order    uint32 `json:"order"`
	// Leaders is derived (users with is_leader_in_dept=1 here); ignored on seed.
	Leaders []string `json:"department_leader,omitempty"`
}

// User is a member. Status is derived from Disabled/Inactive in snapshots
// (1 active, 2 disabled, 4 not activated) and ignored on seed.
type User struct {
	UserID           string          `json:"userid"`
	Name             string          `json:"name"`
	Alias            string          `json:"alias,omitempty"`
	Mobile           string          `json:"mobile,omitempty"`
	Email            string          `json:"email,omitempty"`
	BizMail          string          `json:"biz_mail,omitempty"`
	Position         string          `json:"position,omitempty"`
	Gender           string          `json:"gender,omitempty"`
	Telephone        string          `json:"telephone,omitempty"`
	Address          string          `json:"address,omitempty"`
	AvatarMediaID    string          `json:"avatar_mediaid,omitempty"`
	ExternalPosition string          `json:"external_position,omitempty"`
	Nickname         string          `json:"nickname,omitempty"`
	Department       []int64         `json:"department"`
	Order            []uint32        `json:"order,omitempty"`
	IsLeaderInDept   []int           `json:"is_leader_in_dept,omitempty"`
	DirectLeader     []string        `json:"direct_leader,omitempty"`
	MainDepartment   int64           `json:"main_department,omitempty"`
	ExtAttr          json.RawMessage `json:"extattr,omitempty"`
	ExternalProfile  json.RawMessage `json:"external_profile,omitempty"`
	// Disabled is enable=0.
	Disabled bool `json:"disabled,omitempty"`
	// Inactive means the member never logged in (status 4). API-created
	// members start inactive unless Options.ActivateCreatedUsers is set;
	// seeded members are active unless this is set.
	Inactive bool `json:"inactive,omitempty"`
	// Creator marks the corp creator, who cannot be deleted (301005).
	Creator bool `json:"creator,omitempty"`
	// GeneratedID marks a system-generated userid, which user/update may
	// change once via new_userid (otherwise 301036).
	GeneratedID bool `json:"generated_id,omitempty"`
	Status      int  `json:"status,omitempty"`

	seq int64 // creation order
}

// status computes WeCom's member status code.
func (u *User) status() int {
	switch {
	case u.Disabled:
		return 2
	case u.Inactive:
		return 4
	}
	return 1
}

// Tag is a contacts tag (§10): tag/* manage it, message/send totag reaches its members and
// the members of its departments (and their sub-departments).
type Tag struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Users   []string `json:"users,omitempty"`
	Parties []int64  `json:"parties,omitempty"`
	// Owner is the name of the app that created the tag with tag/create, the only app that
	// may change or delete it (81011 for others). "" is a tag made in the admin console (a
	// seeded one), which only the contacts-sync secret may change (unconfirmed).
	Owner string `json:"owner_app,omitempty"`
}

// Robot is a group robot reachable at webhook/send?key=Key.
type Robot struct {
	Key      string `json:"key,omitempty"`
	Name     string `json:"name"`
	ChatName string `json:"chat_name"`
	// Disabled robots answer 93004.
	Disabled bool `json:"disabled,omitempty"`
}

// Chat is an app group chat (appchat/*).
type Chat struct {
	ChatID    string    `json:"chatid"`
	Name      string    `json:"name"`
	Owner     string    `json:"owner"`
	Members   []string  `json:"userlist"`
	AgentID   int64     `json:"agent_id"` // the creating app
	CreatedAt time.Time `json:"created_at"`

	seq int64
}

// ContactWay is a 「联系我」 configuration.
type ContactWay struct {
	ConfigID      string          `json:"config_id"`
	AgentID       int64           `json:"agent_id"` // the creating app
	Type          int             `json:"type"`
	Scene         int             `json:"scene"`
	Style         int             `json:"style,omitempty"`
	Remark        string          `json:"remark,omitempty"`
	SkipVerify    bool            `json:"skip_verify"`
	State         string          `json:"state,omitempty"`
	QRCode        string          `json:"qr_code,omitempty"`
	Users         []string        `json:"user"`
	Parties       []int64         `json:"party"`
	IsTemp        bool            `json:"is_temp"`
	ExpiresIn     int64           `json:"expires_in,omitempty"`
	ChatExpiresIn int64           `json:"chat_expires_in,omitempty"`
	UnionID       string          `json:"unionid,omitempty"`
	IsExclusive   bool            `json:"is_exclusive"`
	MarkSource    bool            `json:"mark_source"`
	Conclusions   json.RawMessage `json:"conclusions,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`

	seq int64
}

// CalendarShare is one entry of calendar.shares.
type CalendarShare struct {
	UserID     string `json:"userid"`
	Permission int    `json:"permission,omitempty"`
}

// Calendar is an oa/calendar owned by the app that created it.
type Calendar struct {
	CalID          string          `json:"cal_id"`
	AgentID        int64           `json:"agent_id"`
	Admins         []string        `json:"admins"`
	Summary        string          `json:"summary"`
	Color          string          `json:"color"`
	Description    string          `json:"description"`
	Shares         []CalendarShare `json:"shares"`
	IsPublic       int             `json:"is_public"`
	PublicRange    json.RawMessage `json:"public_range,omitempty"`
	IsCorpCalendar int             `json:"is_corp_calendar"`
	IsDefault      bool            `json:"is_default"`
	Deleted        bool            `json:"deleted,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`

	seq int64
}

// Attendee is one schedule attendee.
type Attendee struct {
	UserID         string `json:"userid"`
	ResponseStatus int    `json:"response_status"`
}

// ExcludeTime is one skipped occurrence of a repeating schedule.
type ExcludeTime struct {
	StartTime int64 `json:"start_time"`
}

// Reminders is schedule.reminders in its current-generation shape (§6).
type Reminders struct {
	IsRemind              int           `json:"is_remind"`
	RemindBeforeEventSecs int64         `json:"remind_before_event_secs"`
	RemindTimeDiffs       []int64       `json:"remind_time_diffs,omitempty"`
	IsRepeat              int           `json:"is_repeat"`
	RepeatType            int64         `json:"repeat_type"`
	RepeatUntil           int64         `json:"repeat_until"`
	IsCustomRepeat        int           `json:"is_custom_repeat"`
	RepeatInterval        int64         `json:"repeat_interval"`
	RepeatDayOfWeek       []int64       `json:"repeat_day_of_week,omitempty"`
	RepeatDayOfMonth      []int64       `json:"repeat_day_of_month,omitempty"`
	Timezone              int64         `json:"timezone"`
	ExcludeTimeList       []ExcludeTime `json:"exclude_time_list,omitempty"`
}

// Schedule is an oa/schedule. Status 0 is normal, 1 cancelled.
type Schedule struct {
	ScheduleID  string     `json:"schedule_id"`
	AgentID     int64      `json:"agent_id"`
	CalID       string     `json:"cal_id"`
	Admins      []string   `json:"admins"`
	Attendees   []Attendee `json:"attendees"`
	Summary     string     `json:"summary"`
	Description string     `json:"description"`
	Location    string     `json:"location"`
	StartTime   int64      `json:"start_time"`
	EndTime     int64      `json:"end_time"`
	IsWholeDay  int        `json:"is_whole_day"`
	Reminders   Reminders  `json:"reminders"`
	Status      int        `json:"status"`
	Sequence    uint64     `json:"sequence"`
	CreatedAt   time.Time  `json:"created_at"`

	seq int64
}

// Snapshot is a deep copy of the simulator's state (GET /sim/state).
type Snapshot struct {
	Now         time.Time    `json:"now"`
	Corp        Corp         `json:"corp"`
	Apps        []App        `json:"apps"` // secrets omitted
	Departments []Department `json:"departments"`
	Users       []User       `json:"users"`
	Tags        []Tag        `json:"tags"`
	Robots      []Robot      `json:"robots"` // keys omitted
	Chats       []Chat       `json:"chats"`
	ContactWays []ContactWay `json:"contact_ways"`
	Calendars   []Calendar   `json:"calendars"`
	Schedules   []Schedule   `json:"schedules"`
	// ExternalContacts are the customers added by Scan, oldest first.
	ExternalContacts []ExternalContact `json:"external_contacts"`
	// CustomerGroupChats are the customer group chats, by chat_id.
	CustomerGroupChats []CustomerGroupChat `json:"customer_group_chats"`
	// CustomerTransfers are the customer handovers, oldest first.
	CustomerTransfers []CustomerTransfer `json:"customer_transfers"`
	// WelcomeMessages are those sent with send_welcome_msg, oldest first.
	WelcomeMessages []WelcomeMessage `json:"welcome_messages"`
	// Cards are the interactive cards sent (button/vote/multiple
	// interaction, or notice cards with an action_menu) with each
	// recipient's copy, in send order (cards.go).
	Cards []CardState `json:"cards"`
	// CorpTagGroups are the customer tag groups, oldest first (corptag.go).
	CorpTagGroups []CorpTagGroup `json:"corp_tag_groups"`
	// WelcomeTemplates are the group welcome templates, oldest first (welcometemplate.go).
	WelcomeTemplates []GroupWelcomeTemplate `json:"group_welcome_templates"`
}

// Department returns the department with id from the snapshot.
func (s Snapshot) Department(id int64) (Department, bool) {
	for _, d := range s.Departments {
		if d.ID == id {
			return d, true
		}
	}
	return Department{}, false
}

// User returns the member with userid (case-insensitive) from the snapshot.
func (s Snapshot) User(userid string) (User, bool) {
	for _, u := range s.Users {
		if equalFoldASCII(u.UserID, userid) {
			return u, true
		}
	}
	return User{}, false
}

// Tag returns the tag with id from the snapshot.
func (s Snapshot) Tag(id int64) (Tag, bool) {
	for _, t := range s.Tags {
		if t.ID == id {
			return t, true
		}
	}
	return Tag{}, false
}

// Chat returns the app chat with chatid from the snapshot.
func (s Snapshot) Chat(chatid string) (Chat, bool) {
	for _, c := range s.Chats {
		if c.ChatID == chatid {
			return c, true
		}
	}
	return Chat{}, false
}

func cloneRaw(r json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return slices.Clone(r)
}

func (a App) clone() App {
	a.VisibleParties = slices.Clone(a.VisibleParties)
	a.VisibleUsers = slices.Clone(a.VisibleUsers)
	a.TrustedIPs = slices.Clone(a.TrustedIPs)
	a.Menu = cloneMenu(a.Menu)
	a.VerifiedDomains = slices.Clone(a.VerifiedDomains)
	return a
}

func (u User) clone() User {
	u.Department = slices.Clone(u.Department)
	u.Order = slices.Clone(u.Order)
	u.IsLeaderInDept = slices.Clone(u.IsLeaderInDept)
	u.DirectLeader = slices.Clone(u.DirectLeader)
	u.ExtAttr = cloneRaw(u.ExtAttr)
	u.ExternalProfile = cloneRaw(u.ExternalProfile)
	return u
}

func (t Tag) clone() Tag {
	t.Users = slices.Clone(t.Users)
	t.Parties = slices.Clone(t.Parties)
	return t
}

func (c Chat) clone() Chat {
	c.Members = slices.Clone(c.Members)
	return c
}

func (w ContactWay) clone() ContactWay {
	w.Users = slices.Clone(w.Users)
	w.Parties = slices.Clone(w.Parties)
	w.Conclusions = cloneRaw(w.Conclusions)
	return w
}

func (c Calendar) clone() Calendar {
	c.Admins = slices.Clone(c.Admins)
	c.Shares = slices.Clone(c.Shares)
	c.PublicRange = cloneRaw(c.PublicRange)
	return c
}

func (r Reminders) clone() Reminders {
	r.RemindTimeDiffs = slices.Clone(r.RemindTimeDiffs)
	r.RepeatDayOfWeek = slices.Clone(r.RepeatDayOfWeek)
	r.RepeatDayOfMonth = slices.Clone(r.RepeatDayOfMonth)
	r.ExcludeTimeList = slices.Clone(r.ExcludeTimeList)
	return r
}

func (s Schedule) clone() Schedule {
	s.Admins = slices.Clone(s.Admins)
	s.Attendees = slices.Clone(s.Attendees)
	s.Reminders = s.Reminders.clone()
	return s
}
