// Command demo runs wecom-operator's main job on an embedded default: a local kube-apiserver
// and etcd (the envtest binaries), the WeCom simulator seeded with a demo corp, the manager
// binary, and config/samples. It waits until everything is Ready, prints what WeCom now
// holds, and stops everything (or keeps it running with DEMO_KEEP=1).
//
//	make demo            # or: go run ./hack/demo -bin bin
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	wecomv1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const namespace = "wecom-demo"

// demoToken is the bearer token the demo's Alertmanager stand-in presents.
const demoToken = "demo-alertmanager-token"

var kinds = []string{"WeComConnection", "WeComDepartment", "WeComUser", "WeComTag", "WeComAppChat", "ContactWay", "WeComCalendar", "Schedule", "Notification", "AlertReceiver",
	// issue 12: customer contact configuration
	"CustomerTagGroup", "GroupWelcomeTemplate",
	// issue 12: apps and menus
	"WeComApp",
}

func main() {
	bin := flag.String("bin", "bin", "directory holding manager, wecom-sim, kubectl and k8s/ (kube-apiserver, etcd)")
	samples := flag.String("samples", "config/samples", "directory of sample manifests to apply")
	timeout := flag.Duration("timeout", 4*time.Minute, "how long to wait for everything to be Ready")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *samples, *timeout, os.Getenv("DEMO_KEEP") == "1"); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

var stepNo int

func step(format string, args ...any) {
	stepNo++
	fmt.Printf("==> [%d] %s\n", stepNo, fmt.Sprintf(format, args...))
}

func run(ctx context.Context, bin, samples string, timeout time.Duration, keep bool) error {
	bin, _ = filepath.Abs(bin)
	work, err := os.MkdirTemp("", "wecom-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step("starting a local kube-apiserver and etcd (envtest binaries in %s/k8s)", bin)
	os.Setenv("KUBEBUILDER_ASSETS", filepath.Join(bin, "k8s"))
	te := &envtest.Environment{CRDDirectoryPaths: []string{"config/crd/bases"}, ErrorIfCRDPathMissing: true}
	cfg, err := te.Start()
	if err != nil {
		return fmt.Errorf("envtest: %w", err)
	}
	defer func() { step("stopping the API server"); _ = te.Stop() }()
	admin, err := te.AddUser(envtest.User{Name: "demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(work, "kubeconfig")
	if keep {
		kubeconfig = filepath.Join(bin, "demo.kubeconfig")
	}
	data, err := admin.KubeConfig()
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
		return err
	}
	k, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}

	step("starting the WeCom simulator with the demo corp")
	simURL, stopSim, err := startSim(ctx, bin, work)
	if err != nil {
		return err
	}
	defer func() { step("stopping the WeCom simulator"); stopSim() }()
	fmt.Printf("    simulator at %s (corp %s)\n", simURL, wecomsim.DemoCorpID)

	step("creating namespace %s, the credentials Secrets and the WeComConnections", namespace)
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return err
	}
	secrets := map[string]map[string]string{
		"wecom-contacts": {"secret": wecomsim.DemoContactsSecret},
		"wecom-app":      {"secret": wecomsim.DemoAppSecret},
		// The group robot's webhook URL, pointing at the simulator.
		"sre-robot-webhook": {"url": simURL + "/cgi-bin/webhook/send?key=" + wecomsim.DemoRobotKey},
		// What Alertmanager must present to the AlertReceivers.
		"alertmanager-webhook": {"token": demoToken, "username": "alertmanager", "password": demoToken},
	}
	for name, data := range secrets {
		// The label opts the Secret in: the operator reads no Secret without it.
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
			Labels: map[string]string{wecomv1.SecretUseLabel: wecomv1.SecretUseValue}}, StringData: data}
		if err := k.Create(ctx, s); err != nil {
			return err
		}
	}

	step("applying %s", samples)
	applied, err := applySamples(ctx, k, samples, simURL)
	if err != nil {
		return err
	}
	fmt.Printf("    %d objects: %s\n", len(applied), strings.Join(applied, ", "))

	step("starting the manager (%s/manager)", bin)
	amPort := freePort()
	stopMgr, err := startManager(ctx, bin, work, kubeconfig, amPort, simURL)
	if err != nil {
		return err
	}
	defer func() { step("stopping the manager"); stopMgr() }()

	step("waiting until every object is Ready (timeout %s)", timeout)
	if err := waitReady(ctx, k, timeout); err != nil {
		printGet(bin, kubeconfig)
		return err
	}

	step("posting a firing alert, as Alertmanager would, to the AlertReceiver oncall-alerts")
	if err := postAlert(ctx, amPort); err != nil {
		return err
	}
	if err := waitReady(ctx, k, timeout); err != nil {
		return err
	}

	step("kubectl get wecom -n %s", namespace)
	printGet(bin, kubeconfig)
	step("the org chart as WeCom now holds it")
	if err := printOrgChart(simURL); err != nil {
		return err
	}
	step("the messages WeCom received")
	if err := printMessages(simURL); err != nil {
		return err
	}

	if keep {
		fmt.Printf("\nDEMO_KEEP=1: everything keeps running until Ctrl-C.\n  export KUBECONFIG=%s\n  %s/kubectl get wecom -n %s\n  simulator: %s/sim/state  %s/sim/messages\n", kubeconfig, bin, namespace, simURL, simURL)
		<-ctx.Done()
	}
	step("done: the demo corp is in the state config/samples describes")
	return nil
}

