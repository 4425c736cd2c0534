package sdk

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/util"
	"github.com/silenceper/wechat/v2/work"
	"github.com/silenceper/wechat/v2/work/addresslist"
	"github.com/silenceper/wechat/v2/work/config"
	"github.com/silenceper/wechat/v2/work/externalcontact"
)

// TestSilenceper runs github.com/silenceper/wechat/v2's work package (go.mod pins the
// version) against the simulator: member tags, customer corp tags, group welcome templates
// and the succession of a member's customers and customer group chats. The SDK hard-codes
// https://qyapi.weixin.qq.com; its exported util.DefaultHTTPClient gets a transport that
// sends that host to the simulator. Its access token lives in its in-memory cache.
func TestSilenceper(t *testing.T) {
	s := startSim(t)
	defaultClient := util.DefaultHTTPClient
	util.DefaultHTTPClient = s.httpClient(t)
	t.Cleanup(func() { util.DefaultHTTPClient = defaultClient })
	wk := work.NewWork(&config.Config{
		CorpID: corpID, CorpSecret: appSecret, AgentID: strconv.Itoa(agentID), Cache: cache.NewMemory(),
	})

	t.Run("member tags", func(t *testing.T) { silenceperTags(t, wk.GetAddressList()) })
	t.Run("customer corp tags", func(t *testing.T) { silenceperCorpTags(t, s, wk.GetExternalContact()) })
	t.Run("group welcome templates", func(t *testing.T) { silenceperWelcomeTemplates(t, s, wk.GetExternalContact()) })
	t.Run("customer succession", func(t *testing.T) { silenceperSuccession(t, s, wk.GetExternalContact()) })
}

// errcode is the WeCom errcode of an SDK error, or -1 when the error is not one.
func errcode(err error) int64 {
	var ce *util.CommonError
	if errors.As(err, &ce) {
		return ce.ErrCode
	}
	return -1
}

// result carries an SDK call's two results so that one line can call and check it:
// try(c.GetTag(id)).must(t).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func silenceperTags(t *testing.T, c *addresslist.Client) {
	created := try(c.CreateTag(&addresslist.CreateTagRequest{TagName: "release-managers"})).must(t)
	if created.TagID <= 0 {
		t.Fatalf("tag/create gave tagid %d", created.TagID)
	}
	id := created.TagID

	added := try(c.AddTagUsers(&addresslist.AddTagUsersRequest{
		TagID: id, UserList: []string{"lisi", "wangwu", "nobody"}, PartyList: []int{4, 99},
	})).must(t)
	if added.InvalidList != "nobody" || !slices.Equal(added.InvalidParty, []int{99}) {
		t.Errorf("addtagusers: invalidlist %q invalidparty %v, want \"nobody\" [99]", added.InvalidList, added.InvalidParty)
	}

	got := try(c.GetTag(id)).must(t)
	if got.TagName != "release-managers" {
		t.Errorf("tag/get tagname %q", got.TagName)
	}
	members := map[string]string{}
	for _, u := range got.UserList {
		members[u.UserID] = u.Name
	}
	if len(members) != 2 || members["lisi"] != "李四" || members["wangwu"] != "王五" {
		t.Errorf("tag/get userlist %+v, want lisi 李四 and wangwu 王五", got.UserList)
	}
	if !slices.Equal(got.PartyList, []int{4}) {
		t.Errorf("tag/get partylist %v, want [4]", got.PartyList)
	}

	if err := c.UpdateTag(&addresslist.UpdateTagRequest{TagID: id, TagName: "release-captains"}); err != nil {
		t.Fatal(err)
	}
	list := try(c.ListTag()).must(t)
	if !slices.Contains(list.TagList, addresslist.Tag{TagID: id, TagName: "release-captains"}) {
		t.Errorf("tag/list %+v lacks the renamed tag %d", list.TagList, id)
	}

	// A second tag with a name that exists: 40071.
	if _, err := c.CreateTag(&addresslist.CreateTagRequest{TagName: "release-captains"}); errcode(err) != 40071 {
		t.Errorf("tag/create of an existing name: %v, want errcode 40071", err)
	}

	del := try(c.DelTagUsers(&addresslist.DelTagUsersRequest{TagID: id, UserList: []string{"wangwu"}, PartyList: []int{4}})).must(t)
	if del.InvalidList != "" || len(del.InvalidParty) != 0 {
		t.Errorf("deltagusers reported invalid items: %+v", del)
	}
	got = try(c.GetTag(id)).must(t)
	if len(got.UserList) != 1 || got.UserList[0].UserID != "lisi" || len(got.PartyList) != 0 {
		t.Errorf("after deltagusers: userlist %+v partylist %v, want lisi only", got.UserList, got.PartyList)
	}
	// Removing members none of whom is tagged: 40031 "all list invalid".
	if _, err := c.DelTagUsers(&addresslist.DelTagUsersRequest{TagID: id, UserList: []string{"nobody"}}); errcode(err) != 40031 {
		t.Errorf("deltagusers of no tagged member: %v, want errcode 40031", err)
	}

	if err := c.DeleteTag(id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetTag(id); errcode(err) != 40068 {
		t.Errorf("tag/get of a deleted tag: %v, want errcode 40068", err)
	}
}

