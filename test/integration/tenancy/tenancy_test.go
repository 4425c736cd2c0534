package tenancy

import (
	"net/http"
	"net/http/httptest"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// listener is a server of the tenant's choosing; it records every request it receives.
type listener struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func newListener() *listener {
	l := &listener{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.requests = append(l.requests, r.URL.RequestURI())
		l.mu.Unlock()
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","access_token":"t","expires_in":7200}`))
	}))
	DeferCleanup(l.Close)
	return l
}

func (l *listener) received() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.requests...)
}

func namespace(prefix string) string {
	ns, err := env.NewNamespace(ctx, prefix)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return ns
}

// condition returns a func for Eventually that checks obj's Ready condition.
func condition(obj client.Object, status metav1.ConditionStatus, reason string, says ...string) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		var conds []metav1.Condition
		switch o := obj.(type) {
		case *v1.WeComConnection:
			conds = o.Status.Conditions
		case *v1.WeComDepartment:
			conds = o.Status.Conditions
		case *v1.Notification:
			conds = o.Status.Conditions
		}
		c := meta.FindStatusCondition(conds, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(status), "%s: %s", c.Reason, c.Message)
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		for _, s := range says {
			g.Expect(c.Message).To(ContainSubstring(s))
		}
	}
}

func robotNotification(ns, name string, secret v1.SecretKeySelector) *v1.Notification {
	return &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1.NotificationSpec{
		Robot:   &v1.RobotTarget{WebhookSecretRef: secret},
		Message: v1.Message{Text: &v1.TextMessage{Content: "hello from " + name}},
	}}
}

var _ = Describe("outbound URLs", func() {
	It("refuses a connection whose apiURL is not allowed, sends nothing there, and connects once it names an allowed one", func() {
		ns := namespace("url")
		l := newListener()
		Expect(env.Client.Create(ctx, testenv.Secret(ns, "stolen", map[string]string{"secret": env.Creds.AppSecret}))).To(Succeed())
		conn := env.Connection(ns, "exfil", 0)
		conn.Spec.SecretRef.Name = "stolen"
		conn.Spec.APIURL = l.URL
		Expect(env.Client.Create(ctx, conn)).To(Succeed())
		dept := &v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: ns}, Spec: v1.WeComDepartmentSpec{
			DeletableSpec: v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: "exfil"}}},
			Name:          "Exfil " + ns,
		}}
		Expect(env.Client.Create(ctx, dept)).To(Succeed())

		Eventually(condition(conn, metav1.ConditionFalse, v1.ReasonAPIURLNotAllowed,
			l.URL, "--allowed-api-urls", "allowedAPIURLs")).Should(Succeed())
		Eventually(condition(dept, metav1.ConditionFalse, v1.ReasonAPIURLNotAllowed)).Should(Succeed())
		Consistently(l.received).Should(BeEmpty(), "the operator sent requests to a URL that is not allowed")

		By("pointing the connection at the allowed simulator")
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
		conn.Spec.APIURL = env.Sim.URL
		Expect(env.Client.Update(ctx, conn)).To(Succeed())
		Eventually(condition(conn, metav1.ConditionTrue, v1.ReasonAvailable)).Should(Succeed())
		Expect(l.received()).To(BeEmpty())
	})

	It("holds a robot Notification whose webhook URL is not allowed, and sends nothing there", func() {
		ns := namespace("robot-url")
		l := newListener()
		Expect(env.Client.Create(ctx, testenv.Secret(ns, "hook", map[string]string{
			"url": l.URL + "/cgi-bin/webhook/send?key=" + wecomsim.DemoRobotKey}))).To(Succeed())
		n := robotNotification(ns, "to-listener", v1.SecretKeySelector{Name: "hook", Key: "url"})
		Expect(env.Client.Create(ctx, n)).To(Succeed())
		Eventually(condition(n, metav1.ConditionFalse, v1.ReasonAPIURLNotAllowed,
			`Secret "hook"`, "--allowed-api-urls")).Should(Succeed())
		Expect(n.Status.Conditions).NotTo(ContainElement(HaveField("Message", ContainSubstring(wecomsim.DemoRobotKey))))
		Consistently(l.received).Should(BeEmpty(), "the operator sent a robot key to a URL that is not allowed")
		Expect(n.Status.Attempts).To(BeZero())
	})
})

var _ = Describe("Secrets opt in with the label wecom.dev/use", func() {
	It("does not read a connection's Secret without the label, says how to label it, and connects once it is labelled", func() {
		ns := namespace("optin")
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "unlabelled", Namespace: ns},
			StringData: map[string]string{"secret": env.Creds.ContactsSecret}}
		Expect(env.Client.Create(ctx, s)).To(Succeed())
		conn := env.Connection(ns, "c", 0)
		conn.Spec.SecretRef.Name = "unlabelled"
		Expect(env.Client.Create(ctx, conn)).To(Succeed())
		Eventually(condition(conn, metav1.ConditionFalse, v1.ReasonSecretNotOptedIn,
			"kubectl label secret -n "+ns+" unlabelled wecom.dev/use=true")).Should(Succeed())
		Expect(conn.Status.SecretVersion).To(BeEmpty(), "the Secret was not used")

		By("labelling the Secret: the operator hears of it without a restart or a spec change")
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
		s.Labels = map[string]string{v1.SecretUseLabel: v1.SecretUseValue}
		Expect(env.Client.Update(ctx, s)).To(Succeed())
		Eventually(condition(conn, metav1.ConditionTrue, v1.ReasonAvailable)).Should(Succeed())

		By("removing the label again: the connection stops using the Secret")
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
		s.Labels = nil
		Expect(env.Client.Update(ctx, s)).To(Succeed())
		Eventually(condition(conn, metav1.ConditionFalse, v1.ReasonSecretNotOptedIn)).Should(Succeed())
	})

	It("does not send a robot Notification through a Secret without the label", func() {
		ns := namespace("robot-optin")
		Expect(env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: ns},
			StringData: map[string]string{"url": env.Sim.URL + "/cgi-bin/webhook/send?key=" + wecomsim.DemoRobotKey}})).To(Succeed())
		n := robotNotification(ns, "unlabelled-hook", v1.SecretKeySelector{Name: "hook", Key: "url"})
		Expect(env.Client.Create(ctx, n)).To(Succeed())
		Eventually(condition(n, metav1.ConditionFalse, v1.ReasonSecretNotOptedIn, `"hook"`, "wecom.dev/use=true")).Should(Succeed())
		Expect(n.Status.Attempts).To(BeZero())
	})
})
