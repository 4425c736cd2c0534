package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Users manages members (§3). The writes and list_id need the contacts-sync secret.
type Users interface {
	CreateUser(ctx context.Context, req CreateUserRequest) (*CreateUserResult, error)
	UpdateUser(ctx context.Context, req UpdateUserRequest) error
	DeleteUser(ctx context.Context, userID string) error
	GetUser(ctx context.Context, userID string) (*User, error)
	ListUserIDs(ctx context.Context, cursor string, limit int) (*UserIDPage, error)
	SimpleListUsers(ctx context.Context, departmentID int, fetchChild bool) ([]SimpleUser, error)
}

// User status values of user/get.
const (
	UserStatusActive      = 1 // 已激活
	UserStatusDisabled    = 2 // 已禁用
	UserStatusInactive    = 4 // 未激活
	UserStatusLeftCompany = 5 // 退出企业
)

// Gender is a member's gender as WeCom writes it: a digit in a string.
type Gender string

// Gender values. GenderUnspecified on user/update means "unchanged", not "clear".
const (
	GenderUnspecified Gender = "0"
	GenderMale        Gender = "1"
	GenderFemale      Gender = "2"
)

// Flag is a yes/no field that WeCom writes as 1 or 0 (enable, is_leader_in_dept). It reads
// 1/0, "1"/"0" and true/false.
type Flag bool

// MarshalJSON writes 1 or 0.
func (f Flag) MarshalJSON() ([]byte, error) {
	if f {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

// UnmarshalJSON reads 1/0, "1"/"0", true/false; null leaves the value alone.
func (f *Flag) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "1", "true":
		*f = true
	case "0", "false", "":
		*f = false
	case "null":
	default:
		return fmt.Errorf("not a 0/1 flag: %.20s", b)
	}
	return nil
}

// User is a member as user/get returns it. Since 2022-06-20 apps other than contacts sync
// get no avatar, gender, mobile, email, biz_mail, qr_code or address.
type User struct {
	UserID     string   `json:"userid"`
	Name       string   `json:"name"`
	Alias      string   `json:"alias,omitempty"`
	Mobile     string   `json:"mobile,omitempty"`
	Department []int    `json:"department"`
	Order      []uint32 `json:"order,omitempty"`
	Position   string   `json:"position,omitempty"`
	// Gender is GenderUnspecified also when the caller may not see it.
	Gender         Gender   `json:"gender,omitempty"`
	Email          string   `json:"email,omitempty"`
	BizMail        string   `json:"biz_mail,omitempty"`
	Telephone      string   `json:"telephone,omitempty"`
	IsLeaderInDept []Flag   `json:"is_leader_in_dept,omitempty"`
	DirectLeader   []string `json:"direct_leader,omitempty"`
	Avatar         string   `json:"avatar,omitempty"`
	ThumbAvatar    string   `json:"thumb_avatar,omitempty"`
	// Enable is false for a disabled member.
	Enable Flag `json:"enable"`
	// Status is one of the UserStatus constants.
	Status           int             `json:"status"`
	ExtAttr          *ExtAttr        `json:"extattr,omitempty"`
	QRCode           string          `json:"qr_code,omitempty"`
	ExternalProfile  json.RawMessage `json:"external_profile,omitempty"`
	ExternalPosition string          `json:"external_position,omitempty"`
	Address          string          `json:"address,omitempty"`
	OpenUserID       string          `json:"open_userid,omitempty"`
	MainDepartment   int             `json:"main_department,omitempty"`
}

// ExtAttr holds custom attributes. Attribute names must already exist in admin; unknown
// names are ignored by WeCom.
type ExtAttr struct {
	Attrs []ExtAttrItem `json:"attrs"`
}

// ExtAttrItem is one custom attribute: Type 0 text, 1 web, 2 mini-program.
type ExtAttrItem struct {
	Type        int              `json:"type"`
	Name        string           `json:"name"`
	Text        *ExtAttrText     `json:"text,omitempty"`
	Web         *ExtAttrWeb      `json:"web,omitempty"`
	MiniProgram *ExtAttrMiniProg `json:"miniprogram,omitempty"`
}

