package notifications

import (
	"encoding/json"
	"fmt"
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

// groupPayload is an Alertmanager webhook body with one firing alert per instance.
func groupPayload(groupKey string, instances ...string) string {
	type alert struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    string            `json:"startsAt"`
		Fingerprint string            `json:"fingerprint"`
	}
	body := map[string]any{
		"version": "4", "status": "firing", "receiver": "wecom", "groupKey": groupKey,
		"groupLabels":  map[string]string{"alertname": "DiskFull"},
		"commonLabels": map[string]string{"alertname": "DiskFull", "severity": "critical"},
	}
	var alerts []alert
	for i, in := range instances {
		alerts = append(alerts, alert{Status: "firing", StartsAt: "2026-03-02T10:00:00Z", Fingerprint: fmt.Sprintf("f%04d", i),
			Labels:      map[string]string{"alertname": "DiskFull", "severity": "critical", "instance": in},
			Annotations: map[string]string{"summary": "disk full on " + in}})
	}
	body["alerts"] = alerts
	b, err := json.Marshal(body)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return string(b)
}

// names decodes the Notification names of an answer.
func names(body string) []string {
	var resp struct{ Notifications []string }
	ExpectWithOffset(1, json.Unmarshal([]byte(body), &resp)).To(Succeed(), body)
	return resp.Notifications
}

func condition(r *v1.AlertReceiver) func(Gomega) metav1.Condition {
	return func(g Gomega) metav1.Condition {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(r), r)).To(Succeed())
		c := meta.FindStatusCondition(r.Status.Conditions, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		return *c
	}
}

