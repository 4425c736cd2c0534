package wecomapp

import (
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var _ = BeforeEach(resetApp)

// oncallMenu is a menu of the three kinds of button: an action, a link, and a sub-menu.
func oncallMenu() []v1.MenuButton {
	return []v1.MenuButton{
		{Name: "值班", Type: v1.MenuClick, Key: "ONCALL_WHO"},
		{Name: "告警", SubButtons: []v1.MenuSubButton{
			{Name: "当前告警", Type: v1.MenuView, URL: "https://alerts.example.com/"},
			{Name: "扫码报障", Type: v1.MenuScanCodePush, Key: "REPORT_SCAN"},
			{Name: "小程序", Type: v1.MenuViewMiniProgram, AppID: "wx4389ji4kAAA", PagePath: "pages/index"},
		}},
	}
}

// simOncallMenu is oncallMenu as WeCom holds it.
var simOncallMenu = []wecomsim.MenuButton{
	{Type: "click", Name: "值班", Key: "ONCALL_WHO"},
	{Name: "告警", SubButtons: []wecomsim.MenuButton{
		{Type: "view", Name: "当前告警", URL: "https://alerts.example.com/"},
		{Type: "scancode_push", Name: "扫码报障", Key: "REPORT_SCAN"},
		{Type: "view_miniprogram", Name: "小程序", AppID: "wx4389ji4kAAA", PagePath: "pages/index"},
	}},
}

var _ = Describe("WeComApp", func() {
	It("adopts the connection's app with reads only, then sets each field with one agent/set of that field", func() {
		ns := newNamespace("appfields")
		a := app(ns, "ops")
		m := env.Mark()
		env.Create(a)
		Eventually(env.Ready(a)).Should(Succeed())
		Expect(a.Status.AgentID).To(Equal(env.Creds.AgentID))
		Expect(a.Status.Name).To(Equal(baseline.name))
		Expect(a.Status.SquareLogoURL).To(HavePrefix("https://"))
		Expect(a.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, strconv.FormatInt(env.Creds.AgentID, 10)))
		Expect(env.CallsSince(m, appWrites...)).To(BeEmpty(), "adopting an app with no fields set writes nothing")
		Expect(env.CallsSince(m, "menu/get")).To(BeEmpty(), "the menu is not read while spec.menu is unset")
		Eventually(env.HasEvent(a, corev1.EventTypeNormal, controller.EventAdopted)).Should(Succeed())

		steps := []struct {
			what   string
			mutate func(*v1.WeComApp)
			body   map[string]any // agent/set's fields besides agentid
			check  func(wecomsim.AgentSettings) bool
		}{
			{"name", func(a *v1.WeComApp) { a.Spec.Name = ptr("运维助手") }, map[string]any{"name": "运维助手"},
				func(s wecomsim.AgentSettings) bool { return s.Name == "运维助手" }},
			{"description", func(a *v1.WeComApp) { a.Spec.Description = ptr("告警、值班与变更通知") }, map[string]any{"description": "告警、值班与变更通知"},
				func(s wecomsim.AgentSettings) bool { return s.Description == "告警、值班与变更通知" }},
			{"homeURL", func(a *v1.WeComApp) { a.Spec.HomeURL = ptr("https://ops.example.com/") }, map[string]any{"home_url": "https://ops.example.com/"},
				func(s wecomsim.AgentSettings) bool { return s.HomeURL == "https://ops.example.com/" }},
			{"redirectDomain", func(a *v1.WeComApp) { a.Spec.RedirectDomain = ptr("ops.example.com") }, map[string]any{"redirect_domain": "ops.example.com"},
				func(s wecomsim.AgentSettings) bool { return s.RedirectDomain == "ops.example.com" }},
			{"reportLocation", func(a *v1.WeComApp) { a.Spec.ReportLocation = ptr(true) }, map[string]any{"report_location_flag": float64(1)},
				func(s wecomsim.AgentSettings) bool { return s.ReportLocationFlag == 1 }},
			{"reportEnter", func(a *v1.WeComApp) { a.Spec.ReportEnter = ptr(true) }, map[string]any{"isreportenter": float64(1)},
				func(s wecomsim.AgentSettings) bool { return s.IsReportEnter == 1 }},
			{"reportEnter off again", func(a *v1.WeComApp) { a.Spec.ReportEnter = ptr(false) }, map[string]any{"isreportenter": float64(0)},
				func(s wecomsim.AgentSettings) bool { return s.IsReportEnter == 0 }},
			{"logoMediaID", func(a *v1.WeComApp) { a.Spec.LogoMediaID = ptr("MEDIA_LOGO_1") }, map[string]any{"logo_mediaid": "MEDIA_LOGO_1"},
				func(s wecomsim.AgentSettings) bool { return s.LogoSerial > 0 }},
		}
		for _, step := range steps {
			By("changing " + step.what)
			m := env.Mark()
			testenv.Change(env, a, step.mutate)
			Eventually(env.Ready(a)).Should(Succeed())
			writes := env.CallsSince(m, appWrites...)
			Expect(testenv.CountByEndpoint(writes)).To(Equal(map[string]int{"agent/set": 1}), step.what)
			want := map[string]any{"agentid": float64(env.Creds.AgentID)}
			for k, v := range step.body {
				want[k] = v
			}
			Expect(bodyOf(writes[0])).To(Equal(want), step.what)
			got, _ := simApp()
			Expect(step.check(got)).To(BeTrue(), "%s: WeCom holds %+v", step.what, got)
		}
		Expect(a.Status.Name).To(Equal("运维助手"))
		Expect(a.Status.LogoMediaID).To(Equal("MEDIA_LOGO_1"))
		Eventually(env.HasEvent(a, corev1.EventTypeNormal, controller.EventUpdated)).Should(Succeed())

		By("a drift check that finds nothing to do reads the app and writes nothing (the logo is not set again)")
		m = env.Mark()
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, appWrites...) }, interval+interval/2).Should(BeEmpty())
		Expect(env.CallsSince(m, "agent/get")).NotTo(BeEmpty())

		By("removing a field from the spec leaves WeCom's value alone")
		m = env.Mark()
		testenv.Change(env, a, func(a *v1.WeComApp) { a.Spec.Name = nil })
		Eventually(env.Ready(a)).Should(Succeed())
		Expect(env.CallsSince(m, appWrites...)).To(BeEmpty())
		got, _ := simApp()
		Expect(got.Name).To(Equal("运维助手"))
	})

	It("sets, changes and removes the menu with one call each, and leaves it alone when spec.menu goes", func() {
		ns := newNamespace("appmenu")
		a := app(ns, "ops", func(a *v1.WeComApp) { a.Spec.Menu = &v1.AppMenu{Buttons: oncallMenu()} })
		m := env.Mark()
		env.Create(a)
		Eventually(env.Ready(a)).Should(Succeed())
		Expect(a.Status.MenuButtons).To(Equal(int32(2)))
		writes := env.CallsSince(m, appWrites...)
		Expect(testenv.CountByEndpoint(writes)).To(Equal(map[string]int{"menu/create": 1}))
		Expect(writes[0].Query).To(HaveKeyWithValue("agentid", strconv.FormatInt(env.Creds.AgentID, 10)))
		Expect(writes[0].Body).To(MatchJSON(`{"button":[{"type":"click","name":"值班","key":"ONCALL_WHO"},{"name":"告警","sub_button":[
			{"type":"view","name":"当前告警","url":"https://alerts.example.com/"},
			{"type":"scancode_push","name":"扫码报障","key":"REPORT_SCAN"},
			{"type":"view_miniprogram","name":"小程序","pagepath":"pages/index","appid":"wx4389ji4kAAA"}]}]}`))
		_, menu := simApp()
		Expect(menu).To(Equal(simOncallMenu))

		By("a renamed sub-button: the whole menu is created again, once")
		m = env.Mark()
		testenv.Change(env, a, func(a *v1.WeComApp) { a.Spec.Menu.Buttons[1].SubButtons[0].Name = "告警列表" })
		Eventually(func(g Gomega) {
			env.Ready(a)(g)
			_, menu := simApp()
			g.Expect(menu[1].SubButtons[0].Name).To(Equal("告警列表"))
		}).Should(Succeed())
		Expect(testenv.CountByEndpoint(env.CallsSince(m, appWrites...))).To(Equal(map[string]int{"menu/create": 1}))

		By("no buttons: the menu is removed")
		m = env.Mark()
		testenv.Change(env, a, func(a *v1.WeComApp) { a.Spec.Menu.Buttons = nil })
		Eventually(func(g Gomega) {
			env.Ready(a)(g)
			_, menu := simApp()
			g.Expect(menu).To(BeEmpty())
		}).Should(Succeed())
		Expect(testenv.CountByEndpoint(env.CallsSince(m, appWrites...))).To(Equal(map[string]int{"menu/delete": 1}))
		Expect(a.Status.MenuButtons).To(BeZero())

		By("spec.menu removed: a menu made by hand stays, and is not read")
		testenv.Change(env, a, func(a *v1.WeComApp) { a.Spec.Menu = nil })
		Eventually(env.Ready(a)).Should(Succeed())
		Expect(env.Sim.ConsoleSetMenu(env.Creds.AgentID, []wecomsim.MenuButton{{Type: "view", Name: "Home", URL: "https://example.com/"}})).To(Succeed())
		m = env.Mark()
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, append(appWrites, "menu/get")...) }, interval+interval/2).Should(BeEmpty())
		_, menu = simApp()
		Expect(menu).To(HaveLen(1))
	})

	It("repairs settings and a menu changed by hand in the admin console", func() {
		ns := newNamespace("appdrift")
		a := app(ns, "ops", func(a *v1.WeComApp) {
			a.Spec.Name, a.Spec.Description, a.Spec.ReportEnter = ptr("运维助手"), ptr("告警与值班"), ptr(true)
			a.Spec.Menu = &v1.AppMenu{Buttons: oncallMenu()}
		})
		env.Create(a)
		Eventually(env.Ready(a)).Should(Succeed())

		By("a rename, a reporting flag and the menu changed by hand")
		name, off := "Renamed by hand", 0
		Expect(env.Sim.ConsoleSetAgent(env.Creds.AgentID, wecomsim.AgentEdit{Name: &name, IsReportEnter: &off})).To(Succeed())
		Expect(env.Sim.ConsoleSetMenu(env.Creds.AgentID, []wecomsim.MenuButton{{Type: "view", Name: "Home", URL: "https://example.com/"}})).To(Succeed())
		m := env.Mark()
		start := time.Now()
		Eventually(func(g Gomega) {
			got, menu := simApp()
			g.Expect(got.Name).To(Equal("运维助手"))
			g.Expect(got.IsReportEnter).To(Equal(1))
			g.Expect(menu).To(Equal(simOncallMenu))
			env.Ready(a)(g)
		}, 4*interval).Should(Succeed())
		AddReportEntry("app edits repaired after", time.Since(start).Round(100*time.Millisecond))
		writes := testenv.Succeeded(env.CallsSince(m, appWrites...))
		Expect(testenv.CountByEndpoint(writes)).To(Equal(map[string]int{"agent/set": 1, "menu/create": 1}))
		for _, w := range writes {
			if w.Endpoint == "/cgi-bin/agent/set" {
				Expect(bodyOf(w)).To(Equal(map[string]any{"agentid": float64(env.Creds.AgentID), "name": "运维助手", "isreportenter": float64(1)}),
					"only the fields changed by hand are sent")
			}
		}
		Expect(a.Status.Drift).To(BeEmpty())

		By("a menu removed by hand is made again")
		Expect(env.Sim.ConsoleDeleteMenu(env.Creds.AgentID)).To(Succeed())
		m = env.Mark()
		Eventually(func(g Gomega) {
			_, menu := simApp()
			g.Expect(menu).To(Equal(simOncallMenu))
		}, 4*interval).Should(Succeed())
		Expect(testenv.CountByEndpoint(testenv.Succeeded(env.CallsSince(m, appWrites...)))).To(Equal(map[string]int{"menu/create": 1}))
	})

	It("with managementPolicies [Observe] reports drift and repairs nothing until Update is allowed", func() {
		ns := newNamespace("appobserve")
		a := app(ns, "ops", func(a *v1.WeComApp) {
			a.Spec.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve}
			a.Spec.Description = ptr("告警与值班")
			a.Spec.Menu = &v1.AppMenu{Buttons: oncallMenu()[:1]}
		})
		m := env.Mark()
		env.Create(a)
		Eventually(env.HasCondition(a, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonDrifted, "description", "menu.buttons", "add Update")).Should(Succeed())
		Expect(a.Status.Drift).To(ContainElement(v1.DriftedField{Field: "description", WeCom: baseline.description, Spec: "告警与值班"}))
		Expect(a.Status.AgentID).To(Equal(env.Creds.AgentID))
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, appWrites...) }, interval).Should(BeEmpty())

		m = env.Mark()
		testenv.Change(env, a, func(a *v1.WeComApp) {
			a.Spec.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve, v1.ManagementUpdate}
		})
		Eventually(env.Ready(a)).Should(Succeed())
		Expect(testenv.CountByEndpoint(env.CallsSince(m, appWrites...))).To(Equal(map[string]int{"agent/set": 1, "menu/create": 1}))
		got, menu := simApp()
		Expect(got.Description).To(Equal("告警与值班"))
		Expect(menu).To(Equal(simOncallMenu[:1]))
	})

	It("releases the app on delete, and removes the menu only with removeOnDelete and the Delete policy", func() {
		ns := newNamespace("appdelete")

		By("without removeOnDelete: released, the menu stays, no call")
		kept := app(ns, "kept", func(a *v1.WeComApp) { a.Spec.Menu = &v1.AppMenu{Buttons: oncallMenu()} })
		env.Create(kept)
		Eventually(env.Ready(kept)).Should(Succeed())
		m := env.Mark()
		env.Remove(kept)
		Eventually(env.Gone(kept)).Should(Succeed())
		Eventually(env.HasEvent(kept, corev1.EventTypeNormal, controller.EventOrphaned, "Released the app")).Should(Succeed())
		Expect(env.CallsSince(m, appWrites...)).To(BeEmpty())
		_, menu := simApp()
		Expect(menu).To(Equal(simOncallMenu))

		By("removeOnDelete without the Delete policy: released, the menu stays")
		noDelete := app(ns, "nodelete", func(a *v1.WeComApp) {
			a.Spec.Menu = &v1.AppMenu{Buttons: oncallMenu(), RemoveOnDelete: true}
			a.Spec.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve, v1.ManagementUpdate}
		})
		env.Create(noDelete)
		Eventually(env.Ready(noDelete)).Should(Succeed())
		m = env.Mark()
		env.Remove(noDelete)
		Eventually(env.Gone(noDelete)).Should(Succeed())
		Expect(env.CallsSince(m, appWrites...)).To(BeEmpty())
		_, menu = simApp()
		Expect(menu).To(Equal(simOncallMenu))

		By("removeOnDelete: one menu/delete, and the app with its settings stays")
		removed := app(ns, "removed", func(a *v1.WeComApp) {
			a.Spec.Name = ptr("运维助手")
			a.Spec.Menu = &v1.AppMenu{Buttons: oncallMenu(), RemoveOnDelete: true}
		})
		env.Create(removed)
		Eventually(env.Ready(removed)).Should(Succeed())
		m = env.Mark()
		env.Remove(removed)
		Eventually(env.Gone(removed)).Should(Succeed())
		deletes := env.CallsSince(m, appWrites...)
		Expect(testenv.CountByEndpoint(deletes)).To(Equal(map[string]int{"menu/delete": 1}))
		Eventually(env.HasEvent(removed, corev1.EventTypeNormal, controller.EventDeleted, "Removed the app's menu")).Should(Succeed())
		Expect(deletes[0].Query).To(HaveKeyWithValue("agentid", strconv.FormatInt(env.Creds.AgentID, 10)))
		got, menu := simApp()
		Expect(menu).To(BeEmpty())
		Expect(got.Name).To(Equal("运维助手"))

		By("removeOnDelete with the connection gone: the delete waits and says how to release the app")
		conn := env.Connection(ns, "app2", env.Creds.AgentID)
		conn.Spec.SecretRef.Name = "app"
		env.Create(conn)
		stuck := app(ns, "stuck", func(a *v1.WeComApp) {
			a.Spec.ConnectionRef.Name = "app2"
			a.Spec.Menu = &v1.AppMenu{Buttons: oncallMenu(), RemoveOnDelete: true}
		})
		env.Create(stuck)
		Eventually(env.Ready(stuck)).Should(Succeed())
		env.Remove(conn)
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(conn), conn)).To(Succeed())
			c := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(v1.ReasonInUse), c.Message)
			g.Expect(c.Message).To(ContainSubstring("WeComApp/stuck"))
		}).Should(Succeed(), "the connection is kept while the app uses it")
		// Only a person who removes its finalizers by hand can make it go first.
		testenv.Change(env, conn, func(c *v1.WeComConnection) { c.Finalizers = nil })
		Eventually(env.Gone(conn)).Should(Succeed())
		m = env.Mark()
		env.Remove(stuck)
		Eventually(env.HasCondition(stuck, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonConnectionNotReady,
			"cannot delete the WeCom object", "set spec.menu.removeOnDelete: false")).Should(Succeed())
		testenv.Change(env, stuck, func(a *v1.WeComApp) { a.Spec.Menu.RemoveOnDelete = false })
		Eventually(env.Gone(stuck)).Should(Succeed())
		Expect(env.CallsSince(m, appWrites...)).To(BeEmpty())
		_, menu = simApp()
		Expect(menu).To(Equal(simOncallMenu))
	})

	It("lets only the oldest of two objects of one connection manage the app; the other takes over when it goes", func() {
		ns := newNamespace("apptwo")
		first := app(ns, "first", func(a *v1.WeComApp) { a.Spec.Description = ptr("告警与值班") })
		env.Create(first)
		Eventually(env.Ready(first)).Should(Succeed())
		second := app(ns, "second", func(a *v1.WeComApp) { a.Spec.Description = ptr("另一个描述") })
		m := env.Mark()
		env.Create(second)
		Eventually(env.HasCondition(second, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonReconcileError,
			`WeComApp "first" already manages app 1000002`, "delete one of them")).Should(Succeed())
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, appWrites...) }, interval).Should(BeEmpty())
		got, _ := simApp()
		Expect(got.Description).To(Equal("告警与值班"))

		By("deleting a waiting object with removeOnDelete leaves the menu of the one that manages the app")
		testenv.Change(env, first, func(a *v1.WeComApp) { a.Spec.Menu = &v1.AppMenu{Buttons: oncallMenu()} })
		Eventually(env.Ready(first)).Should(Succeed())
		third := app(ns, "third", func(a *v1.WeComApp) { a.Spec.Menu = &v1.AppMenu{RemoveOnDelete: true} })
		env.Create(third)
		Eventually(env.HasCondition(third, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonReconcileError, `WeComApp "first" already manages`)).Should(Succeed())
		m = env.Mark()
		env.Remove(third)
		Eventually(env.Gone(third)).Should(Succeed())
		Eventually(env.HasEvent(third, corev1.EventTypeNormal, controller.EventOrphaned, "Released the app")).Should(Succeed())
		Expect(env.CallsSince(m, appWrites...)).To(BeEmpty())
		_, menu := simApp()
		Expect(menu).To(Equal(simOncallMenu))

		env.Remove(first)
		Eventually(env.Gone(first)).Should(Succeed())
		Eventually(env.Ready(second), 30*time.Second).Should(Succeed())
		got, _ = simApp()
		Expect(got.Description).To(Equal("另一个描述"))
	})

	It("surfaces WeCom's refusals in its conditions with the errcode and what to do", func() {
		ns := newNamespace("apperrors")

		By("a redirect domain that fails WeCom's ownership check: 85005")
		Expect(env.Sim.SetVerifiedDomains(env.Creds.AgentID, "ops.example.com")).To(Succeed())
		a := app(ns, "ops", func(a *v1.WeComApp) {
			a.Spec.Description = ptr("告警与值班")
			a.Spec.RedirectDomain = ptr("unverified.example.com")
		})
		env.Create(a)
		Eventually(env.HasCondition(a, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected, "errcode 85005", "ownership check")).Should(Succeed())
		Eventually(env.HasCondition(a, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonWeComRejected, "85005")).Should(Succeed())
		Eventually(env.HasEvent(a, corev1.EventTypeWarning, controller.EventUpdateFailed, "85005")).Should(Succeed())
		got, _ := simApp()
		Expect(got.Description).To(Equal(baseline.description), "a refused agent/set changes nothing")
		testenv.Change(env, a, func(a *v1.WeComApp) { a.Spec.RedirectDomain = ptr("ops.example.com") })
		Eventually(env.Ready(a)).Should(Succeed())
		env.Remove(a)
		Eventually(env.Gone(a)).Should(Succeed())

		By("WeCom busy (-1): retried with backoff until it answers, the condition says so meanwhile")
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"agent/set"}, ErrorRate: 1})
		busy := app(ns, "busy", func(a *v1.WeComApp) { a.Spec.Description = ptr("值班与告警通知") })
		env.Create(busy)
		Eventually(env.HasCondition(busy, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonRetrying, "errcode -1", "retrying with backoff")).Should(Succeed())
		env.Sim.ClearFaults()
		Eventually(env.Ready(busy)).Should(Succeed())
		got, _ = simApp()
		Expect(got.Description).To(Equal("值班与告警通知"))
		env.Remove(busy)
		Eventually(env.Gone(busy)).Should(Succeed())

		By("a connection whose agentID is another app's: 301002")
		wrong := env.Connection(ns, "wrong-agent", env.Creds.LimitedAgentID)
		wrong.Spec.SecretRef.Name = "app" // the operator app's secret with the limited app's agentid
		env.Create(wrong)
		w := app(ns, "wrong", func(a *v1.WeComApp) { a.Spec.ConnectionRef.Name = "wrong-agent" })
		env.Create(w)
		Eventually(env.HasCondition(w, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPermissionDenied, "errcode 301002")).Should(Succeed())
		Expect(w.Status.AgentID).To(BeZero())
		env.Remove(w)
		Eventually(env.Gone(w)).Should(Succeed())

		By("a connection without an app (the contacts-sync secret)")
		c := app(ns, "contacts", func(a *v1.WeComApp) { a.Spec.ConnectionRef.Name = "contacts" })
		env.Create(c)
		Eventually(env.HasCondition(c, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonConnectionNotReady, "names no self-built app")).Should(Succeed())

		By("an object bound by annotation to another app than its connection's")
		b := app(ns, "bound", func(a *v1.WeComApp) {
			a.Annotations = map[string]string{v1.AnnotationExternalName: strconv.FormatInt(env.Creds.LimitedAgentID, 10)}
		})
		m := env.Mark()
		env.Create(b)
		Eventually(env.HasCondition(b, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonReconcileError, "manages app 1000003", "now names app 1000002")).Should(Succeed())
		Expect(env.CallsSince(m, appWrites...)).To(BeEmpty())
	})
})
