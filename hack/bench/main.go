// Command bench measures wecom-operator at scale against the WeCom simulator and writes the
// figures to bench/results/results.{md,json}. It runs the real manager binary against a local
// kube-apiserver (the envtest binaries) and the simulator binary with 20 ms added per call:
//
//  1. Convergence: 200 departments in 3 levels, 2,000 users, 100 app chats, 200 contact
//     ways and 100 schedules applied at once; wall time to all Ready and every WeCom call.
//  2. Steady state: the manager restarted with a short drift interval; WeCom calls per
//     interval (the restart's own interval, then three more).
//  3. A storm of 1,000 Notifications to 50 members: time to all Sent, create-to-sent
//     latency, what WeCom received and whether any copy crossed the per-member quota.
//  4. Callbacks on: spec.callback on both connections, the manager restarted with its
//     receiver and --callback-drift-interval (6 × the drift interval), the simulator's
//     callback URLs saved (verified against the manager); WeCom calls per drift-interval-long
//     window over one callback drift interval, compared with phase 2's, and 20 members
//     renamed by hand in the simulator's console: each repaired, how fast, at what cost.
//
// The manager's peak memory and CPU time come from /proc. During convergence and the storm the
// manager's /metrics is scraped every second, as Prometheus would for the Grafana dashboard;
// those scrapes and the simulator's call log, bucketed by second, are results.json's series
// (for every phase; hack/dashboard draws them). The design targets are checked at the end;
// the command exits 1 when one is missed.
//
//	make bench        # or: go run ./hack/bench -bin bin -out bench/results
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

