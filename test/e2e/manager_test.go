package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

// freePort asks the kernel for a loopback port nobody uses.
func freePort() int {
	p, err := testenv.FreePort()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return p
}

var _ = Describe("the manager binary", func() {
	It("answers /readyz and serves metrics, with leader election on", func() {
		probe, metrics := freePort(), freePort()
		cmd := exec.Command(managerPath,
			"--kubeconfig", kubeconfig,
			fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe),
			fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metrics),
			"--receiver-bind-address=",
			"--leader-elect", "--leader-election-namespace=default",
		)
		session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			session.Signal(syscall.SIGTERM)
			Eventually(session, 30*time.Second).Should(gexec.Exit())
		})

		Eventually(func() (int, error) {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probe))
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}, 60*time.Second, 250*time.Millisecond).Should(Equal(http.StatusOK))

		Eventually(session.Err, 60*time.Second).Should(gbytes.Say("Successfully acquired lease"))

		// The secure metrics server starts beside the probes, not before them.
		token := serviceAccountToken("prometheus", true)
		Eventually(func(g Gomega) {
			code, body, err := scrapeMetrics(metrics, token)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(code).To(Equal(http.StatusOK), body)
		}, 60*time.Second, 250*time.Millisecond).Should(Succeed())
	})
})
