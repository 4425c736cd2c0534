package main

// The large run (`make bench BENCH_SCALE=large`, or -scale=large): adopting a corp of 20,000
// members in 1,000 departments, and the full-management fleet of 21,400 objects. It replaces
// the default phases and writes bench/results/scale.{md,json}.
//
//  1. Import: the simulator seeded with the corp (four levels of departments, every
//     department with a leader, every member with a direct leader); `kubectl wecom import`
//     run as a process (bin/kubectl-wecom) against it; WeCom calls per member, wall time and
//     the plugin's peak RSS.
//  2. Observe: the ~21,000 observe-only objects it wrote applied to a running manager; time
//     until all are Ready (observed, matching), the manager's peak memory, and WeCom calls
//     per drift interval after a restart with a shorter interval. Not one write.
//  3. Full management: the default bench's convergence at 20,000 users and 1,000
//     departments (21,400 objects created in WeCom), on a fresh API server and simulator,
//     until all are Ready or -timeout; the manager's peak memory against the chart's limit.
//
// Every manager of a run has GOMEMLIMIT=-scale-memlimit (the chart's goMemLimit by default;
// empty: unset). scale.json keeps one run per GOMEMLIMIT: a run replaces the earlier one with
// the same limit, so runs with and without it sit side by side in scale.md.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/wecom-dev/wecom-operator/internal/importer"
	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// scaleConfig is the large run's own flags.
type scaleConfig struct {
	members, departments int
	importQPS            float64
	importBurst          int
	importConcurrency    int
	observeDrift         time.Duration
	memLimit             string
	fullUsers, fullDepts int
	skipFull, skipAdopt  bool
}

func scaleFlags(s *scaleConfig) {
	flag.IntVar(&s.members, "scale-members", 20000, "large run: members of the imported corp")
	flag.IntVar(&s.departments, "scale-departments", 1000, "large run: departments of the imported corp, in four levels")
	flag.Float64Var(&s.importQPS, "scale-import-qps", 150, "large run: kubectl wecom import --qps")
	flag.IntVar(&s.importBurst, "scale-import-burst", 50, "large run: kubectl wecom import --burst")
	flag.IntVar(&s.importConcurrency, "scale-import-concurrency", 8, "large run: kubectl wecom import --concurrency")
	flag.DurationVar(&s.observeDrift, "scale-drift-interval", 2*time.Minute, "large run: the manager's --drift-interval when reads per interval are counted")
	flag.StringVar(&s.memLimit, "scale-memlimit", "180MiB", "large run: GOMEMLIMIT of every manager the run starts (the chart's goMemLimit; empty: unset)")
	flag.IntVar(&s.fullUsers, "scale-full-users", 20000, "large run: WeComUsers of the full-management phase")
	flag.IntVar(&s.fullDepts, "scale-full-departments", 1000, "large run: WeComDepartments of the full-management phase")
	flag.BoolVar(&s.skipFull, "scale-skip-full", false, "large run: skip the full-management phase")
	flag.BoolVar(&s.skipAdopt, "scale-skip-adopt", false, "large run: skip the import and observe phases")
}

// ScaleResults is what bench/results/scale.json holds: one run per GOMEMLIMIT.
type ScaleResults struct {
	Runs []ScaleRun `json:"runs"`
}

// ScaleRun is one large run.
type ScaleRun struct {
	Date    string        `json:"date"`
	Machine Machine       `json:"machine"`
	Config  ScaleConfig   `json:"config"`
	Import  *ScaleImport  `json:"import,omitempty"`
	Observe *ScaleObserve `json:"observe,omitempty"`
	Full    *Convergence  `json:"fullManagement,omitempty"`
	// FullError is why the full-management phase ended before all was Ready (-timeout).
	FullError string `json:"fullManagementError,omitempty"`
	// FullManager is the manager's usage in the full-management phase (Convergence keeps
	// it out of its JSON).
	FullManager *scaletest.Usage `json:"fullManagementManager,omitempty"`
	// AdoptDate and FullDate are when the import and observe phases, and the full-management
	// phase, ran, when a run that skipped one kept the earlier run's results for it.
	AdoptDate string `json:"adoptDate,omitempty"`
	FullDate  string `json:"fullDate,omitempty"`
}

