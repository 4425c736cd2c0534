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
)

var _ = Describe("a whole org chart", func() {
	It("converges when 3 levels of departments and 50 members are applied at once in random order, and deleting it leaves WeCom as it was", func() {
		const members = 50
		ns := newNamespace("tree")
		before := currentOrgChart()

		// 1 + 3 + 9 departments.
		var depts []*v1.WeComDepartment
		top := department(ns, "corp", unique("Tree", ns))
		depts = append(depts, top)
		var teams []string
		for i := range 3 {
			div := fmt.Sprintf("div-%d", i)
			depts = append(depts, department(ns, div, fmt.Sprintf("Division %d", i), under("corp"), func(d *v1.WeComDepartment) {
				d.Spec.Order, d.Spec.NameEn = ptr(int64(100-i)), fmt.Sprintf("Division %d EN", i)
			}))
			for j := range 3 {
				team := fmt.Sprintf("team-%d-%d", i, j)
				teams = append(teams, team)
				depts = append(depts, department(ns, team, fmt.Sprintf("Team %d.%d", i, j), under(div)))
			}
		}
		var users []*v1.WeComUser
		for k := range members {
			team := teams[k%len(teams)]
			u := user(ns, fmt.Sprintf("m%02d", k), fmt.Sprintf("m%02d.%s", k, ns), fmt.Sprintf("Member %02d", k),
				v1.UserDepartment{Ref: &v1.LocalObjectReference{Name: team}, Order: int64(k)})
			if k%5 == 0 {
				// Every fifth member also leads the division above their team.
				u.Spec.Departments = append(u.Spec.Departments, v1.UserDepartment{
					Ref: &v1.LocalObjectReference{Name: "div-" + team[5:6]}, Leader: true,
				})
			}
			if k%2 == 0 {
				u.Spec.Mobile = newMobile()
				u.Spec.Gender = v1.GenderFemale
			}
			if k%7 == 0 {
				u.Spec.Enabled = ptr(false)
			}
			u.Spec.Position = fmt.Sprintf("Position %d", k%4)
			users = append(users, u)
		}

		var objs []client.Object
		for _, d := range depts {
			objs = append(objs, d)
		}
		for _, u := range users {
			objs = append(objs, u)
		}
		rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 2))
		rng.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })

		m := env.Mark()
		start := time.Now()
		env.Create(objs...)
		for _, o := range objs {
			Eventually(env.Ready(o), 120*time.Second).Should(Succeed())
		}
		AddReportEntry("63 objects Ready after", time.Since(start).Round(100*time.Millisecond))
		AddReportEntry("WeCom calls to apply the tree", testenv.CountByEndpoint(env.CallsSince(m)))

		By("WeCom holds the tree as specified, made once")
		ids := map[string]int64{}
		for _, d := range depts {
			ids[d.Name] = d.Status.ID
		}
		for _, d := range depts {
			got, ok := simDept(d.Status.ID)
			Expect(ok).To(BeTrue(), d.Name)
			Expect(got.Name).To(Equal(d.Spec.Name))
			want := int64(1)
			if d.Spec.ParentRef != nil {
				want = ids[d.Spec.ParentRef.Name]
			}
			Expect(got.ParentID).To(Equal(want), d.Name)
		}
		for _, u := range users {
			got, ok := simUser(u.Spec.UserID)
			Expect(ok).To(BeTrue(), u.Name)
			var wantDepts []int64
			var wantLeader []int
			for _, d := range u.Spec.Departments {
				wantDepts = append(wantDepts, ids[d.Ref.Name])
				wantLeader = append(wantLeader, map[bool]int{true: 1, false: 0}[d.Leader])
			}
			Expect(got.Department).To(Equal(wantDepts), u.Name)
			Expect(got.IsLeaderInDept).To(Equal(wantLeader), u.Name)
			Expect(got.Disabled).To(Equal(u.Spec.Enabled != nil && !*u.Spec.Enabled), u.Name)
			Expect(got.Mobile).To(Equal(u.Spec.Mobile), u.Name)
		}
		Expect(testenv.CountByEndpoint(testenv.Succeeded(env.CallsSince(m, "department/create", "user/create")))).
			To(Equal(map[string]int{"department/create": len(depts), "user/create": members}))

		By("deleting everything at once, in random order")
		rng.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
		m = env.Mark()
		start = time.Now()
		env.Remove(objs...)
		for _, o := range objs {
			Eventually(env.Gone(o), 120*time.Second).Should(Succeed())
		}
		AddReportEntry("63 objects deleted after", time.Since(start).Round(100*time.Millisecond))
		deleting := env.CallsSince(m, "department/delete", "user/delete")
		AddReportEntry("WeCom delete calls to delete the tree", testenv.CountByEndpoint(deleting))
		Expect(testenv.CountByEndpoint(applied(deleting))).To(Equal(map[string]int{"department/delete": len(depts), "user/delete": members}))
		// A department is tried when its delete is requested and again when the last member or
		// sub-department managed here lets go of it, not once per member that goes.
		Expect(len(env.CallsSince(m, "department/delete"))).To(BeNumerically("<=", 2*len(depts)+2))
		Expect(currentOrgChart()).To(Equal(before))
	})
})
