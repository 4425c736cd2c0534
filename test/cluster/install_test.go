//go:build cluster

package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

const (
	release   = "wecom"
	releaseNS = "wecom-system"
	fullname  = "wecom-wecom-operator"
	leaseName = "wecom-operator.wecom.dev" // cmd/manager's LeaderElectionID
	amToken   = "alertmanager-to-wecom-0123456789abcdef"
	// The lease duration the manager uses (controller-runtime's default): a standby takes over
	// within it even when the leader dies without releasing the lease.
	leaseDuration = 15 * time.Second
)

// Alertmanager posts every alert on its own (group_by alertname) to the sample AlertReceiver
// oncall-alerts, through the chart's receiver Service.
const alertmanagerConfig = `
route:
  receiver: wecom
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: wecom
  webhook_configs:
  - url: %s
    send_resolved: false
    http_config:
      authorization:
        type: Bearer
        credentials: %s
`

var _ = Describe("the operator installed on a node", Ordered, ContinueOnFailure, func() {
	var (
		samples []*unstructured.Unstructured
		am      *gexec.Session
	)
	AfterAll(func() {
		if am != nil {
			am.Terminate().Wait(10 * time.Second)
		}
	})

	helmValues := func() []string {
		repo, tag, _ := strings.Cut(image, ":")
		return []string{
			"--set", "image.repository=" + repo, "--set", "image.tag=" + tag, "--set", "image.pullPolicy=Never",
			// the simulator is plain HTTP on the host: allowed explicitly, next to WeCom's real URL
			"--set", "allowedAPIURLs={https://qyapi.weixin.qq.com," + simURL + "}",
		}
	}

	It("installs with helm into a namespace enforcing Pod Security restricted and becomes Available through its probes", func() {
		restrictedNamespace(releaseNS)
		start := time.Now()
		out, err := helm(append([]string{"install", release, "charts/wecom-operator", "-n", releaseNS}, helmValues()...)...)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("STATUS: deployed"))
		expectAvailable(releaseNS, fullname, 1)
		GinkgoWriter.Printf("helm install to Available: %s\n", time.Since(start).Round(100*time.Millisecond))

		pods := podsOf(releaseNS, fullname)
		Expect(pods).To(HaveLen(1))
		Expect(pods[0].Spec.Containers[0].Image).To(Equal(image))
		Expect(pods[0].Status.ContainerStatuses[0].RestartCount).To(BeZero(), "the liveness probe restarted the manager")
		Expect(*pods[0].Spec.SecurityContext.RunAsUser).To(BeEquivalentTo(65532))
	})

	It("reconciles the full sample set against the simulator on the host", func() {
		start := time.Now()
		samples = sampleNamespace("samples")
		expectReady(samples, 3*time.Minute)
		GinkgoWriter.Printf("samples Ready: %s\n", time.Since(start).Round(100*time.Millisecond))
		// The contacts and the app reached WeCom from inside the pod.
		Expect(sim.CallCount("gettoken")).To(BeNumerically(">", 0))
		// The sample AlertReceiver formats times in Asia/Shanghai: the image has time zone data.
		rcv := &v1.AlertReceiver{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "samples", Name: "oncall-alerts"}, rcv)).To(Succeed())
		Expect(rcv.Status.WebhookPath).NotTo(BeEmpty())
	})

	It("delivers what the real Alertmanager posts through the chart's receiver Service", func() {
		rcv := &v1.AlertReceiver{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "samples", Name: "oncall-alerts"}, rcv)).To(Succeed())
		svc := &corev1.Service{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: fullname + "-receiver"}, svc)).To(Succeed())
		Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
		// Alertmanager runs on the host, outside the pod network: kube-proxy's rules take the
		// ClusterIP to the pod, as they do for any client in the cluster.
		url := fmt.Sprintf("http://%s:%d%s", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port, rcv.Status.WebhookPath)
		am = startAlertmanager(url)

		postAlerts(alert("ClusterSmoke"))
		Eventually(func() int { return delivered("ClusterSmoke") }, time.Minute, 250*time.Millisecond).Should(Equal(1))
	})

	It("with two replicas, delivers every alert of a storm exactly once when the leader pod is deleted in the middle", func() {
		out, err := helm(append([]string{"upgrade", release, "charts/wecom-operator", "-n", releaseNS, "--set", "replicas=2"}, helmValues()...)...)
		Expect(err).NotTo(HaveOccurred(), out)
		expectAvailable(releaseNS, fullname, 2)
		// The disruption controller counts both replicas: a drain may take one of them.
		Eventually(func(g Gomega) {
			pdb := &policyv1.PodDisruptionBudget{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: fullname}, pdb)).To(Succeed())
			g.Expect(pdb.Status.ExpectedPods).To(BeEquivalentTo(2))
			g.Expect(pdb.Status.CurrentHealthy).To(BeEquivalentTo(2))
			g.Expect(pdb.Status.DisruptionsAllowed).To(BeEquivalentTo(1))
		}, time.Minute, time.Second).Should(Succeed())
		// The upgrade may have replaced the pods (the template changes with replicas > 1):
		// wait until one of today's pods holds the Lease.
		var leader string
		Eventually(func(g Gomega) {
			leader = leaderPod()
			g.Expect(podsOf(releaseNS, fullname)).To(ContainElement(HaveField("Name", leader)))
		}, leaseDuration+30*time.Second, 250*time.Millisecond).Should(Succeed())

		// Both managers' logs, kept while the leader pod is deleted (its logs go with it),
		// and the storm's Notifications: printed if the spec fails.
		for _, p := range podsOf(releaseNS, fullname) {
			followLogs(releaseNS, p.Name)
		}
		DeferCleanup(func() {
			if CurrentSpecReport().Failed() {
				out, _ := kubectl("", "get", "notifications,events", "-n", "samples", "-o", "yaml")
				path := filepath.Join(artifacts(), "storm-notifications.yaml")
				Expect(os.WriteFile(path, []byte(out), 0o600)).To(Succeed())
				GinkgoWriter.Printf("the storm's Notifications and Events: %s; the managers' logs: %s\n", path, artifacts())
			}
		})

		const storm = 40
		name := func(i int) string { return fmt.Sprintf("Storm%02d", i) }
		for i := range storm / 2 {
			postAlerts(alert(name(i)))
		}
		// The middle of the storm: some delivered, the rest still coming.
		Eventually(func() int { return delivered("Storm") }, time.Minute, 100*time.Millisecond).Should(BeNumerically(">=", 3))
		deleted := time.Now()
		Expect(k8s.Delete(ctx, &corev1.Pod{ObjectMeta: podMeta(releaseNS, leader)})).To(Succeed())
		for i := storm / 2; i < storm; i++ {
			postAlerts(alert(name(i)))
		}
		var next string
		Eventually(func() string {
			next = leaderPod()
			return next
		}, leaseDuration+10*time.Second, 100*time.Millisecond).ShouldNot(Or(Equal(leader), BeEmpty()))
		took := time.Since(deleted)
		GinkgoWriter.Printf("leader %s deleted; %s leads after %s\n", leader, next, took.Round(10*time.Millisecond))
		Expect(took).To(BeNumerically("<", leaseDuration+2*time.Second))

		Eventually(func(g Gomega) {
			for i := range storm {
				g.Expect(delivered(name(i))).To(Equal(1), name(i))
			}
		}, 3*time.Minute, time.Second).Should(Succeed())
		for i := range storm {
			Expect(delivered(name(i))).To(Equal(1), "%s delivered again", name(i))
		}
	})

	It("after helm upgrade to a changed value, leaves nothing but what the release now holds", func() {
		expectOnlyReleaseObjects()
		Expect(podsOf(releaseNS, fullname)).To(HaveLen(2))
	})

	It("lets a namespace holding a connection and the objects that use it be deleted", Label("nsdelete"), func() {
		objs := sampleNamespace("doomed")
		expectReady(objs, 3*time.Minute)
		ns := &corev1.Namespace{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "doomed"}, ns)).To(Succeed())
		// A namespace left terminating would hold the CRDs the kubectl flow deletes at its end:
		// if this spec fails, release what is stuck (a test's cleanup, not what a user should do).
		DeferCleanup(func() {
			for _, n := range wecomObjects("doomed") {
				out, err := kubectl("", "patch", "-n", "doomed", n, "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
				if err != nil {
					Expect(out).To(ContainSubstring("NotFound"), "releasing %s", n)
				}
			}
		})
		deletes := sim.CallCount("user/delete")
		start := time.Now()
		Expect(k8s.Delete(ctx, ns)).To(Succeed())
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Name: "doomed"}, ns)
		}, 3*time.Minute, time.Second).Should(Satisfy(apierrors.IsNotFound), func() string {
			out, _ := kubectl("", "get", "wecom", "-n", "doomed", "-o", "custom-columns=NAME:.metadata.name,KIND:.kind,MESSAGE:.status.conditions[0].message")
			return "the namespace is stuck terminating:\n" + out
		})
		GinkgoWriter.Printf("namespace deleted in %s\n", time.Since(start).Round(100*time.Millisecond))
		// Deleted through WeCom, not released after the grace because the connection went
		// first: lisi (deletionPolicy Delete) was deleted with user/delete.
		Expect(sim.CallCount("user/delete")).To(BeNumerically(">", deletes), "the namespace's members were released, not deleted from WeCom")
	})

	It("with watchNamespaces and a private CA bundle, reaches a WeCom behind that CA and answers for an unwatched namespace as for an unknown receiver", func() {
		// A WeCom API behind a corporate CA (a TLS-inspecting proxy, say): the simulator over
		// TLS with a certificate the image's public roots do not trust.
		caPEM, cert := privateCA(nodeIP)
		l, err := tls.Listen("tcp", fmt.Sprintf("%s:%d", nodeIP, simTLSPort), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		Expect(err).NotTo(HaveOccurred())
		srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			current.Load().ServeHTTP(w, r)
		})}
		go func() { _ = srv.Serve(l) }()
		DeferCleanup(srv.Close)
		tlsURL := fmt.Sprintf("https://%s:%d", nodeIP, simTLSPort)

		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: releaseNS, Name: "corp-ca"}, Data: map[string]string{"ca.crt": string(caPEM)}}
		Expect(k8s.Create(ctx, cm)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, cm))).To(Succeed()) })
		values := helmValues()
		values[len(values)-1] = "allowedAPIURLs={https://qyapi.weixin.qq.com," + simURL + "," + tlsURL + "}"
		out, err := helm(append([]string{"upgrade", release, "charts/wecom-operator", "-n", releaseNS,
			"--set", "watchNamespaces={samples}", "--set", "caBundle.configMapName=corp-ca"}, values...)...)
		Expect(err).NotTo(HaveOccurred(), out)
		expectAvailable(releaseNS, fullname, 1)
		expectOnlyReleaseObjects()

		conn := &v1.WeComConnection{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "samples", Name: "wecom-contacts"}, conn)).To(Succeed())
		behind := &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "samples", Name: "behind-corp-ca"}, Spec: *conn.Spec.DeepCopy()}
		behind.Spec.APIURL, behind.Spec.Callback = tlsURL, nil
		Expect(k8s.Create(ctx, behind)).To(Succeed())
		tokens := sim.CallCount("gettoken")
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(behind), behind)).To(Succeed())
			g.Expect(behind.Status.Conditions).To(ContainElement(And(HaveField("Type", "Ready"), HaveField("Status", metav1.ConditionTrue))), "%v", behind.Status.Conditions)
		}, time.Minute, time.Second).Should(Succeed())
		Expect(sim.CallCount("gettoken")).To(BeNumerically(">", tokens), "the token came over TLS, trusted through caBundle")

		// Alertmanager posting for a namespace the operator does not watch gets what a receiver
		// that does not exist gets (a 4xx that Alertmanager does not retry forever, telling
		// nothing about what exists), not 503 with a stack trace.
		svc := &corev1.Service{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: fullname + "-receiver"}, svc)).To(Succeed())
		post := func(path string) (int, string, error) {
			req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s:%d%s", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port, path), strings.NewReader("{}"))
			if err != nil {
				return 0, "", err
			}
			req.Header.Set("Authorization", "Bearer "+amToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), err
		}
		var unknownCode int
		var unknownBody string
		Eventually(func(g Gomega) {
			var err error
			unknownCode, unknownBody, err = post("/alertmanager/samples/nobody")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(unknownCode).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), unknownBody)
		}, time.Minute, time.Second).Should(Succeed())
		code, body, err := post("/alertmanager/unwatched/oncall-alerts")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(unknownCode), body)
		Expect(body).To(Equal(unknownBody))
	})

	It("after the objects are deleted, helm uninstall leaves no resources of the release behind", func() {
		emptyNamespace("samples")
		// The leader made the release's ServiceAccount the owner of its Lease.
		sa := &corev1.ServiceAccount{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: fullname}, sa)).To(Succeed())
		Eventually(func(g Gomega) {
			lease := &coordinationv1.Lease{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: leaseName}, lease)).To(Succeed())
			g.Expect(lease.OwnerReferences).To(ContainElement(HaveField("UID", sa.UID)))
		}, 30*time.Second, time.Second).Should(Succeed())
		out, err := helm("uninstall", release, "-n", releaseNS, "--wait")
		Expect(err).NotTo(HaveOccurred(), out)
		Eventually(func() []string { return releaseObjects() }, time.Minute, time.Second).Should(BeEmpty())
		Eventually(func() []corev1.Pod { return podsOf(releaseNS, fullname) }, time.Minute, time.Second).Should(BeEmpty())
		// Not the release's (the manager makes it), but the garbage collector takes it with
		// the release's ServiceAccount, its owner.
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: leaseName}, &coordinationv1.Lease{})
		}, time.Minute, time.Second).Should(Satisfy(apierrors.IsNotFound), "the leader election Lease is left behind")
	})

	It("runs the same with kubectl apply -f dist/install.yaml, and kubectl delete removes it all", func() {
		data, err := os.ReadFile(filepath.Join(root(), "dist", "install.yaml"))
		Expect(err).NotTo(HaveOccurred(), "make build-installer writes it")
		manifest := installYAML(string(data))
		// WeCom as before the helm install: the samples deleted from it are created anew.
		freshSim()
		start := time.Now()
		out, err := kubectl(manifest, "apply", "--server-side", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		expectAvailable("wecom-operator-system", "wecom-operator-controller-manager", 1)
		GinkgoWriter.Printf("kubectl apply to Available: %s\n", time.Since(start).Round(100*time.Millisecond))
		ns := &corev1.Namespace{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "wecom-operator-system"}, ns)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))

		objs := sampleNamespace("samples-kubectl")
		expectReady(objs, 3*time.Minute)
		emptyNamespace("samples-kubectl")

		out, err = kubectl(manifest, "delete", "-f", "-", "--wait", "--timeout=2m")
		Expect(err).NotTo(HaveOccurred(), out)
		for _, u := range testenv.Docs(manifest) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(u), u.DeepCopy())
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s %s left: %v", u.GetKind(), u.GetName(), err)
		}
	})
})