type config struct {
	bin, out                        string
	fleet                           scaletest.Fleet
	notifications                   int
	latency, drift, convergeTimeout time.Duration
	intervals                       int
	callbackDrift                   time.Duration
	handEdits                       int
	concurrency, burst, deepEvery   int
	qps                             float64
	// alertmanager is the Prometheus Alertmanager binary of the storm phase; only runs
	// one phase ("storm") instead of all.
	alertmanager, only string
	// scaleRun is "large" for the large run (scale.go) instead of the default phases.
	scaleRun string
	scale    scaleConfig
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "bin", "directory holding manager, wecom-sim and k8s/ (kube-apiserver, etcd)")
	flag.StringVar(&c.out, "out", "bench/results", "directory the results are written to")
	flag.IntVar(&c.fleet.Departments, "departments", 200, "WeComDepartments, in 3 levels")
	flag.IntVar(&c.fleet.Users, "users", 2000, "WeComUsers")
	flag.IntVar(&c.fleet.Chats, "chats", 100, "WeComAppChats")
	flag.IntVar(&c.fleet.Ways, "ways", 200, "ContactWays")
	flag.IntVar(&c.fleet.Schedules, "schedules", 100, "Schedules")
	flag.IntVar(&c.fleet.Staff, "members", 50, "existing WeCom members the chats, ways, schedules and notifications use")
	flag.IntVar(&c.notifications, "notifications", 1000, "Notifications in the storm")
	flag.DurationVar(&c.latency, "latency", 20*time.Millisecond, "latency the simulator adds to every call")
	flag.DurationVar(&c.drift, "drift-interval", 20*time.Second, "the manager's --drift-interval in the steady-state phase")
	flag.IntVar(&c.intervals, "intervals", 3, "drift intervals measured in the steady state")
	flag.IntVar(&c.concurrency, "concurrency", 4, "the manager's --concurrency")
	flag.Float64Var(&c.qps, "wecom-qps", 40, "the manager's --wecom-qps")
	flag.IntVar(&c.burst, "wecom-burst", 20, "the manager's --wecom-burst")
	flag.IntVar(&c.deepEvery, "deep-drift-every", 6, "the manager's --deep-drift-every")
	flag.DurationVar(&c.convergeTimeout, "timeout", 6*time.Minute, "how long convergence and the storm may each take")
	flag.DurationVar(&c.callbackDrift, "callback-drift-interval", 0, "the manager's --callback-drift-interval in the callbacks phase (default 6 × -drift-interval)")
	flag.IntVar(&c.handEdits, "hand-edits", 20, "members renamed by hand in the simulator during the callbacks phase (0 skips the phase)")
	flag.StringVar(&c.alertmanager, "alertmanager", "", "Prometheus Alertmanager binary for the storm phase (default <bin>/alertmanager)")
	flag.StringVar(&c.only, "only", "", `run one phase only: "storm" (alert storms through Alertmanager, bench/results/storm.*)`)
	flag.StringVar(&c.scaleRun, "scale", "", `"large": the large run instead of the default phases ("render": only scale.md again from scale.json) (import and observe a corp of -scale-members, full management at -scale-full-users); writes scale.{md,json}`)
	scaleFlags(&c.scale)
	flag.Parse()
	if c.callbackDrift == 0 {
		c.callbackDrift = 6 * c.drift
	}
	c.callbackDrift = max(c.callbackDrift, c.drift) // as the manager does
	c.fleet.Namespace = "bench"
	ctrllog.SetLogger(logr.Discard()) // the harness's own cache and client log nothing of interest

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	storms := func() []string {
		sr, err := runStorms(ctx, c)
		if sr != nil {
			err = errors.Join(err, writeStorm(c.out, sr))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench failed: storm phase:", err)
			os.Exit(1)
		}
		var missed []string
		for _, t := range sr.Targets {
			if !t.Met {
				missed = append(missed, t.Name)
			}
		}
		return missed
	}
	if c.only == "storm" {
		if missed := storms(); len(missed) > 0 {
			fmt.Fprintln(os.Stderr, "design targets missed:", strings.Join(missed, "; "))
			os.Exit(1)
		}
		return
	}
	switch c.scaleRun {
	case "":
	case "render":
		// scale.md again from scale.json, after a change of its layout.
		if err := renderScale(c.out); err != nil {
			fmt.Fprintln(os.Stderr, "bench failed:", err)
			os.Exit(1)
		}
		return
	case "large":
		if err := scale(ctx, c); err != nil {
			fmt.Fprintln(os.Stderr, "bench failed:", err)
			os.Exit(1)
		}
		return
	default:
		fmt.Fprintf(os.Stderr, "-scale: %q is not a scale (large, or empty for the default run)\n", c.scaleRun)
		os.Exit(2)
	}
	res, err := run(ctx, c)
	if res != nil {
		if werr := write(c.out, res); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
	if missed := append(res.missed(), storms()...); len(missed) > 0 {
		fmt.Fprintln(os.Stderr, "design targets missed:", strings.Join(missed, "; "))
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// bench holds what every phase uses.
type bench struct {
	config
	api   *scaletest.APIServer
	sim   *scaletest.Sim
	cache cache.Cache
	logs  io.Writer
	// managerEnv is added to the manager's environment (GOMEMLIMIT).
	managerEnv []string

	mu     sync.Mutex
	sentAt map[string]time.Time // Notification name → when the harness saw it Sent
}

func run(ctx context.Context, c config) (res *Results, err error) {
	bin, err := filepath.Abs(c.bin)
	if err != nil {
		return nil, err
	}
	c.bin = bin
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "wecom-bench-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			fmt.Fprintf(os.Stderr, "the manager's and the simulator's logs are kept in %s\n", work)
			return
		}
		os.RemoveAll(work)
	}()
	logFile, err := os.Create(filepath.Join(work, "processes.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	b := &bench{config: c, logs: logFile, sentAt: map[string]time.Time{}}

	defer b.stop()
	if err := b.start(ctx, root, work, c.fleet.StaffSeed()); err != nil {
		return nil, err
	}

	res = &Results{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Config: b.configResult()}
	res.Series = &Series{}
	conv, convSeries, err := b.converge(ctx)
	res.Convergence, res.Series.Convergence = conv, convSeries
	if conv != nil && conv.ManagerUsage != nil {
		res.Manager = append(res.Manager, *conv.ManagerUsage)
	}
	if err != nil {
		return res, err
	}
	steady, storm, usages, err := b.steadyAndStorm(ctx, res.Series)
	res.Steady, res.Storm = steady, storm
	res.Manager = append(res.Manager, usages...)
	if err != nil {
		return res, err
	}
	if c.handEdits > 0 {
		cb, cbSeries, usage, err := b.callbackPhase(ctx, work)
		res.Callbacks, res.Series.Callbacks = cb, cbSeries
		if usage != nil {
			res.Manager = append(res.Manager, *usage)
		}
		if err != nil {
			return res, err
		}
	}
	res.Targets = res.targets(c)
	return res, nil
}

// start starts the API server (the envtest binaries in bin/k8s) and the simulator seeded
// with seed, creates the fleet's namespace and starts the cache; stop stops what started.
func (b *bench) start(ctx context.Context, root, work string, seed wecomsim.Seed) (err error) {
	logf("starting the API server (envtest binaries in %s/k8s)", b.bin)
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		os.Setenv("KUBEBUILDER_ASSETS", filepath.Join(b.bin, "k8s"))
	}
	if b.api, err = scaletest.StartAPIServer(root, work); err != nil {
		return err
	}
	logf("starting the simulator (%s added per call)", b.latency)
	if b.sim, err = scaletest.StartSim(filepath.Join(b.bin, "wecom-sim"), b.logs, "-latency", b.latency.String(), "-activate-users"); err != nil {
		return err
	}
	if err := b.sim.Seed(ctx, wecomsim.SeedRequest{Seed: seed}); err != nil {
		return err
	}
	if err := b.api.CreateNamespace(ctx, b.fleet.Namespace); err != nil {
		return err
	}
	return b.startCache(ctx)
}

func (b *bench) stop() {
	if b.sim != nil {
		b.sim.Stop()
	}
	if b.api != nil {
		_ = b.api.Stop()
	}
}

// startCache watches the fleet's objects, so that progress is read without listing
// thousands of objects from the API server over and over, and notes when each Notification
// is first seen Sent.
func (b *bench) startCache(ctx context.Context) error {
	ca, err := cache.New(b.api.Config, cache.Options{Scheme: b.api.Scheme,
		DefaultNamespaces: map[string]cache.Config{b.fleet.Namespace: {}}})
	if err != nil {
		return err
	}
	inf, err := ca.GetInformer(ctx, &v1.Notification{})
	if err != nil {
		return err
	}
	seen := func(obj any) {
		n, ok := obj.(*v1.Notification)
		if !ok || n.Status.Phase != v1.NotificationSent {
			return
		}
		b.mu.Lock()
		if _, ok := b.sentAt[n.Name]; !ok {
			b.sentAt[n.Name] = time.Now()
		}
		b.mu.Unlock()
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: seen, UpdateFunc: func(_, obj any) { seen(obj) },
	}); err != nil {
		return err
	}
	for _, o := range []client.Object{&v1.WeComDepartment{}, &v1.WeComUser{}, &v1.WeComAppChat{}, &v1.ContactWay{}, &v1.Schedule{}} {
		if _, err := ca.GetInformer(ctx, o); err != nil {
			return err
		}
	}
	go func() { _ = ca.Start(ctx) }()
	if !ca.WaitForCacheSync(ctx) {
		return errors.New("the harness's cache did not sync")
	}
	b.cache = ca
	return nil
}

