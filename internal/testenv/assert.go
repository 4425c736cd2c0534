package testenv

import (
	"net/http"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/gomega" //nolint:staticcheck // the assertions read like the suites that use them
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Assertions the envtest suites share, for Gomega's Eventually: each returns a func(Gomega)
// that reads the object again and checks what a person would see.

// resourceStatus is the status every managed kind and WeComConnection share, or nil for an
// object without one.
func resourceStatus(obj client.Object) *v1.ResourceStatus {
	switch o := obj.(type) {
	case v1.Managed:
		return o.GetResourceStatus()
	case *v1.WeComConnection:
		return &o.Status.ResourceStatus
	}
	return nil
}

// Ready passes when obj (a managed kind or a WeComConnection) is Ready and Synced for its
// current generation.
func (e *Env) Ready(obj client.Object) func(Gomega) {
	return func(g Gomega) {
		g.Expect(e.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		status := resourceStatus(obj)
		g.Expect(status).NotTo(BeNil(), "%T has no conditions", obj)
		for _, t := range []string{v1.ConditionReady, v1.ConditionSynced} {
			c := meta.FindStatusCondition(status.Conditions, t)
			g.Expect(c).NotTo(BeNil(), "%s has no %s condition", obj.GetName(), t)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s %s: %s %s", obj.GetName(), t, c.Reason, c.Message)
			g.Expect(c.ObservedGeneration).To(Equal(obj.GetGeneration()))
		}
		g.Expect(status.ObservedGeneration).To(Equal(obj.GetGeneration()))
	}
}

// HasCondition passes when obj's condition typ has status and reason, and its message
// contains every one of parts.
func (e *Env) HasCondition(obj client.Object, typ string, status metav1.ConditionStatus, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		g.Expect(e.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		rs := resourceStatus(obj)
		g.Expect(rs).NotTo(BeNil(), "%T has no conditions", obj)
		c := meta.FindStatusCondition(rs.Conditions, typ)
		g.Expect(c).NotTo(BeNil(), "%s has no %s condition", obj.GetName(), typ)
		g.Expect(c.Status).To(Equal(status), "%s %s: %s %s", obj.GetName(), typ, c.Reason, c.Message)
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		for _, p := range parts {
			g.Expect(c.Message).To(ContainSubstring(p))
		}
	}
}

// eventsAbout lists the events about obj (by name and kind).
func (e *Env) eventsAbout(obj client.Object) ([]eventsv1.Event, error) {
	gvk, err := apiutil.GVKForObject(obj, e.Scheme)
	if err != nil {
		return nil, err
	}
	list := &eventsv1.EventList{}
	if err := e.Client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, ev := range list.Items {
		if ev.Regarding.Name == obj.GetName() && ev.Regarding.Kind == gvk.Kind {
			out = append(out, ev)
		}
	}
	return out, nil
}

// HasEvent passes when obj has an event of type typ and reason whose notes contain every one
// of parts.
func (e *Env) HasEvent(obj client.Object, typ, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		evs, err := e.eventsAbout(obj)
		g.Expect(err).NotTo(HaveOccurred())
		var notes, seen []string
		for _, ev := range evs {
			seen = append(seen, ev.Reason)
			if ev.Type == typ && ev.Reason == reason {
				notes = append(notes, ev.Note)
			}
		}
		g.Expect(notes).NotTo(BeEmpty(), "%s: no %s event %s; events: %v", obj.GetName(), typ, reason, seen)
		for _, p := range parts {
			g.Expect(notes).To(ContainElement(ContainSubstring(p)))
		}
	}
}

// Events returns, for Eventually, the events about obj with reason (none when the list
// fails).
func (e *Env) Events(obj client.Object, reason string) func() []eventsv1.Event {
	return func() []eventsv1.Event {
		evs, err := e.eventsAbout(obj)
		if err != nil {
			return nil
		}
		var out []eventsv1.Event
		for _, ev := range evs {
			if ev.Reason == reason {
				out = append(out, ev)
			}
		}
		return out
	}
}

// Gone passes when obj no longer exists (its finalizer was dropped).
func (e *Env) Gone(obj client.Object) func(Gomega) {
	return func(g Gomega) {
		err := e.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s still exists", obj.GetName())
	}
}

// Mark returns the sequence number of the last call WeCom received, for CallsSince.
func (e *Env) Mark() int64 {
	calls := e.Sim.Calls()
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

// CallsSince returns the calls after mark to the given endpoints (all when none are given).
func (e *Env) CallsSince(mark int64, endpoints ...string) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range e.Sim.Calls() {
		if c.Seq <= mark {
			continue
		}
		if len(endpoints) == 0 || slices.Contains(endpoints, strings.TrimPrefix(c.Endpoint, "/cgi-bin/")) {
			out = append(out, c)
		}
	}
	return out
}

// CallsWith returns the calls to endpoint whose body or a query value mentions s.
func (e *Env) CallsWith(endpoint, s string) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range e.Sim.CallsTo(endpoint) {
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

// CountByEndpoint summarises calls as endpoint → count, for readable failures.
func CountByEndpoint(calls []wecomsim.Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		out[strings.TrimPrefix(c.Endpoint, "/cgi-bin/")]++
	}
	return out
}

// Succeeded keeps the calls WeCom answered with errcode 0.
func Succeeded(calls []wecomsim.Call) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range calls {
		if c.ErrCode == 0 && c.HTTPStatus == http.StatusOK {
			out = append(out, c)
		}
	}
	return out
}

// ByHand returns a WeCom client with an app's secret, standing for a person or another tool
// changing WeCom behind the operator's back (with its own token cache), one per secret.
func (e *Env) ByHand(secret string) *wecom.Client {
	e.handMu.Lock()
	defer e.handMu.Unlock()
	if c, ok := e.hand[secret]; ok {
		return c
	}
	c, err := wecom.New(wecom.Config{
		BaseURL:  e.Sim.URL,
		CorpID:   e.Creds.CorpID,
		Secret:   secret,
		Tokens:   wecom.NewTokenCache(wecom.TokenCacheOptions{}),
		Limiters: wecom.NewLimiters(wecom.LimitersOptions{}),
	})
	Expect(err).NotTo(HaveOccurred())
	if e.hand == nil {
		e.hand = map[string]*wecom.Client{}
	}
	e.hand[secret] = c
	return c
}

// handClients is ByHand's cache.
type handClients struct {
	handMu sync.Mutex
	hand   map[string]*wecom.Client
}
