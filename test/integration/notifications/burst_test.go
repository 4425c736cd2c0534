package notifications

import (
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// The product bar: Alertmanager's own WeCom receiver, sent a burst of 100 alerts for one
// person, fetches 90 access tokens, sends all at once, and WeCom silently drops 70 of them.
var _ = Describe("a burst of 200 notifications to one member", Serial, func() {
	It("delivers every one exactly once, never over WeCom's 30/min quota, on one access token", func() {
		ns := namespace("burst")
		tokensBefore := operatorTokenFetches()
		sendsBefore := len(env.Sim.CallsTo("message/send"))
		start := time.Now()
		// Requeue delays already as short as under the warp below, so that held
		// notifications notice at once when quota minutes start passing faster.
		clock.speed.Store(30)
		defer clock.speed.Store(1)

		const total = 200
		for i := range total {
			spec := appSpec(burstUser)
			spec.Message.Text = &v1.TextMessage{Content: fmt.Sprintf("burst alert %03d", i)}
			create(ns, fmt.Sprintf("alert-%03d", i), spec)
		}

		By("sending 30 at once and holding the rest, each with a reason")
		Eventually(func(g Gomega) {
			list := &v1.NotificationList{}
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			held, sent := 0, 0
			var other []string
			for _, n := range list.Items {
				if n.Status.Phase == v1.NotificationSent {
					sent++
				} else if c := readyCond(&n); c == nil || c.Reason != v1.ReasonHeld {
					other = append(other, fmt.Sprintf("%s: %s attempts=%d %+v", n.Name, n.Status.Phase, n.Status.Attempts, c))
				}
				if c := readyCond(&n); n.Status.Phase == v1.NotificationPending && c != nil && c.Reason == v1.ReasonHeld {
					g.Expect(c.Message).To(MatchRegexp(`quota: 30 app messages per minute per member for user "burst" of app 1000002; next slot at \S+|queued behind \d+ earlier notification`))
					held++
				}
			}
			// Normally exactly 30 are Sent; one whose status write or reply failed is Pending
			// again and waits for the next minute, since WeCom may have counted it.
			g.Expect(sent).To(BeNumerically(">=", 28))
			g.Expect(sent).To(BeNumerically("<=", 30))
			g.Expect(held).To(BeNumerically(">=", total-30), "neither sent nor held: %v", other)
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		Consistently(func() int { return len(env.Sim.Inbox(burstUser)) }, time.Second).Should(BeNumerically("<=", 30))

		stop := clock.warp(30) // quota minutes now pass in 2 s
		defer stop()

		By("sending them all as the quota frees up")
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
		}, 3*time.Minute, 250*time.Millisecond).Should(Succeed())
		took := time.Since(start)
		stop()

		inbox := env.Sim.Inbox(burstUser)
		seen := map[string]int{}
		var times []time.Time
		for _, d := range inbox {
			var body struct{ Text struct{ Content string } }
			Expect(jsonUnmarshal(d.Body, &body)).To(Succeed())
			if strings.HasPrefix(body.Text.Content, "burst alert ") {
				seen[body.Text.Content]++
				times = append(times, d.Time)
			}
		}
		Expect(seen).To(HaveLen(total), "distinct messages delivered")
		// Once held, they go oldest first.
		var order []string
		for _, d := range inbox {
			var body struct{ Text struct{ Content string } }
			Expect(jsonUnmarshal(d.Body, &body)).To(Succeed())
			order = append(order, body.Text.Content)
		}
		Expect(slices.IsSorted(order[30:])).To(BeTrue(), "delivery order after the first minute: %v", order[30:])
		for content, n := range seen {
			Expect(n).To(Equal(1), "%q delivered %d times", content, n)
		}
		Expect(env.Sim.Drops()).To(BeEmpty(), "messages WeCom dropped over quota")
		Expect(maxPerMinute(times)).To(BeNumerically("<=", 30))
		Expect(operatorTokenFetches()-tokensBefore).To(BeNumerically("<=", 1), "gettoken calls during the burst")
		Expect(operatorTokenFetches()).To(Equal(1), "gettoken calls by the whole suite")
		sends := len(env.Sim.CallsTo("message/send")) - sendsBefore
		Expect(sends).To(Equal(total), "message/send calls: one per notification")
		// 200 at 30 per minute cannot take less than 6 minutes of WeCom's time.
		simTook := times[len(times)-1].Sub(times[0])
		Expect(simTook).To(BeNumerically(">=", 6*time.Minute))
		AddReportEntry("burst of 200 to one member", fmt.Sprintf(
			"delivered %d, dropped %d, gettoken %d, message/send %d, max per minute %d, quota time %s, wall time %s",
			len(seen), len(env.Sim.Drops()), operatorTokenFetches()-tokensBefore, sends, maxPerMinute(times),
			simTook.Round(time.Second), took.Round(100*time.Millisecond)))
	})

	It("keeps a robot under 20 messages per minute without a single 45009", func() {
		ns := namespace("robot-burst")
		stop := clock.warp(30)
		defer stop()
		ref := robotSecret(ns, "bot", webhookURL(burstBot))
		const total = 45
		for i := range total {
			create(ns, fmt.Sprintf("r-%02d", i), v1.NotificationSpec{
				Robot:   &v1.RobotTarget{WebhookSecretRef: ref},
				Message: v1.Message{Markdown: &v1.MarkdownMessage{Content: fmt.Sprintf("robot burst %02d", i)}}})
		}
		Eventually(func() int { return len(env.Sim.RobotMessages("burst-bot")) }, 2*time.Minute, 100*time.Millisecond).Should(Equal(total))
		var times []time.Time
		for _, m := range env.Sim.RobotMessages("burst-bot") {
			times = append(times, m.Time)
		}
		Expect(maxPerMinute(times)).To(BeNumerically("<=", 20))
		for _, c := range env.Sim.CallsTo("webhook/send") {
			Expect(c.ErrCode).NotTo(Equal(45009), "WeCom refused a robot message for its rate")
		}
	})
})

func readyCond(n *v1.Notification) *metav1.Condition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == v1.ConditionReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// maxPerMinute is the most deliveries in any 60 s on WeCom's clock, counted as WeCom does:
// a delivery at t counts for (t-60s, t].
func maxPerMinute(times []time.Time) int {
	best := 0
	for _, t := range times {
		n := 0
		for _, u := range times {
			if !u.After(t) && u.After(t.Add(-time.Minute)) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}
