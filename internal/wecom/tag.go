package wecom

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// Tags manages member tags (§10, 通讯录 → 标签). A tag holds members and departments, and
// belongs to the app whose secret created it: only that app may rename it, change its members
// or delete it (81011 for any other, see IsTagNotOwned). Any app may read every tag.
type Tags interface {
	CreateTag(ctx context.Context, name string, id int) (int, error)
	UpdateTag(ctx context.Context, id int, name string) error
	DeleteTag(ctx context.Context, id int) error
	GetTag(ctx context.Context, id int) (*Tag, error)
	AddTagUsers(ctx context.Context, id int, users []string, parties []int) (*TagMembersResult, error)
	DeleteTagUsers(ctx context.Context, id int, users []string, parties []int) (*TagMembersResult, error)
	ListTags(ctx context.Context) ([]TagSummary, error)
}

var _ Tags = (*Client)(nil)

// Limits of tags (§10).
const (
	// MaxTagNameLength is the longest tag name, in characters.
	MaxTagNameLength = 32
	// MaxTagUsersPerCall and MaxTagPartiesPerCall bound one addtagusers or deltagusers call.
	MaxTagUsersPerCall   = 1000
	MaxTagPartiesPerCall = 100
	// MaxTagMembers bounds the users plus departments of one tag.
	MaxTagMembers = 30000
)

// Errcodes of the tag endpoints (§10). tag.go registers them with the shared tables below
// (not-found, already-exists, hints) so that the helpers classify them.
const (
	ErrCodeInvalidTagID     = 40068 // 不合法的标签ID: not given, or no such tag
	ErrCodeTagAllInvalid    = 40070 // 指定的标签范围节点全部无效 (addtagusers)
	ErrCodeTagNameExists    = 40071 // 标签名字已经存在
	ErrCodeTagNameLength    = 40072 // 不合法的标签名字长度
	ErrCodeTagCountLimit    = 40126 // 企业标签个数达到上限 (3000)
	ErrCodeMissingTagID     = 41017 // 缺少tagid参数
	ErrCodeMissingTagName   = 41018 // 缺少标签名
	ErrCodeTagMembersLimit  = 81003 // 标签下节点个数超过30000个
	ErrCodeTagNotOwned      = 81011 // 无权限操作标签 (the reference's best fit for a non-owner write)
	ErrCodeTagTooManyInCall = 81014 // 单次添加user或party过多
)

func init() {
	for _, api := range []string{apiTagUpdate, apiTagDelete, apiTagGet, apiTagAddUsers, apiTagDelUsers} {
		notFoundCodes[api] = []int{ErrCodeInvalidTagID}
	}
	// A repeated tag/create (a lost reply) is refused for its name; the caller then finds the
	// tag by name. A taken tagid is 40068, which is not "already exists": it may be another tag.
	alreadyExistsCodes[apiTagCreate] = []int{ErrCodeTagNameExists}
	for code, m := range map[int]string{
		ErrCodeInvalidTagID:     "invalid tagid",
		ErrCodeTagAllInvalid:    "every member given is invalid",
		ErrCodeTagNameExists:    "tag name exists",
		ErrCodeTagNameLength:    "invalid tag name length",
		ErrCodeTagCountLimit:    "too many tags in the corp",
		ErrCodeMissingTagID:     "tagid missing",
		ErrCodeMissingTagName:   "tag name missing",
		ErrCodeTagMembersLimit:  "too many members in the tag",
		ErrCodeTagNotOwned:      "no permission for the tag",
		ErrCodeTagTooManyInCall: "too many users or departments in one call",
	} {
		meanings[code] = m
	}
	for code, h := range map[int]string{
		ErrCodeInvalidTagID:     "The tag does not exist.",
		ErrCodeTagAllInvalid:    "None of the members or departments given is valid for the app: check the userids and department ids, and the app's visible range.",
		ErrCodeTagNameExists:    "Another tag already has this name: tag names are unique in the corp.",
		ErrCodeTagNameLength:    "Tag names are 1–32 characters.",
		ErrCodeTagCountLimit:    "A corp has at most 3000 tags: delete tags it no longer needs.",
		ErrCodeTagMembersLimit:  "A tag holds at most 30,000 members and departments.",
		ErrCodeTagNotOwned:      "The tag belongs to another app: only the app whose secret created a tag may rename it, change its members or delete it. Use a connection with that app's secret, or let this connection create its own tag.",
		ErrCodeTagTooManyInCall: "At most 1000 users and 100 departments per call: split the call.",
	} {
		hints[code] = h
	}
}

// IsTagNotOwned reports whether a tag write was refused because another app created the tag
// (81011).
func IsTagNotOwned(err error) bool { return Code(err) == ErrCodeTagNotOwned }

