package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// The storm phase: alert storms through the real Prometheus Alertmanager (bin/alertmanager)
// into an AlertReceiver, with folding on (the default). Each scenario runs on a fresh API
// server and simulator, so that no earlier phase's quota windows count. Its results go to
// bench/results/storm.{md,json}, beside the other phases' results.md.

// StormScenario is one burst: groups alert groups fired at once to members.
type StormScenario struct {
	Name    string `json:"name"`
	Groups  int    `json:"groups"`
	Members int    `json:"members"`
}

// StormResult is what a member saw of one scenario.
type StormResult struct {
	StormScenario
	// VisibleSeconds is from the alerts' POST to Alertmanager until every alert was in a
	// message delivered to every member (the simulator's delivery times).
	VisibleSeconds float64 `json:"visibleSeconds"`
	// FirstSeconds is until the first message reached a member.
	FirstSeconds float64 `json:"firstSeconds"`
	// WebhookSeconds is until the receiver had stored every Notification (Alertmanager's
	// dispatch and the receiver).
	WebhookSeconds float64 `json:"webhookSeconds"`
	Notifications  int     `json:"notifications"`
	Folded         int     `json:"folded"`
	Plans          int     `json:"plans"`
	// Messages is what each member received (the same for all; the most of any member).
	Messages int `json:"messagesPerMember"`
	// MaxPerMinute is the most messages one member got in any 60 s (WeCom's quota: 30).
	MaxPerMinute int `json:"maxPerMinute"`
	Drops        int `json:"drops"`
	// Duplicates are sends WeCom recognised as resends (enable_duplicate_check).
	Duplicates int `json:"duplicates"`
	// Missing and Repeated count (member, alert) pairs delivered in no message and in more
	// than one; both must be 0.
	Missing         int        `json:"missing"`
	Repeated        int        `json:"repeated"`
	MessageSendCall int        `json:"messageSendCalls"`
	LargestMessage  int        `json:"largestMessageBytes"`
	ManagerUsage    StormUsage `json:"managerUsage"`
}

// StormUsage is the manager's CPU and memory over the scenario.
type StormUsage struct {
	CPUSeconds float64 `json:"cpuSeconds"`
	PeakRSSMiB float64 `json:"peakRSSMiB"`
}

// StormResults is bench/results/storm.json.
type StormResults struct {
	Date      string        `json:"date"`
	Machine   Machine       `json:"machine"`
	LatencyMs int64         `json:"simLatencyMs"`
	Scenarios []StormResult `json:"scenarios"`
	Targets   []Target      `json:"targets"`
}

const stormToken = "alertmanager-storm-token-0123456789abcdef"

// stormAlertmanagerConfig groups by alertname, so each alert is its own group, and sends
// each group once (repeat_interval longer than the scenario).
const stormAlertmanagerConfig = `
route:
  receiver: wecom
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5m
  repeat_interval: 4h
receivers:
- name: wecom
  webhook_configs:
  - url: %s
    send_resolved: false
    max_alerts: 0
    http_config:
      authorization:
        type: Bearer
        credentials: %s
`

