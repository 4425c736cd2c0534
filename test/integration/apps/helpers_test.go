package apps

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// they are Ready.
func newNamespace(prefix string) string {
	GinkgoHelper()
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	env.WaitConnections(ns, testenv.ContactsConnection, testenv.AppConnection)
	return ns
}

func connRef(name string) v1.ConnectionReference { return v1.ConnectionReference{Name: name} }

var appConn = connRef(testenv.AppConnection)

func get(obj client.Object) {
	GinkgoHelper()
	Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
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
			n += len(env.CallsWith(e, s))
		}
		return n
	}
	before := count()
	Consistently(count, d, 500*time.Millisecond).Should(Equal(before), "writes in a steady state")
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
