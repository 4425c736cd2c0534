//go:build cluster

// Package cluster runs the operator the way a user does: the image `make image` builds, on
// the single-node Kubernetes of `make cluster-up` (a real kubelet, containerd, scheduler,
// controller manager and kube-proxy), installed with helm and with `kubectl apply -f
// dist/install.yaml`. WeCom is the simulator and Alertmanager the real one, both running on
// the host and reached from the pods at the node's bridge address.
//
// It needs the cluster, so it builds only with -tags cluster: run it with `make test-cluster`
// (root), which brings the cluster up, loads the image and takes the cluster down afterwards.
package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Ports on the host for what the pods reach there, in the cluster's 32000-32767 band
// (hack/cluster/env.sh): nothing envtest runs take.
const (
	simPort          = 32500
	simTLSPort       = 32501 // the simulator behind a private CA
	alertmanagerPort = 32093
)

var (
	ctx        = context.Background()
	kubeconfig string
	nodeIP     string
	image      string // the image `make image` built and test.sh imported, e.g. ghcr.io/wecom-dev/wecom-operator:dev
	k8s        client.Client
	sim        *wecomsim.Sim
	simURL     string
)

func TestCluster(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "the operator on a real node")
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var _ = BeforeSuite(func() {
	kubeconfig = env("CLUSTER_KUBECONFIG", filepath.Join(root(), "bin", "cluster", "pki", "admin.kubeconfig"))
	nodeIP = env("CLUSTER_NODE_IP", "10.213.0.1")
	image = env("CLUSTER_IMAGE", "ghcr.io/wecom-dev/wecom-operator:dev")
	Expect(kubeconfig).To(BeAnExistingFile(), "no cluster: run `make test-cluster` (or `make cluster-up`)")

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	s := scheme.Scheme
	Expect(v1.AddToScheme(s)).To(Succeed())
	k8s, err = client.New(cfg, client.Options{Scheme: s})
	Expect(err).NotTo(HaveOccurred())

	// The simulator on the node's address: the pods reach it through their bridge's gateway.
	freshSim()
	l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", nodeIP, simPort))
	Expect(err).NotTo(HaveOccurred())
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current.Load().ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	DeferCleanup(func() {
		current.Load().Close()
		_ = srv.Close()
	})
	simURL = fmt.Sprintf("http://%s:%d", nodeIP, simPort)
})

// current is the simulator the server on simPort serves.
var current atomic.Pointer[wecomsim.Sim]

// freshSim replaces the simulator with a new demo corp, as it was before any install.
func freshSim() {
	sim = wecomsim.New(wecomsim.Options{ActivateCreatedUsers: true})
	if old := current.Swap(sim); old != nil {
		old.Close()
	}
}

func root() string { return testenv.Root() }

// run runs a command from the repository root and returns its combined output.
func run(stdin, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = root()
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func helm(args ...string) (string, error) {
	return run("", filepath.Join(root(), "bin", "helm"), append(args, "--kubeconfig", kubeconfig)...)
}

// kubectl is bin/kubectl, the API server's version.
func kubectl(stdin string, args ...string) (string, error) {
	return run(stdin, filepath.Join(root(), "bin", "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
}

// restrictedNamespace creates a namespace enforcing Pod Security restricted.
func restrictedNamespace(name string) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}}}
	Expect(client.IgnoreAlreadyExists(k8s.Create(ctx, ns))).To(Succeed())
}

// kept are the samples that deleting leaves in WeCom (deletionPolicy: Orphan), so that the
// samples can be deleted at all: zhangsan is the demo corp's creator, whom WeCom refuses to
// delete (errcode 301005), and engineering and platform hold it (platform as a member,
// engineering as platform's parent and the parent of sre, which the sample already orphans).
// Every other sample is deleted from WeCom for real.
var kept = map[string]bool{"WeComUser/zhangsan": true, "WeComDepartment/platform": true, "WeComDepartment/engineering": true}

// sampleNamespace creates ns with the samples' Secrets and config/samples, the connections
// pointed at the simulator, and returns the objects.
func sampleNamespace(ns string) []*unstructured.Unstructured {
	Expect(client.IgnoreAlreadyExists(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
	for name, data := range map[string]map[string]string{
		"wecom-contacts":       {"secret": wecomsim.DemoContactsSecret},
		"wecom-app":            {"secret": wecomsim.DemoAppSecret},
		"sre-robot-webhook":    {"url": simURL + "/cgi-bin/webhook/send?key=" + wecomsim.DemoRobotKey},
		"alertmanager-webhook": {"token": amToken, "username": "am", "password": "p"},
	} {
		Expect(k8s.Create(ctx, testenv.Secret(ns, name, data))).To(Succeed())
	}
	all, err := testenv.Samples(simURL)
	Expect(err).NotTo(HaveOccurred())
	for _, u := range all {
		u.SetNamespace(ns)
		if kept[u.GetKind()+"/"+u.GetName()] {
			Expect(unstructured.SetNestedField(u.Object, "Orphan", "spec", "deletionPolicy")).To(Succeed())
		}
		Expect(k8s.Create(ctx, u)).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
	}
	return all
}

// expectReady waits until every object is Ready (a Notification: Sent).
func expectReady(objs []*unstructured.Unstructured, timeout time.Duration) {
	EventuallyWithOffset(1, func(g Gomega) {
		for _, u := range objs {
			got := u.DeepCopy()
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(u), got)).To(Succeed())
			g.Expect(testenv.ReadyOrSent(got)).To(BeTrue(), "%s/%s: %v", got.GetKind(), got.GetName(), got.Object["status"])
		}
	}, timeout, time.Second).Should(Succeed())
}

// emptyNamespace deletes every wecom.dev object in ns in the order docs/lifecycle.md gives
// (the objects, then the connections they need to delete from WeCom) and waits until the
// operator has finished each.
func emptyNamespace(ns string) {
	for _, connections := range []bool{false, true} {
		var names []string
		for _, n := range wecomObjects(ns) {
			if strings.HasPrefix(n, "wecomconnection.") == connections {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			continue
		}
		out, err := kubectl("", append([]string{"delete", "-n", ns, "--wait=false"}, names...)...)
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), out)
		EventuallyWithOffset(1, func() []string {
			left := []string{}
			for _, n := range wecomObjects(ns) {
				if strings.HasPrefix(n, "wecomconnection.") == connections {
					left = append(left, n)
				}
			}
			return left
		}, 2*time.Minute, time.Second).Should(BeEmpty(), func() string {
			out, _ := kubectl("", "get", "wecom", "-n", ns, "-o", "custom-columns=NAME:.metadata.name,KIND:.kind,MESSAGE:.status.conditions[0].message")
			return out
		})
	}
}

// wecomObjects lists the wecom.dev objects in ns as kind.group/name.
func wecomObjects(ns string) []string {
	out, err := kubectl("", "get", "wecom", "-n", ns, "-o", "name")
	ExpectWithOffset(2, err).NotTo(HaveOccurred(), out)
	return strings.Fields(out)
}

func podMeta(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
