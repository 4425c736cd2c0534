package orgchart

import (
	"encoding/json"
	"strconv"
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

// expectDept checks that WeCom holds the department obj says it made, as want describes.
func expectDept(obj *v1.WeComDepartment, want wecomsim.Department) func(Gomega) {
	return func(g Gomega) {
		env.Ready(obj)(g)
		want.ID = obj.Status.ID
		got, ok := simDept(obj.Status.ID)
		g.Expect(ok).To(BeTrue(), "department %d is not in WeCom", obj.Status.ID)
		got.Leaders = nil
		g.Expect(got).To(Equal(want))
		g.Expect(obj.Status.ParentID).To(Equal(want.ParentID))
	}
}

// deptsUnder returns WeCom's departments under parent named name, without case.
func deptsUnder(parent int64, name string) []wecomsim.Department {
	var out []wecomsim.Department
	for _, d := range simDeptsNamed(name) {
		if d.ParentID == parent {
			out = append(out, d)
		}
	}
	return out
}

var _ = Describe("WeComDepartment", func() {
	It("is created with one call, then each field is updated with one call, then it moves", func() {
		ns := newNamespace("dept")
		alpha := department(ns, "alpha", unique("Alpha", ns))
		beta := department(ns, "beta", unique("Beta", ns))
		env.Create(alpha, beta)
		Eventually(env.Ready(alpha)).Should(Succeed())
		Eventually(env.Ready(beta)).Should(Succeed())

		m := env.Mark()
		d := department(ns, "delta", "Delta", under("alpha"), func(d *v1.WeComDepartment) {
			d.Spec.NameEn, d.Spec.Order = "Delta EN", ptr(int64(7))
		})
		env.Create(d)
		Eventually(expectDept(d, wecomsim.Department{Name: "Delta", NameEn: "Delta EN", ParentID: alpha.Status.ID, Order: 7})).Should(Succeed())
		Eventually(env.HasEvent(d, corev1.EventTypeNormal, controller.EventCreated)).Should(Succeed())

		By("WeCom received one department/create with the spec's fields, and no other write")
		creates := env.CallsSince(m, "department/create")
		Expect(creates).To(HaveLen(1))
		Expect(creates[0].Body).To(MatchJSON(`{"name":"Delta","name_en":"Delta EN","parentid":` +
			strconv.FormatInt(alpha.Status.ID, 10) + `,"order":7}`))
		Expect(testenv.CountByEndpoint(env.CallsSince(m, writeEndpoints...))).To(Equal(map[string]int{"department/create": 1}))
		Expect(env.CallsSince(m, "department/get")).To(BeEmpty())

		steps := []struct {
			what   string
			mutate func(*v1.WeComDepartment)
			want   func() wecomsim.Department
		}{
			{"name", func(d *v1.WeComDepartment) { d.Spec.Name = "Delta 2" },
				func() wecomsim.Department {
					return wecomsim.Department{Name: "Delta 2", NameEn: "Delta EN", ParentID: alpha.Status.ID, Order: 7}
				}},
			{"nameEn", func(d *v1.WeComDepartment) { d.Spec.NameEn = "Delta EN 2" },
				func() wecomsim.Department {
					return wecomsim.Department{Name: "Delta 2", NameEn: "Delta EN 2", ParentID: alpha.Status.ID, Order: 7}
				}},
			{"order", func(d *v1.WeComDepartment) { d.Spec.Order = ptr(int64(9)) },
				func() wecomsim.Department {
					return wecomsim.Department{Name: "Delta 2", NameEn: "Delta EN 2", ParentID: alpha.Status.ID, Order: 9}
				}},
			{"parentRef (a move)", func(d *v1.WeComDepartment) { d.Spec.ParentRef.Name = "beta" },
				func() wecomsim.Department {
					return wecomsim.Department{Name: "Delta 2", NameEn: "Delta EN 2", ParentID: beta.Status.ID, Order: 9}
				}},
			{"parentID (a move to a department given by id)", func(d *v1.WeComDepartment) {
				d.Spec.ParentRef, d.Spec.ParentID = nil, ptr(alpha.Status.ID)
			}, func() wecomsim.Department {
				return wecomsim.Department{Name: "Delta 2", NameEn: "Delta EN 2", ParentID: alpha.Status.ID, Order: 9}
			}},
			{"no parent (a move to the root)", func(d *v1.WeComDepartment) { d.Spec.ParentID = nil; d.Spec.Name = unique("Delta", ns) },
				func() wecomsim.Department {
					return wecomsim.Department{Name: unique("Delta", ns), NameEn: "Delta EN 2", ParentID: 1, Order: 9}
				}},
		}
		for _, step := range steps {
			By("changing " + step.what)
			m := env.Mark()
			testenv.Change(env, d, step.mutate)
			Eventually(expectDept(d, step.want())).Should(Succeed())
			Expect(testenv.CountByEndpoint(env.CallsSince(m, writeEndpoints...))).To(Equal(map[string]int{"department/update": 1}), step.what)
		}
		Eventually(env.HasEvent(d, corev1.EventTypeNormal, controller.EventUpdated)).Should(Succeed())
	})

	It("is deleted from WeCom with deletionPolicy Delete, and left in WeCom with Orphan", func() {
		ns := newNamespace("deptdel")
		del := department(ns, "del", unique("Delete", ns))
		kept := department(ns, "kept", unique("Orphan", ns), orphan)
		env.Create(del, kept)
		Eventually(env.Ready(del)).Should(Succeed())
		Eventually(env.Ready(kept)).Should(Succeed())
		delID, keptID := del.Status.ID, kept.Status.ID
		Expect(del.Finalizers).To(ContainElement(controller.Finalizer))

		m := env.Mark()
		env.Remove(del)
		Eventually(env.Gone(del)).Should(Succeed())
		_, ok := simDept(delID)
		Expect(ok).To(BeFalse())
		deletes := env.CallsSince(m, "department/delete")
		Expect(deletes).To(HaveLen(1))
		Expect(deletes[0].Query).To(HaveKeyWithValue("id", strconv.FormatInt(delID, 10)))
		Eventually(env.HasEvent(del, corev1.EventTypeNormal, controller.EventDeleted)).Should(Succeed())

		m = env.Mark()
		env.Remove(kept)
		Eventually(env.Gone(kept)).Should(Succeed())
		got, ok := simDept(keptID)
		Expect(ok).To(BeTrue(), "an orphaned department stays in WeCom")
		Expect(got.Name).To(Equal(kept.Spec.Name))
		Expect(env.CallsSince(m, writeEndpoints...)).To(BeEmpty())
		Eventually(env.HasEvent(kept, corev1.EventTypeNormal, controller.EventOrphaned)).Should(Succeed())

		Expect(byHand().DeleteDepartment(ctx, int(keptID))).To(Succeed())
	})

	It("adopts a department WeCom already has under the same parent (name compared without case) and makes it match", func() {
		ns := newNamespace("deptadopt")
		parent := department(ns, "parent", unique("Adoption", ns))
		env.Create(parent)
		Eventually(env.Ready(parent)).Should(Succeed())
		handID, err := byHand().CreateDepartment(ctx, wecom.CreateDepartmentRequest{
			Name: "platform ops", ParentID: int(parent.Status.ID), Order: ptr(uint32(5)),
		})
		Expect(err).NotTo(HaveOccurred())

		m := env.Mark()
		d := department(ns, "ops", "Platform Ops", under("parent"), func(d *v1.WeComDepartment) { d.Spec.Order = ptr(int64(10)) })
		env.Create(d)
		Eventually(expectDept(d, wecomsim.Department{Name: "Platform Ops", ParentID: parent.Status.ID, Order: 10})).Should(Succeed())
		Expect(d.Status.ID).To(Equal(int64(handID)))
		Eventually(env.HasEvent(d, corev1.EventTypeNormal, controller.EventAdopted)).Should(Succeed())
		Expect(deptsUnder(parent.Status.ID, "Platform Ops")).To(HaveLen(1))
		Expect(testenv.Succeeded(env.CallsSince(m, "department/create"))).To(BeEmpty(), "no second department")
		Expect(env.CallsSince(m, "department/update")).To(HaveLen(1))
	})

	It("puts back a name, a parent and a whole department changed by hand in WeCom", func() {
		ns := newNamespace("deptdrift")
		a := department(ns, "a", unique("DriftA", ns))
		b := department(ns, "b", unique("DriftB", ns))
		leaf := department(ns, "leaf", "Leaf", under("a"), func(d *v1.WeComDepartment) { d.Spec.Order = ptr(int64(3)) })
		env.Create(a, b, leaf)
		for _, d := range []*v1.WeComDepartment{a, b, leaf} {
			Eventually(env.Ready(d)).Should(Succeed())
		}
		want := wecomsim.Department{Name: "Leaf", ParentID: a.Status.ID, Order: 3}
		id := leaf.Status.ID

		By("a rename through the simulator's seeding API")
		renamed := want
		renamed.ID, renamed.Name = id, "Renamed by hand"
		Expect(env.Sim.Seed(wecomsim.Seed{Departments: []wecomsim.Department{renamed}})).To(Succeed())
		start := time.Now()
		Eventually(expectDept(leaf, want), 4*interval).Should(Succeed())
		AddReportEntry("department rename repaired after", time.Since(start).Round(100*time.Millisecond))

		By("a move and an order change through WeCom's API")
		Expect(byHand().UpdateDepartment(ctx, wecom.UpdateDepartmentRequest{
			ID: int(id), ParentID: ptr(int(b.Status.ID)), Order: ptr(uint32(1)),
		})).To(Succeed())
		start = time.Now()
		Eventually(expectDept(leaf, want), 4*interval).Should(Succeed())
		AddReportEntry("department move repaired after", time.Since(start).Round(100*time.Millisecond))
		Eventually(env.HasEvent(leaf, corev1.EventTypeNormal, controller.EventUpdated)).Should(Succeed())

		By("a delete through WeCom's API: the department is made again")
		m := env.Mark()
		Expect(byHand().DeleteDepartment(ctx, int(id))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(applied(env.CallsSince(m, "department/create"))).To(HaveLen(1))
			expectDept(leaf, want)(g)
		}, 4*interval).Should(Succeed())
		Expect(deptsUnder(a.Status.ID, "Leaf")).To(HaveLen(1))
	})

	It("waits with DeleteBlocked while it has sub-departments or members, and is deleted once they go", func() {
		ns := newNamespace("deptblock")
		team := department(ns, "team", unique("Team", ns))
		sub := department(ns, "sub", "Sub", under("team"))
		member := user(ns, "member", "member-"+ns, "Member", inDept("team"))
		env.Create(team, sub, member)
		Eventually(env.Ready(team)).Should(Succeed())
		Eventually(env.Ready(sub)).Should(Succeed())
		Eventually(env.Ready(member)).Should(Succeed())
		id := team.Status.ID

		env.Remove(team)
		Eventually(env.HasCondition(team, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDeleteBlocked,
			"errcode 60006", "sub-departments")).Should(Succeed())
		Eventually(env.HasCondition(team, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonDeleting)).Should(Succeed())
		Eventually(env.HasEvent(team, corev1.EventTypeWarning, controller.EventDeleteBlocked, "60006")).Should(Succeed())
		_, ok := simDept(id)
		Expect(ok).To(BeTrue())

		By("the sub-department goes; the member still blocks")
		env.Remove(sub)
		Eventually(env.Gone(sub)).Should(Succeed())
		Eventually(env.HasCondition(team, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDeleteBlocked,
			"errcode 60005", "members")).Should(Succeed())

		By("the member goes; the department follows at once, not at the next retry")
		env.Remove(member)
		Eventually(env.Gone(member)).Should(Succeed())
		Eventually(env.Gone(team), interval).Should(Succeed())
		_, ok = simDept(id)
		Expect(ok).To(BeFalse())
	})

	It("does not make a second department when the reply to department/create is lost", func() {
		ns := newNamespace("deptlost")
		parent := department(ns, "parent", unique("Lost", ns))
		env.Create(parent)
		Eventually(env.Ready(parent)).Should(Succeed())

		m := env.Mark()
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"department/create"}, LostReplyRate: 1})
		d := department(ns, "d", "Lost Reply", under("parent"))
		env.Create(d)
		// Every attempt of the first create loses its reply: the first one was applied.
		Eventually(func() int { return len(env.CallsSince(m, "department/create")) }, 20*time.Second, 10*time.Millisecond).
			Should(BeNumerically(">=", wecom.DefaultRetryPolicy.MaxAttempts))
		env.Sim.ClearFaults()
		Eventually(env.HasEvent(d, corev1.EventTypeWarning, controller.EventCreateFailed, "may have been applied")).Should(Succeed())

		Eventually(env.Ready(d)).Should(Succeed())
		inWeCom := deptsUnder(parent.Status.ID, "Lost Reply")
		Expect(inWeCom).To(HaveLen(1))
		Expect(d.Status.ID).To(Equal(inWeCom[0].ID))
		Expect(d.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, strconv.FormatInt(inWeCom[0].ID, 10)))
		Eventually(env.HasEvent(d, corev1.EventTypeNormal, controller.EventRecovered)).Should(Succeed())

		made := applied(env.CallsSince(m, "department/create"))
		Expect(made).To(HaveLen(1))
		Expect(made[0].Fault).To(Equal("lost_reply"))
		var body map[string]any
		Expect(json.Unmarshal([]byte(made[0].Body), &body)).To(Succeed())
		Expect(body).To(HaveKeyWithValue("name", "Lost Reply"))
	})
})