func startSim(ctx context.Context, bin, work string) (string, func(), error) {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "wecom-sim"), "-addr", "127.0.0.1:0", "-activate-users", "-log-calls=false")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	logf, _ := os.Create(filepath.Join(work, "wecom-sim.log"))
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		for _, f := range strings.Fields(sc.Text()) {
			if strings.HasPrefix(f, "http://127.0.0.1:") {
				go func() { _, _ = io.Copy(io.Discard, out) }()
				return strings.TrimRight(f, "/"), stop, nil
			}
		}
	}
	stop()
	return "", nil, errors.New("the simulator did not print its URL")
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startManager(ctx context.Context, bin, work, kubeconfig string, amPort int, simURL string) (func(), error) {
	logPath := filepath.Join(work, "manager.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "manager"), "--kubeconfig", kubeconfig,
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", freePort()),
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", freePort()),
		fmt.Sprintf("--receiver-bind-address=127.0.0.1:%d", amPort),
		"--drift-interval=1m",
		// The simulator is the only WeCom the connections and the robot may reach.
		"--allowed-api-urls="+simURL)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	}, nil
}

// applySamples creates every object of every YAML file in dir, in namespace, pointing the
// WeComConnections at the simulator.
func applySamples(ctx context.Context, k client.Client, dir, simURL string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "wecom_*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var applied []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			u.SetNamespace(namespace)
			if u.GetKind() == "WeComConnection" {
				_ = unstructured.SetNestedField(u.Object, simURL, "spec", "apiURL")
			}
			if err := k.Create(ctx, u); err != nil {
				return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
			}
			applied = append(applied, strings.ToLower(u.GetKind())+"/"+u.GetName())
		}
	}
	return applied, nil
}

// waitReady polls until every object is Ready (a Notification: Sent), printing progress.
func waitReady(ctx context.Context, k client.Client, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		total, pending := 0, []string{}
		for _, kind := range kinds {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(schema.GroupVersionKind{Group: "wecom.dev", Version: "v1alpha1", Kind: kind + "List"})
			if err := k.List(ctx, list, client.InNamespace(namespace)); err != nil {
				if meta.IsNoMatchError(err) {
					continue
				}
				return err
			}
			for _, it := range list.Items {
				total++
				if !isReady(&it) {
					pending = append(pending, strings.ToLower(kind)+"/"+it.GetName())
				}
			}
		}
		line := fmt.Sprintf("    %d/%d ready", total-len(pending), total)
		if len(pending) > 0 {
			line += " (waiting for " + strings.Join(pending, ", ") + ")"
		}
		if line != last {
			fmt.Println(line)
			last = line
		}
		if len(pending) == 0 && total > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not Ready after %s: %s", timeout, strings.Join(pending, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func isReady(u *unstructured.Unstructured) bool {
	if u.GetKind() == "Notification" {
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		return phase == "Sent"
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			return m["status"] == "True"
		}
	}
	return false
}

func printGet(bin, kubeconfig string) {
	// bin/kubectl (make kubectl) is the API server's version; the machine's may be far behind or absent.
	cmd := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig", kubeconfig, "get", "wecom", "-n", namespace)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Println("    (kubectl get failed:", err, ")")
	}
}