func silenceperCorpTags(t *testing.T, s *sim, c *externalcontact.Client) {
	group := try(c.AddCropTag(externalcontact.AddCropTagRequest{
		GroupName: "客户等级", Order: 5,
		Tag: []externalcontact.AddCropTagItem{{Name: "普通", Order: 1}, {Name: "VIP", Order: 2}},
	})).must(t)
	if group.GroupID == "" || group.GroupName != "客户等级" || len(group.Tag) != 2 {
		t.Fatalf("add_corp_tag tag_group %+v", group)
	}
	if group.CreateTime != simNow.Unix() {
		t.Errorf("add_corp_tag create_time %d, want the simulator clock %d", group.CreateTime, simNow.Unix())
	}
	ids := map[string]string{}
	for _, tag := range group.Tag {
		ids[tag.Name] = tag.ID
	}

	// Into the existing group by group_id.
	more := try(c.AddCropTag(externalcontact.AddCropTagRequest{
		GroupID: group.GroupID, Tag: []externalcontact.AddCropTagItem{{Name: "SVIP", Order: 3}},
	})).must(t)
	if more.GroupID != group.GroupID || len(more.Tag) != 1 || more.Tag[0].Name != "SVIP" {
		t.Fatalf("add_corp_tag by group_id: %+v", more)
	}
	ids["SVIP"] = more.Tag[0].ID

	groups := try(c.GetCropTagList(externalcontact.GetCropTagRequest{})).must(t)
	if len(groups) != 1 || groups[0].GroupID != group.GroupID {
		t.Fatalf("get_corp_tag_list: %+v", groups)
	}
	if names := tagNames(groups[0].Tag); !slices.Equal(names, []string{"SVIP", "VIP", "普通"}) {
		t.Errorf("get_corp_tag_list tags %v, want the larger order first", names)
	}
	// silenceper reads the group's order from "group_order"; WeCom's field is "order", so
	// the SDK shows 0. The simulator keeps the order that was sent.
	if groups[0].GroupOrder != 0 {
		t.Errorf("silenceper's TagGroup.GroupOrder = %d; it decodes group_order, which WeCom does not send", groups[0].GroupOrder)
	}
	if st := s.state(t); len(st.CorpTagGroups) != 1 || st.CorpTagGroups[0].Order != 5 {
		t.Errorf("simulator corp tag groups %+v, want one with order 5", st.CorpTagGroups)
	}

	// A tag name the group has: 40071.
	if _, err := c.AddCropTag(externalcontact.AddCropTagRequest{
		GroupID: group.GroupID, Tag: []externalcontact.AddCropTagItem{{Name: "VIP"}},
	}); errcode(err) != 40071 {
		t.Errorf("add_corp_tag of a name the group has: %v, want errcode 40071", err)
	}

	// EditCropTagRequest has no omitempty: a rename also sends "order":0, which WeCom
	// applies, so the renamed tag sorts last.
	if err := c.EditCropTag(externalcontact.EditCropTagRequest{ID: ids["SVIP"], Name: "钻石"}); err != nil {
		t.Fatal(err)
	}
	groups = try(c.GetCropTagList(externalcontact.GetCropTagRequest{GroupID: []string{group.GroupID}})).must(t)
	if len(groups) != 1 {
		t.Fatalf("get_corp_tag_list by group_id: %+v", groups)
	}
	if names := tagNames(groups[0].Tag); !slices.Equal(names, []string{"VIP", "普通", "钻石"}) {
		t.Errorf("after edit_corp_tag: tags %v, want 钻石 (order 0) last", names)
	}

	// By tag_id: only those tags, inside their group.
	groups = try(c.GetCropTagList(externalcontact.GetCropTagRequest{TagID: []string{ids["VIP"]}})).must(t)
	if len(groups) != 1 || !slices.Equal(tagNames(groups[0].Tag), []string{"VIP"}) {
		t.Errorf("get_corp_tag_list by tag_id: %+v", groups)
	}

	if err := c.DeleteCropTag(externalcontact.DeleteCropTagRequest{TagID: []string{ids["VIP"]}}); err != nil {
		t.Fatal(err)
	}
	groups = try(c.GetCropTagList(externalcontact.GetCropTagRequest{})).must(t)
	if len(groups) != 1 || !slices.Equal(tagNames(groups[0].Tag), []string{"普通", "钻石"}) {
		t.Errorf("after del_corp_tag of a tag: %+v", groups)
	}
	if err := c.DeleteCropTag(externalcontact.DeleteCropTagRequest{GroupID: []string{group.GroupID}}); err != nil {
		t.Fatal(err)
	}
	if groups = try(c.GetCropTagList(externalcontact.GetCropTagRequest{})).must(t); len(groups) != 0 {
		t.Errorf("after del_corp_tag of the group: %+v", groups)
	}
	// Neither tag_id nor group_id: 40068.
	if err := c.DeleteCropTag(externalcontact.DeleteCropTagRequest{}); errcode(err) != 40068 {
		t.Errorf("del_corp_tag with no ids: %v, want errcode 40068", err)
	}
}

