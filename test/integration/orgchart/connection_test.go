package orgchart

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// A connection of its own, "corp", using the Secret "corp-secret".
func corpConnection(ns string) *v1.WeComConnection {
	c := env.Connection(ns, "corp", 0)
	c.Spec.SecretRef.Name = "corp-secret"
	return c
}

func secretWith(ns, name, value string) *corev1.Secret {
	rememberSecret(value)
	return testenv.Secret(ns, name, map[string]string{"secret": value})
}

func onCorp[T interface {
	*v1.WeComDepartment | *v1.WeComUser
}](obj T) T {
	switch o := any(obj).(type) {
	case *v1.WeComDepartment:
		o.Spec.ConnectionRef.Name = "corp"
	case *v1.WeComUser:
		o.Spec.ConnectionRef.Name = "corp"
	}
	return obj
}

var _ = Describe("WeComConnection", func() {
	It("is Ready with the right secret, and says so in an event", func() {
		ns := newNamespace("conn")
		conn := connection(ns, "contacts")
		Eventually(env.Ready(conn)).Should(Succeed())
		Expect(conn.Status.SecretVersion).NotTo(BeEmpty())
		Expect(conn.Status.LastCheckedTime).NotTo(BeNil())
		Eventually(env.HasEvent(conn, corev1.EventTypeNormal, controller.EventCredentialsAccepted)).Should(Succeed())
	})

	It("refuses a wrong secret with 40001 and a hint, holds its dependants, and recovers when the Secret is rotated", func() {
		ns := newNamespace("badsecret")
		wrong := "WrongSecret" + randSuffix() + "0000000000000000000000000000"
		env.Create(secretWith(ns, "corp-secret", wrong), corpConnection(ns))
		conn := connection(ns, "corp")
		Eventually(env.HasCondition(conn, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonCredentialsInvalid,
			"errcode 40001", "copy the app's current Secret")).Should(Succeed())
		Eventually(env.HasEvent(conn, corev1.EventTypeWarning, controller.EventCredentialsRefused, "40001")).Should(Succeed())

		By("dependants wait for the connection instead of failing on their own")
		dept := onCorp(department(ns, "d", unique("Held", ns)))
		member := onCorp(user(ns, "u", "held-"+ns, "Held"))
		m := env.Mark()
		env.Create(dept, member)
		for _, obj := range []v1.Managed{dept, member} {
			Eventually(env.HasCondition(obj, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonConnectionNotReady,
				`WeComConnection "corp" is not ready`, "40001")).Should(Succeed())
			Eventually(env.HasCondition(obj, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonConnectionNotReady)).Should(Succeed())
		}
		Expect(env.CallsSince(m, writeEndpoints...)).To(BeEmpty())
		Expect(simDeptsNamed(dept.Spec.Name)).To(BeEmpty())

		By("rotating the Secret to the right value: no restart needed")
		testenv.Change(env, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "corp-secret", Namespace: ns}}, func(s *corev1.Secret) {
			s.Data = map[string][]byte{"secret": []byte(env.Creds.ContactsSecret)}
		})
		Eventually(env.Ready(conn)).Should(Succeed())
		Eventually(env.Ready(dept)).Should(Succeed())
		Eventually(env.Ready(member)).Should(Succeed())
		Expect(simDeptsNamed(dept.Spec.Name)).To(HaveLen(1))
		_, ok := simUser(member.Spec.UserID)
		Expect(ok).To(BeTrue())
	})

	It("refuses a wrong corp ID with 40013 and a hint, and recovers when it is fixed", func() {
		ns := newNamespace("badcorp")
		env.Create(secretWith(ns, "corp-secret", env.Creds.ContactsSecret))
		c := corpConnection(ns)
		c.Spec.CorpID = "wwWrongCorp" + randSuffix()
		env.Create(c)
		conn := connection(ns, "corp")
		Eventually(env.HasCondition(conn, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonCredentialsInvalid,
			"errcode 40013", "corp ID is wrong")).Should(Succeed())
		dept := onCorp(department(ns, "d", unique("Corp", ns)))
		env.Create(dept)
		Eventually(env.HasCondition(dept, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonConnectionNotReady, "40013")).Should(Succeed())

		testenv.Change(env, conn, func(c *v1.WeComConnection) { c.Spec.CorpID = env.Creds.CorpID })
		Eventually(env.Ready(conn)).Should(Succeed())
		Eventually(env.Ready(dept)).Should(Succeed())
	})

	It("reports a missing Secret, or a missing key, and becomes Ready once it is there", func() {
		ns := newNamespace("nosecret")
		env.Create(corpConnection(ns))
		conn := connection(ns, "corp")
		Eventually(env.HasCondition(conn, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonSecretNotFound,
			`Secret "corp-secret" not found`)).Should(Succeed())
		dept := onCorp(department(ns, "d", unique("NoSecret", ns)))
		env.Create(dept)
		Eventually(env.HasCondition(dept, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonSecretNotFound)).Should(Succeed())

		By("a Secret without the key")
		s := secretWith(ns, "corp-secret", env.Creds.ContactsSecret)
		s.StringData = map[string]string{"other": "x"}
		env.Create(s)
		Eventually(env.HasCondition(conn, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonSecretNotFound,
			`has no key "secret"`)).Should(Succeed())

		By("the key is added")
		testenv.Change(env, s, func(s *corev1.Secret) {
			s.StringData = nil
			s.Data["secret"] = []byte(env.Creds.ContactsSecret)
		})
		Eventually(env.Ready(conn)).Should(Succeed())
		Eventually(env.Ready(dept)).Should(Succeed())
	})

	It("shows an untrusted egress IP (60020) on the connection and its dependants with the hint, though gettoken does not check it", func() {
		ns := newNamespace("untrusted")
		secret := "UntrustedContactsSecret" + randSuffix() + "000000000000000000"
		app := wecomsim.App{Name: "contacts-" + ns, Secret: secret, ContactsSync: true, VisibleRoot: true, TrustedIPs: []string{"192.0.2.1"}}
		Expect(env.Sim.Seed(wecomsim.Seed{Apps: []wecomsim.App{app}})).To(Succeed())
		env.Create(secretWith(ns, "corp-secret", secret), corpConnection(ns))
		// The token is issued, but the connection's probe call is refused: Ready=False there too.
		Eventually(env.HasCondition(connection(ns, "corp"), v1.ConditionReady, metav1.ConditionFalse, v1.ReasonUntrustedIP,
			"errcode 60020", "add the operator's egress IP to the app's trusted IPs")).Should(Succeed())

		dept := onCorp(department(ns, "d", unique("Untrusted", ns)))
		env.Create(dept)
		Eventually(env.HasCondition(dept, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonCredentialsInvalid,
			"errcode 60020", "add the operator's egress IP to the app's trusted IPs")).Should(Succeed())
		Expect(simDeptsNamed(dept.Spec.Name)).To(BeEmpty())

		By("the IP is trusted: the next retry, at the drift interval, succeeds")
		app.TrustedIPs = []string{"127.0.0.1", "::1"}
		Expect(env.Sim.Seed(wecomsim.Seed{Apps: []wecomsim.App{app}})).To(Succeed())
		Eventually(env.Ready(dept), 4*interval).Should(Succeed())
		Eventually(env.Ready(connection(ns, "corp")), 4*interval).Should(Succeed())
	})

	It("refuses the self-built app's secret for the org chart with 48002 and PermissionDenied, without retrying in a loop", func() {
		ns := newNamespace("noperm")
		dept := department(ns, "d", unique("NoPerm", ns))
		dept.Spec.ConnectionRef.Name = testenv.AppConnection
		member := user(ns, "u", "noperm-"+ns, "No Permission")
		member.Spec.ConnectionRef.Name = testenv.AppConnection
		env.Create(dept, member)
		for _, obj := range []v1.Managed{dept, member} {
			Eventually(env.HasCondition(obj, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonPermissionDenied,
				"errcode 48002", "use the contacts-sync (通讯录同步) secret")).Should(Succeed())
			Eventually(env.HasCondition(obj, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPermissionDenied)).Should(Succeed())
		}
		Eventually(env.HasEvent(dept, corev1.EventTypeWarning, controller.EventCreateFailed, "48002")).Should(Succeed())

		m := env.Mark()
		start := time.Now()
		Consistently(func() int { return len(env.CallsSince(m, "department/create", "user/list_id")) }, 2*interval).
			Should(BeNumerically("<=", 2*int(2*interval/(interval*9/10))), "retried only at the drift interval")
		AddReportEntry("calls of two refused objects in "+time.Since(start).Round(time.Second).String(), testenv.CountByEndpoint(env.CallsSince(m)))

		// Left in place, the two would try their create again at every drift interval, in the
		// middle of other specs that count the writes WeCom receives.
		env.Remove(dept, member)
		Eventually(env.Gone(dept)).Should(Succeed())
		Eventually(env.Gone(member)).Should(Succeed())
	})

	It("refuses a reference to a connection in another namespace", func() {
		other := newNamespace("owner")
		ns := newNamespace("borrower")
		shared := env.Connection(other, "shared", 0)
		shared.Spec.SecretRef.Name = "contacts"
		env.Create(shared)
		Eventually(env.Ready(connection(other, "shared"))).Should(Succeed())

		m := env.Mark()
		dept := department(ns, "d", unique("Borrowed", ns))
		dept.Spec.ConnectionRef.Name = "shared"
		env.Create(dept)
		Eventually(env.HasCondition(dept, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonConnectionNotReady,
			`WeComConnection "shared" not found in namespace "`+ns+`"`)).Should(Succeed())
		Consistently(env.HasCondition(dept, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonConnectionNotReady)).Should(Succeed())
		Expect(dept.Status.ID).To(BeZero())
		Expect(env.CallsSince(m, writeEndpoints...)).To(BeEmpty())
		Expect(simDeptsNamed(dept.Spec.Name)).To(BeEmpty())
	})
})
