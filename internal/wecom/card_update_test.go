package wecom_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// An app's callback receiver as the operator would run it: it answers WeCom's URL
// verification and decrypts and parses deliveries with this package.
type cardReceiver struct {
	URL    string
	events chan wecom.CallbackEvent
	errs   chan error
}

const (
	recvToken  = "cardToken1"
	recvAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

func newCardReceiver(t *testing.T, corpID string) *cardReceiver {
	t.Helper()
	crypto, err := wecom.NewCallbackCrypto(recvToken, recvAESKey, corpID)
	if err != nil {
		t.Fatal(err)
	}
	rv := &cardReceiver{events: make(chan wecom.CallbackEvent, 16), errs: make(chan error, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method == http.MethodGet {
			plain, err := crypto.VerifyURL(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
			if err != nil {
				http.Error(w, "bad", http.StatusBadRequest)
				return
			}
			_, _ = w.Write(plain)
			return
		}
		body, _ := io.ReadAll(r.Body)
		plain, err := crypto.DecryptMessage(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), body)
		if err == nil {
			var ev wecom.CallbackEvent
			if ev, err = wecom.ParseCallbackEvent(plain); err == nil {
				rv.events <- ev
			}
		}
		if err != nil {
			rv.errs <- err
		}
	}))
	t.Cleanup(srv.Close)
	rv.URL = srv.URL + "/wecom/callback"
	return rv
}

func (rv *cardReceiver) next(t *testing.T) *wecom.TemplateCardEvent {
	t.Helper()
	select {
	case ev := <-rv.events:
		tc, ok := ev.(*wecom.TemplateCardEvent)
		if !ok {
			t.Fatalf("parsed %T, want *wecom.TemplateCardEvent", ev)
		}
		return tc
	case err := <-rv.errs:
		t.Fatalf("receiver: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no callback within 10s")
	}
	return nil
}

// alertCard is a button card as issue 14's alert cards are built.
func alertCard(taskID string) *wecom.TemplateCard {
	return &wecom.TemplateCard{
		CardType:  wecom.CardTypeButtonInteraction,
		TaskID:    taskID,
		Source:    &wecom.CardSource{Desc: "Alertmanager", DescColor: 2},
		MainTitle: &wecom.CardTitle{Title: "[FIRING] HighCPU", Desc: "critical"},
		ButtonList: []wecom.CardButton{
			{Text: "Acknowledge", Key: "ack", Style: 1},
			{Text: "Silence 1h", Key: "silence-1h", Style: 2},
			{Text: "Open", Type: wecom.CardButtonURL, URL: "https://alertmanager.example.com/"},
		},
	}
}

const apiUpdateCard = "message/update_template_card"

