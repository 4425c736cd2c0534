package apps

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

func newChat(ns, name string, spec v1.WeComAppChatSpec) *v1.WeComAppChat {
	if spec.ConnectionRef.Name == "" {
		spec.ConnectionRef = appConn
	}
	return &v1.WeComAppChat{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
}

// simChat returns the chat WeCom holds under id.
func simChat(id string) (wecomsim.Chat, bool) {
	for _, c := range env.Sim.State().Chats {
		if c.ChatID == id {
			return c, true
		}
	}
	return wecomsim.Chat{}, false
}

func chatIs(id, name, owner string, members ...string) func(Gomega) {
	return func(g Gomega) {
		c, ok := simChat(id)
		g.Expect(ok).To(BeTrue(), "chat %s in WeCom", id)
		g.Expect(c.Name).To(Equal(name))
		g.Expect(c.Owner).To(Equal(owner))
		g.Expect(c.Members).To(ConsistOf(members))
	}
}

var _ = Describe("WeComAppChat", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace("chat") })

	It("creates a chat with a fixed chatID, keeps name, owner and members in line, and releases it on delete", func() {
		id := uniqueID("ops")
		chat := newChat(ns, "ops", v1.WeComAppChatSpec{ChatID: id, Name: "Ops", Owner: "zhangsan", Members: []string{"zhangsan", "lisi"}})
		env.Create(chat)
		Eventually(env.Ready(chat), timeout).Should(Succeed())
		Expect(chat.Status.ChatID).To(Equal(id))
		chatIs(id, "Ops", "zhangsan", "zhangsan", "lisi")(Default)
		creates := env.CallsWith("appchat/create", id)
		Expect(bodies(creates)).To(HaveExactElements(
			MatchJSON(fmt.Sprintf(`{"name":"Ops","owner":"zhangsan","userlist":["zhangsan","lisi"],"chatid":%q}`, id))))
		var first []wecomsim.Call // what the first reconcile did before creating
		for _, c := range env.CallsWith("appchat/get", id) {
			if c.Seq < creates[0].Seq {
				first = append(first, c)
			}
		}
		Expect(first).To(HaveLen(1), "one read, for adoption")
		Expect(first[0].ErrCode).To(Equal(wecom.ErrCodeChatNotFound))
		report("WeCom calls to create a chat with a fixed chatID", len(first)+len(creates))

		steps := []struct {
			what   string
			mutate func(*v1.WeComAppChatSpec)
			body   string // the appchat/update the change takes, without chatid
			name   string
			owner  string
			member []string
		}{
			{"add a member", func(s *v1.WeComAppChatSpec) { s.Members = []string{"zhangsan", "lisi", "wangwu"} },
				`"add_user_list":["wangwu"]`, "Ops", "zhangsan", []string{"zhangsan", "lisi", "wangwu"}},
			{"remove a member", func(s *v1.WeComAppChatSpec) { s.Members = []string{"zhangsan", "wangwu"} },
				`"del_user_list":["lisi"]`, "Ops", "zhangsan", []string{"zhangsan", "wangwu"}},
			{"add and remove at once", func(s *v1.WeComAppChatSpec) { s.Members = []string{"zhangsan", "zhaoliu"} },
				`"add_user_list":["zhaoliu"],"del_user_list":["wangwu"]`, "Ops", "zhangsan", []string{"zhangsan", "zhaoliu"}},
			{"change the owner and remove the old one", func(s *v1.WeComAppChatSpec) {
				s.Owner, s.Members = "lisi", []string{"lisi", "zhaoliu"}
			}, `"owner":"lisi","add_user_list":["lisi"],"del_user_list":["zhangsan"]`, "Ops", "lisi", []string{"lisi", "zhaoliu"}},
			{"remove the owner without naming one", func(s *v1.WeComAppChatSpec) {
				s.Owner, s.Members = "", []string{"zhaoliu", "wangwu"}
			}, `"owner":"zhaoliu","add_user_list":["wangwu"],"del_user_list":["lisi"]`, "Ops", "zhaoliu", []string{"zhaoliu", "wangwu"}},
			{"rename", func(s *v1.WeComAppChatSpec) { s.Name = "Ops 2" }, `"name":"Ops 2"`, "Ops 2", "zhaoliu", []string{"zhaoliu", "wangwu"}},
		}
		for _, st := range steps {
			By(st.what)
			before := len(env.CallsWith("appchat/update", id))
			testenv.Change(env, chat, func(c *v1.WeComAppChat) { st.mutate(&c.Spec) })
			Eventually(env.Ready(chat), timeout).Should(Succeed())
			Eventually(chatIs(id, st.name, st.owner, st.member...), timeout).Should(Succeed())
			updates := env.CallsWith("appchat/update", id)[before:]
			Expect(bodies(updates)).To(HaveExactElements(MatchJSON(fmt.Sprintf(`{"chatid":%q,%s}`, id, st.body))), st.what)
		}

		By("making no writes while nothing changes, and one appchat/get per drift check")
		gets := len(env.CallsWith("appchat/get", id))
		steadyWrites(2*drift, id, "appchat/create", "appchat/update")
		report("appchat/get per chat over two drift intervals", len(env.CallsWith("appchat/get", id))-gets)

		By("releasing the chat, which stays in WeCom, and saying so in an Event")
		Expect(chat.GetDeletionPolicy()).To(Equal(v1.DeletionOrphan))
		env.DeleteAndWait(chat)
		chatIs(id, "Ops 2", "zhaoliu", "zhaoliu", "wangwu")(Default)
		Eventually(env.Events(chat, controller.EventOrphaned), timeout).Should(ContainElement(
			HaveField("Note", ContainSubstring("WeCom has no API to dissolve an app chat"))))
	})

	It("chooses the chatid from the object's UID when the spec has none, and records it in status and the external-name annotation", func() {
		chat := newChat(ns, "generated", v1.WeComAppChatSpec{Name: "Generated", Members: []string{"lisi", "wangwu"}})
		env.Create(chat)
		Eventually(env.Ready(chat), timeout).Should(Succeed())
		id := chat.Status.ChatID
		Expect(id).To(MatchRegexp(`^[0-9a-zA-Z]{32}$`))
		Expect(chat.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, id))
		Expect(chat.Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
		c, ok := simChat(id)
		Expect(ok).To(BeTrue())
		Expect(c.Members).To(ConsistOf("lisi", "wangwu"))
		Expect(c.Owner).To(BeElementOf("lisi", "wangwu"), "WeCom picks an owner among the members")
		Expect(env.Sim.CallsTo("appchat/create")).To(ContainElement(HaveField("Body", MatchJSON(
			fmt.Sprintf(`{"name":"Generated","userlist":["lisi","wangwu"],"chatid":%q}`, id)))))
		env.DeleteAndWait(chat)
	})

	It("puts back a name and members changed in WeCom by hand", func() {
		id := uniqueID("drift")
		chat := newChat(ns, "drift", v1.WeComAppChatSpec{ChatID: id, Name: "Drift", Owner: "zhangsan", Members: []string{"zhangsan", "lisi"}})
		env.Create(chat)
		Eventually(env.Ready(chat), timeout).Should(Succeed())

		Expect(hand.UpdateAppChat(ctx, wecom.UpdateAppChatRequest{ChatID: id, Name: "Hacked",
			AddUserList: []string{"wangwu"}, DelUserList: []string{"lisi"}})).To(Succeed())
		chatIs(id, "Hacked", "zhangsan", "zhangsan", "wangwu")(Default)
		before := len(env.CallsWith("appchat/update", id))
		Eventually(chatIs(id, "Drift", "zhangsan", "zhangsan", "lisi"), timeout).Should(Succeed())
		Expect(bodies(env.CallsWith("appchat/update", id))).To(ContainElement(MatchJSON(fmt.Sprintf(
			`{"chatid":%q,"name":"Drift","add_user_list":["lisi"],"del_user_list":["wangwu"]}`, id))))
		Expect(len(env.CallsWith("appchat/update", id))).To(BeNumerically(">", before))
		env.DeleteAndWait(chat)
	})

	It("reports a member WeCom does not know as WeComRejected with the errcode, and recovers when the spec is fixed", func() {
		id := uniqueID("bad")
		chat := newChat(ns, "bad", v1.WeComAppChatSpec{ChatID: id, Members: []string{"zhangsan", "ghost"}})
		env.Create(chat)
		Eventually(notSynced(chat, v1.ReasonWeComRejected, "errcode 86007"), timeout).Should(Succeed())
		Expect(condition(chat, v1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		_, exists := simChat(id)
		Expect(exists).To(BeFalse())

		testenv.Change(env, chat, func(c *v1.WeComAppChat) { c.Spec.Members = []string{"zhangsan", "lisi"} })
		Eventually(env.Ready(chat), timeout).Should(Succeed())

		By("refusing to add an unknown member to an existing chat")
		testenv.Change(env, chat, func(c *v1.WeComAppChat) { c.Spec.Members = []string{"zhangsan", "lisi", "ghost"} })
		Eventually(notSynced(chat, v1.ReasonWeComRejected, "errcode 86216"), timeout).Should(Succeed())
		ready := condition(chat, v1.ConditionReady)
		Expect(ready.Status).To(Equal(metav1.ConditionFalse), "the chat no longer matches the spec")
		Expect(ready.Reason).To(Equal(v1.ReasonWeComRejected))
		c, _ := simChat(id)
		Expect(c.Members).To(ConsistOf("zhangsan", "lisi"), "WeCom unchanged")
		env.DeleteAndWait(chat)
	})

	It("finds the chat a create whose reply was lost made when the spec has no chatID, and makes no second one", func() {
		env.LoseReplies("appchat/create", 1)
		chat := newChat(ns, "dup", v1.WeComAppChatSpec{Name: "Duplicated", Members: []string{"lisi", "zhaoliu"}})
		env.Create(chat)
		Eventually(env.Ready(chat), timeout).Should(Succeed())
		Eventually(env.Events(chat, controller.EventAdopted), timeout).ShouldNot(BeEmpty())
		var ids []string
		for _, c := range env.Sim.State().Chats {
			if c.Name == "Duplicated" {
				ids = append(ids, c.ChatID)
			}
		}
		Expect(ids).To(ConsistOf(chat.Status.ChatID), "exactly one chat in WeCom")
		creates := env.CallsWith("appchat/create", chat.Status.ChatID)
		Expect(creates).To(HaveLen(2), "the client repeats a create with a chatid: WeCom refuses the copy")
		Expect(creates[1].ErrCode).To(Equal(wecom.ErrCodeChatIDExists))
		Expect(chat.Annotations).To(HaveKeyWithValue(v1.AnnotationExternalName, chat.Status.ChatID))
		env.DeleteAndWait(chat)
	})

	It("needs a connection with a self-built app", func() {
		chat := newChat(ns, "noapp", v1.WeComAppChatSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: connRef(testenv.ContactsConnection)},
			ChatID: uniqueID("noapp"), Members: []string{"zhangsan", "lisi"}})
		env.Create(chat)
		Eventually(notSynced(chat, v1.ReasonConnectionNotReady, "agentID"), timeout).Should(Succeed())
		Expect(condition(chat, v1.ConditionReady).Reason).To(Equal(v1.ReasonConnectionNotReady))
		Expect(env.CallsWith("appchat/create", chat.Spec.ChatID)).To(BeEmpty())
		env.DeleteAndWait(chat)
	})

	It("finds the chat a create whose reply was lost made (fixed chatID)", func() {
		id := uniqueID("lost")
		env.LoseReplies("appchat/create", 1)
		chat := newChat(ns, "lost", v1.WeComAppChatSpec{ChatID: id, Name: "Lost", Owner: "lisi", Members: []string{"lisi", "wangwu"}})
		env.Create(chat)
		Eventually(env.Ready(chat), timeout).Should(Succeed())
		Expect(chat.Status.ChatID).To(Equal(id))
		chatIs(id, "Lost", "lisi", "lisi", "wangwu")(Default)
		creates := env.CallsWith("appchat/create", id)
		Expect(creates).To(HaveLen(2), "the client repeats a create with a chatid: WeCom refuses the copy")
		Expect(creates[0].Fault).To(Equal("lost_reply"))
		Expect(creates[1].ErrCode).To(Equal(wecom.ErrCodeChatIDExists))
		Eventually(env.Events(chat, controller.EventAdopted), timeout).ShouldNot(BeEmpty())
		n := 0
		for _, c := range env.Sim.State().Chats {
			if c.Name == "Lost" {
				n++
			}
		}
		Expect(n).To(Equal(1), "one chat in WeCom")
		env.DeleteAndWait(chat)
	})
})
