package calendar

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// drift is the manager's drift interval in these tests (testenv's default).
const drift = 3 * time.Second

// newNamespace makes a namespace with the connections "contacts" and "app", waits until the
// app connection is Ready, and deletes what the spec made when it ends.
func newNamespace(prefix string) string {
	GinkgoHelper()
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	env.WaitConnections(ns, testenv.AppConnection)
	DeferCleanup(func() {
		env.Sim.ClearFaults()
		env.DeleteAll(ns, &v1.ScheduleList{}, &v1.WeComCalendarList{})
	})
	return ns
}

// calendar returns a WeComCalendar of the app connection.
func calendar(ns, name string, mutate ...func(*v1.WeComCalendarSpec)) *v1.WeComCalendar {
	c := &v1.WeComCalendar{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	c.Spec.ConnectionRef.Name = testenv.AppConnection
	c.Spec.Summary, c.Spec.Color = "On-call "+ns, "#FF3030"
	for _, m := range mutate {
		m(&c.Spec)
	}
	return c
}

// simCalendar returns the simulator's calendar id.
func simCalendar(id string) (wecomsim.Calendar, bool) {
	for _, c := range env.Sim.State().Calendars {
		if c.CalID == id {
			return c, true
		}
	}
	return wecomsim.Calendar{}, false
}

// calendarIs passes when the simulator holds calendar id, not deleted, and check passes.
func calendarIs(id string, check func(Gomega, wecomsim.Calendar)) func(Gomega) {
	return func(g Gomega) {
		c, ok := simCalendar(id)
		g.Expect(ok).To(BeTrue(), "calendar %s not in WeCom", id)
		g.Expect(c.Deleted).To(BeFalse())
		check(g, c)
	}
}

func shares(c wecomsim.Calendar) []string {
	out := make([]string, 0, len(c.Shares))
	for _, s := range c.Shares {
		p := s.Permission
		if p == 0 {
			p = 1
		}
		out = append(out, s.UserID+":"+string(rune('0'+p)))
	}
	return out
}
