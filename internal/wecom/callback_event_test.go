package wecom

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Samples from reference §13. Where §13 gives an official example it is used verbatim
// (update_tag DOC-96304, add_external_contact DOC-96361, template_card_event, the text
// message of the DOC-91144 vector); the others are built from §13's field tables.
const (
	sampleUpdateTag = `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[sys]]></FromUserName>
  <CreateTime>1403610513</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[change_contact]]></Event>
  <ChangeType><![CDATA[update_tag]]></ChangeType>
  <TagId>1</TagId>
  <AddUserItems><![CDATA[zhangsan,lisi]]></AddUserItems>
  <DelUserItems><![CDATA[zhangsan1,lisi1]]></DelUserItems>
  <AddPartyItems><![CDATA[1,2]]></AddPartyItems>
  <DelPartyItems><![CDATA[3,4]]></DelPartyItems>
</xml>`

	sampleAddExternalContact = `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID><State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>`

	sampleTemplateCard = `<xml>
  <ToUserName><![CDATA[wwcorpid]]></ToUserName>
  <FromUserName><![CDATA[zhangsan]]></FromUserName>
  <CreateTime>1700000000</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[template_card_event]]></Event>
  <EventKey><![CDATA[key111]]></EventKey>
  <TaskId><![CDATA[taskid111]]></TaskId>
  <CardType><![CDATA[vote_interaction]]></CardType>
  <ResponseCode><![CDATA[RESPONSE_CODE]]></ResponseCode>
  <AgentID>1000002</AgentID>
  <SelectedItems>
    <SelectedItem>
      <QuestionKey><![CDATA[question_key1]]></QuestionKey>
      <OptionIds><OptionId><![CDATA[option_id1]]></OptionId><OptionId><![CDATA[option_id2]]></OptionId></OptionIds>
    </SelectedItem>
  </SelectedItems>
</xml>`

	// create_user with every field of §13's table; ChangeType in bare text as DOC-96302
	// writes it.
	sampleCreateUser = `<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[sys]]></FromUserName>
<CreateTime>1403610513</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[change_contact]]></Event>
<ChangeType>create_user</ChangeType>
<UserID><![CDATA[zhangsan]]></UserID>
<Name><![CDATA[张三]]></Name>
<Department><![CDATA[1,2,3]]></Department>
<MainDepartment>1</MainDepartment>
<IsLeaderInDept><![CDATA[1,0,0]]></IsLeaderInDept>
<DirectLeader><![CDATA[lisi,wangwu]]></DirectLeader>
<Position><![CDATA[产品经理]]></Position>
<Mobile>13800000000</Mobile>
<Gender>1</Gender>
<Email><![CDATA[zhangsan@gzdev.com]]></Email>
<BizMail><![CDATA[zhangsan@qyycs2.wecom.work]]></BizMail>
<Status>1</Status>
<Avatar><![CDATA[http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0]]></Avatar>
<Alias><![CDATA[zhangsan]]></Alias>
<Telephone><![CDATA[020-123456]]></Telephone>
<Address><![CDATA[广州市]]></Address>
<ExtAttr>
<Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[旅游]]></Value></Text></Item>
<Item><Name><![CDATA[卡号]]></Name><Type>1</Type><Web><Title><![CDATA[企业微信]]></Title><Url><![CDATA[https://work.weixin.qq.com]]></Url></Web></Item>
</ExtAttr>
</xml>`
)

// contactXML builds a change_contact event from its type-specific elements.
func contactXML(changeType, fields string) string {
	return `<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000001</CreateTime>` +
		`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[` + changeType + `]]></ChangeType>` + fields + `</xml>`
}

func sysHeader(event, changeType string, createTime int64) CallbackHeader {
	return CallbackHeader{ToUserName: "ww1", FromUserName: "sys", CreateTime: createTime, MsgType: "event", Event: event, ChangeType: changeType}
}

