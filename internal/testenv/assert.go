package testenv

import (
	"context"
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

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Assertions the envtest suites share, for Gomega's Eventually: each returns a func(Gomega)
// that reads the object again and checks what a person would see.

// Ready passes when obj is Ready and Synced for its current generation.
func (e *Env) Ready(ctx context.Context, obj v1.Managed) func(Gomega) {
	return func(g Gomega) {
		g.Expect(e.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		for _, t := range []string{v1.ConditionReady, v1.ConditionSynced} {
			c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, t)
			g.Expect(c).NotTo(BeNil(), "%s has no %s condition", obj.GetName(), t)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s %s: %s %s", obj.GetName(), t, c.Reason, c.Message)
			g.Expect(c.ObservedGeneration).To(Equal(obj.GetGeneration()))
		}
	}
}

// HasCondition passes when obj's condition typ has status and reason, and its message
// contains every one of parts.
func (e *Env) HasCondition(ctx context.Context, obj v1.Managed, typ string, status metav1.ConditionStatus, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		g.Expect(e.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		c := meta.FindStatusCondition(obj.GetResourceStatus().Conditions, typ)
		g.Expect(c).NotTo(BeNil(), "%s has no %s condition", obj.GetName(), typ)
		g.Expect(c.Status).To(Equal(status), "%s %s: %s %s", obj.GetName(), typ, c.Reason, c.Message)
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		for _, p := range parts {
			g.Expect(c.Message).To(ContainSubstring(p))
		}
	}
}

// HasEvent passes when obj (of kind) has an event of type typ and reason whose notes contain
// every one of parts.
func (e *Env) HasEvent(ctx context.Context, obj client.Object, kind, typ, reason string, parts ...string) func(Gomega) {
	return func(g Gomega) {
		list := &eventsv1.EventList{}
		g.Expect(e.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
		var notes, seen []string
		for _, ev := range list.Items {
			if ev.Regarding.Name != obj.GetName() || ev.Regarding.Kind != kind {
				continue
			}
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

// Gone passes when obj no longer exists.
func (e *Env) Gone(ctx context.Context, obj client.Object) func(Gomega) {
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
