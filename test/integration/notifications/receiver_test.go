package notifications

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

const token = "s3cr3t-token-for-alertmanager-0123456789"

// payload is an Alertmanager webhook body (version 4) with one alert.
func payload(status, instance string) string {
	endsAt := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		endsAt = "2026-03-02T10:07:30Z"
	}
	return `{"receiver":"wecom","status":"` + status + `","version":"4","groupKey":"{}:{alertname=\"DiskFull\"}","truncatedAlerts":0,
	  "groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull","severity":"critical","instance":"` + instance + `"},
	  "commonAnnotations":{"summary":"disk full on ` + instance + `"},"externalURL":"http://alertmanager.example.com:9093",
	  "alerts":[{"status":"` + status + `","labels":{"alertname":"DiskFull","severity":"critical","instance":"` + instance + `"},
	    "annotations":{"summary":"disk full on ` + instance + `","description":"/var is 99% full"},
	    "startsAt":"2026-03-02T10:00:00Z","endsAt":"` + endsAt + `",
	    "generatorURL":"http://prometheus.example.com:9090/graph?g0.expr=disk","fingerprint":"c0ffee"}]}`
}

func post(path, body string, header ...string) (int, string) {
	req, err := http.NewRequest(http.MethodPost, "http://"+amAddr+path, strings.NewReader(body))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func bearer(t string) []string { return []string{"Authorization", "Bearer " + t} }

func notifications(ns string) []v1.Notification {
	list := &v1.NotificationList{}
	ExpectWithOffset(1, env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	return list.Items
}

func receiverReady(r *v1.AlertReceiver) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(r), r)).To(Succeed())
		c := meta.FindStatusCondition(r.Status.Conditions, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	}
}

func newReceiver(ns, name string, mutate func(*v1.AlertReceiverSpec)) *v1.AlertReceiver {
	r := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	r.Spec.ConnectionRef = &v1.ConnectionReference{Name: testenv.AppConnection}
	r.Spec.To = &v1.Recipients{Users: []string{"wangwu"}}
	r.Spec.Timezone = "Asia/Shanghai"
	r.Spec.AuthSecretRef = v1.AlertReceiverAuth{Name: "am-auth", BearerTokenKey: "token"}
	if mutate != nil {
		mutate(&r.Spec)
	}
	ExpectWithOffset(1, env.Client.Create(ctx, r)).To(Succeed())
	return r
}

