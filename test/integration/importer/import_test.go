// Package importer tests `kubectl wecom import` end to end: a corp of 504 members in 57
// departments (four levels below the root) with leaders and direct leaders, tags, contact
// ways, two calendars and their schedules, an app chat and the app's settings and menu in the WeCom simulator over
// HTTP; the import read through the operator's client; its manifests applied to a real API
// server where the operator's manager observes them until every object is Ready; and,
// throughout, not one write to WeCom.
package importer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/importer"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const (
	members   = 500 // besides the demo corp's 4
	chatID    = "importchat01"
	calendarA = "wecom.dev/calendar-id"
)

// bigCorp is the demo corp plus 54 departments in four levels below the root (2 divisions,
// 4 groups, 12 teams, 36 squads) and 500 members spread over the squads, one in seven also in
// its team. The first member of each department leads it, and each member's direct leader is
// the leader of its main department. Userids, names and fields vary the way real ones do.
func bigCorp() (wecomsim.Seed, int) {
	seed, _ := wecomsim.DemoSeed()
	next := int64(100)
	parents := []int64{1}
	fanout := []int{2, 2, 3, 3}
	var leaves []int64
	parentOf := map[int64]int64{}
	for level, n := range fanout {
		var made []int64
		for _, p := range parents {
			for i := range n {
				next++
				d := wecomsim.Department{ID: next, ParentID: p, Order: uint32(100 - i)}
				switch level {
				case 0:
					d.Name, d.NameEn = fmt.Sprintf("事业部%d", i+1), fmt.Sprintf("Division %d", i+1)
				case 1:
					d.Name = fmt.Sprintf("Group %d-%d", p, i+1)
				case 2:
					d.Name, d.NameEn = fmt.Sprintf("团队%d", next), fmt.Sprintf("Team %d", next)
				default:
					d.Name = fmt.Sprintf("Squad %d (%c)", next, 'A'+i)
				}
				seed.Departments = append(seed.Departments, d)
				parentOf[next] = p
				made = append(made, next)
			}
		}
		parents = made
		leaves = made
	}
	leader := map[int64]string{}
	for i := range members {
		id := fmt.Sprintf("m%04d", i)
		switch i % 50 {
		case 1:
			id = fmt.Sprintf("Li.Ming_%d", i) // capitals, . and _: a hashed object name
		case 2:
			id = fmt.Sprintf("ops-%d@corp.example", i)
		}
		squad := leaves[i%len(leaves)]
		u := wecomsim.User{
			UserID: id, Name: fmt.Sprintf("成员 %d", i), Mobile: fmt.Sprintf("139%08d", i),
			Department: []int64{squad}, Order: []uint32{uint32(i % 5)}, Gender: []string{"0", "1", "2"}[i%3],
			Position: []string{"", "Engineer", "工程师", "Manager"}[i%4],
		}
		if i%7 == 0 {
			u.Department = append(u.Department, parentOf[squad])
			u.Order = append(u.Order, 1)
		}
		if i%2 == 0 {
			u.Email = fmt.Sprintf("member%d@example.com", i)
		}
		if i%5 == 0 {
			u.BizMail = fmt.Sprintf("m%d@corp.example.com", i)
		}
		if i%3 == 0 {
			u.Alias = fmt.Sprintf("alias%d", i)
		}
		if i%11 == 0 {
			u.Telephone = fmt.Sprintf("010-%04d", i)
		}
		u.Disabled = i%41 == 40
		for j, d := range u.Department {
			u.IsLeaderInDept = append(u.IsLeaderInDept, 0)
			if leader[d] == "" {
				leader[d] = id
				u.IsLeaderInDept[j] = 1
			}
		}
		if l := leader[squad]; l != id {
			u.DirectLeader = []string{l}
		}
		seed.Users = append(seed.Users, u)
	}
	// Tags made in the admin console, besides the demo's "oncall" (lisi, department 3): one
	// with a fifth of the members, one with a hashed object name among its members and two
	// squads.
	var fifth []string
	for i := 0; i < members; i += 5 {
		fifth = append(fifth, fmt.Sprintf("m%04d", i))
	}
	seed.Tags = append(seed.Tags,
		wecomsim.Tag{ID: 20, Name: "Survey 2026", Users: fifth},
		wecomsim.Tag{ID: 21, Name: "值班表", Users: []string{"Li.Ming_51", "m0003", "zhangsan"}, Parties: []int64{120, 119}},
	)
	return seed, len(seed.Departments)
}

