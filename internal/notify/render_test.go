package notify

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

func card() *v1.TemplateCardMessage {
	return &v1.TemplateCardMessage{
		CardType:              "news_notice",
		Source:                &v1.CardSource{IconURL: "https://e.com/i.png", Desc: "Ops", DescColor: 2},
		MainTitle:             &v1.CardTitle{Title: "Deploy", Desc: "v2"},
		QuoteArea:             &v1.CardQuote{CardLink: v1.CardLink{Type: 1, URL: "https://e.com/q"}, Title: "q", QuoteText: "qt"},
		HorizontalContentList: []v1.CardHorizontalContent{{KeyName: "owner", Value: "lisi"}, {CardLink: v1.CardLink{Type: 3}, KeyName: "who", UserID: "lisi"}},
		JumpList:              []v1.CardJump{{CardLink: v1.CardLink{Type: 1, URL: "https://e.com/j"}, Title: "Open"}},
		CardAction:            v1.CardLink{Type: 2, AppID: "wx1", PagePath: "p/index"},
		CardImage:             &v1.CardImage{URL: "https://e.com/img.png", AspectRatio: "1.3"},
		VerticalContentList:   []v1.CardTitle{{Title: "v", Desc: "d"}},
	}
}

const cardJSON = `{"card_type":"news_notice","source":{"icon_url":"https://e.com/i.png","desc":"Ops","desc_color":2},
 "main_title":{"title":"Deploy","desc":"v2"},"quote_area":{"type":1,"url":"https://e.com/q","title":"q","quote_text":"qt"},
 "horizontal_content_list":[{"keyname":"owner","value":"lisi"},{"type":3,"keyname":"who","userid":"lisi"}],
 "jump_list":[{"type":1,"title":"Open","url":"https://e.com/j"}],"card_action":{"type":2,"appid":"wx1","pagepath":"p/index"},
 "card_image":{"url":"https://e.com/img.png","aspect_ratio":1.3},"vertical_content_list":[{"title":"v","desc":"d"}]}`

func TestAppMessage(t *testing.T) {
	tests := []struct {
		name string
		spec v1.NotificationSpec
		want string
	}{
		{"text to users, parties and tags, safe, custom dedupe window",
			v1.NotificationSpec{To: &v1.Recipients{Users: []string{"lisi", "wangwu"}, Parties: []int64{2, 3}, Tags: []int64{1}},
				Message: v1.Message{Text: &v1.TextMessage{Content: "服务器 CPU 超过 90%"}}, Safe: true,
				DuplicateCheckInterval: &metav1.Duration{Duration: time.Hour}},
			`{"touser":"lisi|wangwu","toparty":"2|3","totag":"1","msgtype":"text","agentid":1000002,"safe":1,
			  "enable_duplicate_check":1,"duplicate_check_interval":3600,"text":{"content":"服务器 CPU 超过 90%"}}`},
		{"markdown to @all",
			v1.NotificationSpec{To: &v1.Recipients{All: true, Users: []string{"ignored"}}, Message: v1.Message{Markdown: &v1.MarkdownMessage{Content: "# hi"}}},
			`{"touser":"@all","msgtype":"markdown","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,"markdown":{"content":"# hi"}}`},
		{"text card",
			v1.NotificationSpec{To: &v1.Recipients{Users: []string{"lisi"}}, Message: v1.Message{TextCard: &v1.TextCardMessage{
				Title: "t", Description: `<div class="gray">d</div>`, URL: "https://e.com", ButtonText: "更多"}}},
			`{"touser":"lisi","msgtype":"textcard","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,
			  "textcard":{"title":"t","description":"<div class=\"gray\">d</div>","url":"https://e.com","btntxt":"更多"}}`},
		{"news",
			v1.NotificationSpec{To: &v1.Recipients{Users: []string{"lisi"}}, Message: v1.Message{News: &v1.NewsMessage{Articles: []v1.NewsArticle{
				{Title: "a", Description: "d", URL: "https://e.com/a", PicURL: "https://e.com/a.png"}, {Title: "b", AppID: "wx1", PagePath: "p"}}}}},
			`{"touser":"lisi","msgtype":"news","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,
			  "news":{"articles":[{"title":"a","description":"d","url":"https://e.com/a","picurl":"https://e.com/a.png"},{"title":"b","appid":"wx1","pagepath":"p"}]}}`},
		{"template card",
			v1.NotificationSpec{To: &v1.Recipients{Users: []string{"lisi"}}, Message: v1.Message{TemplateCard: card()}},
			`{"touser":"lisi","msgtype":"template_card","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,"template_card":` + cardJSON + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := AppMessage(&tt.spec, 1000002)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, r.Body, tt.want)
		})
	}
}

func TestChatAndRobotMessages(t *testing.T) {
	spec := v1.NotificationSpec{ChatID: "ops", Message: v1.Message{Markdown: &v1.MarkdownMessage{Content: "**x**"}}, Safe: true}
	chat, err := ChatMessage(&spec, "ops")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, chat.Body, `{"chatid":"ops","msgtype":"markdown","markdown":{"content":"**x**"},"safe":1}`)

	robotText := v1.NotificationSpec{Robot: &v1.RobotTarget{}, Message: v1.Message{Text: &v1.TextMessage{Content: "部署完成",
		MentionedUsers: []string{"wangqing", "@all"}, MentionedMobiles: []string{"13800001111"}}}}
	r, err := RobotMessage(&robotText)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, r.Body, `{"msgtype":"text","text":{"content":"部署完成","mentioned_list":["wangqing","@all"],"mentioned_mobile_list":["13800001111"]}}`)

	robotCard := v1.NotificationSpec{Robot: &v1.RobotTarget{}, Message: v1.Message{TemplateCard: card()}}
	r, err = RobotMessage(&robotCard)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, r.Body, `{"msgtype":"template_card","template_card":`+cardJSON+`}`)

	if _, err := RobotMessage(&v1.NotificationSpec{Robot: &v1.RobotTarget{}, Message: v1.Message{TextCard: &v1.TextCardMessage{}}}); err != ErrNoMessage {
		t.Errorf("a robot text card: got %v, want ErrNoMessage", err)
	}
}

func TestLimitsPerChannel(t *testing.T) {
	long := strings.Repeat("line of an alert\n", 300) // 5100 bytes
	md := v1.Message{Markdown: &v1.MarkdownMessage{Content: long}}
	app, _ := AppMessage(&v1.NotificationSpec{To: &v1.Recipients{Users: []string{"a"}}, Message: md}, 1)
	robot, _ := RobotMessage(&v1.NotificationSpec{Robot: &v1.RobotTarget{}, Message: md})
	chat, _ := ChatMessage(&v1.NotificationSpec{ChatID: "c", Message: md}, "c")
	for name, got := range map[string]struct {
		n     int
		cut   bool
		limit int
	}{
		"app":   {len(app.Body.Markdown.Content), app.Truncated, AppMarkdownLimit},
		"chat":  {len(chat.Body.Markdown.Content), chat.Truncated, AppMarkdownLimit},
		"robot": {len(robot.Body.Markdown.Content), robot.Truncated, RobotMarkdownLimit},
	} {
		if !got.cut || got.n > got.limit || got.n < got.limit-len("line of an alert\n")-len(TruncationMarker) {
			t.Errorf("%s: %d bytes (limit %d), truncated=%v", name, got.n, got.limit, got.cut)
		}
	}
}

func sameJSON(t *testing.T, v any, want string) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("JSON differs\n got: %s\nwant: %s", data, want)
	}
}
