package notifications

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

// inboxMarkers maps each marker found in a member's inbox to the msgids of the messages
// that carry it, and returns the contents.
func inboxMarkers(user string, marker *regexp.Regexp) (map[string][]string, []string) {
	seen := map[string][]string{}
	var contents []string
	for _, d := range env.Sim.Inbox(user) {
		var body struct {
			Text, Markdown struct{ Content string }
		}
		Expect(jsonUnmarshal(d.Body, &body)).To(Succeed())
		content := body.Text.Content + body.Markdown.Content
		contents = append(contents, content)
		for _, m := range marker.FindAllString(content, -1) {
			if !slices.Contains(seen[m], d.MsgID) {
				seen[m] = append(seen[m], d.MsgID)
			}
		}
	}
	return seen, contents
}

var _ = Describe("folding a storm into digests", Serial, func() {
	It("delivers every foldable Notification within the window, once, in digests that fit WeCom's limits", func() {
		ns := namespace("fold")
		// A storm is many Notifications waiting at once. Created one by one against a ready
		// connection, the first would go out alone as fast as the API server makes them
		// (how many depends on the machine's speed) and fill the member's window. So they
		// name a connection that does not exist yet, and wait for it together.
		const conn = "storm-app"
		// The member's window starts empty whatever the specs before sent to everyone.
		env.Sim.Advance(time.Minute + time.Second)
		const total = 60
		for i := range total {
			spec := appSpec(stormUser)
			spec.ConnectionRef = &v1.ConnectionReference{Name: conn}
			spec.Message.Markdown = &v1.MarkdownMessage{Content: fmt.Sprintf("## storm alert %03d\n> details", i)}
			spec.Fold = &v1.NotificationFold{Severity: "critical", Summary: fmt.Sprintf("storm alert %03d summary", i),
				URL: fmt.Sprintf("https://prometheus.example.com/alert/%03d", i)}
			create(ns, fmt.Sprintf("storm-%03d", i), spec)
		}
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			waiting := 0
			for _, n := range list.Items {
				if c := readyCond(&n); c != nil && c.Reason == v1.ReasonConnectionNotReady {
					waiting++
				}
			}
			g.Expect(waiting).To(Equal(total))
		}, 20*time.Second, 100*time.Millisecond).Should(Succeed())
		Expect(env.Client.Create(ctx, testenv.Secret(ns, conn, map[string]string{"secret": env.Creds.AppSecret}))).To(Succeed())
		c := env.Connection(ns, conn, env.Creds.AgentID)
		c.Spec.SecretRef.Name = conn
		Expect(env.Client.Create(ctx, c)).To(Succeed())

		By("every one Sent, well within one minute of WeCom's time")
		list := &v1.NotificationList{}
		Eventually(func(g Gomega) {
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			sent := 0
			var other []string
			for _, n := range list.Items {
				if n.Status.Phase == v1.NotificationSent {
					sent++
				} else if c := readyCond(&n); c != nil {
					other = append(other, fmt.Sprintf("%s: %s: %s %+v %+v\n", n.Name, c.Reason, c.Message, n.Status.DeliveredIn, n.Status.Fold))
				}
			}
			g.Expect(sent).To(Equal(total), "not sent: %v", other)
		}, 50*time.Second, 100*time.Millisecond).Should(Succeed())

		By("the member got each alert in exactly one message, at most 30 messages, none dropped")
		seen, contents := inboxMarkers(stormUser, regexp.MustCompile(`storm alert \d{3}`))
		Expect(seen).To(HaveLen(total))
		for m, ids := range seen {
			Expect(ids).To(HaveLen(1), "%s delivered in %d messages", m, len(ids))
		}
		Expect(len(contents)).To(BeNumerically("<=", 30))
		Expect(len(contents)).To(BeNumerically("<", total), "nothing was folded")
		for _, c := range contents {
			Expect(len(c)).To(BeNumerically("<=", 2048))
		}
		Expect(env.Sim.Drops()).To(BeEmpty())

		By("each folded Notification names the digest that delivered it, by its msgid")
		folded := 0
		byMsgID := map[string]bool{}
		for _, d := range env.Sim.Inbox(stormUser) {
			byMsgID[d.MsgID] = true
		}
		leaders := map[string]bool{}
		for _, n := range list.Items {
			in := n.Status.DeliveredIn
			if in == nil {
				Expect(ready(&n).Reason).To(Equal(v1.ReasonSent))
				continue
			}
			folded++
			leaders[in.Notification] = true
			Expect(ready(&n).Reason).To(Equal(v1.ReasonFolded))
			Expect(in.MsgID).NotTo(BeEmpty())
			Expect(byMsgID).To(HaveKey(in.MsgID))
			Expect(seen[fmt.Sprintf("storm alert %s", n.Name[len("storm-"):])]).To(Equal([]string{in.MsgID}))
			Expect(in.Digest).To(BeNumerically(">=", 1))
			Expect(in.Digest).To(BeNumerically("<=", in.Digests))
		}
		Expect(folded).To(BeNumerically(">", 0))
		for name := range leaders {
			leader := &v1.Notification{}
			Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, leader)).To(Succeed())
			Expect(leader.Status.Fold).NotTo(BeNil())
			for _, dg := range leader.Status.Fold.Digests {
				Expect(dg.SentAt).NotTo(BeNil())
				Expect(dg.Attempts).To(Equal(int32(1)))
			}
			Eventually(func() map[string]string { return events(leader) }, 10*time.Second, 100*time.Millisecond).Should(HaveKey(controller.EventFolded))
		}
		// The member's window is full or nearly: let it pass, so that broadcasts of the other
		// specs (which count against every member) are not held behind it.
		env.Sim.Advance(time.Minute + time.Second)
		AddReportEntry("fold", fmt.Sprintf("%d Notifications to one member: %d messages, %d folded, %d plan(s)",
			total, len(contents), folded, len(leaders)))
	})

	It("folds a storm to a group robot into digests within its 20 messages a minute, each alert once", func() {
		ns := namespace("robotfold")
		// As above, the storm waits together: for the robot's Secret this time.
		env.Sim.Advance(time.Minute + time.Second)
		const total, secret = 45, "storm-bot"
		for i := range total {
			create(ns, fmt.Sprintf("robot-storm-%03d", i), v1.NotificationSpec{
				Robot:   &v1.RobotTarget{WebhookSecretRef: v1.SecretKeySelector{Name: secret, Key: "webhook"}},
				Message: v1.Message{Markdown: &v1.MarkdownMessage{Content: fmt.Sprintf("## robot storm %03d\n> details", i)}},
				Fold: &v1.NotificationFold{Severity: "warning", Summary: fmt.Sprintf("robot storm %03d summary", i),
					URL: fmt.Sprintf("https://prometheus.example.com/robot/%03d", i)},
			})
		}
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			waiting := 0
			for _, n := range list.Items {
				if c := readyCond(&n); c != nil && c.Reason == v1.ReasonSecretNotFound {
					waiting++
				}
			}
			g.Expect(waiting).To(Equal(total))
		}, 20*time.Second, 100*time.Millisecond).Should(Succeed())
		before := len(env.Sim.Messages())
		robotSecret(ns, secret, webhookURL(env.Creds.RobotKey))

		By("every one Sent within the robot's minute")
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			sent := 0
			for _, n := range list.Items {
				if n.Status.Phase == v1.NotificationSent {
					sent++
				}
			}
			g.Expect(sent).To(Equal(total))
		}, 50*time.Second, 100*time.Millisecond).Should(Succeed())

		By("the robot's group got each alert in exactly one message, at most 20, none dropped")
		marker := regexp.MustCompile(`robot storm \d{3}`)
		seen := map[string]int{}
		var messages int
		for _, m := range env.Sim.Messages()[before:] {
			if m.Channel != "webhook" || !marker.Match(m.Body) {
				continue
			}
			messages++
			var body struct{ Markdown struct{ Content string } }
			Expect(jsonUnmarshal(m.Body, &body)).To(Succeed())
			Expect(len(body.Markdown.Content)).To(BeNumerically("<=", 4096), "a robot markdown message over WeCom's 4,096 bytes")
			found := map[string]bool{}
			for _, a := range marker.FindAllString(body.Markdown.Content, -1) {
				found[a] = true
			}
			for a := range found {
				seen[a]++
			}
		}
		Expect(seen).To(HaveLen(total))
		for a, n := range seen {
			Expect(n).To(Equal(1), "%s delivered in %d messages", a, n)
		}
		Expect(messages).To(BeNumerically("<=", 20))
		Expect(messages).To(BeNumerically("<", total), "nothing was folded")
		Expect(env.Sim.Drops()).To(BeEmpty())
		env.Sim.Advance(time.Minute + time.Second)
		AddReportEntry("robot fold", fmt.Sprintf("%d Notifications to one robot: %d messages", total, messages))
	})

	It("resumes a plan whose writer stopped while marking its members, and never delivers a member twice", func() {
		// What a manager leaves behind when it stops (a deleted leader pod) between writing a
		// plan and marking every member: the plan lists resume-b, which was never marked and
		// went out on its own meanwhile (here: its status says so), and resume-c, never marked
		// and still waiting. The manager that takes over sends the plan without resume-b.
		ns := namespace("resume")
		const conn = "resume-app"
		env.Sim.Advance(time.Minute + time.Second)
		names := []string{"resume-a", "resume-b", "resume-c", "resume-d"}
		for _, name := range names {
			spec := appSpec(stormUser)
			spec.ConnectionRef = &v1.ConnectionReference{Name: conn}
			spec.Message.Markdown = &v1.MarkdownMessage{Content: "## resumed alert " + name}
			spec.Fold = &v1.NotificationFold{Severity: "warning", Summary: "resumed alert " + name}
			create(ns, name, spec)
		}
		Eventually(func(g Gomega) {
			for _, name := range names {
				n := &v1.Notification{}
				g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, n)).To(Succeed())
				g.Expect(readyCond(n)).NotTo(BeNil())
				g.Expect(readyCond(n).Reason).To(Equal(v1.ReasonConnectionNotReady))
			}
		}, 20*time.Second, 100*time.Millisecond).Should(Succeed())
		setStatus := func(name string, mutate func(*v1.Notification)) {
			n := &v1.Notification{}
			Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, n)).To(Succeed())
			before := n.DeepCopy()
			mutate(n)
			Expect(env.Client.Status().Patch(ctx, n, client.MergeFrom(before))).To(Succeed())
		}
		setStatus("resume-a", func(n *v1.Notification) {
			n.Status.Fold = &v1.NotificationFoldPlan{PlannedAt: metav1.Now(), Digests: []v1.NotificationDigest{
				{Members: []string{"resume-a", "resume-b", "resume-c", "resume-d"}}}}
			n.Status.DeliveredIn = &v1.NotificationDeliveredIn{Notification: "resume-a"}
		})
		setStatus("resume-d", func(n *v1.Notification) {
			n.Status.DeliveredIn = &v1.NotificationDeliveredIn{Notification: "resume-a"}
		})
		setStatus("resume-b", func(n *v1.Notification) {
			now := metav1.Now()
			n.Status.Phase, n.Status.Attempts, n.Status.SentAt, n.Status.CompletionTime = v1.NotificationSent, 1, &now, &now
		})
		Expect(env.Client.Create(ctx, testenv.Secret(ns, conn, map[string]string{"secret": env.Creds.AppSecret}))).To(Succeed())
		c := env.Connection(ns, conn, env.Creds.AgentID)
		c.Spec.SecretRef.Name = conn
		Expect(env.Client.Create(ctx, c)).To(Succeed())

		Eventually(func(g Gomega) {
			for _, name := range []string{"resume-a", "resume-c", "resume-d"} {
				n := &v1.Notification{}
				g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, n)).To(Succeed())
				g.Expect(n.Status.Phase).To(Equal(v1.NotificationSent), name)
				g.Expect(n.Status.DeliveredIn).NotTo(BeNil(), name)
				g.Expect(n.Status.DeliveredIn.Notification).To(Equal("resume-a"), name)
			}
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		seen, _ := inboxMarkers(stormUser, regexp.MustCompile(`resumed alert resume-[a-d]`))
		msgs := map[string]bool{}
		for _, ids := range seen {
			for _, id := range ids {
				msgs[id] = true
			}
		}
		Expect(msgs).To(HaveLen(1), "one digest")
		Expect(seen).To(HaveKey("resumed alert resume-a"))
		Expect(seen).To(HaveKey("resumed alert resume-c"))
		Expect(seen).To(HaveKey("resumed alert resume-d"))
		Expect(seen).NotTo(HaveKey("resumed alert resume-b"), "resume-b went out on its own already")
		leader := &v1.Notification{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "resume-a"}, leader)).To(Succeed())
		Expect(leader.Status.Fold.Digests).To(HaveLen(1))
		Expect(leader.Status.Fold.Digests[0].Members).To(Equal([]string{"resume-a", "resume-c", "resume-d"}))
		env.Sim.Advance(time.Minute + time.Second)
	})

	It("never folds Notifications that do not ask for it", func() {
		ns := namespace("nofold")
		const total = 32
		for i := range total {
			spec := appSpec(calmUser)
			spec.Message.Text = &v1.TextMessage{Content: fmt.Sprintf("calm alert %03d", i)}
			create(ns, fmt.Sprintf("calm-%03d", i), spec)
		}
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			sent, held := 0, 0
			for _, n := range list.Items {
				g.Expect(n.Status.DeliveredIn).To(BeNil())
				if n.Status.Phase == v1.NotificationSent {
					sent++
				} else if c := readyCond(&n); c != nil && c.Reason == v1.ReasonHeld {
					held++
				}
			}
			g.Expect(sent).To(BeNumerically(">=", 28))
			g.Expect(sent + held).To(Equal(total))
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		seen, contents := inboxMarkers(calmUser, regexp.MustCompile(`calm alert \d{3}`))
		Expect(contents).To(HaveLen(len(seen)), "one alert per message")
		Expect(len(contents)).To(BeNumerically("<=", 30))

		By("the held ones go on their own when the window passes")
		stop := clock.warp(30)
		defer stop()
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			for _, n := range list.Items {
				g.Expect(n.Status.Phase).To(Equal(v1.NotificationSent))
				g.Expect(n.Status.DeliveredIn).To(BeNil())
			}
			// Held before the warp, a Notification sleeps up to maxHoldRecheck (a minute of
			// wall time then) unless a send of its scope wakes it first.
		}, 2*time.Minute, 100*time.Millisecond).Should(Succeed())
		stop()
		env.Sim.Advance(time.Minute + time.Second)
		seen, contents = inboxMarkers(calmUser, regexp.MustCompile(`calm alert \d{3}`))
		Expect(seen).To(HaveLen(total))
		Expect(contents).To(HaveLen(total), "one message per Notification")
	})
})
