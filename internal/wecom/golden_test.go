package wecom

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The golden files in testdata/golden were written by hand from the reference
// (/work/shared/reference/wecom-api.md), not generated from this client: each holds the exact
// method, path, query parameters and JSON body a call must send, and a reply from the
// reference whose decoding is checked below. If the client drifts from WeCom's field names,
// this test fails.

type goldenFile struct {
	Comment string            `json:"comment"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query"`
	Body    json.RawMessage   `json:"body"`
	Reply   json.RawMessage   `json:"reply"`
}

type goldenCase struct {
	name string
	call func(ctx context.Context, c *Client, w *WebhookClient) (any, error)
	want any // the decoded result; nil for calls that return only an error
}

const goldenKey = "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"

var goldenCases = []goldenCase{
	{"gettoken", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.CheckCredentials(ctx)
	}, nil},

	// §2 departments
	{"department_create", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.CreateDepartment(ctx, CreateDepartmentRequest{Name: "广州研发中心", NameEn: "RDGZ", ParentID: 1, Order: Ptr[uint32](1), ID: 2})
	}, 2},
	{"department_create_minimal", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.CreateDepartment(ctx, CreateDepartmentRequest{Name: "运维", ParentID: 1})
	}, 7},
	{"department_update", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.UpdateDepartment(ctx, UpdateDepartmentRequest{ID: 2, Name: Ptr("广州研发中心"), NameEn: Ptr("RDGZ"), ParentID: Ptr(1), Order: Ptr[uint32](1)})
	}, nil},
	{"department_update_partial", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.UpdateDepartment(ctx, UpdateDepartmentRequest{ID: 2, Order: Ptr[uint32](0)})
	}, nil},
	{"department_delete", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.DeleteDepartment(ctx, 2)
	}, nil},
	{"department_list", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.ListDepartments(ctx, 2)
	}, []Department{
		{ID: 2, Name: "广州研发中心", NameEn: "RDGZ", DepartmentLeader: []string{"zhangsan", "lisi"}, ParentID: 1, Order: 10},
		{ID: 3, Name: "邮箱产品部", NameEn: "mail", DepartmentLeader: []string{"lisi", "wangwu"}, ParentID: 2, Order: 40},
	}},
	{"department_list_all", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.ListDepartments(ctx, 0)
	}, []Department{{ID: 1, Name: "公司", ParentID: 0, Order: 100000000}}},
	{"department_simplelist", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SimpleListDepartments(ctx, 1)
	}, []DepartmentRef{{ID: 2, ParentID: 1, Order: 10}, {ID: 3, ParentID: 2, Order: 40}}},
	{"department_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.GetDepartment(ctx, 2)
	}, &Department{ID: 2, Name: "广州研发中心", NameEn: "RDGZ", DepartmentLeader: []string{"zhangsan", "lisi"}, ParentID: 1, Order: 10}},

	// §3 users
	{"user_create", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.CreateUser(ctx, CreateUserRequest{
			UserID: "zhangsan", Name: "张三", Mobile: "+86 13800000000", Department: []int{1, 2}, Order: []uint32{10, 40},
			IsLeaderInDept: []Flag{true, false}, DirectLeader: []string{"lisi"}, Gender: "1", Enable: Ptr(Flag(true)), ToInvite: Ptr(false),
		})
	}, &CreateUserResult{CreatedDepartments: []CreatedDepartment{{Name: "xxxx", ID: 123}}}},
	{"user_create_full", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.CreateUser(ctx, CreateUserRequest{
			UserID: "lisi", Name: "李四", Alias: "jackzhang", Email: "lisi@example.com", BizMail: "lisi@corp.example.com",
			Position: "产品经理", Telephone: "020-123456", AvatarMediaID: "MEDIAID", Enable: Ptr(Flag(false)),
			ExtAttr: &ExtAttr{Attrs: []ExtAttrItem{
				{Type: 0, Name: "文本名称", Text: &ExtAttrText{Value: "文本"}},
				{Type: 1, Name: "网页名称", Web: &ExtAttrWeb{URL: "http://www.test.com", Title: "标题"}},
			}},
			ExternalProfile: json.RawMessage(`{"external_corp_name":"企业简称"}`), ExternalPosition: "高级产品经理",
			Nickname: "李四的视频号", Address: "广州市海珠区新港中路", MainDepartment: 1,
		})
	}, &CreateUserResult{}},
	{"user_update", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.UpdateUser(ctx, UpdateUserRequest{UserID: "zhangsan", Name: Ptr("李四"), Department: []int{1}, Enable: Ptr(Flag(false)), DirectLeader: []string{}})
	}, nil},
	{"user_delete", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.DeleteUser(ctx, "zhangsan")
	}, nil},
	{"user_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.GetUser(ctx, "zhangsan")
	}, &User{
		UserID: "zhangsan", Name: "张三", Department: []int{1, 2}, Order: []uint32{1, 2}, Position: "后台工程师",
		Mobile: "13800000000", Gender: "1", Email: "zhangsan@gzdev.com", BizMail: "zhangsan@qyycs2.wecom.work",
		IsLeaderInDept: []Flag{true, false}, DirectLeader: []string{"lisi"},
		Avatar:      "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0",
		ThumbAvatar: "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/100",
		Telephone:   "020-123456", Alias: "jackzhang", Address: "广州市海珠区新港中路", OpenUserID: "xxxxxx", MainDepartment: 1,
		ExtAttr: &ExtAttr{Attrs: []ExtAttrItem{{Type: 0, Name: "文本名称", Text: &ExtAttrText{Value: "文本"}}}},
		Status:  1, Enable: true, QRCode: "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=xxx", ExternalPosition: "产品经理",
	}},
	{"user_list_id", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.ListUserIDs(ctx, "xxxxxxx", 10000)
	}, &UserIDPage{NextCursor: "aaaaaaaaa", DeptUser: []DeptUser{{UserID: "zhangsan", Department: 1}, {UserID: "lisi", Department: 2}}}},
	{"user_simplelist", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SimpleListUsers(ctx, 1, true)
	}, []SimpleUser{{UserID: "zhangsan", Name: "张三", Department: []int{1, 2}, OpenUserID: "xxxxxx"}}},
	{"user_simplelist_nochild", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SimpleListUsers(ctx, 2, false)
	}, []SimpleUser{}},

	// §4 app chats
	{"appchat_create", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.CreateAppChat(ctx, CreateAppChatRequest{Name: "NAME", Owner: "userid1", UserList: []string{"userid1", "userid2", "userid3"}, ChatID: "CHATID"})
	}, "CHATID"},
	{"appchat_update", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.UpdateAppChat(ctx, UpdateAppChatRequest{ChatID: "CHATID", Name: "NAME", Owner: "userid2",
			AddUserList: []string{"userid1", "userid2", "userid3"}, DelUserList: []string{"userid3", "userid4"}})
	}, nil},
	{"appchat_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.GetAppChat(ctx, "CHATID")
	}, &AppChat{ChatID: "CHATID", Name: "NAME", Owner: "userid2", UserList: []string{"userid1", "userid2", "userid3"}}},
	{"appchat_send", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.SendAppChat(ctx, AppChatMessage{ChatID: "CHATID", Safe: 1, Text: &Text{Content: "你的快递已到\n请携带工卡前往邮件中心领取"}})
	}, nil},
	{"appchat_send_markdown", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.SendAppChat(ctx, AppChatMessage{ChatID: "CHATID", Markdown: &Markdown{Content: "您的会议室已经预定，稍后会同步到`邮箱`"}})
	}, nil},

	// §5 contact ways
	{"add_contact_way", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.AddContactWay(ctx, AddContactWayRequest{Type: ContactWaySingle, Scene: ContactWaySceneQRCode, Remark: "渠道客户", SkipVerify: Ptr(true), State: "teststate", User: []string{"zhangsan"}})
	}, &AddContactWayResult{ConfigID: "42b34949e138eb6e027c123cba77fAAA", QRCode: "https://p.qpic.cn/wwhead/nMl9ssowtibVGyrmvBiaibzDtp/0"}},
	{"add_contact_way_temp", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.AddContactWay(ctx, AddContactWayRequest{
			Type: ContactWaySingle, Scene: ContactWaySceneButton, Style: 1, Remark: "渠道客户", SkipVerify: Ptr(false), State: "teststate",
			User: []string{"zhangsan"}, IsTemp: true, ExpiresIn: 86400, ChatExpiresIn: 86400, UnionID: "oxTWIuGaIt6gTKsQRLau2M0AAAA", IsExclusive: true,
			Conclusions: &Conclusions{
				Text:        &ConclusionText{Content: "文本消息内容"},
				Image:       &ConclusionImage{MediaID: "MEDIA_ID"},
				Link:        &ConclusionLink{Title: "消息标题", PicURL: "https://example.pic.com/path", Desc: "消息描述", URL: "https://example.link.com/path"},
				MiniProgram: &ConclusionMini{Title: "消息标题", PicMediaID: "MEDIA_ID", AppID: "wx8bd80126147dfAAA", Page: "/path/index.html"},
			},
		})
	}, &AddContactWayResult{ConfigID: "42b34949e138eb6e027c123cba77fBBB"}},
	{"add_contact_way_multi", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.AddContactWay(ctx, AddContactWayRequest{Type: ContactWayMulti, Scene: ContactWaySceneQRCode, User: []string{"zhangsan", "lisi", "wangwu"}, Party: []int{2, 3}})
	}, &AddContactWayResult{ConfigID: "42b34949e138eb6e027c123cba77fCCC", QRCode: "https://p.qpic.cn/wwhead/ccc/0"}},
	{"get_contact_way", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.GetContactWay(ctx, "42b34949e138eb6e027c123cba77fAAA")
	}, &ContactWay{
		ConfigID: "42b34949e138eb6e027c123cba77fAAA", Type: 1, Scene: 1, Style: 2, Remark: "tea", SkipVerify: true, State: "teststate",
		QRCode: "http://p.qpic.cn/wwhead/duc2TvpEgSSjibPZlNR6chpx9W3dtd9Ogp8XEmSNKGa6uufMWn2239HUPuwIFoYYZ7Ph580FPvo8/0",
		User:   []string{"UserID1", "UserID2", "UserID3"}, Party: []int{1, 2}, IsTemp: true, ExpiresIn: 86400, ChatExpiresIn: 86400,
		UnionID: "oxTWIuGaIt6gTKsQRLau2M0AAAA",
		Conclusions: &Conclusions{
			Text:        &ConclusionText{Content: "文本消息内容"},
			Image:       &ConclusionImage{PicURL: "http://p.qpic.cn/pic_wework/XXXXX"},
			Link:        &ConclusionLink{Title: "消息标题", PicURL: "https://example.pic.com/path", Desc: "消息描述", URL: "https://example.link.com/path"},
			MiniProgram: &ConclusionMini{Title: "消息标题", PicMediaID: "MEDIA_ID", AppID: "wx8bd80126147dfAAA", Page: "/path/index"},
		},
	}},
	{"update_contact_way", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.UpdateContactWay(ctx, UpdateContactWayRequest{
			ConfigID: "42b34949e138eb6e027c123cba77fAAA", Remark: Ptr("渠道客户"), SkipVerify: Ptr(false), Style: Ptr(1), State: Ptr("teststate"),
			User: []string{"UserID1", "UserID2", "UserID3"}, Party: []int{2, 3}, ExpiresIn: Ptr(86400), ChatExpiresIn: Ptr(86400),
			UnionID: Ptr("oxTWIuGaIt6gTKsQRLau2M0AAAA"), Conclusions: &Conclusions{Text: &ConclusionText{Content: "文本消息内容"}},
		})
	}, nil},
	{"del_contact_way", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.DeleteContactWay(ctx, "42b34949e138eb6e027c123cba77fAAA")
	}, nil},
	{"list_contact_way", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.ListContactWays(ctx, ListContactWayRequest{StartTime: 1622476800, EndTime: 1625068800, Cursor: "CURSOR", Limit: 1000})
	}, &ContactWayPage{ConfigIDs: []string{"534b63270045c9ABiKEE814ef56d91c62f", "87bBiKEE811c62f63270041c62f5c9A4"}, NextCursor: "NEXT_CURSOR"}},

	// §6 calendars and schedules
	{"calendar_add", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.AddCalendar(ctx, Calendar{Summary: "test_summary", Color: "#FF3030", Description: "d", Shares: []CalendarShare{{UserID: "userid2", Permission: 1}}})
	}, &AddCalendarResult{CalID: "wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA", FailResult: &CalendarFailResult{Shares: []ShareFailure{{ErrCode: 40001, ErrMsg: "not found", UserID: "userid3"}}}}},
	{"calendar_add_public", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.AddCalendar(ctx, Calendar{
			Admins: []string{"admin1", "admin2"}, SetAsDefault: 1, Summary: "test_summary", Color: "#FF3030", Description: "test_describe",
			Shares: []CalendarShare{{UserID: "admin1"}, {UserID: "userid2", Permission: 3}}, IsPublic: 1,
			PublicRange: &PublicRange{UserIDs: []string{"userid1", "userid2"}, PartyIDs: []int{1, 2}}, IsCorpCalendar: 1,
		})
	}, &AddCalendarResult{CalID: "wcjgewCwAAqeJcPI1d8Pwbjt7nttzBBB"}},
	{"calendar_update", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.UpdateCalendar(ctx, Calendar{CalID: "wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA", Admins: []string{"admin1"}, Summary: "test_summary", Color: "#FF3030",
			Description: "test_describe_1", Shares: []CalendarShare{{UserID: "admin1"}, {UserID: "userid2", Permission: 1}}}, true)
	}, (*CalendarFailResult)(nil)},
	{"calendar_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.GetCalendars(ctx, []string{"wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA"})
	}, []Calendar{{
		CalID: "wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA", Admins: []string{"admin1"}, Summary: "test_summary", Color: "#FF3030", Description: "test_describe_1",
		Shares: []CalendarShare{{UserID: "userid1", Permission: 1}, {UserID: "userid2", Permission: 3}}, IsPublic: 1,
		PublicRange: &PublicRange{UserIDs: []string{"userid1"}, PartyIDs: []int{1}},
	}}},
	{"calendar_del", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.DeleteCalendar(ctx, "wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA")
	}, nil},
	{"schedule_add", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.AddSchedule(ctx, Schedule{
			StartTime: 1571274600, EndTime: 1571320210, Attendees: []Attendee{{UserID: "userid2"}}, Summary: "需求评审会议",
			Reminders: &Reminders{IsRemind: 1, RemindTimeDiffs: []int{-3600}, IsRepeat: 1, RepeatType: Ptr(1)},
			Location:  "10F", CalID: "wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA",
		})
	}, "17c7d2bd9f20d652840f72f59e796AAA"},
	{"schedule_add_custom_repeat", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.AddSchedule(ctx, Schedule{
			Admins: []string{"userid1"}, StartTime: 1571274600, EndTime: 1571320210, IsWholeDay: 1,
			Attendees: []Attendee{{UserID: "userid1"}, {UserID: "userid2"}}, Summary: "站会", Description: "每日站会", Location: "会议室",
			Reminders: &Reminders{IsRemind: 1, RemindBeforeEventSecs: Ptr(0), IsRepeat: 1, RepeatType: Ptr(0), RepeatUntil: 1606976847,
				IsCustomRepeat: 1, RepeatInterval: 1, RepeatDayOfWeek: []int{1, 2, 3, 4, 5}, RepeatDayOfMonth: []int{10}, Timezone: Ptr(0)},
		})
	}, "17c7d2bd9f20d652840f72f59e796BBB"},
	{"schedule_update", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.UpdateSchedule(ctx, UpdateScheduleRequest{SkipAttendees: 1, OpMode: OpModeThisOnly, OpStartTime: 1571274600,
			Schedule: Schedule{ScheduleID: "17c7d2bd9f20d652840f72f59e796AAA", StartTime: 1571274600, EndTime: 1571320210, Summary: "需求评审会议", Location: "10F"}})
	}, "17c7d2bd9f20d652840f72f59e796CCC"},
	{"schedule_get", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.GetSchedules(ctx, []string{"17c7d2bd9f20d652840f72f59e796AAA"})
	}, []Schedule{{
		ScheduleID: "17c7d2bd9f20d652840f72f59e796AAA", Admins: []string{"userid1"}, Attendees: []Attendee{{UserID: "userid1", ResponseStatus: 1}},
		Summary: "test_summary", Description: "test_description",
		Reminders: &Reminders{IsRemind: 1, IsRepeat: 1, RemindBeforeEventSecs: Ptr(3600), RemindTimeDiffs: []int{-3600}, RepeatType: Ptr(7),
			RepeatUntil: 1606976847, IsCustomRepeat: 1, RepeatInterval: 1, RepeatDayOfWeek: []int{3, 7}, RepeatDayOfMonth: []int{10, 21},
			Timezone: Ptr(8), ExcludeTimeList: []ExcludeTime{{StartTime: 1571361000}}},
		Location: "test_place", CalID: "wcjgewCwAAqeJcPI1d8Pwbjt7nttzAAA", StartTime: 1571274600, EndTime: 1571320210, Status: ScheduleStatusCancelled,
	}}},
	{"schedule_del", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.DeleteSchedule(ctx, DeleteScheduleRequest{ScheduleID: "17c7d2bd9f20d652840f72f59e796AAA"})
	}, nil},
	{"schedule_del_occurrence", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.DeleteSchedule(ctx, DeleteScheduleRequest{ScheduleID: "17c7d2bd9f20d652840f72f59e796AAA", OpMode: OpModeThisAndLater, OpStartTime: 1571274600})
	}, nil},

	// §7 application messages
	{"message_send_text", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SendMessage(ctx, Message{ToUser: []string{"zhangsan", "lisi"}, AgentID: 1000002, Text: &Text{Content: "服务器 CPU 超过 90%"},
			EnableDuplicateCheck: 1, DuplicateCheckInterval: 1800})
	}, &SendResult{InvalidUser: []string{"userid1", "userid2"}, InvalidParty: []string{"partyid1", "partyid2"}, InvalidTag: []string{"tagid1", "tagid2"},
		UnlicensedUser: []string{"userid3", "userid4"}, MsgID: "xxxx", ResponseCode: "xyzxyz"}},
	{"message_send_markdown", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SendMessage(ctx, Message{ToParty: []string{"PartyID1", "PartyID2"}, ToTag: []string{"TagID1", "TagID2"}, AgentID: 1, Safe: 1, EnableIDTrans: 1,
			Markdown: &Markdown{Content: "您的会议室已经预定，稍后会同步到`邮箱`\n>**事项详情**\n>事　项：<font color=\"info\">开会</font>"}})
	}, &SendResult{MsgID: "msg2"}},
	{"message_send_textcard", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SendMessage(ctx, Message{ToUser: []string{"@all"}, AgentID: 1, TextCard: &TextCard{Title: "领奖通知",
			Description: `<div class="gray">2016年9月26日</div> <div class="normal">恭喜你抽中iPhone 7一台，领奖码：xxxx</div><div class="highlight">请于2016年10月10日前联系行政同事领取</div>`,
			URL:         "https://example.com/", BtnTxt: "更多"}})
	}, &SendResult{MsgID: "msg3"}},
	{"message_send_news", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SendMessage(ctx, Message{ToUser: []string{"UserID1"}, AgentID: 1, News: &News{Articles: []Article{
			{Title: "中秋节礼品领取", Description: "今年中秋节公司有豪礼相送", URL: "https://example.com/news", PicURL: "https://res.mail.qq.com/node/ww/wwopenmng/images/independent/doc/test_pic_msg1.png"},
			{Title: "小程序", AppID: "wx123123123123123", PagePath: "pages/index?userid=zhangsan&orderid=123123123"},
		}}})
	}, &SendResult{MsgID: "msg4"}},
	{"message_send_template_card_text_notice", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SendMessage(ctx, Message{ToUser: []string{"UserID1", "UserID2"}, AgentID: 1, EnableDuplicateCheck: 1, TemplateCard: &TemplateCard{
			CardType:        CardTypeTextNotice,
			Source:          &CardSource{IconURL: "https://wework.qpic.cn/wwpic/252813_jOfDHtcISzuodLa_1629280209/0", Desc: "企业微信", DescColor: 1},
			ActionMenu:      &CardActionMenu{Desc: "消息气泡副交互辅助文本说明", ActionList: []CardMenuAction{{Text: "接收推送", Key: "action_key1"}, {Text: "不再推送", Key: "action_key2"}}},
			TaskID:          "task_id",
			MainTitle:       &CardTitle{Title: "欢迎使用企业微信", Desc: "您的好友正在邀请您加入企业微信"},
			QuoteArea:       &CardQuoteArea{Type: 1, URL: "https://work.weixin.qq.com", Title: "企业微信的引用样式", QuoteText: "企业微信真好用呀真好用"},
			EmphasisContent: &CardTitle{Title: "100", Desc: "核心数据"},
			SubTitleText:    "下载企业微信还能抢红包！",
			HorizontalContentList: []CardHorizontal{
				{KeyName: "邀请人", Value: "张三"},
				{Type: 1, KeyName: "企业微信官网", Value: "点击访问", URL: "https://work.weixin.qq.com"},
				{Type: 2, KeyName: "企业微信下载", Value: "企业微信.apk", MediaID: "文件的media_id"},
				{Type: 3, KeyName: "员工信息", Value: "点击查看", UserID: "zhangsan"},
			},
			JumpList: []CardJump{
				{Type: 1, Title: "企业微信官网", URL: "https://work.weixin.qq.com"},
				{Type: 2, Title: "跳转小程序", AppID: "小程序的appid", PagePath: "/index.html"},
			},
			CardAction: &CardAction{Type: 2, URL: "https://work.weixin.qq.com", AppID: "小程序的appid", PagePath: "/index.html"},
		}})
	}, &SendResult{MsgID: "msg5", ResponseCode: "rc5"}},
	{"message_send_template_card_news_notice", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return c.SendMessage(ctx, Message{ToUser: []string{"UserID1"}, AgentID: 1, TemplateCard: &TemplateCard{
			CardType:            CardTypeNewsNotice,
			Source:              &CardSource{IconURL: "https://wework.qpic.cn/wwpic/252813_jOfDHtcISzuodLa_1629280209/0", Desc: "企业微信"},
			MainTitle:           &CardTitle{Title: "欢迎使用企业微信", Desc: "您的好友正在邀请您加入企业微信"},
			CardImage:           &CardImage{URL: "https://wework.qpic.cn/wwpic/354393_4zpkKXd7SrGMvfg_1629280616/0", AspectRatio: 2.25},
			ImageTextArea:       &CardImageTextArea{Type: 1, URL: "https://work.weixin.qq.com", Title: "欢迎使用企业微信", Desc: "您的好友正在邀请您加入企业微信", ImageURL: "https://wework.qpic.cn/wwpic/354393_4zpkKXd7SrGMvfg_1629280616/0"},
			VerticalContentList: []CardVerticalContent{{Title: "惊喜红包等你来拿", Desc: "下载企业微信还能抢红包！"}},
			JumpList:            []CardJump{{Type: 1, Title: "企业微信官网", URL: "https://work.weixin.qq.com"}},
			CardAction:          &CardAction{Type: 1, URL: "https://work.weixin.qq.com"},
		}})
	}, &SendResult{MsgID: "msg6"}},
	{"message_recall", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
		return nil, c.RecallMessage(ctx, "vcT8gGc-7dFb4bxT35ONjBDz901sLlXPZw1DAMC_Gc26qRpK-AK5sTJkkb0128t")
	}, nil},

	// §8 group robot
	{"webhook_send_text", func(ctx context.Context, _ *Client, w *WebhookClient) (any, error) {
		return nil, w.Send(ctx, goldenKey, WebhookMessage{Text: &Text{Content: "部署完成", MentionedList: []string{"wangqing", "@all"}, MentionedMobileList: []string{"13800001111"}}})
	}, nil},
	{"webhook_send_markdown_v2", func(ctx context.Context, _ *Client, w *WebhookClient) (any, error) {
		return nil, w.Send(ctx, goldenKey, WebhookMessage{MarkdownV2: &Markdown{Content: "# 一、标题\n- 列表项\n| 姓名 | 部门 |\n| :--- | :--- |\n| 张三 | 研发 |"}})
	}, nil},
	{"webhook_send_template_card", func(ctx context.Context, _ *Client, w *WebhookClient) (any, error) {
		return nil, w.Send(ctx, goldenKey, WebhookMessage{TemplateCard: &TemplateCard{CardType: CardTypeTextNotice,
			MainTitle: &CardTitle{Title: "部署完成", Desc: "prod"}, SubTitleText: "v1.2.3", CardAction: &CardAction{Type: 1, URL: "https://example.com/deploy/123"}}})
	}, nil},
}

