package wecom_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// TestSimCustomerSuccession hands a member's customers and customer group chats over to
// another member through the simulator: per-customer errcodes, waiting handovers that
// complete after 24 h on the simulator clock, a customer who refuses, the 90-day rule, and
// group chats whose owner changes at once.
func TestSimCustomerSuccession(t *testing.T) {
	env := newSim(t, func(_ *wecomsim.Options, s *wecomsim.Seed) {
		s.ExternalContacts = []wecomsim.ExternalContact{
			{ExternalUserID: "wmA", UserID: "zhangsan"}, {ExternalUserID: "wmB", UserID: "zhangsan"},
			{ExternalUserID: "wmC", UserID: "zhangsan", TransferOutcome: wecom.TransferRefused},
			{ExternalUserID: "wmD", UserID: "wangwu"},
		}
		s.CustomerGroupChats = []wecomsim.CustomerGroupChat{{ChatID: "wrG1", Owner: "zhangsan"}, {ChatID: "wrG2", Owner: "zhangsan"}, {ChatID: "wrG3", Owner: "wangwu"}}
	})
	app := env.app(t)
	ctx := context.Background()

	if got := must(app.ListCustomers(ctx, "zhangsan"))(t); !cmp.Equal(got, []string{"wmA", "wmB", "wmC"}) {
		t.Fatalf("customers of zhangsan: %v", got)
	}
	if got := must(app.ListCustomers(ctx, "zhaoliu"))(t); len(got) != 0 {
		t.Fatalf("a member without customers (84061) is an empty list, got %v", got)
	}
	_, err := env.contacts(t).ListCustomers(ctx, "zhangsan")
	wantCode(t, err, wecom.ErrCodeNoAPIPermission, "externalcontact/list")

	res := must(app.TransferCustomers(ctx, wecom.TransferCustomersRequest{Handover: "zhangsan", Takeover: "lisi",
		ExternalUserIDs: []string{"wmA", "wmB", "wmC", "wmD", "wmX"}, SuccessMsg: "李四接替我"}))(t)
	want := []wecom.CustomerTransferResult{{"wmA", 0}, {"wmB", 0}, {"wmC", 0}, {"wmD", wecom.ErrCodeNoExternalRelation}, {"wmX", wecom.ErrCodeInvalidExternalUserID}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("transfer_customer (-want +got):\n%s", diff)
	}
	again := must(app.TransferCustomers(ctx, wecom.TransferCustomersRequest{Handover: "zhangsan", Takeover: "lisi", ExternalUserIDs: []string{"wmA"}}))(t)
	if again[0].ErrCode != wecom.ErrCodeTransferInProgress {
		t.Fatalf("a second handover while waiting: %+v, want 40129", again)
	}
	_, err = app.TransferCustomers(ctx, wecom.TransferCustomersRequest{Handover: "zhangsan", Takeover: "newbie", ExternalUserIDs: []string{"wmB"}})
	if wecom.Code(err) == 0 {
		t.Fatal("a handover to a member who does not exist succeeded")
	}

	page := must(app.TransferResult(ctx, "zhangsan", "lisi", ""))(t)
	if len(page.Customers) != 3 || page.NextCursor != "" {
		t.Fatalf("transfer_result: %+v", page)
	}
	for _, c := range page.Customers {
		if c.Status != wecom.TransferWaiting || c.TakeoverTime != simStart.Add(24*time.Hour).Unix() {
			t.Fatalf("%s: status %d at %d, want waiting until %d", c.ExternalUserID, c.Status, c.TakeoverTime, simStart.Add(24*time.Hour).Unix())
		}
	}

	env.srv.Advance(24 * time.Hour)
	page = must(app.TransferResult(ctx, "zhangsan", "lisi", ""))(t)
	got := map[string]int{}
	for _, c := range page.Customers {
		got[c.ExternalUserID] = c.Status
	}
	if diff := cmp.Diff(map[string]int{"wmA": wecom.TransferDone, "wmB": wecom.TransferDone, "wmC": wecom.TransferRefused}, got); diff != "" {
		t.Fatalf("after 24 h (-want +got):\n%s", diff)
	}
	if got := must(app.ListCustomers(ctx, "lisi"))(t); !cmp.Equal(got, []string{"wmA", "wmB"}) {
		t.Fatalf("customers of lisi: %v", got)
	}
	if got := must(app.ListCustomers(ctx, "zhangsan"))(t); !cmp.Equal(got, []string{"wmC"}) {
		t.Fatalf("the customer who refused stays: %v", got)
	}

	By := func(from, to string) {
		t.Helper()
		r := must(app.TransferCustomers(ctx, wecom.TransferCustomersRequest{Handover: from, Takeover: to, ExternalUserIDs: []string{"wmA"}}))(t)
		if r[0].ErrCode != 0 {
			t.Fatalf("%s → %s: %+v", from, to, r)
		}
		env.srv.Advance(24 * time.Hour)
		_ = must(app.TransferResult(ctx, from, to, ""))(t)
	}
	By("lisi", "wangwu")
	r := must(app.TransferCustomers(ctx, wecom.TransferCustomersRequest{Handover: "wangwu", Takeover: "lisi", ExternalUserIDs: []string{"wmA"}}))(t)
	if r[0].ErrCode != wecom.ErrCodeTransferTooOften {
		t.Fatalf("a third handover within 90 days: %+v, want 40128", r)
	}

	chats := must(app.ListGroupChats(ctx, wecom.GroupChatListRequest{Owners: []string{"zhangsan"}, Limit: 1}))(t)
	if len(chats.Chats) != 1 || chats.Chats[0].ChatID != "wrG1" || chats.NextCursor == "" {
		t.Fatalf("first page: %+v", chats)
	}
	chats = must(app.ListGroupChats(ctx, wecom.GroupChatListRequest{Owners: []string{"zhangsan"}, Cursor: chats.NextCursor, Limit: 1}))(t)
	if len(chats.Chats) != 1 || chats.Chats[0].ChatID != "wrG2" || chats.NextCursor != "" {
		t.Fatalf("last page: %+v", chats)
	}
	failed := must(app.TransferGroupChats(ctx, []string{"wrG1", "wrG2", "wrG3", "wrNope"}, "wangwu"))(t)
	wantFailed := []wecom.FailedChat{{"wrG3", wecom.ErrCodeChatOwnerSame, "the owner of this chat is not changed"}, {"wrNope", 90501, "not a customer group chat"}}
	if diff := cmp.Diff(wantFailed, failed); diff != "" {
		t.Fatalf("onjob_transfer (-want +got):\n%s", diff)
	}
	if left := must(app.ListGroupChats(ctx, wecom.GroupChatListRequest{Owners: []string{"zhangsan"}}))(t); len(left.Chats) != 0 {
		t.Fatalf("zhangsan still owns %+v", left.Chats)
	}
	_, err = app.TransferGroupChats(ctx, make([]string, 101), "wangwu")
	wantCode(t, err, 81017, "externalcontact/groupchat/onjob_transfer")
}