// Tag is a tag as tag/get returns it.
type Tag struct {
	Name string `json:"tagname"`
	// UserList holds only the members in the calling app's visible range.
	UserList  []TagUser `json:"userlist"`
	PartyList []int     `json:"partylist"`
}

// TagUser is an item of tag/get's userlist.
type TagUser struct {
	UserID string `json:"userid"`
	Name   string `json:"name,omitempty"`
}

// TagSummary is an item of tag/list.
type TagSummary struct {
	ID   int    `json:"tagid"`
	Name string `json:"tagname"`
}

// TagMembersResult lists what addtagusers or deltagusers left out while applying the rest
// (errcode 0): userids that do not exist or are outside the app's visible range, and such
// departments.
type TagMembersResult struct {
	InvalidUsers   []string
	InvalidParties []int
}

// CreateTag creates a tag and returns its id (POST tag/create). id 0 lets WeCom choose (the
// largest id plus one); a chosen id must be free.
func (c *Client) CreateTag(ctx context.Context, name string, id int) (int, error) {
	req := struct {
		TagName string `json:"tagname"`
		TagID   int    `json:"tagid,omitempty"`
	}{name, id}
	var resp struct {
		TagID int `json:"tagid"`
	}
	if err := c.call(ctx, epTagCreate, nil, req, &resp); err != nil {
		return 0, err
	}
	if resp.TagID == 0 {
		resp.TagID = id
	}
	return resp.TagID, nil
}

// UpdateTag renames a tag (POST tag/update); owner only.
func (c *Client) UpdateTag(ctx context.Context, id int, name string) error {
	req := struct {
		TagID   int    `json:"tagid"`
		TagName string `json:"tagname"`
	}{id, name}
	return c.call(ctx, epTagUpdate, nil, req, nil)
}

// DeleteTag deletes a tag, members or not (GET tag/delete?tagid=); owner only.
func (c *Client) DeleteTag(ctx context.Context, id int) error {
	return c.call(ctx, epTagDelete, tagQuery(id), nil, nil)
}

// GetTag returns a tag's name and members (GET tag/get?tagid=).
func (c *Client) GetTag(ctx context.Context, id int) (*Tag, error) {
	var resp Tag
	if err := c.call(ctx, epTagGet, tagQuery(id), nil, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// ListTags returns every tag of the corp (GET tag/list).
func (c *Client) ListTags(ctx context.Context) ([]TagSummary, error) {
	var resp struct {
		TagList []TagSummary `json:"taglist"`
	}
	if err := c.call(ctx, epTagList, nil, nil, &resp); err != nil {
		return nil, err
	}
	return resp.TagList, nil
}

// AddTagUsers adds members and departments to a tag (POST tag/addtagusers); owner only. Some
// invalid ones do not fail the call: they are returned. All invalid is ErrCodeTagAllInvalid.
func (c *Client) AddTagUsers(ctx context.Context, id int, users []string, parties []int) (*TagMembersResult, error) {
	return c.tagMembers(ctx, epTagAddUsers, id, users, parties)
}

// DeleteTagUsers removes members and departments from a tag (POST tag/deltagusers); owner
// only. All invalid is ErrCodeInvalidUserIDList (40031), not 40070.
func (c *Client) DeleteTagUsers(ctx context.Context, id int, users []string, parties []int) (*TagMembersResult, error) {
	return c.tagMembers(ctx, epTagDelUsers, id, users, parties)
}

func (c *Client) tagMembers(ctx context.Context, ep endpoint, id int, users []string, parties []int) (*TagMembersResult, error) {
	if len(users) == 0 && len(parties) == 0 {
		return nil, fmt.Errorf("%w: %s: no users and no departments", ErrInvalidRequest, ep.path)
	}
	if len(users) > MaxTagUsersPerCall || len(parties) > MaxTagPartiesPerCall {
		return nil, fmt.Errorf("%w: %s: at most %d users and %d departments per call, got %d and %d",
			ErrInvalidRequest, ep.path, MaxTagUsersPerCall, MaxTagPartiesPerCall, len(users), len(parties))
	}
	req := struct {
		TagID     int      `json:"tagid"`
		UserList  []string `json:"userlist,omitempty"`
		PartyList []int    `json:"partylist,omitempty"`
	}{id, users, parties}
	var resp struct {
		InvalidList  string `json:"invalidlist"`
		InvalidParty []int  `json:"invalidparty"`
	}
	if err := c.call(ctx, ep, nil, req, &resp); err != nil {
		return nil, err
	}
	return &TagMembersResult{InvalidUsers: splitPipe(resp.InvalidList), InvalidParties: resp.InvalidParty}, nil
}

func tagQuery(id int) url.Values { return url.Values{"tagid": {strconv.Itoa(id)}} }