func TestSimUpdateTemplateCard(t *testing.T) {
	env := newSim(t)
	c := env.app(t)
	ctx := context.Background()
	agent := int(env.creds.AgentID)
	send := func(taskID string) *wecom.SendResult {
		t.Helper()
		return must(c.SendMessage(ctx, wecom.Message{ToUser: []string{"lisi", "wangwu"}, AgentID: agent, TemplateCard: alertCard(taskID)}))(t)
	}

	// An interactive card needs the app's callback URL.
	_, err := c.SendMessage(ctx, wecom.Message{ToUser: []string{"lisi"}, AgentID: agent, TemplateCard: alertCard("a0")})
	wantCode(t, err, wecom.ErrCodeCallbackURLRequired, "message/send")
	rv := newCardReceiver(t, env.creds.CorpID)
	ok(t, env.srv.SetCallback(env.creds.AgentID, rv.URL, recvToken, recvAESKey))

	res := send("a1")
	if res.ResponseCode == "" {
		t.Fatalf("no response code: %+v", res)
	}
	_, err = c.SendMessage(ctx, wecom.Message{ToUser: []string{"lisi"}, AgentID: agent, TemplateCard: alertCard("a1")})
	wantCode(t, err, wecom.ErrCodeInvalidTaskID, "message/send")

	// The send's code: once.
	invalid := must(c.UpdateTemplateCard(ctx, wecom.UpdateTemplateCardRequest{
		UserIDs: []string{"lisi", "zhaoliu"}, AgentID: agent, ResponseCode: res.ResponseCode, ReplaceName: "Acknowledged by 李四",
	}))(t)
	if !slices.Equal(invalid, []string{"zhaoliu"}) {
		t.Fatalf("invalid users %v, want the non-recipient", invalid)
	}
	_, err = c.UpdateTemplateCard(ctx, wecom.UpdateTemplateCardRequest{AtAll: true, AgentID: agent, ResponseCode: res.ResponseCode, ReplaceName: "again"})
	wantCode(t, err, wecom.ErrCodeInvalidResponseCode, apiUpdateCard)
	card, found := env.srv.Card(env.creds.AgentID, "a1")
	if !found {
		t.Fatal("card a1 not recorded")
	}
	if lisi, _ := card.Member("lisi"); lisi.ReplaceName != "Acknowledged by 李四" {
		t.Fatalf("lisi's card %+v", lisi)
	}
	if wangwu, _ := card.Member("wangwu"); wangwu.ReplaceName != "" || len(wangwu.Buttons) != 3 {
		t.Fatalf("wangwu's card %+v", wangwu)
	}

	// A click: the receiver decrypts and parses template_card_event, whose fresh code
	// updates the card once.
	click, err := env.srv.ClickCard(wecomsim.CardClick{TaskID: "a1", UserID: "wangwu", Key: "silence-1h"})
	ok(t, err)
	ev := rv.next(t)
	if ev.Event != wecom.EventTemplateCard || ev.FromUserName != "wangwu" || ev.ToUserName != env.creds.CorpID ||
		ev.CreateTime != simStart.Unix() || ev.AgentID != env.creds.AgentID || ev.EventKey != "silence-1h" ||
		ev.TaskID != "a1" || ev.CardType != wecom.CardTypeButtonInteraction || ev.ResponseCode != click.ResponseCode ||
		ev.ResponseCode == res.ResponseCode || ev.Identity == "" {
		t.Fatalf("event %+v (click %+v)", ev, click)
	}
	resolved := &wecom.TemplateCard{
		CardType:   wecom.CardTypeTextNotice,
		MainTitle:  &wecom.CardTitle{Title: "[SILENCED] HighCPU", Desc: "Silenced 1h by 王五 at 10:00"},
		CardAction: &wecom.CardAction{Type: 1, URL: "https://alertmanager.example.com/"},
	}
	invalid = must(c.UpdateTemplateCard(ctx, wecom.UpdateTemplateCardRequest{AtAll: true, AgentID: agent, ResponseCode: ev.ResponseCode, TemplateCard: resolved}))(t)
	if len(invalid) != 0 {
		t.Fatalf("invalid users %v", invalid)
	}
	_, err = c.UpdateTemplateCard(ctx, wecom.UpdateTemplateCardRequest{AtAll: true, AgentID: agent, ResponseCode: ev.ResponseCode, TemplateCard: resolved})
	wantCode(t, err, wecom.ErrCodeInvalidResponseCode, apiUpdateCard)
	card, _ = env.srv.Card(env.creds.AgentID, "a1")
	for _, uid := range []string{"lisi", "wangwu"} {
		if m, _ := card.Member(uid); m.CardType != wecom.CardTypeTextNotice || m.MainTitle != "[SILENCED] HighCPU" || len(m.Buttons) != 0 {
			t.Fatalf("%s's card after the update: %+v", uid, m)
		}
	}

	// Another app's card (42015); an agentid that is not the client's app (301002).
	lim := env.limited(t)
	limAgent := int(env.creds.LimitedAgentID)
	res2 := send("a2")
	_, err = lim.UpdateTemplateCard(ctx, wecom.UpdateTemplateCardRequest{AtAll: true, AgentID: limAgent, ResponseCode: res2.ResponseCode, ReplaceName: "x"})
	wantCode(t, err, wecom.ErrCodeCardAppMismatch, apiUpdateCard)
	_, err = c.UpdateTemplateCard(ctx, wecom.UpdateTemplateCardRequest{AtAll: true, AgentID: limAgent, ResponseCode: res2.ResponseCode, ReplaceName: "x"})
	wantCode(t, err, wecom.ErrCodeAgentNotOwned, apiUpdateCard)

	// Codes expire 72 h after they were issued.
	env.srv.Advance(72*time.Hour + time.Second)
	_, err = c.UpdateTemplateCard(ctx, wecom.UpdateTemplateCardRequest{UserIDs: []string{"lisi"}, AgentID: agent, ResponseCode: res2.ResponseCode, ReplaceName: "late"})
	wantCode(t, err, wecom.ErrCodeInvalidResponseCode, apiUpdateCard)
}