// ScaleConfig is the large run's scale and knobs.
type ScaleConfig struct {
	GoMemLimit        string  `json:"goMemLimit"`
	TimeoutSeconds    float64 `json:"fullManagementTimeoutSeconds"`
	Members           int     `json:"members"`
	Departments       int     `json:"departments"`
	SimLatencyMS      int64   `json:"simulatorLatencyMS"`
	ImportQPS         float64 `json:"importQPS"`
	ImportBurst       int     `json:"importBurst"`
	ImportConcurrency int     `json:"importConcurrency"`
	Concurrency       int     `json:"concurrency"`
	WeComQPS          float64 `json:"wecomQPS"`
	WeComBurst        int     `json:"wecomBurst"`
	DeepDriftEvery    int     `json:"deepDriftEvery"`
	DriftSeconds      float64 `json:"driftIntervalSeconds"`
}

// ScaleImport is the import of the corp by the plugin, run as a process.
type ScaleImport struct {
	// Members and Departments are the WeComUsers and WeComDepartments written.
	Members        int         `json:"members"`
	Departments    int         `json:"departments"`
	Objects        int         `json:"objectsWritten"`
	Calls          CallSummary `json:"calls"`
	UserGets       int         `json:"userGets"`
	ListPages      int         `json:"listPages"`
	CallsPerMember float64     `json:"callsPerMember"`
	WallSeconds    float64     `json:"wallSeconds"`
	// PeakRSSBytes is the plugin's maximum resident set (getrusage's ru_maxrss, the
	// kernel's VmHWM of the process when it exited).
	PeakRSSBytes int64   `json:"peakRSSBytes"`
	CPUSeconds   float64 `json:"cpuSeconds"`
}

// ScaleObserve is the import's objects applied to the manager.
type ScaleObserve struct {
	Objects          map[string]int  `json:"objects"`
	ApplySeconds     float64         `json:"applySeconds"`
	AllReadySeconds  float64         `json:"allReadySeconds"`
	Calls            CallSummary     `json:"calls"`
	Manager          scaletest.Usage `json:"manager"`
	DriftSeconds     float64         `json:"driftIntervalSeconds"`
	Intervals        []Interval      `json:"intervals"`
	ManagerAfterSync scaletest.Usage `json:"managerSteady"`
	Writes           int             `json:"writes"`
}

// scale runs the large phases, writing what it has even when one fails.
func scale(ctx context.Context, c config) error {
	bin, err := filepath.Abs(c.bin)
	if err != nil {
		return err
	}
	c.bin = bin
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "wecom-bench-scale-")
	if err != nil {
		return err
	}
	res := &ScaleRun{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Config: ScaleConfig{
		GoMemLimit: c.scale.memLimit, TimeoutSeconds: c.convergeTimeout.Seconds(), Members: c.scale.members, Departments: c.scale.departments, SimLatencyMS: c.latency.Milliseconds(),
		ImportQPS: c.scale.importQPS, ImportBurst: c.scale.importBurst, ImportConcurrency: c.scale.importConcurrency,
		Concurrency: c.concurrency, WeComQPS: c.qps, WeComBurst: c.burst, DeepDriftEvery: c.deepEvery,
		DriftSeconds: c.scale.observeDrift.Seconds(),
	}}
	if !c.scale.skipAdopt {
		err = scaleAdopt(ctx, c, root, filepath.Join(work, "adopt"), res)
	}
	if err == nil && !c.scale.skipFull {
		res.Full, err = scaleFull(ctx, c, root, filepath.Join(work, "full"))
		if res.Full != nil && res.Full.ManagerUsage != nil {
			res.FullManager = &res.Full.ManagerUsage.Usage
		}
		if err != nil && res.Full != nil {
			res.FullError = err.Error()
			if len(res.FullError) > 300 {
				res.FullError = res.FullError[:300] + "…"
			}
		}
	}
	if werr := writeScale(c.out, res); werr != nil {
		err = errors.Join(err, werr)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "the processes' logs are kept in %s\n", work)
		return err
	}
	return os.RemoveAll(work)
}

