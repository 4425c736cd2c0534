package e2e

import (
	"context"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("make demo", func() {
	It("converges the samples on an embedded default and shows what WeCom holds", func() {
		cctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, "make", "-s", "demo")
		cmd.Dir = root()
		cmd.Env = append(cmd.Environ(), "DEMO_KEEP=")
		out, err := cmd.CombinedOutput()
		text := string(out)
		GinkgoWriter.Println(text)
		Expect(err).NotTo(HaveOccurred(), text)

		for _, want := range []string{
			"starting a local kube-apiserver and etcd",
			"starting the WeCom simulator with the demo corp",
			"waiting until every object is Ready",
			"kubectl get wecom -n wecom-demo",
			"the org chart as WeCom now holds it",
			"the messages WeCom received",
			"done: the demo corp is in the state config/samples describes",
			"stopping the API server",
		} {
			Expect(text).To(ContainSubstring(want))
		}
		// What a person wants to see: every object Ready, the samples' departments and
		// members in WeCom, the chat, and the sample notification delivered.
		Expect(text).To(MatchRegexp(`(\d+)/(\d+) ready\n`))
		Expect(text).To(ContainSubstring("平台组 [id "))
		Expect(text).To(ContainSubstring("李四 (lisi)"))
		Expect(text).To(ContainSubstring(`app chat "On-call" (oncall)`))
		Expect(text).To(MatchRegexp(`tag "platform-oncall" \[id \d+\]: members .*lisi`))
		Expect(text).To(MatchRegexp(`app ".+" \(agent \d+\), menu: `))
		Expect(text).To(ContainSubstring(`calendar "Platform on-call"`))
		Expect(text).To(ContainSubstring("customer tag group "))
		Expect(text).To(ContainSubstring("group welcome template "))
		Expect(text).To(MatchRegexp(`message markdown to .*zhangsan`))
		// hello-oncall also names the WeComTag platform-oncall: its members (zhaoliu and SRE's
		// wangwu are in it, not in touser) got the message through totag.
		Expect(text).To(MatchRegexp(`message markdown to [^:\n]*zhaoliu[^:\n]*: \{"touser":"zhangsan\|lisi","totag":"\d+"`))
		Expect(text).To(ContainSubstring("dropped by WeCom's quotas: 0"))
		Expect(strings.Count(text, "False")).To(BeZero(), "a condition is False in the final listing")
	})
})
