package customercontact

import (
	"encoding/json"

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

var corpTagWrites = []string{"externalcontact/add_corp_tag", "externalcontact/edit_corp_tag", "externalcontact/del_corp_tag"}

// tagGroup returns a CustomerTagGroup of the app connection named name in WeCom.
func tagGroup(ns, name, display string, order int64, tags ...v1.CustomerTag) *v1.CustomerTagGroup {
	g := &v1.CustomerTagGroup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	onApp(&g.Spec.ManagedSpec)
	g.Spec.Name, g.Spec.Order, g.Spec.Tags = display, order, tags
	return g
}

func ctag(name string, order int64) v1.CustomerTag { return v1.CustomerTag{Name: name, Order: order} }

func simGroup(id string) (wecomsim.CorpTagGroup, bool) { return env.Sim.State().CorpTagGroup(id) }

// simGroupsNamed returns WeCom's customer tag groups named name.
func simGroupsNamed(name string) []wecomsim.CorpTagGroup {
	var out []wecomsim.CorpTagGroup
	for _, g := range env.Sim.State().CorpTagGroups {
		if g.Name == name {
			out = append(out, g)
		}
	}
	return out
}

// expectGroup checks that obj is Ready and WeCom holds its group as the spec says, with the
// tag ids in the status.
func expectGroup(obj *v1.CustomerTagGroup) func(Gomega) {
	return func(g Gomega) {
		env.Ready(obj)(g)
		got, ok := simGroup(obj.Status.GroupID)
		g.Expect(ok).To(BeTrue(), "group %s is not in WeCom", obj.Status.GroupID)
		g.Expect(got.Name).To(Equal(obj.Spec.Name))
		g.Expect(int64(got.Order)).To(Equal(obj.Spec.Order))
		want := map[string]int64{}
		for _, t := range obj.Spec.Tags {
			want[t.Name] = t.Order
		}
		have, ids := map[string]int64{}, map[string]string{}
		for _, t := range got.Tags {
			have[t.Name], ids[t.Name] = int64(t.Order), t.ID
		}
		g.Expect(have).To(Equal(want))
		status := map[string]string{}
		for _, t := range obj.Status.Tags {
			status[t.Name] = t.ID
		}
		g.Expect(status).To(Equal(ids), "status.tags are WeCom's ids")
		g.Expect(obj.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, obj.Status.GroupID))
	}
}

