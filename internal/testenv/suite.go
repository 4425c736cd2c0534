package testenv

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:staticcheck // the helpers read like the suites that use them
	. "github.com/onsi/gomega"    //nolint:staticcheck // the helpers read like the suites that use them
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// What the ginkgo suites share beyond assertions: starting an Env, and changing objects the
// way a person would.

// ctx is the context of the suites' API calls; a test that must cancel one uses the Client.
var ctx = context.Background()

// StartSuite starts an Env from a suite's BeforeSuite, fails the suite when it does not
// start, stops it when the suite ends, and sets the Eventually and Consistently defaults the
// suites share: 30s polled every 100ms, and 2s.
func StartSuite(opts Options) *Env {
	GinkgoHelper()
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	SetDefaultConsistentlyDuration(2 * time.Second)
	e, err := Start(opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(e.Stop)
	return e
}

// Create creates objs.
func (e *Env) Create(objs ...client.Object) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(e.Client.Create(ctx, o)).To(Succeed())
	}
}

// Change applies mutate to the latest version of obj and updates it, retrying conflicts.
func Change[T client.Object](e *Env, obj T, mutate func(T)) {
	GinkgoHelper()
	Eventually(func() error {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return e.Client.Update(ctx, obj)
	}).Should(Succeed())
}

// Remove deletes objs; one already gone is fine.
func (e *Env) Remove(objs ...client.Object) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(client.IgnoreNotFound(e.Client.Delete(ctx, o))).To(Succeed())
	}
}

// DeleteAndWait deletes obj and waits until it is gone.
func (e *Env) DeleteAndWait(obj client.Object) {
	GinkgoHelper()
	e.Remove(obj)
	Eventually(e.Gone(obj)).Should(Succeed())
}

// DeleteAll deletes the objects of each list's kind in ns, one kind after the other, and
// waits until each kind is really gone (its finalizers released) before the next.
func (e *Env) DeleteAll(ns string, lists ...client.ObjectList) {
	GinkgoHelper()
	for _, list := range lists {
		gvk, err := apiutil.GVKForObject(list, e.Scheme)
		Expect(err).NotTo(HaveOccurred())
		obj, err := e.Scheme.New(gvk.GroupVersion().WithKind(strings.TrimSuffix(gvk.Kind, "List")))
		Expect(err).NotTo(HaveOccurred())
		Expect(e.Client.DeleteAllOf(ctx, obj.(client.Object), client.InNamespace(ns))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(e.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			g.Expect(meta.LenList(list)).To(BeZero())
		}, 60*time.Second).Should(Succeed(), "namespace %s: %s left after delete", ns, gvk.Kind)
	}
}

// WaitConnections waits until the WeComConnections names of ns are Ready (their becoming
// Ready would otherwise reconcile a spec's objects once more, in the middle of it).
func (e *Env) WaitConnections(ns string, names ...string) {
	GinkgoHelper()
	for _, name := range names {
		conn := &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		Eventually(func(g Gomega) {
			g.Expect(e.Client.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(conn.Status.Conditions, v1.ConditionReady)).To(BeTrue())
		}).Should(Succeed())
	}
}

// LoseReplies makes WeCom apply the next n calls to endpoint and drop their replies (the
// client sees a broken connection), then behave normally again. The faults end with the
// spec at the latest.
func (e *Env) LoseReplies(endpoint string, n int) {
	var lost atomic.Int64
	hook := func(c wecomsim.Call) {
		if strings.HasSuffix(c.Endpoint, "/"+endpoint) && c.Fault == "lost_reply" && lost.Add(1) == int64(n) {
			e.Sim.ClearFaults()
			e.onCall.Store(nil)
		}
	}
	e.onCall.Store(&hook)
	e.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{endpoint}, LostReplyRate: 1})
	DeferCleanup(func() {
		e.Sim.ClearFaults()
		e.onCall.Store(nil)
	})
}

// Unique makes a WeCom name unique in a simulator the specs share, cut to limit characters.
func Unique(name, ns string, limit int) string {
	r := []rune(name + " " + ns)
	return string(r[:min(len(r), limit)])
}
