package v1alpha1_test

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const (
	wctg = "apiVersion: wecom.dev/v1alpha1\nkind: CustomerTagGroup\nmetadata: {name: g}\n"
	wgwt = "apiVersion: wecom.dev/v1alpha1\nkind: GroupWelcomeTemplate\nmetadata: {name: w}\n"
)

var _ = DescribeTable("a bad CustomerTagGroup or GroupWelcomeTemplate is refused on create",
	func(doc, want string) {
		err := k8sClient.Create(ctx, uniq(obj(doc)))
		Expect(err).To(HaveOccurred(), "the API server accepted it")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	Entry("group: name of 31 characters", wctg+"spec:\n"+ref+"  name: "+repeat("组", 31)+"\n  tags: [{name: a}]\n", "spec.name: Too long: may not be more than 30"),
	Entry("group: no tags", wctg+"spec:\n"+ref+"  name: g\n", "spec.tags: Required value"),
	Entry("group: empty tags", wctg+"spec:\n"+ref+"  name: g\n  tags: []\n", "spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"),
	Entry("group: a tag name twice", wctg+"spec:\n"+ref+"  name: g\n  tags: [{name: a}, {name: a}]\n", "Duplicate value"),
	Entry("group: tag name of 31 characters", wctg+"spec:\n"+ref+"  name: g\n  tags: [{name: "+repeat("标", 31)+"}]\n", "Too long: may not be more than 30"),
	Entry("group: order 2^32", wctg+"spec:\n"+ref+"  name: g\n  order: 4294967296\n  tags: [{name: a}]\n", "spec.order in body should be less than or equal to 4294967295"),
	Entry("group: negative tag order", wctg+"spec:\n"+ref+"  name: g\n  tags: [{name: a, order: -1}]\n", "should be greater than or equal to 0"),
	Entry("template: empty", wgwt+"spec:\n"+ref, "set text, an attachment, or both"),
	Entry("template: two attachments", wgwt+"spec:\n"+ref+"  image: {mediaID: m}\n  file: {mediaID: f}\n", "set at most one attachment"),
	Entry("template: text over 3000 bytes", wgwt+"spec:\n"+ref+"  text: "+repeat("字", 1001)+"\n", "text must be at most 3000 bytes"),
	Entry("template: image with both", wgwt+"spec:\n"+ref+"  image: {mediaID: m, picURL: \"https://p\"}\n", "set exactly one of mediaID and picURL"),
	Entry("template: link title over 128 bytes", wgwt+"spec:\n"+ref+"  link: {title: "+repeat("标", 43)+", url: \"https://x\"}\n", "title must be at most 128 bytes"),
	Entry("template: link url without scheme", wgwt+"spec:\n"+ref+"  link: {title: t, url: example.com}\n", "spec.link.url in body should match"),
	Entry("template: miniprogram without appID", wgwt+"spec:\n"+ref+"  miniProgram: {title: t, picMediaID: m, page: /p}\n", "spec.miniProgram.appID: Required value"),
)

var _ = It("keeps a GroupWelcomeTemplate's notify as it was added", func() {
	o := uniq(obj(wgwt + "spec:\n" + ref + "  text: hi\n  notify: false\n"))
	Expect(k8sClient.Create(ctx, o)).To(Succeed())
	Expect(unstructured.SetNestedField(o.Object, true, "spec", "notify")).To(Succeed())
	err := k8sClient.Update(ctx, o)
	Expect(err).To(HaveOccurred())
	Expect(err.Error()).To(ContainSubstring("notify is immutable"))
})
