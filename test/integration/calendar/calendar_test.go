package calendar

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const (
	apiAdd    = "oa/calendar/add"
	apiUpdate = "oa/calendar/update"
	apiGet    = "oa/calendar/get"
	apiDel    = "oa/calendar/del"
)

func withShares(s ...v1.CalendarShare) func(*v1.WeComCalendarSpec) {
	return func(sp *v1.WeComCalendarSpec) { sp.Shares = s }
}

func share(userID string, p v1.CalendarPermission) v1.CalendarShare {
	return v1.CalendarShare{UserID: userID, Permission: p}
}

var _ = Describe("WeComCalendar", func() {
	It("creates the calendar once, with every field, and makes no write while it matches", func() {
		ns := newNamespace("cal-create")
		cal := calendar(ns, "oncall", withShares(share("zhangsan", v1.CalendarView), share("lisi", v1.CalendarFreeBusy)),
			func(sp *v1.WeComCalendarSpec) {
				sp.Description, sp.Admins = "rota of "+ns, []string{"zhangsan"}
			})
		env.Create(cal)
		Eventually(env.Ready(cal)).Should(Succeed())
		id := cal.Status.CalendarID
		Expect(id).To(HavePrefix("wc"))
		Expect(cal.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, id))

		Eventually(calendarIs(id, func(g Gomega, c wecomsim.Calendar) {
			g.Expect(c.Summary).To(Equal("On-call " + ns))
			g.Expect(c.Color).To(Equal("#FF3030"))
			g.Expect(c.Description).To(Equal("rota of " + ns))
			g.Expect(c.Admins).To(ConsistOf("zhangsan"))
			g.Expect(shares(c)).To(ConsistOf("zhangsan:1", "lisi:3"))
			g.Expect(c.AgentID).To(Equal(env.Creds.AgentID), "owned by the connection's app")
			g.Expect(c.IsDefault).To(BeFalse())
		})).Should(Succeed())
		Expect(env.CallsWith(apiAdd, "On-call "+ns)).To(HaveLen(1))

		By("reading it at each drift check, never writing it again")
		gets := len(env.CallsWith(apiGet, id))
		Consistently(func() int { return len(env.CallsWith(apiUpdate, id)) + len(env.CallsWith(apiAdd, "On-call "+ns)) }, 2*drift, 500*time.Millisecond).
			Should(Equal(1))
		Expect(len(env.CallsWith(apiGet, id))).To(BeNumerically(">", gets))
	})

	It("applies a change of each mutable field with one overwriting update", func() {
		ns := newNamespace("cal-update")
		cal := calendar(ns, "team", withShares(share("zhangsan", v1.CalendarView)))
		env.Create(cal)
		Eventually(env.Ready(cal)).Should(Succeed())
		id := cal.Status.CalendarID

		for _, step := range []struct {
			field  string
			mutate func(*v1.WeComCalendarSpec)
			check  func(Gomega, wecomsim.Calendar)
		}{
			{"summary", func(sp *v1.WeComCalendarSpec) { sp.Summary = "Team " + ns },
				func(g Gomega, c wecomsim.Calendar) { g.Expect(c.Summary).To(Equal("Team " + ns)) }},
			{"color", func(sp *v1.WeComCalendarSpec) { sp.Color = "#00aa00" },
				func(g Gomega, c wecomsim.Calendar) { g.Expect(c.Color).To(Equal("#00aa00")) }},
			{"description", func(sp *v1.WeComCalendarSpec) { sp.Description = "what the team does" },
				func(g Gomega, c wecomsim.Calendar) { g.Expect(c.Description).To(Equal("what the team does")) }},
			{"shares", func(sp *v1.WeComCalendarSpec) {
				sp.Shares = []v1.CalendarShare{share("zhangsan", v1.CalendarFreeBusy), share("lisi", v1.CalendarView), share("wangwu", v1.CalendarView)}
			}, func(g Gomega, c wecomsim.Calendar) {
				g.Expect(shares(c)).To(ConsistOf("zhangsan:3", "lisi:1", "wangwu:1"))
			}},
			{"admins", func(sp *v1.WeComCalendarSpec) { sp.Admins = []string{"lisi", "wangwu"} },
				func(g Gomega, c wecomsim.Calendar) { g.Expect(c.Admins).To(ConsistOf("lisi", "wangwu")) }},
			{"description cleared", func(sp *v1.WeComCalendarSpec) { sp.Description = "" },
				func(g Gomega, c wecomsim.Calendar) { g.Expect(c.Description).To(BeEmpty()) }},
		} {
			By("changing " + step.field)
			updates := len(env.Sim.CallsTo(apiUpdate))
			testenv.Change(env, cal, func(c *v1.WeComCalendar) { step.mutate(&c.Spec) })
			Eventually(env.Ready(cal)).Should(Succeed())
			Eventually(calendarIs(id, step.check)).Should(Succeed())
			Expect(env.Sim.CallsTo(apiUpdate)).To(HaveLen(updates+1), "one update for %s", step.field)
		}
		Expect(env.CallsWith(apiAdd, ns)).To(HaveLen(1))
	})

	It("repairs a calendar changed by hand in WeCom, and makes it again when deleted by hand", func() {
		ns := newNamespace("cal-drift")
		cal := calendar(ns, "drift", withShares(share("zhangsan", v1.CalendarView), share("lisi", v1.CalendarView)),
			func(sp *v1.WeComCalendarSpec) { sp.Admins = []string{"zhangsan"} })
		env.Create(cal)
		Eventually(env.Ready(cal)).Should(Succeed())
		id := cal.Status.CalendarID

		By("overwriting it by hand: another summary, colour and shares")
		_, err := hand.UpdateCalendar(ctx, wecom.Calendar{CalID: id, Summary: "hijacked", Color: "#000000",
			Shares: []wecom.CalendarShare{{UserID: "wangwu", Permission: 3}}}, true)
		Expect(err).NotTo(HaveOccurred())
		Eventually(calendarIs(id, func(g Gomega, c wecomsim.Calendar) {
			g.Expect(c.Summary).To(Equal("On-call " + ns))
			g.Expect(c.Color).To(Equal("#FF3030"))
			g.Expect(shares(c)).To(ConsistOf("zhangsan:1", "lisi:1"))
			g.Expect(c.Admins).To(ConsistOf("zhangsan"))
		}), 4*drift).Should(Succeed())
		Eventually(env.Ready(cal)).Should(Succeed())

		By("deleting it by hand: the next drift check makes a new one")
		Expect(hand.DeleteCalendar(ctx, id)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cal), cal)).To(Succeed())
			g.Expect(cal.Status.CalendarID).NotTo(BeEmpty())
			g.Expect(cal.Status.CalendarID).NotTo(Equal(id))
		}, 4*drift).Should(Succeed())
		Eventually(env.Ready(cal)).Should(Succeed())
		Eventually(calendarIs(cal.Status.CalendarID, func(g Gomega, c wecomsim.Calendar) {
			g.Expect(c.Summary).To(Equal("On-call " + ns))
		})).Should(Succeed())
		Expect(cal.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, cal.Status.CalendarID))
	})

	It("binds a calendar made by hand by its external name, and makes it match the spec", func() {
		ns := newNamespace("cal-bind")
		made, err := hand.AddCalendar(ctx, wecom.Calendar{Summary: "made by hand " + ns, Color: "#123456",
			Shares: []wecom.CalendarShare{{UserID: "wangwu"}}})
		Expect(err).NotTo(HaveOccurred())
		cal := calendar(ns, "bound", withShares(share("lisi", v1.CalendarView)))
		cal.Annotations = map[string]string{v1.AnnotationExternalName: made.CalID}
		env.Create(cal)
		Eventually(env.Ready(cal)).Should(Succeed())
		Expect(cal.Status.CalendarID).To(Equal(made.CalID))
		calendarIs(made.CalID, func(g Gomega, c wecomsim.Calendar) {
			g.Expect(c.Summary).To(Equal("On-call " + ns))
			g.Expect(shares(c)).To(ConsistOf("lisi:1"))
		})(Default)
		Expect(env.CallsWith(apiAdd, "On-call "+ns)).To(BeEmpty())
		Expect(env.CallsWith(apiUpdate, made.CalID)).To(HaveLen(1))
		Eventually(env.Events(cal, "Updated")).ShouldNot(BeEmpty())
	})

	It("deletes the calendar from WeCom, or leaves it there with deletionPolicy Orphan", func() {
		ns := newNamespace("cal-delete")
		gone := calendar(ns, "gone")
		kept := calendar(ns, "kept", func(sp *v1.WeComCalendarSpec) {
			sp.Summary, sp.DeletionPolicy = "Kept "+ns, v1.DeletionOrphan
		})
		env.Create(gone, kept)
		Eventually(env.Ready(gone)).Should(Succeed())
		Eventually(env.Ready(kept)).Should(Succeed())
		goneID, keptID := gone.Status.CalendarID, kept.Status.CalendarID

		env.DeleteAndWait(gone)
		c, ok := simCalendar(goneID)
		Expect(ok).To(BeTrue())
		Expect(c.Deleted).To(BeTrue())
		Expect(env.CallsWith(apiDel, goneID)).To(HaveLen(1))

		env.DeleteAndWait(kept)
		calendarIs(keptID, func(g Gomega, c wecomsim.Calendar) { g.Expect(c.Summary).To(Equal("Kept " + ns)) })(Default)
		Expect(env.CallsWith(apiDel, keptID)).To(BeEmpty())
		Expect(env.Events(kept, "Orphaned")()).NotTo(BeEmpty())
		Expect(hand.DeleteCalendar(ctx, keptID)).To(Succeed())
	})

	It("shows the shares WeCom refused, and becomes Ready once the spec drops them", func() {
		ns := newNamespace("cal-shares")
		cal := calendar(ns, "shares", withShares(share("zhangsan", v1.CalendarView), share("nobody-"+ns, v1.CalendarView)))
		env.Create(cal)
		Eventually(env.HasCondition(cal, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected, "nobody-"+ns, "status.invalidShares", "40001")).Should(Succeed())
		Expect(cal.Status.InvalidShares).To(ConsistOf("nobody-" + ns))
		Expect(cal.Status.CalendarID).NotTo(BeEmpty(), "WeCom made the calendar anyway")
		Expect(env.CallsWith(apiAdd, ns)).To(HaveLen(1))
		Eventually(calendarIs(cal.Status.CalendarID, func(g Gomega, c wecomsim.Calendar) {
			g.Expect(shares(c)).To(ConsistOf("zhangsan:1"))
		})).Should(Succeed())

		testenv.Change(env, cal, func(c *v1.WeComCalendar) { c.Spec.Shares = c.Spec.Shares[:1] })
		Eventually(env.Ready(cal)).Should(Succeed())
		Expect(cal.Status.InvalidShares).To(BeEmpty())
		Expect(env.CallsWith(apiAdd, ns)).To(HaveLen(1))
	})

	It("never creates twice when the reply of oa/calendar/add is lost: it asks a person", func() {
		ns := newNamespace("cal-lost")
		cal := calendar(ns, "lost")
		env.LoseReplies(apiAdd, 1)
		env.Create(cal)
		Eventually(env.HasCondition(cal, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonCreateIncomplete, "lists an app's calendars", v1.AnnotationExternalName)).Should(Succeed())
		Eventually(env.Events(cal, "CreateIncomplete")).ShouldNot(BeEmpty())
		Consistently(func() int { return len(env.CallsWith(apiAdd, ns)) }, 2*drift, 500*time.Millisecond).Should(Equal(1))

		By("binding the object to the calendar WeCom made, by its external name")
		var made string
		for _, c := range env.Sim.State().Calendars {
			if c.Summary == "On-call "+ns {
				made = c.CalID
			}
		}
		Expect(made).NotTo(BeEmpty())
		testenv.Change(env, cal, func(c *v1.WeComCalendar) {
			c.Annotations[v1.AnnotationExternalName] = made
			delete(c.Annotations, v1.AnnotationCreatePending)
		})
		Eventually(env.Ready(cal)).Should(Succeed())
		Expect(cal.Status.CalendarID).To(Equal(made))
		Expect(env.CallsWith(apiAdd, ns)).To(HaveLen(1))
	})

	It("surfaces WeCom's refusal of another app's calendar (90466), and blocks its delete until released", func() {
		ns := newNamespace("cal-owner")
		// A second app of the same corp: calendars belong to the app that made them.
		env.Create(testenv.Secret(ns, "limited", map[string]string{"secret": env.Creds.LimitedAppSecret}),
			env.Connection(ns, "limited", env.Creds.LimitedAgentID))
		made, err := hand.AddCalendar(ctx, wecom.Calendar{Summary: "app's " + ns, Color: "#123456"})
		Expect(err).NotTo(HaveOccurred())
		cal := calendar(ns, "foreign")
		cal.Spec.ConnectionRef.Name = "limited"
		cal.Annotations = map[string]string{v1.AnnotationExternalName: made.CalID}
		env.Create(cal)
		Eventually(env.HasCondition(cal, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonWeComRejected, "90466")).Should(Succeed())
		Expect(env.CallsWith(apiUpdate, made.CalID)).To(BeEmpty())
		Expect(env.Client.Delete(ctx, cal)).To(Succeed())
		Eventually(env.HasCondition(cal, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDeleteBlocked, "90466", "deletionPolicy: Orphan")).Should(Succeed())
		calendarIs(made.CalID, func(Gomega, wecomsim.Calendar) {})(Default)
		testenv.Change(env, cal, func(c *v1.WeComCalendar) { c.Spec.DeletionPolicy = v1.DeletionOrphan })
		env.DeleteAndWait(cal)
		calendarIs(made.CalID, func(g Gomega, c wecomsim.Calendar) { g.Expect(c.Summary).To(Equal("app's " + ns)) })(Default)
		Expect(hand.DeleteCalendar(ctx, made.CalID)).To(Succeed())
	})

	It("refuses specs WeCom would refuse, before any call", func() {
		ns := newNamespace("cal-cel")
		for _, c := range []struct {
			mutate func(*v1.WeComCalendarSpec)
			msg    string
		}{
			{func(sp *v1.WeComCalendarSpec) { sp.Color = "red" }, "spec.color"},
			{func(sp *v1.WeComCalendarSpec) { sp.Summary = "" }, "spec.summary"},
			{func(sp *v1.WeComCalendarSpec) { sp.Admins = []string{"lisi"} }, "admins must be among shares"},
			{func(sp *v1.WeComCalendarSpec) {
				sp.Shares = []v1.CalendarShare{share("a", ""), share("b", ""), share("c", ""), share("d", "")}
				sp.Admins = []string{"a", "b", "c", "d"}
			}, "spec.admins"},
			{func(sp *v1.WeComCalendarSpec) { sp.Public = true }, "a public calendar needs publicRange"},
			{func(sp *v1.WeComCalendarSpec) { sp.PublicRange = &v1.CalendarPublicRange{UserIDs: []string{"lisi"}} }, "publicRange needs public: true"},
			{func(sp *v1.WeComCalendarSpec) { sp.Shares = []v1.CalendarShare{share("lisi", "Edit")} }, "spec.shares[0].permission"},
		} {
			err := env.Client.Create(ctx, calendar(ns, "bad", c.mutate))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(c.msg))
		}
		cal := calendar(ns, "fixed")
		env.Create(cal)
		Eventually(env.Ready(cal)).Should(Succeed())
		for _, c := range []struct {
			mutate func(*v1.WeComCalendar)
			msg    string
		}{
			{func(c *v1.WeComCalendar) {
				c.Spec.Public, c.Spec.PublicRange = true, &v1.CalendarPublicRange{UserIDs: []string{"lisi"}}
			}, "public is immutable"},
			{func(c *v1.WeComCalendar) { c.Spec.SetAsDefault = true }, "setAsDefault is immutable"},
		} {
			get := cal.DeepCopy()
			Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(get), get)).To(Succeed())
			c.mutate(get)
			err := env.Client.Update(ctx, get)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(c.msg))
		}
	})

	It("makes a public default calendar with its public range, and updates the range", func() {
		ns := newNamespace("cal-public")
		cal := calendar(ns, "public", func(sp *v1.WeComCalendarSpec) {
			sp.Public, sp.SetAsDefault = true, true
			sp.PublicRange = &v1.CalendarPublicRange{UserIDs: []string{"zhangsan"}, DepartmentIDs: []int64{2}}
		})
		env.Create(cal)
		Eventually(env.Ready(cal)).Should(Succeed())
		id := cal.Status.CalendarID
		Eventually(calendarIs(id, func(g Gomega, c wecomsim.Calendar) {
			g.Expect(c.IsPublic).To(Equal(1))
			g.Expect(c.IsDefault).To(BeTrue())
			g.Expect(string(c.PublicRange)).To(MatchJSON(`{"userids":["zhangsan"],"partyids":[2]}`))
		})).Should(Succeed())
		testenv.Change(env, cal, func(c *v1.WeComCalendar) { c.Spec.PublicRange.UserIDs = []string{"zhangsan", "lisi"} })
		Eventually(env.Ready(cal)).Should(Succeed())
		Eventually(calendarIs(id, func(g Gomega, c wecomsim.Calendar) {
			g.Expect(string(c.PublicRange)).To(MatchJSON(`{"userids":["zhangsan","lisi"],"partyids":[2]}`))
		})).Should(Succeed())
	})
})