// Issue 11: what a tenant who may create AlertReceivers, or who holds a receiver's token, can
// make the shared manager do.
var _ = Describe("the Alertmanager receiver, shared by every tenant", func() {
	var ns string
	BeforeEach(func() {
		ns = namespace("am-tenant")
		Expect(env.Client.Create(ctx, testenv.Secret(ns, "am-auth", map[string]string{"token": token}))).To(Succeed())
	})

	// Finding 1: a template ran 54 s per POST, or took the manager to 1 GB.
	DescribeTable("refuses a template over its budget and sends the alerts with the built-in one",
		func(template, says, user string) {
			r := newReceiver(ns, "hostile", func(s *v1.AlertReceiverSpec) {
				s.Template = template
				s.To.Users = []string{user}
			})
			Eventually(func(g Gomega) {
				c := condition(r)(g)
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Reason).To(Equal(v1.ReasonTemplateInvalid))
				g.Expect(c.Message).To(ContainSubstring(says))
				g.Expect(c.Message).To(ContainSubstring("built-in template"))
			}, 10*time.Second).Should(Succeed())

			instance := unique("hostile")
			start := time.Now()
			code, body := post(r.Status.WebhookPath, payload("firing", instance), bearer(token)...)
			Expect(code).To(Equal(http.StatusOK), body)
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
			Eventually(func() int { return deliveredWith(user, "disk full on "+instance) }, 20*time.Second).Should(Equal(1))
			for _, d := range env.Sim.Inbox(user) {
				var sent struct{ Markdown struct{ Content string } }
				Expect(json.Unmarshal(d.Body, &sent)).To(Succeed())
				if strings.Contains(sent.Markdown.Content, instance) {
					Expect(sent.Markdown.Content).To(HavePrefix(`## <font color="warning">[FIRING:1]</font> DiskFull`), "the built-in template")
				}
			}
		},
		Entry("a range over two billion", `{{ range 2000000000 }}{{ end }}`, "range 2000000000", "zhangsan"),
		Entry("printf doubling a string", `{{ $x := "ab" }}{{ range 64 }}{{ $x = printf "%s%s" $x $x }}{{ end }}{{ $x }}`, "printf would make", "lisi"),
	)

	// Finding 2: the second receiver's member got nothing.
	It("never lets two receivers whose names share 40 characters share a Notification", func() {
		prefix := "team-payments-production-critical-alerts-receiver"
		robot := newReceiver(ns, prefix+"-robot", func(s *v1.AlertReceiverSpec) { s.To.Users = []string{"zhangsan"} })
		app := newReceiver(ns, prefix+"-app", func(s *v1.AlertReceiverSpec) { s.To.Users = []string{"lisi"} })
		instance := unique("prefix")
		var got []string
		for _, r := range []*v1.AlertReceiver{robot, app} {
			Eventually(receiverReady(r), 10*time.Second).Should(Succeed())
			code, body := post(r.Status.WebhookPath, payload("firing", instance), bearer(token)...)
			Expect(code).To(Equal(http.StatusOK), body)
			got = append(got, names(body)...)
		}
		Expect(got).To(HaveLen(2))
		Expect(got[0]).NotTo(Equal(got[1]))
		for _, user := range []string{"zhangsan", "lisi"} {
			Eventually(func() int { return deliveredWith(user, "disk full on "+instance) }, 20*time.Second).Should(Equal(1), user)
		}
	})

	// Finding 4: one POST of 1,000 alerts made 1,000 Notifications.
	It("makes at most maxNotifications Notifications of one POST, the last holding the rest", func() {
		r := newReceiver(ns, "split", func(s *v1.AlertReceiverSpec) {
			s.Split = v1.AlertSplitAlert
			s.MaxNotifications = ptr(int32(3))
			s.To.Users = []string{"zhaoliu"}
		})
		Eventually(receiverReady(r), 10*time.Second).Should(Succeed())
		marker := unique("split")
		var instances []string
		for i := range 12 {
			instances = append(instances, fmt.Sprintf("%s-%02d", marker, i))
		}
		code, body := post(r.Status.WebhookPath, groupPayload("{}:{alertname=\"DiskFull\"}", instances...), bearer(token)...)
		Expect(code).To(Equal(http.StatusOK), body)
		Expect(names(body)).To(HaveLen(3))
		Expect(notifications(ns)).To(HaveLen(3))
		last := get(&v1.Notification{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: names(body)[2]}})
		Expect(last.Spec.Message.Markdown.Content).To(HaveSuffix("(10 more alerts of this notification in one message: at most 3 messages per notification)"))
		Expect(last.Spec.Message.Markdown.Content).To(ContainSubstring("[FIRING:10]"))
		Eventually(func() int { return deliveredWith("zhaoliu", marker) }, 20*time.Second).Should(Equal(3))
	})

	// Finding 6: 400 for a body over the limit, which Alertmanager does not retry.
	It("answers 413 for a body over 4 MiB", func() {
		r := newReceiver(ns, "sizes", nil)
		Eventually(receiverReady(r), 10*time.Second).Should(Succeed())
		big := groupPayload(strings.Repeat("k", 5<<20), "db-big")
		code, body := post(r.Status.WebhookPath, big, bearer(token)...)
		Expect(code).To(Equal(http.StatusRequestEntityTooLarge), body)
		Expect(notifications(ns)).To(BeEmpty())
	})

	// Finding 6: 500 for a 300 KB groupKey (the annotation was too large), retried forever.
	It("stores the Notification of a 300 KB group key", func() {
		r := newReceiver(ns, "group-key", nil)
		Eventually(receiverReady(r), 10*time.Second).Should(Succeed())
		key := strings.Repeat(`{}:{alertname="DiskFull"}`, 300<<10/25)
		code, body := post(r.Status.WebhookPath, groupPayload(key, unique("db-key")), bearer(token)...)
		Expect(code).To(Equal(http.StatusOK), body)
		n := get(&v1.Notification{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: names(body)[0]}})
		Expect(n.Annotations[v1.AnnotationAlertGroupKey]).To(HaveLen(64))
		phase(n, v1.NotificationSent, 20*time.Second)
	})
})

func ptr[T any](v T) *T { return &v }
