package v1alpha1_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const wapp = "apiVersion: wecom.dev/v1alpha1\nkind: WeComApp\nmetadata: {name: app}\n"

// appMenu is a WeComApp whose menu has the given buttons (YAML flow items).
func appMenu(buttons ...string) string {
	return wapp + "spec:\n" + ref + "  menu:\n    buttons: [" + strings.Join(buttons, ", ") + "]\n"
}

// sub is a top-level button named 菜单 with the given sub-buttons.
func sub(buttons ...string) string {
	return "{name: 菜单, subButtons: [" + strings.Join(buttons, ", ") + "]}"
}

const okClick = "{name: a, type: click, key: k}"

var _ = DescribeTable("a bad WeComApp is refused on create",
	func(doc, want string) {
		err := k8sClient.Create(ctx, uniq(obj(doc)))
		Expect(err).To(HaveOccurred(), "the API server accepted it")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	Entry("name of 33 characters", wapp+"spec:\n"+ref+"  name: "+repeat("应", 33)+"\n", "spec.name: Too long: may not be more than 32"),
	Entry("empty name", wapp+"spec:\n"+ref+"  name: \"\"\n", "spec.name in body should be at least 1 chars long"),
	Entry("description of 3 characters", wapp+"spec:\n"+ref+"  description: abc\n", "spec.description in body should be at least 4 chars long"),
	Entry("description of 121 characters", wapp+"spec:\n"+ref+"  description: "+repeat("述", 121)+"\n", "spec.description: Too long: may not be more than 120"),
	Entry("homeURL without scheme", wapp+"spec:\n"+ref+"  homeURL: ops.example.com\n", "spec.homeURL in body should match"),
	Entry("redirectDomain with a scheme", wapp+"spec:\n"+ref+"  redirectDomain: https://ops.example.com\n", "spec.redirectDomain in body should match"),
	Entry("4 buttons", appMenu(okClick, okClick, okClick, okClick), "spec.menu.buttons: Too many: 4: must have at most 3 items"),
	Entry("6 sub-buttons", appMenu(sub(okClick, okClick, okClick, okClick, okClick, okClick)), "must have at most 5 items"),
	Entry("no sub-buttons and no type", appMenu("{name: a}"), "a button has either subButtons (and no type, key, url, appID or pagePath) or a type"),
	Entry("sub-buttons and a type", appMenu("{name: a, type: click, key: k, subButtons: ["+okClick+"]}"), "a button has either subButtons"),
	Entry("empty sub-buttons", appMenu("{name: a, subButtons: []}"), "should have at least 1 items"),
	Entry("unknown type", appMenu("{name: a, type: media_id, key: k}"), "Unsupported value: \"media_id\""),
	Entry("top-level name of 17 bytes", appMenu("{name: "+repeat("a", 17)+", type: click, key: k}"), "Too long: may not be more than 16"),
	Entry("top-level name of 6 汉字 (18 bytes)", appMenu("{name: "+repeat("菜", 6)+", type: click, key: k}"), "a top-level button's name is at most 16 bytes (5 汉字)"),
	Entry("sub-button name of 14 汉字 (42 bytes)", appMenu(sub("{name: "+repeat("菜", 14)+", type: click, key: k}")), "a sub-button's name is at most 40 bytes (13 汉字)"),
	Entry("sub-button name of 41 characters", appMenu(sub("{name: "+repeat("a", 41)+", type: click, key: k}")), "Too long: may not be more than 40"),
	Entry("click without key", appMenu("{name: a, type: click}"), "key is required for click, scancode_*, pic_* and location_select buttons, and only for them"),
	Entry("sub-button scancode_push without key", appMenu(sub("{name: a, type: scancode_push}")), "key is required for click"),
	Entry("view with a key", appMenu("{name: a, type: view, url: 'https://x', key: k}"), "key is required for click, scancode_*, pic_* and location_select buttons, and only for them"),
	Entry("key of 43 汉字 (129 bytes)", appMenu("{name: a, type: click, key: "+repeat("键", 43)+"}"), "key is at most 128 bytes"),
	Entry("view without url", appMenu("{name: a, type: view}"), "url is required for view buttons, and only for them"),
	Entry("sub-button view without url", appMenu(sub("{name: a, type: view}")), "url is required for view buttons"),
	Entry("url without scheme", appMenu("{name: a, type: view, url: www.soso.com}"), "url starts with http:// or https:// and is at most 1024 bytes"),
	Entry("url of 1025 bytes", appMenu("{name: a, type: view, url: 'https://"+repeat("u", 1017)+"'}"), "Too long: may not be more than 1024"),
	Entry("click with a url", appMenu("{name: a, type: click, key: k, url: 'https://x'}"), "url is required for view buttons, and only for them"),
	Entry("mini program without appID", appMenu("{name: a, type: view_miniprogram, pagePath: p}"), "appID and pagePath are required for view_miniprogram buttons, and only for them"),
	Entry("sub-button mini program without pagePath", appMenu(sub("{name: a, type: view_miniprogram, appID: wx1}")), "appID and pagePath are required"),
	Entry("click with an appID", appMenu("{name: a, type: click, key: k, appID: wx1}"), "appID and pagePath are required for view_miniprogram buttons, and only for them"),
	Entry("unknown management policy", wapp+"spec:\n"+ref+"  managementPolicies: [Observe, Adopt]\n", "Unsupported value: \"Adopt\""),
)

var _ = Describe("WeComApp", func() {
	It("takes WeCom's limits exactly: 3 buttons of 5 汉字, 5 sub-buttons of 13 汉字, 128-byte keys, every type", func() {
		full := appMenu(
			"{name: "+repeat("菜", 5)+", type: click, key: "+repeat("k", 128)+"}",
			sub(
				"{name: "+repeat("菜", 13)+", type: view, url: 'https://"+repeat("u", 1016)+"'}",
				"{name: b, type: view_miniprogram, appID: wx4389ji4kAAA, pagePath: pages/index}",
				"{name: c, type: scancode_waitmsg, key: k}",
				"{name: d, type: pic_photo_or_album, key: k}",
				"{name: e, type: location_select, key: k}",
			),
			sub("{name: f, type: pic_sysphoto, key: k}", "{name: g, type: pic_weixin, key: k}", "{name: h, type: scancode_push, key: k}"),
		)
		Expect(k8sClient.Create(ctx, uniq(obj(full)))).To(Succeed())
	})
	It("accepts an empty menu (no menu in WeCom), every setting, and no setting at all", func() {
		for _, doc := range []string{
			wapp + "spec:\n" + ref + "  menu: {buttons: [], removeOnDelete: true}\n",
			wapp + "spec:\n" + ref + "  name: 运维助手\n  description: 值班告警\n  homeURL: https://ops.example.com/\n  redirectDomain: ops.example.com\n  reportLocation: false\n  reportEnter: true\n  logoMediaID: MEDIA\n",
			wapp + "spec:\n" + ref,
		} {
			Expect(k8sClient.Create(ctx, uniq(obj(doc)))).To(Succeed(), doc)
		}
	})
})
