package apps

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const (
	timeout = 30 * time.Second
	// drift is the manager's drift interval in these tests (testenv's default).
	drift = 3 * time.Second
)

var idSeq atomic.Int64

// uniqueID returns an id no other test uses, for chatids.
func uniqueID(prefix string) string {
	return fmt.Sprintf("%s%d%d", prefix, time.Now().Unix()%100000, idSeq.Add(1))
}

// newNamespace makes a namespace with the connections "contacts" and "app", and waits until
// they are Ready (their becoming Ready would reconcile the objects of the test once more).
func newNamespace(prefix string) string {
	GinkgoHelper()
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	for _, name := range []string{testenv.ContactsConnection, testenv.AppConnection} {
		conn := &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(conn.Status.Conditions, v1.ConditionReady)).To(BeTrue())
		}, timeout).Should(Succeed())
	}
	return ns
}

func connRef(name string) v1.ConnectionReference { return v1.ConnectionReference{Name: name} }

var appConn = connRef(testenv.AppConnection)

func create(obj client.Object) {
	GinkgoHelper()
	Expect(env.Client.Create(ctx, obj)).To(Succeed())
}

func get(obj client.Object) {
	GinkgoHelper()
	Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
}

// change applies mutate to the latest version of obj, retrying on conflicts.
func change[T client.Object](obj T, mutate func(T)) {
	GinkgoHelper()
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return env.Client.Update(ctx, obj)
	})).To(Succeed())
}

// ready passes when the object's current generation is Ready and Synced.
func ready(obj v1.Managed) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		conds := obj.GetResourceStatus().Conditions
		r := meta.FindStatusCondition(conds, v1.ConditionReady)
		g.Expect(r).NotTo(BeNil())
		g.Expect(r.Status).To(Equal(metav1.ConditionTrue), r.Message)
		g.Expect(r.ObservedGeneration).To(Equal(obj.GetGeneration()))
		s := meta.FindStatusCondition(conds, v1.ConditionSynced)
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.Status).To(Equal(metav1.ConditionTrue), s.Message)
	}
}

// notSynced passes when Synced is False with reason and a message containing each of parts.
func notSynced(obj v1.Managed, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		s := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, v1.ConditionSynced)
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(s.Reason).To(Equal(reason), s.Message)
		g.Expect(s.ObservedGeneration).To(Equal(obj.GetGeneration()))
		for _, p := range parts {
			g.Expect(s.Message).To(ContainSubstring(p))
		}
	}
}

func condition(obj v1.Managed, typ string) *metav1.Condition {
	return meta.FindStatusCondition(obj.GetResourceStatus().Conditions, typ)
}

// deleteAndWait deletes obj and waits until its finalizer is gone.
func deleteAndWait(obj client.Object) {
	GinkgoHelper()
	Expect(client.IgnoreNotFound(env.Client.Delete(ctx, obj))).To(Succeed())
	Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}, timeout).Should(BeTrue(), "object still there")
}

// callsWith returns the logged calls to endpoint whose body or query mentions s.
func callsWith(endpoint, s string) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range env.Sim.CallsTo(endpoint) {
		if strings.Contains(c.Body, s) || queryHas(c, s) {
			out = append(out, c)
		}
	}
	return out
}

func queryHas(c wecomsim.Call, s string) bool {
	for _, v := range c.Query {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// bodies returns the bodies of calls.
func bodies(calls []wecomsim.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Body
	}
	return out
}

// steadyWrites checks that during d the operator makes no write mentioning s.
func steadyWrites(d time.Duration, s string, endpoints ...string) {
	GinkgoHelper()
	count := func() int {
		n := 0
		for _, e := range endpoints {
			n += len(callsWith(e, s))
		}
		return n
	}
	before := count()
	Consistently(count, d, 500*time.Millisecond).Should(Equal(before), "writes in a steady state")
}

// loseReplies makes WeCom apply the next n calls to endpoint and drop their replies (the
// client sees a broken connection), then behave normally again.
func loseReplies(endpoint string, n int) {
	var lost atomic.Int64
	hook := func(c wecomsim.Call) {
		if strings.HasSuffix(c.Endpoint, "/"+endpoint) && c.Fault == "lost_reply" && lost.Add(1) == int64(n) {
			env.Sim.ClearFaults()
			onCall.Store(nil)
		}
	}
	onCall.Store(&hook)
	env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{endpoint}, LostReplyRate: 1})
}

// events returns the Events about obj with reason.
func events(obj client.Object, reason string) func() []eventsv1.Event {
	return func() []eventsv1.Event {
		list := &eventsv1.EventList{}
		if err := env.Client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
			return nil
		}
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Name == obj.GetName() && e.Reason == reason {
				out = append(out, e)
			}
		}
		return out
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// report records a measured number in the test report.
func report(name string, value any) {
	AddReportEntry(name, value)
	fmt.Fprintf(GinkgoWriter, "%s: %v\n", name, value)
}

// lastSeq is the sequence number of the latest logged call.
func lastSeq() int64 {
	calls := env.Sim.Calls()
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

// callsAfter returns the calls to endpoint logged after seq.
func callsAfter(seq int64, endpoint string) []wecomsim.Call {
	return after(seq, env.Sim.CallsTo(endpoint))
}

// after returns the calls logged after seq.
func after(seq int64, calls []wecomsim.Call) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range calls {
		if c.Seq > seq {
			out = append(out, c)
		}
	}
	return out
}
