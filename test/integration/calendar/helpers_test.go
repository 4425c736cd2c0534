package calendar

import (
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	conn := &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.AppConnection}}
	Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(conn.Status.Conditions, v1.ConditionReady)).To(BeTrue())
	}).Should(Succeed())
	DeferCleanup(func() {
		env.Sim.ClearFaults()
		onCall.Store(nil)
		for _, kind := range []struct {
			obj  client.Object
			list client.ObjectList
		}{{&v1.Schedule{}, &v1.ScheduleList{}}, {&v1.WeComCalendar{}, &v1.WeComCalendarList{}}} {
			Expect(env.Client.DeleteAllOf(ctx, kind.obj, client.InNamespace(ns))).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(env.Client.List(ctx, kind.list, client.InNamespace(ns))).To(Succeed())
				g.Expect(meta.LenList(kind.list)).To(BeZero())
			}, 60*time.Second).Should(Succeed(), "namespace %s: %T left after delete", ns, kind.obj)
		}
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

func create(objs ...client.Object) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(env.Client.Create(ctx, o)).To(Succeed())
	}
}

// change applies mutate to the latest version of obj, retrying on conflicts.
func change[T client.Object](obj T, mutate func(T)) {
	GinkgoHelper()
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return env.Client.Update(ctx, obj)
	})).To(Succeed())
}

// ready passes when the object's current generation is Ready and Synced.
func ready(obj v1.Managed) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		conds := obj.GetResourceStatus().Conditions
		r := meta.FindStatusCondition(conds, v1.ConditionReady)
		g.Expect(r).NotTo(BeNil())
		g.Expect(r.Status).To(Equal(metav1.ConditionTrue), r.Message)
		g.Expect(r.ObservedGeneration).To(Equal(obj.GetGeneration()))
		s := meta.FindStatusCondition(conds, v1.ConditionSynced)
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.Status).To(Equal(metav1.ConditionTrue), s.Message)
	}
}

// condition passes when the condition typ is False with reason and a message containing
// each of parts.
func condition(obj v1.Managed, typ, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, typ)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		for _, p := range parts {
			g.Expect(c.Message).To(ContainSubstring(p))
		}
	}
}

// deleteAndWait deletes obj and waits until it is gone.
func deleteAndWait(obj client.Object) {
	GinkgoHelper()
	Expect(client.IgnoreNotFound(env.Client.Delete(ctx, obj))).To(Succeed())
	Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}).Should(BeTrue(), "object still there")
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

// callsWith returns the logged calls to endpoint whose body mentions s.
func callsWith(endpoint, s string) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range env.Sim.CallsTo(endpoint) {
		if strings.Contains(c.Body, s) {
			out = append(out, c)
		}
	}
	return out
}

// loseReplies makes WeCom apply the next n calls to endpoint and drop their replies (the
// client sees a broken connection), then behave normally again.
func loseReplies(endpoint string, n int) {
	var lost atomic.Int64
	hook := func(c wecomsim.Call) {
		if strings.HasSuffix(c.Endpoint, "/"+endpoint) && c.Fault == "lost_reply" && lost.Add(1) == int64(n) {
			env.Sim.ClearFaults()
			onCall.Store(nil)
		}
	}
	onCall.Store(&hook)
	env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{endpoint}, LostReplyRate: 1})
}

// events returns the Events about obj with reason.
func events(obj client.Object, reason string) func() []eventsv1.Event {
	return func() []eventsv1.Event {
		list := &eventsv1.EventList{}
		if err := env.Client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
			return nil
		}
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Name == obj.GetName() && e.Reason == reason {
				out = append(out, e)
			}
		}
		return out
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