func runStorms(ctx context.Context, c config) (*StormResults, error) {
	am := c.alertmanager
	if am == "" {
		am = filepath.Join(c.bin, "alertmanager")
	}
	if _, err := os.Stat(am); err != nil {
		return nil, fmt.Errorf("the storm phase needs Prometheus Alertmanager at %s: run `make alertmanager`", am)
	}
	res := &StormResults{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), LatencyMs: c.latency.Milliseconds()}
	for _, s := range []StormScenario{
		{Name: "100 groups to one member", Groups: 100, Members: 1},
		{Name: "1,000 groups to 50 members", Groups: 1000, Members: 50},
	} {
		r, err := runStorm(ctx, c, am, s)
		if r != nil {
			res.Scenarios = append(res.Scenarios, *r)
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	res.Targets = stormTargets(res.Scenarios)
	return res, nil
}

func runStorm(ctx context.Context, c config, amBin string, s StormScenario) (*StormResult, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "wecom-storm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	logs, err := os.Create(filepath.Join(work, "processes.log"))
	if err != nil {
		return nil, err
	}
	defer logs.Close()

	logf("storm %q: starting an API server, the simulator (%s per call) and the manager", s.Name, c.latency)
	api, err := scaletest.StartAPIServer(root, work)
	if err != nil {
		return nil, err
	}
	defer func() { _ = api.Stop() }()
	sim, err := scaletest.StartSim(filepath.Join(c.bin, "wecom-sim"), logs, "-latency", c.latency.String(), "-activate-users")
	if err != nil {
		return nil, err
	}
	defer sim.Stop()
	members := make([]string, s.Members)
	seed := wecomsim.Seed{}
	for i := range members {
		members[i] = fmt.Sprintf("oncall-%02d", i)
		seed.Users = append(seed.Users, wecomsim.User{UserID: members[i], Name: "On call " + members[i],
			Email: members[i] + "@corp.example.com", Department: []int64{1}})
	}
	if err := sim.Seed(ctx, wecomsim.SeedRequest{Seed: seed}); err != nil {
		return nil, err
	}
	const ns = "storm"
	if err := api.CreateNamespace(ctx, ns); err != nil {
		return nil, err
	}
	fleet := scaletest.Fleet{Namespace: ns}
	objs := append(fleet.Connections(sim.URL), testenv.Secret(ns, "am-auth", map[string]string{"token": stormToken}))
	rcv := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: ns}, Spec: v1.AlertReceiverSpec{
		ConnectionRef: &v1.ConnectionReference{Name: scaletest.AppConnection},
		To:            &v1.Recipients{Users: members},
		AuthSecretRef: v1.AlertReceiverAuth{Name: "am-auth", BearerTokenKey: "token"},
	}}
	objs = append(objs, rcv)
	for _, o := range objs {
		if err := api.Client.Create(ctx, o); err != nil {
			return nil, err
		}
	}

	mgr := &scaletest.Manager{Bin: filepath.Join(c.bin, "manager"), Kubeconfig: api.Kubeconfig, Log: logs, Receiver: true,
		Args: []string{fmt.Sprintf("--concurrency=%d", c.concurrency), fmt.Sprintf("--wecom-qps=%g", c.qps),
			fmt.Sprintf("--wecom-burst=%d", c.burst), "--allowed-api-urls=" + sim.URL}}
	if err := mgr.Start(ctx); err != nil {
		return nil, err
	}
	defer mgr.Stop()
	if err := waitFor(ctx, time.Minute, func() (bool, error) {
		conn := &v1.WeComConnection{}
		if err := api.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: scaletest.AppConnection}, conn); err != nil {
			return false, err
		}
		if err := api.Client.Get(ctx, client.ObjectKeyFromObject(rcv), rcv); err != nil {
			return false, err
		}
		return conn.Status.ObservedGeneration > 0 && rcv.Status.WebhookPath != "", nil
	}); err != nil {
		return nil, fmt.Errorf("the connection and the receiver did not become ready: %w", err)
	}

	amURL, stop, err := startAlertmanager(ctx, amBin, work, logs, "http://"+mgr.ReceiverAddr()+rcv.Status.WebhookPath)
	if err != nil {
		return nil, err
	}
	defer stop()
	seq0, err := sim.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	cpu0, _ := mgr.Usage()

	logf("storm %q: firing %d alerts (one group each) at Alertmanager at once", s.Name, s.Groups)
	start := time.Now()
	if err := fireAlerts(ctx, amURL, s.Groups); err != nil {
		return nil, err
	}
	r := &StormResult{StormScenario: s}
	names := make([]string, s.Groups)
	for i := range names {
		names[i] = stormAlertName(i)
	}
	var msgs []wecomsim.Message
	webhookDone := time.Time{}
	err = waitFor(ctx, c.convergeTimeout, func() (bool, error) {
		if webhookDone.IsZero() {
			list := &v1.NotificationList{}
			if err := api.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
				return false, err
			}
			if len(list.Items) >= s.Groups {
				webhookDone = time.Now()
			}
		}
		var err error
		if msgs, _, err = sim.Messages(ctx); err != nil {
			return false, err
		}
		missing, _, _ := coverage(msgs, members, names)
		return missing == 0, nil
	})
	if !webhookDone.IsZero() {
		r.WebhookSeconds = webhookDone.Sub(start).Seconds()
	}
	// Whatever came of it, what WeCom received is the result; the notifications settle first.
	_ = waitFor(ctx, 30*time.Second, func() (bool, error) {
		list := &v1.NotificationList{}
		if err := api.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, n := range list.Items {
			if n.Status.Phase == v1.NotificationPending {
				return false, nil
			}
		}
		return true, nil
	})
	if msgs, drops, err2 := sim.Messages(ctx); err2 == nil {
		r.measure(msgs, drops, members, names, start)
	}
	list := &v1.NotificationList{}
	if err := api.Client.List(ctx, list, client.InNamespace(ns)); err == nil {
		r.Notifications = len(list.Items)
		for _, n := range list.Items {
			if n.Status.DeliveredIn != nil {
				r.Folded++
			}
			if n.Status.Fold != nil {
				r.Plans++
			}
		}
	}
	if calls, cerr := sim.Calls(ctx, seq0); cerr == nil {
		for _, call := range calls {
			if scaletest.Endpoint(call) == "message/send" {
				r.MessageSendCall++
			}
		}
	}
	if u, uerr := mgr.Usage(); uerr == nil {
		r.ManagerUsage = StormUsage{CPUSeconds: u.CPUSeconds - cpu0.CPUSeconds, PeakRSSMiB: float64(u.PeakRSSBytes) / (1 << 20)}
	}
	logf("storm %q: every alert visible to every member after %.1f s; %d messages per member (at most %d in a minute), %d folded, %d dropped, %d missing, %d repeated",
		s.Name, r.VisibleSeconds, r.Messages, r.MaxPerMinute, r.Folded, r.Drops, r.Missing, r.Repeated)
	if err != nil {
		return r, fmt.Errorf("not every alert reached every member within %s: %w", c.convergeTimeout, err)
	}
	return r, nil
}