var _ = Describe("Schedule in a WeComCalendar", func() {
	at := func(day, hour int) metav1.Time {
		return metav1.NewTime(time.Date(2030, 3, day, hour, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	}

	It("waits for the calendar's cal_id, goes into it, and cannot move", func() {
		ns := newNamespace("cal-sched")
		sched := &v1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: "standup", Namespace: ns}}
		sched.Spec.ConnectionRef.Name = testenv.AppConnection
		sched.Spec.CalendarRef = &v1.LocalObjectReference{Name: "team"}
		sched.Spec.Summary, sched.Spec.Start, sched.Spec.End = "Standup "+ns, at(4, 10), at(4, 11)
		sched.Spec.Attendees = []string{"zhangsan", "lisi"}
		env.Create(sched)
		Eventually(env.HasCondition(sched, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDependencyNotReady, `WeComCalendar "team"`)).Should(Succeed())
		Expect(env.CallsWith("oa/schedule/add", ns)).To(BeEmpty())

		cal := calendar(ns, "team", withShares(share("zhangsan", v1.CalendarView)))
		env.Create(cal)
		Eventually(env.Ready(cal)).Should(Succeed())
		Eventually(env.Ready(sched), 15*time.Second).Should(Succeed())
		Expect(sched.Status.CalendarID).To(Equal(cal.Status.CalendarID))
		var found bool
		for _, s := range env.Sim.State().Schedules {
			if s.ScheduleID == sched.Status.ScheduleID {
				found = true
				Expect(s.CalID).To(Equal(cal.Status.CalendarID))
			}
		}
		Expect(found).To(BeTrue())
		Expect(env.CallsWith("oa/schedule/add", ns)).To(HaveLen(1))

		By("refusing to move it to another calendar, or to set both calendarRef and calendarID")
		for _, mutate := range []func(*v1.Schedule){
			func(s *v1.Schedule) { s.Spec.CalendarRef.Name = "other" },
			func(s *v1.Schedule) { s.Spec.CalendarRef = nil },
		} {
			s := sched.DeepCopy()
			Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			mutate(s)
			err := env.Client.Update(ctx, s)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring("calendarRef is immutable"))
		}
		both := sched.DeepCopy()
		both.ObjectMeta = metav1.ObjectMeta{Name: "both", Namespace: ns}
		both.Spec.CalendarID = cal.Status.CalendarID
		err := env.Client.Create(ctx, both)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("set at most one of calendarID and calendarRef"))

		By("the connection made no calendar of its own for it")
		conn := &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Name: testenv.AppConnection, Namespace: ns}}
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
		Expect(conn.Status.CalendarID).To(BeEmpty())

		By("deleting the schedule before its calendar")
		env.DeleteAndWait(sched)
		env.DeleteAndWait(cal)
		c, _ := simCalendar(cal.Status.CalendarID)
		Expect(c.Deleted).To(BeTrue())
	})
})
