package wecom

import "context"

// The golden cases of §11 customer corp tags and of group welcome templates
// (testdata/golden/corptag_*.json, group_welcome_template_*.json), run by TestGolden.
func init() {
	goldenCases = append(goldenCases,
		goldenCase{"corptag_list", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.ListCorpTags(ctx, nil, []string{"etXXXXXXXXXX"})
		}, []CorpTagGroup{{GroupID: "etXXXXXXXXXX", GroupName: "客户等级", CreateTime: 1557838797, Order: 1,
			Tags: []CorpTag{{ID: "etYYYYYYYYYY", Name: "一般", CreateTime: 1557838797, Order: 1}}}}},
		goldenCase{"corptag_add", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.AddCorpTags(ctx, AddCorpTagRequest{GroupName: "客户等级", Order: 1, Tags: []NewCorpTag{{Name: "一般", Order: 1}, {Name: "重要"}}})
		}, &CorpTagGroup{GroupID: "etXXXXXXXXXX", GroupName: "客户等级", CreateTime: 1557838797, Order: 1,
			Tags: []CorpTag{{ID: "etYYYYYYYYYY", Name: "一般", CreateTime: 1557838797, Order: 1}, {ID: "etZZZZZZZZZZ", Name: "重要", CreateTime: 1557838797}}}},
		goldenCase{"corptag_add_to_group", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.AddCorpTags(ctx, AddCorpTagRequest{GroupID: "etXXXXXXXXXX", Tags: []NewCorpTag{{Name: "VIP", Order: 9}}})
		}, &CorpTagGroup{GroupID: "etXXXXXXXXXX", GroupName: "客户等级", CreateTime: 1557838797, Order: 1,
			Tags: []CorpTag{{ID: "etVVVVVVVVVV", Name: "VIP", CreateTime: 1557838900, Order: 9}}}},
		goldenCase{"corptag_edit", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			name, order := "NEW_TAG_NAME", uint32(1)
			return nil, c.EditCorpTag(ctx, EditCorpTagRequest{ID: "etYYYYYYYYYY", Name: &name, Order: &order})
		}, nil},
		goldenCase{"corptag_del", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.DeleteCorpTags(ctx, []string{"TAG_ID_1", "TAG_ID_2"}, []string{"GROUP_ID_1"})
		}, nil},
		goldenCase{"group_welcome_template_add", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.AddGroupWelcomeTemplate(ctx, GroupWelcomeTemplate{
				Text: &WelcomeText{Content: "亲爱的%NICKNAME%用户，你好"},
				Link: &WelcomeLink{Title: "消息标题", PicURL: "https://example.pic.com/path", Desc: "消息描述", URL: "https://example.link.com/path"},
			}, true)
		}, "msgXXXXXXX"},
		goldenCase{"group_welcome_template_edit", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.EditGroupWelcomeTemplate(ctx, "msgXXXXXXX", GroupWelcomeTemplate{
				Text:        &WelcomeText{Content: "亲爱的%NICKNAME%用户，你好"},
				MiniProgram: &WelcomeMiniProgram{Title: "消息标题", PicMediaID: "MEDIA_ID", AppID: "wx8bd80126147dfAAA", Page: "/path/index"},
			})
		}, nil},
		goldenCase{"group_welcome_template_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.GetGroupWelcomeTemplate(ctx, "msgXXXXXXX")
		}, &GroupWelcomeTemplate{Text: &WelcomeText{Content: "亲爱的%NICKNAME%用户，你好"}, Image: &WelcomeImage{PicURL: "http://p.qpic.cn/pic_wework/3474110808/7a6344sdadfwehe42060/0"}}},
		goldenCase{"group_welcome_template_del", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.DeleteGroupWelcomeTemplate(ctx, "msgXXXXXXX")
		}, nil},
	)
}