// ExtAttrText is a text attribute value (≤64 chars).
type ExtAttrText struct {
	Value string `json:"value"`
}

// ExtAttrWeb is a link attribute: url with http(s), title ≤12 chars.
type ExtAttrWeb struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// ExtAttrMiniProg is a mini-program attribute.
type ExtAttrMiniProg struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath"`
	Title    string `json:"title"`
}

// CreateUserRequest is the body of user/create. Empty optional fields are not sent.
type CreateUserRequest struct {
	// UserID is required: 1–64 bytes of [0-9A-Za-z_-@.], starting with a letter or digit;
	// unique ignoring case.
	UserID string `json:"userid"`
	// Name is required: 1–64 characters.
	Name  string `json:"name"`
	Alias string `json:"alias,omitempty"`
	// Mobile and Email must not both be empty (60129).
	Mobile string `json:"mobile,omitempty"`
	// Department lists ≤100 department ids; omitted puts the member in 「待设置部门」.
	Department []int `json:"department,omitempty"`
	// Order has one entry per Department; larger first.
	Order    []uint32 `json:"order,omitempty"`
	Position string   `json:"position,omitempty"`
	// Gender is GenderMale or GenderFemale; empty is not sent.
	Gender    Gender `json:"gender,omitempty"`
	Email     string `json:"email,omitempty"`
	BizMail   string `json:"biz_mail,omitempty"`
	Telephone string `json:"telephone,omitempty"`
	// IsLeaderInDept has one entry per Department (60132).
	IsLeaderInDept []Flag `json:"is_leader_in_dept,omitempty"`
	// DirectLeader: at most 1 userid on the 2025 page (5 on the 2023 page).
	DirectLeader  []string `json:"direct_leader,omitempty"`
	AvatarMediaID string   `json:"avatar_mediaid,omitempty"`
	// Enable: nil leaves WeCom's default (enabled); false creates the member disabled.
	Enable  *Flag    `json:"enable,omitempty"`
	ExtAttr *ExtAttr `json:"extattr,omitempty"`
	// ToInvite: nil leaves WeCom's default (true: send an invitation).
	ToInvite *bool `json:"to_invite,omitempty"`
	// ExternalProfile is passed through verbatim (see WeCom's user/create page).
	ExternalProfile  json.RawMessage `json:"external_profile,omitempty"`
	ExternalPosition string          `json:"external_position,omitempty"`
	Nickname         string          `json:"nickname,omitempty"`
	Address          string          `json:"address,omitempty"`
	MainDepartment   int             `json:"main_department,omitempty"`
}

// CreateUserResult is the reply of user/create.
type CreateUserResult struct {
	// CreatedDepartments lists departments WeCom created because Department named ids that
	// did not exist (2025 behaviour).
	CreatedDepartments []CreatedDepartment
}

// CreatedDepartment is an item of created_department_list.department_info.
type CreatedDepartment struct {
	Name string `json:"name"`
	ID   int    `json:"id"`
}