func getJSON(url string, out any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func printOrgChart(simURL string) error {
	var state wecomsim.Snapshot
	if err := getJSON(simURL+"/sim/state", &state); err != nil {
		return err
	}
	children := map[int64][]wecomsim.Department{}
	for _, d := range state.Departments {
		children[d.ParentID] = append(children[d.ParentID], d)
	}
	members := map[int64][]string{}
	for _, u := range state.Users {
		for _, d := range u.Department {
			members[d] = append(members[d], fmt.Sprintf("%s (%s)", u.Name, u.UserID))
		}
	}
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		ds := children[parent]
		sort.Slice(ds, func(i, j int) bool { return ds[i].ID < ds[j].ID })
		for _, d := range ds {
			fmt.Printf("    %s%s [id %d]", strings.Repeat("  ", depth), d.Name, d.ID)
			if m := members[d.ID]; len(m) > 0 {
				sort.Strings(m)
				fmt.Printf(": %s", strings.Join(m, ", "))
			}
			fmt.Println()
			walk(d.ID, depth+1)
		}
	}
	walk(0, 0)
	for _, t := range state.Tags {
		fmt.Printf("    tag %q [id %d]: members %s, departments %v\n", t.Name, t.ID, strings.Join(t.Users, ", "), t.Parties)
	}
	for _, a := range state.Apps {
		if a.AgentID == 0 || len(a.Menu) == 0 {
			continue
		}
		buttons := make([]string, 0, len(a.Menu))
		for _, b := range a.Menu {
			buttons = append(buttons, b.Name)
		}
		fmt.Printf("    app %q (agent %d), menu: %s\n", a.Settings.Name, a.AgentID, strings.Join(buttons, " | "))
	}
	for _, c := range state.Chats {
		fmt.Printf("    app chat %q (%s), owner %s, members %s\n", c.Name, c.ChatID, c.Owner, strings.Join(c.Members, ", "))
	}
	for _, w := range state.ContactWays {
		fmt.Printf("    contact way %s for %s: %s\n", w.ConfigID, strings.Join(w.Users, ", "), w.QRCode)
	}
	for _, c := range state.Calendars {
		if !c.Deleted {
			fmt.Printf("    calendar %q (%s), admins %s\n", c.Summary, c.CalID, strings.Join(c.Admins, ", "))
		}
	}
	for _, s := range state.Schedules {
		fmt.Printf("    schedule %q at %s\n", s.Summary, time.Unix(s.StartTime, 0).UTC().Format(time.RFC3339))
	}
	for _, g := range state.CorpTagGroups {
		tags := make([]string, 0, len(g.Tags))
		for _, t := range g.Tags {
			tags = append(tags, fmt.Sprintf("%s (order %d)", t.Name, t.Order))
		}
		fmt.Printf("    customer tag group %q (order %d): %s\n", g.Name, g.Order, strings.Join(tags, ", "))
	}
	for _, t := range state.WelcomeTemplates {
		fmt.Printf("    group welcome template %s: %q\n", t.ID, t.Text)
	}
	return nil
}

func printMessages(simURL string) error {
	var got struct {
		Messages []wecomsim.Message `json:"messages"`
		Drops    []wecomsim.Drop    `json:"drops"`
	}
	if err := getJSON(simURL+"/sim/messages", &got); err != nil {
		return err
	}
	if len(got.Messages) == 0 {
		fmt.Println("    (none)")
	}
	for _, m := range got.Messages {
		to := strings.Join(m.DeliveredTo, ", ")
		if m.Robot != "" {
			to = "robot " + m.Robot + " in " + m.ChatName
		}
		var body bytes.Buffer
		if err := json.Compact(&body, m.Body); err != nil {
			body.Write(m.Body)
		}
		fmt.Printf("    %s %s to %s: %s\n", m.Channel, m.MsgType, to, body.String())
	}
	fmt.Printf("    dropped by WeCom's quotas: %d\n", len(got.Drops))
	return nil
}

// postAlert sends one Alertmanager webhook payload (version 4) to the receiver, retrying
// while the manager's receiver starts.
func postAlert(ctx context.Context, port int) error {
	now := time.Now().UTC().Format(time.RFC3339)
	body := `{"version":"4","groupKey":"{}:{alertname=\"KubePodCrashLooping\"}","truncatedAlerts":0,"status":"firing",
"receiver":"wecom","groupLabels":{"alertname":"KubePodCrashLooping"},
"commonLabels":{"alertname":"KubePodCrashLooping","severity":"critical","namespace":"payments"},
"commonAnnotations":{"summary":"Pod payments/api-7d9f is crash looping"},
"externalURL":"http://alertmanager.example.com",
"alerts":[{"status":"firing","labels":{"alertname":"KubePodCrashLooping","severity":"critical","namespace":"payments","pod":"api-7d9f"},
"annotations":{"summary":"Pod payments/api-7d9f is crash looping","description":"It restarted 5 times in 10 minutes."},
"startsAt":"` + now + `","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example.com/graph?g0.expr=up","fingerprint":"c0ffee"}]}`
	url := fmt.Sprintf("http://127.0.0.1:%d/alertmanager/%s/oncall-alerts", port, namespace)
	var last string
	for i := 0; i < 60; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+demoToken)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				fmt.Printf("    the receiver answered %s\n", resp.Status)
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("the Alertmanager receiver did not accept the alert: %s", last)
}
