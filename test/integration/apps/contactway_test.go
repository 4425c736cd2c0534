package apps

import (
	"fmt"
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

func newWay(ns, name string, spec v1.ContactWaySpec) *v1.ContactWay {
	if spec.ConnectionRef.Name == "" {
		spec.ConnectionRef = appConn
	}
	return &v1.ContactWay{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
}

// simWays returns the ways WeCom holds with state.
func simWays(state string) []wecomsim.ContactWay {
	var out []wecomsim.ContactWay
	for _, w := range env.Sim.State().ContactWays {
		if w.State == state {
			out = append(out, w)
		}
	}
	return out
}

func simWay(configID string) (wecomsim.ContactWay, bool) {
	for _, w := range env.Sim.State().ContactWays {
		if w.ConfigID == configID {
			return w, true
		}
	}
	return wecomsim.ContactWay{}, false
}

// wayIs passes when WeCom's way configID satisfies check.
func wayIs(configID string, check func(Gomega, wecomsim.ContactWay)) func(Gomega) {
	return func(g Gomega) {
		w, ok := simWay(configID)
		g.Expect(ok).To(BeTrue(), "way %s in WeCom", configID)
		check(g, w)
	}
}

var _ = Describe("ContactWay", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace("way") })

	It("creates a QR code way with config_id and qr_code in status, updates each field, and deletes it", func() {
		way := newWay(ns, "qr", v1.ContactWaySpec{Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode,
			Remark: "Website", Users: []string{"lisi"}})
		start := env.Mark()
		env.Create(way)
		Eventually(env.Ready(way), timeout).Should(Succeed())
		st := way.Status
		Expect(env.CallsSince(start, "externalcontact/add_contact_way")).To(HaveLen(1))
		Expect(env.CallsSince(start, "externalcontact/get_contact_way")).To(BeEmpty())
		Expect(env.CallsSince(start, "externalcontact/list_contact_way")).To(BeEmpty())
		report("WeCom calls to create a contact way", 1)
		Expect(st.ConfigID).NotTo(BeEmpty())
		Expect(st.QRCode).To(HavePrefix("https://"))
		Expect(st.State).To(MatchRegexp(`^k8s-[0-9a-f]{20}$`), "a state the operator chose")
		Expect(st.PendingCreateTime).To(BeNil())
		wayIs(st.ConfigID, func(g Gomega, w wecomsim.ContactWay) {
			g.Expect(w.QRCode).To(Equal(st.QRCode))
			g.Expect(w.State).To(Equal(st.State))
			g.Expect(w.Users).To(Equal([]string{"lisi"}))
			g.Expect(w.Remark).To(Equal("Website"))
			g.Expect(w.SkipVerify).To(BeTrue())
		})(Default)
		Expect(bodies(env.CallsWith("externalcontact/add_contact_way", st.State))).To(HaveExactElements(MatchJSON(fmt.Sprintf(
			`{"type":1,"scene":2,"remark":"Website","skip_verify":true,"state":%q,"user":["lisi"]}`, st.State))))

		steps := []struct {
			what   string
			mutate func(*v1.ContactWaySpec)
			check  func(Gomega, wecomsim.ContactWay)
		}{
			{"remark", func(s *v1.ContactWaySpec) { s.Remark = "Trade fair" },
				func(g Gomega, w wecomsim.ContactWay) { g.Expect(w.Remark).To(Equal("Trade fair")) }},
			{"skipVerify", func(s *v1.ContactWaySpec) { s.SkipVerify = ptr.To(false) },
				func(g Gomega, w wecomsim.ContactWay) { g.Expect(w.SkipVerify).To(BeFalse()) }},
			{"state", func(s *v1.ContactWaySpec) { s.State = "fair-2026" },
				func(g Gomega, w wecomsim.ContactWay) { g.Expect(w.State).To(Equal("fair-2026")) }},
			{"users", func(s *v1.ContactWaySpec) { s.Users = []string{"zhangsan"} },
				func(g Gomega, w wecomsim.ContactWay) { g.Expect(w.Users).To(Equal([]string{"zhangsan"})) }},
			{"exclusive", func(s *v1.ContactWaySpec) { s.Exclusive = true },
				func(g Gomega, w wecomsim.ContactWay) { g.Expect(w.IsExclusive).To(BeTrue()) }},
		}
		for _, step := range steps {
			By("changing " + step.what)
			before := len(env.CallsWith("externalcontact/update_contact_way", st.ConfigID))
			testenv.Change(env, way, func(w *v1.ContactWay) { step.mutate(&w.Spec) })
			Eventually(env.Ready(way), timeout).Should(Succeed())
			Eventually(wayIs(st.ConfigID, step.check), timeout).Should(Succeed())
			Expect(env.CallsWith("externalcontact/update_contact_way", st.ConfigID)).To(HaveLen(before+1), step.what)
		}
		last := env.CallsWith("externalcontact/update_contact_way", st.ConfigID)
		Expect(last[len(last)-1].Body).To(MatchJSON(fmt.Sprintf(
			`{"config_id":%q,"remark":"Trade fair","skip_verify":false,"state":"fair-2026","user":["zhangsan"],"is_exclusive":true}`, st.ConfigID)),
			"every managed field is sent")
		Expect(way.Status.State).To(Equal("fair-2026"))
		Expect(way.Status.ConfigID).To(Equal(st.ConfigID))

		By("making no writes while nothing changes")
		quiet := env.Mark()
		steadyWrites(2*drift, st.ConfigID, "externalcontact/update_contact_way", "externalcontact/del_contact_way")
		report("get_contact_way per way over two drift intervals (deep interval = drift interval in tests)",
			len(after(quiet, env.CallsWith("externalcontact/get_contact_way", st.ConfigID))))
		report("list_contact_way per connection over two drift intervals", len(env.CallsSince(quiet, "externalcontact/list_contact_way")))

		By("deleting it from WeCom")
		start = env.Mark()
		env.DeleteAndWait(way)
		report("WeCom calls to delete a contact way", len(env.CallsSince(start, "externalcontact/del_contact_way"))+
			len(env.CallsSince(start, "externalcontact/get_contact_way")))
		_, ok := simWay(st.ConfigID)
		Expect(ok).To(BeFalse())
		Expect(bodies(env.CallsWith("externalcontact/del_contact_way", st.ConfigID))).To(HaveExactElements(
			MatchJSON(fmt.Sprintf(`{"config_id":%q}`, st.ConfigID))))
	})

	It("updates a mini-program way shared by members and departments", func() {
		way := newWay(ns, "button", v1.ContactWaySpec{Type: v1.ContactWayMulti, Scene: v1.ContactWayMiniProgram,
			Style: ptr.To[int32](1), Users: []string{"lisi"}, Parties: []int64{3}})
		env.Create(way)
		Eventually(env.Ready(way), timeout).Should(Succeed())
		id := way.Status.ConfigID
		Expect(way.Status.QRCode).To(BeEmpty(), "mini-program ways have no QR code")
		Expect(bodies(env.CallsWith("externalcontact/add_contact_way", way.Status.State))).To(HaveExactElements(MatchJSON(fmt.Sprintf(
			`{"type":2,"scene":1,"style":1,"skip_verify":true,"state":%q,"user":["lisi"],"party":[3]}`, way.Status.State))))

		testenv.Change(env, way, func(w *v1.ContactWay) {
			w.Spec.Style, w.Spec.Users, w.Spec.Parties = ptr.To[int32](2), []string{"zhangsan", "zhaoliu"}, []int64{4}
		})
		Eventually(env.Ready(way), timeout).Should(Succeed())
		Eventually(wayIs(id, func(g Gomega, w wecomsim.ContactWay) {
			g.Expect(w.Style).To(Equal(2))
			g.Expect(w.Users).To(ConsistOf("zhangsan", "zhaoliu"))
			g.Expect(w.Parties).To(Equal([]int64{4}))
		}), timeout).Should(Succeed())

		By("clearing the users, leaving a department")
		testenv.Change(env, way, func(w *v1.ContactWay) { w.Spec.Users = nil })
		Eventually(env.Ready(way), timeout).Should(Succeed())
		Eventually(wayIs(id, func(g Gomega, w wecomsim.ContactWay) { g.Expect(w.Users).To(BeEmpty()) }), timeout).Should(Succeed())
		env.DeleteAndWait(way)
	})

	It("leaves the way in WeCom with deletionPolicy Orphan", func() {
		way := newWay(ns, "keep", v1.ContactWaySpec{Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode, Users: []string{"wangwu"}})
		way.Spec.DeletionPolicy = v1.DeletionOrphan
		env.Create(way)
		Eventually(env.Ready(way), timeout).Should(Succeed())
		id := way.Status.ConfigID
		env.DeleteAndWait(way)
		_, ok := simWay(id)
		Expect(ok).To(BeTrue())
		Expect(env.CallsWith("externalcontact/del_contact_way", id)).To(BeEmpty())
		Eventually(env.Events(way, controller.EventOrphaned), timeout).ShouldNot(BeEmpty())
	})

	It("puts back a way changed or deleted in WeCom by hand", func() {
		way := newWay(ns, "drift", v1.ContactWaySpec{Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode,
			Remark: "Drift", Users: []string{"lisi"}})
		env.Create(way)
		Eventually(env.Ready(way), timeout).Should(Succeed())
		id := way.Status.ConfigID

		By("repairing fields")
		Expect(hand.UpdateContactWay(ctx, wecom.UpdateContactWayRequest{ConfigID: id, Remark: ptr.To("Hacked"),
			User: []string{"zhaoliu"}, SkipVerify: ptr.To(false)})).To(Succeed())
		Eventually(wayIs(id, func(g Gomega, w wecomsim.ContactWay) {
			g.Expect(w.Remark).To(Equal("Drift"))
			g.Expect(w.Users).To(Equal([]string{"lisi"}))
			g.Expect(w.SkipVerify).To(BeTrue())
		}), timeout).Should(Succeed())

		By("making a deleted way again, with its new ids in status")
		Expect(hand.DeleteContactWay(ctx, id)).To(Succeed())
		Eventually(func(g Gomega) {
			get(way)
			g.Expect(way.Status.ConfigID).NotTo(BeEmpty())
			g.Expect(way.Status.ConfigID).NotTo(Equal(id))
		}, timeout).Should(Succeed())
		Eventually(env.Ready(way), timeout).Should(Succeed())
		w, ok := simWay(way.Status.ConfigID)
		Expect(ok).To(BeTrue())
		Expect(w.QRCode).To(Equal(way.Status.QRCode))
		Expect(simWays(way.Status.State)).To(HaveLen(1))
		env.DeleteAndWait(way)
	})

	It("waits for a member that is not in WeCom yet (60111), and makes the way once a WeComUser made the member", func() {
		userID := "later-" + ns
		way := newWay(ns, "later", v1.ContactWaySpec{Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode, Users: []string{userID}})
		env.Create(way)
		Eventually(notSynced(way, v1.ReasonDependencyNotReady, "errcode 60111", "spec.users"), timeout).Should(Succeed())
		Expect(condition(way, v1.ConditionReady).Reason).To(Equal(v1.ReasonDependencyNotReady))
		Expect(simWays(way.Status.State)).To(BeEmpty())

		By("the member's WeComUser, applied after the way")
		u := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "later"}}
		u.Spec.ConnectionRef = connRef(testenv.ContactsConnection)
		u.Spec.UserID, u.Spec.Name, u.Spec.Email = userID, "Later", userID+"@example.com"
		u.Spec.ToInvite = ptr.To(false)
		u.Spec.Departments = []v1.UserDepartment{{ID: ptr.To(int64(1))}}
		env.Create(u)
		Eventually(env.Ready(u), timeout).Should(Succeed())
		// The member's userid wakes the way: well before the 10s requeue of a wait.
		Eventually(env.Ready(way), 5*time.Second).Should(Succeed())
		adds := env.CallsWith("externalcontact/add_contact_way", way.Status.State)
		Expect(testenv.Succeeded(adds)).To(HaveLen(1), "one way made: %v", testenv.CountByEndpoint(adds))
		for _, a := range adds[:len(adds)-1] {
			Expect(a.ErrCode).To(Equal(60111))
		}
		Expect(simWays(way.Status.State)).To(HaveLen(1))
		Expect(condition(way, v1.ConditionReady).Reason).To(Equal(v1.ReasonAvailable))
		env.DeleteAndWait(way)
		env.DeleteAndWait(u)
	})

	It("reports WeCom's refusals as WeComRejected with the errcode and leaves nothing behind", func() {
		newbie := newWay(ns, "newbie", v1.ContactWaySpec{Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode, Users: []string{"newbie"}})
		env.Create(newbie)
		Eventually(notSynced(newbie, v1.ReasonWeComRejected, "errcode 41054", "not activated"), timeout).Should(Succeed())
		Expect(newbie.Status.PendingCreateTime).To(BeNil(), "a refused create made nothing to look for")
		Expect(simWays(newbie.Status.State)).To(BeEmpty())

		By("working once the member has logged in")
		Expect(env.Sim.SetUserActive("newbie", true)).To(Succeed())
		testenv.Change(env, newbie, func(w *v1.ContactWay) { w.Spec.Remark = "activated" })
		Eventually(env.Ready(newbie), timeout).Should(Succeed())
		Expect(simWays(newbie.Status.State)).To(HaveLen(1))
		env.DeleteAndWait(newbie)
	})

	It("leaves exactly one way when the reply of a create was lost", func() {
		start := env.Mark()
		env.LoseReplies("externalcontact/add_contact_way", 1)
		way := newWay(ns, "lost-once", v1.ContactWaySpec{Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode,
			Remark: "Lost once", Users: []string{"zhangsan"}})
		env.Create(way)
		Eventually(env.Ready(way), timeout).Should(Succeed())
		Eventually(func() []wecomsim.ContactWay { return simWays(way.Status.State) }, timeout).Should(HaveLen(1))
		Expect(simWays(way.Status.State)[0].ConfigID).To(Equal(way.Status.ConfigID))
		Expect(way.Status.QRCode).To(Equal(simWays(way.Status.State)[0].QRCode))
		adds := env.CallsWith("externalcontact/add_contact_way", way.Status.State)
		Expect(adds).To(HaveLen(1), "the client does not repeat a create WeCom cannot deduplicate")
		Expect(adds[0].Fault).To(Equal("lost_reply"))
		Expect(env.CallsSince(start, "externalcontact/del_contact_way")).To(BeEmpty(), "nothing to clean up")
		Eventually(env.Events(way, controller.EventRecovered), timeout).ShouldNot(BeEmpty(), "the way the lost reply made is found by its state and adopted")
		Eventually(func(g Gomega) {
			get(way)
			g.Expect(way.Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
			g.Expect(way.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, way.Status.ConfigID))
		}, timeout).Should(Succeed())
		env.DeleteAndWait(way)
		Expect(simWays(way.Status.State)).To(BeEmpty())
	})

	It("stops with CreateIncomplete when a temporary way's create reply was lost, and acts at once on a person's binding", func() {
		env.LoseReplies("externalcontact/add_contact_way", 1)
		way := newWay(ns, "lost-temp", v1.ContactWaySpec{Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode,
			Remark: "Temp lost " + ns, Users: []string{"zhangsan"}, Temporary: &v1.ContactWayTemporary{}})
		env.Create(way)
		Eventually(notSynced(way, v1.ReasonCreateIncomplete, "temporary", v1.AnnotationExternalName), timeout).Should(Succeed())
		Eventually(env.Events(way, controller.EventCreateIncomplete), timeout).ShouldNot(BeEmpty())
		var made []string
		for _, w := range env.Sim.State().ContactWays {
			if w.Remark == "Temp lost "+ns {
				made = append(made, w.ConfigID)
			}
		}
		Expect(made).To(HaveLen(1), "the lost create made one way")
		Expect(env.CallsWith("externalcontact/add_contact_way", "Temp lost "+ns)).To(HaveLen(1))

		By("a person binds the object to that way: the annotation alone wakes it, well before any requeue")
		testenv.Change(env, way, func(w *v1.ContactWay) { w.Annotations[v1.AnnotationExternalName] = made[0] })
		// CreateIncomplete is terminal (no requeue) and the cache never resyncs in a test, so
		// only a watch on the annotation can make it Ready; drift bounds how long that may take.
		Eventually(env.Ready(way), drift).Should(Succeed())
		Expect(way.Status.ConfigID).To(Equal(made[0]))
		Expect(way.Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
		Expect(env.CallsWith("externalcontact/add_contact_way", "Temp lost "+ns)).To(HaveLen(1), "nothing created twice")
		env.DeleteAndWait(way)
	})

	It("leaves exactly one way when every reply of a create was lost", func() {
		start := env.Mark()
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"externalcontact/add_contact_way"}, LostReplyRate: 1})
		DeferCleanup(env.Sim.ClearFaults)
		way := newWay(ns, "lost-all", v1.ContactWaySpec{Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode,
			Remark: "Lost", Users: []string{"lisi"}})
		env.Create(way)
		Eventually(env.Ready(way), timeout).Should(Succeed())
		env.Sim.ClearFaults()

		state := way.Status.State
		adds := env.CallsSince(start, "externalcontact/add_contact_way")
		report("add_contact_way attempts when every reply is lost", len(adds))
		Expect(adds).To(HaveLen(1), "one create: the next reconcile finds the way by its state instead of creating again")
		for _, a := range adds {
			Expect(a.Fault).To(Equal("lost_reply"))
		}
		ways := simWays(state)
		Expect(ways).To(HaveLen(1), "one way in WeCom")
		Expect(ways[0].ConfigID).To(Equal(way.Status.ConfigID))
		Expect(way.Status.QRCode).To(Equal(ways[0].QRCode))
		Expect(way.Status.PendingCreateTime).To(BeNil())
		Expect(env.CallsSince(start, "externalcontact/del_contact_way")).To(BeEmpty())
		Eventually(env.Events(way, controller.EventRecovered), timeout).ShouldNot(BeEmpty())

		By("steady afterwards: no further creates")
		steadyWrites(drift, state, "externalcontact/add_contact_way")
		env.DeleteAndWait(way)
	})
})