func (b *bench) manager(drift time.Duration, args ...string) *scaletest.Manager {
	return &scaletest.Manager{
		Bin: filepath.Join(b.bin, "manager"), Kubeconfig: b.api.Kubeconfig, Log: b.logs, Env: b.managerEnv,
		Args: append([]string{
			"--drift-interval=" + drift.String(),
			fmt.Sprintf("--deep-drift-every=%d", b.deepEvery),
			fmt.Sprintf("--concurrency=%d", b.concurrency),
			fmt.Sprintf("--wecom-qps=%g", b.qps),
			fmt.Sprintf("--wecom-burst=%d", b.burst),
			"--allowed-api-urls=" + b.sim.URL,
		}, args...),
	}
}

// converge applies the fleet at once to a running manager and waits until all is Ready.
// The manager runs with the default drift interval (10m), so that what is counted is the
// cost of creating, not of drift checks that a short interval would mix in.
func (b *bench) converge(ctx context.Context) (*Convergence, *PhaseSeries, error) {
	mgr := b.manager(10 * time.Minute)
	logf("starting the manager (--drift-interval=10m for convergence)")
	if err := mgr.Start(ctx); err != nil {
		return nil, nil, err
	}
	defer mgr.Stop()
	seq0, err := b.sim.LastSeq(ctx)
	if err != nil {
		return nil, nil, err
	}

	objs := append(b.fleet.Connections(b.sim.URL), b.fleet.Objects()...)
	// In no particular order, as a GitOps sync of a directory would: children may come
	// before their parents and members before their departments.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
	logf("applying %d objects at once", len(objs))
	start := time.Now()
	scr := startScraper(ctx, mgr, start)
	if err := scaletest.CreateAll(ctx, b.api.Client, objs, 8); err != nil {
		return nil, nil, err
	}
	applied := time.Since(start)
	logf("applied in %s; waiting until every object is Ready", applied.Round(time.Millisecond))

	kindReady, waitErr := b.waitDone(ctx, start, b.convergeTimeout, scaletest.Kinds[:5])
	wall := time.Since(start)
	// The series go on a few seconds past the last Ready, so that the end shows.
	series := newPhaseSeries(start, "the fleet's apply began", secondsUntil(start, time.Now())+3)
	scr.finish(series)
	usage, uerr := mgr.Usage()
	metrics, _ := mgr.Metrics(ctx)
	if waitErr == nil {
		logf("all Ready after %s", wall.Round(time.Millisecond))
	}

	calls, err := b.sim.Calls(ctx, seq0)
	if err != nil {
		return nil, series, err
	}
	series.addCalls(start, calls)
	snap, err := b.sim.State(ctx)
	if err != nil {
		return nil, series, err
	}
	conv := &Convergence{
		Objects:          b.objectCounts(),
		ApplySeconds:     applied.Seconds(),
		WallSeconds:      wall.Seconds(),
		ReadySeconds:     kindReady,
		Calls:            summarize(calls),
		ClientDelayed:    sumMetric(metrics, "wecom_client_rate_limited_total", `outcome="delayed"`),
		ClientRefused:    sumMetric(metrics, "wecom_client_rate_limited_total", `outcome="refused"`),
		ClientRetries:    sumMetric(metrics, "wecom_retries_total", ""),
		WeComDifferences: b.fleet.Diff(snap),
	}
	if uerr == nil {
		conv.ManagerUsage = &PhaseUsage{Phase: "convergence", Usage: usage}
	}
	created := 0
	for _, n := range conv.Objects {
		created += n
	}
	conv.CreatedObjects = created
	conv.CallsPerObject = ratio(conv.Calls.Total, created)
	conv.ByKind = byKind(calls, conv.Objects)
	switch {
	case waitErr != nil:
		return conv, series, waitErr
	case len(conv.WeComDifferences) > 0:
		return conv, series, fmt.Errorf("WeCom differs from the spec after convergence: %s", strings.Join(first(conv.WeComDifferences, 5), "; "))
	}
	return conv, series, nil
}