func stormAlertName(i int) string { return fmt.Sprintf("StormAlert%04d", i) }

var stormAlertRe = regexp.MustCompile(`StormAlert\d{4}`)

// coverage counts (member, alert) pairs in no delivered message and in more than one, and
// when each pair was first delivered.
func coverage(msgs []wecomsim.Message, members, names []string) (missing, repeated int, first map[string]time.Time) {
	count := map[string]int{}
	first = map[string]time.Time{}
	for _, m := range msgs {
		if m.Duplicate || m.Channel != "message" {
			continue
		}
		alerts := map[string]bool{}
		for _, a := range stormAlertRe.FindAllString(string(m.Body), -1) {
			alerts[a] = true
		}
		for _, u := range m.DeliveredTo {
			for a := range alerts {
				k := strings.ToLower(u) + "/" + a
				count[k]++
				if t, ok := first[k]; !ok || m.Time.Before(t) {
					first[k] = m.Time
				}
			}
		}
	}
	for _, u := range members {
		for _, a := range names {
			switch n := count[strings.ToLower(u)+"/"+a]; {
			case n == 0:
				missing++
			case n > 1:
				repeated++
			}
		}
	}
	return missing, repeated, first
}

func (r *StormResult) measure(msgs []wecomsim.Message, drops []wecomsim.Drop, members, names []string, start time.Time) {
	var last time.Time
	var first map[string]time.Time
	r.Missing, r.Repeated, first = coverage(msgs, members, names)
	for _, t := range first {
		if t.After(last) {
			last = t
		}
	}
	if !last.IsZero() {
		r.VisibleSeconds = last.Sub(start).Seconds()
	}
	r.Drops = len(drops)
	for _, u := range members {
		var times []time.Time
		for _, m := range msgs {
			if m.Duplicate || !slices.ContainsFunc(m.DeliveredTo, func(d string) bool { return strings.EqualFold(d, u) }) {
				continue
			}
			times = append(times, m.Time)
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		r.Messages = max(r.Messages, len(times))
		r.MaxPerMinute = max(r.MaxPerMinute, maxInWindow(times, time.Minute))
		if len(times) > 0 && (r.FirstSeconds == 0 || times[0].Sub(start).Seconds() < r.FirstSeconds) {
			r.FirstSeconds = times[0].Sub(start).Seconds()
		}
	}
	for _, m := range msgs {
		if m.Duplicate {
			r.Duplicates++
		}
		var body struct {
			Markdown, Text struct{ Content string }
		}
		if json.Unmarshal(m.Body, &body) == nil {
			r.LargestMessage = max(r.LargestMessage, len(body.Markdown.Content), len(body.Text.Content))
		}
	}
}

// maxInWindow is the most of sorted times in any window, counted as WeCom does: a delivery
// at t counts for (t-window, t].
func maxInWindow(times []time.Time, window time.Duration) int {
	best, j := 0, 0
	for i, t := range times {
		for !times[j].After(t.Add(-window)) {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// fireAlerts posts n alerts, each with its own alertname, to Alertmanager in one request.
func fireAlerts(ctx context.Context, amURL string, n int) error {
	alerts := make([]map[string]any, n)
	for i := range alerts {
		alerts[i] = map[string]any{
			"labels":       map[string]string{"alertname": stormAlertName(i), "severity": "critical", "instance": fmt.Sprintf("node-%d", i)},
			"annotations":  map[string]string{"summary": fmt.Sprintf("disk of node-%d is 97%% full", i)},
			"generatorURL": fmt.Sprintf("http://prometheus.example.com/graph?g0.expr=disk%d", i),
		}
	}
	body, _ := json.Marshal(alerts)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, amURL+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("the Alertmanager answered %s: %s", resp.Status, msg)
	}
	return nil
}

// startAlertmanager runs bin/alertmanager with the storm route to webhook and waits until it
// is ready.
func startAlertmanager(ctx context.Context, bin, work string, logs io.Writer, webhook string) (string, func(), error) {
	dir := filepath.Join(work, "alertmanager")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(stormAlertmanagerConfig, webhook, stormToken)), 0o600); err != nil {
		return "", nil, err
	}
	port, err := testenv.FreePort()
	if err != nil {
		return "", nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.external-url=http://"+addr, "--cluster.listen-address=")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	url := "http://" + addr
	if err := waitFor(ctx, 30*time.Second, func() (bool, error) {
		select {
		case <-done:
			return false, errors.New("the Alertmanager exited")
		default:
		}
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}); err != nil {
		stop()
		return "", nil, err
	}
	return url, stop, nil
}

// waitFor polls cond every 100 ms until it holds, fails, or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func stormTargets(rs []StormResult) []Target {
	var out []Target
	for _, r := range rs {
		out = append(out,
			Target{Name: r.Name + ": never over 30 messages a minute per member", Target: "≤ 30", Measured: fmt.Sprint(r.MaxPerMinute), Met: r.MaxPerMinute <= 30},
			Target{Name: r.Name + ": nothing dropped by WeCom", Target: "0", Measured: fmt.Sprint(r.Drops), Met: r.Drops == 0},
			Target{Name: r.Name + ": each alert in exactly one delivered message per member", Target: "0 missing, 0 repeated",
				Measured: fmt.Sprintf("%d missing, %d repeated", r.Missing, r.Repeated), Met: r.Missing == 0 && r.Repeated == 0},
		)
		if r.Members == 1 && r.Groups <= 100 {
			out = append(out, Target{Name: r.Name + ": every alert visible to the member", Target: "≤ 10 s",
				Measured: fmt.Sprintf("%.1f s", r.VisibleSeconds), Met: r.Missing == 0 && r.VisibleSeconds <= 10})
		}
	}
	return out
}

func writeStorm(dir string, r *StormResults) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "storm.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Alert storms\n\nMeasured %s on %s (%d CPUs), simulator at %d ms per call, by `make bench` (hack/bench/storm.go): the real Prometheus Alertmanager (`bin/alertmanager`, group_by alertname, group_wait 1s) posts each alert group to an AlertReceiver (folding on, the default; markdown) whose Notifications go to the members as app messages. Each row is a fresh API server, simulator and manager. Times are from the POST of every alert to Alertmanager at once; \"visible\" is when the simulator delivered the last alert to the last member. Exactly once is checked from the simulator's message record: every (member, alert) pair in exactly one delivered message.\n\n",
		r.Date, r.Machine.CPUModel, r.Machine.CPUs, r.LatencyMs)
	b.WriteString("| storm | Notifications | folded (plans) | messages per member | max per minute | first message | all stored | all visible | dropped | missing | repeated | duplicate sends | message/send calls | largest message | manager CPU |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "| %s | %d | %d (%d) | %d | %d | %.1f s | %.1f s | **%.1f s** | %d | %d | %d | %d | %d | %d B | %.1f s |\n",
			s.Name, s.Notifications, s.Folded, s.Plans, s.Messages, s.MaxPerMinute, s.FirstSeconds, s.WebhookSeconds, s.VisibleSeconds,
			s.Drops, s.Missing, s.Repeated, s.Duplicates, s.MessageSendCall, s.LargestMessage, s.ManagerUsage.CPUSeconds)
	}
	b.WriteString("\n## Targets\n\n| target | goal | measured | met |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		met := "yes"
		if !t.Met {
			met = "**no**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Target, t.Measured, met)
	}
	return os.WriteFile(filepath.Join(dir, "storm.md"), []byte(b.String()), 0o644)
}
