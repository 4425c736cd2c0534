package callbacks

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

func ptr[T any](v T) *T { return &v }

// callbackURL is what a person enters in WeCom's admin console for a connection.
func callbackURL(ns, conn string) string {
	return "http://" + receiverAddr + controller.CallbackPath(ns, conn)
}

// withCallbacks makes a namespace whose two connections have callbacks configured, saves
// their URLs in the simulator as a person does in WeCom's admin console (which verifies the
// URL against the manager), and waits until both connections say callbacks arrive.
func withCallbacks(prefix string) string {
	GinkgoHelper()
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	Expect(env.Client.Create(ctx, testenv.Secret(ns, "wecom-callback", map[string]string{
		"token": callbackToken, "encodingAESKey": callbackKey}))).To(Succeed())
	for _, name := range []string{testenv.ContactsConnection, testenv.AppConnection} {
		conn := &v1.WeComConnection{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, conn)).To(Succeed())
		patch := client.MergeFrom(conn.DeepCopy())
		conn.Spec.Callback = &v1.CallbackSpec{SecretRef: v1.LocalObjectReference{Name: "wecom-callback"}}
		Expect(env.Client.Patch(ctx, conn, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
			g.Expect(conn.Status.Callback).NotTo(BeNil())
			g.Expect(conn.Status.Callback.Configured).To(BeTrue(), conn.Status.Callback.Message)
			g.Expect(conn.Status.Callback.Path).To(Equal("/wecom/callback/" + ns + "/" + name))
		}).Should(Succeed())
	}
	// The contacts-sync app (agent 0) gets change_contact; the self-built app, which has the
	// customer-contact permission, gets change_external_contact.
	Expect(env.Sim.SetCallback(0, callbackURL(ns, testenv.ContactsConnection), callbackToken, callbackKey)).To(Succeed())
	Expect(env.Sim.SetCallback(env.Creds.AgentID, callbackURL(ns, testenv.AppConnection), callbackToken, callbackKey)).To(Succeed())
	DeferCleanup(func() {
		Expect(env.Sim.SetCallback(0, "", "", "")).To(Succeed())
		Expect(env.Sim.SetCallback(env.Creds.AgentID, "", "", "")).To(Succeed())
	})
	for _, name := range []string{testenv.ContactsConnection, testenv.AppConnection} {
		Eventually(func(g Gomega) {
			conn := &v1.WeComConnection{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, conn)).To(Succeed())
			g.Expect(conn.Status.Callback.LastReceivedTime).NotTo(BeNil(), "the URL verification is recorded")
		}).Should(Succeed())
	}
	return ns
}

func create(objs ...client.Object) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(env.Client.Create(ctx, o)).To(Succeed())
	}
}

