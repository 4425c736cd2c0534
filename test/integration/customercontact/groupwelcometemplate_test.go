package customercontact

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var templateWrites = []string{
	"externalcontact/group_welcome_template/add", "externalcontact/group_welcome_template/edit", "externalcontact/group_welcome_template/del",
}

// welcome returns a GroupWelcomeTemplate of the app connection with text.
func welcome(ns, name, text string, opts ...func(*v1.GroupWelcomeTemplate)) *v1.GroupWelcomeTemplate {
	t := &v1.GroupWelcomeTemplate{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	onApp(&t.Spec.ManagedSpec)
	t.Spec.Text = text
	for _, o := range opts {
		o(t)
	}
	return t
}

func simTemplate(id string) (wecomsim.GroupWelcomeTemplate, bool) {
	return env.Sim.State().WelcomeTemplate(id)
}

// expectTemplate checks that obj is Ready and WeCom holds its template with this text and
// attachment.
func expectTemplate(obj *v1.GroupWelcomeTemplate, text string, att *wecomsim.WelcomeAttachment) func(Gomega) {
	return func(g Gomega) {
		env.Ready(obj)(g)
		got, ok := simTemplate(obj.Status.TemplateID)
		g.Expect(ok).To(BeTrue(), "template %s is not in WeCom", obj.Status.TemplateID)
		g.Expect(got.Text).To(Equal(text))
		g.Expect(got.Attachment).To(Equal(att))
		g.Expect(obj.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, obj.Status.TemplateID))
	}
}