// steadyAndStorm restarts the manager with a short drift interval, counts WeCom calls per
// interval, then sends the storm of Notifications through the same manager.
func (b *bench) steadyAndStorm(ctx context.Context, series *Series) (*Steady, *Storm, []PhaseUsage, error) {
	mgr := b.manager(b.drift)
	logf("restarting the manager with --drift-interval=%s", b.drift)
	seq0, err := b.sim.LastSeq(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	restart := time.Now()
	if err := mgr.Start(ctx); err != nil {
		return nil, nil, nil, err
	}
	defer mgr.Stop()

	end := restart.Add(time.Duration(b.intervals+1) * b.drift)
	logf("counting WeCom calls for %d intervals of %s after the restart's own", b.intervals, b.drift)
	select {
	case <-time.After(time.Until(end)):
	case <-ctx.Done():
		return nil, nil, nil, ctx.Err()
	}
	calls, err := b.sim.Calls(ctx, seq0)
	if err != nil {
		return nil, nil, nil, err
	}
	steady := &Steady{DriftIntervalSeconds: b.drift.Seconds(), DeepDriftEvery: b.deepEvery}
	series.Steady = newPhaseSeries(restart, "the manager's restart", secondsUntil(restart, end))
	series.Steady.addCalls(restart, calls)
	steady.Intervals = intervals(calls, restart, b.drift, b.intervals+1)
	var usages []PhaseUsage
	before, uerr := mgr.Usage()
	if uerr == nil {
		usages = append(usages, PhaseUsage{Phase: "restart and steady state", Usage: before})
	}

	storm, stormSeries, err := b.storm(ctx, mgr)
	series.Storm = stormSeries
	if after, aerr := mgr.Usage(); aerr == nil && uerr == nil {
		// Same process: its peak so far, and the CPU time the storm added.
		usages = append(usages, PhaseUsage{Phase: "storm", Usage: scaletest.Usage{
			PeakRSSBytes: after.PeakRSSBytes, CPUSeconds: after.CPUSeconds - before.CPUSeconds}})
	}
	return steady, storm, usages, err
}

// intervals counts calls in n drift intervals of d from a restart at start; the first is the
// restart's.
func intervals(calls []wecomsim.Call, start time.Time, d time.Duration, n int) []Interval {
	out := make([]Interval, 0, n)
	for k := range n {
		from, to := start.Add(time.Duration(k)*d), start.Add(time.Duration(k+1)*d)
		var in []wecomsim.Call
		for _, c := range calls {
			if !c.Time.Before(from) && c.Time.Before(to) {
				in = append(in, c)
			}
		}
		iv := Interval{Index: k, Calls: summarize(in)}
		if k == 0 {
			iv.Label = "restart"
		}
		out = append(out, iv)
	}
	return out
}

// storm creates the Notifications as fast as the API server takes them and waits until
// all are Sent.
func (b *bench) storm(ctx context.Context, mgr *scaletest.Manager) (*Storm, *PhaseSeries, error) {
	if err := b.sim.ClearMessages(ctx); err != nil {
		return nil, nil, err
	}
	seq0, err := b.sim.LastSeq(ctx)
	if err != nil {
		return nil, nil, err
	}
	notes := b.fleet.Notifications("storm", b.notifications, func(int) scaletest.Channel { return scaletest.ChannelApp })
	logf("creating %d Notifications to %d members", len(notes), b.fleet.Staff)
	created := make([]time.Time, len(notes))
	work := make(chan int)
	errs := make(chan error, len(notes))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				created[i] = time.Now()
				if err := b.api.Client.Create(ctx, notes[i]); err != nil {
					errs <- err
				}
			}
		}()
	}
	start := time.Now()
	scr := startScraper(ctx, mgr, start)
	for i := range notes {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, nil, err
	}
	createdIn := time.Since(start)
	_, waitErr := b.waitDone(ctx, start, b.convergeTimeout, []string{"Notification"})
	series := newPhaseSeries(start, "the first Notification's create", secondsUntil(start, time.Now())+3)
	scr.finish(series)
	if waitErr != nil {
		return nil, series, waitErr
	}

	st := &Storm{Notifications: len(notes), Members: b.fleet.Staff, CreateSeconds: createdIn.Seconds()}
	var lat []float64
	var last time.Time
	sent := make([]time.Time, len(notes))
	b.mu.Lock()
	for i, n := range notes {
		at, ok := b.sentAt[n.Name]
		if !ok {
			continue
		}
		sent[i] = at
		lat = append(lat, at.Sub(created[i]).Seconds())
		if at.After(last) {
			last = at
		}
	}
	b.mu.Unlock()
	series.addLatency(start, created, sent)
	st.AllSentSeconds = last.Sub(start).Seconds()
	st.LatencyP50Seconds, st.LatencyP99Seconds, st.LatencyMaxSeconds = quantile(lat, 0.5), quantile(lat, 0.99), quantile(lat, 1)
	logf("all Sent after %.1fs (create-to-sent p50 %.2fs, p99 %.2fs)", st.AllSentSeconds, st.LatencyP50Seconds, st.LatencyP99Seconds)

	msgs, drops, err := b.sim.Messages(ctx)
	if err != nil {
		return st, series, err
	}
	perMember := map[string]int{}
	for _, m := range msgs {
		if m.Channel != "message" {
			continue
		}
		if m.Duplicate {
			st.DuplicatesSuppressed++
			continue
		}
		st.MessagesReceived++
		for _, u := range m.DeliveredTo {
			perMember[u]++
		}
	}
	st.CopiesOverQuota = len(drops)
	for _, n := range perMember {
		st.MaxPerMember = max(st.MaxPerMember, n)
	}
	calls, err := b.sim.Calls(ctx, seq0)
	if err != nil {
		return st, series, err
	}
	st.Calls = summarize(calls)
	series.addCalls(start, calls)
	return st, series, nil
}

