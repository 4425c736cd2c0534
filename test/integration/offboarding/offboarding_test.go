package offboarding

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// newNamespace makes a namespace with the "contacts" and "app" connections; members it made
// are deleted (without handover) when the spec ends.
func newNamespace(prefix string) string {
	GinkgoHelper()
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		list := &v1.WeComUserList{}
		Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		for i := range list.Items {
			u := &list.Items[i]
			Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
					return client.IgnoreNotFound(err)
				}
				u.Spec.Offboarding = nil
				return env.Client.Update(ctx, u)
			})).To(Succeed())
		}
		Expect(env.Client.DeleteAllOf(ctx, &v1.WeComUser{}, client.InNamespace(ns))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(BeEmpty())
		}, 60*time.Second).Should(Succeed())
	})
	return ns
}

// seedMembers puts active members into WeCom, as people who already work there.
func seedMembers(ids ...string) {
	GinkgoHelper()
	var users []wecomsim.User
	for _, id := range ids {
		users = append(users, wecomsim.User{UserID: id, Name: id, Email: id + "@example.com", Department: []int64{1}})
	}
	Expect(env.Sim.Seed(wecomsim.Seed{Users: users})).To(Succeed())
}

// member returns a WeComUser for the seeded member id (adopted by its userid).
func member(ns, id string, mutate ...func(*v1.WeComUser)) *v1.WeComUser {
	u := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Name: id, Namespace: ns}}
	u.Spec.ConnectionRef.Name = testenv.ContactsConnection
	u.Spec.UserID, u.Spec.Name, u.Spec.Email = id, id, id+"@example.com"
	u.Spec.Departments = []v1.UserDepartment{{ID: ptr(int64(1))}}
	for _, m := range mutate {
		m(u)
	}
	return u
}

func handoverTo(to v1.UserReference) func(*v1.WeComUser) {
	return func(u *v1.WeComUser) {
		u.Spec.Offboarding = &v1.UserOffboarding{HandoverTo: to, SuccessMessage: "我的同事会继续为您服务",
			ConnectionRef: &v1.ConnectionReference{Name: testenv.AppConnection}}
	}
}

func ptr[T any](v T) *T { return &v }

// ready passes when obj is Ready; these specs do not wait for Synced.
func ready(obj v1.Managed) func(Gomega) {
	return env.HasCondition(obj, v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable)
}

func inWeCom(id string) bool {
	for _, u := range env.Sim.State().Users {
		if strings.EqualFold(u.UserID, id) {
			return true
		}
	}
	return false
}

// followers maps each of the customers to the member who follows it in WeCom.
func followers(ids ...string) map[string]string {
	out := map[string]string{}
	for _, e := range env.Sim.State().ExternalContacts {
		for _, id := range ids {
			if e.ExternalUserID == id {
				out[id] = e.UserID
			}
		}
	}
	return out
}

func chatOwners(ids ...string) map[string]string {
	out := map[string]string{}
	for _, c := range env.Sim.State().CustomerGroupChats {
		for _, id := range ids {
			if c.ChatID == id {
				out[id] = c.Owner
			}
		}
	}
	return out
}

