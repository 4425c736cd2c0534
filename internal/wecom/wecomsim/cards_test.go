package wecomsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Interactive cards (§13 template_card_event, §14 update_template_card).

// ackCard is a button card for lisi and wangwu: Acknowledge (callback),
// Silence 1h (callback) and a URL button.
const ackCard = `{"touser":"lisi|wangwu","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"button_interaction","task_id":"alert-1","main_title":{"title":"CPU high","desc":"critical"},"button_list":[{"text":"Acknowledge","key":"ack","style":1},{"text":"Silence 1h","key":"silence-1h","style":2},{"text":"Runbook","type":1,"key":"runbook","url":"https://example.com/runbook"}]}}`

// newCardEnv is an env whose operator app has a saved callback.
func newCardEnv(t *testing.T) (*env, *receiver) {
	t.Helper()
	e := newEnv(t)
	rv := newReceiver(t)
	mustCallback(t, e.srv.Sim, DemoAgentID, rv)
	return e, rv
}

// send sends a message/send body that must succeed and returns its
// response_code.
func (e *env) sendCard(body string) string {
	e.t.Helper()
	m := e.post(e.app, "message/send", body)
	e.wantCode(m, 0)
	rc, _ := m["response_code"].(string)
	if rc == "" {
		e.t.Fatalf("no response_code: %v", m)
	}
	return rc
}

// update calls message/update_template_card with the operator app.
func (e *env) update(body string) map[string]any {
	e.t.Helper()
	return e.post(e.app, "message/update_template_card", body)
}

func replaceBody(rc, extra string) string {
	return `{"userids":["lisi"],"agentid":1000002,"response_code":"` + rc + `","button":{"replace_name":"Acknowledged by 李四"}` + extra + `}`
}

func invalidUsers(t *testing.T, m map[string]any) []string {
	t.Helper()
	raw, ok := m["invaliduser"].([]any)
	if !ok {
		t.Fatalf("invaliduser is not an array: %v", m)
	}
	out := []string{}
	for _, v := range raw {
		out = append(out, v.(string))
	}
	return out
}

func (e *env) cardState(taskID string) CardState {
	e.t.Helper()
	c, ok := e.srv.State().Card(DemoAgentID, taskID)
	if !ok {
		e.t.Fatalf("no card %q in the state", taskID)
	}
	return c
}

func (e *env) member(c CardState, userid string) MemberCard {
	e.t.Helper()
	m, ok := c.Member(userid)
	if !ok {
		e.t.Fatalf("card %q has no member %q: %+v", c.TaskID, userid, c.Members)
	}
	return m
}

func buttonTexts(m MemberCard) []string {
	var out []string
	for _, b := range m.Buttons {
		out = append(out, b.Text)
	}
	return out
}