func loadGolden(t *testing.T, name string) goldenFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return g
}

func TestGolden(t *testing.T) {
	tokenReply := loadGolden(t, "gettoken").Reply
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			g := loadGolden(t, tc.name)
			var (
				mu  sync.Mutex
				got *recorded
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.URL.Path == "/cgi-bin/gettoken" && tc.name != "gettoken" {
					_, _ = w.Write(tokenReply)
					return
				}
				mu.Lock()
				got = &recorded{r.Method, r.URL.Path, r.URL.Query(), body}
				mu.Unlock()
				if r.URL.Path != g.Path {
					http.NotFound(w, r)
					return
				}
				_, _ = w.Write(g.Reply)
			}))
			defer srv.Close()

			c, err := New(Config{BaseURL: srv.URL, CorpID: "wwcorp0001", Secret: "SECRET", HTTPClient: srv.Client(),
				Tokens: NewTokenCache(TokenCacheOptions{}), Limiters: unlimited(), Retry: RetryPolicy{MaxAttempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			wc, err := NewWebhookClient(WebhookConfig{BaseURL: srv.URL, HTTPClient: srv.Client(), Limiters: unlimited(), Retry: RetryPolicy{MaxAttempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tc.call(context.Background(), c, wc)
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if got == nil {
				t.Fatal("no request reached the server")
			}
			if got.Method != g.Method || got.Path != g.Path {
				t.Errorf("request = %s %s, golden %s %s", got.Method, got.Path, g.Method, g.Path)
			}
			gotQuery := map[string]string{}
			for k, v := range got.Query {
				gotQuery[k] = strings.Join(v, ",")
			}
			if g.Query == nil {
				g.Query = map[string]string{}
			}
			if diff := diffValues(g.Query, gotQuery); diff != "" {
				t.Errorf("query: %s", diff)
			}
			if len(g.Body) == 0 {
				if len(got.Body) != 0 {
					t.Errorf("sent a body %s, golden has none", got.Body)
				}
			} else {
				var want, sent any
				if err := json.Unmarshal(g.Body, &want); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(got.Body, &sent); err != nil {
					t.Fatalf("body is not JSON: %v: %s", err, got.Body)
				}
				if diff := diffValues(want, sent); diff != "" {
					t.Errorf("body: %s", diff)
				}
			}
			if tc.want != nil {
				if diff := diffValues(tc.want, res); diff != "" {
					t.Errorf("decoded reply: %s", diff)
				}
			}
		})
	}
}

// TestGoldenFilesAllUsed keeps the golden directory and the table in step.
func TestGoldenFilesAllUsed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, tc := range goldenCases {
		used[tc.name] = true
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if !used[name] {
			t.Errorf("golden file %s has no test case", name)
		}
	}
}