// writeEndpoint says whether a simulator call changed WeCom.
func writeEndpoint(endpoint string) bool {
	last := endpoint[strings.LastIndex(endpoint, "/")+1:]
	for _, w := range []string{"create", "update", "delete", "batchdelete", "add", "del", "send", "set"} {
		if strings.HasPrefix(last, w) {
			return true
		}
	}
	return false
}

func TestImportObserveApplyReimportDelete(t *testing.T) {
	testStart := time.Now()
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(90 * time.Second)
	g.SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	ctx := context.Background()

	seed, depts := bigCorp()
	env, err := testenv.Start(testenv.Options{
		Sim: wecomsim.Options{Seed: &seed},
		// A full user/get of 504 members every 3 s interval would be WeCom's whole minute
		// limit: steady drift checks here read user/list_id; the first check reads each member.
		Controller: controller.Options{DeepDriftEvery: 1000, Concurrency: 8},
	})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(env.Stop)
	ns, err := env.NewNamespace(ctx, "import")
	g.Expect(err).NotTo(HaveOccurred())

	// What an app made over the years: a calendar the connection is bound to, schedules in it,
	// a team calendar shared with members (named with --calendar) and its schedule, contact
	// ways and a chat. These writes come before the import.
	app, err := wecom.New(wecom.Config{BaseURL: env.Sim.URL, CorpID: env.Creds.CorpID, Secret: env.Creds.AppSecret,
		Tokens: wecom.NewTokenCache(wecom.TokenCacheOptions{}), Limiters: wecom.NewLimiters(wecom.LimitersOptions{})})
	g.Expect(err).NotTo(HaveOccurred())
	cal, err := app.AddCalendar(ctx, wecom.Calendar{Summary: "Team", Color: "#00AA00"})
	g.Expect(err).NotTo(HaveOccurred())
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour).Unix()
	for _, s := range []wecom.Schedule{
		{Summary: "Weekly sync", StartTime: start, EndTime: start + 3600, Attendees: []wecom.Attendee{{UserID: "m0003"}, {UserID: "m0004"}},
			Admins: []string{"m0003"}, Reminders: &wecom.Reminders{IsRemind: 1, RemindTimeDiffs: []int{-900}, IsRepeat: 1,
				RepeatType: ptr(wecom.RepeatWeekly), IsCustomRepeat: 1, RepeatInterval: 1, RepeatDayOfWeek: []int{1, 4}}},
		{Summary: "Offsite 团建", StartTime: start, EndTime: start + 86400, IsWholeDay: 1, Location: "Hangzhou"},
	} {
		s.CalID = cal.CalID
		_, err := app.AddSchedule(ctx, s)
		g.Expect(err).NotTo(HaveOccurred())
	}
	releases, err := app.AddCalendar(ctx, wecom.Calendar{Summary: "Releases 发布", Color: "#1E90FF", Description: "Release trains of the platform",
		Shares: []wecom.CalendarShare{{UserID: "m0004", Permission: 1}, {UserID: "Li.Ming_1", Permission: 3}, {UserID: "m0003"}}, Admins: []string{"m0003"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(releases.FailResult).To(BeNil())
	train, err := app.AddSchedule(ctx, wecom.Schedule{Summary: "Release train", StartTime: start + 7200, EndTime: start + 9000, CalID: releases.CalID,
		Attendees: []wecom.Attendee{{UserID: "m0003"}, {UserID: "m0004"}}, Admins: []string{"m0004"}})
	g.Expect(err).NotTo(HaveOccurred())
	for _, w := range []wecom.AddContactWayRequest{
		{Type: wecom.ContactWaySingle, Scene: wecom.ContactWaySceneQRCode, State: "front-desk", Remark: "Front desk", User: []string{"m0010"}},
		{Type: wecom.ContactWayMulti, Scene: wecom.ContactWaySceneButton, Style: 1, State: "support", User: []string{"m0011", "m0012"}, Party: []int{119}},
		{Type: wecom.ContactWaySingle, Scene: wecom.ContactWaySceneQRCode, State: "sales-2026", SkipVerify: ptr(false), IsExclusive: true, User: []string{"zhaoliu"}},
	} {
		_, err := app.AddContactWay(ctx, w)
		g.Expect(err).NotTo(HaveOccurred())
	}
	_, err = app.CreateAppChat(ctx, wecom.CreateAppChatRequest{ChatID: chatID, Name: "Incidents", Owner: "m0005", UserList: []string{"m0005", "m0006", "m0007"}})
	g.Expect(err).NotTo(HaveOccurred())
	// A tag the app made (the contacts-sync secret reads it all the same), and the app's
	// settings and menu.
	releaseTag, err := app.CreateTag(ctx, "Release 发布", 0)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = app.AddTagUsers(ctx, releaseTag, []string{"m0010", "m0011", "zhaoliu"}, []int{101})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(app.SetAgent(ctx, env.Creds.AgentID, wecom.AgentSettings{Description: ptr("运维助手 for on-call"),
		HomeURL: ptr("https://ops.example.com/home"), ReportEnter: ptr(true)})).To(Succeed())
	g.Expect(app.CreateMenu(ctx, env.Creds.AgentID, []wecom.MenuButton{
		{Type: "click", Name: "Today", Key: "TODAY"},
		{Name: "更多", SubButtons: []wecom.MenuButton{{Type: "view", Name: "Runbook", URL: "https://ops.example.com/runbook"}, {Type: "scancode_push", Name: "扫码", Key: "SCAN"}}},
	})).To(Succeed())
	conn := &v1.WeComConnection{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: testenv.AppConnection}, conn)).To(Succeed())
	patch := client.MergeFrom(conn.DeepCopy())
	conn.Annotations = map[string]string{calendarA: cal.CalID}
	g.Expect(env.Client.Patch(ctx, conn, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		for _, name := range []string{testenv.ContactsConnection, testenv.AppConnection} {
			c := &v1.WeComConnection{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, c)).To(Succeed())
			g.Expect(apimeta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionReady)).To(BeTrue(), name)
			if name == testenv.AppConnection {
				g.Expect(c.Status.CalendarID).To(Equal(cal.CalID))
			}
		}
	}).Should(Succeed())
	mark := lastSeq(env.Sim)
	setupDone := time.Now()

	// 1. The import, called as a package, with the credentials of the two connections.
	contacts, err := importer.ReadConnection(ctx, env.Client, ns, testenv.ContactsConnection)
	g.Expect(err).NotTo(HaveOccurred())
	appConn, err := importer.ReadConnection(ctx, env.Client, ns, testenv.AppConnection)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(appConn.CalendarID).To(Equal(cal.CalID))
	dir := filepath.Join(t.TempDir(), "wecom-import")
	var progress bytes.Buffer
	importStart := mark
	rep, err := importer.Run(ctx, importer.Config{
		Org:       &importer.Source{Credentials: contacts.Credentials, Connection: contacts.Name},
		App:       &importer.Source{Credentials: appConn.Credentials, Connection: appConn.Name, AgentID: appConn.AgentID},
		Namespace: ns, Calendars: []importer.Calendar{{ID: appConn.CalendarID}, {ID: releases.CalID, Pinned: true}}, ChatIDs: []string{chatID},
		OutputDir: dir, Progress: importer.NewProgress(&progress, false),
	})
	g.Expect(err).NotTo(HaveOccurred(), progress.String())
	var summary bytes.Buffer
	rep.Print(&summary)
	t.Logf("import progress:\n%s\nimport summary:\n%s", progress.String(), summary.String())
	m := rep.Manifests
	g.Expect(m.Departments).To(HaveLen(depts), "every department but the root")
	g.Expect(m.Users).To(HaveLen(members + 4))
	g.Expect(m.ContactWays).To(HaveLen(3))
	g.Expect(m.Schedules).To(HaveLen(3))
	g.Expect(m.Calendars).To(HaveLen(1), "the calendar named with --calendar; the connection's own stays implicit")
	g.Expect(m.AppChats).To(HaveLen(1))
	g.Expect(m.Tags).To(HaveLen(4))
	g.Expect(m.Apps).To(HaveLen(1))
	g.Expect(m.Warnings).To(BeEmpty())
	g.Expect(rep.Calls["user/get"]).To(Equal(rep.Members), "one user/get per member")
	g.Expect(rep.Calls["tag/get"]).To(Equal(len(m.Tags)), "one tag/get per tag")
	for _, e := range []string{"tag/list", "agent/get", "menu/get", "oa/calendar/get"} {
		g.Expect(rep.Calls[e]).To(Equal(1), e)
	}
	tags := map[string]v1.WeComTag{}
	for _, tg := range m.Tags {
		tags[tg.Name] = tg
	}
	g.Expect(tags).To(HaveKey("tag-20-survey-2026"))
	g.Expect(tags["tag-20-survey-2026"].Spec.Users).To(HaveLen(members / 5))
	g.Expect(tags["tag-21"].Spec).To(SatisfyAll(
		HaveField("Name", "值班表"), HaveField("ID", HaveValue(BeEquivalentTo(21))),
		HaveField("Users", Equal([]v1.TagUser{{Ref: &v1.LocalObjectReference{Name: importer.UserName("Li.Ming_51")}},
			{Ref: &v1.LocalObjectReference{Name: "user-m0003"}}, {Ref: &v1.LocalObjectReference{Name: "user-zhangsan"}}})),
		HaveField("Departments", Equal([]v1.TagDepartment{{Ref: &v1.LocalObjectReference{Name: "dept-119-squad-119-a"}},
			{Ref: &v1.LocalObjectReference{Name: "dept-120-squad-120-b"}}}))))
	g.Expect(tags).To(HaveKey(importer.TagName(releaseTag, "Release 发布")))
	g.Expect(m.Apps[0].Spec.Menu).NotTo(BeNil())
	g.Expect(m.Apps[0].Spec.Menu.Buttons).To(HaveLen(2))
	g.Expect(m.Apps[0].Spec.Description).To(HaveValue(Equal("运维助手 for on-call")))
	calName := m.Calendars[0].Name
	g.Expect(calName).To(Equal(importer.CalendarName(releases.CalID, "Releases 发布")))
	g.Expect(m.Calendars[0].Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, releases.CalID))
	g.Expect(m.Calendars[0].Spec).To(SatisfyAll(
		HaveField("Summary", "Releases 发布"), HaveField("Color", "#1E90FF"), HaveField("Description", "Release trains of the platform"),
		HaveField("Shares", Equal([]v1.CalendarShare{{UserID: "Li.Ming_1", Permission: v1.CalendarFreeBusy},
			{UserID: "m0003", Permission: v1.CalendarView}, {UserID: "m0004", Permission: v1.CalendarView}})),
		HaveField("Admins", Equal([]string{"m0003"})),
		HaveField("ManagementPolicies", Equal([]v1.ManagementPolicy{v1.ManagementObserve})), HaveField("DeletionPolicy", v1.DeletionOrphan)))
	for _, sc := range m.Schedules {
		g.Expect(sc.Spec.CalendarID).To(BeEmpty(), sc.Name)
		if sc.Annotations[v1.AnnotationExternalName] == train {
			g.Expect(sc.Spec.CalendarRef).To(Equal(&v1.LocalObjectReference{Name: calName}))
		} else {
			g.Expect(sc.Spec.CalendarRef).To(BeNil(), "a schedule of the connection's calendar names no calendar")
		}
	}
	importCalls := callsSince(env.Sim, importStart, func(c wecomsim.Call) bool { return c.App != "" || c.Endpoint == "/cgi-bin/gettoken" })
	t.Logf("MEASURED import (package, --qps 40): %d members, %d departments; %d WeCom calls (%s): %.3f calls per member; wall time %s",
		rep.Members, len(m.Departments), rep.TotalCalls(), callList(rep.Calls), rep.CallsPerMember(), rep.Elapsed.Round(time.Millisecond))
	g.Expect(rep.TotalCalls()).To(BeNumerically("<=", len(importCalls)), "the simulator saw every call the import counted")
	first := readDir(t, dir)

	// 2. Apply the output as `kubectl apply -k` would: every resource of kustomization.yaml in
	// its namespace.
	applyStart := time.Now()
	objs := loadKustomization(t, dir)
	g.Expect(objs).To(HaveLen(m.Count()))
	for _, o := range objs {
		g.Expect(env.Client.Create(ctx, o)).To(Succeed(), o.GetName())
	}
	g.Eventually(func(g Gomega) {
		g.Expect(notReady(ctx, env.Client, ns)).To(BeEmpty())
	}).Should(Succeed())
	t.Logf("MEASURED apply to Ready: %d objects observed and Ready %s after the first create", len(objs), time.Since(applyStart).Round(time.Millisecond))

	// The tags and the app observed what the import read.
	oncallTag, wapp := &v1.WeComTag{}, &v1.WeComApp{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "tag-21"}, oncallTag)).To(Succeed())
	g.Expect(oncallTag.Status.TagID).To(BeEquivalentTo(21))
	g.Expect(oncallTag.Status.MemberCount).To(BeEquivalentTo(5))
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.Apps[0].Name}, wapp)).To(Succeed())
	g.Expect(wapp.Status.AgentID).To(Equal(env.Creds.AgentID))
	g.Expect(wapp.Status.MenuButtons).To(BeEquivalentTo(2))

	// The calendar observed its cal_id, and its schedule, bound by calendarRef, is Ready in it.
	wcal := &v1.WeComCalendar{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: calName}, wcal)).To(Succeed())
	g.Expect(wcal.Status.CalendarID).To(Equal(releases.CalID))
	g.Expect(wcal.Status.InvalidShares).To(BeEmpty())
	scheds := &v1.ScheduleList{}
	g.Expect(env.Client.List(ctx, scheds, client.InNamespace(ns))).To(Succeed())
	inCal := 0
	for _, sc := range scheds.Items {
		if sc.Spec.CalendarRef != nil {
			inCal++
			g.Expect(sc.Spec.CalendarRef.Name).To(Equal(calName))
			g.Expect(sc.Status.ScheduleID).To(Equal(train))
			g.Expect(sc.Status.CalendarID).To(Equal(releases.CalID))
		}
	}
	g.Expect(inCal).To(Equal(1))

	// Nothing was written to WeCom, and nothing drifted.
	g.Expect(writesSince(env.Sim, mark)).To(BeEmpty())
	rows, err := importer.ListDrift(ctx, env.Client, ns)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(BeEmpty())
	var tree bytes.Buffer
	g.Expect(importer.PrintTree(ctx, env.Client, ns, true, &tree)).To(Succeed())
	g.Expect(tree.String()).To(HaveSuffix(fmt.Sprintf("%d departments: %d Ready, 0 Drifted, 0 waiting; %d members: %d Ready, 0 Drifted, 0 waiting\n",
		depts, depts, members+4, members+4)))
	g.Expect(tree.String()).To(ContainSubstring("├── Engineering  dept-2-engineering  id 2  Ready\n│   ├── SRE  dept-3-sre  id 3  Ready\n"))

	// 3. The import again, through the command line and the kubeconfig (the context's
	// namespace), into the same directory: not a byte changes.
	kubeconfig := writeKubeconfig(t, env, ns)
	var stdout, stderr bytes.Buffer
	cliStart := time.Now()
	code := importer.Main(ctx, []string{"import", "--kubeconfig", kubeconfig, "--connection", testenv.ContactsConnection,
		"--app-connection", testenv.AppConnection, "--chat", chatID, "--calendar", releases.CalID, "--output-dir", dir, "--qps", "150", "--burst", "50"},
		importer.IO{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	cliElapsed := time.Since(cliStart)
	g.Expect(code).To(Equal(0), stdout.String()+stderr.String())
	t.Logf("second import (CLI, --qps 150):\n%s", stdout.String())
	t.Logf("MEASURED import (CLI, --qps 150): wall time %s", cliElapsed.Round(time.Millisecond))
	for _, f := range []string{importer.FileDepartments, importer.FileUsers, importer.FileTags, importer.FileContactWays, importer.FileCalendars,
		importer.FileSchedules, importer.FileAppChats, importer.FileApps, importer.FileKustomization} {
		g.Expect(stdout.String()).To(MatchRegexp(`(?m)^  %s\s.*unchanged$`, strings.ReplaceAll(f, ".", `\.`)))
	}
	g.Expect(stdout.String()).To(ContainSubstring("oa/calendar/get 1,"), "one oa/calendar/get for the calendars")
	second := readDir(t, dir)
	g.Expect(second).To(HaveLen(len(first)))
	for name, b := range first {
		g.Expect(bytes.Equal(b, second[name])).To(BeTrue(), name+" changed on the second import")
	}
	g.Expect(writesSince(env.Sim, mark)).To(BeEmpty())

	// drift and tree through the command line too.
	stdout.Reset()
	g.Expect(importer.Main(ctx, []string{"drift", "--kubeconfig", kubeconfig, "-A"}, importer.IO{Stdout: &stdout, Stderr: &stderr})).To(Equal(0))
	g.Expect(stdout.String()).To(Equal("No drifted objects in any namespace.\n"))
	stdout.Reset()
	g.Expect(importer.Main(ctx, []string{"tree", "--kubeconfig", kubeconfig, "--members=false"}, importer.IO{Stdout: &stdout, Stderr: &stderr})).To(Equal(0))
	g.Expect(stdout.String()).To(HaveSuffix(fmt.Sprintf("%d departments: %d Ready, 0 Drifted, 0 waiting\n", depts, depts)))

	// 4. Hand one department and its members over (managementPolicies ["*"], as the kustomize
	// patch of docs/import.md does): WeCom already matches, so still nothing is written.
	const squad = "dept-119-squad-119-a"
	handed := []client.Object{&v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: squad}}}
	squadMembers := &v1.WeComUserList{}
	g.Expect(env.Client.List(ctx, squadMembers, client.InNamespace(ns), client.MatchingLabels{importer.LabelMainDepartment: squad})).To(Succeed())
	g.Expect(len(squadMembers.Items)).To(BeNumerically(">=", 10))
	for i := range squadMembers.Items {
		handed = append(handed, &squadMembers.Items[i])
	}
	for _, o := range handed {
		p := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"managementPolicies":["*"]}}`))
		g.Expect(env.Client.Patch(ctx, o, p)).To(Succeed())
	}
	g.Eventually(func(g Gomega) {
		g.Expect(notReady(ctx, env.Client, ns)).To(BeEmpty())
	}).Should(Succeed())
	g.Expect(writesSince(env.Sim, mark)).To(BeEmpty(), "a handed-over department that matches WeCom costs no write")

	// 5. A hand edit in WeCom: a member moved to another department in the admin console.
	// Its observe-only object shows the drift, and nothing is written.
	const edited = "m0100"
	editedName := importer.UserName(edited)
	var from int64
	for _, u := range seed.Users {
		if u.UserID == edited {
			from = u.Department[0]
		}
	}
	to := from + 1 // the next squad
	_, err = env.Sim.ConsoleUpdateUser(wecomsim.UserEdit{UserID: edited, Department: []int64{to}, Order: []uint32{0}, IsLeaderInDept: []int{0}})
	g.Expect(err).NotTo(HaveOccurred())
	member := &v1.WeComUser{}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: editedName}, member)).To(Succeed())
		ready := apimeta.FindStatusCondition(member.Status.Conditions, v1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(v1.ReasonDrifted), ready.Message)
		g.Expect(member.Status.Drift).To(ContainElement(SatisfyAll(HaveField("Field", "departments"),
			HaveField("WeCom", ContainSubstring(fmt.Sprint(to))), HaveField("Spec", ContainSubstring(fmt.Sprint(from))))))
	}).Should(Succeed())
	rows, err = importer.ListDrift(ctx, env.Client, ns)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).NotTo(BeEmpty())
	for _, r := range rows {
		g.Expect(r.Name).To(Equal(editedName), "only the edited member drifted")
	}
	g.Expect(writesSince(env.Sim, mark)).To(BeEmpty(), "a drifted observe-only object writes nothing")

	// Switching it to full management: exactly one write repairs it.
	repair := lastSeq(env.Sim)
	g.Expect(env.Client.Patch(ctx, member, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"managementPolicies":["*"]}}`)))).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(notReady(ctx, env.Client, ns)).To(BeEmpty())
	}).Should(Succeed())
	g.Expect(writesSince(env.Sim, repair)).To(Equal([]string{"/cgi-bin/user/update"}), "exactly one write repairs the hand edit")
	for _, u := range env.Sim.State().Users {
		if u.UserID == edited {
			g.Expect(u.Department).To(Equal([]int64{from}))
		}
	}
	mark = lastSeq(env.Sim)

	// 6. Delete every object: WeCom keeps everything (the handed-over ones keep deletionPolicy
	// Orphan).
	before := env.Sim.State()
	for _, o := range []client.Object{&v1.WeComUser{}, &v1.WeComDepartment{}, &v1.WeComTag{}, &v1.ContactWay{}, &v1.Schedule{}, &v1.WeComCalendar{}, &v1.WeComAppChat{}, &v1.WeComApp{}} {
		g.Expect(env.Client.DeleteAllOf(ctx, o, client.InNamespace(ns))).To(Succeed())
	}
	g.Eventually(func(g Gomega) {
		n, err := countManaged(ctx, env.Client, ns)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(n).To(BeZero())
	}).Should(Succeed())
	g.Expect(writesSince(env.Sim, mark)).To(BeEmpty(), "deleting observe-only objects writes nothing")
	after := env.Sim.State()
	g.Expect(after.Users).To(HaveLen(len(before.Users)))
	g.Expect(after.Departments).To(HaveLen(len(before.Departments)))
	g.Expect(after.ContactWays).To(HaveLen(len(before.ContactWays)))
	g.Expect(after.Tags).To(ConsistOf(before.Tags), "the tags keep their members")
	g.Expect(after.Apps).To(ConsistOf(before.Apps), "the app keeps its settings and menu")
	for _, s := range after.Schedules {
		g.Expect(s.Status).To(BeZero(), "no schedule was cancelled")
	}
	g.Expect(after.Calendars).To(ConsistOf(before.Calendars), "the calendars stay, with their shares")

	// 7. Late initialisation: the manifests again, without the fields that late-initialise
	// (departments' nameEn and order, members' bizMail). The departments observe with
	// LateInitialize, one of them without it; squad 119-a's members are fully managed. Every
	// empty field is filled from WeCom, a set one is kept, and WeCom receives no write.
	const plain = "dept-101-division-1" // ["Observe"] only: nothing filled
	applied := 0
	for _, o := range loadKustomization(t, dir) {
		switch o.GetKind() {
		case "WeComDepartment":
			unstructured.RemoveNestedField(o.Object, "spec", "nameEn")
			unstructured.RemoveNestedField(o.Object, "spec", "order")
			policies := []any{string(v1.ManagementObserve), string(v1.ManagementLateInitialize)}
			if o.GetName() == plain {
				policies = []any{string(v1.ManagementObserve)}
			}
			g.Expect(unstructured.SetNestedSlice(o.Object, policies, "spec", "managementPolicies")).To(Succeed())
		case "WeComUser":
			if o.GetLabels()[importer.LabelMainDepartment] != squad {
				continue
			}
			unstructured.RemoveNestedField(o.Object, "spec", "bizMail")
			g.Expect(unstructured.SetNestedStringSlice(o.Object, []string{"*"}, "spec", "managementPolicies")).To(Succeed())
		default:
			continue
		}
		g.Expect(env.Client.Create(ctx, o)).To(Succeed(), o.GetName())
		applied++
	}
	g.Expect(applied).To(Equal(depts + len(squadMembers.Items)))
	g.Eventually(func(g Gomega) {
		g.Expect(notReady(ctx, env.Client, ns)).To(BeEmpty())
		wecomDepts := map[int64]wecomsim.Department{}
		for _, d := range env.Sim.State().Departments {
			wecomDepts[d.ID] = d
		}
		list := &v1.WeComDepartmentList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		g.Expect(list.Items).To(HaveLen(depts))
		for _, d := range list.Items {
			w := wecomDepts[*d.Spec.ID]
			if d.Name == plain {
				g.Expect(d.Spec.NameEn).To(BeEmpty(), "no LateInitialize, nothing filled")
				g.Expect(d.Spec.Order).To(BeNil())
				g.Expect(w.NameEn).NotTo(BeEmpty())
				continue
			}
			g.Expect(d.Spec.NameEn).To(Equal(w.NameEn), d.Name)
			g.Expect(d.Spec.Order).To(HaveValue(BeEquivalentTo(w.Order)), d.Name)
		}
	}).Should(Succeed())
	bizMails := 0
	wecomUsers := map[string]wecomsim.User{}
	for _, u := range env.Sim.State().Users {
		wecomUsers[u.UserID] = u
	}
	users := &v1.WeComUserList{}
	g.Expect(env.Client.List(ctx, users, client.InNamespace(ns))).To(Succeed())
	g.Expect(users.Items).To(HaveLen(len(squadMembers.Items)))
	for _, u := range users.Items {
		g.Expect(u.Spec.BizMail).To(Equal(wecomUsers[u.Spec.UserID].BizMail), u.Name)
		if u.Spec.BizMail != "" {
			bizMails++
		}
	}
	g.Expect(bizMails).To(BeNumerically(">", 0), "some of the squad's members have a corporate mailbox")
	g.Expect(writesSince(env.Sim, mark)).To(BeEmpty(), "late initialisation writes to the spec, never to WeCom")
	t.Logf("late initialisation: %d departments (nameEn, order) and %d members (%d bizMail) filled from WeCom, 0 WeCom writes",
		depts-1, len(users.Items), bizMails)
	t.Logf("MEASURED test wall time: %s (setup %s)", time.Since(testStart).Round(time.Millisecond), setupDone.Sub(testStart).Round(time.Millisecond))
}

