package wecom

import (
	"context"
	"net/url"
	"time"
)

// Customer succession of members in service (客户联系 → 在职继承): a member's customers and the
// customer group chats they own are handed to another member before the member leaves. Every
// call needs a secret with customer-contact permission (客户联系 → 可调用接口的应用).
type Succession interface {
	ListCustomers(ctx context.Context, userID string) ([]string, error)
	TransferCustomers(ctx context.Context, req TransferCustomersRequest) ([]CustomerTransferResult, error)
	TransferResult(ctx context.Context, handover, takeover, cursor string) (*TransferResultPage, error)
	ListGroupChats(ctx context.Context, req GroupChatListRequest) (*GroupChatPage, error)
	TransferGroupChats(ctx context.Context, chatIDs []string, newOwner string) ([]FailedChat, error)
}

// Limits of the succession endpoints (DOC-92125, 94088, 92120, 95703).
const (
	// MaxTransferCustomers is how many customers one transfer_customer call hands over.
	MaxTransferCustomers = 100
	// MaxTransferGroupChats is how many chats one groupchat/onjob_transfer call hands over.
	MaxTransferGroupChats = 100
	// MaxGroupChatListLimit is the largest page of groupchat/list.
	MaxGroupChatListLimit = 1000
	// TransferWindow is WeCom's wait before a started customer handover completes.
	TransferWindow = 24 * time.Hour
)

// Statuses of a customer handover in transfer_result.
const (
	TransferDone         = 1 // 接替完毕
	TransferWaiting      = 2 // 等待接替
	TransferRefused      = 3 // 客户拒绝
	TransferTakeoverFull = 4 // 接替成员客户达到上限
)

// TransferCustomersRequest is the body of externalcontact/transfer_customer.
type TransferCustomersRequest struct {
	Handover string `json:"handover_userid"`
	Takeover string `json:"takeover_userid"`
	// ExternalUserIDs are at most MaxTransferCustomers customers of Handover.
	ExternalUserIDs []string `json:"external_userid"`
	// SuccessMsg is sent to each customer once handed over: at most 200 characters; empty
	// uses WeCom's default text.
	SuccessMsg string `json:"transfer_success_msg,omitempty"`
}

// CustomerTransferResult is one customer's errcode in transfer_customer's reply: 0 means
// the handover started (it completes after TransferWindow), not that it is done.
type CustomerTransferResult struct {
	ExternalUserID string `json:"external_userid"`
	ErrCode        int    `json:"errcode"`
}

// CustomerTransferStatus is one customer in transfer_result.
type CustomerTransferStatus struct {
	ExternalUserID string `json:"external_userid"`
	// Status is a Transfer* constant.
	Status int `json:"status"`
	// TakeoverTime is when the handover completed, or for a waiting one when it will; unix
	// seconds, 0 when none.
	TakeoverTime int64 `json:"takeover_time"`
}

// TransferResultPage is one page of transfer_result; NextCursor is empty on the last.
type TransferResultPage struct {
	Customers  []CustomerTransferStatus `json:"customer"`
	NextCursor string                   `json:"next_cursor"`
}

// GroupChatListRequest selects customer group chats (externalcontact/groupchat/list).
type GroupChatListRequest struct {
	// StatusFilter: 0 all (the default), 1 owner left and not yet inherited, 2 inheriting,
	// 3 inherited.
	StatusFilter int
	// Owners are the owners' userids; WeCom answers 81017 for a visible range above 1000
	// members when none is given.
	Owners []string
	Cursor string
	// Limit is 1–MaxGroupChatListLimit; 0 asks for the largest page.
	Limit int
}

// GroupChatPage is one page of groupchat/list; NextCursor is empty on the last.
type GroupChatPage struct {
	Chats      []GroupChatSummary `json:"group_chat_list"`
	NextCursor string             `json:"next_cursor"`
}

