package tags

import (
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var _ = Describe("WeComTag", func() {
	It("waits for its members, is created with two calls, then each field is updated with the calls it needs", func() {
		ns := newNamespace("tag")
		dept := department(ns, "dept", unique("Tagged", ns))
		env.Create(dept)
		Eventually(env.Ready(dept)).Should(Succeed())

		By("a tag whose WeComUser does not exist yet waits for it, calling WeCom for nothing")
		m := env.Mark()
		name := unique("SRE", ns)
		t := tag(ns, "sre", name, withUsers(userRef("alice"), userID("lisi")), withDepartments(deptRef("dept"), deptID(4)))
		env.Create(t)
		Eventually(env.HasCondition(t, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonDependencyNotReady, `WeComUser "alice"`)).Should(Succeed())
		Expect(tagCalls(m)).To(BeEmpty())

		By("the member's creation in WeCom wakes the tag")
		alice := member(ns, "alice", "alice-"+ns, "")
		env.Create(alice)
		Eventually(expectTag(t, name, []string{alice.Spec.UserID, "lisi"}, []int64{dept.Status.ID, 4})).Should(Succeed())
		Eventually(env.HasEvent(t, corev1.EventTypeNormal, controller.EventCreated)).Should(Succeed())
		calls := testenv.Succeeded(env.CallsSince(m, tagWrites...))
		Expect(testenv.CountByEndpoint(calls)).To(Equal(map[string]int{"tag/create": 1, "tag/addtagusers": 1}))
		Expect(calls[0].Body).To(MatchJSON(`{"tagname":"` + name + `"}`))
		Expect(calls[1].Body).To(MatchJSON(`{"tagid":` + strconv.FormatInt(t.Status.TagID, 10) +
			`,"userlist":["` + alice.Spec.UserID + `","lisi"],"partylist":[` + strconv.FormatInt(dept.Status.ID, 10) + `,4]}`))
		got, _ := simTag(t.Status.TagID)
		Expect(got.Owner).To(Equal("contacts-sync"), "the tag belongs to the connection's app")
		Expect(t.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, strconv.FormatInt(t.Status.TagID, 10)))

		steps := []struct {
			what   string
			mutate func(*v1.WeComTag)
			users  []string
			depts  []int64
			calls  map[string]int
		}{
			{"name", func(t *v1.WeComTag) { t.Spec.Name = unique("SRE 2", ns) },
				[]string{alice.Spec.UserID, "lisi"}, []int64{dept.Status.ID, 4}, map[string]int{"tag/update": 1}},
			{"users (one out, one in)", func(t *v1.WeComTag) { t.Spec.Users = []v1.TagUser{userRef("alice"), userID("WangWu")} },
				[]string{alice.Spec.UserID, "wangwu"}, []int64{dept.Status.ID, 4}, map[string]int{"tag/deltagusers": 1, "tag/addtagusers": 1}},
			{"departments (one out)", func(t *v1.WeComTag) { t.Spec.Departments = []v1.TagDepartment{deptRef("dept")} },
				[]string{alice.Spec.UserID, "wangwu"}, []int64{dept.Status.ID}, map[string]int{"tag/deltagusers": 1}},
			{"departments (one in) and users (all out)", func(t *v1.WeComTag) {
				t.Spec.Users, t.Spec.Departments = nil, []v1.TagDepartment{deptRef("dept"), deptID(2)}
			}, nil, []int64{dept.Status.ID, 2}, map[string]int{"tag/deltagusers": 1, "tag/addtagusers": 1}},
		}
		for _, step := range steps {
			By("changing " + step.what)
			m := env.Mark()
			testenv.Change(env, t, step.mutate)
			Eventually(expectTag(t, t.Spec.Name, step.users, step.depts)).Should(Succeed())
			Expect(testenv.CountByEndpoint(env.CallsSince(m, tagWrites...))).To(Equal(step.calls), step.what)
		}
		Eventually(env.HasEvent(t, corev1.EventTypeNormal, controller.EventUpdated)).Should(Succeed())
	})

	It("puts back a name and members changed by hand, and makes a tag deleted by hand again", func() {
		ns := newNamespace("tagdrift")
		name := unique("Drift", ns)
		t := tag(ns, "drift", name, withUsers(userID("lisi"), userID("wangwu")), withDepartments(deptID(4)))
		env.Create(t)
		Eventually(expectTag(t, name, []string{"lisi", "wangwu"}, []int64{4})).Should(Succeed())
		id := int(t.Status.TagID)
		hand := env.ByHand(env.Creds.ContactsSecret) // the tag's own app: WeCom lets it write

		By("a rename, a member added and a department removed through WeCom's API")
		Expect(hand.UpdateTag(ctx, id, "Renamed by hand "+ns)).To(Succeed())
		_, err := hand.AddTagUsers(ctx, id, []string{"zhaoliu"}, nil)
		Expect(err).NotTo(HaveOccurred())
		_, err = hand.DeleteTagUsers(ctx, id, nil, []int{4})
		Expect(err).NotTo(HaveOccurred())
		m := env.Mark()
		start := time.Now()
		Eventually(expectTag(t, name, []string{"lisi", "wangwu"}, []int64{4}), 4*interval).Should(Succeed())
		AddReportEntry("tag edits repaired after", time.Since(start).Round(100*time.Millisecond))
		Expect(testenv.CountByEndpoint(testenv.Succeeded(env.CallsSince(m, tagWrites...)))).To(Equal(map[string]int{
			"tag/update": 1, "tag/deltagusers": 1, "tag/addtagusers": 1,
		}))

		By("a drift check that finds nothing to do reads the tag once and writes nothing")
		m = env.Mark()
		Consistently(func() map[string]int { return testenv.CountByEndpoint(env.CallsSince(m, tagWrites...)) }, interval+interval/2).Should(BeEmpty())
		Expect(env.CallsSince(m, "tag/get")).NotTo(BeEmpty())
		Expect(env.CallsSince(m, "tag/list")).To(BeEmpty())

		By("a delete through WeCom's API: the tag is made again")
		m = env.Mark()
		Expect(hand.DeleteTag(ctx, id)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(testenv.Succeeded(env.CallsSince(m, "tag/create"))).To(HaveLen(1))
			expectTag(t, name, []string{"lisi", "wangwu"}, []int64{4})(g)
		}, 4*interval).Should(Succeed())
		Expect(simTagsNamed(name)).To(HaveLen(1))
	})

	It("is deleted from WeCom with deletionPolicy Delete, and left in WeCom with Orphan", func() {
		ns := newNamespace("tagdel")
		del := tag(ns, "del", unique("Delete", ns), withUsers(userID("lisi")))
		kept := tag(ns, "kept", unique("Orphan", ns), withUsers(userID("lisi")), func(t *v1.WeComTag) { t.Spec.DeletionPolicy = v1.DeletionOrphan })
		env.Create(del, kept)
		Eventually(env.Ready(del)).Should(Succeed())
		Eventually(env.Ready(kept)).Should(Succeed())
		delID, keptID := del.Status.TagID, kept.Status.TagID
		Expect(del.Finalizers).To(ContainElement(controller.Finalizer))

		m := env.Mark()
		env.Remove(del)
		Eventually(env.Gone(del)).Should(Succeed())
		_, ok := simTag(delID)
		Expect(ok).To(BeFalse())
		deletes := env.CallsSince(m, "tag/delete")
		Expect(deletes).To(HaveLen(1))
		Expect(deletes[0].Query).To(HaveKeyWithValue("tagid", strconv.FormatInt(delID, 10)))
		Expect(testenv.CountByEndpoint(env.CallsSince(m, tagWrites...))).To(Equal(map[string]int{"tag/delete": 1}))

		m = env.Mark()
		env.Remove(kept)
		Eventually(env.Gone(kept)).Should(Succeed())
		got, ok := simTag(keptID)
		Expect(ok).To(BeTrue(), "an orphaned tag stays in WeCom")
		Expect(got.Users).To(Equal([]string{"lisi"}))
		Expect(env.CallsSince(m, tagWrites...)).To(BeEmpty())
		Expect(env.ByHand(env.Creds.ContactsSecret).DeleteTag(ctx, int(keptID))).To(Succeed())
	})

	It("adopts the tag WeCom already has of its name and makes it match", func() {
		ns := newNamespace("tagadopt")
		name := unique("Adopted", ns)
		handID, err := env.ByHand(env.Creds.ContactsSecret).CreateTag(ctx, name, 0)
		Expect(err).NotTo(HaveOccurred())
		_, err = env.ByHand(env.Creds.ContactsSecret).AddTagUsers(ctx, handID, []string{"zhaoliu"}, []int{3})
		Expect(err).NotTo(HaveOccurred())

		m := env.Mark()
		t := tag(ns, "adopted", name, withUsers(userID("lisi")), withDepartments(deptID(3)))
		env.Create(t)
		Eventually(expectTag(t, name, []string{"lisi"}, []int64{3})).Should(Succeed())
		Expect(t.Status.TagID).To(Equal(int64(handID)))
		Eventually(env.HasEvent(t, corev1.EventTypeNormal, controller.EventAdopted)).Should(Succeed())
		Expect(simTagsNamed(name)).To(HaveLen(1))
		Expect(env.CallsSince(m, "tag/create")).To(BeEmpty(), "no second tag")
		Expect(testenv.CountByEndpoint(env.CallsSince(m, tagWrites...))).To(Equal(map[string]int{"tag/deltagusers": 1, "tag/addtagusers": 1}))
	})

	It("finds the tag a create whose reply was lost made, instead of making a second", func() {
		ns := newNamespace("taglost")
		name := unique("Lost", ns)
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"tag/create"}, LostReplyRate: 1})
		m := env.Mark()
		t := tag(ns, "lost", name, withUsers(userID("lisi")))
		env.Create(t)
		Eventually(expectTag(t, name, []string{"lisi"}, nil)).Should(Succeed())
		env.Sim.ClearFaults()
		Expect(env.CallsSince(m, "tag/create")).NotTo(BeEmpty())
		Eventually(env.HasEvent(t, corev1.EventTypeNormal, controller.EventRecovered)).Should(Succeed())
		Expect(simTagsNamed(name)).To(HaveLen(1))
	})

	It("says so when WeCom refuses: another app's tag (81011), a taken name (40071), members WeCom leaves out", func() {
		ns := newNamespace("tagerr")

		By("a tag the contacts-sync secret made, managed through the app's connection")
		name := unique("Theirs", ns)
		theirs, err := env.ByHand(env.Creds.ContactsSecret).CreateTag(ctx, name, 0)
		Expect(err).NotTo(HaveOccurred())
		m := env.Mark()
		foreign := tag(ns, "foreign", name, onApp, withUsers(userID("lisi")))
		env.Create(foreign)
		Eventually(env.HasCondition(foreign, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected,
			"81011", "belongs to another app", "Use a connection with that app's secret")).Should(Succeed())
		Eventually(env.HasCondition(foreign, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonWeComRejected, "81011")).Should(Succeed())
		Expect(foreign.Status.TagID).To(Equal(int64(theirs)), "the tag is found (adopted), only not writable")
		Eventually(env.HasEvent(foreign, corev1.EventTypeNormal, controller.EventAdopted)).Should(Succeed())
		Expect(testenv.CountByEndpoint(env.CallsSince(m, tagWrites...))).To(HaveKey("tag/addtagusers"))
		Expect(env.CallsSince(m, "tag/create", "tag/update", "tag/delete")).To(BeEmpty())

		By("deleting it is blocked, and says how to release it")
		env.Remove(foreign)
		Eventually(env.HasCondition(foreign, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDeleteBlocked,
			"81011", "deletionPolicy: Orphan")).Should(Succeed())
		testenv.Change(env, foreign, func(t *v1.WeComTag) { t.Spec.DeletionPolicy = v1.DeletionOrphan })
		Eventually(env.Gone(foreign)).Should(Succeed())
		_, ok := simTag(int64(theirs))
		Expect(ok).To(BeTrue())

		By("a fixed id with a name another tag has")
		free := int64(900000 + len(env.Sim.State().Tags))
		dup := tag(ns, "dup", name, func(t *v1.WeComTag) { t.Spec.ID = &free })
		env.Create(dup)
		Eventually(env.HasCondition(dup, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected,
			"40071", "Another tag already has this name")).Should(Succeed())
		_, ok = simTag(free)
		Expect(ok).To(BeFalse())
		Expect(env.ByHand(env.Creds.ContactsSecret).DeleteTag(ctx, theirs)).To(Succeed())
		Eventually(func(g Gomega) {
			env.Ready(dup)(g)
			g.Expect(dup.Status.TagID).To(Equal(free))
		}, 4*interval).Should(Succeed(), "the name is free now: the tag is made with its fixed id")

		By("members WeCom leaves out are listed, and the rest is applied")
		ghost := "ghost-" + ns
		partial := tag(ns, "partial", unique("Partial", ns), withUsers(userID("lisi"), userID(ghost)), withDepartments(deptID(4), deptID(999999)))
		env.Create(partial)
		Eventually(env.HasCondition(partial, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected,
			"users "+ghost, "departments 999999", "not in the visible range")).Should(Succeed())
		Expect(partial.Status.InvalidUsers).To(Equal([]string{ghost}))
		Expect(partial.Status.InvalidDepartments).To(Equal([]int64{999999}))
		got, ok := simTag(partial.Status.TagID)
		Expect(ok).To(BeTrue())
		Expect(got.Users).To(Equal([]string{"lisi"}))
		Expect(got.Parties).To(Equal([]int64{4}))
		testenv.Change(env, partial, func(t *v1.WeComTag) {
			t.Spec.Users, t.Spec.Departments = []v1.TagUser{userID("lisi")}, []v1.TagDepartment{deptID(4)}
		})
		Eventually(expectTag(partial, partial.Spec.Name, []string{"lisi"}, []int64{4})).Should(Succeed())
	})

	It("refuses what WeCom would refuse before it reaches WeCom", func() {
		ns := newNamespace("tagcel")
		for _, c := range []struct {
			what string
			t    *v1.WeComTag
			msg  string
		}{
			{"a name over 32 characters", tag(ns, "long", strings.Repeat("标", 33)), "spec.name"},
			{"a user with both ref and userID", tag(ns, "both", "x", withUsers(v1.TagUser{Ref: &v1.LocalObjectReference{Name: "a"}, UserID: "a"})), "set exactly one of ref and userID"},
			{"a department with neither ref nor id", tag(ns, "neither", "x", withDepartments(v1.TagDepartment{})), "set exactly one of ref and id"},
			{"101 departments", tag(ns, "many", "x", withDepartments(manyDepartments(101)...)), "spec.departments"},
		} {
			err := env.Client.Create(ctx, c.t)
			Expect(err).To(HaveOccurred(), c.what)
			Expect(err.Error()).To(ContainSubstring(c.msg), c.what)
		}

		t := tag(ns, "fixed", unique("Fixed", ns), func(t *v1.WeComTag) { t.Spec.ID = ptr(int64(910000)) })
		env.Create(t)
		Eventually(env.Ready(t)).Should(Succeed())
		t.Spec.ID = ptr(int64(910001))
		err := env.Client.Update(ctx, t)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("id is immutable"))
	})
})

func manyDepartments(n int) []v1.TagDepartment {
	out := make([]v1.TagDepartment, n)
	for i := range out {
		out[i] = deptID(int64(i + 1))
	}
	return out
}
