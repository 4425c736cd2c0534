package upgrade

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const (
	namespace = "upgrade"
	// drift is the new manager's --drift-interval: short, so that the test sees it compare
	// every object with WeCom again, and repair hand edits, within seconds.
	drift = 3 * time.Second
)

var _ = Describe("upgrading from the previous manager", func() {
	It("takes over objects of every kind without a write to WeCom, records their external names and still repairs WeCom", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		simLog, err := os.Create(filepath.Join(dir, "wecom-sim.log"))
		Expect(err).NotTo(HaveOccurred())
		sim, err := scaletest.StartSim(simPath, simLog, "-activate-users")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(sim.Stop)
		before, err := sim.State(ctx)
		Expect(err).NotTo(HaveOccurred())

		By("the previous manager makes every object")
		Expect(api.CreateNamespace(ctx, namespace)).To(Succeed())
		fleet := scaletest.Fleet{Namespace: namespace}
		Expect(scaletest.CreateAll(ctx, api.Client, append(fleet.Connections(sim.URL), objects()...), 4)).To(Succeed())
		old := startManager(ctx, previousManager, filepath.Join(dir, "previous-manager.log"))
		Eventually(func(g Gomega) {
			tally, err := scaletest.Tally(ctx, api.Client, namespace)
			g.Expect(err).NotTo(HaveOccurred())
			for kind, p := range tally {
				g.Expect(p.Done).To(Equal(p.Total), "%s: %d of %d done; not done: %v", kind, p.Done, p.Total, p.NotDone)
			}
		}).WithContext(ctx).WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).Should(Succeed(), "every object Ready, the notification Sent")
		old.Stop()

		made, err := scaletest.ReadObjects(ctx, api.Client, namespace)
		Expect(err).NotTo(HaveOccurred())
		Expect(made).To(HaveLen(len(objects())-1), "every object but the notification is WeCom-backed")
		ids := map[string]string{} // kind/name → WeCom id, as the previous manager recorded it
		for _, o := range made {
			Expect(o.GetAnnotations()).NotTo(HaveKey(scaletest.AnnotationExternalName),
				"%T %s: the previous manager records ids in status only, or this test upgrades nothing", o, o.GetName())
			Expect(scaletest.ExternalID(o)).NotTo(BeEmpty(), "%T %s has its WeCom id in status", o, o.GetName())
			ids[key(o)] = scaletest.ExternalID(o)
		}
		chat := &v1.WeComAppChat{}
		Expect(api.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "oncall"}, chat)).To(Succeed())
		Expect(chat.Status.ChatID).To(HavePrefix("wr"), "the chat without spec.chatID has the id WeCom generated")
		snap, err := sim.State(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(scaletest.Census(before, snap, made)).To(BeEmpty(), "the previous manager made each object once")
		upgradeSeq, err := sim.LastSeq(ctx)
		Expect(err).NotTo(HaveOccurred())

		By("the new CRDs and the new manager take over")
		_, err = envtest.InstallCRDs(api.Config, envtest.CRDInstallOptions{
			Paths: []string{filepath.Join(root, "config", "crd", "bases")}, ErrorIfPathMissing: true})
		Expect(err).NotTo(HaveOccurred())
		mgr := startManager(ctx, managerPath, filepath.Join(dir, "manager.log"),
			fmt.Sprintf("--drift-interval=%s", drift), "--deep-drift-every=1", "--allowed-api-urls="+sim.URL)
		DeferCleanup(mgr.Stop)
		Eventually(func(g Gomega) {
			objs, err := scaletest.ReadObjects(ctx, api.Client, namespace)
			g.Expect(err).NotTo(HaveOccurred())
			for _, o := range objs {
				g.Expect(readyAndSynced(o)).To(Succeed())
				g.Expect(scaletest.ExternalID(o)).To(Equal(ids[key(o)]), "%T %s keeps the WeCom id the previous manager recorded", o, o.GetName())
			}
			g.Expect(scaletest.ExternalNames(objs)).To(BeEmpty(), "each object records its WeCom id in %s", scaletest.AnnotationExternalName)
		}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())

		// Two drift intervals: the new manager compares every object with WeCom again meanwhile.
		Consistently(func(g Gomega) {
			g.Expect(writesSince(ctx, sim, upgradeSeq)).To(BeEmpty(), "WeCom writes by the new manager")
		}).WithContext(ctx).WithTimeout(2*drift + time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		calls, err := sim.Calls(ctx, upgradeSeq)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).NotTo(BeEmpty(), "the new manager read WeCom")
		AddReportEntry("WeCom calls by the new manager before the hand edits", countByEndpoint(calls))
		note := &v1.Notification{}
		Expect(api.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "hello-oncall"}, note)).To(Succeed())
		Expect(note.Status.Phase).To(Equal(v1.NotificationSent))
		objs, err := scaletest.ReadObjects(ctx, api.Client, namespace)
		Expect(err).NotTo(HaveOccurred())
		snap, err = sim.State(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(scaletest.Census(before, snap, objs)).To(BeEmpty(), "each object still exists once in WeCom")

		By("hand edits in WeCom are repaired through the ids the previous manager recorded")
		editSeq, err := sim.LastSeq(ctx)
		Expect(err).NotTo(HaveOccurred())
		member, ok := snap.User("upg-li")
		Expect(ok).To(BeTrue())
		member.Name = "renamed by hand"
		deptID := ids["WeComDepartment/platform"]
		var dept wecomsim.Department
		for _, d := range snap.Departments {
			if fmt.Sprint(d.ID) == deptID {
				dept = d
			}
		}
		Expect(dept.ID).NotTo(BeZero())
		dept.Name = "renamed by hand"
		Expect(sim.Seed(ctx, wecomsim.SeedRequest{Seed: wecomsim.Seed{Departments: []wecomsim.Department{dept}, Users: []wecomsim.User{member}}})).To(Succeed())
		Expect(wecomPost(ctx, sim.URL, wecomsim.DemoAppSecret, "appchat/update",
			map[string]any{"chatid": chat.Status.ChatID, "name": "renamed by hand"})).To(Succeed())
		Eventually(func(g Gomega) {
			snap, err := sim.State(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			u, _ := snap.User("upg-li")
			g.Expect(u.Name).To(Equal("李四"), "member upg-li")
			for _, d := range snap.Departments {
				if fmt.Sprint(d.ID) == deptID {
					g.Expect(d.Name).To(Equal("平台组"), "department %s", deptID)
				}
			}
			c, _ := snap.Chat(chat.Status.ChatID)
			g.Expect(c.Name).To(Equal("On-call"), "chat %s", chat.Status.ChatID)
		}).WithContext(ctx).WithTimeout(30 * time.Second).WithPolling(250 * time.Millisecond).Should(Succeed())
		calls, err = sim.Calls(ctx, editSeq)
		Expect(err).NotTo(HaveOccurred())
		for _, c := range calls {
			ep := scaletest.Endpoint(c)
			Expect(scaletest.IsWrite(ep) && !strings.HasSuffix(ep, "/update")).To(BeFalse(), "a repair only updates: %s %s", ep, c.Body)
		}
		objs, err = scaletest.ReadObjects(ctx, api.Client, namespace)
		Expect(err).NotTo(HaveOccurred())
		snap, err = sim.State(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(scaletest.Census(before, snap, objs)).To(BeEmpty(), "each object still exists once in WeCom")
	}, SpecTimeout(5*time.Minute))
})