func TestParseCallbackEvent(t *testing.T) {
	sample := func(event, changeType string) CallbackHeader {
		return CallbackHeader{ToUserName: "toUser", FromUserName: "sys", CreateTime: 1403610513, MsgType: "event", Event: event, ChangeType: changeType}
	}
	for _, tc := range []struct {
		name string
		xml  string
		want CallbackEvent
	}{
		{"update_tag (DOC-96304)", sampleUpdateTag, &ContactTagEvent{
			CallbackHeader: sample(EventChangeContact, ChangeUpdateTag),
			TagID:          1,
			AddUserItems:   []string{"zhangsan", "lisi"}, DelUserItems: []string{"zhangsan1", "lisi1"},
			AddPartyItems: []int{1, 2}, DelPartyItems: []int{3, 4},
		}},
		{"update_tag with only additions", contactXML("update_tag", `<TagId>7</TagId><AddUserItems><![CDATA[a]]></AddUserItems>`), &ContactTagEvent{
			CallbackHeader: sysHeader(EventChangeContact, ChangeUpdateTag, 1700000001), TagID: 7, AddUserItems: []string{"a"},
		}},
		{"create_user, every field", sampleCreateUser, &ContactUserEvent{
			CallbackHeader: sample(EventChangeContact, ChangeCreateUser),
			UserID:         "zhangsan", Name: "张三",
			Department: []int{1, 2, 3}, MainDepartment: 1, IsLeaderInDept: []bool{true, false, false},
			DirectLeader: []string{"lisi", "wangwu"}, Position: "产品经理", Mobile: "13800000000", Gender: 1,
			Email: "zhangsan@gzdev.com", BizMail: "zhangsan@qyycs2.wecom.work", Status: 1,
			Avatar: "http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0",
			Alias:  "zhangsan", Telephone: "020-123456", Address: "广州市",
			ExtAttr: []ContactExtAttr{
				{Name: "爱好", Type: 0, Text: "旅游"},
				{Name: "卡号", Type: 1, WebTitle: "企业微信", WebURL: "https://work.weixin.qq.com"},
			},
		}},
		{"update_user renaming the userid", contactXML("update_user", `<UserID><![CDATA[zhangsan]]></UserID><NewUserID><![CDATA[zhangsan2]]></NewUserID><Name><![CDATA[张三丰]]></Name>`), &ContactUserEvent{
			CallbackHeader: sysHeader(EventChangeContact, ChangeUpdateUser, 1700000001), UserID: "zhangsan", NewUserID: "zhangsan2", Name: "张三丰",
		}},
		{"update_user moving departments (only what changed)", contactXML("update_user", `<UserID>zhangsan</UserID><MainDepartment>5</MainDepartment>`), &ContactUserEvent{
			CallbackHeader: sysHeader(EventChangeContact, ChangeUpdateUser, 1700000001), UserID: "zhangsan", MainDepartment: 5,
		}},
		{"update_user, post-2022 sync callback", contactXML("update_user", `<UserID>zhangsan</UserID><Department> 2, 3 ,</Department>`), &ContactUserEvent{
			CallbackHeader: sysHeader(EventChangeContact, ChangeUpdateUser, 1700000001), UserID: "zhangsan", Department: []int{2, 3},
		}},
		{"delete_user", contactXML("delete_user", `<UserID><![CDATA[zhangsan]]></UserID>`), &ContactUserEvent{
			CallbackHeader: sysHeader(EventChangeContact, ChangeDeleteUser, 1700000001), UserID: "zhangsan",
		}},
		{"create_party", contactXML("create_party", `<Id>2</Id><Name><![CDATA[张三]]></Name><ParentId><![CDATA[1]]></ParentId><Order>1</Order>`), &ContactPartyEvent{
			CallbackHeader: sysHeader(EventChangeContact, ChangeCreateParty, 1700000001), ID: 2, Name: "张三", ParentID: 1, Order: 1,
		}},
		{"update_party", contactXML("update_party", `<Id>2</Id><ParentId>3</ParentId>`), &ContactPartyEvent{
			CallbackHeader: sysHeader(EventChangeContact, ChangeUpdateParty, 1700000001), ID: 2, ParentID: 3,
		}},
		{"delete_party", contactXML("delete_party", `<Id>2</Id>`), &ContactPartyEvent{
			CallbackHeader: sysHeader(EventChangeContact, ChangeDeleteParty, 1700000001), ID: 2,
		}},
		{"change_contact of an unmodelled type", contactXML("create_school", `<Id>2</Id>`), &OtherCallback{
			CallbackHeader: sysHeader(EventChangeContact, "create_school", 1700000001),
		}},
		{"add_external_contact (DOC-96361)", sampleAddExternalContact, &ExternalContactEvent{
			CallbackHeader: sample(EventChangeExternalContact, ChangeAddExternalContact),
			UserID:         "zhangsan", ExternalUserID: "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", State: "teststate", WelcomeCode: "WELCOMECODE",
		}},
		{"transfer_fail", strings.Replace(strings.Replace(sampleAddExternalContact, "add_external_contact", "transfer_fail", 1),
			"<State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>", "<FailReason><![CDATA[customer_refused]]></FailReason>", 1), &ExternalContactEvent{
			CallbackHeader: sample(EventChangeExternalContact, ChangeTransferFail),
			UserID:         "zhangsan", ExternalUserID: "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", FailReason: "customer_refused",
		}},
		{"change_external_tag create", `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[TAG_ID]]></Id><TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[create]]></ChangeType></xml>`, &ExternalTagEvent{
			CallbackHeader: sample(EventChangeExternalTag, ChangeCreate), ID: "TAG_ID", TagType: "tag",
		}},
		{"change_external_tag shuffle", `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[GROUP_ID]]></Id><ChangeType><![CDATA[shuffle]]></ChangeType><StrategyId>1</StrategyId></xml>`, &ExternalTagEvent{
			CallbackHeader: sample(EventChangeExternalTag, ChangeShuffle), ID: "GROUP_ID", StrategyID: 1,
		}},
		{"template_card_event", sampleTemplateCard, &TemplateCardEvent{
			CallbackHeader: CallbackHeader{ToUserName: "wwcorpid", FromUserName: "zhangsan", CreateTime: 1700000000, MsgType: "event", Event: EventTemplateCard, AgentID: 1000002},
			EventKey:       "key111", TaskID: "taskid111", CardType: "vote_interaction", ResponseCode: "RESPONSE_CODE",
			SelectedItems: []CardSelectedItem{{QuestionKey: "question_key1", OptionIDs: []string{"option_id1", "option_id2"}}},
		}},
		{"template_card_menu_event", `<xml><ToUserName><![CDATA[wwcorpid]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_menu_event]]></Event><EventKey><![CDATA[menu1]]></EventKey><TaskId><![CDATA[taskid111]]></TaskId><CardType><![CDATA[text_notice]]></CardType><ResponseCode><![CDATA[RC]]></ResponseCode><AgentID>1000002</AgentID></xml>`, &TemplateCardEvent{
			CallbackHeader: CallbackHeader{ToUserName: "wwcorpid", FromUserName: "zhangsan", CreateTime: 1700000000, MsgType: "event", Event: EventTemplateCardMenu, AgentID: 1000002},
			EventKey:       "menu1", TaskID: "taskid111", CardType: "text_notice", ResponseCode: "RC",
		}},
		{"text message (DOC-91144 vector)", vecPostText, &OtherCallback{CallbackHeader: CallbackHeader{
			ToUserName: "wx5823bf96d3bd56c7", FromUserName: "mycreate", CreateTime: 1409659813, MsgType: "text", AgentID: 218, MsgID: "4561255354251345929",
		}}},
		{"enter_agent (menu-family event)", `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName><CreateTime>1408091189</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey><AgentID>1</AgentID></xml>`, &OtherCallback{CallbackHeader: CallbackHeader{
			ToUserName: "toUser", FromUserName: "FromUser", CreateTime: 1408091189, MsgType: "event", Event: "enter_agent", AgentID: 1,
		}}},
		{"AgentID in CDATA", `<xml><MsgType>event</MsgType><Event>x</Event><AgentID><![CDATA[ 1000002 ]]></AgentID></xml>`, &OtherCallback{CallbackHeader: CallbackHeader{
			MsgType: "event", Event: "x", AgentID: 1000002,
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCallbackEvent([]byte(tc.xml))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got.Header().Identity == "" {
				t.Fatal("Identity not set")
			}
			got.Header().Identity = ""
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseCallbackEventMalformed(t *testing.T) {
	for name, xml := range map[string]string{
		"empty":                     "",
		"not XML":                   "change_contact",
		"unclosed":                  "<xml><ToUserName>x</ToUserName>",
		"two documents":             "<xml></xml><xml></xml>",
		"CreateTime not a number":   "<xml><CreateTime>yesterday</CreateTime></xml>",
		"AgentID not a number":      "<xml><AgentID>app</AgentID></xml>",
		"department id not number":  contactXML("update_user", "<UserID>a</UserID><Department>1,x</Department>"),
		"IsLeaderInDept not 0 or 1": contactXML("update_user", "<UserID>a</UserID><IsLeaderInDept>1,2</IsLeaderInDept>"),
		"party id not a number":     contactXML("delete_party", "<Id>two</Id>"),
		"tag party list":            contactXML("update_tag", "<TagId>1</TagId><AddPartyItems>1;2</AddPartyItems>"),
		"unknown entity":            "<xml><Name>&bogus;</Name></xml>",
	} {
		t.Run(name, func(t *testing.T) {
			ev, err := ParseCallbackEvent([]byte(xml))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseCallbackEvent = %#v, %v; want ErrMalformed", ev, err)
			}
			if strings.Contains(err.Error(), "yesterday") || strings.Contains(err.Error(), "two") || strings.Contains(err.Error(), "bogus") {
				t.Fatalf("error echoes the value: %v", err)
			}
		})
	}
}

func identityOf(t *testing.T, xml string) string {
	t.Helper()
	id, err := CallbackIdentity([]byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseCallbackEvent([]byte(xml))
	if err != nil || ev.Header().Identity != id {
		t.Fatalf("ParseCallbackEvent identity %v, %v; CallbackIdentity %q", ev, err, id)
	}
	return id
}

func TestCallbackIdentity(t *testing.T) {
	// The shape: readable type and time, then a digest; a message by its MsgId.
	if id := identityOf(t, sampleUpdateTag); !strings.HasPrefix(id, "change_contact/update_tag/1403610513/") || len(id) != len("change_contact/update_tag/1403610513/")+32 {
		t.Fatalf("identity %q", id)
	}
	if id := identityOf(t, vecPostText); id != "msg/218/4561255354251345929" {
		t.Fatalf("message identity %q", id)
	}
	if id := identityOf(t, sampleAddExternalContact); strings.Contains(id, "WELCOMECODE") || strings.Contains(id, "teststate") || strings.Contains(id, "zhangsan") {
		t.Fatalf("identity carries event data: %q", id)
	}

	// A retry is the same event, however it is written.
	same := [][2]string{
		{sampleUpdateTag, strings.NewReplacer("<![CDATA[", "", "]]>", "", "\n  ", "").Replace(sampleUpdateTag)},
		{sampleAddExternalContact, strings.Replace(sampleAddExternalContact, "<State>", "\n\t<State>", 1)},
		{sampleTemplateCard, strings.Replace(sampleTemplateCard, "<AgentID>1000002</AgentID>", "<AgentID> 1000002 </AgentID>", 1)},
		{vecPostText, strings.Replace(vecPostText, "hello", "hello again", 1)}, // messages go by MsgId
	}
	for i, pair := range same {
		if a, b := identityOf(t, pair[0]), identityOf(t, pair[1]); a != b {
			t.Errorf("same[%d]: %q != %q", i, a, b)
		}
	}

	// Distinct events that FromUserName+CreateTime alone would merge.
	createUser := contactXML("create_user", "<UserID>zhangsan</UserID><Department>1</Department>")
	differ := [][2]string{
		// A new member fires create_user and update_user in the same second.
		{createUser, contactXML("update_user", "<UserID>zhangsan</UserID><Department>1</Department>")},
		// Two members created in the same second.
		{createUser, contactXML("create_user", "<UserID>lisi</UserID><Department>1</Department>")},
		// Two customers added in the same second, differing only in ExternalUserID.
		{sampleAddExternalContact, strings.Replace(sampleAddExternalContact, "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", "woAJ2GCAAAXtWyujaWJHDDGi0mBBBB", 1)},
		// Two edits of one member in the same second.
		{contactXML("update_user", "<UserID>zhangsan</UserID><MainDepartment>2</MainDepartment>"), contactXML("update_user", "<UserID>zhangsan</UserID><MainDepartment>3</MainDepartment>")},
		// Two clicks on one card with fresh response codes.
		{sampleTemplateCard, strings.Replace(sampleTemplateCard, "RESPONSE_CODE", "RESPONSE_CODE2", 1)},
		// The same event for two apps.
		{sampleTemplateCard, strings.Replace(sampleTemplateCard, "1000002", "1000003", 1)},
		// A value moved between elements.
		{contactXML("update_tag", "<TagId>1</TagId><AddUserItems>a</AddUserItems>"), contactXML("update_tag", "<TagId>1</TagId><DelUserItems>a</DelUserItems>")},
	}
	for i, pair := range differ {
		if a, b := identityOf(t, pair[0]), identityOf(t, pair[1]); a == b {
			t.Errorf("differ[%d]: both %q", i, a)
		}
	}
}

// TestCallbackIdentityAcrossRetries delivers one event twice as WeCom retries it (a new
// random prefix, timestamp and nonce): the envelopes differ, the identities do not.
func TestCallbackIdentityAcrossRetries(t *testing.T) {
	c := newVecCrypto(t)
	var ids []string
	var bodies []string
	for i, ts := range []string{"1403610513", "1403610519"} {
		body, sig, err := c.EncryptDelivery([]byte(sampleAddExternalContact), 0, ts, "nonce"+ts)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := c.DecryptMessage(sig, ts, "nonce"+ts, body)
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		ev, err := ParseCallbackEvent(plain)
		if err != nil {
			t.Fatal(err)
		}
		ext, ok := ev.(*ExternalContactEvent)
		if !ok || ext.State != "teststate" || ext.WelcomeCode != "WELCOMECODE" {
			t.Fatalf("delivery %d parsed as %#v", i, ev)
		}
		ids = append(ids, ev.Header().Identity)
		bodies = append(bodies, string(body))
	}
	if bodies[0] == bodies[1] || ids[0] != ids[1] {
		t.Fatalf("bodies equal: %v; identities %q", bodies[0] == bodies[1], ids)
	}
}
