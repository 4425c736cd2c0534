package wecomsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// addWay creates a single-member QR contact way through the API.
func (e *env) addWay(state string, user string) string {
	e.t.Helper()
	m := e.post(e.app, "externalcontact/add_contact_way", fmt.Sprintf(`{"type":1,"scene":2,"state":%q,"user":[%q]}`, state, user))
	e.wantCode(m, 0)
	return m["config_id"].(string)
}

func TestScanPushesAddExternalContact(t *testing.T) {
	e := newEnv(t)
	app, limited, syncRv := newReceiver(t), newReceiver(t), newReceiver(t)
	mustCallback(t, e.srv.Sim, DemoAgentID, app)
	mustCallback(t, e.srv.Sim, DemoLimitedAgentID, limited) // no customer-contact permission
	mustCallback(t, e.srv.Sim, 0, syncRv)                   // the contacts-sync app has none either
	configID := e.addWay("teststate", "zhangsan")
	callsBefore := len(e.srv.Calls())

	res, err := e.srv.Scan(ScanRequest{ConfigID: configID})
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID != "zhangsan" || res.State != "teststate" || !strings.HasPrefix(res.ExternalUserID, "wm") ||
		len(res.ExternalUserID) != 32 || res.WelcomeCode == "" || len(res.Deliveries) != 1 {
		t.Fatalf("scan %+v", res)
	}
	d := app.next()
	ev, ok := d.event.(*wecom.ExternalContactEvent)
	if !ok {
		t.Fatalf("event %T %s", d.event, d.plaintext)
	}
	h := ev.Header()
	if h.Event != wecom.EventChangeExternalContact || h.ChangeType != wecom.ChangeAddExternalContact ||
		h.FromUserName != "sys" || h.ToUserName != DemoCorpID || h.CreateTime != testStart.Unix() {
		t.Fatalf("header %+v", h)
	}
	if ev.UserID != "zhangsan" || ev.ExternalUserID != res.ExternalUserID || ev.State != "teststate" || ev.WelcomeCode != res.WelcomeCode {
		t.Fatalf("event %+v", ev)
	}
	wantElements(t, d.plaintext, "UserID", "ExternalUserID", "State", "WelcomeCode")
	// An app callback's envelope names the app.
	if !bytes.Contains(d.body, []byte(fmt.Sprintf("<AgentID><![CDATA[%d]]></AgentID>", DemoAgentID))) {
		t.Fatalf("envelope %s", d.body)
	}
	waitDeliveries(t, e.srv.Sim, 1)
	if n := len(limited.received()) + len(syncRv.received()); n != 0 {
		t.Fatalf("apps without customer contact got %d events", n)
	}
	if n := len(e.srv.Calls()); n != callsBefore {
		t.Fatal("a scan reached the call log")
	}
	st := e.srv.State()
	if len(st.ExternalContacts) != 1 {
		t.Fatalf("external contacts %+v", st.ExternalContacts)
	}
	if c := st.ExternalContacts[0]; c.ExternalUserID != res.ExternalUserID || c.UserID != "zhangsan" || c.State != "teststate" ||
		c.ConfigID != configID || !c.AddTime.Equal(testStart) {
		t.Fatalf("external contact %+v", c)
	}

	// By state; each scan is a new customer.
	again, err := e.srv.Scan(ScanRequest{State: "teststate"})
	if err != nil || again.ExternalUserID == res.ExternalUserID || again.WelcomeCode == res.WelcomeCode {
		t.Fatalf("second scan %+v %v", again, err)
	}
	for _, bad := range []ScanRequest{{}, {ConfigID: "nope"}, {State: "nope"}} {
		if _, err := e.srv.Scan(bad); err == nil {
			t.Errorf("scan %+v accepted", bad)
		}
	}

	// A multi-member way with a department only: its first member is added.
	m := e.post(e.app, "externalcontact/add_contact_way", `{"type":2,"scene":2,"state":"sre","party":[3]}`)
	e.wantCode(m, 0)
	if res, err := e.srv.Scan(ScanRequest{ConfigID: m["config_id"].(string)}); err != nil || res.UserID != "wangwu" {
		t.Fatalf("party way scan %+v %v", res, err)
	}
	// A customer of a member outside an app's visible range is not pushed to it.
	lim := Seed{Apps: []App{{Name: "limited", Secret: DemoLimitedAppSecret, AgentID: DemoLimitedAgentID, VisibleParties: []int64{3}, CustomerContact: true}}}
	if err := e.srv.Seed(lim); err != nil {
		t.Fatal(err)
	}
	if res, err := e.srv.Scan(ScanRequest{ConfigID: configID}); err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("zhangsan is outside the limited app's range: %+v %v", res, err)
	}
}