// objects are the config/samples objects of every WeCom-backed kind, with their own
// departments and members, an app chat without chatID (WeCom generates its id), one with
// chatID, and a schedule in the app's default calendar, plus a sent notification.
func objects() []client.Object {
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: namespace} }
	contacts := v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: scaletest.ContactsConnection}}}
	app := v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: scaletest.AppConnection}}}
	ref := func(name string) *v1.LocalObjectReference { return &v1.LocalObjectReference{Name: name} }
	order := int64(100)
	orphan := contacts
	orphan.DeletionPolicy = v1.DeletionOrphan
	no := false
	tz, interval := int32(8), int32(1)
	start := time.Date(2030, 1, 7, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	return []client.Object{
		&v1.WeComDepartment{ObjectMeta: om("engineering"), Spec: v1.WeComDepartmentSpec{DeletableSpec: contacts,
			Name: "Upgrade Engineering", NameEn: "Engineering", Order: &order}},
		&v1.WeComDepartment{ObjectMeta: om("platform"), Spec: v1.WeComDepartmentSpec{DeletableSpec: contacts,
			Name: "平台组", NameEn: "Platform", ParentRef: ref("engineering")}},
		&v1.WeComDepartment{ObjectMeta: om("sre"), Spec: v1.WeComDepartmentSpec{DeletableSpec: orphan,
			Name: "Upgrade SRE", ParentRef: ref("engineering")}},
		&v1.WeComUser{ObjectMeta: om("upg-zhang"), Spec: v1.WeComUserSpec{DeletableSpec: contacts,
			UserID: "upg-zhang", Name: "张三", Mobile: "+86 13900000001", Position: "Platform lead", Gender: v1.GenderMale,
			Departments: []v1.UserDepartment{{Ref: ref("platform"), Leader: true, Order: 10}}}},
		&v1.WeComUser{ObjectMeta: om("upg-li"), Spec: v1.WeComUserSpec{DeletableSpec: contacts,
			UserID: "upg-li", Name: "李四", Email: "upg-li@example.com",
			Departments:   []v1.UserDepartment{{Ref: ref("platform")}, {Ref: ref("sre")}},
			DirectLeaders: []string{"upg-zhang"}}},
		&v1.WeComUser{ObjectMeta: om("upg-wang"), Spec: v1.WeComUserSpec{DeletableSpec: contacts,
			UserID: "upg-wang", Name: "王五", Email: "upg-wang@example.com", ToInvite: &no,
			Departments: []v1.UserDepartment{{Ref: ref("sre")}}}},
		&v1.WeComAppChat{ObjectMeta: om("oncall"), Spec: v1.WeComAppChatSpec{ManagedSpec: app.ManagedSpec,
			Name: "On-call", Owner: "zhangsan", Members: []string{"zhangsan", "lisi", "wangwu"}}},
		&v1.WeComAppChat{ObjectMeta: om("release"), Spec: v1.WeComAppChatSpec{ManagedSpec: app.ManagedSpec,
			ChatID: "release", Name: "Release", Owner: "lisi", Members: []string{"lisi", "wangwu"}}},
		&v1.ContactWay{ObjectMeta: om("sales-qr"), Spec: v1.ContactWaySpec{DeletableSpec: app,
			Type: v1.ContactWaySingle, Scene: v1.ContactWayQRCode, Remark: "Website contact", Users: []string{"lisi"}}},
		&v1.Schedule{ObjectMeta: om("weekly-review"), Spec: v1.ScheduleSpec{DeletableSpec: app,
			Summary: "Weekly incident review", Description: "Go through last week's incidents and follow-ups.",
			Location: "Room 10F", Start: metav1.NewTime(start), End: metav1.NewTime(start.Add(time.Hour)),
			Attendees: []string{"zhangsan", "lisi", "wangwu"}, Admins: []string{"zhangsan"},
			Reminders: &v1.ScheduleReminders{Before: []v1.RemindBefore{"15m"}, Timezone: &tz},
			Repeat:    &v1.ScheduleRepeat{Type: v1.RepeatWeekly, Interval: &interval, DaysOfWeek: []int32{1}}}},
		&v1.Notification{ObjectMeta: om("hello-oncall"), Spec: v1.NotificationSpec{
			ConnectionRef: &v1.ConnectionReference{Name: scaletest.AppConnection},
			To:            &v1.Recipients{Users: []string{"zhangsan", "lisi"}},
			Message:       v1.Message{Markdown: &v1.MarkdownMessage{Content: "### wecom-operator is running"}}}},
	}
}

