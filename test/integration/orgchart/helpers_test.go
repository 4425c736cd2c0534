package orgchart

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// interval is the drift interval testenv gives the manager; deep checks run every interval.
const interval = 3 * time.Second

func randSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ---- namespaces and cleanup ----

// newNamespace makes a namespace with the "contacts" and "app" connections and registers its
// cleanup: every WeComUser and WeComDepartment is deleted (and must really go), the
// connections go too, faults are cleared, and no event or condition may show a secret.
func newNamespace(prefix string) string {
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cleanupNamespace, ns)
	Eventually(env.Ready(connection(ns, testenv.ContactsConnection))).Should(Succeed())
	return ns
}

func cleanupNamespace(ns string) {
	env.Sim.ClearFaults()
	env.Sim.SetDown(false)
	expectNoSecrets(ns)

	users := &v1.WeComUserList{}
	depts := &v1.WeComDepartmentList{}
	Expect(env.Client.List(ctx, users, client.InNamespace(ns))).To(Succeed())
	Expect(env.Client.List(ctx, depts, client.InNamespace(ns))).To(Succeed())
	// Objects that never reached WeCom (a test's broken connection) are released: deleting
	// them would wait for a connection that the test broke on purpose.
	for i := range users.Items {
		if u := &users.Items[i]; u.Status.UserID == "" {
			setPolicy(u, v1.DeletionOrphan)
		}
	}
	for i := range depts.Items {
		if d := &depts.Items[i]; d.Status.ID == 0 {
			setPolicy(d, v1.DeletionOrphan)
		}
	}
	Expect(env.Client.DeleteAllOf(ctx, &v1.WeComUser{}, client.InNamespace(ns))).To(Succeed())
	Expect(env.Client.DeleteAllOf(ctx, &v1.WeComDepartment{}, client.InNamespace(ns))).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(env.Client.List(ctx, users, client.InNamespace(ns))).To(Succeed())
		g.Expect(env.Client.List(ctx, depts, client.InNamespace(ns))).To(Succeed())
		g.Expect(names(users.Items)).To(BeEmpty())
		g.Expect(names(depts.Items)).To(BeEmpty())
	}, 60*time.Second).Should(Succeed(), "namespace %s: objects left after delete", ns)
	Expect(env.Client.DeleteAllOf(ctx, &v1.WeComConnection{}, client.InNamespace(ns))).To(Succeed())
}

func names[T any, P interface {
	*T
	client.Object
}](items []T) []string {
	var out []string
	for i := range items {
		out = append(out, P(&items[i]).GetName())
	}
	return out
}

func setPolicy(obj v1.Managed, p v1.DeletionPolicy) {
	Eventually(func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return client.IgnoreNotFound(err)
		}
		switch o := obj.(type) {
		case *v1.WeComUser:
			o.Spec.DeletionPolicy = p
		case *v1.WeComDepartment:
			o.Spec.DeletionPolicy = p
		}
		return env.Client.Update(ctx, obj)
	}).Should(Succeed())
}

// ---- building objects ----

func connection(ns, name string) *v1.WeComConnection {
	return &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
}

func department(ns, name, display string, opts ...func(*v1.WeComDepartment)) *v1.WeComDepartment {
	d := &v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	d.Spec.ConnectionRef.Name = testenv.ContactsConnection
	d.Spec.Name = display
	for _, o := range opts {
		o(d)
	}
	return d
}

func under(parent string) func(*v1.WeComDepartment) {
	return func(d *v1.WeComDepartment) { d.Spec.ParentRef = &v1.LocalObjectReference{Name: parent} }
}

func orphan(d *v1.WeComDepartment) { d.Spec.DeletionPolicy = v1.DeletionOrphan }

func user(ns, name, userID, display string, depts ...v1.UserDepartment) *v1.WeComUser {
	u := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	u.Spec.ConnectionRef.Name = testenv.ContactsConnection
	u.Spec.UserID, u.Spec.Name = userID, display
	u.Spec.Email = strings.ToLower(userID) + "@" + ns + ".example.com"
	u.Spec.ToInvite = ptr(false)
	if len(depts) == 0 {
		depts = []v1.UserDepartment{{ID: ptr(int64(1))}}
	}
	u.Spec.Departments = depts
	return u
}

func inDept(name string) v1.UserDepartment {
	return v1.UserDepartment{Ref: &v1.LocalObjectReference{Name: name}}
}

func ptr[T any](v T) *T { return &v }

// ---- secrets ----

var (
	secretsMu sync.Mutex
	// extraSecrets are secret values tests put in Secrets (wrong ones included).
	extraSecrets []string
	tokensSeen   []string
)

func rememberSecret(s string) {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	extraSecrets = append(extraSecrets, s)
}

