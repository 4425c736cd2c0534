// Package alerting runs the built manager binary, the real Prometheus Alertmanager (built into
// bin/alertmanager by `make alertmanager`) and the WeCom simulator against a real
// kube-apiserver: alerts posted to Alertmanager arrive in WeCom, and a manager killed between
// a send and its status write does not make WeCom deliver twice.
package alerting

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var (
	ctx          = context.Background()
	testEnv      *envtest.Environment
	k8s          client.Client
	kubeconfig   string
	managerPath  string
	alertmanager string
	sim          *wecomsim.Server
	creds        wecomsim.Credentials
	tmp          string
)

func TestAlerting(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "alerting end to end: manager binary, Alertmanager, WeCom simulator")
}

var _ = BeforeSuite(func() {
	root := testenv.Root()
	tmp = GinkgoT().TempDir()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		os.Setenv("KUBEBUILDER_ASSETS", filepath.Join(root, "bin", "k8s"))
	}

	managerPath = filepath.Join(tmp, "manager")
	build := exec.Command("go", "build", "-o", managerPath, "./cmd/manager")
	build.Dir = root
	build.Stdout, build.Stderr = GinkgoWriter, GinkgoWriter
	Expect(build.Run()).To(Succeed(), "building the manager")

	// bin/alertmanager is built by `make alertmanager`; build it here when a test run
	// starts without it (the script reuses an existing binary).
	alertmanager = filepath.Join(root, "bin", "alertmanager")
	amBuild := exec.Command(filepath.Join(root, "hack", "build-alertmanager.sh"))
	amBuild.Dir = root
	amBuild.Env = append(os.Environ(), "ALERTMANAGER="+alertmanager)
	amBuild.Stdout, amBuild.Stderr = GinkgoWriter, GinkgoWriter
	Expect(amBuild.Run()).To(Succeed(), "building Alertmanager (make alertmanager)")

	scheme := kruntime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1.AddToScheme(scheme)).To(Succeed())
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	user, err := testEnv.AddUser(envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	data, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = filepath.Join(tmp, "kubeconfig")
	Expect(os.WriteFile(kubeconfig, data, 0o600)).To(Succeed())

	_, creds = wecomsim.DemoSeed()
	sim = wecomsim.Start(wecomsim.Options{})
})

var _ = AfterSuite(func() {
	if sim != nil {
		sim.Close()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

func freePort() int {
	p, err := testenv.FreePort()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return p
}

// manager is a running manager binary.
type manager struct {
	session            *gexec.Session
	out                *gbytes.Buffer
	alertAddr, metrics string
}

// startManager runs the manager binary.
func startManager() *manager {
	// A port picked as free can be taken by another test package before the manager binds
	// it; then the manager exits at once and is started again on other ports.
	for attempt := 1; ; attempt++ {
		m := tryStartManager()
		if m.session.ExitCode() == -1 {
			return m
		}
		if attempt == 3 || !strings.Contains(string(m.out.Contents()), "address already in use") {
			Fail(fmt.Sprintf("the manager exited with code %d before it was ready", m.session.ExitCode()), 1)
		}
	}
}

// tryStartManager starts the manager binary on free ports and waits until it is ready or
// has exited.
func tryStartManager() *manager {
	m := &manager{
		alertAddr: fmt.Sprintf("127.0.0.1:%d", freePort()),
		metrics:   fmt.Sprintf("127.0.0.1:%d", freePort()),
		out:       gbytes.NewBuffer(),
	}
	probe := freePort()
	cmd := exec.Command(managerPath,
		"--kubeconfig", kubeconfig,
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe),
		"--metrics-bind-address="+m.metrics,
		"--metrics-secure=false", // the suite reads counters over plain HTTP
		"--receiver-bind-address="+m.alertAddr,
		"--notification-retry-base=200ms",
		"--zap-log-level=debug",
		"--allowed-api-urls="+sim.URL,
	)
	var err error
	m.session, err = gexec.Start(cmd, io.MultiWriter(m.out, GinkgoWriter), io.MultiWriter(m.out, GinkgoWriter))
	ExpectWithOffset(2, err).NotTo(HaveOccurred())
	EventuallyWithOffset(2, func() bool {
		if m.session.ExitCode() != -1 {
			return true
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probe))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond).Should(BeTrue(), "the manager becomes ready")
	return m
}

func (m *manager) kill() {
	m.session.Signal(syscall.SIGKILL)
	Eventually(m.session, 10*time.Second).Should(gexec.Exit())
}

func (m *manager) stop() {
	m.session.Signal(syscall.SIGTERM)
	Eventually(m.session, 30*time.Second).Should(gexec.Exit())
}

// namespace creates a namespace with the demo app's Secret and a WeComConnection "app".
func namespace(name string) string {
	ExpectWithOffset(1, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	ExpectWithOffset(1, k8s.Create(ctx, testenv.Secret(name, "app",
		map[string]string{"secret": creds.AppSecret, "robot": sim.URL + "/cgi-bin/webhook/send?key=" + creds.RobotKey}))).To(Succeed())
	agent := creds.AgentID
	ExpectWithOffset(1, k8s.Create(ctx, &v1.WeComConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: name},
		Spec: v1.WeComConnectionSpec{CorpID: creds.CorpID, APIURL: sim.URL, AgentID: &agent,
			SecretRef: v1.SecretKeySelector{Name: "app", Key: "secret"}},
	})).To(Succeed())
	return name
}