var _ = Describe("Deleting a WeComUser with spec.offboarding", func() {
	It("hands every customer and customer group chat to the successor, and deletes the member only afterwards", func() {
		ns := newNamespace("offb")
		leaver, succ := "leaver-"+ns, "succ-"+ns
		seedMembers(leaver, succ)
		customers := []string{"wm1-" + ns, "wm2-" + ns, "wm3-" + ns}
		chats := []string{"wr1-" + ns, "wr2-" + ns}
		var ext []wecomsim.ExternalContact
		for _, c := range customers {
			ext = append(ext, wecomsim.ExternalContact{ExternalUserID: c, UserID: leaver})
		}
		Expect(env.Sim.Seed(wecomsim.Seed{ExternalContacts: ext, CustomerGroupChats: []wecomsim.CustomerGroupChat{
			{ChatID: chats[0], Name: "VIP", Owner: leaver}, {ChatID: chats[1], Name: "Trial", Owner: leaver},
		}})).To(Succeed())

		successor := member(ns, succ)
		u := member(ns, leaver, handoverTo(v1.UserReference{Ref: &v1.LocalObjectReference{Name: succ}}))
		Expect(env.Client.Create(ctx, successor)).To(Succeed())
		Expect(env.Client.Create(ctx, u)).To(Succeed())
		Eventually(ready(successor)).Should(Succeed())
		Eventually(ready(u)).Should(Succeed())

		Expect(env.Client.Delete(ctx, u)).To(Succeed())
		By("handing the chats over at once and the customers over with WeCom's 24-hour wait")
		Eventually(env.HasCondition(u, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonHandingOver, "3 waiting", succ)).Should(Succeed())
		Expect(u.Status.Offboarding).NotTo(BeNil())
		Expect(u.Status.Offboarding.Successor).To(Equal(succ))
		Expect(u.Status.Offboarding.Waiting).To(Equal(int32(3)))
		Expect(u.Status.Offboarding.GroupChats).To(ConsistOf(
			v1.GroupChatHandover{ChatID: chats[0], State: v1.HandoverTransferred},
			v1.GroupChatHandover{ChatID: chats[1], State: v1.HandoverTransferred}))
		Expect(chatOwners(chats...)).To(Equal(map[string]string{chats[0]: succ, chats[1]: succ}))
		Expect(followers(customers...)).To(HaveEach(leaver), "customers stay until WeCom completes the handover")
		Expect(inWeCom(leaver)).To(BeTrue())
		Expect(env.CallsWith("user/delete", leaver)).To(BeEmpty())

		By("polling without handing anything over twice")
		polls := len(env.CallsWith("externalcontact/transfer_result", leaver))
		Eventually(func() int { return len(env.CallsWith("externalcontact/transfer_result", leaver)) }, 15*time.Second).Should(BeNumerically(">", polls))
		Expect(env.CallsWith("externalcontact/transfer_customer", leaver)).To(HaveLen(1))
		Expect(env.CallsWith("externalcontact/groupchat/onjob_transfer", leaver)).To(BeEmpty())
		Expect(env.CallsWith("externalcontact/groupchat/onjob_transfer", succ)).To(HaveLen(1))
		Expect(inWeCom(leaver)).To(BeTrue())

		By("WeCom completing the handovers a day later")
		env.Sim.Advance(24*time.Hour + time.Minute)
		Eventually(func() bool {
			return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(u), u))
		}).Should(BeTrue())
		Expect(inWeCom(leaver)).To(BeFalse())
		Expect(followers(customers...)).To(Equal(map[string]string{customers[0]: succ, customers[1]: succ, customers[2]: succ}))
		Expect(chatOwners(chats...)).To(Equal(map[string]string{chats[0]: succ, chats[1]: succ}))

		By("the member deleted only after the last transfer_result said every customer is done")
		deletes := env.CallsWith("user/delete", leaver)
		Expect(deletes).To(HaveLen(1))
		results := env.CallsWith("externalcontact/transfer_result", leaver)
		last := results[len(results)-1]
		Expect(last.Seq).To(BeNumerically("<", deletes[0].Seq))
		Expect(last.Time).To(BeTemporally(">=", env.Sim.State().CustomerTransfers[0].TakeoverTime))
		for _, c := range env.CallsWith("externalcontact/transfer_customer", leaver) {
			Expect(c.Body).To(ContainSubstring("我的同事会继续为您服务"))
			Expect(c.Seq).To(BeNumerically("<", deletes[0].Seq))
		}
	})

	It("blocks the delete with a condition that says why when WeCom refuses the handover", func() {
		ns := newNamespace("offb-refused")
		leaver, newbie := "leaver-"+ns, "newbie-"+ns
		seedMembers(leaver)
		// A successor who never activated WeCom: WeCom refuses the handover (40098).
		Expect(env.Sim.Seed(wecomsim.Seed{
			Users:            []wecomsim.User{{UserID: newbie, Name: newbie, Email: newbie + "@example.com", Department: []int64{1}, Inactive: true}},
			ExternalContacts: []wecomsim.ExternalContact{{ExternalUserID: "wm-" + ns, UserID: leaver}},
		})).To(Succeed())
		u := member(ns, leaver, handoverTo(v1.UserReference{UserID: newbie}))
		Expect(env.Client.Create(ctx, u)).To(Succeed())
		Eventually(ready(u)).Should(Succeed())

		Expect(env.Client.Delete(ctx, u)).To(Succeed())
		Eventually(env.HasCondition(u, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDeleteBlocked, "40098", leaver, newbie, "not deleted, so that no customer is lost")).Should(Succeed())
		Eventually(env.HasCondition(u, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonHandoverRefused, "40098")).Should(Succeed())
		Consistently(func() bool { return inWeCom(leaver) }, 3*time.Second, 500*time.Millisecond).Should(BeTrue())
		Expect(env.CallsWith("user/delete", leaver)).To(BeEmpty())
		Expect(followers("wm-" + ns)).To(Equal(map[string]string{"wm-" + ns: leaver}))

		By("a person deciding to delete the member without a handover")
		Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
				return err
			}
			u.Spec.Offboarding = nil
			return env.Client.Update(ctx, u)
		})).To(Succeed())
		Eventually(func() bool { return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(u), u)) }, 60*time.Second).Should(BeTrue())
		Expect(inWeCom(leaver)).To(BeFalse())
	})

	It("blocks the delete when a customer refuses, naming the customer and the reason", func() {
		ns := newNamespace("offb-customer")
		leaver, succ := "leaver-"+ns, "succ-"+ns
		seedMembers(leaver, succ)
		Expect(env.Sim.Seed(wecomsim.Seed{ExternalContacts: []wecomsim.ExternalContact{
			{ExternalUserID: "wmok-" + ns, UserID: leaver},
			{ExternalUserID: "wmno-" + ns, UserID: leaver, TransferOutcome: wecomsim.TransferRefused},
		}})).To(Succeed())
		u := member(ns, leaver, handoverTo(v1.UserReference{UserID: succ}))
		Expect(env.Client.Create(ctx, u)).To(Succeed())
		Eventually(ready(u)).Should(Succeed())
		Expect(env.Client.Delete(ctx, u)).To(Succeed())
		Eventually(env.HasCondition(u, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonHandingOver, "2 waiting")).Should(Succeed())

		env.Sim.Advance(24*time.Hour + time.Minute)
		Eventually(env.HasCondition(u, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDeleteBlocked, "1 customers", "wmno-"+ns, "customer refused")).Should(Succeed())
		Expect(u.Status.Offboarding.Transferred).To(Equal(int32(1)))
		Expect(u.Status.Offboarding.Failed).To(Equal(int32(1)))
		first := u.Status.Offboarding.Customers[0]
		Expect(first.ExternalUserID).To(Equal("wmno-"+ns), "failed ones first")
		Expect(first.State).To(Equal(v1.HandoverFailed))
		Expect(first.Reason).To(ContainSubstring("transfer status 3"))
		Expect(inWeCom(leaver)).To(BeTrue())
		Expect(followers("wmok-"+ns, "wmno-"+ns)).To(Equal(map[string]string{"wmok-" + ns: succ, "wmno-" + ns: leaver}))
		Expect(env.CallsWith("externalcontact/transfer_customer", leaver)).To(HaveLen(1), "a refusal is not retried")
	})
})
