package orgchart

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

func ready(obj v1.Managed) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	}
}

var _ = Describe("a department with a member", func() {
	It("is created in WeCom and the member lands in it", func() {
		ns, err := env.NewNamespace(ctx, "smoke")
		Expect(err).NotTo(HaveOccurred())
		parent := &v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Name: "ops", Namespace: ns}}
		parent.Spec.ConnectionRef.Name = testenv.ContactsConnection
		parent.Spec.Name = "Ops"
		child := &v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Name: "noc", Namespace: ns}}
		child.Spec.ConnectionRef.Name = testenv.ContactsConnection
		child.Spec.Name = "NOC"
		child.Spec.ParentRef = &v1.LocalObjectReference{Name: "ops"}
		user := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns}}
		user.Spec.ConnectionRef.Name = testenv.ContactsConnection
		user.Spec.UserID, user.Spec.Name, user.Spec.Email = "alice", "Alice", "alice@example.com"
		user.Spec.Departments = []v1.UserDepartment{{Ref: &v1.LocalObjectReference{Name: "noc"}, Leader: true}}

		// Children first: they wait for their parents' ids.
		Expect(env.Client.Create(ctx, user)).To(Succeed())
		Expect(env.Client.Create(ctx, child)).To(Succeed())
		Expect(env.Client.Create(ctx, parent)).To(Succeed())
		Eventually(ready(user), 30*time.Second).Should(Succeed())
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(child), child)).To(Succeed())
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(parent), parent)).To(Succeed())

		state := env.Sim.State()
		var noc, ops bool
		for _, d := range state.Departments {
			if d.ID == child.Status.ID {
				Expect(d.Name).To(Equal("NOC"))
				Expect(d.ParentID).To(Equal(parent.Status.ID))
				noc = true
			}
			if d.ID == parent.Status.ID {
				ops = true
			}
		}
		Expect(noc && ops).To(BeTrue(), "both departments in WeCom")
		found := false
		for _, u := range state.Users {
			if u.UserID == "alice" {
				found = true
				Expect(u.Department).To(Equal([]int64{child.Status.ID}))
			}
		}
		Expect(found).To(BeTrue())
	})
})