var _ = Describe("CustomerTagGroup", func() {
	It("is created with one call, then each field is updated with the calls it needs", func() {
		ns := newNamespace("ctg")
		name := unique("客户等级", ns)
		m := env.Mark()
		grp := tagGroup(ns, "level", name, 5, ctag("一般", 1), ctag("重要", 2))
		env.Create(grp)
		Eventually(expectGroup(grp)).Should(Succeed())
		Eventually(env.HasEvent(grp, corev1.EventTypeNormal, controller.EventCreated)).Should(Succeed())
		calls := testenv.Succeeded(env.CallsSince(m, corpTagWrites...))
		Expect(testenv.CountByEndpoint(calls)).To(Equal(map[string]int{"externalcontact/add_corp_tag": 1}))
		Expect(calls[0].Body).To(MatchJSON(`{"group_name":"` + name + `","order":5,"tag":[{"name":"一般","order":1},{"name":"重要","order":2}]}`))
		got, _ := simGroup(grp.Status.GroupID)
		Expect(got.Owner).To(Equal("operator"), "the group belongs to the connection's app")

		steps := []struct {
			what   string
			mutate func(*v1.CustomerTagGroup)
			calls  map[string]int
		}{
			{"name", func(g *v1.CustomerTagGroup) { g.Spec.Name = unique("客户级别", ns) }, map[string]int{"externalcontact/edit_corp_tag": 1}},
			{"order", func(g *v1.CustomerTagGroup) { g.Spec.Order = 4294967295 }, map[string]int{"externalcontact/edit_corp_tag": 1}},
			{"a tag's order", func(g *v1.CustomerTagGroup) { g.Spec.Tags[0].Order = 7 }, map[string]int{"externalcontact/edit_corp_tag": 1}},
			{"a tag added", func(g *v1.CustomerTagGroup) { g.Spec.Tags = append(g.Spec.Tags, ctag("VIP", 9)) }, map[string]int{"externalcontact/add_corp_tag": 1}},
			{"a tag removed", func(g *v1.CustomerTagGroup) { g.Spec.Tags = g.Spec.Tags[1:] }, map[string]int{"externalcontact/del_corp_tag": 1}},
			{"a tag renamed (a new tag)", func(g *v1.CustomerTagGroup) { g.Spec.Tags[0].Name = "非常重要" },
				map[string]int{"externalcontact/add_corp_tag": 1, "externalcontact/del_corp_tag": 1}},
		}
		for _, step := range steps {
			By("changing " + step.what)
			m := env.Mark()
			before := map[string]string{}
			for _, t := range grp.Status.Tags {
				before[t.Name] = t.ID
			}
			testenv.Change(env, grp, step.mutate)
			Eventually(expectGroup(grp)).Should(Succeed())
			Expect(testenv.CountByEndpoint(env.CallsSince(m, corpTagWrites...))).To(Equal(step.calls), step.what)
			for _, t := range grp.Status.Tags {
				if id, ok := before[t.Name]; ok {
					Expect(t.ID).To(Equal(id), "tag %s keeps its id", t.Name)
				}
			}
		}
		By("the add into the group names it by group_id")
		adds := env.CallsSince(m, "externalcontact/add_corp_tag")
		Expect(adds[len(adds)-1].Body).To(MatchJSON(`{"group_id":"` + grp.Status.GroupID + `","tag":[{"name":"非常重要","order":2}]}`))
		Eventually(env.HasEvent(grp, corev1.EventTypeNormal, controller.EventUpdated)).Should(Succeed())
	})

	It("puts back what was changed by hand, and makes a group deleted by hand again", func() {
		ns := newNamespace("ctgdrift")
		grp := tagGroup(ns, "drift", unique("Drift", ns), 1, ctag("a", 1), ctag("b", 2))
		env.Create(grp)
		Eventually(expectGroup(grp)).Should(Succeed())
		hand := env.ByHand(env.Creds.AppSecret) // the group's own app: WeCom lets it write
		ids := map[string]string{}
		for _, t := range grp.Status.Tags {
			ids[t.Name] = t.ID
		}

		By("a rename, a reorder, a tag added and a tag deleted through WeCom's API")
		Expect(hand.EditCorpTag(ctx, wecom.EditCorpTagRequest{ID: grp.Status.GroupID, Name: ptr("Renamed " + ns), Order: ptr(uint32(8))})).To(Succeed())
		Expect(hand.EditCorpTag(ctx, wecom.EditCorpTagRequest{ID: ids["b"], Order: ptr(uint32(0))})).To(Succeed())
		_, err := hand.AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupID: grp.Status.GroupID, Tags: []wecom.NewCorpTag{{Name: "extra"}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(hand.DeleteCorpTags(ctx, []string{ids["a"]}, nil)).To(Succeed())
		m := env.Mark()
		Eventually(expectGroup(grp), 4*interval).Should(Succeed())
		Expect(testenv.CountByEndpoint(testenv.Succeeded(env.CallsSince(m, corpTagWrites...)))).To(Equal(map[string]int{
			"externalcontact/edit_corp_tag": 2, "externalcontact/add_corp_tag": 1, "externalcontact/del_corp_tag": 1,
		}))

		By("a drift check that finds nothing to do reads the group once and writes nothing")
		m = env.Mark()
		Consistently(func() map[string]int { return testenv.CountByEndpoint(env.CallsSince(m, corpTagWrites...)) }, interval+interval/2).Should(BeEmpty())
		reads := env.CallsSince(m, "externalcontact/get_corp_tag_list")
		Expect(reads).NotTo(BeEmpty())
		Expect(reads[0].Body).To(MatchJSON(`{"group_id":["` + grp.Status.GroupID + `"]}`))

		By("a delete through WeCom's API: the group is made again")
		old := grp.Status.GroupID
		m = env.Mark()
		Expect(hand.DeleteCorpTags(ctx, nil, []string{old})).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(testenv.Succeeded(env.CallsSince(m, "externalcontact/add_corp_tag"))).To(HaveLen(1))
			expectGroup(grp)(g)
			g.Expect(grp.Status.GroupID).NotTo(Equal(old))
		}, 4*interval).Should(Succeed())
		Expect(simGroupsNamed(grp.Spec.Name)).To(HaveLen(1))
	})

	It("is deleted from WeCom with deletionPolicy Delete, and left in WeCom with Orphan", func() {
		ns := newNamespace("ctgdel")
		del := tagGroup(ns, "del", unique("Delete", ns), 0, ctag("a", 0))
		kept := tagGroup(ns, "kept", unique("Orphan", ns), 0, ctag("a", 0))
		kept.Spec.DeletionPolicy = v1.DeletionOrphan
		env.Create(del, kept)
		Eventually(expectGroup(del)).Should(Succeed())
		Eventually(expectGroup(kept)).Should(Succeed())

		m := env.Mark()
		env.Remove(del)
		Eventually(env.Gone(del)).Should(Succeed())
		_, ok := simGroup(del.Status.GroupID)
		Expect(ok).To(BeFalse())
		dels := env.CallsSince(m, corpTagWrites...)
		Expect(testenv.CountByEndpoint(dels)).To(Equal(map[string]int{"externalcontact/del_corp_tag": 1}))
		Expect(dels[0].Body).To(MatchJSON(`{"group_id":["` + del.Status.GroupID + `"]}`))

		m = env.Mark()
		env.Remove(kept)
		Eventually(env.Gone(kept)).Should(Succeed())
		_, ok = simGroup(kept.Status.GroupID)
		Expect(ok).To(BeTrue(), "an orphaned group stays in WeCom")
		Expect(env.CallsSince(m, corpTagWrites...)).To(BeEmpty())
		Expect(env.ByHand(env.Creds.AppSecret).DeleteCorpTags(ctx, nil, []string{kept.Status.GroupID})).To(Succeed())
	})

	It("adopts the group WeCom already has of its name and makes it match", func() {
		ns := newNamespace("ctgadopt")
		name := unique("Adopted", ns)
		made, err := env.ByHand(env.Creds.AppSecret).AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupName: name, Tags: []wecom.NewCorpTag{{Name: "keep"}, {Name: "stale"}}})
		Expect(err).NotTo(HaveOccurred())

		m := env.Mark()
		grp := tagGroup(ns, "adopted", name, 0, ctag("keep", 0), ctag("new", 0))
		env.Create(grp)
		Eventually(expectGroup(grp)).Should(Succeed())
		Expect(grp.Status.GroupID).To(Equal(made.GroupID))
		Expect(grp.Status.Tags).To(ContainElement(v1.CustomerTagStatus{Name: "keep", ID: made.Tags[0].ID}))
		Eventually(env.HasEvent(grp, corev1.EventTypeNormal, controller.EventAdopted)).Should(Succeed())
		Expect(simGroupsNamed(name)).To(HaveLen(1))
		Expect(testenv.CountByEndpoint(env.CallsSince(m, corpTagWrites...))).To(Equal(map[string]int{
			"externalcontact/add_corp_tag": 1, "externalcontact/del_corp_tag": 1,
		}), "one add into the group, one delete of the stale tag, no second group")
	})

	It("finds the group a create whose reply was lost made, instead of making a second", func() {
		ns := newNamespace("ctglost")
		name := unique("Lost", ns)
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"externalcontact/add_corp_tag"}, LostReplyRate: 1})
		m := env.Mark()
		grp := tagGroup(ns, "lost", name, 0, ctag("a", 0))
		env.Create(grp)
		Eventually(env.HasEvent(grp, corev1.EventTypeNormal, controller.EventRecovered)).Should(Succeed())
		env.Sim.ClearFaults()
		Eventually(expectGroup(grp)).Should(Succeed())
		Expect(env.CallsSince(m, "externalcontact/add_corp_tag")).NotTo(BeEmpty())
		Expect(simGroupsNamed(name)).To(HaveLen(1))
	})

	It("says so when WeCom refuses: another app's group (301002), no permission (48002), a taken name (40071)", func() {
		ns := newNamespace("ctgerr")

		By("a group another app made, adopted by name but not writable")
		name := unique("Theirs", ns)
		theirs, err := env.ByHand(otherApp.Secret).AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupName: name, Tags: []wecom.NewCorpTag{{Name: "a"}}})
		Expect(err).NotTo(HaveOccurred())
		m := env.Mark()
		foreign := tagGroup(ns, "foreign", name, 3, ctag("a", 0))
		env.Create(foreign)
		Eventually(env.HasCondition(foreign, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonPermissionDenied,
			"301002", "made by another app")).Should(Succeed())
		Expect(foreign.Status.GroupID).To(Equal(theirs.GroupID))
		Expect(env.CallsSince(m, "externalcontact/add_corp_tag", "externalcontact/del_corp_tag")).To(BeEmpty())

		By("deleting it is blocked, and says how to release it")
		env.Remove(foreign)
		Eventually(env.HasCondition(foreign, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDeleteBlocked,
			"301002", "deletionPolicy: Orphan")).Should(Succeed())
		testenv.Change(env, foreign, func(g *v1.CustomerTagGroup) { g.Spec.DeletionPolicy = v1.DeletionOrphan })
		Eventually(env.Gone(foreign)).Should(Succeed())
		_, ok := simGroup(theirs.GroupID)
		Expect(ok).To(BeTrue())
		Expect(env.ByHand(otherApp.Secret).DeleteCorpTags(ctx, nil, []string{theirs.GroupID})).To(Succeed())

		By("a connection whose app has no customer-contact permission")
		m = env.Mark()
		noPerm := tagGroup(ns, "noperm", unique("NoPerm", ns), 0, ctag("a", 0))
		noPerm.Spec.ConnectionRef.Name = testenv.ContactsConnection
		env.Create(noPerm)
		Eventually(env.HasCondition(noPerm, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPermissionDenied, "48002")).Should(Succeed())
		Expect(testenv.Succeeded(env.CallsSince(m, corpTagWrites...))).To(BeEmpty())
		env.Remove(noPerm)
		Eventually(env.Gone(noPerm)).Should(Succeed())

		By("a rename to the name of another group")
		one := tagGroup(ns, "one", unique("One", ns), 0, ctag("a", 0))
		two := tagGroup(ns, "two", unique("Two", ns), 0, ctag("a", 0))
		env.Create(one, two)
		Eventually(expectGroup(one)).Should(Succeed())
		Eventually(expectGroup(two)).Should(Succeed())
		byHandName := unique("Taken", ns)
		_, err = env.ByHand(env.Creds.AppSecret).AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupName: byHandName, Tags: []wecom.NewCorpTag{{Name: "x"}}})
		Expect(err).NotTo(HaveOccurred())
		testenv.Change(env, two, func(g *v1.CustomerTagGroup) { g.Spec.Name = byHandName; g.Spec.Tags = []v1.CustomerTag{ctag("a", 0)} })
		// two's own group still exists under its id, so the rename is an edit that WeCom refuses.
		Eventually(env.HasCondition(two, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected, "40071")).Should(Succeed())
		Expect(two.Status.Drift).To(ContainElement(HaveField("Field", "name")))
	})

	It("honours managementPolicies: Observe alone makes and repairs nothing", func() {
		ns := newNamespace("ctgpol")
		absent := tagGroup(ns, "absent", unique("Absent", ns), 0, ctag("a", 0))
		absent.Spec.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve}
		m := env.Mark()
		env.Create(absent)
		Eventually(env.HasCondition(absent, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonNotInWeCom, "managementPolicies")).Should(Succeed())
		Expect(env.CallsSince(m, corpTagWrites...)).To(BeEmpty())

		name := unique("Watched", ns)
		made, err := env.ByHand(env.Creds.AppSecret).AddCorpTags(ctx, wecom.AddCorpTagRequest{GroupName: name, Order: 2, Tags: []wecom.NewCorpTag{{Name: "a"}}})
		Expect(err).NotTo(HaveOccurred())
		m = env.Mark()
		watched := tagGroup(ns, "watched", name, 2, ctag("a", 0), ctag("b", 0))
		watched.Spec.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve}
		env.Create(watched)
		Eventually(env.HasCondition(watched, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonDrifted, "tags")).Should(Succeed())
		Expect(watched.Status.GroupID).To(Equal(made.GroupID))
		drift, _ := json.Marshal(watched.Status.Drift)
		Expect(string(drift)).To(ContainSubstring(`"spec":"[a, b]"`))
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, corpTagWrites...) }, interval).Should(BeEmpty())

		By("deleting leaves WeCom alone without the Delete policy")
		env.Remove(watched)
		Eventually(env.Gone(watched)).Should(Succeed())
		_, ok := simGroup(made.GroupID)
		Expect(ok).To(BeTrue())
		Expect(env.ByHand(env.Creds.AppSecret).DeleteCorpTags(ctx, nil, []string{made.GroupID})).To(Succeed())
	})
})
