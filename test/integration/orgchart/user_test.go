package orgchart

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var mobileSeq atomic.Int64

// newMobile returns a mobile number no other member of the shared simulator has.
func newMobile() string { return fmt.Sprintf("+86 139%08d", mobileSeq.Add(1)) }

// simUserOf passes check with the member obj stands for, once obj is Ready.
func simUserOf(obj *v1.WeComUser, check func(Gomega, wecomsim.User)) func(Gomega) {
	return func(g Gomega) {
		env.Ready(obj)(g)
		got, ok := simUser(obj.Spec.UserID)
		g.Expect(ok).To(BeTrue(), "member %s is not in WeCom", obj.Spec.UserID)
		check(g, got)
	}
}

var _ = Describe("WeComUser", func() {
	It("is created with every field, then each field is updated with one call, then it moves", func() {
		ns := newNamespace("user")
		a := department(ns, "a", unique("UserA", ns))
		b := department(ns, "b", unique("UserB", ns))
		env.Create(a, b)
		Eventually(env.Ready(a)).Should(Succeed())
		Eventually(env.Ready(b)).Should(Succeed())

		m := env.Mark()
		u := user(ns, "alice", "alice."+ns, "Alice", v1.UserDepartment{Ref: &v1.LocalObjectReference{Name: "a"}, Order: 5, Leader: true})
		mobile := newMobile()
		u.Spec.Alias, u.Spec.Mobile, u.Spec.BizMail = "Al", mobile, "alice@biz."+ns+".example.com"
		u.Spec.Telephone, u.Spec.Position, u.Spec.Gender = "010-12345678", "Engineer", v1.GenderFemale
		u.Spec.Enabled, u.Spec.DirectLeaders = ptr(true), []string{"zhangsan"}
		env.Create(u)
		Eventually(simUserOf(u, func(g Gomega, su wecomsim.User) {
			g.Expect(su.UserID).To(Equal(u.Spec.UserID))
			g.Expect(su.Name).To(Equal("Alice"))
			g.Expect(su.Alias).To(Equal("Al"))
			g.Expect(su.Mobile).To(Equal(mobile))
			g.Expect(su.Email).To(Equal(u.Spec.Email))
			g.Expect(su.BizMail).To(Equal(u.Spec.BizMail))
			g.Expect(su.Telephone).To(Equal("010-12345678"))
			g.Expect(su.Position).To(Equal("Engineer"))
			g.Expect(su.Gender).To(Equal("2"))
			g.Expect(su.Disabled).To(BeFalse())
			g.Expect(su.Department).To(Equal([]int64{a.Status.ID}))
			g.Expect(su.Order).To(Equal([]uint32{5}))
			g.Expect(su.IsLeaderInDept).To(Equal([]int{1}))
			g.Expect(su.DirectLeader).To(Equal([]string{"zhangsan"}))
		})).Should(Succeed())
		Expect(u.Status.UserID).To(Equal(u.Spec.UserID))
		Expect(u.Status.DepartmentIDs).To(Equal([]int64{a.Status.ID}))
		Eventually(env.HasEvent(u, corev1.EventTypeNormal, controller.EventCreated)).Should(Succeed())

		By("WeCom received one user/create with every field, to_invite false, and no other write")
		creates := env.CallsSince(m, "user/create")
		Expect(creates).To(HaveLen(1))
		Expect(creates[0].Body).To(MatchJSON(fmt.Sprintf(`{
			"userid": %q, "name": "Alice", "alias": "Al", "mobile": %q, "email": %q, "biz_mail": %q,
			"telephone": "010-12345678", "position": "Engineer", "gender": "2",
			"department": [%d], "order": [5], "is_leader_in_dept": [1], "direct_leader": ["zhangsan"],
			"enable": 1, "to_invite": false}`, u.Spec.UserID, mobile, u.Spec.Email, u.Spec.BizMail, a.Status.ID)))
		Expect(testenv.CountByEndpoint(env.CallsSince(m, writeEndpoints...))).To(Equal(map[string]int{"user/create": 1}))

		newMobileNumber := newMobile()
		steps := []struct {
			what   string
			mutate func(*v1.WeComUser)
			check  func(Gomega, wecomsim.User)
		}{
			{"name", func(u *v1.WeComUser) { u.Spec.Name = "Alice Liddell" },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Name).To(Equal("Alice Liddell")) }},
			{"alias", func(u *v1.WeComUser) { u.Spec.Alias = "Ally" },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Alias).To(Equal("Ally")) }},
			{"mobile", func(u *v1.WeComUser) { u.Spec.Mobile = newMobileNumber },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Mobile).To(Equal(newMobileNumber)) }},
			{"email", func(u *v1.WeComUser) { u.Spec.Email = "liddell@" + ns + ".example.com" },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Email).To(Equal("liddell@" + ns + ".example.com")) }},
			{"bizMail", func(u *v1.WeComUser) { u.Spec.BizMail = "liddell@biz." + ns + ".example.com" },
				func(g Gomega, su wecomsim.User) { g.Expect(su.BizMail).To(Equal("liddell@biz." + ns + ".example.com")) }},
			{"telephone", func(u *v1.WeComUser) { u.Spec.Telephone = "010-87654321" },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Telephone).To(Equal("010-87654321")) }},
			{"position", func(u *v1.WeComUser) { u.Spec.Position = "Lead" },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Position).To(Equal("Lead")) }},
			{"gender", func(u *v1.WeComUser) { u.Spec.Gender = v1.GenderMale },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Gender).To(Equal("1")) }},
			{"enabled: false", func(u *v1.WeComUser) { u.Spec.Enabled = ptr(false) },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Disabled).To(BeTrue()) }},
			{"enabled: true", func(u *v1.WeComUser) { u.Spec.Enabled = ptr(true) },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Disabled).To(BeFalse()) }},
			{"directLeaders", func(u *v1.WeComUser) { u.Spec.DirectLeaders = nil },
				func(g Gomega, su wecomsim.User) { g.Expect(su.DirectLeader).To(BeEmpty()) }},
			{"order and leader in a department", func(u *v1.WeComUser) {
				u.Spec.Departments[0].Order, u.Spec.Departments[0].Leader = 8, false
			}, func(g Gomega, su wecomsim.User) {
				g.Expect(su.Order).To(Equal([]uint32{8}))
				g.Expect(su.IsLeaderInDept).To(Equal([]int{0}))
			}},
			{"departments (a move)", func(u *v1.WeComUser) { u.Spec.Departments = []v1.UserDepartment{inDept("b")} },
				func(g Gomega, su wecomsim.User) { g.Expect(su.Department).To(Equal([]int64{b.Status.ID})) }},
			{"departments (a second one, by id, as leader)", func(u *v1.WeComUser) {
				u.Spec.Departments = append(u.Spec.Departments, v1.UserDepartment{ID: ptr(a.Status.ID), Leader: true, Order: 2})
			}, func(g Gomega, su wecomsim.User) {
				g.Expect(su.Department).To(Equal([]int64{b.Status.ID, a.Status.ID}))
				g.Expect(su.IsLeaderInDept).To(Equal([]int{0, 1}))
				g.Expect(su.Order).To(Equal([]uint32{0, 2}))
			}},
		}
		for _, step := range steps {
			By("changing " + step.what)
			m := env.Mark()
			testenv.Change(env, u, step.mutate)
			Eventually(simUserOf(u, step.check)).Should(Succeed())
			Expect(testenv.CountByEndpoint(env.CallsSince(m, writeEndpoints...))).To(Equal(map[string]int{"user/update": 1}), step.what)
		}
		Expect(u.Status.DepartmentIDs).To(Equal([]int64{b.Status.ID, a.Status.ID}))
		Eventually(env.HasEvent(u, corev1.EventTypeNormal, controller.EventUpdated)).Should(Succeed())
	})

	It("is deleted from WeCom with deletionPolicy Delete, and left in WeCom with Orphan", func() {
		ns := newNamespace("userdel")
		del := user(ns, "del", "del-"+ns, "Deleted")
		kept := user(ns, "kept", "kept-"+ns, "Kept")
		kept.Spec.DeletionPolicy = v1.DeletionOrphan
		env.Create(del, kept)
		Eventually(env.Ready(del)).Should(Succeed())
		Eventually(env.Ready(kept)).Should(Succeed())

		m := env.Mark()
		env.Remove(del)
		Eventually(env.Gone(del)).Should(Succeed())
		_, ok := simUser(del.Spec.UserID)
		Expect(ok).To(BeFalse())
		deletes := env.CallsSince(m, "user/delete")
		Expect(deletes).To(HaveLen(1))
		Expect(deletes[0].Query).To(HaveKeyWithValue("userid", del.Spec.UserID))
		Eventually(env.HasEvent(del, corev1.EventTypeNormal, controller.EventDeleted)).Should(Succeed())

		m = env.Mark()
		env.Remove(kept)
		Eventually(env.Gone(kept)).Should(Succeed())
		_, ok = simUser(kept.Spec.UserID)
		Expect(ok).To(BeTrue(), "an orphaned member stays in WeCom")
		Expect(env.CallsSince(m, writeEndpoints...)).To(BeEmpty())
		Eventually(env.HasEvent(kept, corev1.EventTypeNormal, controller.EventOrphaned)).Should(Succeed())

		Expect(byHand().DeleteUser(ctx, kept.Spec.UserID)).To(Succeed())
	})

	It("adopts a member WeCom already has with the same userid in another case, and makes it match", func() {
		ns := newNamespace("useradopt")
		handID := "Adopt.Me-" + ns
		_, err := byHand().CreateUser(ctx, wecom.CreateUserRequest{
			UserID: handID, Name: "Old Name", Email: "old@" + ns + ".example.com", Department: []int{1}, Position: "Old",
		})
		Expect(err).NotTo(HaveOccurred())

		m := env.Mark()
		u := user(ns, "adopted", strings.ToLower(handID), "New Name")
		u.Spec.Position = "New"
		env.Create(u)
		Eventually(simUserOf(u, func(g Gomega, su wecomsim.User) {
			g.Expect(su.UserID).To(Equal(handID))
			g.Expect(su.Name).To(Equal("New Name"))
			g.Expect(su.Position).To(Equal("New"))
			g.Expect(su.Email).To(Equal(u.Spec.Email))
		})).Should(Succeed())
		Expect(u.Status.UserID).To(Equal(handID), "status shows WeCom's spelling")
		Eventually(env.HasEvent(u, corev1.EventTypeNormal, controller.EventAdopted)).Should(Succeed())
		Expect(env.CallsSince(m, "user/create")).To(BeEmpty())
		Expect(env.CallsSince(m, "user/update")).To(HaveLen(1))
	})

	It("puts back a name, a membership and a whole member changed by hand in WeCom", func() {
		ns := newNamespace("userdrift")
		team := department(ns, "team", unique("UserDrift", ns))
		u := user(ns, "bob", "bob-"+ns, "Bob", inDept("team"))
		env.Create(team, u)
		Eventually(env.Ready(u)).Should(Succeed())
		matches := func(g Gomega, su wecomsim.User) {
			g.Expect(su.Name).To(Equal("Bob"))
			g.Expect(su.Department).To(Equal([]int64{team.Status.ID}))
		}
		Eventually(env.Ready(team)).Should(Succeed())

		By("a rename through the simulator's seeding API (found by the deep check)")
		su, _ := simUser(u.Spec.UserID)
		su.Name = "Robert"
		Expect(env.Sim.Seed(wecomsim.Seed{Users: []wecomsim.User{su}})).To(Succeed())
		start := time.Now()
		Eventually(simUserOf(u, matches), 4*interval).Should(Succeed())
		AddReportEntry("member rename repaired after", time.Since(start).Round(100*time.Millisecond))
		// What was repaired can be read afterwards: status.drift is empty again, the event says.
		Eventually(env.HasEvent(u, corev1.EventTypeNormal, controller.EventUpdated, `name (WeCom "Robert", spec "Bob")`)).Should(Succeed())

		By("a move to another department through WeCom's API (found by user/list_id)")
		Expect(byHand().UpdateUser(ctx, wecom.UpdateUserRequest{UserID: u.Spec.UserID, Department: []int{1}})).To(Succeed())
		start = time.Now()
		Eventually(simUserOf(u, matches), 4*interval).Should(Succeed())
		AddReportEntry("member move repaired after", time.Since(start).Round(100*time.Millisecond))
		Eventually(env.HasEvent(u, corev1.EventTypeNormal, controller.EventUpdated)).Should(Succeed())

		By("a delete through WeCom's API: the member is made again")
		m := env.Mark()
		Expect(byHand().DeleteUser(ctx, u.Spec.UserID)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(applied(env.CallsSince(m, "user/create"))).To(HaveLen(1))
			simUserOf(u, matches)(g)
		}, 4*interval).Should(Succeed())
	})

	It("says what WeCom refused in the spec (60106), does not retry in a loop, and goes on once the spec is fixed", func() {
		ns := newNamespace("userrejected")
		u := user(ns, "dup", "dup-"+ns, "Duplicate Email")
		u.Spec.Email = "zhangsan@example.com" // the demo corp's zhangsan has it
		env.Create(u)
		Eventually(env.HasCondition(u, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected,
			"errcode 60106", "Another member already has this email address")).Should(Succeed())
		Eventually(env.HasEvent(u, corev1.EventTypeWarning, controller.EventCreateFailed, "60106")).Should(Succeed())

		m := env.Mark()
		Consistently(func() int { return len(env.CallsSince(m, "user/create")) }, 2*interval).
			Should(BeNumerically("<=", 3), "retried only at the drift interval")

		testenv.Change(env, u, func(u *v1.WeComUser) { u.Spec.Email = "dup@" + ns + ".example.com" })
		Eventually(env.Ready(u)).Should(Succeed())
	})

	It("does not fail or duplicate when the reply to user/create is lost", func() {
		ns := newNamespace("userlost")
		m := env.Mark()
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"user/create"}, LostReplyRate: 1})
		u := user(ns, "lost", "lost-"+ns, "Lost Reply")
		env.Create(u)
		Eventually(func() int { return len(env.CallsSince(m, "user/create")) }, 20*time.Second, 10*time.Millisecond).
			Should(BeNumerically(">=", 1))
		env.Sim.ClearFaults()
		Eventually(simUserOf(u, func(g Gomega, su wecomsim.User) {
			g.Expect(su.Name).To(Equal("Lost Reply"))
		})).Should(Succeed())
		Expect(u.Status.UserID).To(Equal(u.Spec.UserID))
		Expect(applied(env.CallsSince(m, "user/create"))).To(HaveLen(1))
		Expect(env.CallsSince(m, "user/create")[0].Fault).To(Equal("lost_reply"))
	})
})
