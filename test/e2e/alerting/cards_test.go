package alerting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// The callback Token and EncodingAESKey of the app, and the Alertmanager API's basic-auth
// user (its bcrypt hash is what Alertmanager's web config holds).
const (
	cardCallbackToken = "Hq3ZtW8vNc"
	cardCallbackKey   = "Zr5Tn8Kd2Wq7Mv4Lx9Pb3Jc6Hf1Gs0Ya8Ue2Io5Np7Q"
	amAPIUser         = "wecom-operator"
	amAPIPassword     = "silence-from-wecom-7f3a9c"
	amAPIPasswordHash = "$2a$10$depqgrTKqD2bW60UOdvcTeBtlg4ZxefSxYIlU2yW2xjuwypTiELEu"
)

// cardAlertmanagerConfig groups by alertname and posts to the card receiver.
const cardAlertmanagerConfig = `
route:
  receiver: wecom
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: wecom
  webhook_configs:
  - url: %[1]s
    send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials: %[2]s
`

var _ = Describe("Alert cards", Ordered, func() {
	var (
		ns, amURL string
		mgr       *manager
		rcv       *v1.AlertReceiver
	)

	// amDo calls Alertmanager's API as the operator's API user.
	amDo := func(method, path string, body any, out any) int {
		GinkgoHelper()
		var rd io.Reader
		if body != nil {
			data, err := json.Marshal(body)
			Expect(err).NotTo(HaveOccurred())
			rd = bytes.NewReader(data)
		}
		req, err := http.NewRequest(method, amURL+path, rd)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(amAPIUser, amAPIPassword)
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if out != nil && resp.StatusCode == http.StatusOK {
			Expect(json.Unmarshal(data, out)).To(Succeed(), string(data))
		}
		return resp.StatusCode
	}

	BeforeAll(func() {
		ns = namespace("cards")
		Expect(k8s.Create(ctx, testenv.Secret(ns, "wecom-callback", map[string]string{
			"token": cardCallbackToken, "encodingAESKey": cardCallbackKey}))).To(Succeed())
		conn := &v1.WeComConnection{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, conn)).To(Succeed())
		patch := client.MergeFrom(conn.DeepCopy())
		conn.Spec.Callback = &v1.CallbackSpec{SecretRef: v1.LocalObjectReference{Name: "wecom-callback"}}
		Expect(k8s.Patch(ctx, conn, patch)).To(Succeed())

		mgr = startManager()
		DeferCleanup(mgr.stop)
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
			g.Expect(conn.Status.Callback).NotTo(BeNil())
			g.Expect(conn.Status.Callback.Configured).To(BeTrue(), conn.Status.Callback.Message)
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		// Saving the URL in WeCom's console verifies it against the manager.
		Expect(sim.SetCallback(creds.AgentID, "http://"+mgr.alertAddr+controller.CallbackPath(ns, "app"), cardCallbackToken, cardCallbackKey)).To(Succeed())
		DeferCleanup(func() { Expect(sim.SetCallback(creds.AgentID, "", "", "")).To(Succeed()) })

		dir := filepath.Join(tmp, "alertmanager-cards")
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		amAddr := fmt.Sprintf("127.0.0.1:%d", freePort())
		amURL = "http://" + amAddr

		Expect(k8s.Create(ctx, testenv.Secret(ns, "am-auth", map[string]string{"token": amToken}))).To(Succeed())
		apiSecret := testenv.Secret(ns, "am-api", map[string]string{"username": amAPIUser, "password": amAPIPassword})
		apiSecret.Annotations = map[string]string{v1.AnnotationAlertmanagerURL: amURL}
		Expect(k8s.Create(ctx, apiSecret)).To(Succeed())
		rcv = &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: ns}, Spec: v1.AlertReceiverSpec{
			ConnectionRef: &v1.ConnectionReference{Name: "app"},
			To:            &v1.Recipients{Users: []string{"wangwu", "lisi"}},
			Format:        v1.AlertFormatCard,
			Timezone:      "Asia/Shanghai",
			AuthSecretRef: v1.AlertReceiverAuth{Name: "am-auth", BearerTokenKey: "token"},
			Alertmanager: &v1.AlertmanagerAPI{URL: amURL,
				AuthSecretRef: &v1.AlertReceiverAuth{Name: "am-api", UsernameKey: "username", PasswordKey: "password"}},
		}}
		Expect(k8s.Create(ctx, rcv)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rcv), rcv)).To(Succeed())
			c := meta.FindStatusCondition(rcv.Status.Conditions, v1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())

		cfg := filepath.Join(dir, "alertmanager.yml")
		Expect(os.WriteFile(cfg, []byte(fmt.Sprintf(cardAlertmanagerConfig, "http://"+mgr.alertAddr+rcv.Status.WebhookPath, amToken)), 0o600)).To(Succeed())
		web := filepath.Join(dir, "web.yml")
		Expect(os.WriteFile(web, []byte("basic_auth_users:\n  "+amAPIUser+": "+amAPIPasswordHash+"\n"), 0o600)).To(Succeed())
		am, err := gexec.Start(exec.Command(alertmanager,
			"--config.file="+cfg,
			"--web.config.file="+web,
			"--storage.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+amAddr,
			"--web.external-url="+amURL,
			"--cluster.listen-address=",
		), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			am.Terminate()
			Eventually(am, 10*time.Second).Should(gexec.Exit())
		})
		Eventually(func() (int, error) {
			req, _ := http.NewRequest(http.MethodGet, amURL+"/-/ready", nil)
			req.SetBasicAuth(amAPIUser, amAPIPassword)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}, 30*time.Second, 100*time.Millisecond).Should(Equal(http.StatusOK))
	})

	postAlerts := func(alerts ...string) {
		GinkgoHelper()
		var list []json.RawMessage
		for _, a := range alerts {
			var l []json.RawMessage
			Expect(json.Unmarshal([]byte(a), &l)).To(Succeed())
			list = append(list, l...)
		}
		Expect(amDo(http.MethodPost, "/api/v2/alerts", list, nil)).To(Equal(http.StatusOK))
	}

	// card waits for the card of the firing alert named alertname and returns its
	// Notification and what the simulator recorded of it.
	card := func(alertname string) (*v1.Notification, wecomsim.CardState) {
		GinkgoHelper()
		var n *v1.Notification
		var state wecomsim.CardState
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(k8s.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{v1.LabelAlertStatus: "firing"})).To(Succeed())
			n = nil
			for i := range list.Items {
				if c := list.Items[i].Spec.Message.TemplateCard; c != nil && strings.HasSuffix(c.MainTitle.Title, " "+alertname) {
					n = &list.Items[i]
				}
			}
			g.Expect(n).NotTo(BeNil())
			g.Expect(n.Status.Phase).To(Equal(v1.NotificationSent))
			g.Expect(n.Status.Card).NotTo(BeNil())
			var ok bool
			state, ok = sim.Card(creds.AgentID, n.Status.Card.TaskID)
			g.Expect(ok).To(BeTrue())
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		return n, state
	}

	// events are the notes of the events with reason about the object of kind and name.
	events := func(kind, name, reason string) []string {
		list := &eventsv1.EventList{}
		Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Regarding.Kind == kind && e.Reason == reason {
				out = append(out, e.Note)
			}
		}
		return out
	}

	type silence struct {
		ID        string
		CreatedBy string
		Comment   string
		StartsAt  time.Time
		EndsAt    time.Time
		Matchers  []struct {
			Name, Value      string
			IsRegex, IsEqual bool
		}
		Status struct{ State string }
	}
	silences := func() []silence {
		var out []silence
		Expect(amDo(http.MethodGet, "/api/v2/silences", nil, &out)).To(Equal(http.StatusOK))
		return out
	}

	disk := map[string]string{"alertname": "CardDiskFull", "severity": "critical", "instance": "db-1", "team": "ops"}
	latency := map[string]string{"alertname": "CardHighLatency", "severity": "warning", "service": "checkout"}
	var (
		diskCard    *v1.Notification
		silencedBy  string
		clickPlain  string
		updatesOnce int
	)

	It("refuses cards where WeCom cannot send them, and Silence buttons without an Alertmanager API", func() {
		base := rcv.Spec.DeepCopy()
		for want, mutate := range map[string]func(*v1.AlertReceiverSpec){
			"format Card needs the app channel": func(s *v1.AlertReceiverSpec) {
				s.To, s.Alertmanager = nil, nil
				s.Robot = &v1.RobotTarget{WebhookSecretRef: v1.SecretKeySelector{Name: "app", Key: "robot"}}
			},
			"Silence buttons need spec.alertmanager": func(s *v1.AlertReceiverSpec) {
				s.Alertmanager = nil
				s.Card = &v1.AlertCard{Buttons: []v1.AlertCardButton{{Text: "Mute", Action: v1.AlertCardSilence, Duration: &metav1.Duration{Duration: time.Hour}}}}
			},
			"two buttons do the same": func(s *v1.AlertReceiverSpec) {
				s.Card = &v1.AlertCard{Buttons: []v1.AlertCardButton{{Text: "A", Action: v1.AlertCardAcknowledge}, {Text: "B", Action: v1.AlertCardAcknowledge}}}
			},
		} {
			bad := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: ns}, Spec: *base.DeepCopy()}
			mutate(&bad.Spec)
			err := k8s.Create(ctx, bad)
			Expect(err).To(HaveOccurred(), want)
			Expect(err.Error()).To(ContainSubstring(want))
		}
	})

	It("delivers a firing alert as a card with buttons to every recipient", func() {
		postAlerts(alertBody(disk, map[string]string{"summary": "disk full on db-1"}, time.Time{}),
			alertBody(latency, map[string]string{"summary": "checkout p99 above 2s"}, time.Time{}))
		var state wecomsim.CardState
		diskCard, state = card("CardDiskFull")
		Expect(state.CardType).To(Equal("button_interaction"))
		Expect(state.Recipients).To(ConsistOf("wangwu", "lisi"))
		for _, who := range []string{"wangwu", "lisi"} {
			m, ok := state.Member(who)
			Expect(ok).To(BeTrue())
			Expect(m.MainTitle).To(Equal("[FIRING:1] CardDiskFull"))
			Expect(m.Buttons).To(Equal([]wecomsim.CardButton{
				{Text: "Acknowledge", Key: "ack"}, {Text: "Silence 1h", Key: "silence-1h0m0s"}, {Text: "Silence 4h", Key: "silence-4h0m0s"}}))
		}
		var sent struct {
			Source   struct{ Desc string }
			SubTitle string                        `json:"sub_title_text"`
			JumpList []struct{ Title, URL string } `json:"jump_list"`
		}
		Expect(json.Unmarshal(state.Card, &sent)).To(Succeed())
		Expect(sent.Source.Desc).To(Equal("Alertmanager · critical"))
		Expect(sent.SubTitle).To(Equal("disk full on db-1"))
		Expect(sent.JumpList).To(HaveLen(2))
		Expect(sent.JumpList[0].URL).To(Equal("http://prometheus.example.com:9090/graph?g0.expr=disk"))
		Expect(sent.JumpList[1].URL).To(HavePrefix(amURL + "/#/alerts?filter="))
		Expect(diskCard.Status.Card.TaskID).To(MatchRegexp(`^[0-9A-Za-z_@-]{1,128}$`))
	})

	It("silences the alert when a recipient clicks Silence 4h, and every recipient's card says who did", func() {
		_, err := sim.ClickCard(wecomsim.CardClick{TaskID: diskCard.Status.Card.TaskID, UserID: "wangwu", Key: "silence-4h0m0s"})
		Expect(err).NotTo(HaveOccurred())

		var got silence
		Eventually(func(g Gomega) {
			list := silences()
			g.Expect(list).To(HaveLen(1))
			got = list[0]
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		Expect(got.Status.State).To(Equal("active"))
		Expect(got.CreatedBy).To(Equal("王五"))
		Expect(got.Comment).To(ContainSubstring("Notification " + ns + "/" + diskCard.Name))
		Expect(got.EndsAt.Sub(got.StartsAt)).To(BeNumerically("~", 4*time.Hour, time.Minute))
		var matchers []string
		for _, m := range got.Matchers {
			Expect(m.IsRegex).To(BeFalse())
			Expect(m.IsEqual).To(BeTrue())
			matchers = append(matchers, m.Name+"="+m.Value)
		}
		Expect(matchers).To(ConsistOf("alertname=CardDiskFull", "instance=db-1", "severity=critical", "team=ops"))
		silencedBy = got.ID

		By("the card shows who silenced it, for both recipients")
		var text string
		Eventually(func(g Gomega) {
			n := reload(diskCard)
			g.Expect(n.Status.Actions).To(HaveLen(1))
			a := n.Status.Actions[0]
			g.Expect(a.State).To(Equal(v1.ActionDone))
			g.Expect(a.CardUpdated).To(BeTrue(), a.Message)
			g.Expect(a.SilenceID).To(Equal(got.ID))
			g.Expect(a.UserID).To(Equal("wangwu"))
			g.Expect(a.Name).To(Equal("王五"))
			shanghai, _ := time.LoadLocation("Asia/Shanghai")
			text = "Silenced 4h by 王五 at " + a.Time.In(shanghai).Format("15:04")
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		state, _ := sim.Card(creds.AgentID, diskCard.Status.Card.TaskID)
		for _, who := range []string{"wangwu", "lisi"} {
			m, _ := state.Member(who)
			Expect(m.ReplaceName).To(Equal(text), who)
			Expect(m.Buttons).To(Equal([]wecomsim.CardButton{{Text: text, Disabled: true}}))
		}
		Expect(state.Updates).To(HaveLen(1))
		updatesOnce = len(state.Updates)
		Eventually(func() []string { return events("Notification", diskCard.Name, "Silenced") }, 10*time.Second, 100*time.Millisecond).
			Should(ContainElement(ContainSubstring(got.ID)))
		Eventually(func() []string { return events("AlertReceiver", rcv.Name, "Silenced") }, 10*time.Second, 100*time.Millisecond).
			Should(ContainElement(ContainSubstring(diskCard.Name)))

		Eventually(func(g Gomega) {
			var clicks []wecomsim.CallbackDelivery
			for _, d := range sim.Deliveries() {
				if d.Event == wecom.EventTemplateCard && d.TaskID == diskCard.Status.Card.TaskID {
					clicks = append(clicks, d)
				}
			}
			g.Expect(clicks).To(HaveLen(1))
			g.Expect(clicks[0].Acked).To(BeTrue(), "the manager answered WeCom")
			clickPlain = clicks[0].Plaintext
		}, 10*time.Second, 100*time.Millisecond).Should(Succeed())
	})

	It("stops notifying: Alertmanager mutes the alerts the silence matches", func() {
		before := len(sim.Cards())
		postAlerts(alertBody(map[string]string{"alertname": "CardDiskFull", "severity": "critical", "instance": "db-1", "team": "ops", "mount": "/data"},
			map[string]string{"summary": "disk full on db-1 /data"}, time.Time{}))
		Eventually(func(g Gomega) {
			var alerts []struct {
				Labels map[string]string
				Status struct {
					State      string
					SilencedBy []string
				}
			}
			g.Expect(amDo(http.MethodGet, "/api/v2/alerts?filter=alertname%3D%22CardDiskFull%22", nil, &alerts)).To(Equal(http.StatusOK))
			g.Expect(alerts).To(HaveLen(2))
			for _, a := range alerts {
				g.Expect(a.Status.State).To(Equal("suppressed"), fmt.Sprint(a.Labels))
				g.Expect(a.Status.SilencedBy).To(ConsistOf(silencedBy))
			}
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		// Alertmanager flushes the group every second (group_interval): a new alert of it
		// would reach WeCom within that, were it not muted.
		Consistently(func() int { return len(sim.Cards()) }, 3*time.Second, 200*time.Millisecond).Should(Equal(before))
		Expect(inbox("wangwu", "disk full on db-1 /data")).To(BeZero())
	})

	It("changes nothing for a click by a member who was not sent the card", func() {
		crypto, err := wecom.NewCallbackCrypto(cardCallbackToken, cardCallbackKey, creds.CorpID)
		Expect(err).NotTo(HaveOccurred())
		forged := strings.Replace(clickPlain, "<FromUserName><![CDATA[wangwu]]>", "<FromUserName><![CDATA[zhaoliu]]>", 1)
		forged = regexp.MustCompile(`<ResponseCode><!\[CDATA\[[^\]]*\]\]>`).ReplaceAllString(forged, "<ResponseCode><![CDATA[forged-code-1]]>")
		forged = strings.Replace(forged, "silence-4h0m0s", "silence-1h0m0s", 1)
		Expect(forged).To(ContainSubstring("zhaoliu"))
		ts, nonce := fmt.Sprint(time.Now().Unix()), "90817"
		body, sig, err := crypto.EncryptDelivery([]byte(forged), creds.AgentID, ts, nonce)
		Expect(err).NotTo(HaveOccurred())
		q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
		resp, err := http.Post("http://"+mgr.alertAddr+controller.CallbackPath(ns, "app")+"?"+q.Encode(), "text/xml", bytes.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))

		Eventually(func() []string { return events("Notification", diskCard.Name, "NotRecipient") }, 10*time.Second, 100*time.Millisecond).
			Should(ConsistOf(ContainSubstring("zhaoliu")))
		Expect(reload(diskCard).Status.Actions).To(HaveLen(1))
		Expect(silences()).To(HaveLen(1))
		state, _ := sim.Card(creds.AgentID, diskCard.Status.Card.TaskID)
		Expect(state.Updates).To(HaveLen(updatesOnce))
	})

	It("acknowledges, and updates the card in place when the alerts resolve", func() {
		n, _ := card("CardHighLatency")
		_, err := sim.ClickCard(wecomsim.CardClick{TaskID: n.Status.Card.TaskID, UserID: "lisi", Key: "ack"})
		Expect(err).NotTo(HaveOccurred())
		var text string
		Eventually(func(g Gomega) {
			got := reload(n)
			g.Expect(got.Status.Actions).To(HaveLen(1))
			g.Expect(got.Status.Actions[0].State).To(Equal(v1.ActionDone))
			g.Expect(got.Status.Actions[0].CardUpdated).To(BeTrue(), got.Status.Actions[0].Message)
			shanghai, _ := time.LoadLocation("Asia/Shanghai")
			text = "Acknowledged by 李四 at " + got.Status.Actions[0].Time.In(shanghai).Format("15:04")
			state, _ := sim.Card(creds.AgentID, n.Status.Card.TaskID)
			m, _ := state.Member("wangwu")
			g.Expect(m.ReplaceName).To(Equal(text))
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		Expect(silences()).To(HaveLen(1), "an acknowledgement silences nothing")

		By("resolving the alert")
		messages := len(sim.Messages())
		postAlerts(alertBody(latency, map[string]string{"summary": "checkout p99 above 2s"}, time.Now().Add(-time.Second)))
		Eventually(func(g Gomega) {
			state, _ := sim.Card(creds.AgentID, n.Status.Card.TaskID)
			for _, who := range []string{"wangwu", "lisi"} {
				m, _ := state.Member(who)
				g.Expect(m.CardType).To(Equal("text_notice"), who)
				g.Expect(m.MainTitle).To(Equal("[RESOLVED] CardHighLatency"))
				g.Expect(m.Buttons).To(BeEmpty())
				g.Expect(string(m.Card)).To(ContainSubstring(`"keyname":"Handled","value":"` + text + `"`))
			}
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(k8s.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{v1.LabelAlertStatus: "resolved"})).To(Succeed())
			g.Expect(list.Items).To(HaveLen(1))
			r := list.Items[0]
			g.Expect(r.Status.Phase).To(Equal(v1.NotificationSent))
			c := meta.FindStatusCondition(r.Status.Conditions, v1.ConditionReady)
			g.Expect(c.Reason).To(Equal(v1.ReasonCardUpdated))
			g.Expect(reload(n).Status.Card.ResolvedBy).To(Equal(r.Name))
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		Expect(sim.Messages()).To(HaveLen(messages), "no resolved message was sent: the card shows it")
	})
})