// installYAML is dist/install.yaml as a user edits it for this cluster: the image loaded
// into the node (never pulled) and the simulator's URL allowed.
func installYAML(data string) string {
	var out []string
	for _, u := range testenv.Docs(data) {
		if u.GetKind() == "Deployment" {
			containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
			c := containers[0].(map[string]any)
			Expect(c["image"]).To(Equal(image), "config/manager names the image make image builds")
			c["imagePullPolicy"] = "Never"
			args, _ := c["args"].([]any)
			c["args"] = append(args, "--allowed-api-urls=https://qyapi.weixin.qq.com,"+simURL)
			Expect(unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")).To(Succeed())
		}
		b, err := yaml.Marshal(u.Object)
		Expect(err).NotTo(HaveOccurred())
		out = append(out, string(b))
	}
	return strings.Join(out, "---\n")
}

func expectAvailable(ns, name string, replicas int32) {
	EventuallyWithOffset(1, func(g Gomega) {
		dep := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, dep)).To(Succeed())
		g.Expect(dep.Status.ObservedGeneration).To(Equal(dep.Generation))
		g.Expect(dep.Status.UpdatedReplicas).To(Equal(replicas))
		g.Expect(dep.Status.AvailableReplicas).To(Equal(replicas))
		g.Expect(dep.Status.Replicas).To(Equal(replicas), "old pods still terminating")
		g.Expect(dep.Status.Conditions).To(ContainElement(And(
			HaveField("Type", appsv1.DeploymentAvailable), HaveField("Status", corev1.ConditionTrue))))
	}, 3*time.Minute, 250*time.Millisecond).Should(Succeed(), func() string { return describe(ns) })
}

