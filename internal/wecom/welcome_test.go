package wecom_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const apiSendWelcome = "externalcontact/send_welcome_msg"

func TestSimSendWelcomeMsg(t *testing.T) {
	env := newSim(t)
	app := env.app(t)
	ctx := context.Background()
	way := must(app.AddContactWay(ctx, wecom.AddContactWayRequest{
		Type: wecom.ContactWaySingle, Scene: wecom.ContactWaySceneQRCode, State: "welcome", User: []string{"zhangsan"},
	}))(t)
	scan := func() wecomsim.ScanResult {
		t.Helper()
		return must(env.srv.Scan(wecomsim.ScanRequest{ConfigID: way.ConfigID}))(t)
	}

	first := scan()
	msg := wecom.WelcomeMessage{
		WelcomeCode: first.WelcomeCode,
		Text:        &wecom.WelcomeText{Content: "欢迎 <b>"},
		Attachments: []wecom.WelcomeAttachment{
			{MsgType: wecom.AttachmentTypeLink, Link: &wecom.WelcomeLink{Title: "Docs", Desc: "read me", URL: "https://example.com/docs?a=1&b=2"}},
			{MsgType: wecom.AttachmentTypeImage, Image: &wecom.WelcomeImage{MediaID: "MEDIA_ID"}},
			{MsgType: wecom.AttachmentTypeMiniProgram, MiniProgram: &wecom.WelcomeMiniProgram{Title: "Mini", PicMediaID: "PIC", AppID: "wx8bd80126147dfAAA", Page: "/path/index"}},
			{MsgType: wecom.AttachmentTypeVideo, Video: &wecom.WelcomeMedia{MediaID: "VIDEO"}},
			{MsgType: wecom.AttachmentTypeFile, File: &wecom.WelcomeMedia{MediaID: "FILE"}},
		},
	}
	ok(t, app.SendWelcomeMsg(ctx, msg))
	// Once only: a second use (by this app or another) is 41051.
	wantCode(t, app.SendWelcomeMsg(ctx, msg), wecom.ErrCodeWelcomeChatStarted, apiSendWelcome)

	// The wire body uses the documented field names.
	calls := env.srv.CallsTo(apiSendWelcome)
	var body map[string]any
	if err := json.Unmarshal([]byte(calls[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	if body["welcome_code"] != first.WelcomeCode || body["text"].(map[string]any)["content"] != "欢迎 <b>" ||
		len(body["attachments"].([]any)) != 5 || !strings.Contains(calls[0].Body, `"pic_media_id":"PIC"`) ||
		!strings.Contains(calls[0].Body, `"url":"https://example.com/docs?a=1&b=2"`) {
		t.Fatalf("body %s", calls[0].Body)
	}
	sent := env.srv.State().WelcomeMessages
	if len(sent) != 1 || sent[0].ExternalUserID != first.ExternalUserID || sent[0].UserID != "zhangsan" ||
		sent[0].Text != "欢迎 <b>" || len(sent[0].Attachments) != 5 || sent[0].Attachments[2].MiniProgram.AppID != "wx8bd80126147dfAAA" {
		t.Fatalf("sent %+v", sent)
	}

	// The code expires 20 s after the event (simulator clock).
	late := scan()
	env.srv.Advance(21 * time.Second)
	wantCode(t, app.SendWelcomeMsg(ctx, wecom.WelcomeMessage{WelcomeCode: late.WelcomeCode, Text: &wecom.WelcomeText{Content: "hi"}}),
		wecom.ErrCodeInvalidWelcomeCode, apiSendWelcome)

	// WeCom's validation.
	fresh := scan()
	wantCode(t, app.SendWelcomeMsg(ctx, wecom.WelcomeMessage{WelcomeCode: fresh.WelcomeCode}), wecom.ErrCodeEmptyTextContent, apiSendWelcome)
	ten := make([]wecom.WelcomeAttachment, wecom.MaxWelcomeAttachments+1)
	for i := range ten {
		ten[i] = wecom.WelcomeAttachment{MsgType: wecom.AttachmentTypeFile, File: &wecom.WelcomeMedia{MediaID: "F"}}
	}
	wantCode(t, app.SendWelcomeMsg(ctx, wecom.WelcomeMessage{WelcomeCode: fresh.WelcomeCode, Attachments: ten}), wecom.ErrCodeTooManyAttachments, apiSendWelcome)
	wantCode(t, app.SendWelcomeMsg(ctx, wecom.WelcomeMessage{WelcomeCode: fresh.WelcomeCode,
		Attachments: []wecom.WelcomeAttachment{{MsgType: "voice"}}}), wecom.ErrCodeInvalidAttachmentType, apiSendWelcome)
	wantCode(t, env.limited(t).SendWelcomeMsg(ctx, wecom.WelcomeMessage{WelcomeCode: fresh.WelcomeCode, Text: &wecom.WelcomeText{Content: "hi"}}),
		wecom.ErrCodeNoAPIPermission, apiSendWelcome)
	// The refusals did not use the code up.
	ok(t, app.SendWelcomeMsg(ctx, wecom.WelcomeMessage{WelcomeCode: fresh.WelcomeCode, Text: &wecom.WelcomeText{Content: "hi"}}))

	// No code: refused before anything is sent.
	before := env.srv.CallCount(apiSendWelcome)
	if err := app.SendWelcomeMsg(ctx, wecom.WelcomeMessage{Text: &wecom.WelcomeText{Content: "hi"}}); !errors.Is(err, wecom.ErrInvalidRequest) {
		t.Fatalf("no welcome code: %v", err)
	}
	if env.srv.CallCount(apiSendWelcome) != before {
		t.Fatal("a request without a welcome code was sent")
	}
}
