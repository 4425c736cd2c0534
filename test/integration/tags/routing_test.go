package tags

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// messagesWith returns the simulator's accepted messages whose body contains marker.
func messagesWith(marker string) []wecomsim.Message {
	var out []wecomsim.Message
	for _, m := range env.Sim.Messages() {
		if strings.Contains(string(m.Body), marker) {
			out = append(out, m)
		}
	}
	return out
}

// sentOnce passes when exactly one message with marker went out, to tag id only, and
// returns whom WeCom delivered it to.
func sentOnce(marker string, id int64) func(Gomega) []string {
	return func(g Gomega) []string {
		msgs := messagesWith(marker)
		g.Expect(msgs).To(HaveLen(1))
		var body map[string]any
		g.Expect(json.Unmarshal(msgs[0].Body, &body)).To(Succeed())
		g.Expect(body["totag"]).To(Equal(strconv.FormatInt(id, 10)))
		g.Expect(body).NotTo(HaveKey("touser"))
		g.Expect(body).NotTo(HaveKey("toparty"))
		return lower(msgs[0].DeliveredTo)
	}
}

// orgWithTag makes a department with one member, another member outside it, and a tag
// "oncall" of lisi and the department. It returns the tag and the member in the department.
func orgWithTag(ns string) (*v1.WeComTag, *v1.WeComUser) {
	dept := department(ns, "oncall", unique("Oncall", ns))
	inside := member(ns, "carol", "carol-"+ns, "oncall")
	outside := member(ns, "dave", "dave-"+ns, "")
	env.Create(dept, inside, outside)
	for _, o := range []v1.Managed{dept, inside, outside} {
		Eventually(env.Ready(o)).Should(Succeed())
	}
	return tag(ns, "oncall", unique("Oncall", ns), withUsers(userID("lisi")), withDepartments(deptRef("oncall"))), inside
}

var _ = Describe("tagRefs", func() {
	It("sends a Notification to exactly the members of the tag it names, once the tag has an id", func() {
		ns := newNamespace("tagrefs")
		t, carol := orgWithTag(ns)
		marker := "page " + ns

		By("a Notification naming a tag that does not exist yet waits for it")
		n := &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: "page", Namespace: ns}, Spec: v1.NotificationSpec{
			ConnectionRef: &v1.ConnectionReference{Name: testenv.AppConnection},
			To:            &v1.Recipients{TagRefs: []v1.LocalObjectReference{{Name: "oncall"}}},
			Message:       v1.Message{Text: &v1.TextMessage{Content: marker}},
		}}
		env.Create(n)
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(n), n)).To(Succeed())
			c := meta.FindStatusCondition(n.Status.Conditions, v1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(v1.ReasonDependencyNotReady))
			g.Expect(c.Message).To(ContainSubstring(`WeComTag "oncall"`))
		}).Should(Succeed())
		Expect(messagesWith(marker)).To(BeEmpty())

		By("the tag is made; the message goes to its id and reaches lisi and the department's member only")
		env.Create(t)
		Eventually(env.Ready(t)).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(n), n)).To(Succeed())
			g.Expect(n.Status.Phase).To(Equal(v1.NotificationSent), "conditions: %+v", n.Status.Conditions)
		}).Should(Succeed())
		var delivered []string
		Eventually(func(g Gomega) { delivered = sentOnce(marker, t.Status.TagID)(g) }).Should(Succeed())
		Expect(delivered).To(ConsistOf("lisi", strings.ToLower(carol.Spec.UserID)))
	})

	It("routes an Alertmanager alert to the members of the tag its AlertReceiver names", func() {
		ns := newNamespace("tagalert")
		t, carol := orgWithTag(ns)
		env.Create(t)
		Eventually(env.Ready(t)).Should(Succeed())

		const token = "tag-routing-token-0123456789abcdefghij"
		env.Create(testenv.Secret(ns, "am-auth", map[string]string{"token": token}))
		r := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "sre", Namespace: ns}}
		r.Spec.ConnectionRef = &v1.ConnectionReference{Name: testenv.AppConnection}
		r.Spec.To = &v1.Recipients{TagRefs: []v1.LocalObjectReference{{Name: "oncall"}}}
		r.Spec.Format = v1.AlertFormatText
		r.Spec.AuthSecretRef = v1.AlertReceiverAuth{Name: "am-auth", BearerTokenKey: "token"}
		env.Create(r)
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(r), r)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(r.Status.Conditions, v1.ConditionReady)).To(BeTrue(), "%+v", r.Status.Conditions)
			g.Expect(r.Status.WebhookPath).NotTo(BeEmpty())
		}).Should(Succeed())

		instance := "db-" + ns
		body := `{"receiver":"wecom","status":"firing","version":"4","groupKey":"{}:{alertname=\"DiskFull\"}","truncatedAlerts":0,
		  "groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull","instance":"` + instance + `"},
		  "commonAnnotations":{"summary":"disk full on ` + instance + `"},"externalURL":"http://alertmanager.example.com:9093",
		  "alerts":[{"status":"firing","labels":{"alertname":"DiskFull","instance":"` + instance + `"},
		    "annotations":{"summary":"disk full on ` + instance + `"},"startsAt":"2026-03-02T10:00:00Z",
		    "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example.com:9090/graph","fingerprint":"c0ffee"}]}`
		Eventually(func(g Gomega) {
			req, err := http.NewRequest(http.MethodPost, "http://"+receiverAddr+r.Status.WebhookPath, strings.NewReader(body))
			g.Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			g.Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK), string(out))
		}, 10*time.Second).Should(Succeed())

		var delivered []string
		Eventually(func(g Gomega) { delivered = sentOnce(instance, t.Status.TagID)(g) }).Should(Succeed())
		Expect(delivered).To(ConsistOf("lisi", strings.ToLower(carol.Spec.UserID)))
	})
})