func key(o client.Object) string { return fmt.Sprintf("%s/%s", kindOf(o), o.GetName()) }

func kindOf(o client.Object) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", o), "*v1alpha1.")
}

// readyAndSynced says why o is not Ready and Synced at its generation, if it is not.
func readyAndSynced(o client.Object) error {
	m, ok := o.(v1.Managed)
	if !ok {
		return fmt.Errorf("%T is not a managed kind", o)
	}
	for _, t := range []string{v1.ConditionReady, v1.ConditionSynced} {
		c := meta.FindStatusCondition(m.GetResourceStatus().Conditions, t)
		switch {
		case c == nil:
			return fmt.Errorf("%s %s has no %s condition", kindOf(o), o.GetName(), t)
		case c.Status != metav1.ConditionTrue || c.ObservedGeneration != o.GetGeneration():
			return fmt.Errorf("%s %s is %s=%s (%s: %s) at generation %d of %d", kindOf(o), o.GetName(), t, c.Status, c.Reason, c.Message, c.ObservedGeneration, o.GetGeneration())
		}
	}
	return nil
}

func startManager(ctx context.Context, bin, logPath string, args ...string) *scaletest.Manager {
	log, err := os.Create(logPath)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	m := &scaletest.Manager{Bin: bin, Kubeconfig: api.Kubeconfig, Log: log, Args: args}
	ExpectWithOffset(1, m.Start(ctx)).To(Succeed(), "starting %s", bin)
	DeferCleanup(func() {
		m.Stop()
		if CurrentSpecReport().Failed() {
			data, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			fmt.Fprintf(GinkgoWriter, "last lines of %s:\n%s\n", logPath, strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	return m
}

// writesSince lists the WeCom writes logged after seq.
func writesSince(ctx context.Context, sim *scaletest.Sim, seq int64) ([]string, error) {
	calls, err := sim.Calls(ctx, seq)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range calls {
		if ep := scaletest.Endpoint(c); scaletest.IsWrite(ep) {
			out = append(out, fmt.Sprintf("%s %s", ep, c.Body))
		}
	}
	return out, nil
}

func countByEndpoint(calls []wecomsim.Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		out[scaletest.Endpoint(c)]++
	}
	return out
}

// wecomPost calls a WeCom endpoint as the app with secret would: what a person's script, or
// the admin console, does to WeCom behind the operator's back.
func wecomPost(ctx context.Context, base, secret, endpoint string, body any) error {
	var tok struct {
		ErrCode     int    `json:"errcode"`
		AccessToken string `json:"access_token"`
	}
	if err := call(ctx, http.MethodGet, base+"/cgi-bin/gettoken?"+url.Values{"corpid": {wecomsim.DemoCorpID}, "corpsecret": {secret}}.Encode(), nil, &tok); err != nil {
		return err
	}
	if tok.ErrCode != 0 {
		return fmt.Errorf("gettoken: errcode %d", tok.ErrCode)
	}
	var rep struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := call(ctx, http.MethodPost, base+"/cgi-bin/"+endpoint+"?access_token="+url.QueryEscape(tok.AccessToken), body, &rep); err != nil {
		return err
	}
	if rep.ErrCode != 0 {
		return fmt.Errorf("%s: errcode %d: %s", endpoint, rep.ErrCode, rep.ErrMsg)
	}
	return nil
}

func call(ctx context.Context, method, u string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, &body)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}
