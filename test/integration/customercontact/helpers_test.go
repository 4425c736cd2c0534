package customercontact

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// interval is the drift interval testenv gives the manager.
const interval = 3 * time.Second

// newNamespace makes a namespace with the "contacts" and "app" connections and registers its
// cleanup: every object is deleted and must really go.
func newNamespace(prefix string) string {
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cleanupNamespace, ns)
	return ns
}

func cleanupNamespace(ns string) {
	env.Sim.ClearFaults()
	for _, kind := range []struct {
		obj  client.Object
		list client.ObjectList
	}{
		{&v1.CustomerTagGroup{}, &v1.CustomerTagGroupList{}},
		{&v1.GroupWelcomeTemplate{}, &v1.GroupWelcomeTemplateList{}},
	} {
		Expect(env.Client.DeleteAllOf(ctx, kind.obj, client.InNamespace(ns))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.List(ctx, kind.list, client.InNamespace(ns))).To(Succeed())
			g.Expect(meta.LenList(kind.list)).To(BeZero())
		}, 60*time.Second).Should(Succeed(), "namespace %s: %T left after delete", ns, kind.obj)
	}
	Expect(env.Client.DeleteAllOf(ctx, &v1.WeComConnection{}, client.InNamespace(ns))).To(Succeed())
}

func create(objs ...client.Object) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(env.Client.Create(ctx, o)).To(Succeed())
	}
}

// change applies mutate to the latest version of obj and updates it, retrying conflicts.
func change[T client.Object](obj T, mutate func(T)) {
	GinkgoHelper()
	Eventually(func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return env.Client.Update(ctx, obj)
	}).Should(Succeed())
}

func remove(objs ...client.Object) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(client.IgnoreNotFound(env.Client.Delete(ctx, o))).To(Succeed())
	}
}

// unique makes a WeCom name unique in the shared simulator (≤30 characters).
func unique(name, ns string) string {
	s := fmt.Sprintf("%s %s", name, ns)
	if len([]rune(s)) > 30 {
		s = string([]rune(s)[:30])
	}
	return s
}

// The shared assertions of internal/testenv, bound to this suite's env and context.
func ready(obj v1.Managed) func(Gomega) { return env.Ready(ctx, obj) }
func hasCondition(obj v1.Managed, typ string, status metav1.ConditionStatus, reason string, parts ...string) func(Gomega) {
	return env.HasCondition(ctx, obj, typ, status, reason, parts...)
}
func hasEvent(obj client.Object, kind, typ, reason string, parts ...string) func(Gomega) {
	return env.HasEvent(ctx, obj, kind, typ, reason, parts...)
}
func gone(obj client.Object) func(Gomega) { return env.Gone(ctx, obj) }
func mark() int64                         { return env.Mark() }
func callsSince(m int64, endpoints ...string) []wecomsim.Call {
	return env.CallsSince(m, endpoints...)
}
func byHand(secret string) *wecom.Client { return env.ByHand(secret) }

var (
	countByEndpoint = testenv.CountByEndpoint
	succeeded       = testenv.Succeeded
)

func onApp(spec *v1.ManagedSpec) { spec.ConnectionRef.Name = testenv.AppConnection }

func ptr[T any](v T) *T { return &v }
