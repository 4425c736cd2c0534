package lifecycle

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

var _ = Describe("deleting a namespace", func() {
	It("deletes every object from WeCom although its connections and Secrets are deleted first, and then everything goes", func() {
		ns, err := env.NewNamespace(ctx, "nsdelete")
		Expect(err).NotTo(HaveOccurred())
		dept := &v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Name: "ops", Namespace: ns}}
		dept.Spec.ConnectionRef.Name = testenv.ContactsConnection
		dept.Spec.Name = "Ops " + ns
		user := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns}}
		user.Spec.ConnectionRef.Name = testenv.ContactsConnection
		user.Spec.UserID, user.Spec.Name = "alice-"+ns, "Alice"
		user.Spec.Email = "alice@" + ns + ".example.com"
		user.Spec.ToInvite = new(false)
		user.Spec.Departments = []v1.UserDepartment{{Ref: &v1.LocalObjectReference{Name: "ops"}}}
		// Deleting her hands her customers to zhangsan through the app connection, which she
		// therefore uses too.
		user.Spec.Offboarding = &v1.UserOffboarding{HandoverTo: v1.UserReference{UserID: "zhangsan"},
			ConnectionRef: &v1.ConnectionReference{Name: testenv.AppConnection}}
		tag := &v1.WeComTag{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: ns}}
		tag.Spec.ConnectionRef.Name = testenv.ContactsConnection
		tag.Spec.Name = "oncall-" + ns
		tag.Spec.Users = []v1.TagUser{{Ref: &v1.LocalObjectReference{Name: "alice"}}}
		users := []client.Object{dept, user, tag}
		for _, o := range users {
			Expect(env.Client.Create(ctx, o)).To(Succeed())
		}
		for _, o := range users {
			Eventually(ready(o)).Should(Succeed())
		}
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(dept), dept)).To(Succeed())
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(tag), tag)).To(Succeed())
		deptID, tagID, userID := dept.Status.ID, tag.Status.TagID, user.Spec.UserID
		_, found := env.Sim.State().Department(deptID)
		Expect(found).To(BeTrue())
		_, found = env.Sim.State().User(userID)
		Expect(found).To(BeTrue())

		conns := []client.Object{connection(ns, testenv.ContactsConnection), connection(ns, testenv.AppConnection)}
		for _, c := range conns {
			Eventually(func(g Gomega) {
				g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(c), c)).To(Succeed())
				g.Expect(c.GetFinalizers()).To(ContainElement(controller.InUseFinalizer))
			}).Should(Succeed())
		}

		By("deleting the namespace: the API server marks it Terminating and refuses anything new in it")
		Expect(env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Eventually(func(g Gomega) {
			n := &corev1.Namespace{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
			g.Expect(n.Status.Phase).To(Equal(corev1.NamespaceTerminating))
		}).Should(Succeed())
		Expect(env.Client.Create(ctx, testenv.Secret(ns, "late", map[string]string{"secret": "x"}))).
			To(MatchError(ContainSubstring("being terminated")))

		By("deleting as the namespace controller does: Secrets and connections (no finalizer of theirs holds anything), then the rest")
		for _, s := range []string{testenv.ContactsConnection, testenv.AppConnection} {
			Expect(env.Client.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s, Namespace: ns}})).To(Succeed())
		}
		for _, c := range conns {
			Expect(env.Client.Delete(ctx, c)).To(Succeed())
		}
		// Each connection waits for the objects that use it.
		contacts, app := connection(ns, testenv.ContactsConnection), connection(ns, testenv.AppConnection)
		inUse := func(conn *v1.WeComConnection, users int, names ...string) func(Gomega) {
			return func(g Gomega) {
				g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
				c := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionReady)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Reason).To(Equal(v1.ReasonInUse), c.Message)
				g.Expect(c.Message).To(ContainSubstring("the %d objects", users))
				for _, n := range names {
					g.Expect(c.Message).To(ContainSubstring(n))
				}
			}
		}
		Eventually(inUse(contacts, 3, "WeComUser/alice", "WeComDepartment/ops", "WeComTag/oncall")).Should(Succeed())
		Eventually(inUse(app, 1, "WeComUser/alice")).Should(Succeed())
		Consistently(func() error {
			return errors.Join(env.Client.Get(ctx, client.ObjectKeyFromObject(contacts), &v1.WeComConnection{}),
				env.Client.Get(ctx, client.ObjectKeyFromObject(app), &v1.WeComConnection{}))
		}, "2s").Should(Succeed(), "a connection went while objects still needed it")

		for _, o := range users {
			Expect(env.Client.Delete(ctx, o)).To(Succeed())
		}

		By("every object deleted from WeCom per its deletionPolicy (Delete), then gone, connection last")
		for _, o := range append(users, contacts, app) {
			Eventually(gone(o)).Should(Succeed())
		}
		state := env.Sim.State()
		_, found = state.Department(deptID)
		Expect(found).To(BeFalse(), "department %d left in WeCom", deptID)
		_, found = state.User(userID)
		Expect(found).To(BeFalse(), "user %s left in WeCom", userID)
		_, found = state.Tag(tagID)
		Expect(found).To(BeFalse(), "tag %d left in WeCom", tagID)
	})

	It("releases, after a bounded wait and with a condition that says so, an object whose Secret a restarted manager never read", func() {
		ns, err := env.NewNamespace(ctx, "nsrestart")
		Expect(err).NotTo(HaveOccurred())
		tag := &v1.WeComTag{ObjectMeta: metav1.ObjectMeta{Name: "left", Namespace: ns}}
		tag.Spec.ConnectionRef.Name = testenv.ContactsConnection
		tag.Spec.Name = "left-" + ns
		Expect(env.Client.Create(ctx, tag)).To(Succeed())
		Eventually(ready(tag)).Should(Succeed())

		By("the manager is down while the namespace is deleted and its Secret goes")
		env.StopManager()
		Expect(env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Expect(env.Client.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: testenv.ContactsConnection, Namespace: ns}})).To(Succeed())
		Expect(env.Client.Delete(ctx, tag)).To(Succeed())
		Expect(env.StartManager()).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(tag), tag)).To(Succeed())
			c := meta.FindStatusCondition(tag.Status.Conditions, v1.ConditionSynced)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(v1.ReasonSecretNotFound), c.Message)
			g.Expect(c.Message).To(ContainSubstring("in a namespace being deleted"))
		}).Should(Succeed())
		Eventually(gone(tag), 3*time.Minute).Should(Succeed())
		_, found := env.Sim.State().Tag(tag.Status.TagID)
		Expect(found).To(BeTrue(), "the tag was released, not deleted: WeCom keeps it")

		By("then its connection goes too")
		conn := connection(ns, testenv.ContactsConnection)
		Expect(env.Client.Delete(ctx, conn)).To(Succeed())
		Eventually(gone(conn)).Should(Succeed())
	})
})

func connection(ns, name string) *v1.WeComConnection {
	return &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
}

func gone(obj client.Object) func(Gomega) {
	return func(g Gomega) {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T %s still there (finalizers %v): %v", obj, obj.GetName(), obj.GetFinalizers(), err)
	}
}

func ready(obj client.Object) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		c := meta.FindStatusCondition(obj.(v1.Managed).GetResourceStatus().Conditions, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
	}
}