func tagNames(tags []externalcontact.TagGroupTagItem) []string {
	out := make([]string, 0, len(tags))
	for _, tag := range tags {
		out = append(out, tag.Name)
	}
	return out
}

func silenceperWelcomeTemplates(t *testing.T, s *sim, c *externalcontact.Client) {
	added := try(c.AddGroupWelcomeTemplate(&externalcontact.AddGroupWelcomeTemplateRequest{
		Text: externalcontact.MsgText{Content: "欢迎加入 VIP 群"},
		Link: &externalcontact.AttachmentLink{Title: "会员权益", URL: "https://example.com/vip", Desc: "看看有什么"},
	})).must(t)
	if added.TemplateID == "" {
		t.Fatal("group_welcome_template/add gave no template_id")
	}
	id := added.TemplateID

	got := try(c.GetGroupWelcomeTemplate(&externalcontact.GetGroupWelcomeTemplateRequest{TemplateID: id})).must(t)
	if got.Text.Content != "欢迎加入 VIP 群" || got.Link.Title != "会员权益" || got.Link.URL != "https://example.com/vip" {
		t.Errorf("group_welcome_template/get: %+v", got)
	}
	// notify was left out (AddGroupWelcomeTemplateRequest.Notify is omitempty): WeCom's default is 1.
	if st := s.state(t); len(st.WelcomeTemplates) != 1 || !st.WelcomeTemplates[0].Notify || st.WelcomeTemplates[0].Owner != "operator" {
		t.Errorf("simulator welcome templates %+v, want one by operator with notify on", st.WelcomeTemplates)
	}

	// The SDK's edit sends every attachment key, null when unset.
	if err := c.EditGroupWelcomeTemplate(&externalcontact.EditGroupWelcomeTemplateRequest{
		TemplateID: id, Text: externalcontact.MsgText{Content: "欢迎！"},
		Image: &externalcontact.AttachmentImg{MediaID: "MEDIA_ID_1"},
	}); err != nil {
		t.Fatal(err)
	}
	got = try(c.GetGroupWelcomeTemplate(&externalcontact.GetGroupWelcomeTemplateRequest{TemplateID: id})).must(t)
	if got.Text.Content != "欢迎！" || got.Image.MediaID != "MEDIA_ID_1" || got.Link.Title != "" {
		t.Errorf("after group_welcome_template/edit: %+v", got)
	}

	// An empty template: 44004.
	if _, err := c.AddGroupWelcomeTemplate(&externalcontact.AddGroupWelcomeTemplateRequest{}); errcode(err) != 44004 {
		t.Errorf("group_welcome_template/add of nothing: %v, want errcode 44004", err)
	}

	if err := c.DelGroupWelcomeTemplate(&externalcontact.DelGroupWelcomeTemplateRequest{TemplateID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroupWelcomeTemplate(&externalcontact.GetGroupWelcomeTemplateRequest{TemplateID: id}); errcode(err) != 84020 {
		t.Errorf("group_welcome_template/get of a deleted template: %v, want errcode 84020", err)
	}
}

func silenceperSuccession(t *testing.T, s *sim, c *externalcontact.Client) {
	s.seedCustomers(t)

	customers := try(c.GetExternalUserList("lisi")).must(t)
	if !slices.Equal(customers, []string{"wmCustomerA", "wmCustomerB"}) {
		t.Fatalf("externalcontact/list lisi: %v", customers)
	}

	res := try(c.TransferCustomer(&externalcontact.TransferCustomerRequest{
		HandoverUserID: "lisi", TakeoverUserID: "wangwu",
		ExternalUserID: []string{"wmCustomerA", "wmCustomerB", "wmNobody"}, TransferSuccessMsg: "您好，我是王五，今后由我为您服务",
	})).must(t)
	perCustomer := map[string]int{}
	for _, it := range res.Customer {
		perCustomer[it.ExternalUserID] = it.ErrCode
	}
	if perCustomer["wmCustomerA"] != 0 || perCustomer["wmCustomerB"] != 0 || perCustomer["wmNobody"] != 40096 {
		t.Errorf("transfer_customer per customer: %+v, want 0, 0 and 40096 for wmNobody", res.Customer)
	}

	result := try(c.TransferResult(&externalcontact.TransferResultRequest{HandoverUserID: "lisi", TakeoverUserID: "wangwu"})).must(t)
	takeover := simNow.Add(24 * time.Hour).Unix()
	for _, it := range result.Customer {
		if it.Status != 2 || it.TakeoverTime != takeover {
			t.Errorf("transfer_result before the takeover: %+v, want status 2 (waiting) and takeover_time %d", it, takeover)
		}
	}
	if len(result.Customer) != 2 {
		t.Errorf("transfer_result: %+v, want the two customers", result.Customer)
	}
	// Handing over a customer whose handover is under way: 40129.
	res = try(c.TransferCustomer(&externalcontact.TransferCustomerRequest{
		HandoverUserID: "lisi", TakeoverUserID: "zhaoliu", ExternalUserID: []string{"wmCustomerA"},
	})).must(t)
	if len(res.Customer) != 1 || res.Customer[0].ErrCode != 40129 {
		t.Errorf("transfer_customer of a customer in handover: %+v, want errcode 40129", res.Customer)
	}

	s.advance(t, 24*time.Hour)
	result = try(c.TransferResult(&externalcontact.TransferResultRequest{HandoverUserID: "lisi", TakeoverUserID: "wangwu"})).must(t)
	for _, it := range result.Customer {
		if it.Status != 1 {
			t.Errorf("transfer_result after 24 h: %+v, want status 1 (done)", it)
		}
	}
	if customers = try(c.GetExternalUserList("wangwu")).must(t); !slices.Equal(customers, []string{"wmCustomerA", "wmCustomerB"}) {
		t.Errorf("externalcontact/list wangwu after the takeover: %v", customers)
	}
	if st := s.state(t); len(st.CustomerTransfers) != 2 || st.CustomerTransfers[0].SuccessMsg == "" {
		t.Errorf("simulator transfers %+v, want two with the success message", st.CustomerTransfers)
	}

	// Customer group chats: list lisi's, hand them to wangwu, list again.
	chats := try(c.GetGroupChatList(&externalcontact.GroupChatListRequest{
		OwnerFilter: externalcontact.OwnerFilter{UseridList: []string{"lisi"}}, Limit: 100,
	})).must(t)
	if len(chats.GroupChatList) != 1 || chats.GroupChatList[0].ChatID != "wrVipChat" {
		t.Fatalf("groupchat/list owned by lisi: %+v", chats.GroupChatList)
	}
	moved := try(c.GroupChatOnJobTransfer(&externalcontact.GroupChatOnJobTransferRequest{
		ChatIDList: []string{"wrVipChat", "wrNoSuchChat"}, NewOwner: "wangwu",
	})).must(t)
	if len(moved.FailedChatList) != 1 || moved.FailedChatList[0].ChatID != "wrNoSuchChat" || moved.FailedChatList[0].ErrCode != 90501 {
		t.Errorf("groupchat/onjob_transfer failed_chat_list %+v, want wrNoSuchChat with 90501", moved.FailedChatList)
	}
	chats = try(c.GetGroupChatList(&externalcontact.GroupChatListRequest{
		OwnerFilter: externalcontact.OwnerFilter{UseridList: []string{"wangwu"}}, Limit: 100,
	})).must(t)
	if len(chats.GroupChatList) != 1 || chats.GroupChatList[0].ChatID != "wrVipChat" {
		t.Errorf("groupchat/list owned by wangwu after onjob_transfer: %+v", chats.GroupChatList)
	}
	if chats = try(c.GetGroupChatList(&externalcontact.GroupChatListRequest{
		OwnerFilter: externalcontact.OwnerFilter{UseridList: []string{"lisi"}}, Limit: 100,
	})).must(t); len(chats.GroupChatList) != 0 {
		t.Errorf("groupchat/list owned by lisi after onjob_transfer: %+v", chats.GroupChatList)
	}
}
