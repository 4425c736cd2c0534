package alerting

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
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

// postGroup posts one Alertmanager notification (one alert group) to the receiver.
func postGroup(url, token string, i int) {
	body, _ := json.Marshal(map[string]any{
		"version": "4", "groupKey": fmt.Sprintf(`{}:{alertname="StormAlert%03d"}`, i), "status": "firing", "receiver": "wecom",
		"groupLabels":       map[string]string{"alertname": fmt.Sprintf("StormAlert%03d", i)},
		"commonLabels":      map[string]string{"alertname": fmt.Sprintf("StormAlert%03d", i), "severity": "critical"},
		"commonAnnotations": map[string]string{},
		"externalURL":       "http://alertmanager.example.com",
		"alerts": []any{map[string]any{"status": "firing", "fingerprint": fmt.Sprintf("f%03d", i),
			"labels":      map[string]string{"alertname": fmt.Sprintf("StormAlert%03d", i), "severity": "critical"},
			"annotations": map[string]string{"summary": fmt.Sprintf("storm %03d is on fire", i)},
			"startsAt":    time.Now().UTC().Format(time.RFC3339), "endsAt": "0001-01-01T00:00:00Z",
			"generatorURL": fmt.Sprintf("http://prometheus.example.com/graph?g0.expr=storm%03d", i)}},
	})
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	resp.Body.Close()
	ExpectWithOffset(1, resp.StatusCode).To(Equal(http.StatusOK))
}

// stormMarkers maps each StormAlertNNN in user's inbox to the msgids of the messages
// showing it.
func stormMarkers(user string) map[string][]string {
	re := regexp.MustCompile(`StormAlert\d{3}`)
	out := map[string][]string{}
	for _, d := range sim.Inbox(user) {
		for _, m := range re.FindAllString(string(d.Body), -1) {
			if !slices.Contains(out[m], d.MsgID) {
				out[m] = append(out[m], d.MsgID)
			}
		}
	}
	return out
}