// scaleCorp is a corp of members in departments in four levels below the root (1 %, 4 %,
// 20 %, 75 % of them), ids from 1000 on. Each department's first member leads it; every other
// member's direct leader is that leader.
func scaleCorp(members, departments int) wecomsim.Seed {
	var seed wecomsim.Seed
	shares := []int{max(1, departments/100), max(1, departments*4/100), max(1, departments*20/100)}
	shares = append(shares, departments-shares[0]-shares[1]-shares[2])
	parents := []int64{1}
	var all []int64
	next := int64(999)
	for level, n := range shares {
		var made []int64
		for i := range n {
			next++
			p := parents[i%len(parents)]
			seed.Departments = append(seed.Departments, wecomsim.Department{
				ID: next, ParentID: p, Order: uint32(1000 - i%1000),
				Name: fmt.Sprintf("L%d 部门 %d", level+1, next), NameEn: fmt.Sprintf("Level %d dept %d", level+1, next),
			})
			made = append(made, next)
		}
		parents = made
		all = append(all, made...)
	}
	leader := map[int64]string{}
	for i := range members {
		id := fmt.Sprintf("u%05d", i)
		dept := all[i%len(all)]
		u := wecomsim.User{
			UserID: id, Name: fmt.Sprintf("成员 %d", i), Mobile: fmt.Sprintf("138%08d", i),
			Department: []int64{dept}, Order: []uint32{uint32(i % 7)}, Gender: []string{"1", "2"}[i%2],
			Position: []string{"Engineer", "工程师", "Manager", ""}[i%4], IsLeaderInDept: []int{0},
		}
		if i%2 == 0 {
			u.Email = fmt.Sprintf("member%d@example.com", i)
		}
		if l, ok := leader[dept]; ok {
			u.DirectLeader = []string{l}
		} else {
			leader[dept] = id
			u.IsLeaderInDept[0] = 1
		}
		seed.Users = append(seed.Users, u)
	}
	return seed
}