func ptr[T any](v T) *T { return &v }

func lastSeq(sim *wecomsim.Server) int64 {
	calls := sim.Calls()
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

func callsSince(sim *wecomsim.Server, seq int64, keep func(wecomsim.Call) bool) []wecomsim.Call {
	var out []wecomsim.Call
	for _, c := range sim.Calls() {
		if c.Seq > seq && keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func writesSince(sim *wecomsim.Server, seq int64) []string {
	var out []string
	for _, c := range callsSince(sim, seq, func(c wecomsim.Call) bool { return writeEndpoint(c.Endpoint) }) {
		out = append(out, c.Endpoint)
	}
	return out
}

func callList(m map[string]int) string {
	var parts []string
	for _, k := range []string{"gettoken", "department/list", "user/list_id", "user/get", "tag/list", "tag/get", "agent/get", "menu/get", "externalcontact/list_contact_way",
		"externalcontact/get_contact_way", "oa/schedule/get_by_calendar", "oa/calendar/get", "appchat/get"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// loadKustomization returns the objects of the resources kustomization.yaml lists, in the
// namespace it names.
func loadKustomization(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	var k struct {
		Namespace string   `json:"namespace"`
		Resources []string `json:"resources"`
	}
	b, err := os.ReadFile(filepath.Join(dir, importer.FileKustomization))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, r := range k.Resources {
		b, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "---\n") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			o := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &o.Object); err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			o.SetNamespace(k.Namespace)
			out = append(out, o)
		}
	}
	return out
}

// notReady lists the objects of ns that are not Ready, with their Ready reason.
func notReady(ctx context.Context, c client.Client, ns string) ([]string, error) {
	var out []string
	lists := []client.ObjectList{&v1.WeComDepartmentList{}, &v1.WeComUserList{}, &v1.WeComTagList{}, &v1.ContactWayList{}, &v1.WeComCalendarList{}, &v1.ScheduleList{},
		&v1.WeComAppChatList{}, &v1.WeComAppList{}}
	for _, l := range lists {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		items, err := apimeta.ExtractList(l)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			o := it.(v1.Managed)
			ready := apimeta.FindStatusCondition(o.GetResourceStatus().Conditions, v1.ConditionReady)
			if ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != o.GetGeneration() {
				reason := "none"
				if ready != nil {
					reason = ready.Reason + ": " + ready.Message
				}
				out = append(out, o.GetName()+" "+reason)
			}
		}
	}
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("… %d more", len(out)-5))
	}
	return out, nil
}

func countManaged(ctx context.Context, c client.Client, ns string) (int, error) {
	n := 0
	for _, l := range []client.ObjectList{&v1.WeComDepartmentList{}, &v1.WeComUserList{}, &v1.WeComTagList{}, &v1.ContactWayList{}, &v1.WeComCalendarList{}, &v1.ScheduleList{},
		&v1.WeComAppChatList{}, &v1.WeComAppList{}} {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return 0, err
		}
		n += apimeta.LenList(l)
	}
	return n, nil
}

// writeKubeconfig writes a kubeconfig for the test's API server whose context's namespace is ns.
func writeKubeconfig(t *testing.T, env *testenv.Env, ns string) string {
	t.Helper()
	cfg := env.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: ns}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}