// describe is what a person would look at when a Deployment does not come up.
func describe(ns string) string {
	out, _ := kubectl("", "describe", "pods", "-n", ns)
	logs, _ := kubectl("", "logs", "-n", ns, "--all-containers", "--prefix", "--tail=30", "-l", "app.kubernetes.io/name=wecom-operator")
	return out + "\n" + logs
}

func podsOf(ns, deployment string) []corev1.Pod {
	dep := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: deployment}, dep); err != nil {
		return nil
	}
	pods := &corev1.PodList{}
	ExpectWithOffset(1, k8s.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels(dep.Spec.Selector.MatchLabels))).To(Succeed())
	var live []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	return live
}

// leaderPod is the pod holding the leader Lease (its identity is <pod>_<uuid>).
func leaderPod() string {
	lease := &coordinationv1.Lease{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: leaseName}, lease); err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	pod, _, _ := strings.Cut(*lease.Spec.HolderIdentity, "_")
	return pod
}

// releaseObjects lists the namespaced and cluster-wide objects labelled as the release's
// (what helm created), as kind/namespace/name.
func releaseObjects() []string {
	sel := "app.kubernetes.io/instance=" + release
	out, err := kubectl("", "get", "deployments,replicasets,pods,services,serviceaccounts,configmaps,secrets,roles,rolebindings,clusterroles,clusterrolebindings,poddisruptionbudgets",
		"-A", "-l", sel, "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{\"\\n\"}{end}")
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), out)
	return strings.Fields(out)
}