func ready(obj client.Object) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		var conds []metav1.Condition
		switch o := obj.(type) {
		case v1.Managed:
			conds = o.GetResourceStatus().Conditions
		}
		c := meta.FindStatusCondition(conds, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

func simUser(userID string) wecomsim.User {
	for _, u := range env.Sim.State().Users {
		if strings.EqualFold(u.UserID, userID) {
			return u
		}
	}
	return wecomsim.User{}
}

func simDept(id int64) wecomsim.Department {
	for _, d := range env.Sim.State().Departments {
		if d.ID == id {
			return d
		}
	}
	return wecomsim.Department{}
}

// callsSince lists the WeCom calls made after seq, as "endpoint query-or-body".
func callsSince(seq int64) []string {
	var out []string
	for _, c := range env.Sim.Calls() {
		if c.Seq <= seq {
			continue
		}
		what := strings.TrimPrefix(c.Endpoint, "/cgi-bin/")
		if id := c.Query["userid"]; id != "" {
			what += " " + id
		}
		if id := c.Query["id"]; id != "" {
			what += " " + id
		}
		out = append(out, what)
	}
	return out
}

func lastSeq() int64 {
	calls := env.Sim.Calls()
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

func eventReasons(obj client.Object) []string {
	list := &eventsv1.EventList{}
	Expect(env.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() {
			out = append(out, e.Reason)
		}
	}
	return out
}

func member(ns, name, userID string, dept string) *v1.WeComUser {
	u := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	u.Spec.ConnectionRef.Name = testenv.ContactsConnection
	u.Spec.UserID, u.Spec.Name = userID, "Member "+name
	u.Spec.Email = name + "@" + ns + ".example.com"
	u.Spec.ToInvite = ptr(false)
	u.Spec.Departments = []v1.UserDepartment{{Ref: &v1.LocalObjectReference{Name: dept}}}
	return u
}

func department(ns, name string, parent string) *v1.WeComDepartment {
	d := &v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	d.Spec.ConnectionRef.Name = testenv.ContactsConnection
	d.Spec.Name = name + "-" + ns
	if parent != "" {
		d.Spec.ParentRef = &v1.LocalObjectReference{Name: parent}
	}
	return d
}

var _ = Describe("WeCom callbacks", func() {
	It("repairs a member renamed by hand within 5 s while the drift interval is an hour, reading only that member", func() {
		ns := withCallbacks("rename")
		team := department(ns, "team", "")
		alice, bob := member(ns, "alice", "cb-alice-"+ns, "team"), member(ns, "bob", "cb-bob-"+ns, "team")
		create(team, alice, bob)
		ready(alice)
		ready(bob)

		start := lastSeq()
		_, err := env.Sim.ConsoleUpdateUser(wecomsim.UserEdit{UserID: alice.Spec.UserID, Name: ptr("Renamed by hand")})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string { return simUser(alice.Spec.UserID).Name }).WithTimeout(5*time.Second).
			Should(Equal(alice.Spec.Name), "the hand edit is repaired")
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(alice), alice)).To(Succeed())
			g.Expect(alice.Annotations).NotTo(HaveKey(v1.AnnotationRefresh), "the refresh request is done")
		}).Should(Succeed())
		Expect(callsSince(start)).To(ConsistOf("user/get "+alice.Spec.UserID, "user/update"),
			"only the member concerned was read, and written once")
		Expect(simUser(bob.Spec.UserID).Name).To(Equal(bob.Spec.Name))
		Expect(eventReasons(alice)).To(ContainElement(controller.EventUpdated))
	})

	It("moves back a department moved by hand within 5 s, reading only that department", func() {
		ns := withCallbacks("move")
		a, b := department(ns, "a", ""), department(ns, "b", "")
		child := department(ns, "child", "a")
		create(a, b, child)
		ready(a)
		ready(b)
		ready(child)

		start := lastSeq()
		_, err := env.Sim.ConsoleUpdateDepartment(wecomsim.DepartmentEdit{ID: child.Status.ID, ParentID: ptr(b.Status.ID)})
		Expect(err).NotTo(HaveOccurred())
		Expect(simDept(child.Status.ID).ParentID).To(Equal(b.Status.ID), "the hand edit happened")
		Eventually(func() int64 { return simDept(child.Status.ID).ParentID }).WithTimeout(5*time.Second).
			Should(Equal(a.Status.ID), "the department is back under its parent")
		Expect(callsSince(start)).To(ConsistOf(fmt.Sprintf("department/get %d", child.Status.ID), "department/update"))
	})

	It("puts back tag members changed by hand within 5 s while the drift interval is an hour, reading only that tag", func() {
		ns := withCallbacks("tag")
		team := department(ns, "team", "")
		alice := member(ns, "alice", "cb-tag-alice-"+ns, "team")
		create(team, alice)
		ready(team)
		ready(alice)
		tg := &v1.WeComTag{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: ns}}
		tg.Spec.ConnectionRef.Name = testenv.ContactsConnection
		tg.Spec.Name = "oncall-" + ns
		tg.Spec.Users = []v1.TagUser{{Ref: &v1.LocalObjectReference{Name: "alice"}}}
		tg.Spec.Departments = []v1.TagDepartment{{Ref: &v1.LocalObjectReference{Name: "team"}}}
		create(tg)
		ready(tg)
		simTag := func() wecomsim.Tag {
			t, _ := env.Sim.State().Tag(tg.Status.TagID)
			return t
		}

		start := lastSeq()
		res, err := env.Sim.ConsoleUpdateTag(wecomsim.TagEdit{TagID: tg.Status.TagID,
			AddUsers: []string{"lisi"}, DelUsers: []string{alice.Spec.UserID}, DelParties: []int64{team.Status.ID}})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Deliveries).To(HaveLen(1), "one update_tag is pushed")
		Eventually(func(g Gomega) {
			t := simTag()
			g.Expect(t.Users).To(ConsistOf(alice.Spec.UserID))
			g.Expect(t.Parties).To(ConsistOf(team.Status.ID))
		}).WithTimeout(5*time.Second).Should(Succeed(), "the hand edit is repaired")
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(tg), tg)).To(Succeed())
			g.Expect(tg.Annotations).NotTo(HaveKey(v1.AnnotationRefresh), "the refresh request is done")
		}).Should(Succeed())
		Expect(callsSince(start)).To(ConsistOf("tag/get", "tag/deltagusers", "tag/addtagusers"),
			"only the tag concerned was read, and its members written back with one call each way")
	})

	It("changes nothing for a forged callback: wrong signature, another corp, or a replay", func() {
		ns := withCallbacks("forged")
		team := department(ns, "team", "")
		alice := member(ns, "alice", "cb-forged-"+ns, "team")
		create(team, alice)
		ready(alice)

		// A real delivery first, to have something to replay.
		_, err := env.Sim.ConsoleUpdateUser(wecomsim.UserEdit{UserID: alice.Spec.UserID, Position: ptr("by hand")})
		Expect(err).NotTo(HaveOccurred())
		var delivered wecomsim.CallbackDelivery
		Eventually(func(g Gomega) {
			ds := env.Sim.Deliveries()
			g.Expect(ds).NotTo(BeEmpty())
			delivered = ds[len(ds)-1]
			g.Expect(delivered.Acked).To(BeTrue())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(alice), alice)).To(Succeed())
			g.Expect(alice.Annotations).NotTo(HaveKey(v1.AnnotationRefresh))
		}).Should(Succeed())

		start := lastSeq()
		right, err := wecom.NewCallbackCrypto(callbackToken, callbackKey, env.Creds.CorpID)
		Expect(err).NotTo(HaveOccurred())
		wrongToken, _ := wecom.NewCallbackCrypto("Guessed1", callbackKey, env.Creds.CorpID)
		otherCorp, _ := wecom.NewCallbackCrypto(callbackToken, callbackKey, "wwsomeoneelse")
		target := callbackURL(ns, testenv.ContactsConnection)
		Expect(post(target, wrongToken, delivered.Plaintext)).To(Equal(http.StatusForbidden), "wrong signature")
		Expect(post(target, otherCorp, delivered.Plaintext)).To(Equal(http.StatusForbidden), "another corp's payload")
		Expect(post(target, right, delivered.Plaintext)).To(Equal(http.StatusOK), "a replay is acknowledged")
		Expect(post(callbackURL(ns, "nobody"), right, delivered.Plaintext)).To(Equal(http.StatusForbidden), "unknown connection")

		Consistently(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(alice), alice)).To(Succeed())
			g.Expect(alice.Annotations).NotTo(HaveKey(v1.AnnotationRefresh))
		}).WithTimeout(2 * time.Second).Should(Succeed())
		Expect(callsSince(start)).To(BeEmpty(), "nothing was read or written in WeCom")
	})

	It("welcomes a customer who scans a contact way exactly once, even when WeCom retries the callback", func() {
		ns := withCallbacks("welcome")
		// WeCom's first delivery reaches the manager but its answer is lost: WeCom retries.
		proxy := newLossyProxy(callbackURL(ns, testenv.AppConnection))
		Expect(env.Sim.SetCallback(env.Creds.AgentID, proxy.URL, callbackToken, callbackKey)).To(Succeed())

		way := &v1.ContactWay{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns}}
		way.Spec.ConnectionRef.Name = testenv.AppConnection
		way.Spec.Type, way.Spec.Scene = v1.ContactWaySingle, v1.ContactWayQRCode
		way.Spec.Users, way.Spec.State = []string{"lisi"}, "shop-"+ns
		way.Spec.Welcome = &v1.ContactWayWelcome{Text: &v1.ConclusionText{Content: "Welcome to the shop!"},
			Link: &v1.ConclusionLink{Title: "Opening hours", URL: "https://shop.example.com/hours"}}
		create(way)
		ready(way)

		scan, err := env.Sim.Scan(wecomsim.ScanRequest{ConfigID: way.Status.ConfigID})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			ds := env.Sim.Deliveries()
			var d *wecomsim.CallbackDelivery
			for i := range ds {
				if ds[i].ExternalUserID == scan.ExternalUserID {
					d = &ds[i]
				}
			}
			g.Expect(d).NotTo(BeNil())
			g.Expect(d.Acked).To(BeTrue())
			g.Expect(len(d.Attempts)).To(BeNumerically(">=", 2), "WeCom retried")
		}).WithTimeout(15 * time.Second).Should(Succeed())

		var sent []wecomsim.WelcomeMessage
		for _, m := range env.Sim.State().WelcomeMessages {
			if m.ExternalUserID == scan.ExternalUserID {
				sent = append(sent, m)
			}
		}
		Expect(sent).To(HaveLen(1), "exactly one welcome message")
		Expect(sent[0].Text).To(Equal("Welcome to the shop!"))
		Expect(sent[0].Attachments).To(HaveLen(1))

		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(way), way)).To(Succeed())
		Expect(way.Status.CustomersAdded).To(Equal(int64(1)))
		Expect(way.Status.LastCustomerAddedTime).NotTo(BeNil())
		Expect(way.Status.RecentCustomers).To(HaveLen(1))
		Expect(way.Status.RecentCustomers[0].ExternalUserID).To(Equal(scan.ExternalUserID))
		Expect(way.Status.RecentCustomers[0].Welcome).To(Equal(v1.WelcomeSent))
		Eventually(func() []string { return eventReasons(way) }).Should(ContainElements("CustomerAdded", "WelcomeSent"))
	})

	It("loses no hand edit while the manager restarts: WeCom's retry is handled by the new one", func() {
		ns := withCallbacks("restart")
		team := department(ns, "team", "")
		alice := member(ns, "alice", "cb-restart-"+ns, "team")
		create(team, alice)
		ready(alice)

		env.StopManager()
		restarted := false
		DeferCleanup(func() {
			if !restarted {
				Expect(env.StartManager()).To(Succeed())
			}
		})
		before := len(env.Sim.Deliveries())
		_, err := env.Sim.ConsoleUpdateUser(wecomsim.UserEdit{UserID: alice.Spec.UserID, Name: ptr("Edited while down")})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			ds := env.Sim.Deliveries()
			g.Expect(len(ds)).To(BeNumerically(">", before))
			g.Expect(ds[len(ds)-1].Attempts).NotTo(BeEmpty(), "the first delivery failed: nobody listens")
			g.Expect(ds[len(ds)-1].Attempts[0].HTTPStatus).To(BeZero())
		}).Should(Succeed())
		Expect(env.StartManager()).To(Succeed())
		restarted = true

		// A restart reads members from the list (department membership only): the rename is
		// repaired because WeCom's retry of the event reached the new manager.
		Eventually(func() string { return simUser(alice.Spec.UserID).Name }).WithTimeout(20*time.Second).
			Should(Equal(alice.Spec.Name), "WeCom's retry reached the new manager, which repaired the member")
		Eventually(func(g Gomega) {
			ds := env.Sim.Deliveries()
			g.Expect(ds[len(ds)-1].Acked).To(BeTrue(), "the retry was answered 200")
		}).WithTimeout(15 * time.Second).Should(Succeed())
	})
})

// post delivers plaintext to target sealed with crypto, as WeCom would, and returns the status.
func post(target string, crypto *wecom.CallbackCrypto, plaintext string) int {
	GinkgoHelper()
	ts, nonce := fmt.Sprint(time.Now().Unix()), "7410852"
	body, sig, err := crypto.EncryptDelivery([]byte(plaintext), 0, ts, nonce)
	Expect(err).NotTo(HaveOccurred())
	q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
	resp, err := http.Post(target+"?"+q.Encode(), "text/xml", bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// lossyProxy forwards WeCom's requests to the manager; the answer to the first POST reaches
// nobody (502 instead), as if the network lost it, so WeCom retries an event the manager has
// already handled. GETs (URL verification) pass.
type lossyProxy struct {
	*httptest.Server
	mu   sync.Mutex
	lost bool
}

func newLossyProxy(target string) *lossyProxy {
	p := &lossyProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest(r.Method, target+"?"+r.URL.RawQuery, bytes.NewReader(body))
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		p.mu.Lock()
		lose := r.Method == http.MethodPost && !p.lost
		p.lost = p.lost || lose
		p.mu.Unlock()
		if lose {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answer)
	}))
	DeferCleanup(p.Close)
	return p
}
