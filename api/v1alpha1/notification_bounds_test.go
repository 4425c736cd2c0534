package v1alpha1_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const robot = "  robot: {webhookSecretRef: {name: r, key: k}}\n"

// Whoever may create a Notification sets its size: every list and string of the spec is
// bounded, so that no Notification makes a message larger than WeCom takes.
var _ = DescribeTable("a Notification bounds what a tenant can make it send",
	func(doc, want string) {
		err := k8sClient.Create(ctx, uniq(obj(doc)))
		Expect(err).To(HaveOccurred(), "the API server accepted it")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	Entry("a mentioned user of 65 characters", notif+"spec:\n"+robot+"  message: {text: {content: a, mentionedUsers: [\""+repeat("u", 65)+"\"]}}\n",
		"Too long: may not be more than 64"),
	Entry("a mentioned mobile of 33 characters", notif+"spec:\n"+robot+"  message: {text: {content: a, mentionedMobiles: [\""+repeat("1", 33)+"\"]}}\n",
		"Too long: may not be more than 32"),
	Entry("an empty mention", notif+"spec:\n"+robot+"  message: {text: {content: a, mentionedUsers: [\"\"]}}\n",
		"should be at least 1 chars long"),
	Entry("101 mentioned users", notif+"spec:\n"+robot+"  message: {text: {content: a, mentionedUsers: "+list("u", 101)+"}}\n",
		"must have at most 100 items"),
	Entry("a card image aspect ratio of 9 characters", notif+"spec:\n"+robot+"  message: {templateCard: {cardType: news_notice, mainTitle: {title: t}, cardAction: {type: 1, url: \"https://e.com\"}, cardImage: {url: \"https://e.com/i.png\", aspectRatio: \"1.3000000\"}}}\n",
		"Too long: may not be more than 8"),
)

var _ = It("accepts a robot Notification with the longest mentions allowed", func() {
	doc := notif + "spec:\n" + robot + "  message: {text: {content: a, mentionedUsers: [\"" + repeat("u", 64) + "\"], mentionedMobiles: [\"" + repeat("1", 32) + "\"]}}\n"
	Expect(k8sClient.Create(ctx, uniq(obj(doc)))).To(Succeed())
})
