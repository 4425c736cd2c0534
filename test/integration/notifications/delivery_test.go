package notifications

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/notify"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const cardJSON = `{"card_type":"text_notice","source":{"desc":"Prometheus","desc_color":2},
  "main_title":{"title":"%s","desc":"prod"},"emphasis_content":{"title":"93%","desc":"CPU"},
  "horizontal_content_list":[{"keyname":"node","value":"node-1"},{"type":3,"keyname":"owner","userid":"lisi"}],
  "jump_list":[{"type":1,"title":"Dashboard","url":"https://grafana.example.com/d/1"}],
  "card_action":{"type":1,"url":"https://grafana.example.com"}}`

func card(title string) *v1.TemplateCardMessage {
	return &v1.TemplateCardMessage{
		CardType:        "text_notice",
		Source:          &v1.CardSource{Desc: "Prometheus", DescColor: 2},
		MainTitle:       &v1.CardTitle{Title: title, Desc: "prod"},
		EmphasisContent: &v1.CardTitle{Title: "93%", Desc: "CPU"},
		HorizontalContentList: []v1.CardHorizontalContent{{KeyName: "node", Value: "node-1"},
			{CardLink: v1.CardLink{Type: 3}, KeyName: "owner", UserID: "lisi"}},
		JumpList:   []v1.CardJump{{CardLink: v1.CardLink{Type: 1, URL: "https://grafana.example.com/d/1"}, Title: "Dashboard"}},
		CardAction: v1.CardLink{Type: 1, URL: "https://grafana.example.com"},
	}
}

// channel says where a table entry sends: the app, the test chat, or the demo robot.
type channel int

const (
	app channel = iota
	chat
	robot
)

var _ = Describe("each channel and message type", func() {
	var ns string
	BeforeEach(func() { ns = namespace("channels") })

	DescribeTable("reaches WeCom as exactly this JSON, once",
		func(ch channel, msg func(marker string) v1.Message, want string) {
			marker := unique("m")
			spec := v1.NotificationSpec{Message: msg(marker)}
			switch ch {
			case app:
				spec = appSpec("lisi")
				spec.Message = msg(marker)
			case chat:
				spec.ConnectionRef = &v1.ConnectionReference{Name: testenv.AppConnection}
				spec.ChatID = chatID
			case robot:
				spec.Robot = &v1.RobotTarget{WebhookSecretRef: robotSecret(ns, "bot", webhookURL(env.Creds.RobotKey))}
			}
			n := phase(create(ns, "n", spec), v1.NotificationSent, 20*time.Second)
			Expect(n.Status.Attempts).To(Equal(int32(1)))
			Expect(n.Status.SentAt).NotTo(BeNil())
			Expect(ready(n).Reason).To(Equal(v1.ReasonSent))

			got := messagesWith(marker)
			Expect(got).To(HaveLen(1), "messages WeCom accepted")
			sameJSON(got[0].Body, strings.ReplaceAll(want, "MARKER", marker))
			switch ch {
			case app:
				Expect(got[0].Channel).To(Equal("message"))
				Expect(n.Status.MsgID).To(Equal(got[0].MsgID))
				Expect(deliveredWith("lisi", marker)).To(Equal(1))
			case chat:
				Expect(got[0].ChatID).To(Equal(chatID))
				Expect(deliveredWith("wangwu", marker)).To(Equal(1))
			case robot:
				Expect(got[0].Robot).To(Equal("alert-bot"))
			}
		},
		Entry("app text", app, func(m string) v1.Message {
			return v1.Message{Text: &v1.TextMessage{Content: m + " 服务器 CPU 超过 90%"}}
		},
			`{"touser":"lisi","msgtype":"text","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,
			  "text":{"content":"MARKER 服务器 CPU 超过 90%"}}`),
		Entry("app markdown", app, func(m string) v1.Message {
			return v1.Message{Markdown: &v1.MarkdownMessage{Content: "## <font color=\"warning\">" + m + "</font>\n> **node-1**"}}
		}, `{"touser":"lisi","msgtype":"markdown","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,
			  "markdown":{"content":"## <font color=\"warning\">MARKER</font>\n> **node-1**"}}`),
		Entry("app text card", app, func(m string) v1.Message {
			return v1.Message{TextCard: &v1.TextCardMessage{Title: m, Description: `<div class="highlight">CPU 93%</div>`, URL: "https://grafana.example.com", ButtonText: "打开"}}
		}, `{"touser":"lisi","msgtype":"textcard","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,
			  "textcard":{"title":"MARKER","description":"<div class=\"highlight\">CPU 93%</div>","url":"https://grafana.example.com","btntxt":"打开"}}`),
		Entry("app news", app, func(m string) v1.Message {
			return v1.Message{News: &v1.NewsMessage{Articles: []v1.NewsArticle{
				{Title: m, Description: "postmortem", URL: "https://wiki.example.com/pm", PicURL: "https://wiki.example.com/pm.png"},
				{Title: "second", URL: "https://wiki.example.com/2"}}}}
		}, `{"touser":"lisi","msgtype":"news","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,
			  "news":{"articles":[{"title":"MARKER","description":"postmortem","url":"https://wiki.example.com/pm","picurl":"https://wiki.example.com/pm.png"},
			                      {"title":"second","url":"https://wiki.example.com/2"}]}}`),
		Entry("app template card", app, func(m string) v1.Message { return v1.Message{TemplateCard: card(m)} },
			`{"touser":"lisi","msgtype":"template_card","agentid":1000002,"enable_duplicate_check":1,"duplicate_check_interval":1800,
			  "template_card":`+strings.Replace(cardJSON, "%s", "MARKER", 1)+`}`),
		Entry("chat text", chat, func(m string) v1.Message { return v1.Message{Text: &v1.TextMessage{Content: m}} },
			`{"chatid":"notifchat1","msgtype":"text","text":{"content":"MARKER"}}`),
		Entry("chat markdown", chat, func(m string) v1.Message { return v1.Message{Markdown: &v1.MarkdownMessage{Content: "**" + m + "**"}} },
			`{"chatid":"notifchat1","msgtype":"markdown","markdown":{"content":"**MARKER**"}}`),
		Entry("chat text card", chat, func(m string) v1.Message {
			return v1.Message{TextCard: &v1.TextCardMessage{Title: m, Description: "d", URL: "https://e.example.com"}}
		}, `{"chatid":"notifchat1","msgtype":"textcard","textcard":{"title":"MARKER","description":"d","url":"https://e.example.com"}}`),
		Entry("chat news", chat, func(m string) v1.Message {
			return v1.Message{News: &v1.NewsMessage{Articles: []v1.NewsArticle{{Title: m, URL: "https://e.example.com"}}}}
		}, `{"chatid":"notifchat1","msgtype":"news","news":{"articles":[{"title":"MARKER","url":"https://e.example.com"}]}}`),
		Entry("robot text with mentions", robot, func(m string) v1.Message {
			return v1.Message{Text: &v1.TextMessage{Content: m, MentionedUsers: []string{"lisi", "@all"}, MentionedMobiles: []string{"13800000002"}}}
		}, `{"msgtype":"text","text":{"content":"MARKER","mentioned_list":["lisi","@all"],"mentioned_mobile_list":["13800000002"]}}`),
		Entry("robot markdown", robot, func(m string) v1.Message {
			return v1.Message{Markdown: &v1.MarkdownMessage{Content: "<font color=\"info\">" + m + "</font>"}}
		}, `{"msgtype":"markdown","markdown":{"content":"<font color=\"info\">MARKER</font>"}}`),
		Entry("robot news", robot, func(m string) v1.Message {
			return v1.Message{News: &v1.NewsMessage{Articles: []v1.NewsArticle{{Title: m, URL: "https://e.example.com", PicURL: "https://e.example.com/p.png"}}}}
		}, `{"msgtype":"news","news":{"articles":[{"title":"MARKER","url":"https://e.example.com","picurl":"https://e.example.com/p.png"}]}}`),
		Entry("robot template card", robot, func(m string) v1.Message { return v1.Message{TemplateCard: card(m)} },
			`{"msgtype":"template_card","template_card":`+strings.Replace(cardJSON, "%s", "MARKER", 1)+`}`),
	)

	It("sends to the chat of a WeComAppChat, and to a robot whose Secret holds only the key", func() {
		ch := &v1.WeComAppChat{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: ns}}
		ch.Spec.ConnectionRef.Name = testenv.AppConnection
		ch.Spec.Name = "On-call"
		ch.Spec.Members = []string{"lisi", "zhaoliu"}
		ch.Spec.Owner = "lisi"
		marker := unique("chatref")
		// The Notification comes first: it waits for the chat to get its id.
		n := create(ns, "to-chat", v1.NotificationSpec{ChatRef: &v1.LocalObjectReference{Name: "oncall"},
			Message: v1.Message{Text: &v1.TextMessage{Content: marker}}})
		Eventually(func() string {
			c := readyCond(get(n))
			if c == nil {
				return ""
			}
			return c.Reason
		}, 10*time.Second).Should(Equal(v1.ReasonDependencyNotReady))
		Expect(env.Client.Create(ctx, ch)).To(Succeed())
		phase(n, v1.NotificationSent, 30*time.Second)
		Expect(deliveredWith("zhaoliu", marker)).To(Equal(1))

		key := unique("bare")
		m := create(ns, "bare-key", v1.NotificationSpec{
			ConnectionRef: &v1.ConnectionReference{Name: testenv.AppConnection}, // the base URL comes from here
			Robot:         &v1.RobotTarget{WebhookSecretRef: robotSecret(ns, "bare", env.Creds.RobotKey)},
			Message:       v1.Message{Text: &v1.TextMessage{Content: key}}})
		phase(m, v1.NotificationSent, 20*time.Second)
		Expect(messagesWith(key)).To(HaveLen(1))
	})
})

var _ = Describe("recipients", func() {
	It("are Sent with the invalid ones listed and a Warning event when some are invalid", func() {
		ns := namespace("partial")
		marker := unique("partial")
		spec := appSpec("wangwu", "Nobody")
		spec.To.Parties = []int64{999}
		spec.Message.Text = &v1.TextMessage{Content: marker}
		n := phase(create(ns, "partial", spec), v1.NotificationSent, 20*time.Second)
		Expect(n.Status.InvalidUsers).To(Equal([]string{"nobody"}))
		Expect(n.Status.InvalidParties).To(Equal([]string{"999"}))
		Expect(ready(n).Reason).To(Equal(v1.ReasonInvalidRecipients))
		Expect(deliveredWith("wangwu", marker)).To(Equal(1))
		Eventually(func() map[string]string { return events(n) }, 10*time.Second).Should(
			HaveKeyWithValue("InvalidRecipients", ContainSubstring("users nobody; departments 999")))
	})

	It("are Failed at once with 81013 when all are invalid", func() {
		ns := namespace("invalid")
		spec := appSpec("nobody", "ghost")
		spec.Message.Text = &v1.TextMessage{Content: "x"}
		n := phase(create(ns, "invalid", spec), v1.NotificationFailed, 20*time.Second)
		Expect(n.Status.LastErrorCode).To(Equal(81013))
		Expect(n.Status.Attempts).To(Equal(int32(1)))
		Expect(ready(n).Reason).To(Equal(v1.ReasonAllRecipientsInvalid))
		Expect(ready(n).Message).To(ContainSubstring("81013"))
	})
})

var _ = Describe("transient WeCom errors", Serial, func() {
	AfterEach(func() { env.Sim.ClearFaults() })

	It("are retried with backoff, and the message arrives once", func() {
		ns := namespace("retry")
		marker := unique("retry")
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"message/send"}, ErrorRate: 1})
		spec := appSpec("zhaoliu")
		spec.Message.Text = &v1.TextMessage{Content: marker}
		n := create(ns, "retry", spec)
		Eventually(func(g Gomega) {
			got := get(n)
			g.Expect(got.Status.Attempts).To(BeNumerically(">=", 3))
			g.Expect(got.Status.Phase).To(Equal(v1.NotificationPending))
			g.Expect(got.Status.LastErrorCode).To(Equal(-1))
			g.Expect(ready(got).Reason).To(Equal(v1.ReasonRetrying))
		}, 20*time.Second).Should(Succeed())
		env.Sim.ClearFaults()
		n = phase(n, v1.NotificationSent, 30*time.Second)
		Expect(deliveredWith("zhaoliu", marker)).To(Equal(1))
	})

	It("do not keep a Notification waiting out a long backoff once WeCom takes the app's sends again", func() {
		ns := namespace("recover")
		marker := unique("stalled")
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"message/send"}, ErrorRate: 1})
		spec := appSpec("zhaoliu")
		spec.Message.Text = &v1.TextMessage{Content: marker}
		stalled := create(ns, "stalled", spec)
		// Seven failures at a 200 ms base: the next try is 12.8 s away.
		Eventually(func(g Gomega) {
			got := get(stalled)
			g.Expect(got.Status.Attempts).To(BeNumerically(">=", 7))
			g.Expect(ready(got).Reason).To(Equal(v1.ReasonRetrying))
		}, 30*time.Second, 50*time.Millisecond).Should(Succeed())
		env.Sim.ClearFaults()
		recovered := time.Now()

		other := appSpec("lisi")
		other.Message.Text = &v1.TextMessage{Content: unique("other")}
		phase(create(ns, "other", other), v1.NotificationSent, 10*time.Second)
		got := phase(stalled, v1.NotificationSent, 10*time.Second)
		Expect(got.Status.SentAt.Time).To(BeTemporally("<", recovered.Add(8*time.Second)),
			"woken by the app's next accepted send, not by its 12.8 s backoff")
		Expect(deliveredWith("zhaoliu", marker)).To(Equal(1))
	})

	It("whose reply was lost are sent again and WeCom's duplicate check delivers once", func() {
		ns := namespace("lost")
		marker := unique("lost")
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"message/send"}, LostReplyRate: 1})
		spec := appSpec("zhaoliu")
		spec.Message.Text = &v1.TextMessage{Content: marker}
		n := create(ns, "lost", spec)
		Eventually(func() int { return deliveredWith("zhaoliu", marker) }, 10*time.Second).Should(Equal(1))
		env.Sim.ClearFaults()
		n = phase(n, v1.NotificationSent, 30*time.Second)
		Expect(n.Status.Attempts).To(BeNumerically(">=", 2))
		Expect(deliveredWith("zhaoliu", marker)).To(Equal(1), "delivered twice")
		var dup int
		for _, m := range messagesWith(marker) {
			if m.Duplicate {
				dup++
			}
		}
		Expect(dup).To(BeNumerically(">=", 1), "the resend reached WeCom and was recognised as a duplicate")
		Expect(n.Status.MsgID).To(Equal(messagesWith(marker)[0].MsgID), "the msgid of the one delivery")
	})

	It("end in Failed with the last errcode when the delivery deadline passes", func() {
		ns := namespace("deadline")
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"webhook/send"}, ErrorRate: 1})
		n := create(ns, "deadline", v1.NotificationSpec{
			Robot:            &v1.RobotTarget{WebhookSecretRef: robotSecret(ns, "bot", webhookURL(env.Creds.RobotKey))},
			Message:          v1.Message{Text: &v1.TextMessage{Content: "never"}},
			DeliveryDeadline: &metav1.Duration{Duration: 3 * time.Second},
		})
		n = phase(n, v1.NotificationFailed, 20*time.Second)
		Expect(n.Status.LastErrorCode).To(Equal(-1))
		Expect(n.Status.Attempts).To(BeNumerically(">=", 2))
		Expect(ready(n).Reason).To(Equal(v1.ReasonDeadlineExceeded))
		Expect(ready(n).Message).To(ContainSubstring("errcode -1"))
		Expect(n.Status.CompletionTime.Sub(n.CreationTimestamp.Time)).To(BeNumerically("<", 6*time.Second))
		Expect(messagesWith("never")).To(BeEmpty())
	})
})

var _ = Describe("content longer than WeCom accepts", func() {
	It("is cut at a line boundary with a visible marker, and the Notification says so", func() {
		ns := namespace("long")
		marker := unique("long")
		line := "告警 node-%03d: CPU above 90% for 5 minutes\n"
		var b strings.Builder
		b.WriteString(marker + "\n")
		for i := 0; b.Len() < 6000; i++ {
			b.WriteString(strings.Replace(line, "%03d", strings.Repeat("x", i%3+1), 1))
		}
		spec := appSpec("lisi")
		spec.Message.Markdown = &v1.MarkdownMessage{Content: b.String()}
		a := phase(create(ns, "app", spec), v1.NotificationSent, 20*time.Second)
		r := phase(create(ns, "robot", v1.NotificationSpec{
			Robot:   &v1.RobotTarget{WebhookSecretRef: robotSecret(ns, "bot", webhookURL(env.Creds.RobotKey))},
			Message: v1.Message{Markdown: &v1.MarkdownMessage{Content: b.String()}}}), v1.NotificationSent, 20*time.Second)
		Expect(a.Status.Truncated).To(BeTrue())
		Expect(r.Status.Truncated).To(BeTrue())

		for _, m := range messagesWith(marker) {
			var body struct{ Markdown struct{ Content string } }
			Expect(jsonUnmarshal(m.Body, &body)).To(Succeed())
			limit := notify.AppMarkdownLimit
			if m.Channel == "webhook" {
				limit = notify.RobotMarkdownLimit
			}
			c := body.Markdown.Content
			Expect(len(c)).To(BeNumerically("<=", limit), m.Channel)
			Expect(len(c)).To(BeNumerically(">", limit-len(line)-len(notify.TruncationMarker)), m.Channel)
			Expect(c).To(HaveSuffix("\n…(truncated)"))
			Expect(b.String()).To(HavePrefix(strings.TrimSuffix(c, notify.TruncationMarker)+"\n"), "cut at a line boundary")
		}
		Expect(messagesWith(marker)).To(HaveLen(2))
	})
})

var _ = Describe("ttlAfterFinished", func() {
	It("deletes Sent and Failed Notifications once it passed", func() {
		ns := namespace("ttl")
		sent := appSpec("lisi")
		sent.Message.Text = &v1.TextMessage{Content: unique("ttl")}
		sent.TTLAfterFinished = &metav1.Duration{Duration: 2 * time.Second}
		failed := appSpec("nobody")
		failed.Message.Text = &v1.TextMessage{Content: "x"}
		failed.TTLAfterFinished = &metav1.Duration{Duration: 0}
		kept := appSpec("lisi")
		kept.Message.Text = &v1.TextMessage{Content: unique("kept")}

		a, b, c := create(ns, "sent", sent), create(ns, "failed", failed), create(ns, "kept", kept)
		phase(a, v1.NotificationSent, 20*time.Second)
		phase(c, v1.NotificationSent, 20*time.Second)
		Eventually(gone(b), 20*time.Second).Should(BeTrue(), "a Failed notification with ttl 0")
		Eventually(gone(a), 20*time.Second).Should(BeTrue(), "a Sent notification with ttl 2s")
		Consistently(gone(c), 2*time.Second).Should(BeFalse(), "the default ttl is 24h")
	})
})
