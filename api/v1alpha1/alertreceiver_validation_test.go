package v1alpha1_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const rcv = "apiVersion: wecom.dev/v1alpha1\nkind: AlertReceiver\nmetadata: {name: rcv}\n"
const bearerAuth = "  authSecretRef: {name: am, bearerTokenKey: token}\n"
const robotTo = "  robot: {webhookSecretRef: {name: r, key: k}}\n"

var _ = Describe("AlertReceiver defaults", func() {
	It("fill in format, sendResolved, split and timezone", func() {
		u := uniq(obj(rcv + "spec:\n" + ref + okTo + bearerAuth))
		Expect(k8sClient.Create(ctx, u)).To(Succeed())
		Expect(field(u, "spec", "format")).To(Equal("Markdown"))
		Expect(field(u, "spec", "sendResolved")).To(BeTrue())
		Expect(field(u, "spec", "split")).To(Equal("Group"))
		Expect(field(u, "spec", "timezone")).To(Equal("UTC"))
	})
})

var _ = DescribeTable("a bad AlertReceiver is refused with a message a person understands",
	func(doc, want string) {
		err := k8sClient.Create(ctx, uniq(obj(doc)))
		Expect(err).To(HaveOccurred(), "the API server accepted it")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	Entry("no channel", rcv+"spec:\n"+ref+bearerAuth, "set exactly one channel"),
	Entry("two channels", rcv+"spec:\n"+ref+okTo+robotTo+bearerAuth, "set exactly one channel"),
	Entry("app message without connectionRef", rcv+"spec:\n"+okTo+bearerAuth, "app messages and chatID need connectionRef"),
	Entry("no authSecretRef", rcv+"spec:\n"+ref+okTo, "spec.authSecretRef: Required value"),
	Entry("auth with neither token nor basic", rcv+"spec:\n"+ref+okTo+"  authSecretRef: {name: am}\n", "set bearerTokenKey, or usernameKey and passwordKey"),
	Entry("auth with token and basic", rcv+"spec:\n"+ref+okTo+"  authSecretRef: {name: am, bearerTokenKey: t, usernameKey: u, passwordKey: p}\n", "set bearerTokenKey, or usernameKey and passwordKey"),
	Entry("basic auth without password", rcv+"spec:\n"+ref+okTo+"  authSecretRef: {name: am, usernameKey: u}\n", "usernameKey and passwordKey go together"),
	Entry("mentions on an app message", rcv+"spec:\n"+ref+okTo+bearerAuth+"  mentions: [{users: [\"@all\"]}]\n", "mentions only work with a group robot"),
	Entry("a mention of nobody", rcv+"spec:\n"+robotTo+bearerAuth+"  mentions: [{severities: [critical]}]\n", "a mention needs users or mobiles"),
	Entry("unknown format", rcv+"spec:\n"+ref+okTo+bearerAuth+"  format: HTML\n", `Unsupported value: "HTML"`),
	Entry("unknown split", rcv+"spec:\n"+ref+okTo+bearerAuth+"  split: Severity\n", `Unsupported value: "Severity"`),
	Entry("maxAlerts 0", rcv+"spec:\n"+ref+okTo+bearerAuth+"  maxAlerts: 0\n", "spec.maxAlerts in body should be greater than or equal to 1"),
	Entry("negative deadline", rcv+"spec:\n"+ref+okTo+bearerAuth+"  deliveryDeadline: -1m\n", "deliveryDeadline must be positive"),
)

var _ = DescribeTable("a bad Notification is refused (AlertReceiver-era rules)",
	func(doc, want string) {
		err := k8sClient.Create(ctx, uniq(obj(doc)))
		Expect(err).To(HaveOccurred(), "the API server accepted it")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	Entry("safe news", notif+"spec:\n"+ref+okTo+"  safe: true\n  message: {news: {articles: [{title: t, url: \"https://e.com\"}]}}\n", "news messages cannot be safe"),
	Entry("robot news without url", notif+"spec:\n"+robotTo+"  message: {news: {articles: [{title: t, appID: a, pagePath: p}]}}\n", "group robot news articles need url"),
	Entry("card attachment row", notif+"spec:\n"+ref+okTo+"  message: {templateCard: {cardType: text_notice, subTitleText: s, cardAction: {type: 1, url: \"https://e.com\"}, horizontalContentList: [{keyName: k, type: 2}]}}\n", "horizontal content type 2"),
)