func TestUpdateTemplateCardValidation(t *testing.T) {
	// Each row gets a fresh simulator in which the operator app sent ackCard;
	// RC in the body is that send's response_code.
	menuCard := `{"touser":"lisi","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"text_notice","task_id":"menu-1","main_title":{"title":"t"},"card_action":{"type":1,"url":"https://x"},"action_menu":{"action_list":[{"text":"mute","key":"mute"}]}}}`
	rows := []struct {
		name  string
		tok   string // "app" (default) or "lim"
		card  string // default ackCard
		setup func(e *env) string
		body  string
		want  int
	}{
		{name: "ok", body: replaceBody("RC", ""), want: 0},
		{name: "agentid missing", body: `{"userids":["lisi"],"response_code":"RC","button":{"replace_name":"x"}}`, want: 41011},
		{name: "agentid not a number", body: `{"userids":["lisi"],"agentid":"x","response_code":"RC","button":{"replace_name":"x"}}`, want: 40056},
		{name: "agentid as a string ok", body: `{"userids":["lisi"],"agentid":"1000002","response_code":"RC","button":{"replace_name":"x"}}`, want: 0},
		{name: "agentid of another app", body: `{"userids":["lisi"],"agentid":1000003,"response_code":"RC","button":{"replace_name":"x"}}`, want: 301002},
		{name: "response_code missing", body: `{"userids":["lisi"],"agentid":1000002,"button":{"replace_name":"x"}}`, want: 60140},
		{name: "response_code unknown", body: replaceBody("nope", ""), want: 60140},
		{name: "card sent by another app", tok: "lim", setup: func(e *env) string {
			return e.sendCard(ackCard) // by the operator app; the limited app updates
		}, body: `{"userids":["wangwu"],"agentid":1000003,"response_code":"RC","button":{"replace_name":"x"}}`, want: 42015},
		{name: "1001 userids", body: `{"userids":[` + strings.TrimSuffix(repeatStr(`"u",`, 1001), ",") + `],"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 40032},
		{name: "101 partyids", body: `{"partyids":` + jsonInts(101) + `,"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 82002},
		{name: "101 tagids", body: `{"tagids":` + jsonInts(101) + `,"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 82003},
		{name: "no targets", body: `{"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 82001},
		{name: "atall 0 and empty lists", body: `{"userids":[],"partyids":null,"atall":0,"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 82001},
		{name: "atall ok", body: `{"atall":1,"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 0},
		{name: "party of recipients ok", body: `{"partyids":[3],"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 0},
		{name: "tag of recipients ok", body: `{"tagids":[1],"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 0},
		{name: "party without recipients", body: `{"partyids":[4],"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 81013},
		{name: "only non-recipients", body: `{"userids":["zhaoliu","nobody"],"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 81013},
		{name: "neither button nor template_card", body: `{"userids":["lisi"],"agentid":1000002,"response_code":"RC"}`, want: 40058},
		{name: "button null is absent", body: `{"userids":["lisi"],"agentid":1000002,"response_code":"RC","button":null}`, want: 40058},
		{name: "button and template_card", body: `{"userids":["lisi"],"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"},"template_card":{"card_type":"text_notice","main_title":{"title":"t"},"card_action":{"type":1,"url":"https://x"}}}`, want: 40058},
		{name: "replace_name empty", body: `{"userids":["lisi"],"agentid":1000002,"response_code":"RC","button":{"replace_name":""}}`, want: 42020},
		{name: "button on an action_menu card", card: menuCard, body: `{"userids":["lisi"],"agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 40058},
		{name: "template_card on an action_menu card ok", card: menuCard, body: `{"userids":["lisi"],"agentid":1000002,"response_code":"RC","template_card":{"card_type":"text_notice","main_title":{"title":"muted"},"card_action":{"type":1,"url":"https://x"}}}`, want: 0},
		{name: "template_card of another type ok", body: `{"atall":1,"agentid":1000002,"response_code":"RC","template_card":{"card_type":"text_notice","main_title":{"title":"resolved"},"card_action":{"type":1,"url":"https://x"}}}`, want: 0},
		{name: "template_card checked like send", body: `{"atall":1,"agentid":1000002,"response_code":"RC","template_card":{"card_type":"text_notice","main_title":{"title":"resolved"}}}`, want: 42045},
		{name: "template_card button without text", body: `{"atall":1,"agentid":1000002,"response_code":"RC","template_card":` + btnCard(`"task_id":"alert-1"`, `{"key":"k"}`) + `}`, want: 42038},
		{name: "template_card interactive without task_id", body: `{"atall":1,"agentid":1000002,"response_code":"RC","template_card":` + btnCard(``, `{"text":"a","key":"k"}`) + `}`, want: 42014},
		{name: "template_card with another task_id", body: `{"atall":1,"agentid":1000002,"response_code":"RC","template_card":` + btnCard(`"task_id":"alert-2"`, `{"text":"a","key":"k"}`) + `}`, want: 42014},
		{name: "template_card with the same task_id ok", body: `{"atall":1,"agentid":1000002,"response_code":"RC","template_card":` + btnCard(`"task_id":"alert-1"`, `{"text":"a","key":"k"}`) + `}`, want: 0},
		{name: "unknown card_type", body: `{"atall":1,"agentid":1000002,"response_code":"RC","template_card":{"card_type":"poll"}}`, want: 40058},
		{name: "empty body", body: ``, want: 40063},
		{name: "userids as a string", body: `{"userids":"lisi","agentid":1000002,"response_code":"RC","button":{"replace_name":"x"}}`, want: 40058},
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.name] {
			t.Fatalf("duplicate row %q", r.name)
		}
		seen[r.name] = true
		t.Run(r.name, func(t *testing.T) {
			e, _ := newCardEnv(t)
			var rc string
			if r.setup != nil {
				rc = r.setup(e)
			} else {
				c := r.card
				if c == "" {
					c = ackCard
				}
				rc = e.sendCard(c)
			}
			tok := e.app
			if r.tok == "lim" {
				tok = e.lim
			}
			m := e.post(tok, "message/update_template_card", strings.ReplaceAll(r.body, "RC", rc))
			if got := code(m); got != r.want {
				calls := e.srv.CallsTo("message/update_template_card")
				t.Fatalf("errcode %d, want %d (reply %v; detail %q)", got, r.want, m, calls[len(calls)-1].Detail)
			}
			if r.want == 0 {
				invalidUsers(t, m) // always an array
			} else if r.want != 40063 {
				// A refused update leaves the code unused.
				again := replaceBody(rc, "")
				if r.card == menuCard {
					again = `{"userids":["lisi"],"agentid":1000002,"response_code":"` + rc + `","template_card":{"card_type":"text_notice","main_title":{"title":"t"},"card_action":{"type":1,"url":"https://x"}}}`
				}
				e.wantCode(e.update(again), 0)
			}
		})
	}
}

func TestUpdateTemplateCardCodeIsSingleUse(t *testing.T) {
	e, _ := newCardEnv(t)
	rc := e.sendCard(ackCard)
	m := e.update(`{"userids":["LiSi","zhaoliu","nobody"],"agentid":1000002,"response_code":"` + rc + `","button":{"replace_name":"Acknowledged"}}`)
	e.wantCode(m, 0)
	if got := invalidUsers(t, m); !slices.Equal(got, []string{"zhaoliu", "nobody"}) {
		t.Fatalf("invaliduser %v, want the non-recipients", got)
	}
	e.wantCode(e.update(replaceBody(rc, "")), 60140) // used

	c := e.cardState("alert-1")
	if !slices.Equal(c.Recipients, []string{"lisi", "wangwu"}) || c.CardType != "button_interaction" || c.MsgID == "" {
		t.Fatalf("card %+v", c)
	}
	lisi, wangwu := e.member(c, "lisi"), e.member(c, "wangwu")
	if lisi.ReplaceName != "Acknowledged" || !slices.Equal(buttonTexts(lisi), []string{"Acknowledged"}) || !lisi.Buttons[0].Disabled ||
		lisi.Updates != 1 || !lisi.UpdatedAt.Equal(testStart) || lisi.MainTitle != "CPU high" {
		t.Fatalf("lisi's card after replace_name: %+v", lisi)
	}
	if wangwu.ReplaceName != "" || !slices.Equal(buttonTexts(wangwu), []string{"Acknowledge", "Silence 1h", "Runbook"}) || wangwu.Updates != 0 {
		t.Fatalf("wangwu's card changed: %+v", wangwu)
	}
	if len(c.Updates) != 1 || c.Updates[0].ResponseCode != rc || c.Updates[0].ClickedBy != "" ||
		!slices.Equal(c.Updates[0].Members, []string{"lisi"}) || c.Updates[0].ReplaceName != "Acknowledged" {
		t.Fatalf("updates %+v", c.Updates)
	}
}

func TestUpdateTemplateCardCodeExpiresAfter72h(t *testing.T) {
	e, _ := newCardEnv(t)
	rc1 := e.sendCard(ackCard)
	rc2 := e.sendCard(strings.Replace(ackCard, "alert-1", "alert-2", 1))
	e.srv.Advance(responseCodeTTL)
	e.refresh()
	e.wantCode(e.update(replaceBody(rc1, "")), 0) // exactly 72 h: still valid
	e.srv.Advance(time.Second)
	e.refresh()
	e.wantCode(e.update(replaceBody(rc2, "")), 60140)
	if c := e.cardState("alert-2"); len(c.Updates) != 0 || e.member(c, "lisi").ReplaceName != "" {
		t.Fatalf("expired code changed the card: %+v", c)
	}
}

func TestUpdateTemplateCardReplacesCard(t *testing.T) {
	e, rv := newCardEnv(t)
	rc := e.sendCard(ackCard)
	resolved := btnCard(`"task_id":"alert-1","main_title":{"title":"Resolved"}`, `{"text":"Reopen","key":"reopen"}`)
	resolved = strings.Replace(resolved, `"main_title":{"title":"t"},`, "", 1)
	m := e.update(`{"atall":1,"agentid":1000002,"response_code":"` + rc + `","template_card":` + resolved + `}`)
	e.wantCode(m, 0)
	if got := invalidUsers(t, m); len(got) != 0 {
		t.Fatalf("invaliduser %v", got)
	}
	c := e.cardState("alert-1")
	for _, uid := range []string{"lisi", "wangwu"} {
		mc := e.member(c, uid)
		if mc.CardType != "button_interaction" || mc.MainTitle != "Resolved" || !slices.Equal(buttonTexts(mc), []string{"Reopen"}) ||
			!strings.Contains(string(mc.Card), `"reopen"`) || mc.ReplaceName != "" {
			t.Fatalf("%s's card after a template_card update: %+v", uid, mc)
		}
	}
	if c.CardType != "button_interaction" || !strings.Contains(string(c.Card), `"CPU high"`) {
		t.Fatalf("the card as sent changed: %s", c.Card)
	}
	// The replacement's buttons are what members click now.
	if _, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "lisi", Key: "ack"}); err == nil || !strings.Contains(err.Error(), "reopen") {
		t.Fatalf("click on a replaced button: %v", err)
	}
	res, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "lisi", Key: "reopen"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := rv.next().event.(*wecom.TemplateCardEvent); ev.EventKey != "reopen" || ev.ResponseCode != res.ResponseCode {
		t.Fatalf("event %+v", ev)
	}
	// A notice card without buttons can replace an interactive one.
	notice := `{"card_type":"text_notice","main_title":{"title":"Resolved at 10:02"},"card_action":{"type":1,"url":"https://x"}}`
	e.wantCode(e.update(`{"userids":["wangwu"],"agentid":1000002,"response_code":"`+res.ResponseCode+`","template_card":`+notice+`}`), 0)
	mc := e.member(e.cardState("alert-1"), "wangwu")
	if mc.CardType != "text_notice" || mc.MainTitle != "Resolved at 10:02" || len(mc.Buttons) != 0 || mc.Updates != 2 {
		t.Fatalf("wangwu's card: %+v", mc)
	}
	if _, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "wangwu", Key: "reopen"}); err == nil {
		t.Fatal("click on a card without buttons accepted")
	}
}

func TestClickCardPushesTemplateCardEvent(t *testing.T) {
	e, rv := newCardEnv(t)
	sendCode := e.sendCard(ackCard)
	e.srv.Advance(90 * time.Second)

	// Only recipients may click, only callback buttons of the card.
	refused := []struct {
		click CardClick
		want  string
	}{
		{CardClick{TaskID: "alert-1", UserID: "zhaoliu", Key: "ack"}, "not a recipient"},
		{CardClick{TaskID: "alert-1", UserID: "", Key: "ack"}, "not a recipient"},
		{CardClick{TaskID: "alert-9", UserID: "lisi", Key: "ack"}, "no interactive card"},
		{CardClick{TaskID: "alert-1", UserID: "lisi", Key: "nope"}, "no callback button"},
		{CardClick{TaskID: "alert-1", UserID: "lisi", Key: ""}, "needs key"},
		{CardClick{AgentID: DemoLimitedAgentID, TaskID: "alert-1", UserID: "lisi", Key: "ack"}, "app 1000003 sent no"},
		{CardClick{TaskID: "alert-1", UserID: "lisi", Key: "ack", Selected: []CardSelection{{QuestionKey: "q", OptionIDs: []string{"a"}}}}, "no question"},
	}
	for _, r := range refused {
		if _, err := e.srv.ClickCard(r.click); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Fatalf("click %+v: error %v, want %q", r.click, err, r.want)
		}
	}
	if n := len(e.srv.Deliveries()); n != 0 {
		t.Fatalf("%d deliveries after refused clicks", n)
	}

	res, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "LISI", Key: "silence-1h"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Event != wecom.EventTemplateCard || res.UserID != "lisi" || res.AgentID != DemoAgentID || res.CardType != "button_interaction" ||
		res.ResponseCode == "" || res.ResponseCode == sendCode || res.Delivery == 0 {
		t.Fatalf("result %+v", res)
	}
	d := rv.next()
	if d.header.Get("Content-Type") == "" || d.query.Get("msg_signature") == "" {
		t.Fatalf("delivery %+v", d)
	}
	ev, ok := d.event.(*wecom.TemplateCardEvent)
	if !ok {
		t.Fatalf("parsed %T, want *wecom.TemplateCardEvent", d.event)
	}
	now := testStart.Add(90 * time.Second).Unix()
	if ev.Event != wecom.EventTemplateCard || ev.FromUserName != "lisi" || ev.ToUserName != DemoCorpID || ev.CreateTime != now ||
		ev.EventKey != "silence-1h" || ev.TaskID != "alert-1" || ev.CardType != "button_interaction" ||
		ev.ResponseCode != res.ResponseCode || ev.AgentID != DemoAgentID || len(ev.SelectedItems) != 0 {
		t.Fatalf("event %+v", ev)
	}
	if got := elements(t, d.plaintext); !slices.Equal(got, []string{"ToUserName", "FromUserName", "CreateTime", "MsgType", "Event",
		"EventKey", "TaskId", "CardType", "ResponseCode", "AgentID"}) {
		t.Fatalf("elements %v\n%s", got, d.plaintext)
	}
	dl := waitDeliveries(t, e.srv.Sim, 1)[0]
	if !dl.Acked || dl.AgentID != DemoAgentID || dl.Event != wecom.EventTemplateCard || dl.UserID != "lisi" ||
		dl.TaskID != "alert-1" || dl.EventKey != "silence-1h" || dl.Seq != res.Delivery {
		t.Fatalf("delivery log %+v", dl)
	}
	lisi := e.member(e.cardState("alert-1"), "lisi")
	if lisi.Clicks != 1 || lisi.ClickedKey != "silence-1h" || lisi.ClickedAt.Unix() != now {
		t.Fatalf("lisi's card after the click: %+v", lisi)
	}

	// The click's code updates the card once; the send's code is separate.
	e.wantCode(e.update(`{"atall":1,"agentid":1000002,"response_code":"`+ev.ResponseCode+`","button":{"replace_name":"Silenced 1h by 李四"}}`), 0)
	e.wantCode(e.update(`{"atall":1,"agentid":1000002,"response_code":"`+ev.ResponseCode+`","button":{"replace_name":"again"}}`), 60140)
	c := e.cardState("alert-1")
	if u := c.Updates[0]; u.ClickedBy != "lisi" || !slices.Equal(u.Members, []string{"lisi", "wangwu"}) {
		t.Fatalf("update %+v", u)
	}
	for _, uid := range []string{"lisi", "wangwu"} {
		if mc := e.member(c, uid); !slices.Equal(buttonTexts(mc), []string{"Silenced 1h by 李四"}) {
			t.Fatalf("%s's buttons %v", uid, buttonTexts(mc))
		}
	}
	// Greyed-out buttons can't be clicked.
	if _, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "wangwu", Key: "ack"}); err == nil || !strings.Contains(err.Error(), "greyed out") {
		t.Fatalf("click on a greyed-out button: %v", err)
	}
	e.wantCode(e.update(replaceBody(sendCode, "")), 0)
}

func TestClickCardEdgeCases(t *testing.T) {
	e, rv := newCardEnv(t)
	e.sendCard(ackCard)
	// A URL button sends nothing.
	if _, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "lisi", Key: "runbook"}); err == nil || !strings.Contains(err.Error(), "opens a URL") {
		t.Fatalf("click on a URL button: %v", err)
	}
	// Each click is a new event with a new code (a member may click again).
	a, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "lisi", Key: "ack"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "lisi", Key: "ack"})
	if err != nil {
		t.Fatal(err)
	}
	ea, eb := rv.next().event.(*wecom.TemplateCardEvent), rv.next().event.(*wecom.TemplateCardEvent)
	if a.ResponseCode == b.ResponseCode || ea.ResponseCode != a.ResponseCode || eb.ResponseCode != b.ResponseCode || ea.Identity == eb.Identity {
		t.Fatalf("two clicks: %+v %+v", ea, eb)
	}
	if m := e.member(e.cardState("alert-1"), "lisi"); m.Clicks != 2 {
		t.Fatalf("clicks %d", m.Clicks)
	}

	// Without a callback URL there is nowhere to deliver.
	if err := e.srv.SetCallback(DemoAgentID, "", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "wangwu", Key: "ack"}); err == nil || !strings.Contains(err.Error(), "no callback URL") {
		t.Fatalf("click without a callback: %v", err)
	}
	mustCallback(t, e.srv.Sim, DemoAgentID, rv)

	// A recalled card can't be clicked.
	msgid := e.cardState("alert-1").MsgID
	e.wantCode(e.post(e.app, "message/recall", `{"msgid":"`+msgid+`"}`), 0)
	if _, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "wangwu", Key: "ack"}); err == nil || !strings.Contains(err.Error(), "recalled") {
		t.Fatalf("click on a recalled card: %v", err)
	}
	if !e.cardState("alert-1").Recalled {
		t.Fatal("card not marked recalled")
	}

	// Two apps with the same task_id: the click names the app.
	mustCallback(t, e.srv.Sim, DemoLimitedAgentID, rv)
	e.wantCode(e.post(e.lim, "message/send", strings.NewReplacer("lisi|wangwu", "wangwu", "1000002", "1000003").Replace(ackCard)), 0)
	if _, err := e.srv.ClickCard(CardClick{TaskID: "alert-1", UserID: "wangwu", Key: "ack"}); err == nil || !strings.Contains(err.Error(), "give agent_id") {
		t.Fatalf("ambiguous task_id: %v", err)
	}
	res, err := e.srv.ClickCard(CardClick{AgentID: DemoLimitedAgentID, TaskID: "alert-1", UserID: "wangwu", Key: "ack"})
	if err != nil || res.AgentID != DemoLimitedAgentID {
		t.Fatalf("click on the limited app's card: %+v %v", res, err)
	}
	if ev := rv.next().event.(*wecom.TemplateCardEvent); ev.AgentID != DemoLimitedAgentID {
		t.Fatalf("event %+v", ev)
	}
	// The limited app's code is not the operator app's (42015).
	e.wantCode(e.update(`{"atall":1,"agentid":1000002,"response_code":"`+res.ResponseCode+`","button":{"replace_name":"x"}}`), 42015)

	// ClearMessages forgets cards and codes.
	e.srv.ClearMessages()
	if n := len(e.srv.Cards()); n != 0 {
		t.Fatalf("%d cards after ClearMessages", n)
	}
	e.wantCode(e.post(e.lim, "message/update_template_card", `{"atall":1,"agentid":1000003,"response_code":"`+res.ResponseCode+`","button":{"replace_name":"x"}}`), 60140)
}

func TestClickCardMenuAndSelections(t *testing.T) {
	e, rv := newCardEnv(t)
	// A text_notice with an action_menu: the send returns a code, and a menu
	// click is a template_card_menu_event.
	menuRC := e.sendCard(`{"touser":"lisi","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"text_notice","task_id":"digest-1","main_title":{"title":"Digest"},"card_action":{"type":1,"url":"https://x"},"action_menu":{"desc":"more","action_list":[{"text":"Mute","key":"mute"}]}}}`)
	res, err := e.srv.ClickCard(CardClick{TaskID: "digest-1", UserID: "lisi", Key: "mute"})
	if err != nil {
		t.Fatal(err)
	}
	ev := rv.next().event.(*wecom.TemplateCardEvent)
	if res.Event != wecom.EventTemplateCardMenu || ev.Event != wecom.EventTemplateCardMenu || ev.EventKey != "mute" || ev.CardType != "text_notice" || ev.ResponseCode != res.ResponseCode {
		t.Fatalf("menu click %+v, event %+v", res, ev)
	}
	if m := e.member(e.cardState("digest-1"), "lisi"); len(m.Menu) != 1 || m.Menu[0].Key != "mute" || m.ClickedKey != "mute" {
		t.Fatalf("menu card state %+v", m)
	}
	e.wantCode(e.update(`{"userids":["lisi"],"agentid":1000002,"response_code":"`+menuRC+`","template_card":{"card_type":"text_notice","main_title":{"title":"Muted"},"card_action":{"type":1,"url":"https://x"}}}`), 0)

	// A vote: the given options, or the card's is_checked defaults.
	e.sendCard(`{"touser":"lisi|wangwu","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"vote_interaction","task_id":"vote-1","main_title":{"title":"Which?"},"checkbox":{"question_key":"q1","mode":1,"option_list":[{"id":"a","text":"A","is_checked":true},{"id":"b","text":"B"},{"id":"c","text":"C","is_checked":true}]},"submit_button":{"text":"Vote","key":"submit"}}}`)
	if _, err := e.srv.ClickCard(CardClick{TaskID: "vote-1", UserID: "lisi", Key: "submit", Selected: []CardSelection{{QuestionKey: "q1", OptionIDs: []string{"z"}}}}); err == nil {
		t.Fatal("unknown option accepted")
	}
	if _, err := e.srv.ClickCard(CardClick{TaskID: "vote-1", UserID: "lisi", Key: "submit", Selected: []CardSelection{{QuestionKey: "q1", OptionIDs: []string{}}}}); err == nil {
		t.Fatal("empty vote accepted")
	}
	if _, err := e.srv.ClickCard(CardClick{TaskID: "vote-1", UserID: "lisi", Key: "submit", Selected: []CardSelection{{QuestionKey: "q1", OptionIDs: []string{"b", "c"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.ClickCard(CardClick{TaskID: "vote-1", UserID: "wangwu", Key: "submit"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		user string
		ids  []string
	}{{"lisi", []string{"b", "c"}}, {"wangwu", []string{"a", "c"}}} {
		d := rv.next()
		ev := d.event.(*wecom.TemplateCardEvent)
		if ev.FromUserName != want.user || ev.CardType != "vote_interaction" || ev.EventKey != "submit" || len(ev.SelectedItems) != 1 ||
			ev.SelectedItems[0].QuestionKey != "q1" || !slices.Equal(ev.SelectedItems[0].OptionIDs, want.ids) {
			t.Fatalf("vote event %+v\n%s", ev, d.plaintext)
		}
	}
	if m := e.member(e.cardState("vote-1"), "lisi"); len(m.Selected) != 1 || !slices.Equal(m.Selected[0].OptionIDs, []string{"b", "c"}) ||
		!slices.Equal(buttonTexts(m), []string{"Vote"}) {
		t.Fatalf("vote state %+v", m)
	}

	// multiple_interaction: one option per select; button_selection: one.
	e.sendCard(`{"touser":"lisi","msgtype":"template_card","agentid":1000002,"template_card":{"card_type":"multiple_interaction","task_id":"multi-1","main_title":{"title":"Pick"},"select_list":[{"question_key":"s1","selected_id":"x","option_list":[{"id":"x","text":"X"},{"id":"y","text":"Y"}]},{"question_key":"s2","option_list":[{"id":"m","text":"M"}]}],"submit_button":{"text":"OK","key":"go"}}}`)
	if _, err := e.srv.ClickCard(CardClick{TaskID: "multi-1", UserID: "lisi", Key: "go", Selected: []CardSelection{{QuestionKey: "s1", OptionIDs: []string{"x", "y"}}}}); err == nil {
		t.Fatal("two options for a select accepted")
	}
	if _, err := e.srv.ClickCard(CardClick{TaskID: "multi-1", UserID: "lisi", Key: "go", Selected: []CardSelection{{QuestionKey: "s2", OptionIDs: []string{"m"}}}}); err != nil {
		t.Fatal(err)
	}
	if ev := rv.next().event.(*wecom.TemplateCardEvent); len(ev.SelectedItems) != 2 || ev.SelectedItems[0].OptionIDs[0] != "x" || ev.SelectedItems[1].OptionIDs[0] != "m" {
		t.Fatalf("multiple event %+v", ev)
	}
	e.sendCard(`{"touser":"lisi","msgtype":"template_card","agentid":1000002,"template_card":` +
		btnCard(`"task_id":"sel-1","button_selection":{"question_key":"who","title":"Assign","selected_id":"me","option_list":[{"id":"me","text":"Me"},{"id":"you","text":"You"}]}`, `{"text":"Take","key":"take"}`) + `}`)
	if _, err := e.srv.ClickCard(CardClick{TaskID: "sel-1", UserID: "lisi", Key: "take", Selected: []CardSelection{{QuestionKey: "who", OptionIDs: []string{"you"}}}}); err != nil {
		t.Fatal(err)
	}
	if ev := rv.next().event.(*wecom.TemplateCardEvent); len(ev.SelectedItems) != 1 || ev.SelectedItems[0].QuestionKey != "who" || !slices.Equal(ev.SelectedItems[0].OptionIDs, []string{"you"}) {
		t.Fatalf("button_selection event %+v", ev)
	}
}

func TestCardDuplicateCheckAndRecipients(t *testing.T) {
	e, _ := newCardEnv(t)
	// A card sent again with enable_duplicate_check is a duplicate (same
	// msgid and response_code), not a reused task_id.
	body := strings.Replace(ackCard, `"agentid":1000002`, `"agentid":1000002,"enable_duplicate_check":1`, 1)
	first := e.post(e.app, "message/send", body)
	e.wantCode(first, 0)
	again := e.post(e.app, "message/send", body)
	e.wantCode(again, 0)
	if again["msgid"] != first["msgid"] || again["response_code"] != first["response_code"] {
		t.Fatalf("duplicate reply %v, first %v", again, first)
	}
	if n := len(e.srv.Cards()); n != 1 {
		t.Fatalf("%d cards, want 1", n)
	}
	// Without the check the same task_id is refused.
	e.wantCode(e.post(e.app, "message/send", ackCard), 42014)

	// Recipients are the members reached: party 3 is wangwu; lisi's copy
	// dropped by the per-member quota is not one.
	for i := range memberMsgPerMinute {
		e.wantCode(e.post(e.app, "message/send", fmt.Sprintf(`{"touser":"lisi","msgtype":"text","agentid":1000002,"text":{"content":"%d"}}`, i)), 0)
	}
	e.sendCard(`{"touser":"lisi","toparty":"3","msgtype":"template_card","agentid":1000002,"template_card":` + btnCard(`"task_id":"alert-2"`, `{"text":"ok","key":"ok"}`) + `}`)
	c := e.cardState("alert-2")
	if !slices.Equal(c.Recipients, []string{"wangwu"}) || len(c.Members) != 1 {
		t.Fatalf("recipients %v members %v", c.Recipients, c.Members)
	}
	if _, err := e.srv.ClickCard(CardClick{TaskID: "alert-2", UserID: "lisi", Key: "ok"}); err == nil {
		t.Fatal("a member whose copy was dropped clicked")
	}
}

func TestCardAdminAPI(t *testing.T) {
	e, rv := newCardEnv(t)
	e.sendCard(ackCard)
	res := e.admin("POST", "/sim/card/click", `{"task_id":"alert-1","userid":"wangwu","key":"ack"}`, http.StatusOK)
	if res["event"] != wecom.EventTemplateCard || res["userid"] != "wangwu" || res["response_code"] == "" || res["delivery"].(float64) != 1 {
		t.Fatalf("POST /sim/card/click: %v", res)
	}
	if ev := rv.next().event.(*wecom.TemplateCardEvent); ev.ResponseCode != res["response_code"] {
		t.Fatalf("event %+v", ev)
	}
	bad := e.admin("POST", "/sim/card/click", `{"task_id":"alert-1","userid":"zhaoliu","key":"ack"}`, http.StatusBadRequest)
	if !strings.Contains(bad["error"].(string), "not a recipient") {
		t.Fatalf("non-recipient: %v", bad)
	}
	e.admin("POST", "/sim/card/click", `{"task_id":"alert-1","user":"lisi","key":"ack"}`, http.StatusBadRequest) // typo
	e.admin("GET", "/sim/card/click", "", http.StatusMethodNotAllowed)

	cards := e.admin("GET", "/sim/cards", "", http.StatusOK)["cards"].([]any)
	if len(cards) != 1 {
		t.Fatalf("GET /sim/cards: %v", cards)
	}
	wangwu := cards[0].(map[string]any)["members"].(map[string]any)["wangwu"].(map[string]any)
	if wangwu["clicked_key"] != "ack" || wangwu["main_title"] != "CPU high" || len(wangwu["buttons"].([]any)) != 3 {
		t.Fatalf("wangwu's card: %v", wangwu)
	}
	st := e.admin("GET", "/sim/state", "", http.StatusOK)
	if sc := st["cards"].([]any); len(sc) != 1 || sc[0].(map[string]any)["task_id"] != "alert-1" {
		t.Fatalf("state cards %v", sc)
	}
	idx := e.admin("GET", "/sim", "", http.StatusOK)
	for _, p := range []string{"/sim/cards", "/sim/card/click"} {
		if !slices.Contains(idx["admin"].([]any), any(p)) {
			t.Fatalf("admin index lacks %s: %v", p, idx)
		}
	}
	if !slices.Contains(idx["endpoints"].([]any), any("message/update_template_card")) {
		t.Fatalf("endpoint list lacks update_template_card: %v", idx["endpoints"])
	}
}