var _ = Describe("the Alertmanager receiver", func() {
	var ns, path string
	BeforeEach(func() {
		ns = namespace("am")
		Expect(env.Client.Create(ctx, testenv.Secret(ns, "am-auth",
			map[string]string{"token": token + "\n", "user": "alertmanager", "password": "pa55-w0rd"}))).To(Succeed())
		r := newReceiver(ns, "oncall", nil)
		Eventually(receiverReady(r), 10*time.Second).Should(Succeed())
		Expect(r.Status.WebhookPath).To(Equal("/alertmanager/" + ns + "/oncall"))
		path = r.Status.WebhookPath
	})

	It("refuses what it must not take, and creates nothing", func() {
		for _, c := range []struct {
			what   string
			path   string
			body   string
			header []string
			code   int
		}{
			{"unknown receiver", "/alertmanager/" + ns + "/nobody", payload("firing", "a"), bearer(token), http.StatusUnauthorized},
			{"unknown namespace", "/alertmanager/nowhere/oncall", payload("firing", "a"), bearer(token), http.StatusUnauthorized},
			{"no receiver name", "/alertmanager/" + ns, payload("firing", "a"), bearer(token), http.StatusNotFound},
			{"no credentials", path, payload("firing", "a"), nil, http.StatusUnauthorized},
			{"a wrong token", path, payload("firing", "a"), bearer(token + "x"), http.StatusUnauthorized},
			{"basic auth on a bearer receiver", path, payload("firing", "a"), []string{"Authorization", "Basic YWxlcnRtYW5hZ2VyOnBhNTUtdzByZA=="}, http.StatusUnauthorized},
			{"a body that is not JSON", path, "alerts: [", bearer(token), http.StatusBadRequest},
			{"payload version 3", path, strings.Replace(payload("firing", "a"), `"version":"4"`, `"version":"3"`, 1), bearer(token), http.StatusBadRequest},
			{"no alerts", path, `{"version":"4","status":"firing","groupKey":"g","alerts":[]}`, bearer(token), http.StatusBadRequest},
		} {
			code, body := post(c.path, c.body, c.header...)
			Expect(code).To(Equal(c.code), "%s: %s", c.what, body)
		}
		Consistently(func() []v1.Notification { return notifications(ns) }, time.Second).Should(BeEmpty())
	})

	It("answers an unknown receiver as it answers a wrong token, so receivers cannot be probed", func() {
		_, wrongToken := post(path, payload("firing", "a"), bearer(token+"x")...)
		for _, p := range []string{"/alertmanager/" + ns + "/nobody", "/alertmanager/nowhere/oncall"} {
			for _, h := range [][]string{bearer(token), bearer(token + "x"), nil} {
				code, body := post(p, payload("firing", "a"), h...)
				Expect(code).To(Equal(http.StatusUnauthorized), p)
				Expect(body).To(Equal(wrongToken), p)
			}
		}
	})

	It("stores each notification once however often Alertmanager retries it, and sends it", func() {
		code, body := post(path, payload("firing", "db-1"), bearer(token)...)
		Expect(code).To(Equal(http.StatusOK), body)
		var resp struct{ Notifications []string }
		Expect(json.Unmarshal([]byte(body), &resp)).To(Succeed())
		Expect(resp.Notifications).To(HaveLen(1))
		name := resp.Notifications[0]

		for range 3 { // Alertmanager's retries of the same POST
			code, again := post(path, payload("firing", "db-1"), bearer(token)...)
			Expect(code).To(Equal(http.StatusOK))
			Expect(again).To(Equal(body))
		}
		Expect(notifications(ns)).To(HaveLen(1))

		n := phase(&v1.Notification{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, v1.NotificationSent, 20*time.Second)
		Expect(n.Labels).To(HaveKeyWithValue(v1.LabelAlertReceiver, "oncall"))
		Expect(n.Labels).To(HaveKeyWithValue(v1.LabelAlertStatus, "firing"))
		got := messagesWith("disk full on db-1")
		Expect(got).To(HaveLen(1))
		var sent struct {
			ToUser   string `json:"touser"`
			Markdown struct{ Content string }
		}
		Expect(json.Unmarshal(got[0].Body, &sent)).To(Succeed())
		Expect(sent.ToUser).To(Equal("wangwu"))
		Expect(sent.Markdown.Content).To(Equal(strings.Join([]string{
			`## <font color="warning">[FIRING:1]</font> DiskFull`,
			``,
			`**DiskFull** · critical · <font color="warning">firing</font>`,
			`> Summary: disk full on db-1`,
			`> Description: /var is 99% full`,
			`> Labels: instance=db-1`,
			`> Started: 2026-03-02 18:00:00 CST`,
			`> [Source](http://prometheus.example.com:9090/graph?g0.expr=disk) · [Silence](http://alertmanager.example.com:9093/#/silences/new?filter=%7Balertname%3D%22DiskFull%22%2Cinstance%3D%22db-1%22%2Cseverity%3D%22critical%22%7D)`,
		}, "\n")))

		By("and the resolved notification is another one")
		code, body = post(path, payload("resolved", "db-1"), bearer(token)...)
		Expect(code).To(Equal(http.StatusOK), body)
		Expect(notifications(ns)).To(HaveLen(2))
		Eventually(func() []string {
			var out []string
			for _, m := range messagesWith("disk full on db-1") {
				var b struct{ Markdown struct{ Content string } }
				Expect(json.Unmarshal(m.Body, &b)).To(Succeed())
				out = append(out, b.Markdown.Content)
			}
			return out
		}, 20*time.Second).Should(ContainElement(HavePrefix(`## <font color="info">[RESOLVED]</font> DiskFull`)))
	})

	It("sends Alertmanager's repeat_interval reminder again once the retry window passed", func() {
		r := newReceiver(ns, "reminders", func(s *v1.AlertReceiverSpec) {
			s.To.Users = []string{"zhaoliu"}
			s.RetryWindow = &metav1.Duration{Duration: 2 * time.Second}
		})
		Eventually(receiverReady(r), 10*time.Second).Should(Succeed())
		first, retry := func() (string, string) {
			_, a := post(r.Status.WebhookPath, payload("firing", "db-3"), bearer(token)...)
			_, b := post(r.Status.WebhookPath, payload("firing", "db-3"), bearer(token)...)
			return a, b
		}()
		Expect(retry).To(Equal(first), "a retry within the window")
		var a, b struct{ Notifications []string }
		Expect(json.Unmarshal([]byte(first), &a)).To(Succeed())
		// The message carries the retry window as WeCom's duplicate check, counted on WeCom's
		// clock from its send. Past it there, the identical reminder is a new message.
		phase(&v1.Notification{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: a.Notifications[0]}}, v1.NotificationSent, 20*time.Second)
		env.Sim.Advance(3 * time.Second)
		// Within the window a post answers the first notification and creates nothing; the
		// first post after it is Alertmanager's reminder.
		Eventually(func(g Gomega) {
			code, reminder := post(r.Status.WebhookPath, payload("firing", "db-3"), bearer(token)...)
			g.Expect(code).To(Equal(http.StatusOK))
			g.Expect(json.Unmarshal([]byte(reminder), &b)).To(Succeed())
			g.Expect(b.Notifications).NotTo(Equal(a.Notifications))
		}, 10*time.Second, 200*time.Millisecond).Should(Succeed())
		Expect(b.Notifications).To(Equal([]string{a.Notifications[0] + "-r1"}))
		for _, name := range []string{a.Notifications[0], b.Notifications[0]} {
			phase(&v1.Notification{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, v1.NotificationSent, 20*time.Second)
		}
		Expect(deliveredWith("zhaoliu", "disk full on db-3")).To(Equal(2), "the message and its reminder")
	})

	It("takes basic auth, and falls back to the built-in template when the template breaks", func() {
		r := newReceiver(ns, "basic", func(s *v1.AlertReceiverSpec) {
			s.AuthSecretRef = v1.AlertReceiverAuth{Name: "am-auth", UsernameKey: "user", PasswordKey: "password"}
			s.Format = v1.AlertFormatText
			s.Template = `{{ if .Status }}never closed`
		})
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(r), r)).To(Succeed())
			c := meta.FindStatusCondition(r.Status.Conditions, v1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(v1.ReasonTemplateInvalid))
		}, 10*time.Second).Should(Succeed())

		req := func(user, pass string) int {
			hr, _ := http.NewRequest(http.MethodPost, "http://"+amAddr+r.Status.WebhookPath, bytes.NewBufferString(payload("firing", "db-2")))
			hr.SetBasicAuth(user, pass)
			resp, err := http.DefaultClient.Do(hr)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			return resp.StatusCode
		}
		Expect(req("alertmanager", "wrong")).To(Equal(http.StatusUnauthorized))
		Expect(notifications(ns)).To(BeEmpty())
		Expect(req("alertmanager", "pa55-w0rd")).To(Equal(http.StatusOK))
		Eventually(func() []v1.Notification { return notifications(ns) }).Should(HaveLen(1))
		n := phase(&notifications(ns)[0], v1.NotificationSent, 20*time.Second)
		Expect(n.Spec.Message.Text.Content).To(HavePrefix("[FIRING:1] DiskFull\n\n● DiskFull (critical): firing\nSummary: disk full on db-2"))
		Eventually(func() map[string]string { return events(r) }, 10*time.Second).Should(HaveKey(v1.ReasonTemplateFailed))
	})
})
