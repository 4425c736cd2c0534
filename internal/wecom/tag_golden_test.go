package wecom

import "context"

// The golden cases of §10 tags (testdata/golden/tag_*.json), run by TestGolden.
func init() {
	goldenCases = append(goldenCases,
		goldenCase{"tag_create", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.CreateTag(ctx, "UI", 12)
		}, 12},
		goldenCase{"tag_create_auto", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.CreateTag(ctx, "乒乓球协会", 0)
		}, 13},
		goldenCase{"tag_update", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.UpdateTag(ctx, 12, "UI design")
		}, nil},
		goldenCase{"tag_delete", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.DeleteTag(ctx, 12)
		}, nil},
		goldenCase{"tag_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.GetTag(ctx, 12)
		}, &Tag{Name: "乒乓球协会", UserList: []TagUser{{UserID: "zhangsan", Name: "李四"}}, PartyList: []int{2}}},
		goldenCase{"tag_addtagusers", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.AddTagUsers(ctx, 12, []string{"user1", "user2"}, []int{4})
		}, &TagMembersResult{InvalidUsers: []string{"usr1", "usr2", "usr"}, InvalidParties: []int{2, 4}}},
		goldenCase{"tag_deltagusers", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.DeleteTagUsers(ctx, 12, nil, []int{2, 4})
		}, &TagMembersResult{InvalidParties: []int{4}}},
		goldenCase{"tag_list", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.ListTags(ctx)
		}, []TagSummary{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}}},
	)
}