// waitDone polls the cache until every object of kinds is done, and returns when each kind
// finished, in seconds after start.
func (b *bench) waitDone(ctx context.Context, start time.Time, timeout time.Duration, kinds []string) (map[string]float64, error) {
	done := map[string]float64{}
	deadline := time.Now().Add(timeout)
	lastLog := time.Time{}
	for {
		tally, err := scaletest.Tally(ctx, b.cache, b.fleet.Namespace)
		if err != nil {
			return nil, err
		}
		all := true
		var line []string
		for _, k := range kinds {
			p := tally[k]
			if p.Total > 0 && p.Done == p.Total {
				if _, ok := done[k]; !ok {
					done[k] = time.Since(start).Seconds()
				}
			} else {
				all = false
			}
			line = append(line, fmt.Sprintf("%s %d/%d", k, p.Done, p.Total))
		}
		if all {
			return done, nil
		}
		if time.Since(lastLog) > 10*time.Second {
			logf("  %s", strings.Join(line, ", "))
			lastLog = time.Now()
		}
		if time.Now().After(deadline) {
			var pending []string
			for _, k := range kinds {
				if p := tally[k]; p.Done < p.Total {
					pending = append(pending, fmt.Sprintf("%s %d/%d, e.g. %s", k, p.Done, p.Total, strings.Join(p.NotDone, ", ")))
				}
			}
			return done, fmt.Errorf("not done after %s: %s", timeout, strings.Join(pending, "; "))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (b *bench) objectCounts() map[string]int {
	f := b.fleet
	return map[string]int{"WeComDepartment": f.Departments, "WeComUser": f.Users, "WeComAppChat": f.Chats, "ContactWay": f.Ways, "Schedule": f.Schedules}
}

func (b *bench) configResult() Config {
	return Config{
		Departments: b.fleet.Departments, Users: b.fleet.Users, Chats: b.fleet.Chats, Ways: b.fleet.Ways,
		Schedules: b.fleet.Schedules, Members: b.fleet.Staff, Notifications: b.notifications,
		SimLatencyMS: b.latency.Milliseconds(), DriftIntervalSeconds: b.drift.Seconds(), DeepDriftEvery: b.deepEvery,
		Concurrency: b.concurrency, WeComQPS: b.qps, WeComBurst: b.burst,
		CallbackDriftIntervalSeconds: b.callbackDrift.Seconds(), HandEdits: b.handEdits,
	}
}

// summarize counts calls by endpoint, writes, reads and outcomes.
func summarize(calls []wecomsim.Call) CallSummary {
	s := CallSummary{ByEndpoint: map[string]int{}}
	for _, c := range calls {
		ep := scaletest.Endpoint(c)
		s.Total++
		s.ByEndpoint[ep]++
		switch {
		case ep == "gettoken":
			s.GetToken++
		case scaletest.IsWrite(ep):
			s.Writes++
		default:
			s.Reads++
		}
		if c.ErrCode == 45009 {
			s.FreqLimited++
		}
		if c.ErrCode != 0 || c.HTTPStatus != 200 {
			s.Errors++
		}
	}
	return s
}

// kindOf maps an endpoint to the kind whose controller calls it.
func kindOf(ep string) string {
	switch {
	case strings.HasPrefix(ep, "department/"):
		return "WeComDepartment"
	case strings.HasPrefix(ep, "user/"):
		return "WeComUser"
	case strings.HasPrefix(ep, "appchat/"):
		return "WeComAppChat"
	case strings.HasPrefix(ep, "externalcontact/"):
		return "ContactWay"
	case strings.HasPrefix(ep, "oa/"):
		return "Schedule"
	}
	return ""
}

func byKind(calls []wecomsim.Call, objects map[string]int) []KindCalls {
	var out []KindCalls
	for _, kind := range scaletest.Kinds[:5] {
		k := KindCalls{Kind: kind, Objects: objects[kind]}
		for _, c := range calls {
			ep := scaletest.Endpoint(c)
			if kindOf(ep) != kind {
				continue
			}
			k.Calls++
			if scaletest.IsWrite(ep) {
				k.Writes++
			}
		}
		k.CallsPerObject = ratio(k.Calls, k.Objects)
		out = append(out, k)
	}
	return out
}

// sumMetric adds up the samples of a Prometheus counter whose labels contain match.
func sumMetric(text, name, match string) int {
	total := 0.0
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if match != "" && !strings.Contains(line, match) {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
			total += v
		}
	}
	return int(total)
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return m
}

func write(dir string, r *Results) error {
	return writeResults(dir, "results", r, r.markdown())
}

// writeResults writes v as dir/name.json and md as dir/name.md, and prints md.
func writeResults(dir, name string, v any, md string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(compactArrays(data), '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Println()
	fmt.Print(md)
	return nil
}
