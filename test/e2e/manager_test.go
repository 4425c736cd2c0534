package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

// freePort asks the kernel for a loopback port nobody uses.
func freePort() int {
	p, err := testenv.FreePort()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return p
}

// readyz returns the status of the manager's /readyz on port, for Eventually.
func readyz(port int) func() (int, error) {
	return func() (int, error) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
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

		Eventually(readyz(probe), 60*time.Second, 250*time.Millisecond).Should(Equal(http.StatusOK))

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

// A graceful stop leaves no Lease behind (helm uninstall would otherwise strand it), but a
// standby that stops leaves the leader's Lease alone. Only the leader serves the object
// state gauges: a standby's cache holds the same objects, and sums over pods would double.
var _ = Describe("the manager's leader election Lease", func() {
	const leaseName = "wecom-operator.wecom.dev"
	start := func(ns string, env ...string) (*gexec.Session, int, int) {
		probe, metrics := freePort(), freePort()
		cmd := exec.Command(managerPath, "--kubeconfig", kubeconfig,
			fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe),
			fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metrics),
			"--receiver-bind-address=", "--leader-elect", "--leader-election-namespace="+ns)
		cmd.Env = append(os.Environ(), env...)
		session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			session.Signal(syscall.SIGTERM)
			Eventually(session, 30*time.Second).Should(gexec.Exit())
		})
		return session, probe, metrics
	}
	scrape := func(port int) string {
		GinkgoHelper()
		token := serviceAccountToken("prometheus", true)
		var body string
		Eventually(func(g Gomega) {
			code, b, err := scrapeMetrics(port, token)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(code).To(Equal(http.StatusOK), b)
			body = b
		}, 60*time.Second, 250*time.Millisecond).Should(Succeed())
		return body
	}
	stop := func(session *gexec.Session) {
		session.Signal(syscall.SIGTERM)
		Eventually(session, 30*time.Second).Should(gexec.Exit(0))
	}

	It("is deleted when the leader stops gracefully", func() {
		k := adminClient()
		ensureNS(k, "lease-leader", nil)
		session, _, metrics := start("lease-leader")
		Eventually(session.Err, 60*time.Second).Should(gbytes.Say("Successfully acquired lease"))
		Expect(scrape(metrics)).To(ContainSubstring("wecom_notifications_held_oldest_seconds "))
		lease := &coordinationv1.Lease{}
		Expect(k.Get(ctx, client.ObjectKey{Namespace: "lease-leader", Name: leaseName}, lease)).To(Succeed())
		Expect(lease.Spec.HolderIdentity).NotTo(BeNil())

		stop(session)
		err := k.Get(ctx, client.ObjectKey{Namespace: "lease-leader", Name: leaseName}, lease)
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the Lease is still there: %v %v", err, lease.Spec.HolderIdentity)
	})

	It("is owned by the manager's ServiceAccount, so the garbage collector takes it with the installation", func() {
		// helm uninstall deletes the Role that lets the manager delete the Lease with the
		// Deployment; the reference is what removes it then (test/cluster sees it go).
		k := adminClient()
		ensureNS(k, "lease-owner", nil)
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "lease-owner", Name: "wecom-operator"}}
		Expect(k.Create(ctx, sa)).To(Succeed())
		session, _, _ := start("lease-owner", "SERVICE_ACCOUNT_NAME=wecom-operator")
		Eventually(session.Err, 60*time.Second).Should(gbytes.Say("Successfully acquired lease"))
		Eventually(func(g Gomega) {
			lease := &coordinationv1.Lease{}
			g.Expect(k.Get(ctx, client.ObjectKey{Namespace: "lease-owner", Name: leaseName}, lease)).To(Succeed())
			g.Expect(lease.OwnerReferences).To(ConsistOf(metav1.OwnerReference{APIVersion: "v1", Kind: "ServiceAccount", Name: sa.Name, UID: sa.UID}))
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		stop(session)
	})

	It("is left to its holder when a standby stops", func() {
		k := adminClient()
		ensureNS(k, "lease-standby", nil)
		holder, duration := "another-replica", int32(3600)
		now := metav1.NewMicroTime(time.Now())
		Expect(k.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "lease-standby", Name: leaseName},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &duration, AcquireTime: &now, RenewTime: &now}})).To(Succeed())
		session, probe, metrics := start("lease-standby")
		Eventually(readyz(probe), 60*time.Second, 250*time.Millisecond).Should(Equal(http.StatusOK))
		Consistently(session.Err, "2s").ShouldNot(gbytes.Say("Successfully acquired lease"))
		Expect(scrape(metrics)).NotTo(ContainSubstring("wecom_notifications_held_oldest_seconds"))

		stop(session)
		lease := &coordinationv1.Lease{}
		Expect(k.Get(ctx, client.ObjectKey{Namespace: "lease-standby", Name: leaseName}, lease)).To(Succeed())
		Expect(lease.Spec.HolderIdentity).To(HaveValue(Equal(holder)))
	})
})