// rememberTokens records the access tokens the simulator currently hands out for the demo
// apps: while valid, gettoken returns the same token (reference §1), the one the operator uses.
func rememberTokens() {
	for _, secret := range []string{env.Creds.ContactsSecret, env.Creds.AppSecret} {
		q := url.Values{"corpid": {env.Creds.CorpID}, "corpsecret": {secret}}
		resp, err := http.Get(env.Sim.URL + "/cgi-bin/gettoken?" + q.Encode())
		Expect(err).NotTo(HaveOccurred())
		var body struct {
			AccessToken string `json:"access_token"`
		}
		Expect(json.NewDecoder(resp.Body).Decode(&body)).To(Succeed())
		resp.Body.Close()
		Expect(body.AccessToken).NotTo(BeEmpty())
		secretsMu.Lock()
		if !slices.Contains(tokensSeen, body.AccessToken) {
			tokensSeen = append(tokensSeen, body.AccessToken)
		}
		secretsMu.Unlock()
	}
}

func secretsAndTokens() []string {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	out := []string{env.Creds.ContactsSecret, env.Creds.AppSecret, env.Creds.LimitedAppSecret}
	out = append(out, extraSecrets...)
	return append(out, tokensSeen...)
}

// expectNoSecrets checks every event and condition message in ns.
func expectNoSecrets(ns string) {
	GinkgoHelper()
	rememberTokens()
	var texts []string
	evs := &eventsv1.EventList{}
	Expect(env.Client.List(ctx, evs, client.InNamespace(ns))).To(Succeed())
	for _, e := range evs.Items {
		texts = append(texts, e.Note)
	}
	conns := &v1.WeComConnectionList{}
	users := &v1.WeComUserList{}
	depts := &v1.WeComDepartmentList{}
	Expect(env.Client.List(ctx, conns, client.InNamespace(ns))).To(Succeed())
	Expect(env.Client.List(ctx, users, client.InNamespace(ns))).To(Succeed())
	Expect(env.Client.List(ctx, depts, client.InNamespace(ns))).To(Succeed())
	var conds []metav1.Condition
	for _, c := range conns.Items {
		conds = append(conds, c.Status.Conditions...)
	}
	for _, u := range users.Items {
		conds = append(conds, u.Status.Conditions...)
	}
	for _, d := range depts.Items {
		conds = append(conds, d.Status.Conditions...)
	}
	for _, c := range conds {
		texts = append(texts, c.Message)
	}
	for _, t := range texts {
		for _, s := range secretsAndTokens() {
			Expect(t).NotTo(ContainSubstring(s), "a secret or token in an event or condition of %s", ns)
		}
		Expect(t).NotTo(ContainSubstring("access_token="))
	}
}

// ---- the simulator ----

var writeEndpoints = []string{
	"department/create", "department/update", "department/delete",
	"user/create", "user/update", "user/delete", "user/batchdelete",
}

// applied keeps the calls WeCom carried out: errcode 0, and no fault that stopped them (a
// lost reply is applied; a dropped connection, -1 or 45009 is not).
func applied(calls []wecomsim.Call) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range calls {
		if c.ErrCode == 0 && (c.Fault == "" || c.Fault == "lost_reply") {
			out = append(out, c)
		}
	}
	return out
}

func simDept(id int64) (wecomsim.Department, bool) {
	for _, d := range env.Sim.State().Departments {
		if d.ID == id {
			return d, true
		}
	}
	return wecomsim.Department{}, false
}

// simDeptsNamed returns the departments whose name equals name without case.
func simDeptsNamed(name string) []wecomsim.Department {
	var out []wecomsim.Department
	for _, d := range env.Sim.State().Departments {
		if strings.EqualFold(d.Name, name) {
			out = append(out, d)
		}
	}
	return out
}

func simUser(userID string) (wecomsim.User, bool) {
	for _, u := range env.Sim.State().Users {
		if strings.EqualFold(u.UserID, userID) {
			return u, true
		}
	}
	return wecomsim.User{}, false
}

// orgChart is WeCom's departments and members, for before/after comparisons.
type orgChart struct {
	Departments []wecomsim.Department
	Users       []wecomsim.User
}

func currentOrgChart() orgChart {
	s := env.Sim.State()
	return orgChart{Departments: s.Departments, Users: s.Users}
}

// byHand is a WeCom client of the contacts-sync app, standing for a person or another tool
// changing WeCom behind the operator's back. It has its own token cache and rate limiters.
func byHand() *wecom.Client { return env.ByHand(env.Creds.ContactsSecret) }

// unique makes a department name unique in the shared simulator (≤32 characters).
func unique(name, ns string) string { return testenv.Unique(name, ns, 32) }
