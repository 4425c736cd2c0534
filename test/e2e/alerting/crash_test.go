package alerting

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

func notification(ns, name string, spec v1.NotificationSpec) *v1.Notification {
	n := &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	ExpectWithOffset(1, k8s.Create(ctx, n)).To(Succeed())
	return n
}

func reload(n *v1.Notification) *v1.Notification {
	out := &v1.Notification{}
	ExpectWithOffset(1, k8s.Get(ctx, client.ObjectKeyFromObject(n), out)).To(Succeed())
	return out
}

func waitPhase(n *v1.Notification, want v1.NotificationPhase) *v1.Notification {
	var out *v1.Notification
	EventuallyWithOffset(1, func() v1.NotificationPhase {
		out = reload(n)
		return out.Status.Phase
	}, 60*time.Second, 100*time.Millisecond).Should(Equal(want))
	return out
}

// accepted lists what the simulator accepted whose body contains marker: delivered
// messages, and sends it recognised as duplicates.
func accepted(marker string) (delivered, duplicates int) {
	for _, m := range sim.Messages() {
		if strings.Contains(string(m.Body), marker) {
			if m.Duplicate {
				duplicates++
			} else {
				delivered++
			}
		}
	}
	return delivered, duplicates
}

func inbox(user, marker string) int {
	n := 0
	for _, d := range sim.Inbox(user) {
		if strings.Contains(string(d.Body), marker) {
			n++
		}
	}
	return n
}

// holdReplies makes the simulator deliver what is sent to endpoint and then hold the reply
// for an hour: the window between a send and its status write, in which the test kills the
// manager. The kill must come well before the manager gives up on the call (30 s) and
// records a retry. The hold is released when the spec ends, whatever happens.
func holdReplies(endpoint string) {
	simFaults(fmt.Sprintf(`{"add":[{"endpoints":[%q],"reply_delay_ms":%d}]}`, endpoint, time.Hour.Milliseconds()))
	DeferCleanup(releaseReplies)
}

// releaseReplies removes every fault rule, so the next manager's sends are answered.
func releaseReplies() { simFaults(`{"clear":true}`) }

// simFaults posts body to the simulator's admin API /sim/faults.
func simFaults(body string) {
	resp, err := http.Post(sim.URL+"/sim/faults", "application/json", strings.NewReader(body))
	ExpectWithOffset(2, err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(resp.Body)
	ExpectWithOffset(2, resp.StatusCode).To(Equal(http.StatusOK), string(msg))
}

var _ = Describe("a manager killed between a send and its status write", Ordered, func() {
	var ns string
	BeforeAll(func() { ns = namespace("crash") })

	It("does not make WeCom deliver an app message twice", func() {
		By("sending one notification normally")
		m := startManager()
		before := notification(ns, "before", v1.NotificationSpec{
			ConnectionRef: &v1.ConnectionReference{Name: "app"}, To: &v1.Recipients{Users: []string{"zhaoliu"}},
			Message: v1.Message{Text: &v1.TextMessage{Content: "sent-before-the-crash"}}})
		waitPhase(before, v1.NotificationSent)
		m.stop()

		By("killing the manager while WeCom holds the reply to the send, before the status write")
		m = startManager()
		holdReplies("message/send")
		n := notification(ns, "crash", v1.NotificationSpec{
			ConnectionRef: &v1.ConnectionReference{Name: "app"}, To: &v1.Recipients{Users: []string{"lisi"}},
			Message: v1.Message{Markdown: &v1.MarkdownMessage{Content: "**crash-test** disk full on db-1"}}})
		Eventually(func() int { return inbox("lisi", "crash-test") }, 60*time.Second, 20*time.Millisecond).
			Should(Equal(1), "WeCom delivered the message before the kill")
		m.kill()
		releaseReplies()
		got := reload(n)
		Expect(got.Status.Phase).To(Equal(v1.NotificationPending), "the kill came before the status write")
		Expect(got.Status.Attempts).To(Equal(int32(1)), "the attempt was recorded before the call")
		Expect(got.Status.LastAttemptTime).NotTo(BeNil())

		By("restarting: the notification is sent again and WeCom drops the duplicate")
		m = startManager()
		defer m.stop()
		got = waitPhase(n, v1.NotificationSent)
		Expect(got.Status.Attempts).To(Equal(int32(2)))
		delivered, dups := accepted("crash-test")
		Expect(delivered).To(Equal(1), "messages WeCom delivered")
		Expect(dups).To(Equal(1), "resends WeCom recognised as duplicates")
		Expect(inbox("lisi", "crash-test")).To(Equal(1), "copies in lisi's inbox")
		var first string
		for _, msg := range sim.Messages() {
			if strings.Contains(string(msg.Body), "crash-test") && !msg.Duplicate {
				first = msg.MsgID
			}
		}
		Expect(got.Status.MsgID).To(Equal(first), "the status names the one delivered message")

		By("and the notification Sent before the crash is not sent again")
		Consistently(func() int { return inbox("zhaoliu", "sent-before-the-crash") }, 2*time.Second).Should(Equal(1))
	})

	It("resends a robot message, which has no server-side dedupe: the documented at-least-once edge", func() {
		m := startManager()
		holdReplies("webhook/send")
		n := notification(ns, "robot-crash", v1.NotificationSpec{
			Robot:   &v1.RobotTarget{WebhookSecretRef: v1.SecretKeySelector{Name: "app", Key: "robot"}},
			Message: v1.Message{Text: &v1.TextMessage{Content: "robot-crash-test"}}})
		Eventually(func() int { delivered, _ := accepted("robot-crash-test"); return delivered }, 60*time.Second, 20*time.Millisecond).
			Should(Equal(1), "the robot accepted the message before the kill")
		m.kill()
		releaseReplies()
		Expect(reload(n).Status.Attempts).To(Equal(int32(1)))

		m = startManager()
		defer m.stop()
		got := waitPhase(n, v1.NotificationSent)
		Expect(got.Status.Attempts).To(Equal(int32(2)), "status.attempts shows the resend")
		delivered, _ := accepted("robot-crash-test")
		Expect(delivered).To(Equal(2), "a robot cannot tell a resend from a new message")
	})
})

// alertBody is the JSON of one alert for Alertmanager's /api/v2/alerts.
func alertBody(labels map[string]string, annotations map[string]string, endsAt time.Time) string {
	a := map[string]any{"labels": labels, "annotations": annotations, "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=disk"}
	if !endsAt.IsZero() {
		a["endsAt"] = endsAt.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal([]any{a})
	return string(b)
}
