package customercontact

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

func gone(obj client.Object) func(Gomega) {
	return func(g Gomega) {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s still exists", obj.GetName())
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

// ready passes when obj is Ready and Synced for its current generation.
func ready(obj v1.Managed) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		for _, t := range []string{v1.ConditionReady, v1.ConditionSynced} {
			c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, t)
			g.Expect(c).NotTo(BeNil(), "%s has no %s condition", obj.GetName(), t)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s %s: %s %s", obj.GetName(), t, c.Reason, c.Message)
			g.Expect(c.ObservedGeneration).To(Equal(obj.GetGeneration()))
		}
	}
}

// hasCondition passes when obj's condition typ has status and reason, and its message
// contains every one of parts.
func hasCondition(obj v1.Managed, typ string, status metav1.ConditionStatus, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, typ)
		g.Expect(c).NotTo(BeNil(), "%s has no %s condition", obj.GetName(), typ)
		g.Expect(c.Status).To(Equal(status), "%s %s: %s %s", obj.GetName(), typ, c.Reason, c.Message)
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		for _, p := range parts {
			g.Expect(c.Message).To(ContainSubstring(p))
		}
	}
}

// hasEvent passes when obj (of kind) has an event of type typ and reason whose note contains
// parts.
func hasEvent(obj client.Object, kind, typ, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		list := &eventsv1.EventList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
		var notes, seen []string
		for _, e := range list.Items {
			if e.Regarding.Name != obj.GetName() || e.Regarding.Kind != kind {
				continue
			}
			seen = append(seen, e.Reason)
			if e.Type == typ && e.Reason == reason {
				notes = append(notes, e.Note)
			}
		}
		g.Expect(notes).NotTo(BeEmpty(), "%s: no %s event %s; events: %v", obj.GetName(), typ, reason, seen)
		for _, p := range parts {
			g.Expect(notes).To(ContainElement(ContainSubstring(p)))
		}
	}
}

// mark returns the sequence number of the last call WeCom received.
func mark() int64 {
	calls := env.Sim.Calls()
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

// callsSince returns the calls after m to the given endpoints (all when none are given).
func callsSince(m int64, endpoints ...string) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range env.Sim.Calls() {
		if c.Seq <= m {
			continue
		}
		ep := strings.TrimPrefix(c.Endpoint, "/cgi-bin/")
		if len(endpoints) == 0 || slices.Contains(endpoints, ep) {
			out = append(out, c)
		}
	}
	return out
}

// countByEndpoint summarises calls as endpoint → count, for readable failures.
func countByEndpoint(calls []wecomsim.Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		out[strings.TrimPrefix(c.Endpoint, "/cgi-bin/")]++
	}
	return out
}

func succeeded(calls []wecomsim.Call) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range calls {
		if c.ErrCode == 0 && c.HTTPStatus == http.StatusOK {
			out = append(out, c)
		}
	}
	return out
}

// byHand returns a WeCom client with the secret of an app, standing for a person or another
// tool changing WeCom behind the operator's back (with its own token cache).
func byHand(secret string) *wecom.Client {
	handMu.Lock()
	defer handMu.Unlock()
	if c, ok := handClients[secret]; ok {
		return c
	}
	c, err := wecom.New(wecom.Config{
		BaseURL:  env.Sim.URL,
		CorpID:   env.Creds.CorpID,
		Secret:   secret,
		Tokens:   wecom.NewTokenCache(wecom.TokenCacheOptions{}),
		Limiters: wecom.NewLimiters(wecom.LimitersOptions{}),
	})
	Expect(err).NotTo(HaveOccurred())
	handClients[secret] = c
	return c
}

var (
	handMu      sync.Mutex
	handClients = map[string]*wecom.Client{}
)

func onApp(spec *v1.ManagedSpec) { spec.ConnectionRef.Name = testenv.AppConnection }

func ptr[T any](v T) *T { return &v }