func TestSendWelcomeMsg(t *testing.T) {
	e := newEnv(t)
	configID := e.addWay("welcome", "zhangsan")
	scan := func() ScanResult {
		t.Helper()
		res, err := e.srv.Scan(ScanRequest{ConfigID: configID})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	send := func(tok, body string) map[string]any {
		t.Helper()
		return e.post(tok, "externalcontact/send_welcome_msg", body)
	}

	first := scan()
	body := fmt.Sprintf(`{"welcome_code":%q,"text":{"content":"你好，%%NICKNAME%%"},
		"attachments":[{"msgtype":"link","link":{"title":"Docs","picurl":"https://example.com/p.png","desc":"d","url":"https://example.com/docs"}},
		{"msgtype":"image","image":{"media_id":"MEDIA","pic_url":"https://p.qpic.cn/x"}}]}`, first.WelcomeCode)
	e.wantCode(send(e.lim, body), codeNoPermission) // no customer-contact permission: 48002
	e.wantCode(send(e.app, body), 0)
	e.wantCode(send(e.app, body), codeWelcomeChatStarted) // once only: 41051

	// Every refusal; none of them uses the code up.
	second := scan()
	c := second.WelcomeCode
	link := func(l string) string { return `{"msgtype":"link","link":` + l + `}` }
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{}`, codeMissingWelcomeCode},
		{`{"welcome_code":"","text":{"content":"x"}}`, codeMissingWelcomeCode},
		{fmt.Sprintf(`{"welcome_code":%q}`, c), codeEmptyContent},
		{fmt.Sprintf(`{"welcome_code":%q,"text":{"content":""},"attachments":[]}`, c), codeEmptyContent},
		{fmt.Sprintf(`{"welcome_code":%q,"text":{"content":%q}}`, c, strings.Repeat("字", 1334)), codeContentTooLarge}, // 4002 bytes
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[%s]}`, c, strings.Repeat(`{"msgtype":"file","file":{"media_id":"m"}},`, 9)+`{"msgtype":"file","file":{"media_id":"m"}}`), codeTooManyAttachments},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[{"msgtype":"voice","voice":{"media_id":"m"}}]}`, c), codeInvalidAttachmentType},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[{"image":{"media_id":"m"}}]}`, c), codeInvalidAttachmentType},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[{"msgtype":"image","image":{}}]}`, c), codeMissingMediaID},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[{"msgtype":"image","link":{"title":"t","url":"https://x"}}]}`, c), codeMissingMediaID},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[%s]}`, c, link(`{"url":"https://x"}`)), codeMissingTitle},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[%s]}`, c, link(`{"title":"t"}`)), codeMissingURL},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[%s]}`, c, link(`{"title":"t","url":"example.com"}`)), codeURLNoProtocol},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[%s]}`, c, link(fmt.Sprintf(`{"title":%q,"url":"https://x"}`, strings.Repeat("t", 129)))), codeContentTooLarge},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[%s]}`, c, link(fmt.Sprintf(`{"title":"t","desc":%q,"url":"https://x"}`, strings.Repeat("d", 513)))), codeContentTooLarge},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[{"msgtype":"miniprogram","miniprogram":{"title":"t","pic_media_id":"m","page":"/p"}}]}`, c), codeMissingMiniAppID},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[{"msgtype":"miniprogram","miniprogram":{"title":"t","appid":"wx1","page":"/p"}}]}`, c), codeMissingMediaID},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[{"msgtype":"miniprogram","miniprogram":{"title":%q,"pic_media_id":"m","appid":"wx1","page":"/p"}}]}`, c, strings.Repeat("t", 65)), codeContentTooLarge},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":[{"msgtype":"video","video":{}}]}`, c), codeMissingMediaID},
		{fmt.Sprintf(`{"welcome_code":%q,"attachments":"x"}`, c), codeInvalidParam},
		{`{"welcome_code":"no-such-code","text":{"content":"x"}}`, codeInvalidWelcomeCode},
	} {
		if got := code(send(e.app, tc.body)); got != tc.want {
			t.Errorf("%.120s: errcode %d, want %d", tc.body, got, tc.want)
		}
	}
	// Attachments alone (no text) are fine, and the refusals above left the code usable.
	e.wantCode(send(e.app, fmt.Sprintf(`{"welcome_code":%q,"attachments":[
		{"msgtype":"miniprogram","miniprogram":{"title":"t","pic_media_id":"m","appid":"wx1","page":"/p"}},
		{"msgtype":"video","video":{"media_id":"v"}},{"msgtype":"file","file":{"media_id":"f"}},
		{"msgtype":"image","image":{"pic_url":"https://p.qpic.cn/y"}}]}`, c)), 0)

	// 20 s on the simulator clock: still valid at 20 s, expired after.
	onTime, late := scan(), scan()
	e.srv.Advance(20 * time.Second)
	e.wantCode(send(e.app, fmt.Sprintf(`{"welcome_code":%q,"text":{"content":"hi"}}`, onTime.WelcomeCode)), 0)
	e.srv.Advance(time.Second)
	e.wantCode(send(e.app, fmt.Sprintf(`{"welcome_code":%q,"text":{"content":"hi"}}`, late.WelcomeCode)), codeInvalidWelcomeCode)

	// What was sent, for tests to count.
	st := e.srv.State()
	if len(st.WelcomeMessages) != 3 {
		t.Fatalf("welcome messages %+v", st.WelcomeMessages)
	}
	w := st.WelcomeMessages[0]
	if w.WelcomeCode != first.WelcomeCode || w.ExternalUserID != first.ExternalUserID || w.UserID != "zhangsan" ||
		w.AgentID != DemoAgentID || w.Text != "你好，%NICKNAME%" || len(w.Attachments) != 2 || !w.SentAt.Equal(testStart) {
		t.Fatalf("first welcome %+v", w)
	}
	if l := w.Attachments[0].Link; w.Attachments[0].MsgType != "link" || l == nil || l.URL != "https://example.com/docs" || l.PicURL != "https://example.com/p.png" {
		t.Fatalf("link attachment %+v", w.Attachments[0])
	}
	// media_id wins over pic_url.
	if img := w.Attachments[1].Image; img == nil || img.MediaID != "MEDIA" || img.PicURL != "" {
		t.Fatalf("image attachment %+v", w.Attachments[1])
	}
	if a := st.WelcomeMessages[1].Attachments; len(a) != 4 || a[0].MiniProgram.AppID != "wx1" || a[1].Video.MediaID != "v" ||
		a[2].File.MediaID != "f" || a[3].Image.PicURL != "https://p.qpic.cn/y" || st.WelcomeMessages[1].Text != "" {
		t.Fatalf("second welcome %+v", st.WelcomeMessages[1])
	}
	// Also through GET /sim/state.
	_, raw, _ := e.do("GET", "/sim/state", "")
	b, _ := json.Marshal(raw)
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil || len(snap.WelcomeMessages) != 3 || len(snap.ExternalContacts) != 4 {
		t.Fatalf("GET /sim/state: %d welcome messages, %d customers, %v", len(snap.WelcomeMessages), len(snap.ExternalContacts), err)
	}
	// send_welcome_msg is an API call like any other.
	if n := e.srv.CallCount("externalcontact/send_welcome_msg"); n != 27 {
		t.Fatalf("%d send_welcome_msg calls logged", n)
	}
}
