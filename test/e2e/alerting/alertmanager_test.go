package alerting

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

const amToken = "alertmanager-to-wecom-0123456789abcdef"

// alertmanagerConfig routes team=ops to the AlertReceiver with the right token and
// team=intruder to the same URL with a wrong one.
const alertmanagerConfig = `
route:
  receiver: wecom
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
  - matchers: ['team="intruder"']
    receiver: intruder
receivers:
- name: wecom
  webhook_configs:
  - url: %[1]s
    send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials: %[2]s
- name: intruder
  webhook_configs:
  - url: %[1]s
    send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials: not-the-token
`

func metric(addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name) {
			var v float64
			fields := strings.Fields(line)
			_, err := fmt.Sscan(fields[len(fields)-1], &v)
			ExpectWithOffset(1, err).NotTo(HaveOccurred(), line)
			sum += v
		}
	}
	return sum
}

var _ = Describe("Alertmanager", Ordered, func() {
	var (
		ns     string
		mgr    *manager
		am     *gexec.Session
		amAddr string
	)
	BeforeAll(func() {
		ns = namespace("alerts")
		mgr = startManager()
		DeferCleanup(mgr.stop)

		Expect(k8s.Create(ctx, testenv.Secret(ns, "am-auth", map[string]string{"token": amToken}))).To(Succeed())
		rcv := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: ns}, Spec: v1.AlertReceiverSpec{
			ConnectionRef: &v1.ConnectionReference{Name: "app"},
			To:            &v1.Recipients{Users: []string{"wangwu"}},
			Timezone:      "Asia/Shanghai",
			AuthSecretRef: v1.AlertReceiverAuth{Name: "am-auth", BearerTokenKey: "token"},
		}}
		Expect(k8s.Create(ctx, rcv)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rcv), rcv)).To(Succeed())
			g.Expect(rcv.Status.Conditions).To(ContainElement(And(
				HaveField("Type", v1.ConditionReady), HaveField("Status", metav1.ConditionTrue))))
		}, 30*time.Second).Should(Succeed())

		dir := filepath.Join(tmp, "alertmanager")
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		cfg := filepath.Join(dir, "alertmanager.yml")
		url := "http://" + mgr.alertAddr + rcv.Status.WebhookPath
		Expect(os.WriteFile(cfg, []byte(fmt.Sprintf(alertmanagerConfig, url, amToken)), 0o600)).To(Succeed())
		amAddr = fmt.Sprintf("127.0.0.1:%d", freePort())
		cmd := exec.Command(alertmanager,
			"--config.file="+cfg,
			"--storage.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+amAddr,
			"--web.external-url=http://"+amAddr,
			"--cluster.listen-address=",
			"--log.level=debug",
		)
		var err error
		am, err = gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			am.Terminate()
			Eventually(am, 10*time.Second).Should(gexec.Exit())
		})
		Eventually(func() (int, error) {
			resp, err := http.Get("http://" + amAddr + "/-/ready")
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}, 30*time.Second, 100*time.Millisecond).Should(Equal(http.StatusOK))
	})

	postAlerts := func(body string) {
		resp, err := http.Post("http://"+amAddr+"/api/v2/alerts", "application/json", strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK), string(b))
	}

	// markdown returns the markdown contents WeCom delivered to wangwu containing s.
	markdown := func(s string) []string {
		var out []string
		for _, d := range sim.Inbox("wangwu") {
			var body struct{ Markdown struct{ Content string } }
			Expect(json.Unmarshal(d.Body, &body)).To(Succeed())
			if strings.Contains(body.Markdown.Content, s) {
				out = append(out, body.Markdown.Content)
			}
		}
		return out
	}

	labels := map[string]string{"alertname": "DiskFull", "severity": "critical", "instance": "db-1", "team": "ops"}
	annotations := map[string]string{"summary": "disk full on db-1", "description": "/var is 99% full"}

	It("delivers a firing alert to WeCom as the rendered markdown message", func() {
		postAlerts(alertBody(labels, annotations, time.Time{}))
		Eventually(func() []string { return markdown("disk full on db-1") }, 60*time.Second, 200*time.Millisecond).Should(HaveLen(1))
		got := markdown("disk full on db-1")[0]
		Expect(got).To(HavePrefix("## <font color=\"warning\">[FIRING:1]</font> DiskFull\n"))
		for _, want := range []string{
			"**DiskFull** · critical · <font color=\"warning\">firing</font>",
			"> Summary: disk full on db-1",
			"> Description: /var is 99% full",
			"> Labels: instance=db-1, team=ops",
			" CST\n", // the receiver's time zone
			"[Source](http://prometheus.example.com:9090/graph?g0.expr=disk)",
			"[Silence](http://" + amAddr + "/#/silences/new?filter=%7Balertname%3D%22DiskFull%22%2Cinstance%3D%22db-1%22%2Cseverity%3D%22critical%22%2Cteam%3D%22ops%22%7D)",
		} {
			Expect(got).To(ContainSubstring(want))
		}
	})

	It("then delivers it resolved", func() {
		postAlerts(alertBody(labels, annotations, time.Now().Add(-time.Second)))
		Eventually(func() []string { return markdown("<font color=\"info\">[RESOLVED]</font> DiskFull") }, 60*time.Second, 200*time.Millisecond).Should(HaveLen(1))
		got := markdown("[RESOLVED]")[0]
		Expect(got).To(ContainSubstring("> Resolved: "))
		Expect(got).NotTo(ContainSubstring("[Silence]"))

		// WeCom has the message before the operator has written Sent: wait for the status.
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			statuses := map[string]int{}
			for _, n := range list.Items {
				g.Expect(n.Status.Phase).To(Equal(v1.NotificationSent))
				statuses[n.Labels[v1.LabelAlertStatus]]++
			}
			g.Expect(statuses).To(Equal(map[string]int{"firing": 1, "resolved": 1}), "one Notification per state, however often Alertmanager posted")
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		Expect(markdown("disk full on db-1")).To(HaveLen(2), "firing once, resolved once")

		By("and the manager's metrics count them")
		Eventually(func() float64 { return metric(mgr.metrics, `wecom_notifications_total{channel="app",phase="Sent"}`) }, 10*time.Second).Should(Equal(2.0))
		Eventually(func() float64 { return metric(mgr.metrics, `wecom_notification_delivery_seconds_count{channel="app"}`) }, 10*time.Second).Should(Equal(2.0))
		Expect(metric(mgr.metrics, `wecom_alertmanager_requests_total{code="200"}`)).To(BeNumerically(">=", 2))
		Expect(metric(mgr.metrics, `wecom_notifications_held{channel="app"}`)).To(Equal(0.0))
	})

	It("gets 401 with a wrong token, and nothing is created", func() {
		before := metric(mgr.metrics, `wecom_alertmanager_requests_total{code="401"}`)
		postAlerts(alertBody(map[string]string{"alertname": "Intruder", "team": "intruder"}, map[string]string{"summary": "should never arrive"}, time.Time{}))
		Eventually(func() float64 { return metric(mgr.metrics, `wecom_alertmanager_requests_total{code="401"}`) }, 60*time.Second, 200*time.Millisecond).
			Should(BeNumerically(">", before))
		Eventually(func() float64 {
			return metric(amAddr, `alertmanager_notifications_failed_total{integration="webhook"`)
		}, 30*time.Second, 200*time.Millisecond).Should(BeNumerically(">", 0), "Alertmanager saw the webhook fail")
		list := &v1.NotificationList{}
		Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		Expect(list.Items).To(HaveLen(2))
		for _, m := range sim.Messages() {
			Expect(string(m.Body)).NotTo(ContainSubstring("should never arrive"))
		}
	})

	It("never writes a credential to the manager's log", func() {
		tok, err := http.Get(sim.URL + "/cgi-bin/gettoken?corpid=" + creds.CorpID + "&corpsecret=" + creds.AppSecret)
		Expect(err).NotTo(HaveOccurred())
		var t struct {
			AccessToken string `json:"access_token"`
		}
		Expect(json.NewDecoder(tok.Body).Decode(&t)).To(Succeed())
		tok.Body.Close()
		Expect(t.AccessToken).NotTo(BeEmpty())
		log := string(mgr.out.Contents())
		Expect(log).To(ContainSubstring("serving Alertmanager webhooks"))
		for name, secret := range map[string]string{"access token": t.AccessToken, "app secret": creds.AppSecret,
			"robot key": creds.RobotKey, "Alertmanager token": amToken, "wrong token": "not-the-token"} {
			Expect(log).NotTo(ContainSubstring(secret), name)
		}
	})
})
