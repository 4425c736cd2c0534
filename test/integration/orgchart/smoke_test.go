package orgchart

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

var _ = Describe("a department with a member", func() {
	It("is created in WeCom and the member lands in it, whatever the order they were applied in", func() {
		ns := newNamespace("smoke")
		parent := department(ns, "ops", unique("Ops", ns))
		child := department(ns, "noc", "NOC", under("ops"))
		member := user(ns, "alice", "alice-"+ns, "Alice", v1.UserDepartment{Ref: &v1.LocalObjectReference{Name: "noc"}, Leader: true})

		// Children first: they wait for their parents' ids.
		env.Create(member, child, parent)
		Eventually(env.Ready(member)).Should(Succeed())
		Eventually(env.Ready(child)).Should(Succeed())
		Eventually(env.Ready(parent)).Should(Succeed())

		got, ok := simDept(child.Status.ID)
		Expect(ok).To(BeTrue())
		Expect(got.Name).To(Equal("NOC"))
		Expect(got.ParentID).To(Equal(parent.Status.ID))
		Expect(got.Leaders).To(Equal([]string{member.Spec.UserID}))
		_, ok = simDept(parent.Status.ID)
		Expect(ok).To(BeTrue())
		su, ok := simUser(member.Spec.UserID)
		Expect(ok).To(BeTrue())
		Expect(su.Department).To(Equal([]int64{child.Status.ID}))
	})
})
