package wecomsim

import (
	"net/http"
	"strings"
	"testing"
)

// TestPublicSDKRequestShapes replays, byte for byte, requests that the public SDKs run by
// test/sdk (make test-sdk) send, where they lean on WeCom's leniency: zero values and nulls
// for fields the caller did not set, retired fields, numbers as strings, a JSON body labelled
// as a form. The SDK runs need node and the SDKs' packages; this keeps the same shapes in the
// simulator's own tests.
func TestPublicSDKRequestShapes(t *testing.T) {
	t.Run("silenceper/wechat corp tags and welcome templates", func(t *testing.T) {
		e := newEnv(t)
		// Struct encodings with no omitempty: agentid 0, empty group_name, order 0, null lists.
		m := e.post(e.app, "externalcontact/add_corp_tag", `{"group_name":"客户等级","order":5,"tag":[{"name":"普通","order":1},{"name":"VIP","order":2}],"agentid":0}`)
		e.wantCode(m, 0)
		group := m["tag_group"].(map[string]any)["group_id"].(string)
		m = e.post(e.app, "externalcontact/add_corp_tag", `{"group_id":"`+group+`","group_name":"","order":0,"tag":[{"name":"SVIP","order":3}],"agentid":0}`)
		e.wantCode(m, 0)
		svip := m["tag_group"].(map[string]any)["tag"].([]any)[0].(map[string]any)["id"].(string)
		e.wantCode(e.post(e.app, "externalcontact/get_corp_tag_list", `{"tag_id":null,"group_id":null}`), 0)
		// EditCropTagRequest always sends name and order: "" is no name, 0 is an order.
		e.wantCode(e.post(e.app, "externalcontact/edit_corp_tag", `{"id":"`+group+`","name":"","order":0,"agent_id":""}`), 0)
		e.wantCode(e.post(e.app, "externalcontact/edit_corp_tag", `{"id":"`+svip+`","name":"钻石","order":0,"agent_id":""}`), 0)
		g := e.srv.State().CorpTagGroups[0]
		if g.Name != "客户等级" || g.Order != 0 || g.Tags[2].Name != "钻石" || g.Tags[2].Order != 0 {
			t.Fatalf("after the edits: %+v", g)
		}
		e.wantCode(e.post(e.app, "externalcontact/del_corp_tag", `{"tag_id":["`+svip+`"],"group_id":null,"agent_id":""}`), 0)

		m = e.post(e.app, "externalcontact/group_welcome_template/add", `{"text":{"content":"欢迎加入 VIP 群"},"link":{"title":"会员权益","picurl":"","desc":"看看有什么","url":"https://example.com/vip"}}`)
		e.wantCode(m, 0)
		id := m["template_id"].(string)
		e.wantCode(e.post(e.app, "externalcontact/group_welcome_template/edit", `{"template_id":"`+id+`","text":{"content":"欢迎！"},"image":{"media_id":"MEDIA_ID_1","pic_url":""},"link":null,"miniprogram":null,"file":null,"video":null,"agentid":0}`), 0)
		if tpl := e.srv.State().WelcomeTemplates[0]; tpl.Text != "欢迎！" || tpl.Attachment == nil || tpl.Attachment.MsgType != "image" {
			t.Fatalf("after the edit: %+v", tpl)
		}
		// An image-only template still carries "text":{"content":""}.
		e.wantCode(e.post(e.app, "externalcontact/group_welcome_template/add", `{"text":{"content":""},"image":{"media_id":"MEDIA_ID_2","pic_url":""}}`), 0)
		e.wantCode(e.post(e.app, "externalcontact/group_welcome_template/del", `{"template_id":"`+id+`","agentid":0}`), 0)
	})

	t.Run("silenceper/wechat customer succession", func(t *testing.T) {
		e := newEnv(t)
		if err := e.srv.Seed(Seed{
			ExternalContacts:   []ExternalContact{{ExternalUserID: "wmA", UserID: "lisi"}},
			CustomerGroupChats: []CustomerGroupChat{{ChatID: "wrA", Name: "VIP", Owner: "lisi"}},
		}); err != nil {
			t.Fatal(err)
		}
		e.wantCode(e.post(e.app, "externalcontact/groupchat/list", `{"status_filter":0,"owner_filter":{"userid_list":null},"cursor":"","limit":100}`), 0)
		e.wantCode(e.post(e.app, "externalcontact/transfer_customer", `{"handover_userid":"lisi","takeover_userid":"wangwu","external_userid":["wmA"],"transfer_success_msg":""}`), 0)
		e.wantCode(e.post(e.app, "externalcontact/transfer_result", `{"handover_userid":"lisi","takeover_userid":"wangwu","cursor":""}`), 0)
		e.wantCode(e.post(e.app, "externalcontact/groupchat/onjob_transfer", `{"chat_id_list":["wrA"],"new_owner":"wangwu"}`), 0)
	})

	t.Run("TNWX", func(t *testing.T) {
		e := newEnv(t)
		// axios labels a string body application/x-www-form-urlencoded; WeCom reads the JSON.
		form := func(endpoint, body string) map[string]any {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+apiPath(e.app, endpoint, ""), strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			decodeJSON(t, resp, &m)
			return m
		}
		e.wantCode(form("tag/create", `{"tagname":"db-owners","tagid":0}`), 0)
		e.wantCode(form("agent/set", `{"agentid":"1000002","name":"Alert desk","description":"Routes alerts to people","report_location_flag":0,"redirect_domain":"alerts.example.com","isreportenter":1}`), 0)
		// The first-generation calendar's organizer is ignored.
		m := form("oa/calendar/add", `{"calendar":{"organizer":"lisi","summary":"On-call rota","color":"#FF3030","description":"Who is on call","shares":[{"userid":"lisi"},{"userid":"wangwu"}]}}`)
		e.wantCode(m, 0)
		if cal := e.srv.State().Calendars; len(cal) != 1 || len(cal[0].Shares) != 2 || cal[0].Shares[0].Permission != 1 {
			t.Fatalf("calendars %+v", cal)
		}
		// The retired offset paging of groupchat/list is ignored.
		e.wantCode(form("externalcontact/groupchat/list", `{"status_filter":0,"owner_filter":{"userid_list":["lisi"]},"offset":0,"limit":100}`), 0)
		e.wantCode(form("externalcontact/add_corp_tag", `{"group_name":"行业","order":10,"tag":[{"name":"金融","order":1},{"name":"教育","order":2},{"name":"教育"}]}`), 0)
		e.wantCode(form("externalcontact/get_corp_tag_list", `{}`), 0)
	})

	t.Run("wechat-enterprise-api", func(t *testing.T) {
		e := newEnv(t)
		// Its setAgent example: agentid and report_location_flag as strings, obsolete isreportuser.
		e.wantCode(e.post(e.app, "agent/set", `{"agentid":"1000002","report_location_flag":"0","logo_mediaid":"xxxxx","name":"NAME","description":"DESC","redirect_domain":"xxxxxx","isreportuser":0,"isreportenter":0}`), 0)
		e.wantCode(e.get(e.app, "agent/get", "agentid=1000002"), 0)
		e.wantCode(e.post(e.app, "tag/create", `{"tagname":"weekend-oncall","tagid":12}`), 0)
		e.wantCode(e.post(e.app, "tag/addtagusers", `{"tagid":12,"userlist":["lisi","zhaoliu"]}`), 0)
	})
}
