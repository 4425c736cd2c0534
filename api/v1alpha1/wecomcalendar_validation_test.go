package v1alpha1_test

import (
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const wcal = "apiVersion: wecom.dev/v1alpha1\nkind: WeComCalendar\nmetadata: {name: cal}\n"
const okCal = "  summary: On-call\n  color: \"#FF3030\"\n"

var _ = DescribeTable("a bad WeComCalendar, Schedule calendarRef or WeComUser offboarding is refused on create",
	func(doc, want string) {
		err := k8sClient.Create(ctx, uniq(obj(doc)))
		Expect(err).To(HaveOccurred(), "the API server accepted it")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	Entry("calendar: no summary", wcal+"spec:\n"+ref+"  color: \"#FF3030\"\n", "spec.summary: Required value"),
	Entry("calendar: summary of 129 characters", wcal+"spec:\n"+ref+"  summary: "+repeat("日", 129)+"\n  color: \"#FF3030\"\n", "spec.summary: Too long: may not be more than 128"),
	Entry("calendar: colour not #RRGGBB", wcal+"spec:\n"+ref+"  summary: a\n  color: red\n", "spec.color in body should match"),
	Entry("calendar: description of 513 characters", wcal+"spec:\n"+ref+okCal+"  description: "+repeat("a", 513)+"\n", "spec.description: Too long: may not be more than 512"),
	Entry("calendar: admin not shared", wcal+"spec:\n"+ref+okCal+"  shares: [{userID: a}]\n  admins: [b]\n", "admins must be among shares"),
	Entry("calendar: 4 admins", wcal+"spec:\n"+ref+okCal+"  shares: [{userID: a}, {userID: b}, {userID: c}, {userID: d}]\n  admins: [a, b, c, d]\n", "spec.admins: Too many: 4: must have at most 3 items"),
	Entry("calendar: a share twice", wcal+"spec:\n"+ref+okCal+"  shares: [{userID: a}, {userID: a}]\n", "Duplicate value"),
	Entry("calendar: permission Edit", wcal+"spec:\n"+ref+okCal+"  shares: [{userID: a, permission: Edit}]\n", "spec.shares[0].permission: Unsupported value"),
	Entry("calendar: 2001 shares", wcal+"spec:\n"+ref+okCal+"  shares: ["+strings.TrimSuffix(sharesN(2001), ", ")+"]\n", "spec.shares: Too many: 2001: must have at most 2000 items"),
	Entry("calendar: public without range", wcal+"spec:\n"+ref+okCal+"  public: true\n", "a public calendar needs publicRange"),
	Entry("calendar: range without public", wcal+"spec:\n"+ref+okCal+"  publicRange: {userIDs: [a]}\n", "publicRange needs public: true"),
	Entry("calendar: 101 public departments", wcal+"spec:\n"+ref+okCal+"  public: true\n  publicRange: {departmentIDs: ["+strings.TrimSuffix(repeatN(101), ", ")+"]}\n", "spec.publicRange.departmentIDs: Too many: 101"),
	Entry("schedule: calendarRef and calendarID", sched+"spec:\n"+ref+okSchedTimes+"  calendarID: wcX\n  calendarRef: {name: cal}\n", "set at most one of calendarID and calendarRef"),
	Entry("user: handover to itself", user+"spec:\n"+ref+okUserTail+"  offboarding: {handoverTo: {userID: ZhangSan}}\n", "offboarding.handoverTo cannot be the member itself"),
	Entry("user: handover to ref and userID", user+"spec:\n"+ref+okUserTail+"  offboarding: {handoverTo: {userID: lisi, ref: {name: lisi}}}\n", "set exactly one of ref and userID"),
	Entry("user: handover to nobody", user+"spec:\n"+ref+okUserTail+"  offboarding: {handoverTo: {}}\n", "set exactly one of ref and userID"),
	Entry("user: success message of 201 characters", user+"spec:\n"+ref+okUserTail+"  offboarding: {handoverTo: {userID: lisi}, successMessage: "+repeat("好", 201)+"}\n", "spec.offboarding.successMessage: Too long: may not be more than 200"),
)

func sharesN(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("{userID: u")
		b.WriteString(strings.Repeat("x", i%5))
		b.WriteString(strconv.Itoa(i))
		b.WriteString("}, ")
	}
	return b.String()
}

func repeatN(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(", ")
	}
	return b.String()
}

var _ = Describe("WeComCalendar and Schedule calendarRef", func() {
	It("keep public, setAsDefault and calendarRef immutable, and the rest mutable", func() {
		c := uniq(obj(wcal + "spec:\n" + ref + okCal + "  shares: [{userID: a}]\n  admins: [a]\n"))
		Expect(k8sClient.Create(ctx, c)).To(Succeed())
		set("Team", "spec", "summary")(c)
		set("#00aa00", "spec", "color")(c)
		set([]any{map[string]any{"userID": "b", "permission": "FreeBusy"}}, "spec", "shares")(c)
		set([]any{"b"}, "spec", "admins")(c)
		Expect(k8sClient.Update(ctx, c)).To(Succeed())
		for _, change := range []struct {
			path []string
			v    any
			msg  string
		}{
			{[]string{"spec", "setAsDefault"}, true, "setAsDefault is immutable"},
			{[]string{"spec", "public"}, true, "public is immutable"},
		} {
			cp := c.DeepCopy()
			set(change.v, change.path...)(cp)
			if change.msg == "public is immutable" {
				set(map[string]any{"userIDs": []any{"b"}}, "spec", "publicRange")(cp)
			}
			err := k8sClient.Update(ctx, cp)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(change.msg))
		}

		s := uniq(obj(sched + "spec:\n" + ref + okSchedTimes + "  calendarRef: {name: cal}\n"))
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		set(map[string]any{"name": "other"}, "spec", "calendarRef")(s)
		err := k8sClient.Update(ctx, s)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("calendarRef is immutable"))
	})
})
