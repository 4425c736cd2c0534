package tags

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
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
	DeferCleanup(func() {
		env.Sim.ClearFaults()
		env.DeleteAll(ns, &v1.WeComTagList{}, &v1.AlertReceiverList{}, &v1.NotificationList{},
			&v1.WeComUserList{}, &v1.WeComDepartmentList{}, &v1.WeComConnectionList{})
	})
	return ns
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

// unique makes a WeCom name unique in the shared simulator (≤32 characters).
func unique(name, ns string) string { return testenv.Unique(name, ns, 32) }

// ---- the simulator ----

// tagCalls returns the calls to tag/* after m.
func tagCalls(m int64) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range env.CallsSince(m) {
		if strings.HasPrefix(c.Endpoint, "/cgi-bin/tag/") {
			out = append(out, c)
		}
	}
	return out
}

var tagWrites = []string{"tag/create", "tag/update", "tag/delete", "tag/addtagusers", "tag/deltagusers"}

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
		env.Ready(obj)(g)
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
