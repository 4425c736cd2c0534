package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const (
	release   = "wecom"
	releaseNS = "wecom-system"
	chartDir  = "charts/wecom-operator"
	chartSA   = "wecom-wecom-operator"
)

func root() string { return testenv.Root() }

// run runs a command from the repository root and returns its combined output.
func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = root()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func helm(args ...string) (string, error) {
	return run(filepath.Join(root(), "bin", "helm"), append(args, "--kubeconfig", kubeconfig)...)
}

// kubectl runs bin/kubectl (make kubectl), the API server's version, never the machine's.
func kubectl(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(root(), "bin", "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = root()
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func adminClient() client.Client {
	s := scheme.Scheme
	Expect(v1.AddToScheme(s)).To(Succeed())
	c, err := client.New(cfg, client.Options{Scheme: s})
	Expect(err).NotTo(HaveOccurred())
	return c
}

func ensureNS(c client.Client, name string, labels map[string]string) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := c.Create(ctx, ns); err != nil {
		Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
	}
}

var _ = Describe("installing", Ordered, func() {
	var k client.Client
	BeforeAll(func() {
		k = adminClient()
		ensureNS(k, releaseNS, nil)
	})

	It("passes helm lint", func() {
		out, err := run(filepath.Join(root(), "bin", "helm"), "lint", chartDir, "--strict")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("1 chart(s) linted, 0 chart(s) failed"))
	})

	It("says at the top of values.yaml and of the README's install section that no watchNamespaces means reading every Secret", func() {
		values, err := os.ReadFile(filepath.Join(root(), chartDir, "values.yaml"))
		Expect(err).NotTo(HaveOccurred())
		top := strings.Join(strings.SplitN(string(values), "\n", 16)[:15], "\n")
		Expect(top).To(ContainSubstring("EVERY Secret in the cluster"))
		Expect(top).To(ContainSubstring("Recommended: list the namespaces"))
		readme, err := os.ReadFile(filepath.Join(root(), "README.md"))
		Expect(err).NotTo(HaveOccurred())
		_, install, found := strings.Cut(string(readme), "## Install\n")
		Expect(found).To(BeTrue())
		install, _, _ = strings.Cut(install, "### With kubectl")
		Expect(install).To(ContainSubstring("every Secret in the cluster"))
		Expect(install).To(ContainSubstring("watchNamespaces={team-a,team-b}"))
	})

	It("renders a chart the API server accepts (server-side dry run), in both RBAC modes", func() {
		for _, extra := range [][]string{nil, {"--set", "watchNamespaces={team-a,team-b}", "--set", "metrics.serviceMonitor.enabled=false"}} {
			args := append([]string{"template", release, chartDir, "-n", releaseNS, "--include-crds", "--kube-version", "1.36.0"}, extra...)
			out, err := run(filepath.Join(root(), "bin", "helm"), args...)
			Expect(err).NotTo(HaveOccurred(), out)
			if extra != nil {
				ensureNS(k, "team-a", nil)
				ensureNS(k, "team-b", nil)
				Expect(out).To(ContainSubstring("kind: Role\n"))
				// Only what cannot be namespaced: the metrics endpoint's TokenReviews and
				// SubjectAccessReviews, the role a scraper is bound to, and get on Namespaces.
				Expect(strings.Count(out, "\nkind: ClusterRole\n")).To(Equal(3))
				Expect(out).To(ContainSubstring("kind: ClusterRole\nmetadata:\n  name: wecom-wecom-operator-namespace-reader\n"))
				Expect(out).To(ContainSubstring("kind: ClusterRole\nmetadata:\n  name: wecom-wecom-operator-metrics-auth\n"))
				Expect(out).To(ContainSubstring("kind: ClusterRole\nmetadata:\n  name: wecom-wecom-operator-metrics-reader\n"))
				Expect(out).To(ContainSubstring("--watch-namespaces=team-a,team-b"))
				Expect(strings.Count(out, "name: wecom-wecom-operator-secret-reader\n  namespace: team-")).To(Equal(4), "a Role and a RoleBinding in each watched namespace")
			} else {
				Expect(out).To(ContainSubstring("name: wecom-wecom-operator-secret-reader\n"))
			}
			Expect(out).To(ContainSubstring("- --allowed-api-urls=https://qyapi.weixin.qq.com\n"))
			res, err := kubectl(out, "apply", "--server-side", "--dry-run=server", "-f", "-")
			Expect(err).NotTo(HaveOccurred(), res)
			Expect(res).To(ContainSubstring("deployment.apps/wecom-wecom-operator serverside-applied (server dry run)"))
		}
	})

	It("renders with plain helm template, without --kube-version", func() {
		out, err := run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("kind: Deployment"))
	})

	It("spreads two replicas over nodes and keeps one through a drain; one replica gets neither", func() {
		out, err := run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir, "-n", releaseNS, "--set", "replicas=2")
		Expect(err).NotTo(HaveOccurred(), out)
		docs := splitManifests(out)
		pdb := &policyv1.PodDisruptionBudget{}
		Expect(yaml.Unmarshal([]byte(docs["PodDisruptionBudget"]), pdb)).To(Succeed())
		Expect(pdb.Spec.MaxUnavailable).To(HaveValue(Equal(intstr.FromInt32(1))))
		dep := &appsv1.Deployment{}
		Expect(yaml.Unmarshal([]byte(docs["Deployment"]), dep)).To(Succeed())
		Expect(labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(labels.Set(dep.Spec.Template.Labels))).To(BeTrue())
		anti := dep.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		Expect(anti).To(HaveLen(1))
		Expect(anti[0].PodAffinityTerm.TopologyKey).To(Equal("kubernetes.io/hostname"))
		Expect(anti[0].PodAffinityTerm.LabelSelector.MatchLabels).To(Equal(dep.Spec.Selector.MatchLabels))
		res, err := kubectl(docs["PodDisruptionBudget"]+"\n---\n"+docs["Deployment"], "apply", "--server-side", "--dry-run=server", "-n", releaseNS, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), res)

		out, err = run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir, "-n", releaseNS, "--set", "replicas=2", "--set", "podAntiAffinity=required")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("requiredDuringSchedulingIgnoredDuringExecution"))

		out, err = run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir, "-n", releaseNS)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).NotTo(ContainSubstring("PodDisruptionBudget"))
		Expect(out).NotTo(ContainSubstring("podAntiAffinity"))
	})

	It("mounts a private CA bundle and extra volumes", func() {
		out, err := run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir, "-n", releaseNS,
			"--set", "caBundle.configMapName=corp-ca", "--set", "caBundle.key=root.pem",
			"--set", "extraVolumes[0].name=scratch", "--set", "extraVolumes[0].emptyDir.medium=Memory",
			"--set", "extraVolumeMounts[0].name=scratch", "--set", "extraVolumeMounts[0].mountPath=/scratch",
			"--set", "metrics.certSecret=metrics-tls")
		Expect(err).NotTo(HaveOccurred(), out)
		dep := &appsv1.Deployment{}
		Expect(yaml.Unmarshal([]byte(splitManifests(out)["Deployment"]), dep)).To(Succeed())
		pod := dep.Spec.Template.Spec
		Expect(pod.Volumes).To(ContainElements(
			HaveField("Name", "metrics-tls"),
			SatisfyAll(HaveField("Name", "ca-bundle"), HaveField("ConfigMap.Name", "corp-ca"),
				HaveField("ConfigMap.Items", ConsistOf(corev1.KeyToPath{Key: "root.pem", Path: "ca.crt"}))),
			SatisfyAll(HaveField("Name", "scratch"), HaveField("EmptyDir.Medium", corev1.StorageMediumMemory))))
		c := pod.Containers[0]
		Expect(c.VolumeMounts).To(ContainElements(
			corev1.VolumeMount{Name: "ca-bundle", MountPath: "/etc/wecom-operator/ca-bundle", ReadOnly: true},
			corev1.VolumeMount{Name: "scratch", MountPath: "/scratch"}))
		Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: "SSL_CERT_DIR", Value: "/etc/wecom-operator/ca-bundle"}))

		for _, bad := range []string{"extraVolumeMounts[0].name=x", "caBundle.key=", "podDisruptionBudget.maxUnavailable=0"} {
			out, err = run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir, "--set", bad)
			Expect(err).To(HaveOccurred(), "%s: %s", bad, out)
		}
	})

	It("refuses values the schema rejects", func() {
		out, err := run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir, "--kube-version", "1.36.0", "--set", "concurrency=0")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("concurrency"))
		for _, urls := range []string{"allowedAPIURLs={ftp://example.com}", "allowedAPIURLs={https://example.com/?key=x}", "allowedAPIURLs=null"} {
			out, err = run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir, "--kube-version", "1.36.0", "--set", urls)
			Expect(err).To(HaveOccurred(), "%s: %s", urls, out)
			Expect(out).To(ContainSubstring("allowedAPIURLs"))
		}
	})

	It("writes dist/install.yaml that the API server accepts (server-side dry run)", func() {
		out, err := run("make", "-s", "build-installer")
		Expect(err).NotTo(HaveOccurred(), out)
		data, err := os.ReadFile(filepath.Join(root(), "dist", "install.yaml"))
		Expect(err).NotTo(HaveOccurred())
		ensureNS(k, "wecom-operator-system", nil)
		res, err := kubectl(string(data), "apply", "--server-side", "--dry-run=server", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), res)
		Expect(res).To(ContainSubstring("customresourcedefinition.apiextensions.k8s.io/wecomusers.wecom.dev serverside-applied (server dry run)"))
		Expect(res).To(ContainSubstring("deployment.apps/wecom-operator-controller-manager serverside-applied (server dry run)"))
	})

	It("installs with helm install", func() {
		out, err := helm("install", release, chartDir, "-n", releaseNS)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("STATUS: deployed"))
		Expect(out).To(ContainSubstring("kubectl get wecom"))
		Expect(out).To(ContainSubstring("WARNING: watchNamespaces is empty, so this install may get, list and watch EVERY Secret"))
		Expect(out).To(ContainSubstring("kubectl label secret wecom-app wecom.dev/use=true"))
		Expect(out).To(ContainSubstring("It sends requests only to: https://qyapi.weixin.qq.com"))
		dep := &appsv1.Deployment{}
		Expect(k.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: chartSA}, dep)).To(Succeed())
		Expect(dep.Spec.Template.Spec.ServiceAccountName).To(Equal(chartSA))
	})

	It("grants no verb beyond the operator's own kinds, read-only Secrets, Events and Leases", func() {
		cr := &rbacv1.ClusterRole{}
		Expect(k.Get(ctx, client.ObjectKey{Name: chartSA + "-manager"}, cr)).To(Succeed())
		Expect(cr.Rules).NotTo(BeEmpty())
		for _, r := range cr.Rules {
			for _, g := range r.APIGroups {
				Expect(g).To(BeElementOf("wecom.dev", "events.k8s.io"), "rule %v", r)
			}
			for _, res := range r.Resources {
				Expect(res).NotTo(ContainSubstring("*"))
				Expect(res).NotTo(Equal("secrets"), "Secrets are granted by the secret-reader role, under a name that says so")
			}
			Expect(r.Verbs).NotTo(ContainElement("*"))
		}

		By("the cluster-wide Secret grant is its own ClusterRole, read-only, and says what it covers")
		secrets := &rbacv1.ClusterRole{}
		Expect(k.Get(ctx, client.ObjectKey{Name: chartSA + "-secret-reader"}, secrets)).To(Succeed())
		Expect(secrets.Rules).To(ConsistOf(rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}}))
		Expect(secrets.Annotations["wecom.dev/scope"]).To(ContainSubstring("every Secret in the cluster"))
		sa := "system:serviceaccount:" + releaseNS + ":" + chartSA
		for _, tc := range []struct {
			group, resource, verb, ns string
			allowed                   bool
		}{
			{"", "secrets", "get", "default", true},
			{"", "secrets", "create", "default", false},
			{"", "secrets", "update", "default", false},
			{"", "configmaps", "get", "default", false},
			{"", "pods", "list", "default", false},
			{"wecom.dev", "wecomusers", "update", "default", true},
			{"wecom.dev", "notifications", "create", "default", true},
			{"coordination.k8s.io", "leases", "update", releaseNS, true},
			{"coordination.k8s.io", "leases", "update", "default", false},
			{"apps", "deployments", "get", releaseNS, false},
			// The Lease's owner: its own ServiceAccount (below), and no other.
			{"", "serviceaccounts", "get", releaseNS, false},
			{"", "serviceaccounts", "list", releaseNS, false},
			{"", "serviceaccounts", "get", "default", false},
			// Is an object's namespace being deleted? Nothing else about namespaces.
			{"", "namespaces", "get", "", true},
			{"", "namespaces", "list", "", false},
			{"", "namespaces", "update", "", false},
			// The metrics endpoint's authentication and authorisation, and nothing more there.
			{"authentication.k8s.io", "tokenreviews", "create", "", true},
			{"authorization.k8s.io", "subjectaccessreviews", "create", "", true},
			{"authorization.k8s.io", "subjectaccessreviews", "list", "", false},
		} {
			sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
				User:   sa,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNS, "system:authenticated"},
				ResourceAttributes: &authv1.ResourceAttributes{
					Group: tc.group, Resource: tc.resource, Verb: tc.verb, Namespace: tc.ns,
				},
			}}
			Expect(k.Create(ctx, sar)).To(Succeed())
			Expect(sar.Status.Allowed).To(Equal(tc.allowed), "%s %s/%s in %q", tc.verb, tc.group, tc.resource, tc.ns)
		}
		own := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
			User:   sa,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNS, "system:authenticated"},
			ResourceAttributes: &authv1.ResourceAttributes{
				Resource: "serviceaccounts", Verb: "get", Namespace: releaseNS, Name: chartSA,
			},
		}}
		Expect(k.Create(ctx, own)).To(Succeed())
		Expect(own.Status.Allowed).To(BeTrue(), "get its own ServiceAccount (the leader Lease's owner)")
	})

	It("runs the manager as the chart's ServiceAccount and converges the samples", func() {
		sim := wecomsim.Start(wecomsim.Options{ActivateCreatedUsers: true})
		DeferCleanup(sim.Close)

		// The manager's kubeconfig impersonates the chart's ServiceAccount, so every call it
		// makes is checked against the chart's RBAC by the API server.
		raw, err := os.ReadFile(kubeconfig)
		Expect(err).NotTo(HaveOccurred())
		var kc map[string]any
		Expect(yaml.Unmarshal(raw, &kc)).To(Succeed())
		for _, u := range kc["users"].([]any) {
			user := u.(map[string]any)["user"].(map[string]any)
			user["as"] = "system:serviceaccount:" + releaseNS + ":" + chartSA
			user["as-groups"] = []any{"system:serviceaccounts", "system:serviceaccounts:" + releaseNS, "system:authenticated"}
		}
		saKubeconfig := filepath.Join(GinkgoT().TempDir(), "sa-kubeconfig")
		out, err := yaml.Marshal(kc)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(saKubeconfig, out, 0o600)).To(Succeed())

		ns := "rbac-samples"
		ensureNS(k, ns, nil)
		for name, data := range map[string]map[string]string{
			"wecom-contacts":       {"secret": wecomsim.DemoContactsSecret},
			"wecom-app":            {"secret": wecomsim.DemoAppSecret},
			"sre-robot-webhook":    {"url": sim.URL + "/cgi-bin/webhook/send?key=" + wecomsim.DemoRobotKey},
			"alertmanager-webhook": {"token": "t", "username": "am", "password": "p"},
		} {
			Expect(k.Create(ctx, testenv.Secret(ns, name, data))).To(Succeed())
		}
		names := applySamples(k, ns, sim.URL)

		cmd := exec.Command(managerPath, "--kubeconfig", saKubeconfig,
			fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", freePort()),
			fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", freePort()),
			fmt.Sprintf("--receiver-bind-address=127.0.0.1:%d", freePort()),
			"--leader-elect", "--leader-election-namespace="+releaseNS, "--allowed-api-urls="+sim.URL)
		session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			session.Signal(syscall.SIGTERM)
			Eventually(session, 30*time.Second).Should(gexec.Exit())
		})

		Eventually(func(g Gomega) {
			for _, u := range names {
				got := u.DeepCopy()
				g.Expect(k.Get(ctx, client.ObjectKeyFromObject(u), got)).To(Succeed())
				g.Expect(testenv.ReadyOrSent(got)).To(BeTrue(), "%s/%s: %v", got.GetKind(), got.GetName(), got.Object["status"])
			}
		}, 3*time.Minute, time.Second).Should(Succeed())
		Expect(session.Err.Contents()).NotTo(ContainSubstring("forbidden"))
	})

	It("admits the Deployment's pod template in a namespace enforcing Pod Security restricted", func() {
		ns := "psa-restricted"
		ensureNS(k, ns, map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"})
		Expect(k.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: chartSA, Namespace: ns}})).To(Succeed())

		out, err := run(filepath.Join(root(), "bin", "helm"), "template", release, chartDir, "-n", ns, "--kube-version", "1.36.0", "--show-only", "templates/deployment.yaml")
		Expect(err).NotTo(HaveOccurred(), out)
		dep := &appsv1.Deployment{}
		Expect(yaml.Unmarshal([]byte(out), dep)).To(Succeed())
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "manager", Namespace: ns}, Spec: dep.Spec.Template.Spec}
		Expect(k.Create(ctx, pod)).To(Succeed(), "the restricted profile refused the chart's pod")

		// The same namespace refuses a pod that breaks the profile: admission is really on.
		bad := pod.DeepCopy()
		bad.Name = "privileged"
		bad.ResourceVersion = ""
		bad.Spec.Containers[0].SecurityContext.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}
		err = k.Create(ctx, bad)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(`violates PodSecurity "restricted:latest"`))
	})
})

