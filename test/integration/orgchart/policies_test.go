package orgchart

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var orgWrites = []string{"department/create", "department/update", "department/delete",
	"user/create", "user/update", "user/delete", "user/batchdelete"}

func observeOnly(p ...v1.ManagementPolicy) func(*v1.WeComDepartment) {
	return func(d *v1.WeComDepartment) { d.Spec.ManagementPolicies = p }
}

var _ = Describe("management policies", func() {
	It("observes an existing department and member without writing, shows a hand edit as drift, repairs it with one write once Update is allowed, and deletes nothing", func() {
		ns := newNamespace("policies")
		By("an org made by hand before the operator came")
		deptName := unique("Existing", ns)
		made, err := env.Sim.ConsoleCreateDepartment(wecomsim.DepartmentEdit{Name: &deptName, ParentID: ptr(int64(1))})
		Expect(err).NotTo(HaveOccurred())
		userID := "observed-" + ns
		email := strings.ToLower(userID) + "@" + ns + ".example.com"
		_, err = env.Sim.ConsoleCreateUser(wecomsim.UserEdit{UserID: userID, Name: ptr("Observed Member"), Email: &email,
			Department: []int64{made.ID}})
		Expect(err).NotTo(HaveOccurred())

		By("objects for it that only observe")
		start := env.Mark()
		dept := department(ns, "existing", deptName, observeOnly(v1.ManagementObserve))
		member := user(ns, "member", userID, "Observed Member", inDept("existing"))
		member.Spec.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve}
		env.Create(dept, member)
		Eventually(env.Ready(dept)).Should(Succeed())
		Eventually(env.Ready(member)).Should(Succeed())
		Expect(dept.Status.ID).To(Equal(made.ID), "the department made by hand was adopted")
		Expect(env.CallsSince(start, orgWrites...)).To(BeEmpty(), "observing writes nothing to WeCom")

		By("a hand edit shows as drift, and is not repaired")
		_, err = env.Sim.ConsoleUpdateUser(wecomsim.UserEdit{UserID: userID, Position: ptr("Edited by hand")})
		Expect(err).NotTo(HaveOccurred())
		Eventually(env.HasCondition(member, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonDrifted, "position")).
			WithTimeout(20 * time.Second).Should(Succeed())
		Expect(member.Status.Drift).To(ContainElement(v1.DriftedField{Field: "position", WeCom: "Edited by hand", Spec: ""}))
		Consistently(func() []wecomsim.Call { return env.CallsSince(start, orgWrites...) }).
			WithTimeout(4*time.Second).Should(BeEmpty(), "still nothing written")

		By("allowing Update: exactly one write repairs it")
		repair := env.Mark()
		testenv.Change(env, member, func(u *v1.WeComUser) {
			u.Spec.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve, v1.ManagementCreate, v1.ManagementUpdate}
		})
		Eventually(env.Ready(member)).WithTimeout(20 * time.Second).Should(Succeed())
		Expect(member.Status.Drift).To(BeEmpty())
		for _, u := range env.Sim.State().Users {
			if u.UserID == userID {
				Expect(u.Position).To(BeEmpty(), "the hand edit is repaired")
			}
		}
		Expect(env.CallsSince(repair, orgWrites...)).To(HaveLen(1))
		Expect(env.CallsSince(repair, orgWrites...)[0].Endpoint).To(HaveSuffix("user/update"))

		By("deleting both objects, whose policies lack Delete: WeCom keeps both")
		env.Remove(member, dept)
		Eventually(env.Gone(member)).Should(Succeed())
		Eventually(env.Gone(dept)).Should(Succeed())
		Expect(env.CallsSince(repair, "user/delete", "department/delete")).To(BeEmpty())
		state := env.Sim.State()
		Expect(state.Users).To(ContainElement(HaveField("UserID", userID)))
		Expect(state.Departments).To(ContainElement(HaveField("ID", made.ID)))
		DeferCleanup(func() {
			_, _ = env.Sim.ConsoleDeleteUser(userID)
			_, _ = env.Sim.ConsoleDeleteDepartment(made.ID)
		})
	})

	It("refuses policy sets that make no sense", func() {
		ns := newNamespace("badpolicies")
		for _, p := range [][]v1.ManagementPolicy{
			{v1.ManagementCreate, v1.ManagementUpdate},
			{v1.ManagementAll, v1.ManagementObserve},
			{v1.ManagementObserve, "Patch"},
		} {
			err := env.Client.Create(ctx, department(ns, "bad", "Bad", observeOnly(p...)))
			Expect(err).To(HaveOccurred(), "%v accepted", p)
		}
	})
})
