package wecom

import "context"

// The golden cases of §12 apps and menus (testdata/golden/agent_*.json, menu_*.json), run by
// TestGolden.
func init() {
	goldenCases = append(goldenCases,
		goldenCase{"agent_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.GetAgent(ctx, 1000005)
		}, &Agent{
			AgentID: 1000005, Name: "HR助手", SquareLogoURL: "https://p.qlogo.cn/bizmail/FicwmI50icF8GH9ib7rUAYR5kicLTgP265naVFQKnleqSlRhiaBx7QA9u7Q/0",
			Description: "HR服务与员工自助平台", RedirectDomain: "open.work.weixin.qq.com", HomeURL: "https://open.work.weixin.qq.com",
		}},
		goldenCase{"agent_list", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.ListAgents(ctx)
		}, []AgentSummary{{AgentID: 1000005, Name: "HR助手", SquareLogoURL: "https://p.qlogo.cn/bizmail/x/0"}}},
		goldenCase{"agent_set", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.SetAgent(ctx, 1000005, AgentSettings{
				Name: Ptr("NAME"), Description: Ptr("DESC"), RedirectDomain: Ptr("xxxxxx"), LogoMediaID: Ptr("xxxxx"),
				HomeURL: Ptr("https://open.work.weixin.qq.com"), ReportLocation: Ptr(false), ReportEnter: Ptr(true),
			})
		}, nil},
		goldenCase{"agent_set_partial", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.SetAgent(ctx, 1000005, AgentSettings{Description: Ptr("HR服务与员工自助平台")})
		}, nil},
		goldenCase{"menu_create", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.CreateMenu(ctx, 1000005, []MenuButton{
				{Type: "click", Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"},
				{Name: "菜单", SubButtons: []MenuButton{
					{Type: "view", Name: "搜索", URL: "http://www.soso.com/"},
					{Type: "view_miniprogram", Name: "小程序", PagePath: "pages/lunar/index", AppID: "wx4389ji4kAAA"},
				}},
			})
		}, nil},
		goldenCase{"menu_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.GetMenu(ctx, 1000005)
		}, []MenuButton{
			{Type: "click", Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"},
			{Name: "菜单", SubButtons: []MenuButton{{Type: "view", Name: "搜索", URL: "http://www.soso.com/"}}},
		}},
		goldenCase{"menu_get_none", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.GetMenu(ctx, 1000005)
		}, []MenuButton(nil)},
		goldenCase{"menu_delete", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return nil, c.DeleteMenu(ctx, 1000005)
		}, nil},
	)
}
