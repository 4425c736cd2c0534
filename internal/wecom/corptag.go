package wecom

import (
	"context"
	"fmt"
)

// CorpTags manages customer corp tags (§11, 客户联系 → 企业客户标签): groups of tags that
// members put on their customers. The app must be listed under 客户联系 → 可调用接口的应用
// (48002 otherwise) and may edit and delete only the tags it created.
type CorpTags interface {
	ListCorpTags(ctx context.Context, tagIDs, groupIDs []string) ([]CorpTagGroup, error)
	AddCorpTags(ctx context.Context, req AddCorpTagRequest) (*CorpTagGroup, error)
	EditCorpTag(ctx context.Context, req EditCorpTagRequest) error
	DeleteCorpTags(ctx context.Context, tagIDs, groupIDs []string) error
}

// Limits of customer corp tags (§11).
const (
	// MaxCorpTagNameLength is the longest group or tag name, in characters.
	MaxCorpTagNameLength = 30
)

// Errcodes of the corp tag endpoints beyond the member tags' (§11).
const (
	ErrCodeNoCustomerContact = 84074 // 没有外部联系人权限
)

func init() {
	// An edit or delete of an id that is gone: the tag or group was deleted.
	for _, api := range []string{apiEditCorpTag, apiDelCorpTag} {
		notFoundCodes[api] = []int{ErrCodeInvalidTagID}
	}
	// add_corp_tag repeated after a lost reply adds to the group of that name and is refused
	// for the tag names it already has: the caller then finds the group by name.
	alreadyExistsCodes[apiAddCorpTag] = []int{ErrCodeTagNameExists}
	// "应用仅能编辑和删除本应用创建的标签": the errcode is unconfirmed, 301002 per the reference.
	for _, api := range []string{apiEditCorpTag, apiDelCorpTag} {
		apiHints[api] = map[int]string{ErrCodeAgentNotOwned: "The customer tag or group was made by another app: an app edits and deletes only the customer tags it made. Use a connection with that app's secret, or manage a group of its own."}
	}
	meanings[ErrCodeNoCustomerContact] = "no customer contact permission"
	hints[ErrCodeNoCustomerContact] = "The app has no customer-contact permission: add it under 客户联系 → 可调用接口的应用 in the admin console."
}

// CorpTagGroup is a tag group as get_corp_tag_list and add_corp_tag return it. A larger
// Order sorts first in WeCom's clients.
type CorpTagGroup struct {
	GroupID    string    `json:"group_id"`
	GroupName  string    `json:"group_name"`
	CreateTime int64     `json:"create_time"`
	Order      uint32    `json:"order"`
	Deleted    bool      `json:"deleted,omitempty"`
	Tags       []CorpTag `json:"tag"`
}

// CorpTag is one tag of a group.
type CorpTag struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	CreateTime int64  `json:"create_time"`
	Order      uint32 `json:"order"`
	Deleted    bool   `json:"deleted,omitempty"`
}

// AddCorpTagRequest is the body of add_corp_tag. With GroupID the tags go into that group
// (GroupName and Order are then ignored); otherwise into the group named GroupName, which is
// made (with Order) when there is none. Tags must not be empty.
type AddCorpTagRequest struct {
	GroupID   string       `json:"group_id,omitempty"`
	GroupName string       `json:"group_name,omitempty"`
	Order     uint32       `json:"order,omitempty"`
	Tags      []NewCorpTag `json:"tag"`
}

// NewCorpTag is a tag to add: Name ≤30 characters.
type NewCorpTag struct {
	Name  string `json:"name"`
	Order uint32 `json:"order,omitempty"`
}

// EditCorpTagRequest renames or reorders a tag or a group (ID is either); nil leaves a field.
type EditCorpTagRequest struct {
	ID    string  `json:"id"`
	Name  *string `json:"name,omitempty"`
	Order *uint32 `json:"order,omitempty"`
}

type corpTagIDs struct {
	TagID   []string `json:"tag_id,omitempty"`
	GroupID []string `json:"group_id,omitempty"`
}

// ListCorpTags returns tag groups (POST get_corp_tag_list): all of them when both filters
// are empty, those of groupIDs when given (tagIDs is then ignored by WeCom), else the groups
// of tagIDs with only those tags.
func (c *Client) ListCorpTags(ctx context.Context, tagIDs, groupIDs []string) ([]CorpTagGroup, error) {
	var resp struct {
		TagGroup []CorpTagGroup `json:"tag_group"`
	}
	if err := c.call(ctx, epGetCorpTagList, nil, corpTagIDs{tagIDs, groupIDs}, &resp); err != nil {
		return nil, err
	}
	return resp.TagGroup, nil
}

// AddCorpTags adds tags, and the group when it is new (POST add_corp_tag), and returns the
// group with the tags this call made.
func (c *Client) AddCorpTags(ctx context.Context, req AddCorpTagRequest) (*CorpTagGroup, error) {
	if len(req.Tags) == 0 || (req.GroupID == "" && req.GroupName == "") {
		return nil, fmt.Errorf("%w: %s needs tags and a group_id or group_name", ErrInvalidRequest, apiAddCorpTag)
	}
	var resp struct {
		TagGroup CorpTagGroup `json:"tag_group"`
	}
	if err := c.call(ctx, epAddCorpTag, nil, req, &resp); err != nil {
		return nil, err
	}
	return &resp.TagGroup, nil
}

// EditCorpTag renames or reorders a tag or a group (POST edit_corp_tag).
func (c *Client) EditCorpTag(ctx context.Context, req EditCorpTagRequest) error {
	if req.ID == "" {
		return fmt.Errorf("%w: %s needs an id", ErrInvalidRequest, apiEditCorpTag)
	}
	return c.call(ctx, epEditCorpTag, nil, req, nil)
}

// DeleteCorpTags deletes tags and groups (POST del_corp_tag): a group goes with its tags, and
// a group whose last tag goes is deleted too.
func (c *Client) DeleteCorpTags(ctx context.Context, tagIDs, groupIDs []string) error {
	if len(tagIDs) == 0 && len(groupIDs) == 0 {
		return fmt.Errorf("%w: %s needs a tag_id or group_id", ErrInvalidRequest, apiDelCorpTag)
	}
	return c.call(ctx, epDelCorpTag, nil, corpTagIDs{tagIDs, groupIDs}, nil)
}
