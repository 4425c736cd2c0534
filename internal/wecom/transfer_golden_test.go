package wecom

import "context"

// The golden cases of customer succession (testdata/golden/externalcontact_list.json,
// transfer_*.json, groupchat_*.json), run by TestGolden.
func init() {
	goldenCases = append(goldenCases,
		goldenCase{"externalcontact_list", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.ListCustomers(ctx, "zhangsan")
		}, []string{"woAJ2GCAAAXtWyujaWJHDDGi0mACAAA", "wmqfasd1e1927831291723123109rAAA"}},
		goldenCase{"transfer_customer", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.TransferCustomers(ctx, TransferCustomersRequest{Handover: "zhangsan", Takeover: "lisi",
				ExternalUserIDs: []string{"woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", "woAJ2GCAAAXtWyujaWJHDDGi0mACBBBB"},
				SuccessMsg:      "您好，您的服务已升级，后续将由我的同事李四@腾讯接替我的工作，继续为您服务。"})
		}, []CustomerTransferResult{{"woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", 40096}, {"woAJ2GCAAAXtWyujaWJHDDGi0mACBBBB", 0}}},
		goldenCase{"transfer_result", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.TransferResult(ctx, "zhangsan", "lisi", "CURSOR")
		}, &TransferResultPage{Customers: []CustomerTransferStatus{
			{"woAJ2GCAAAXtWyujaWJHDDGi0mACCCC", TransferDone, 1588262400},
			{"woAJ2GCAAAXtWyujaWJHDDGi0mACBBBB", TransferWaiting, 1588482400},
			{"woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA", TransferRefused, 0},
		}, NextCursor: "NEXT_CURSOR"}},
		goldenCase{"groupchat_list", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.ListGroupChats(ctx, GroupChatListRequest{Owners: []string{"abel"}, Cursor: "r9FqSqsI8fgNbHLHE5QoCP50UIg2cFQbfma3l2QsmwI", Limit: 10})
		}, &GroupChatPage{Chats: []GroupChatSummary{{"wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA", 0}, {"wrOgQhDgAAcwMTB7YmDkbeBsAAAA", 0}},
			NextCursor: "tJzlB9tdqfh-g7i_J-ehOz_TWcd7dSKa39_AqCIeMFw"}},
		goldenCase{"groupchat_onjob_transfer", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.TransferGroupChats(ctx, []string{"wrOgQhDgAAcwMTB7YmDkbeBsgT_AAAA", "wrOgQhDgAAMYQiS5ol9G7gK9JVQUAAAA"}, "zhangsan")
		}, []FailedChat{{"wrOgQhDgAAcwMTB7YmDkbeBsgT_KAAAA", 90504, "the owner of this chat is not changed"}}},
	)
}