// UpdateUserRequest is the body of user/update. Only UserID is required. A nil field is not
// sent and stays unchanged; a non-nil one is sent even if zero: Enable=Ptr(Flag(false)) disables the
// member, an empty non-nil slice clears the list. (omitzero, unlike omitempty, keeps empty
// non-nil slices.)
type UpdateUserRequest struct {
	UserID string `json:"userid"`
	// NewUserID renames a WeCom-generated userid, once (301036 otherwise).
	NewUserID        *string         `json:"new_userid,omitzero"`
	Name             *string         `json:"name,omitzero"`
	Alias            *string         `json:"alias,omitzero"`
	Mobile           *string         `json:"mobile,omitzero"`
	Department       []int           `json:"department,omitzero"`
	Order            []uint32        `json:"order,omitzero"`
	Position         *string         `json:"position,omitzero"`
	Gender           *Gender         `json:"gender,omitzero"`
	Email            *string         `json:"email,omitzero"`
	BizMail          *string         `json:"biz_mail,omitzero"`
	Telephone        *string         `json:"telephone,omitzero"`
	IsLeaderInDept   []Flag          `json:"is_leader_in_dept,omitzero"`
	DirectLeader     []string        `json:"direct_leader,omitzero"`
	AvatarMediaID    *string         `json:"avatar_mediaid,omitzero"`
	Enable           *Flag           `json:"enable,omitzero"`
	ExtAttr          *ExtAttr        `json:"extattr,omitzero"`
	ExternalProfile  json.RawMessage `json:"external_profile,omitzero"`
	ExternalPosition *string         `json:"external_position,omitzero"`
	Nickname         *string         `json:"nickname,omitzero"`
	Address          *string         `json:"address,omitzero"`
	MainDepartment   *int            `json:"main_department,omitzero"`
}

// UserIDPage is a page of user/list_id.
type UserIDPage struct {
	// NextCursor is empty on the last page.
	NextCursor string     `json:"next_cursor"`
	DeptUser   []DeptUser `json:"dept_user"`
}

// DeptUser is one (member, department) row of user/list_id.
type DeptUser struct {
	UserID     string `json:"userid,omitempty"`
	OpenUserID string `json:"open_userid,omitempty"` // third-party apps only
	Department int    `json:"department"`
}

// SimpleUser is an item of user/simplelist.
type SimpleUser struct {
	UserID     string `json:"userid"`
	Name       string `json:"name"`
	Department []int  `json:"department"`
	OpenUserID string `json:"open_userid,omitempty"`
}

// CreateUser creates a member (POST user/create).
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (*CreateUserResult, error) {
	var resp struct {
		CreatedDepartmentList struct {
			DepartmentInfo []CreatedDepartment `json:"department_info"`
		} `json:"created_department_list"`
	}
	if err := c.call(ctx, epUserCreate, nil, req, &resp); err != nil {
		return nil, err
	}
	return &CreateUserResult{CreatedDepartments: resp.CreatedDepartmentList.DepartmentInfo}, nil
}

// UpdateUser changes the given fields (POST user/update).
func (c *Client) UpdateUser(ctx context.Context, req UpdateUserRequest) error {
	return c.call(ctx, epUserUpdate, nil, req, nil)
}

// DeleteUser deletes a member (GET user/delete?userid=).
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	return c.call(ctx, epUserDelete, url.Values{"userid": {userID}}, nil, nil)
}

// GetUser returns a member (GET user/get?userid=).
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	var u User
	if err := c.call(ctx, epUserGet, url.Values{"userid": {userID}}, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListUserIDs returns one page of (userid, department) rows (POST user/list_id). Start with
// an empty cursor; limit is 1–10000 (0 lets WeCom choose).
func (c *Client) ListUserIDs(ctx context.Context, cursor string, limit int) (*UserIDPage, error) {
	req := struct {
		Cursor string `json:"cursor,omitempty"`
		Limit  int    `json:"limit,omitempty"`
	}{cursor, limit}
	var page UserIDPage
	if err := c.call(ctx, epUserListID, nil, req, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// SimpleListUsers lists the members of a department (GET user/simplelist?department_id=),
// including sub-departments when fetchChild (fetch_child=1; newer WeCom pages dropped the
// parameter and tell you to recurse yourself).
func (c *Client) SimpleListUsers(ctx context.Context, departmentID int, fetchChild bool) ([]SimpleUser, error) {
	q := url.Values{"department_id": {strconv.Itoa(departmentID)}}
	if fetchChild {
		q.Set("fetch_child", "1")
	}
	var resp struct {
		UserList []SimpleUser `json:"userlist"`
	}
	if err := c.call(ctx, epUserSimpleList, q, nil, &resp); err != nil {
		return nil, err
	}
	return resp.UserList, nil
}