// scaleAdopt seeds the corp, imports it with the plugin and applies what it wrote.
func scaleAdopt(ctx context.Context, c config, root, work string, res *ScaleRun) error {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(work, "processes.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	b := &bench{config: c, logs: logFile, managerEnv: memLimitEnv(c.scale.memLimit)}
	b.fleet.Namespace = "scale"
	logf("large run: a corp of %d members in %d departments (four levels)", c.scale.members, c.scale.departments)
	defer b.stop()
	if err := b.start(ctx, root, work, scaleCorp(c.scale.members, c.scale.departments)); err != nil {
		return err
	}
	if err := scaletest.CreateAll(ctx, b.api.Client, b.fleet.Connections(b.sim.URL), 1); err != nil {
		return err
	}
	if err := b.startCache(ctx); err != nil {
		return err
	}

	// 1. The import, as a person runs it: the plugin's binary, the connections' credentials
	// read through the kubeconfig.
	seq0, err := b.sim.LastSeq(ctx)
	if err != nil {
		return err
	}
	out := filepath.Join(work, "import")
	args := []string{"import", "--kubeconfig", b.api.Kubeconfig, "-n", b.fleet.Namespace,
		"--connection", scaletest.ContactsConnection, "--app-connection", scaletest.AppConnection, "--output-dir", out,
		fmt.Sprintf("--qps=%g", c.scale.importQPS), fmt.Sprintf("--burst=%d", c.scale.importBurst),
		fmt.Sprintf("--concurrency=%d", c.scale.importConcurrency)}
	logf("kubectl-wecom %s", strings.Join(args[1:], " "))
	imp, err := runPlugin(ctx, filepath.Join(c.bin, "kubectl-wecom"), args, logFile)
	if err != nil {
		return err
	}
	calls, err := b.sim.Calls(ctx, seq0)
	if err != nil {
		return err
	}
	imp.Calls = summarize(calls)
	imp.UserGets = imp.Calls.ByEndpoint["user/get"]
	imp.ListPages = imp.Calls.Reads - imp.UserGets
	objs, err := loadImport(out, b.fleet.Namespace)
	if err != nil {
		return err
	}
	imp.Objects = len(objs)
	for _, o := range objs {
		switch o.GetObjectKind().GroupVersionKind().Kind {
		case "WeComUser":
			imp.Members++
		case "WeComDepartment":
			imp.Departments++
		}
	}
	imp.CallsPerMember = ratio(imp.Calls.Total, imp.Members)
	res.Import = imp
	logf("imported %d objects in %.1fs: %d WeCom calls (%d user/get, %d list pages), plugin peak RSS %d MiB",
		imp.Objects, imp.WallSeconds, imp.Calls.Total, imp.UserGets, imp.ListPages, imp.PeakRSSBytes>>20)
	if imp.Calls.Writes > 0 {
		return fmt.Errorf("the import wrote to WeCom: %v", imp.Calls.ByEndpoint)
	}

	// 2. Apply it to a running manager and wait until every object is observed and Ready.
	mgr := b.manager(10 * time.Minute)
	if err := mgr.Start(ctx); err != nil {
		return err
	}
	seq1, err := b.sim.LastSeq(ctx)
	if err != nil {
		mgr.Stop()
		return err
	}
	obs := &ScaleObserve{Objects: map[string]int{}, DriftSeconds: c.scale.observeDrift.Seconds()}
	for _, o := range objs {
		obs.Objects[o.GetObjectKind().GroupVersionKind().Kind]++
	}
	res.Observe = obs
	logf("applying the %d observe-only objects", len(objs))
	start := time.Now()
	if err := scaletest.CreateAll(ctx, b.api.Client, objs, 8); err != nil {
		mgr.Stop()
		return err
	}
	obs.ApplySeconds = time.Since(start).Seconds()
	_, err = b.waitDone(ctx, start, 40*time.Minute, []string{"WeComDepartment", "WeComUser"})
	obs.AllReadySeconds = time.Since(start).Seconds()
	obs.Manager, _ = mgr.Usage()
	mgr.Stop()
	if err != nil {
		return err
	}
	logf("all observed and Ready after %.1fs; manager peak %d MiB", obs.AllReadySeconds, obs.Manager.PeakRSSBytes>>20)
	if calls, err = b.sim.Calls(ctx, seq1); err != nil {
		return err
	}
	obs.Calls = summarize(calls)

	// 3. Reads per drift interval: the manager restarted with a shorter one.
	mgr = b.manager(c.scale.observeDrift)
	restart := time.Now()
	if err := mgr.Start(ctx); err != nil {
		return err
	}
	logf("restarted the manager with --drift-interval=%s; counting calls for the restart's interval and one more", c.scale.observeDrift)
	select {
	case <-time.After(2 * c.scale.observeDrift):
	case <-ctx.Done():
		mgr.Stop()
		return ctx.Err()
	}
	obs.ManagerAfterSync, _ = mgr.Usage()
	mgr.Stop()
	if calls, err = b.sim.Calls(ctx, seq1); err != nil {
		return err
	}
	obs.Intervals = intervals(calls, restart, c.scale.observeDrift, 2)
	obs.Writes = summarize(calls).Writes
	if obs.Writes > 0 {
		return fmt.Errorf("observe-only objects wrote to WeCom: %v", summarize(calls).ByEndpoint)
	}
	return nil
}

// runPlugin runs the kubectl-wecom binary and returns its wall time and peak memory.
func runPlugin(ctx context.Context, path string, args []string, logTo io.Writer) (*ScaleImport, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = logTo, logTo // not a terminal: plain progress lines
	start := time.Now()
	err := cmd.Run()
	imp := &ScaleImport{WallSeconds: time.Since(start).Seconds()}
	if err != nil {
		return imp, fmt.Errorf("kubectl-wecom import: %w", err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		imp.PeakRSSBytes = ru.Maxrss * 1024 // kilobytes on Linux
	}
	imp.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return imp, nil
}

// loadImport reads the objects of the resources an import's kustomization.yaml lists, in
// namespace, as `kubectl apply -k` would.
func loadImport(dir, namespace string) ([]client.Object, error) {
	var k struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile(filepath.Join(dir, importer.FileKustomization))
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, err
	}
	var out []client.Object
	for _, r := range k.Resources {
		data, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			return nil, err
		}
		for _, doc := range strings.Split(string(data), "---\n") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			o := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &o.Object); err != nil {
				return nil, fmt.Errorf("%s: %w", r, err)
			}
			o.SetNamespace(namespace)
			out = append(out, o)
		}
	}
	return out, nil
}

// memLimitEnv is the manager's environment for GOMEMLIMIT=limit (nothing when empty).
func memLimitEnv(limit string) []string {
	if limit == "" {
		return nil
	}
	return []string{"GOMEMLIMIT=" + limit}
}

