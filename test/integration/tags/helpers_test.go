package tags

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

// ---- namespaces and cleanup ----

// newNamespace makes a namespace with the "contacts" and "app" connections and registers its
// cleanup: every tag, member and department is deleted and must really go.
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
		{&v1.WeComTag{}, &v1.WeComTagList{}},
		{&v1.AlertReceiver{}, &v1.AlertReceiverList{}},
		{&v1.Notification{}, &v1.NotificationList{}},
		{&v1.WeComUser{}, &v1.WeComUserList{}},
		{&v1.WeComDepartment{}, &v1.WeComDepartmentList{}},
	} {
		Expect(env.Client.DeleteAllOf(ctx, kind.obj, client.InNamespace(ns))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.List(ctx, kind.list, client.InNamespace(ns))).To(Succeed())
			g.Expect(meta.LenList(kind.list)).To(BeZero())
		}, 60*time.Second).Should(Succeed(), "namespace %s: %T left after delete", ns, kind.obj)
	}
	Expect(env.Client.DeleteAllOf(ctx, &v1.WeComConnection{}, client.InNamespace(ns))).To(Succeed())
}

// ---- building objects ----

// tag returns a WeComTag of the contacts-sync connection named name in WeCom.
func tag(ns, name, display string, opts ...func(*v1.WeComTag)) *v1.WeComTag {
	t := &v1.WeComTag{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	t.Spec.ConnectionRef.Name = testenv.ContactsConnection
	t.Spec.Name = display
	for _, o := range opts {
		o(t)
	}
	return t
}

func withUsers(users ...v1.TagUser) func(*v1.WeComTag) {
	return func(t *v1.WeComTag) { t.Spec.Users = users }
}

func withDepartments(depts ...v1.TagDepartment) func(*v1.WeComTag) {
	return func(t *v1.WeComTag) { t.Spec.Departments = depts }
}

func onApp(t *v1.WeComTag) { t.Spec.ConnectionRef.Name = testenv.AppConnection }

func userRef(name string) v1.TagUser { return v1.TagUser{Ref: &v1.LocalObjectReference{Name: name}} }
func userID(id string) v1.TagUser    { return v1.TagUser{UserID: id} }
func deptRef(name string) v1.TagDepartment {
	return v1.TagDepartment{Ref: &v1.LocalObjectReference{Name: name}}
}
func deptID(id int64) v1.TagDepartment { return v1.TagDepartment{ID: &id} }

func department(ns, name, display string) *v1.WeComDepartment {
	d := &v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	d.Spec.ConnectionRef.Name = testenv.ContactsConnection
	d.Spec.Name = display
	return d
}

// member returns a WeComUser in the WeComDepartment dept (the root when dept is "").
func member(ns, name, userID, dept string) *v1.WeComUser {
	u := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	u.Spec.ConnectionRef.Name = testenv.ContactsConnection
	u.Spec.UserID, u.Spec.Name = userID, name
	u.Spec.Email = strings.ToLower(userID) + "@" + ns + ".example.com"
	u.Spec.ToInvite = ptr(false)
	if dept == "" {
		u.Spec.Departments = []v1.UserDepartment{{ID: ptr(int64(1))}}
	} else {
		u.Spec.Departments = []v1.UserDepartment{{Ref: &v1.LocalObjectReference{Name: dept}}}
	}
	return u
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

// unique makes a WeCom name unique in the shared simulator (≤32 characters).
func unique(name, ns string) string {
	s := fmt.Sprintf("%s %s", name, ns)
	if len(s) > 32 {
		s = s[:32]
	}
	return s
}

// ---- conditions and events ----

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
			if e.Regarding.Name != obj.GetName() || e.Regarding.Kind != "WeComTag" {
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

// ---- the simulator ----

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

// tagCalls returns the calls to tag/* after m.
func tagCalls(m int64) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range callsSince(m) {
		if strings.HasPrefix(c.Endpoint, "/cgi-bin/tag/") {
			out = append(out, c)
		}
	}
	return out
}

var tagWrites = []string{"tag/create", "tag/update", "tag/delete", "tag/addtagusers", "tag/deltagusers"}

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

func simTag(id int64) (wecomsim.Tag, bool) { return env.Sim.State().Tag(id) }

// simTagsNamed returns WeCom's tags named name.
func simTagsNamed(name string) []wecomsim.Tag {
	var out []wecomsim.Tag
	for _, t := range env.Sim.State().Tags {
		if t.Name == name {
			out = append(out, t)
		}
	}
	return out
}

// expectTag checks that obj is Ready and WeCom holds its tag with these members (userids in
// any order and case, department ids in any order).
func expectTag(obj *v1.WeComTag, name string, users []string, parties []int64) func(Gomega) {
	return func(g Gomega) {
		ready(obj)(g)
		got, ok := simTag(obj.Status.TagID)
		g.Expect(ok).To(BeTrue(), "tag %d is not in WeCom", obj.Status.TagID)
		g.Expect(got.Name).To(Equal(name))
		g.Expect(lower(got.Users)).To(ConsistOf(toAny(lower(users))...))
		g.Expect(got.Parties).To(ConsistOf(toAny(parties)...))
		g.Expect(obj.Status.MemberCount).To(Equal(int32(len(users) + len(parties))))
		g.Expect(obj.Status.InvalidUsers).To(BeEmpty())
		g.Expect(obj.Status.InvalidDepartments).To(BeEmpty())
	}
}

func lower(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

func toAny[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// byHand returns a WeCom client with the secret of a demo app, standing for a person or
// another tool changing WeCom behind the operator's back (with its own token cache).
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