// GroupChatSummary is one chat of groupchat/list.
type GroupChatSummary struct {
	ChatID string `json:"chat_id"`
	Status int    `json:"status"`
}

// FailedChat is a chat groupchat/onjob_transfer did not hand over.
type FailedChat struct {
	ChatID  string `json:"chat_id"`
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// ErrCodeChatOwnerSame (90504, 群主没变) in FailedChat means the chat already has that owner:
// a repeated handover that the first attempt completed.
const ErrCodeChatOwnerSame = 90504

// ListCustomers returns the external_userids of the member's customers (GET
// externalcontact/list). A member without customers is an empty list: WeCom answers 84061
// (不存在外部联系人的关系) for it.
func (c *Client) ListCustomers(ctx context.Context, userID string) ([]string, error) {
	var resp struct {
		ExternalUserID []string `json:"external_userid"`
	}
	err := c.call(ctx, epExternalList, url.Values{"userid": {userID}}, nil, &resp)
	if Code(err) == ErrCodeNoExternalRelation {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return resp.ExternalUserID, nil
}

// TransferCustomers starts handing customers of one member over to another (POST
// externalcontact/transfer_customer). Each customer has its own errcode; a retried call whose
// first attempt was applied gets 40129 (the handover is in progress) for each.
func (c *Client) TransferCustomers(ctx context.Context, req TransferCustomersRequest) ([]CustomerTransferResult, error) {
	var resp struct {
		Customer []CustomerTransferResult `json:"customer"`
	}
	if err := c.call(ctx, epTransferCustomer, nil, req, &resp); err != nil {
		return nil, err
	}
	return resp.Customer, nil
}

// TransferResult returns one page of the handovers from handover to takeover (POST
// externalcontact/transfer_result); start with an empty cursor.
func (c *Client) TransferResult(ctx context.Context, handover, takeover, cursor string) (*TransferResultPage, error) {
	req := struct {
		Handover string `json:"handover_userid"`
		Takeover string `json:"takeover_userid"`
		Cursor   string `json:"cursor,omitempty"`
	}{handover, takeover, cursor}
	var page TransferResultPage
	if err := c.call(ctx, epTransferResult, nil, req, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// ListGroupChats returns one page of customer group chats (POST externalcontact/groupchat/list).
func (c *Client) ListGroupChats(ctx context.Context, r GroupChatListRequest) (*GroupChatPage, error) {
	type ownerFilter struct {
		UserIDList []string `json:"userid_list"`
	}
	req := struct {
		StatusFilter int          `json:"status_filter,omitempty"`
		OwnerFilter  *ownerFilter `json:"owner_filter,omitempty"`
		Cursor       string       `json:"cursor,omitempty"`
		Limit        int          `json:"limit"`
	}{StatusFilter: r.StatusFilter, Cursor: r.Cursor, Limit: r.Limit}
	if req.Limit <= 0 || req.Limit > MaxGroupChatListLimit {
		req.Limit = MaxGroupChatListLimit
	}
	if len(r.Owners) > 0 {
		req.OwnerFilter = &ownerFilter{UserIDList: r.Owners}
	}
	var page GroupChatPage
	if err := c.call(ctx, epGroupChatList, nil, req, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// TransferGroupChats makes newOwner the owner of at most MaxTransferGroupChats customer group
// chats of a member in service (POST externalcontact/groupchat/onjob_transfer). Chats WeCom
// did not hand over are returned; the others have their new owner at once.
func (c *Client) TransferGroupChats(ctx context.Context, chatIDs []string, newOwner string) ([]FailedChat, error) {
	req := struct {
		ChatIDList []string `json:"chat_id_list"`
		NewOwner   string   `json:"new_owner"`
	}{chatIDs, newOwner}
	var resp struct {
		FailedChatList []FailedChat `json:"failed_chat_list"`
	}
	if err := c.call(ctx, epGroupChatOnjobTransfer, nil, req, &resp); err != nil {
		return nil, err
	}
	return resp.FailedChatList, nil
}