// applySamples creates config/samples in ns with the connections pointed at the simulator.
func applySamples(k client.Client, ns, simURL string) []*unstructured.Unstructured {
	all, err := testenv.Samples(simURL)
	Expect(err).NotTo(HaveOccurred())
	for _, u := range all {
		u.SetNamespace(ns)
		Expect(k.Create(ctx, u)).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
	}
	return all
}

// The namespaced mode, which the chart recommends: a second release watching two namespaces.
var _ = Describe("installing with watchNamespaces", Ordered, func() {
	const (
		scoped   = "scoped"
		scopedNS = "wecom-scoped"
		scopedSA = "scoped-wecom-operator"
	)
	var k client.Client
	BeforeAll(func() {
		k = adminClient()
		ensureNS(k, scopedNS, nil)
		ensureNS(k, "team-c", nil)
		ensureNS(k, "team-d", nil)
		ensureNS(k, "elsewhere", nil)
	})

	It("installs without a warning about Secrets", func() {
		out, err := helm("install", scoped, chartDir, "-n", scopedNS, "--set", "watchNamespaces={team-c,team-d}",
			"--set", "receiver.enabled=false", "--set", "metrics.service.enabled=false")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("STATUS: deployed"))
		Expect(out).To(ContainSubstring("It watches only: team-c, team-d, and may read Secrets only there."))
		Expect(out).NotTo(ContainSubstring("WARNING"))
	})

	It("grants Secret read in the watched namespaces and nowhere else", func() {
		sa := "system:serviceaccount:" + scopedNS + ":" + scopedSA
		for _, tc := range []struct {
			group, resource, verb, ns string
			allowed                   bool
		}{
			{"", "secrets", "get", "team-c", true},
			{"", "secrets", "watch", "team-d", true},
			{"", "secrets", "get", "elsewhere", false},
			{"", "secrets", "list", "", false}, // across the cluster
			{"", "secrets", "get", releaseNS, false},
			{"", "secrets", "create", "team-c", false},
			{"wecom.dev", "wecomconnections", "get", "team-c", true},
			{"wecom.dev", "wecomconnections", "get", "elsewhere", false},
			{"coordination.k8s.io", "leases", "update", scopedNS, true},
			{"authentication.k8s.io", "tokenreviews", "create", "", true},
			{"authorization.k8s.io", "subjectaccessreviews", "create", "", true},
		} {
			sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
				User:   sa,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + scopedNS, "system:authenticated"},
				ResourceAttributes: &authv1.ResourceAttributes{
					Group: tc.group, Resource: tc.resource, Verb: tc.verb, Namespace: tc.ns,
				},
			}}
			Expect(k.Create(ctx, sar)).To(Succeed())
			Expect(sar.Status.Allowed).To(Equal(tc.allowed), "%s %s/%s in %q", tc.verb, tc.group, tc.resource, tc.ns)
		}
		Expect(k.Get(ctx, client.ObjectKey{Name: scopedSA + "-secret-reader"}, &rbacv1.ClusterRole{})).NotTo(Succeed(), "no ClusterRole for Secrets")
	})
})

// splitManifests maps the kinds of rendered manifests to their YAML (one of each kind).
func splitManifests(out string) map[string]string {
	docs := map[string]string{}
	for _, doc := range strings.Split(out, "\n---\n") {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err == nil && meta.Kind != "" {
			docs[meta.Kind] = doc
		}
	}
	return docs
}