// expectOnlyReleaseObjects checks that every object labelled as the release's is in the
// release's manifest (or is a ReplicaSet or Pod of its Deployment).
func expectOnlyReleaseObjects() {
	manifest, err := helm("get", "manifest", release, "-n", releaseNS)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), manifest)
	want := map[string]bool{}
	for _, u := range testenv.Docs(manifest) {
		want[u.GetKind()+"/"+u.GetName()] = true
	}
	for _, o := range releaseObjects() {
		parts := strings.SplitN(o, "/", 3)
		if parts[0] == "ReplicaSet" || parts[0] == "Pod" {
			continue
		}
		ExpectWithOffset(1, want).To(HaveKey(parts[0]+"/"+parts[2]), "%s is not in the release any more", o)
	}
}

func startAlertmanager(url string) *gexec.Session {
	dir := GinkgoT().TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	Expect(os.WriteFile(cfg, fmt.Appendf(nil, alertmanagerConfig, url, amToken), 0o600)).To(Succeed())
	addr := fmt.Sprintf("127.0.0.1:%d", alertmanagerPort)
	am, err := gexec.Start(exec.Command(filepath.Join(root(), "bin", "alertmanager"),
		"--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.external-url=http://"+addr, "--cluster.listen-address="),
		GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() (int, error) {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}, 30*time.Second, 100*time.Millisecond).Should(Equal(http.StatusOK))
	return am
}

