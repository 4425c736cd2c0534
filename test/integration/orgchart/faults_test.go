package orgchart

import (
	"fmt"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

func expectDeptName(d *v1.WeComDepartment, name string) func(Gomega) {
	return func(g Gomega) {
		env.Ready(d)(g)
		got, ok := simDept(d.Status.ID)
		g.Expect(ok).To(BeTrue())
		g.Expect(got.Name).To(Equal(name))
	}
}

var _ = Describe("retryable WeCom failures", func() {
	It("are survived: -1, 45009 windows and dropped connections neither stop nor duplicate anything", func() {
		ns := newNamespace("faults")
		faults := []wecomsim.Faults{
			{ErrorRate: 0.25}, // -1 system busy, not applied
			{DropRate: 0.15},  // connection closed, nothing applied
			{Endpoints: []string{"department/*", "user/*"}, FreqLimitRate: 0.1, FreqLimitWindow: 700 * time.Millisecond},
		}
		m := env.Mark()
		env.Sim.SetFaults(faults...)

		By("creating under faults")
		top := department(ns, "top", unique("Faults", ns))
		objs := []client.Object{top}
		for i := range 3 {
			objs = append(objs, department(ns, fmt.Sprintf("d%d", i), fmt.Sprintf("D%d", i), under("top")))
		}
		for i := range 6 {
			objs = append(objs, user(ns, fmt.Sprintf("u%d", i), fmt.Sprintf("f%d-%s", i, ns), fmt.Sprintf("F%d", i), inDept(fmt.Sprintf("d%d", i%3))))
		}
		rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 1))
		rng.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
		env.Create(objs...)
		for _, o := range objs {
			Eventually(env.Ready(o), 90*time.Second).Should(Succeed())
		}

		By("updating under faults")
		for i := range 3 {
			d := department(ns, fmt.Sprintf("d%d", i), "")
			testenv.Change(env, d, func(d *v1.WeComDepartment) { d.Spec.Name = fmt.Sprintf("D%d renamed", i) })
			Eventually(expectDeptName(d, fmt.Sprintf("D%d renamed", i)), 90*time.Second).Should(Succeed())
		}

		By("deleting under faults")
		for i := range 2 {
			env.Remove(user(ns, fmt.Sprintf("u%d", i), "", ""))
		}
		for i := range 2 {
			u := user(ns, fmt.Sprintf("u%d", i), fmt.Sprintf("f%d-%s", i, ns), "")
			Eventually(env.Gone(u), 90*time.Second).Should(Succeed())
			_, ok := simUser(u.Spec.UserID)
			Expect(ok).To(BeFalse())
		}
		env.Sim.ClearFaults()

		By("the faults did happen")
		injected := map[string]int{}
		for _, c := range env.CallsSince(m) {
			if c.Fault != "" {
				injected[c.Fault]++
			}
		}
		AddReportEntry("faults injected", injected)
		Expect(injected).To(HaveKey("system_busy"))
		Expect(injected).To(HaveKey("drop"))
		Expect(injected).To(HaveKey("freq_limit"))

		By("nothing was made twice")
		Expect(testenv.CountByEndpoint(applied(env.CallsSince(m, "department/create", "user/create")))).
			To(Equal(map[string]int{"department/create": 4, "user/create": 6}))
		Expect(simDeptsNamed(top.Spec.Name)).To(HaveLen(1))
		Expect(deptsUnder(top.Status.ID, "D0 renamed")).To(HaveLen(1))
	})
})
