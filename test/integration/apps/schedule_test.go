package apps

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var cst = time.FixedZone("CST", 8*3600)

func at(year int, month time.Month, day, hour, minute int) metav1.Time {
	return metav1.NewTime(time.Date(year, month, day, hour, minute, 0, 0, cst))
}

func newSchedule(ns, name string, spec v1.ScheduleSpec) *v1.Schedule {
	if spec.ConnectionRef.Name == "" {
		spec.ConnectionRef = appConn
	}
	return &v1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
}

func simSchedule(id string) (wecomsim.Schedule, bool) {
	for _, s := range env.Sim.State().Schedules {
		if s.ScheduleID == id {
			return s, true
		}
	}
	return wecomsim.Schedule{}, false
}

func scheduleIs(id string, check func(Gomega, wecomsim.Schedule)) func(Gomega) {
	return func(g Gomega) {
		s, ok := simSchedule(id)
		g.Expect(ok).To(BeTrue(), "schedule %s in WeCom", id)
		check(g, s)
	}
}

func attendees(s wecomsim.Schedule) []string {
	var out []string
	for _, a := range s.Attendees {
		out = append(out, a.UserID)
	}
	return out
}

var _ = Describe("Schedule", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace("sched") })

	It("round-trips a weekly repeating schedule with reminders field for field, updates each field, and cancels it on delete", func() {
		start, end, until := at(2030, 1, 7, 10, 0), at(2030, 1, 7, 11, 0), at(2030, 6, 30, 0, 0)
		sched := newSchedule(ns, "review", v1.ScheduleSpec{
			Summary: "Weekly review", Description: "Incidents and follow-ups", Location: "10F",
			Start: start, End: end, Attendees: []string{"zhangsan", "lisi", "wangwu"}, Admins: []string{"zhangsan"},
			Reminders: &v1.ScheduleReminders{Before: []v1.RemindBefore{"15m", "1h"}, Timezone: ptr.To[int32](8)},
			Repeat:    &v1.ScheduleRepeat{Type: v1.RepeatWeekly, Until: &until, Interval: ptr.To[int32](2), DaysOfWeek: []int32{1, 3}},
		})
		start0 := env.Mark()
		env.Create(sched)
		Eventually(env.Ready(sched), timeout).Should(Succeed())
		id := sched.Status.ScheduleID
		Expect(id).NotTo(BeEmpty())
		Expect(env.CallsSince(start0, "oa/schedule/add")).To(HaveLen(1))
		Expect(env.CallsSince(start0, "oa/schedule/get")).To(BeEmpty())
		report("WeCom calls to create a schedule", 1)

		By("putting it in the calendar the connection created for Schedules without calendarID")
		conn := &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: appConn.Name}}
		get(conn)
		cal := conn.Status.CalendarID
		Expect(cal).NotTo(BeEmpty())
		Expect(conn.Annotations).To(HaveKeyWithValue(controller.AnnotationCalendarID, cal))
		Expect(env.CallsSince(start0, "oa/calendar/add")).To(HaveLen(1))

		By("sending WeCom exactly the mapped fields")
		Expect(bodies(env.CallsWith("oa/schedule/add", "Weekly review"))).To(HaveExactElements(MatchJSON(fmt.Sprintf(`{"schedule":{"cal_id":%q,
			"admins":["zhangsan"],
			"attendees":[{"userid":"zhangsan"},{"userid":"lisi"},{"userid":"wangwu"}],
			"summary":"Weekly review","description":"Incidents and follow-ups","location":"10F",
			"start_time":%d,"end_time":%d,
			"reminders":{"is_remind":1,"remind_time_diffs":[-900,-3600],"is_repeat":1,"repeat_type":1,
				"repeat_until":%d,"is_custom_repeat":1,"repeat_interval":2,"repeat_day_of_week":[1,3],"timezone":8}}}`,
			cal, start.Unix(), end.Unix(), until.Unix()))))

		By("finding it stored field for field, in that calendar")
		stored, ok := simSchedule(id)
		Expect(ok).To(BeTrue())
		Eventually(func(g Gomega) {
			get(sched)
			g.Expect(sched.Status.CalendarID).To(Equal(stored.CalID))
		}, timeout).Should(Succeed())
		Expect(stored.CalID).To(Equal(cal))
		stored.Sequence, stored.CreatedAt = 0, time.Time{}
		Expect(mustJSON(stored)).To(MatchJSON(fmt.Sprintf(`{
			"schedule_id":%q,"agent_id":%d,"cal_id":%q,
			"admins":["zhangsan"],
			"attendees":[{"userid":"zhangsan","response_status":0},{"userid":"lisi","response_status":0},{"userid":"wangwu","response_status":0}],
			"summary":"Weekly review","description":"Incidents and follow-ups","location":"10F",
			"start_time":%d,"end_time":%d,"is_whole_day":0,
			"reminders":{"is_remind":1,"remind_before_event_secs":0,"remind_time_diffs":[-900,-3600],
				"is_repeat":1,"repeat_type":1,"repeat_until":%d,"is_custom_repeat":1,"repeat_interval":2,
				"repeat_day_of_week":[1,3],"timezone":8},
			"status":0,"sequence":0,"created_at":"0001-01-01T00:00:00Z"}`,
			id, env.Creds.AgentID, stored.CalID, start.Unix(), end.Unix(), until.Unix())))

		steps := []struct {
			what   string
			mutate func(*v1.ScheduleSpec)
			check  func(Gomega, wecomsim.Schedule)
		}{
			{"summary", func(s *v1.ScheduleSpec) { s.Summary = "Biweekly review" },
				func(g Gomega, s wecomsim.Schedule) { g.Expect(s.Summary).To(Equal("Biweekly review")) }},
			{"description", func(s *v1.ScheduleSpec) { s.Description = "" },
				func(g Gomega, s wecomsim.Schedule) { g.Expect(s.Description).To(BeEmpty()) }},
			{"location", func(s *v1.ScheduleSpec) { s.Location = "12F" },
				func(g Gomega, s wecomsim.Schedule) { g.Expect(s.Location).To(Equal("12F")) }},
			{"start and end", func(s *v1.ScheduleSpec) { s.Start, s.End = at(2030, 1, 8, 14, 0), at(2030, 1, 8, 15, 30) },
				func(g Gomega, s wecomsim.Schedule) {
					g.Expect(s.StartTime).To(Equal(at(2030, 1, 8, 14, 0).Unix()))
					g.Expect(s.EndTime).To(Equal(at(2030, 1, 8, 15, 30).Unix()))
				}},
			{"attendees", func(s *v1.ScheduleSpec) { s.Attendees = []string{"zhangsan", "lisi", "zhaoliu"} },
				func(g Gomega, s wecomsim.Schedule) {
					g.Expect(attendees(s)).To(ConsistOf("zhangsan", "lisi", "zhaoliu"))
				}},
			{"admins", func(s *v1.ScheduleSpec) { s.Admins = []string{"lisi", "zhaoliu"} },
				func(g Gomega, s wecomsim.Schedule) { g.Expect(s.Admins).To(ConsistOf("lisi", "zhaoliu")) }},
			{"reminders", func(s *v1.ScheduleSpec) {
				s.Reminders = &v1.ScheduleReminders{Before: []v1.RemindBefore{"0s", "5m", "24h"}, Timezone: ptr.To[int32](-5)}
			}, func(g Gomega, s wecomsim.Schedule) {
				g.Expect(s.Reminders.IsRemind).To(Equal(1))
				g.Expect(s.Reminders.RemindTimeDiffs).To(ConsistOf(int64(0), int64(-300), int64(-86400)))
				g.Expect(s.Reminders.Timezone).To(Equal(int64(-5)))
			}},
			{"repeat", func(s *v1.ScheduleSpec) {
				s.Repeat = &v1.ScheduleRepeat{Type: v1.RepeatMonthly, DaysOfMonth: []int32{1, 15}}
			},
				func(g Gomega, s wecomsim.Schedule) {
					r := s.Reminders
					g.Expect([]any{r.IsRepeat, r.RepeatType, r.RepeatUntil, r.IsCustomRepeat, r.RepeatInterval}).To(
						Equal([]any{1, int64(2), int64(0), 1, int64(1)}))
					g.Expect(r.RepeatDayOfMonth).To(Equal([]int64{1, 15}))
					g.Expect(r.RepeatDayOfWeek).To(BeEmpty())
				}},
			{"whole day", func(s *v1.ScheduleSpec) {
				s.WholeDay, s.Start, s.End = true, at(2030, 2, 1, 0, 0), at(2030, 2, 1, 23, 59)
				s.Reminders = &v1.ScheduleReminders{Before: []v1.RemindBefore{"OnTheDayAt9", "48h", "168h"}, Timezone: ptr.To[int32](8)}
			}, func(g Gomega, s wecomsim.Schedule) {
				g.Expect(s.IsWholeDay).To(Equal(1))
				g.Expect(s.Reminders.RemindTimeDiffs).To(ConsistOf(int64(32400), int64(-172800), int64(-604800)))
			}},
			{"no repeat, no reminders", func(s *v1.ScheduleSpec) { s.Repeat, s.Reminders = nil, nil },
				func(g Gomega, s wecomsim.Schedule) {
					g.Expect(s.Reminders.IsRepeat).To(BeZero())
					g.Expect(s.Reminders.IsRemind).To(BeZero())
					g.Expect(s.Reminders.Timezone).To(Equal(int64(8)))
				}},
		}
		for _, step := range steps {
			By("changing " + step.what)
			before := len(env.CallsWith("oa/schedule/update", id))
			testenv.Change(env, sched, func(s *v1.Schedule) { step.mutate(&s.Spec) })
			Eventually(env.Ready(sched), timeout).Should(Succeed())
			Eventually(scheduleIs(id, step.check), timeout).Should(Succeed())
			updates := env.CallsWith("oa/schedule/update", id)
			Expect(updates).To(HaveLen(before+1), step.what)
			// WeCom's update overwrites: every call carries the whole schedule.
			var body struct {
				Schedule map[string]json.RawMessage `json:"schedule"`
			}
			Expect(json.Unmarshal([]byte(updates[before].Body), &body)).To(Succeed())
			Expect(body.Schedule).To(HaveKey("attendees"))
			Expect(body.Schedule).To(HaveKey("admins"))
			Expect(body.Schedule).To(HaveKey("summary"))
			Expect(body.Schedule).To(HaveKey("start_time"))
			Expect(body.Schedule).To(HaveKey("reminders"))
			Expect(sched.Status.ScheduleID).To(Equal(id))
		}
		scheduleIs(id, func(g Gomega, s wecomsim.Schedule) {
			g.Expect(s.Summary).To(Equal("Biweekly review"))
			g.Expect(s.Location).To(Equal("12F"))
			g.Expect(s.Admins).To(ConsistOf("lisi", "zhaoliu"))
		})(Default)

		By("making no writes while nothing changes")
		steadyWrites(2*drift, id, "oa/schedule/update", "oa/schedule/add", "oa/schedule/del")

		By("cancelling it in WeCom on delete")
		beforeDelete := env.Mark()
		env.DeleteAndWait(sched)
		report("WeCom calls to delete a schedule", len(env.CallsSince(beforeDelete, "oa/schedule/del"))+
			len(env.CallsSince(beforeDelete, "oa/schedule/get")))
		Expect(bodies(env.CallsWith("oa/schedule/del", id))).To(HaveExactElements(MatchJSON(fmt.Sprintf(`{"schedule_id":%q}`, id))))
		scheduleIs(id, func(g Gomega, s wecomsim.Schedule) { g.Expect(s.Status).To(Equal(1)) })(Default)
	})

	It("creates the schedule in the calendar the spec names", func() {
		cal, err := hand.AddCalendar(ctx, wecom.Calendar{Summary: "Team", Color: "#FF3030"})
		Expect(err).NotTo(HaveOccurred())
		sched := newSchedule(ns, "in-cal", v1.ScheduleSpec{CalendarID: cal.CalID, Summary: "Planning",
			Start: at(2030, 3, 1, 9, 0), End: at(2030, 3, 1, 10, 0), Attendees: []string{"lisi"}})
		env.Create(sched)
		Eventually(env.Ready(sched), timeout).Should(Succeed())
		Expect(sched.Status.CalendarID).To(Equal(cal.CalID))
		scheduleIs(sched.Status.ScheduleID, func(g Gomega, s wecomsim.Schedule) { g.Expect(s.CalID).To(Equal(cal.CalID)) })(Default)
		Expect(env.CallsWith("oa/schedule/add", "Planning")[0].Body).To(ContainSubstring(fmt.Sprintf(`"cal_id":%q`, cal.CalID)))
		env.DeleteAndWait(sched)
	})

	It("puts back a hand edit, and makes a schedule cancelled in WeCom again", func() {
		sched := newSchedule(ns, "drift", v1.ScheduleSpec{Summary: "Standup", Location: "Room 1",
			Start: at(2030, 4, 1, 9, 30), End: at(2030, 4, 1, 9, 45), Attendees: []string{"lisi", "wangwu"},
			Repeat: &v1.ScheduleRepeat{Type: v1.RepeatWorkdays}})
		env.Create(sched)
		Eventually(env.Ready(sched), timeout).Should(Succeed())
		id := sched.Status.ScheduleID

		By("repairing a hand edit")
		got, err := hand.GetSchedules(ctx, []string{id})
		Expect(err).NotTo(HaveOccurred())
		edited := got[0]
		edited.Summary, edited.Location, edited.Attendees = "Hacked", "Elsewhere", []wecom.Attendee{{UserID: "zhaoliu"}}
		edited.CalID = ""
		_, err = hand.UpdateSchedule(ctx, wecom.UpdateScheduleRequest{Schedule: edited})
		Expect(err).NotTo(HaveOccurred())
		Eventually(scheduleIs(id, func(g Gomega, s wecomsim.Schedule) {
			g.Expect(s.Summary).To(Equal("Standup"))
			g.Expect(s.Location).To(Equal("Room 1"))
			g.Expect(attendees(s)).To(ConsistOf("lisi", "wangwu"))
			g.Expect(s.Reminders.RepeatType).To(Equal(int64(7)))
		}), timeout).Should(Succeed())

		By("making a cancelled schedule again")
		Expect(hand.DeleteSchedule(ctx, wecom.DeleteScheduleRequest{ScheduleID: id})).To(Succeed())
		Eventually(func(g Gomega) {
			get(sched)
			g.Expect(sched.Status.ScheduleID).NotTo(BeEmpty())
			g.Expect(sched.Status.ScheduleID).NotTo(Equal(id))
		}, timeout).Should(Succeed())
		Eventually(env.Ready(sched), timeout).Should(Succeed())
		scheduleIs(sched.Status.ScheduleID, func(g Gomega, s wecomsim.Schedule) {
			g.Expect(s.Status).To(BeZero())
			g.Expect(s.Summary).To(Equal("Standup"))
		})(Default)
		scheduleIs(id, func(g Gomega, s wecomsim.Schedule) { g.Expect(s.Status).To(Equal(1)) })(Default)
		Eventually(env.Events(sched, controller.EventCancelledInWeCom), timeout).ShouldNot(BeEmpty())
		env.DeleteAndWait(sched)
	})

	It("finds the schedule a create whose reply was lost made, in the operator's calendar, and makes no copy", func() {
		env.LoseReplies("oa/schedule/add", 1)
		sched := newSchedule(ns, "dup", v1.ScheduleSpec{Summary: "Duplicated",
			Start: at(2030, 7, 1, 9, 0), End: at(2030, 7, 1, 10, 0), Attendees: []string{"lisi"}})
		env.Create(sched)
		Eventually(env.Ready(sched), timeout).Should(Succeed())
		Eventually(env.Events(sched, controller.EventRecovered), timeout).ShouldNot(BeEmpty())
		var ids []string
		for _, s := range env.Sim.State().Schedules {
			if s.Summary == "Duplicated" {
				ids = append(ids, s.ScheduleID)
			}
		}
		Expect(ids).To(ConsistOf(sched.Status.ScheduleID), "exactly one schedule in WeCom")
		Expect(env.CallsWith("oa/schedule/add", "Duplicated")).To(HaveLen(1), "the create is not repeated")
		Expect(env.CallsWith("oa/schedule/get_by_calendar", sched.Status.CalendarID)).NotTo(BeEmpty())
		Expect(sched.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, sched.Status.ScheduleID))
		env.DeleteAndWait(sched)
	})

	It("reports WeCom's refusals as WeComRejected with the errcode", func() {
		sched := newSchedule(ns, "ghost", v1.ScheduleSpec{Summary: "Ghost meeting",
			Start: at(2030, 5, 1, 9, 0), End: at(2030, 5, 1, 10, 0), Attendees: []string{"lisi", "ghost"}})
		env.Create(sched)
		Eventually(notSynced(sched, v1.ReasonWeComRejected, "errcode 60111"), timeout).Should(Succeed())
		Expect(condition(sched, v1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		Expect(sched.Status.ScheduleID).To(BeEmpty())
		testenv.Change(env, sched, func(s *v1.Schedule) { s.Spec.Attendees = []string{"lisi"} })
		Eventually(env.Ready(sched), timeout).Should(Succeed())
		env.DeleteAndWait(sched)
	})

	It("needs a connection with a self-built app", func() {
		sched := newSchedule(ns, "noapp", v1.ScheduleSpec{DeletableSpec: v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: connRef(testenv.ContactsConnection)}},
			Summary: "No app", Start: at(2030, 5, 1, 9, 0), End: at(2030, 5, 1, 10, 0)})
		env.Create(sched)
		Eventually(notSynced(sched, v1.ReasonConnectionNotReady, "agentID"), timeout).Should(Succeed())
		Expect(env.CallsWith("oa/schedule/add", "No app")).To(BeEmpty())
		env.DeleteAndWait(sched)
	})

	It("checks the schedules of a connection for drift with one oa/schedule/get per interval", func() {
		var ids []string
		var all []*v1.Schedule
		for i := range 3 {
			s := newSchedule(ns, fmt.Sprintf("batch-%d", i), v1.ScheduleSpec{Summary: fmt.Sprintf("Batch %d", i),
				Start: at(2030, 6, 1+i, 9, 0), End: at(2030, 6, 1+i, 10, 0), Attendees: []string{"lisi"}})
			env.Create(s)
			all = append(all, s)
		}
		for _, s := range all {
			Eventually(env.Ready(s), timeout).Should(Succeed())
			ids = append(ids, s.Status.ScheduleID)
		}
		readySeq := env.Mark()
		mentions := func(c wecomsim.Call) bool {
			for _, id := range ids {
				if strings.Contains(c.Body, id) {
					return true
				}
			}
			return false
		}
		// Let the first checks (single gets of ids created after the last shared read) pass:
		// every schedule has been read once since all were Ready.
		Eventually(func(g Gomega) {
			gets := env.CallsSince(readySeq, "oa/schedule/get")
			for _, id := range ids {
				g.Expect(gets).To(ContainElement(HaveField("Body", ContainSubstring(id))))
			}
		}, timeout).Should(Succeed())
		start := env.Mark()
		Consistently(func() []wecomsim.Call { return env.CallsSince(start, "oa/schedule/update") }, 2*drift, drift/10).
			Should(BeEmpty(), "no update while spec and WeCom agree")
		var gets []wecomsim.Call
		for _, c := range env.CallsSince(start, "oa/schedule/get") {
			if mentions(c) {
				gets = append(gets, c)
			}
		}
		report("oa/schedule/get calls for 3 schedules over two drift intervals", len(gets))
		Expect(gets).NotTo(BeEmpty())
		Expect(len(gets)).To(BeNumerically("<=", 4), "one shared read per interval, not one per schedule")
		Expect(gets).To(ContainElement(HaveField("Body", And(
			ContainSubstring(ids[0]), ContainSubstring(ids[1]), ContainSubstring(ids[2])))))
		for _, s := range all {
			env.DeleteAndWait(s)
		}
	})
})
