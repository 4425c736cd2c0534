package wecomapp

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
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
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// interval is the drift interval testenv gives the manager.
const interval = 3 * time.Second

// appWrites are the calls that change an app.
var appWrites = []string{"agent/set", "menu/create", "menu/delete"}

// baseline is the app's settings at the start of every spec.
var baseline = struct{ name, description, homeURL string }{"operator", "The operator's app", "https://operator.example.com/"}

// resetApp puts the app back to its baseline by hand (settings, no menu, any domain allowed)
// and clears the simulator's faults.
func resetApp() {
	GinkgoHelper()
	env.Sim.ClearFaults()
	id := env.Creds.AgentID
	flag := 0
	Expect(env.Sim.ConsoleSetAgent(id, wecomsim.AgentEdit{
		Name: &baseline.name, Description: &baseline.description, HomeURL: &baseline.homeURL,
		ReportLocationFlag: &flag, IsReportEnter: &flag,
	})).To(Succeed())
	Expect(env.Sim.ConsoleDeleteMenu(id)).To(Succeed())
	Expect(env.Sim.SetVerifiedDomains(id)).To(Succeed())
}

// newNamespace makes a namespace with the "contacts" and "app" connections; its WeComApps are
// deleted (and must go) when the spec ends.
func newNamespace(prefix string) string {
	GinkgoHelper()
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(env.Client.DeleteAllOf(ctx, &v1.WeComApp{}, client.InNamespace(ns))).To(Succeed())
		Eventually(func(g Gomega) {
			list := &v1.WeComAppList{}
			g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(BeEmpty())
		}, 60*time.Second).Should(Succeed())
		Expect(env.Client.DeleteAllOf(ctx, &v1.WeComConnection{}, client.InNamespace(ns))).To(Succeed())
	})
	return ns
}

// app returns a WeComApp of the "app" connection.
func app(ns, name string, opts ...func(*v1.WeComApp)) *v1.WeComApp {
	a := &v1.WeComApp{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	a.Spec.ConnectionRef.Name = testenv.AppConnection
	for _, o := range opts {
		o(a)
	}
	return a
}

func ptr[T any](v T) *T { return &v }

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

func remove(obj client.Object) {
	GinkgoHelper()
	Expect(client.IgnoreNotFound(env.Client.Delete(ctx, obj))).To(Succeed())
}

func gone(obj client.Object) func(Gomega) {
	return func(g Gomega) {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s still exists", obj.GetName())
	}
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

// hasEvent passes when obj has an event of type typ and reason whose note contains parts.
func hasEvent(obj client.Object, typ, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		list := &eventsv1.EventList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
		var notes, seen []string
		for _, e := range list.Items {
			if e.Regarding.Name != obj.GetName() || e.Regarding.Kind != "WeComApp" {
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

// bodyOf decodes a call's JSON body.
func bodyOf(c wecomsim.Call) map[string]any {
	GinkgoHelper()
	var m map[string]any
	Expect(json.Unmarshal([]byte(c.Body), &m)).To(Succeed(), c.Body)
	return m
}

// simApp returns the app's settings and menu as WeCom holds them.
func simApp() (wecomsim.AgentSettings, []wecomsim.MenuButton) {
	s, m, ok := env.Sim.Agent(env.Creds.AgentID)
	Expect(ok).To(BeTrue())
	return s, m
}