var _ = Describe("a manager killed in the middle of a folded storm", Ordered, func() {
	It("delivers every alert exactly once after the restart, resuming the recorded plan", func() {
		const total, user = 45, "zhangsan"
		ns := namespace("storm-crash")
		Expect(k8s.Create(ctx, testenv.Secret(ns, "am-auth", map[string]string{"token": amToken}))).To(Succeed())
		// The receiver's connection comes last, so the whole storm waits for it and meets
		// the quota at once, as alerts that pile up behind an outage do.
		rcv := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "storm", Namespace: ns}, Spec: v1.AlertReceiverSpec{
			ConnectionRef: &v1.ConnectionReference{Name: "late"},
			To:            &v1.Recipients{Users: []string{user}},
			AuthSecretRef: v1.AlertReceiverAuth{Name: "am-auth", BearerTokenKey: "token"},
		}}
		Expect(k8s.Create(ctx, rcv)).To(Succeed())
		m := startManager()
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rcv), rcv)).To(Succeed())
			g.Expect(rcv.Status.WebhookPath).NotTo(BeEmpty())
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		Expect(rcv.Spec.Fold).To(Equal(v1.AlertFoldAuto), "the API's default")
		url := "http://" + m.alertAddr + rcv.Status.WebhookPath
		for i := range total {
			postGroup(url, amToken, i)
		}
		list := &v1.NotificationList{}
		Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		Expect(list.Items).To(HaveLen(total))
		for _, n := range list.Items {
			Expect(n.Spec.Fold).NotTo(BeNil(), "a receiver's Notification asks to be folded")
		}

		By("the connection appears while WeCom holds its replies: the plan is recorded, the first digest delivered, and the manager killed before it learns so")
		holdReplies("message/send")
		agent := creds.AgentID
		Expect(k8s.Create(ctx, &v1.WeComConnection{
			ObjectMeta: metav1.ObjectMeta{Name: "late", Namespace: ns},
			Spec: v1.WeComConnectionSpec{CorpID: creds.CorpID, APIURL: sim.URL, AgentID: &agent,
				SecretRef: v1.SecretKeySelector{Name: "app", Key: "secret"}},
		})).To(Succeed())
		Eventually(func() int { return len(sim.Inbox(user)) }, 60*time.Second, 20*time.Millisecond).Should(Equal(1))
		m.kill()
		releaseReplies()
		firstDigest := stormMarkers(user)
		Expect(len(firstDigest)).To(BeNumerically(">", 1), "the first message is a digest")

		var leader *v1.Notification
		Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		marked := 0
		for i := range list.Items {
			n := &list.Items[i]
			Expect(n.Status.Phase).To(Equal(v1.NotificationPending), "%s: the kill came before any status write", n.Name)
			if n.Status.DeliveredIn != nil {
				marked++
				Expect(n.Status.DeliveredIn.MsgID).To(BeEmpty())
			}
			if n.Status.Fold != nil {
				Expect(leader).To(BeNil(), "one plan")
				leader = n
			}
		}
		Expect(leader).NotTo(BeNil(), "the plan was recorded before the send")
		Expect(leader.Status.Fold.Digests[0].Attempts).To(Equal(int32(1)))
		Expect(leader.Status.Fold.Digests[0].SentAt).To(BeNil())
		planned := 0
		for _, dg := range leader.Status.Fold.Digests {
			planned += len(dg.Members)
		}
		Expect(marked).To(Equal(planned), "every member of the plan knows its leader before the send")
		// Usually all 45; a member whose own status write kept conflicting with its marking
		// is left out of the plan and sent on its own later.
		Expect(planned).To(BeNumerically(">", 1), "a storm was folded")

		By("restarting: the plan is resumed, not made again; WeCom drops the resent first digest")
		m = startManager()
		defer m.stop()
		Eventually(func(g Gomega) {
			g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			for _, n := range list.Items {
				g.Expect(n.Status.Phase).To(Equal(v1.NotificationSent), "%s: %v", n.Name, meta.FindStatusCondition(n.Status.Conditions, v1.ConditionReady))
			}
		}, 2*time.Minute, 200*time.Millisecond).Should(Succeed())

		seen := stormMarkers(user)
		Expect(seen).To(HaveLen(total), "every alert reached the member")
		for alert, ids := range seen {
			Expect(ids).To(HaveLen(1), "%s is in %d delivered messages", alert, len(ids))
		}
		Expect(len(sim.Inbox(user))).To(BeNumerically("<=", 30))
		dups := 0
		for _, msg := range sim.Messages() {
			if msg.Duplicate && strings.Contains(string(msg.Body), "StormAlert") {
				dups++
			}
		}
		Expect(dups).To(Equal(1), "the resent first digest, recognised by WeCom")
		after := &v1.Notification{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(leader), after)).To(Succeed())
		Expect(after.Status.Fold.Digests).To(HaveLen(len(leader.Status.Fold.Digests)), "the same plan")
		for i, dg := range after.Status.Fold.Digests {
			Expect(dg.Members).To(Equal(leader.Status.Fold.Digests[i].Members), "the same plan")
			Expect(dg.MsgID).NotTo(BeEmpty())
		}
		Expect(after.Status.Fold.Digests[0].Attempts).To(Equal(int32(2)))
		AddReportEntry("folded storm through a crash", fmt.Sprintf("%d alerts, %d in the plan (%d digests), %d messages delivered to %s, 1 duplicate dropped by WeCom",
			total, planned, len(after.Status.Fold.Digests), len(sim.Inbox(user)), user))
		for _, n := range list.Items {
			in := n.Status.DeliveredIn
			if in == nil {
				continue
			}
			alert := fmt.Sprintf("StormAlert%03d", alertIndex(n.Spec.Fold.Title))
			Expect(seen[alert]).To(Equal([]string{in.MsgID}), "%s names the message that delivered it", n.Name)
		}
	})
})

func alertIndex(title string) int {
	var i int
	_, err := fmt.Sscanf(title, "StormAlert%03d", &i)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), title)
	return i
}