func alert(name string) map[string]any {
	return map[string]any{
		"labels":      map[string]string{"alertname": name, "severity": "warning"},
		"annotations": map[string]string{"summary": name + " fired on the cluster test node"},
		"startsAt":    time.Now().UTC().Format(time.RFC3339),
	}
}

func postAlerts(alerts ...map[string]any) {
	body, err := json.Marshal(alerts)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/api/v2/alerts", alertmanagerPort), "application/json", strings.NewReader(string(body)))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ExpectWithOffset(1, resp.StatusCode).To(Equal(http.StatusOK), string(b))
}

// delivered counts the messages WeCom delivered (not suppressed as duplicates) whose body
// contains marker.
func delivered(marker string) int {
	n := 0
	for _, m := range sim.Messages() {
		if !m.Duplicate && strings.Contains(string(m.Body), marker) {
			n++
		}
	}
	return n
}

// artifacts is the directory the specs keep what explains a failure in (logs, objects):
// CLUSTER_ARTIFACTS, or bin/cluster/artifacts.
func artifacts() string {
	dir := env("CLUSTER_ARTIFACTS", filepath.Join(root(), "bin", "cluster", "artifacts"))
	ExpectWithOffset(1, os.MkdirAll(dir, 0o755)).To(Succeed())
	return dir
}

// followLogs copies a pod's logs to <artifacts>/<pod>.log until the pod is gone or the spec
// ends.
func followLogs(ns, pod string) {
	f, err := os.Create(filepath.Join(artifacts(), pod+".log"))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	cmd := exec.Command(filepath.Join(root(), "bin", "kubectl"), "--kubeconfig", kubeconfig, "logs", "-f", "--timestamps", "-n", ns, pod)
	cmd.Stdout, cmd.Stderr = f, f
	ExpectWithOffset(1, cmd.Start()).To(Succeed())
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	DeferCleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = f.Close()
	})
}

// privateCA makes a CA and a server certificate for ip signed by it: the CA's PEM and the
// server's key pair.
func privateCA(ip string) ([]byte, tls.Certificate) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "corp test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	Expect(err).NotTo(HaveOccurred())
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	Expect(err).NotTo(HaveOccurred())
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
}