func TestUpdateTemplateCardChecksLocally(t *testing.T) {
	env := newSim(t)
	c := env.app(t)
	calls := env.srv.CallCount(apiUpdateCard)
	for _, req := range []wecom.UpdateTemplateCardRequest{
		{AtAll: true, AgentID: 1, ReplaceName: "x"},                                                             // no code
		{AtAll: true, AgentID: 1, ResponseCode: "rc"},                                                           // neither
		{AtAll: true, AgentID: 1, ResponseCode: "rc", ReplaceName: "x", TemplateCard: &wecom.TemplateCard{}},    // both
		{AgentID: 1, ResponseCode: "rc", ReplaceName: "x"},                                                      // nobody
		{UserIDs: []string{}, PartyIDs: []int{}, AgentID: 1, ResponseCode: "rc", TemplateCard: alertCard("t1")}, // nobody
	} {
		if _, err := c.UpdateTemplateCard(context.Background(), req); !errors.Is(err, wecom.ErrInvalidRequest) {
			t.Fatalf("%+v: %v, want ErrInvalidRequest", req, err)
		}
	}
	if n := env.srv.CallCount(apiUpdateCard); n != calls {
		t.Fatalf("%d calls reached the simulator", n-calls)
	}
}

// A vote card round trip: the selections reach the receiver as SelectedItems.
func TestSimVoteCardEvent(t *testing.T) {
	env := newSim(t)
	c := env.app(t)
	rv := newCardReceiver(t, env.creds.CorpID)
	ok(t, env.srv.SetCallback(env.creds.AgentID, rv.URL, recvToken, recvAESKey))
	vote := &wecom.TemplateCard{
		CardType: wecom.CardTypeVoteInteraction, TaskID: "vote-1", MainTitle: &wecom.CardTitle{Title: "Cause?"},
		Checkbox: &wecom.CardCheckbox{QuestionKey: "cause", Mode: 1, OptionList: []wecom.CardOption{
			{ID: "disk", Text: "Disk"}, {ID: "cpu", Text: "CPU", IsChecked: true}, {ID: "net", Text: "Network"},
		}},
		SubmitButton: &wecom.CardSubmitButton{Text: "Submit", Key: "submit"},
	}
	res := must(c.SendMessage(context.Background(), wecom.Message{ToUser: []string{"lisi"}, AgentID: int(env.creds.AgentID), TemplateCard: vote}))(t)
	if res.ResponseCode == "" {
		t.Fatal("no response code")
	}
	_, err := env.srv.ClickCard(wecomsim.CardClick{TaskID: "vote-1", UserID: "lisi", Key: "submit",
		Selected: []wecomsim.CardSelection{{QuestionKey: "cause", OptionIDs: []string{"disk", "net"}}}})
	ok(t, err)
	ev := rv.next(t)
	if ev.CardType != wecom.CardTypeVoteInteraction || ev.EventKey != "submit" ||
		!slices.EqualFunc(ev.SelectedItems, []wecom.CardSelectedItem{{QuestionKey: "cause", OptionIDs: []string{"disk", "net"}}},
			func(a, b wecom.CardSelectedItem) bool {
				return a.QuestionKey == b.QuestionKey && slices.Equal(a.OptionIDs, b.OptionIDs)
			}) {
		t.Fatalf("event %+v", ev)
	}
	_, err = c.UpdateTemplateCard(context.Background(), wecom.UpdateTemplateCardRequest{UserIDs: []string{"lisi"}, AgentID: int(env.creds.AgentID),
		ResponseCode: ev.ResponseCode, ReplaceName: "Voted"})
	ok(t, err)
}
