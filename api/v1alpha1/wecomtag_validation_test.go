package v1alpha1_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const wtag = "apiVersion: wecom.dev/v1alpha1\nkind: WeComTag\nmetadata: {name: t}\n"

// tagRefs is a flow sequence of n tagRefs with distinct names.
func tagRefs(n int) string {
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("{name: t%d}", i)
	}
	return "[" + strings.Join(refs, ", ") + "]"
}

var _ = DescribeTable("a bad WeComTag or tagRefs is refused on create",
	func(doc, want string) {
		err := k8sClient.Create(ctx, uniq(obj(doc)))
		Expect(err).To(HaveOccurred(), "the API server accepted it")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	Entry("tag: name of 33 characters", wtag+"spec:\n"+ref+"  name: "+repeat("标", 33)+"\n", "spec.name: Too long: may not be more than 32"),
	Entry("tag: empty name", wtag+"spec:\n"+ref+"  name: \"\"\n", "spec.name in body should be at least 1 chars long"),
	Entry("tag: id 0", wtag+"spec:\n"+ref+"  name: a\n  id: 0\n", "spec.id in body should be greater than or equal to 1"),
	Entry("tag: user with ref and userID", wtag+"spec:\n"+ref+"  name: a\n  users: [{userID: a, ref: {name: a}}]\n", "set exactly one of ref and userID"),
	Entry("tag: user with neither", wtag+"spec:\n"+ref+"  name: a\n  users: [{}]\n", "set exactly one of ref and userID"),
	Entry("tag: userID of 65 characters", wtag+"spec:\n"+ref+"  name: a\n  users: [{userID: "+repeat("a", 65)+"}]\n", "Too long: may not be more than 64"),
	Entry("tag: department with ref and id", wtag+"spec:\n"+ref+"  name: a\n  departments: [{id: 2, ref: {name: d}}]\n", "set exactly one of ref and id"),
	Entry("tag: 1001 users", wtag+"spec:\n"+ref+"  name: a\n  users: ["+strings.TrimSuffix(repeat("{userID: a}, ", 1001), ", ")+"]\n", "spec.users: Too many: 1001: must have at most 1000 items"),
	Entry("tag: 101 departments", wtag+"spec:\n"+ref+"  name: a\n  departments: ["+strings.TrimSuffix(repeat("{id: 2}, ", 101), ", ")+"]\n", "spec.departments: Too many: 101: must have at most 100 items"),
	Entry("notification: tags and tagRefs over 100", notif+"spec:\n"+ref+"  to: {tags: [1, 2], tagRefs: "+tagRefs(99)+"}\n"+okMsg, "tags and tagRefs together name at most 100 tags"),
	Entry("notification: a tagRef twice", notif+"spec:\n"+ref+"  to: {tagRefs: [{name: a}, {name: a}]}\n"+okMsg, "Duplicate value"),
	Entry("notification: an empty tagRef", notif+"spec:\n"+ref+"  to: {tagRefs: [{name: \"\"}]}\n"+okMsg, "should be at least 1 chars long"),
)

var _ = Describe("tagRefs", func() {
	It("are recipients enough on their own, alone or with 100 tags in all", func() {
		for _, to := range []string{"{tagRefs: [{name: oncall}]}", "{tags: [1], tagRefs: " + tagRefs(99) + "}"} {
			Expect(k8sClient.Create(ctx, uniq(obj(notif+"spec:\n"+ref+"  to: "+to+"\n"+okMsg)))).To(Succeed(), to)
		}
	})
	It("make the spec.id of a tag immutable, and leave its name and members mutable", func() {
		u := uniq(obj(wtag + "spec:\n" + ref + "  name: a\n  id: 5\n  users: [{userID: lisi}]\n"))
		Expect(k8sClient.Create(ctx, u)).To(Succeed())
		set("b", "spec", "name")(u)
		set([]any{map[string]any{"ref": map[string]any{"name": "lisi"}}}, "spec", "users")(u)
		set([]any{map[string]any{"id": int64(3)}}, "spec", "departments")(u)
		Expect(k8sClient.Update(ctx, u)).To(Succeed())
		set(int64(6), "spec", "id")(u)
		err := k8sClient.Update(ctx, u)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("id is immutable"))
	})
})
