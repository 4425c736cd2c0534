package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// metricsReaderRole is the chart's <release>-metrics-reader ClusterRole.
const metricsReaderRole = "e2e-wecom-operator-metrics-reader"

// serviceAccountToken makes a ServiceAccount in default, bound to the metrics-reader
// ClusterRole when bound is true, and returns a token the API server issued for it.
func serviceAccountToken(name string, bound bool) string {
	GinkgoHelper()
	cs, err := kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: metricsReaderRole},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
	if bound {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "e2e-metrics-reader-" + name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: metricsReaderRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "default", Name: name}},
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			Expect(err).NotTo(HaveOccurred())
		}
	}
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return tr.Status.Token
}

func ptrTo[T any](v T) *T { return &v }

// scrapeMetrics GETs the manager's HTTPS /metrics with token (none when empty). The
// certificate is the manager's self-signed one, so it is not verified.
func scrapeMetrics(port int, token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d/metrics", port), nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the manager's self-signed certificate
	}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

var _ = Describe("the manager's metrics endpoint", Label("metrics"), func() {
	It("serves HTTPS only to a caller the API server authenticates and authorises", func() {
		metrics := freePort()
		cmd := exec.Command(managerPath,
			"--kubeconfig", kubeconfig,
			fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", freePort()),
			fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metrics),
			"--receiver-bind-address=",
		)
		session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			session.Signal(syscall.SIGTERM)
			Eventually(session, 30*time.Second).Should(gexec.Exit())
		})
		// An object, so that the operator's own series (wecom_objects) have something to count.
		k := adminClient()
		ensureNS(k, "metrics-auth", nil)
		conn := &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "metrics-auth", Name: "counted"},
			Spec: v1.WeComConnectionSpec{CorpID: "ww0000000000000001", SecretRef: v1.SecretKeySelector{Name: "absent", Key: "secret"}}}
		if err := k.Create(ctx, conn); err != nil && !apierrors.IsAlreadyExists(err) {
			Expect(err).NotTo(HaveOccurred())
		}
		reader := serviceAccountToken("prometheus", true)
		stranger := serviceAccountToken("stranger", false)

		By("a token bound to the metrics-reader ClusterRole is served")
		Eventually(func(g Gomega) {
			code, body, err := scrapeMetrics(metrics, reader)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(code).To(Equal(http.StatusOK), body)
			g.Expect(body).To(ContainSubstring(`wecom_objects{kind="WeComConnection"`))
		}, time.Minute, 250*time.Millisecond).Should(Succeed())

		By("no token is refused")
		code, body, err := scrapeMetrics(metrics, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(BeElementOf(http.StatusUnauthorized, http.StatusForbidden), body)
		Expect(body).NotTo(ContainSubstring("wecom_"))

		By("a token that is not the API server's is refused")
		code, body, err = scrapeMetrics(metrics, "not-a-token")
		Expect(err).NotTo(HaveOccurred())
		// The TokenReview's error makes controller-runtime's filter answer 500, not 401.
		Expect(code).NotTo(Equal(http.StatusOK), body)
		Expect(body).NotTo(ContainSubstring("wecom_"))

		By("a ServiceAccount without the role is forbidden")
		code, body, err = scrapeMetrics(metrics, stranger)
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(http.StatusForbidden), body)
		Expect(body).NotTo(ContainSubstring("wecom_"))

		By("plain HTTP gets no metrics")
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics))
		if err == nil {
			defer resp.Body.Close()
			Expect(resp.StatusCode).NotTo(Equal(http.StatusOK))
		}
	})
})