// scaleFull converges the default bench's fleet at scale on a fresh API server and
// simulator.
func scaleFull(ctx context.Context, c config, root, work string) (*Convergence, error) {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(work, "processes.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	c.fleet.Users, c.fleet.Departments = c.scale.fullUsers, c.scale.fullDepts
	b := &bench{config: c, logs: logFile, sentAt: map[string]time.Time{}, managerEnv: memLimitEnv(c.scale.memLimit)}
	logf("large run, full management: %d users, %d departments", c.fleet.Users, c.fleet.Departments)
	defer b.stop()
	if err := b.start(ctx, root, work, c.fleet.StaffSeed()); err != nil {
		return nil, err
	}
	conv, _, err := b.converge(ctx)
	if conv != nil {
		// What WeCom lacks of a run stopped at -timeout: a few examples, not thousands.
		conv.WeComDifferences = first(conv.WeComDifferences, 10)
	}
	if conv != nil && conv.ManagerUsage != nil {
		logf("converged in %.1fs; manager peak %d MiB", conv.WallSeconds, conv.ManagerUsage.PeakRSSBytes>>20)
	}
	return conv, err
}

// renderScale writes dir/scale.md again from dir/scale.json.
func renderScale(dir string) error {
	r := &ScaleResults{}
	data, err := os.ReadFile(filepath.Join(dir, "scale.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, r); err != nil {
		return err
	}
	return writeResults(dir, "scale", r, r.markdown())
}

// writeScale adds run to dir/scale.json, replacing a run with the same GOMEMLIMIT, and
// writes scale.md from all of them.
func writeScale(dir string, run *ScaleRun) error {
	r := &ScaleResults{}
	if data, err := os.ReadFile(filepath.Join(dir, "scale.json")); err == nil {
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("%s/scale.json: %w", dir, err)
		}
	}
	for _, old := range r.Runs {
		if old.Config.GoMemLimit != run.Config.GoMemLimit {
			continue
		}
		// A run that skipped phases (-scale-skip-adopt, -scale-skip-full) keeps the earlier
		// results of those phases, dated.
		if run.Import == nil && run.Observe == nil && (old.Import != nil || old.Observe != nil) {
			run.Import, run.Observe = old.Import, old.Observe
			run.AdoptDate = cmp.Or(old.AdoptDate, old.Date)
		}
		if run.Full == nil && run.FullError == "" && (old.Full != nil || old.FullError != "") {
			run.Full, run.FullError, run.FullManager = old.Full, old.FullError, old.FullManager
			run.FullDate = cmp.Or(old.FullDate, old.Date)
		}
	}
	r.Runs = slices.DeleteFunc(r.Runs, func(old ScaleRun) bool { return old.Config.GoMemLimit == run.Config.GoMemLimit })
	r.Runs = append(r.Runs, *run)
	slices.SortFunc(r.Runs, func(a, b ScaleRun) int { return strings.Compare(a.Config.GoMemLimit, b.Config.GoMemLimit) })
	return writeResults(dir, "scale", r, r.markdown())
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

func (r *ScaleResults) markdown() string {
	var s strings.Builder
	s.WriteString("# Large-scale bench results\n\n" +
		"Generated by `make bench BENCH_SCALE=large` (hack/bench/scale.go), one section per GOMEMLIMIT the managers ran\n" +
		"with. The machine is shared with other work, so wall times are upper bounds. See docs/performance.md.\n")
	for _, run := range r.Runs {
		s.WriteString(run.markdown())
	}
	return s.String()
}

func limitName(l string) string {
	if l == "" {
		return "unset"
	}
	return l
}

func (r *ScaleRun) markdown() string {
	var s strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&s, format+"\n", args...) }
	cfg := r.Config
	p("")
	p("## GOMEMLIMIT %s", limitName(cfg.GoMemLimit))
	p("")
	p("Run on %s: %d CPUs (%s), %s, %s. The simulator adds %d ms to every call; the manager runs with",
		r.Date, r.Machine.CPUs, r.Machine.CPUModel, r.Machine.OS, r.Machine.GoVersion, cfg.SimLatencyMS)
	p("`--concurrency=%d --wecom-qps=%g --wecom-burst=%d --deep-drift-every=%d` and GOMEMLIMIT %s.",
		cfg.Concurrency, cfg.WeComQPS, cfg.WeComBurst, cfg.DeepDriftEvery, limitName(cfg.GoMemLimit))
	p("")
	if r.AdoptDate != "" {
		p("The import and observe phases below are from the run on %s (this run skipped them).", r.AdoptDate)
		p("")
	}
	if r.FullDate != "" {
		p("The full-management phase below is from the run on %s (this run skipped it).", r.FullDate)
		p("")
	}
	if i := r.Import; i != nil {
		p("### Import: %d members in %d departments (four levels below the root)", i.Members, i.Departments)
		p("")
		p("The simulator's corp: %d generated members in %d generated departments, plus its demo corp.", cfg.Members, cfg.Departments)
		p("`kubectl wecom import --qps=%g --burst=%d --concurrency=%d`, run as a process.", cfg.ImportQPS, cfg.ImportBurst, cfg.ImportConcurrency)
		p("")
		p("| Measure | Value |")
		p("|---|---|")
		p("| Objects written | %d |", i.Objects)
		p("| WeCom calls | %d (%s) |", i.Calls.Total, endpoints(i.Calls.ByEndpoint))
		p("| `user/get` per member | %.3f |", ratio(i.UserGets, i.Members))
		p("| Calls per member (all calls / members) | %.3f |", i.CallsPerMember)
		p("| List pages and other reads | %d |", i.ListPages)
		p("| Writes to WeCom | %d |", i.Calls.Writes)
		p("| Wall time | %.1f s |", i.WallSeconds)
		p("| Plugin peak RSS | %s |", mib(i.PeakRSSBytes))
		p("| Plugin CPU time | %.1f s |", i.CPUSeconds)
		p("")
	}
	if o := r.Observe; o != nil {
		total := 0
		for _, n := range o.Objects {
			total += n
		}
		p("### Observe: the %d imported objects applied to the manager", total)
		p("")
		p("| Measure | Value |")
		p("|---|---|")
		p("| Objects | %d (%s) |", total, endpoints(o.Objects))
		p("| Apply time (8 parallel creates) | %.1f s |", o.ApplySeconds)
		p("| Time to all observed and Ready | %.1f s |", o.AllReadySeconds)
		p("| WeCom calls until all Ready | %d (%s) |", o.Calls.Total, endpoints(o.Calls.ByEndpoint))
		p("| Manager peak RSS (apply to all Ready) | %s |", mib(o.Manager.PeakRSSBytes))
		for _, iv := range o.Intervals {
			label := fmt.Sprintf("interval %d", iv.Index)
			if iv.Label != "" {
				label = iv.Label + " interval"
			}
			p("| WeCom calls, %s (%g s) | %d reads, %d writes (%s) |", label, o.DriftSeconds, iv.Calls.Reads, iv.Calls.Writes, endpoints(iv.Calls.ByEndpoint))
		}
		p("| Manager peak RSS, restarted with every object, over two intervals | %s |", mib(o.ManagerAfterSync.PeakRSSBytes))
		p("| Writes to WeCom, whole phase | %d |", o.Writes)
		p("")
	}
	if cv := r.Full; cv != nil {
		p("### Full management: %d objects created at once", cv.CreatedObjects)
		p("")
		p("| Measure | Value |")
		p("|---|---|")
		p("| Objects | %d (%s) |", cv.CreatedObjects, endpoints(cv.Objects))
		if r.FullError != "" {
			p("| Stopped at the timeout (%.0f s) | %s |", cfg.TimeoutSeconds, strings.ReplaceAll(r.FullError, "|", "/"))
		} else {
			p("| Time to all Ready | %.1f s |", cv.WallSeconds)
		}
		p("| WeCom calls | %d (%.3f per object), %d writes |", cv.Calls.Total, cv.CallsPerObject, cv.Calls.Writes)
		if u := r.FullManager; u != nil {
			p("| Manager peak RSS | %s |", mib(u.PeakRSSBytes))
			p("| Manager CPU time | %.0f s |", u.CPUSeconds)
		}
		p("")
	}
	return s.String()
}

// endpoints lists counts by name, largest first.
func endpoints(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{k, v})
	}
	slices.SortFunc(list, func(a, b kv) int {
		if a.v != b.v {
			return b.v - a.v
		}
		return strings.Compare(a.k, b.k)
	})
	parts := make([]string, 0, len(list))
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s %d", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}