var _ = Describe("GroupWelcomeTemplate", func() {
	It("is added with one call, then each field is edited with one call", func() {
		ns := newNamespace("gwt")
		m := env.Mark()
		t := welcome(ns, "hello", "欢迎 %NICKNAME%", func(t *v1.GroupWelcomeTemplate) { t.Spec.Notify = ptr(false) })
		env.Create(t)
		Eventually(expectTemplate(t, "欢迎 %NICKNAME%", nil)).Should(Succeed())
		Eventually(env.HasEvent(t, corev1.EventTypeNormal, controller.EventCreated)).Should(Succeed())
		calls := testenv.Succeeded(env.CallsSince(m, templateWrites...))
		Expect(testenv.CountByEndpoint(calls)).To(Equal(map[string]int{"externalcontact/group_welcome_template/add": 1}))
		Expect(calls[0].Body).To(MatchJSON(`{"text":{"content":"欢迎 %NICKNAME%"},"notify":0}`))
		got, _ := simTemplate(t.Status.TemplateID)
		Expect(got.Notify).To(BeFalse())
		Expect(got.Owner).To(Equal("operator"))

		link := &v1.WelcomeLink{Title: "指南", Desc: "常见问题", URL: "https://example.com/guide"}
		mini := &v1.WelcomeMiniProgram{Title: "商城", PicMediaID: "MEDIA_MINI", AppID: "wx8bd80126147dfAAA", Page: "/index"}
		steps := []struct {
			what   string
			mutate func(*v1.GroupWelcomeTemplate)
			text   string
			att    *wecomsim.WelcomeAttachment
		}{
			{"text", func(t *v1.GroupWelcomeTemplate) { t.Spec.Text = "你好 %NICKNAME%" }, "你好 %NICKNAME%", nil},
			{"an image by media id", func(t *v1.GroupWelcomeTemplate) { t.Spec.Image = &v1.WelcomeImage{MediaID: "MEDIA_IMG"} }, "你好 %NICKNAME%",
				&wecomsim.WelcomeAttachment{MsgType: "image", Image: &wecomsim.WelcomeImage{MediaID: "MEDIA_IMG"}}},
			{"the image by pic_url", func(t *v1.GroupWelcomeTemplate) { t.Spec.Image = &v1.WelcomeImage{PicURL: "https://p.qpic.cn/x.png"} }, "你好 %NICKNAME%",
				&wecomsim.WelcomeAttachment{MsgType: "image", Image: &wecomsim.WelcomeImage{PicURL: "https://p.qpic.cn/x.png"}}},
			{"a link instead", func(t *v1.GroupWelcomeTemplate) { t.Spec.Image, t.Spec.Link = nil, link }, "你好 %NICKNAME%",
				&wecomsim.WelcomeAttachment{MsgType: "link", Link: &wecomsim.WelcomeLink{Title: "指南", Desc: "常见问题", URL: "https://example.com/guide"}}},
			{"a mini program instead, without text", func(t *v1.GroupWelcomeTemplate) { t.Spec.Text, t.Spec.Link, t.Spec.MiniProgram = "", nil, mini }, "",
				&wecomsim.WelcomeAttachment{MsgType: "miniprogram", MiniProgram: &wecomsim.WelcomeMiniProgram{Title: "商城", PicMediaID: "MEDIA_MINI", AppID: "wx8bd80126147dfAAA", Page: "/index"}}},
			{"a file", func(t *v1.GroupWelcomeTemplate) {
				t.Spec.MiniProgram, t.Spec.File = nil, &v1.WelcomeMedia{MediaID: "MEDIA_FILE"}
			}, "",
				&wecomsim.WelcomeAttachment{MsgType: "file", File: &wecomsim.WelcomeMedia{MediaID: "MEDIA_FILE"}}},
			{"a video and text", func(t *v1.GroupWelcomeTemplate) {
				t.Spec.Text, t.Spec.File, t.Spec.Video = "看视频", nil, &v1.WelcomeMedia{MediaID: "MEDIA_VIDEO"}
			}, "看视频", &wecomsim.WelcomeAttachment{MsgType: "video", Video: &wecomsim.WelcomeMedia{MediaID: "MEDIA_VIDEO"}}},
		}
		for _, step := range steps {
			By("changing " + step.what)
			m := env.Mark()
			testenv.Change(env, t, step.mutate)
			Eventually(expectTemplate(t, step.text, step.att)).Should(Succeed())
			Expect(testenv.CountByEndpoint(env.CallsSince(m, templateWrites...))).To(Equal(map[string]int{"externalcontact/group_welcome_template/edit": 1}), step.what)
		}
		Eventually(env.HasEvent(t, corev1.EventTypeNormal, controller.EventUpdated)).Should(Succeed())
	})

	It("puts back an edit made by hand, and adds a template deleted by hand again", func() {
		ns := newNamespace("gwtdrift")
		t := welcome(ns, "drift", "原文", func(t *v1.GroupWelcomeTemplate) {
			t.Spec.Link = &v1.WelcomeLink{Title: "t", URL: "https://example.com"}
		})
		env.Create(t)
		att := &wecomsim.WelcomeAttachment{MsgType: "link", Link: &wecomsim.WelcomeLink{Title: "t", URL: "https://example.com"}}
		Eventually(expectTemplate(t, "原文", att)).Should(Succeed())
		hand := env.ByHand(env.Creds.AppSecret)

		By("an edit through WeCom's API")
		Expect(hand.EditGroupWelcomeTemplate(ctx, t.Status.TemplateID, wecom.GroupWelcomeTemplate{Text: &wecom.WelcomeText{Content: "改了"}})).To(Succeed())
		m := env.Mark()
		Eventually(expectTemplate(t, "原文", att), 4*interval).Should(Succeed())
		Expect(testenv.CountByEndpoint(testenv.Succeeded(env.CallsSince(m, templateWrites...)))).To(Equal(map[string]int{"externalcontact/group_welcome_template/edit": 1}))

		By("a drift check that finds nothing to do reads the template once and writes nothing")
		m = env.Mark()
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, templateWrites...) }, interval+interval/2).Should(BeEmpty())
		Expect(env.CallsSince(m, "externalcontact/group_welcome_template/get")).NotTo(BeEmpty())

		By("a delete through WeCom's API: the template is added again")
		old := t.Status.TemplateID
		m = env.Mark()
		Expect(hand.DeleteGroupWelcomeTemplate(ctx, old)).To(Succeed())
		Eventually(func(g Gomega) {
			expectTemplate(t, "原文", att)(g)
			g.Expect(t.Status.TemplateID).NotTo(Equal(old))
		}, 4*interval).Should(Succeed())
		Expect(testenv.Succeeded(env.CallsSince(m, "externalcontact/group_welcome_template/add"))).To(HaveLen(1))
	})

	It("is deleted from WeCom with deletionPolicy Delete, and left in WeCom with Orphan", func() {
		ns := newNamespace("gwtdel")
		del := welcome(ns, "del", "删除")
		kept := welcome(ns, "kept", "保留", func(t *v1.GroupWelcomeTemplate) { t.Spec.DeletionPolicy = v1.DeletionOrphan })
		env.Create(del, kept)
		Eventually(expectTemplate(del, "删除", nil)).Should(Succeed())
		Eventually(expectTemplate(kept, "保留", nil)).Should(Succeed())

		m := env.Mark()
		env.Remove(del)
		Eventually(env.Gone(del)).Should(Succeed())
		_, ok := simTemplate(del.Status.TemplateID)
		Expect(ok).To(BeFalse())
		dels := env.CallsSince(m, templateWrites...)
		Expect(testenv.CountByEndpoint(dels)).To(Equal(map[string]int{"externalcontact/group_welcome_template/del": 1}))
		Expect(dels[0].Body).To(MatchJSON(`{"template_id":"` + del.Status.TemplateID + `"}`))

		m = env.Mark()
		env.Remove(kept)
		Eventually(env.Gone(kept)).Should(Succeed())
		_, ok = simTemplate(kept.Status.TemplateID)
		Expect(ok).To(BeTrue(), "an orphaned template stays in WeCom")
		Expect(env.CallsSince(m, templateWrites...)).To(BeEmpty())
		Expect(env.ByHand(env.Creds.AppSecret).DeleteGroupWelcomeTemplate(ctx, kept.Status.TemplateID)).To(Succeed())
	})

	It("adopts the template named by the external-name annotation and makes it match", func() {
		ns := newNamespace("gwtadopt")
		id, err := env.ByHand(env.Creds.AppSecret).AddGroupWelcomeTemplate(ctx, wecom.GroupWelcomeTemplate{Text: &wecom.WelcomeText{Content: "旧"}}, true)
		Expect(err).NotTo(HaveOccurred())
		m := env.Mark()
		t := welcome(ns, "adopted", "新")
		t.Annotations = map[string]string{v1.AnnotationExternalName: id}
		env.Create(t)
		Eventually(expectTemplate(t, "新", nil)).Should(Succeed())
		Expect(t.Status.TemplateID).To(Equal(id))
		Expect(testenv.CountByEndpoint(env.CallsSince(m, templateWrites...))).To(Equal(map[string]int{"externalcontact/group_welcome_template/edit": 1}))
	})

	It("never adds a second template when an add's reply was lost: it stops and says how to go on", func() {
		ns := newNamespace("gwtlost")
		before := len(env.Sim.State().WelcomeTemplates)
		env.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"externalcontact/group_welcome_template/add"}, LostReplyRate: 1})
		m := env.Mark()
		t := welcome(ns, "lost", "丢失的回复")
		env.Create(t)
		Eventually(env.HasCondition(t, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonCreateIncomplete,
			"cannot list group welcome templates", v1.AnnotationExternalName)).Should(Succeed())
		Eventually(env.HasEvent(t, corev1.EventTypeWarning, controller.EventCreateIncomplete)).Should(Succeed())
		env.Sim.ClearFaults()
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, "externalcontact/group_welcome_template/add") }, interval).Should(HaveLen(1))
		state := env.Sim.State().WelcomeTemplates
		Expect(state).To(HaveLen(before+1), "the lost add made exactly one template")
		made := state[len(state)-1]

		By("a person binds the object to the template the add made")
		testenv.Change(env, t, func(t *v1.GroupWelcomeTemplate) { t.Annotations[v1.AnnotationExternalName] = made.ID })
		Eventually(expectTemplate(t, "丢失的回复", nil)).Should(Succeed())
		Expect(t.Status.TemplateID).To(Equal(made.ID))
		Expect(env.Sim.State().WelcomeTemplates).To(HaveLen(before + 1))
		Expect(t.Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
	})

	It("says so when WeCom refuses: another app's template (41058), the 100-template cap (41055)", func() {
		ns := newNamespace("gwterr")

		By("a template another app added, bound by annotation but not editable")
		id, err := env.ByHand(otherApp.Secret).AddGroupWelcomeTemplate(ctx, wecom.GroupWelcomeTemplate{Text: &wecom.WelcomeText{Content: "theirs"}}, true)
		Expect(err).NotTo(HaveOccurred())
		foreign := welcome(ns, "foreign", "ours")
		foreign.Annotations = map[string]string{v1.AnnotationExternalName: id}
		env.Create(foreign)
		Eventually(env.HasCondition(foreign, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected,
			"41058", "added by another app")).Should(Succeed())
		env.Remove(foreign)
		Eventually(env.HasCondition(foreign, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonDeleteBlocked,
			"41058", "deletionPolicy: Orphan")).Should(Succeed())
		testenv.Change(env, foreign, func(t *v1.GroupWelcomeTemplate) { t.Spec.DeletionPolicy = v1.DeletionOrphan })
		Eventually(env.Gone(foreign)).Should(Succeed())
		Expect(env.ByHand(otherApp.Secret).DeleteGroupWelcomeTemplate(ctx, id)).To(Succeed())

		By("a corp whose library is full")
		var filler []string
		for len(env.Sim.State().WelcomeTemplates) < wecom.MaxGroupWelcomeTemplates {
			id, err := env.ByHand(otherApp.Secret).AddGroupWelcomeTemplate(ctx, wecom.GroupWelcomeTemplate{Text: &wecom.WelcomeText{Content: "filler"}}, false)
			Expect(err).NotTo(HaveOccurred())
			filler = append(filler, id)
		}
		m := env.Mark()
		full := welcome(ns, "full", "no room")
		env.Create(full)
		Eventually(env.HasCondition(full, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonWeComRejected, "41055", "at most 100")).Should(Succeed())
		// The refused add set and removed the create-pending mark: that must not wake the
		// object again (the next try is the drift interval's, 3s away).
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, "externalcontact/group_welcome_template/add") }, interval/3).Should(HaveLen(1))
		Expect(env.Sim.State().WelcomeTemplates).To(HaveLen(wecom.MaxGroupWelcomeTemplates), "WeCom refused: nothing was made")
		for _, id := range filler {
			Expect(env.ByHand(otherApp.Secret).DeleteGroupWelcomeTemplate(ctx, id)).To(Succeed())
		}
		Eventually(expectTemplate(full, "no room", nil), 4*interval).Should(Succeed())
	})

	It("honours managementPolicies: Observe alone adds nothing", func() {
		ns := newNamespace("gwtpol")
		m := env.Mark()
		t := welcome(ns, "observed", "只读")
		t.Spec.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve}
		env.Create(t)
		Eventually(env.HasCondition(t, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonNotInWeCom, "managementPolicies")).Should(Succeed())
		Consistently(func() []wecomsim.Call { return env.CallsSince(m, templateWrites...) }, interval).Should(BeEmpty())
	})
})
