package wecomsim

import "testing"

// addTemplate adds a text template with the operator app and returns its template_id.
func addTemplate(e *env) string {
	m := e.post(e.app, "externalcontact/group_welcome_template/add", `{"text":{"content":"欢迎"}}`)
	e.wantCode(m, 0)
	return m["template_id"].(string)
}

func TestValidationGroupWelcomeTemplates(t *testing.T) {
	const add = "externalcontact/group_welcome_template/add"
	full := func(e *env) {
		for range maxWelcomeTemplates {
			addTemplate(e)
		}
	}
	runRules(t, []rule{
		{name: "add the official example", tok: "app", endpoint: add, body: `{"text":{"content":"亲爱的%NICKNAME%用户，你好"},"image":{"media_id":"MEDIA_ID","pic_url":"http://p.qpic.cn/pic_wework/3474110808/7a6344sdadfwehe42060/0"},"link":{"title":"消息标题","picurl":"https://example.pic.com/path","desc":"消息描述","url":"https://example.link.com/path"},"miniprogram":{"title":"消息标题","pic_media_id":"MEDIA_ID","appid":"wx8bd80126147dfAAA","page":"/path/index"},"file":{"media_id":"1Yv-zXfHjSjU-7LH-GwtYqDGS-zz6w22KmWAT5COgP7o"},"video":{"media_id":"MEDIA_ID"},"agentid":1000014,"notify":1}`, want: 0},
		{name: "add text only", tok: "app", endpoint: add, body: `{"text":{"content":"hi"}}`, want: 0},
		{name: "add image by pic_url only", tok: "app", endpoint: add, body: `{"image":{"pic_url":"https://p.qpic.cn/x"}}`, want: 0},
		{name: "add notify as a string", tok: "app", endpoint: add, body: `{"text":{"content":"hi"},"notify":"0"}`, want: 0},
		{name: "add null parts", tok: "app", endpoint: add, body: `{"text":{"content":"hi"},"image":null,"link":null,"miniprogram":null}`, want: 0},
		{name: "add without permission", tok: "lim", endpoint: add, body: `{"text":{"content":"hi"}}`, want: 48002},
		{name: "add empty", tok: "app", endpoint: add, body: `{}`, want: 44004},
		{name: "add empty text", tok: "app", endpoint: add, body: `{"text":{"content":""}}`, want: 44004},
		{name: "add text 3001 bytes", tok: "app", endpoint: add, body: `{"text":{"content":"` + repeatStr("a", 3001) + `"}}`, want: 45002},
		{name: "add text 3000 bytes ok", tok: "app", endpoint: add, body: `{"text":{"content":"` + repeatStr("a", 3000) + `"}}`, want: 0},
		{name: "add image without media", tok: "app", endpoint: add, body: `{"image":{}}`, want: 41006},
		{name: "add link without title", tok: "app", endpoint: add, body: `{"link":{"url":"https://x"}}`, want: 41016},
		{name: "add link without url", tok: "app", endpoint: add, body: `{"link":{"title":"t"}}`, want: 41010},
		{name: "add link title 129 bytes", tok: "app", endpoint: add, body: `{"link":{"title":"` + repeatStr("a", 129) + `","url":"https://x"}}`, want: 45002},
		{name: "add miniprogram without appid", tok: "app", endpoint: add, body: `{"miniprogram":{"title":"t","pic_media_id":"M","page":"/p"}}`, want: 90200},
		{name: "add miniprogram title 65 bytes", tok: "app", endpoint: add, body: `{"miniprogram":{"title":"` + repeatStr("a", 65) + `","pic_media_id":"M","appid":"wx1","page":"/p"}}`, want: 45002},
		{name: "add file without media_id", tok: "app", endpoint: add, body: `{"file":{}}`, want: 41006},
		{name: "add a bad link after an image is ignored", tok: "app", endpoint: add, body: `{"image":{"media_id":"M"},"link":{}}`, want: 0},
		{name: "add the 101st", tok: "app", endpoint: add, setup: full, body: `{"text":{"content":"hi"}}`, want: 41055},
		{name: "edit without template_id", tok: "app", endpoint: "externalcontact/group_welcome_template/edit", body: `{"text":{"content":"hi"}}`, want: 84019},
		{name: "edit unknown", tok: "app", endpoint: "externalcontact/group_welcome_template/edit", body: `{"template_id":"msgnope","text":{"content":"hi"}}`, want: 84020},
		{name: "get unknown", tok: "app", endpoint: "externalcontact/group_welcome_template/get", body: `{"template_id":"msgnope"}`, want: 84020},
		{name: "del without template_id", tok: "app", endpoint: "externalcontact/group_welcome_template/del", body: `{}`, want: 84019},
	})
}

func TestGroupWelcomeTemplates(t *testing.T) {
	e := newEnv(t)
	id := addTemplate(e)

	// image wins over link and miniprogram; media_id wins over pic_url.
	e.wantCode(e.post(e.app, "externalcontact/group_welcome_template/edit",
		`{"template_id":"`+id+`","text":{"content":"新"},"link":{"title":"t","url":"https://x"},"image":{"media_id":"M","pic_url":"https://p"}}`), 0)
	got := e.post(e.app, "externalcontact/group_welcome_template/get", `{"template_id":"`+id+`"}`)
	e.wantCode(got, 0)
	if got["text"].(map[string]any)["content"] != "新" || got["image"].(map[string]any)["media_id"] != "M" || got["link"] != nil {
		t.Fatalf("get after edit: %v", got)
	}
	if _, ok := got["image"].(map[string]any)["pic_url"]; ok {
		t.Fatalf("pic_url kept beside media_id: %v", got)
	}
	st, _ := e.srv.State().WelcomeTemplate(id)
	if !st.Notify || st.Owner != "operator" {
		t.Fatalf("stored: %+v (notify defaults to 1; the adding app owns it)", st)
	}

	// An edit replaces the whole content: the image goes when the edit has only text.
	e.wantCode(e.post(e.app, "externalcontact/group_welcome_template/edit", `{"template_id":"`+id+`","text":{"content":"x"}}`), 0)
	if got := e.post(e.app, "externalcontact/group_welcome_template/get", `{"template_id":"`+id+`"}`); got["image"] != nil {
		t.Fatalf("image kept: %v", got)
	}

	// Only the adding app edits and deletes (41058); any permitted app reads.
	second := e.secondApp()
	e.wantCode(e.post(second, "externalcontact/group_welcome_template/get", `{"template_id":"`+id+`"}`), 0)
	e.wantCode(e.post(second, "externalcontact/group_welcome_template/edit", `{"template_id":"`+id+`","text":{"content":"y"}}`), 41058)
	e.wantCode(e.post(second, "externalcontact/group_welcome_template/del", `{"template_id":"`+id+`"}`), 41058)
	e.wantCode(e.post(e.app, "externalcontact/group_welcome_template/del", `{"template_id":"`+id+`"}`), 0)
	e.wantCode(e.post(e.app, "externalcontact/group_welcome_template/del", `{"template_id":"`+id+`"}`), 84020)
}
