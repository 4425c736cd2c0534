// Package importer is the logic of the kubectl plugin kubectl-wecom (cmd/kubectl-wecom):
//
//   - import reads a live corp with the operator's WeCom client (internal/wecom) and writes a
//     directory of manifests, one file per kind and a kustomization.yaml, whose objects
//     observe WeCom without writing to it (or, with Manage, manage it);
//   - drift lists the objects whose WeCom state differs from their spec (status.drift);
//   - tree prints the department tree the cluster holds, with each object's state.
//
// Everything here takes writers and clients as arguments, so the tests run it without a
// terminal against the simulator and a real API server. See docs/import.md.
package importer

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Source is one app's credentials and the name of the WeComConnection that the objects read
// with them reference.
type Source struct {
	Credentials Credentials
	Connection  string
	// AgentID is the self-built app's agentid (the connection's spec.agentID). Given for App,
	// the app's settings and menu are imported as a WeComApp; 0 imports none.
	AgentID int64
}

// Config is one import.
type Config struct {
	// Org reads departments, members and tags: the contacts-sync (通讯录同步) secret. nil:
	// none.
	Org *Source
	// App reads contact ways, calendars, schedules, app chats and the app itself: a
	// self-built app's secret; it also reads the tags when Org is nil. nil: none.
	App *Source
	// Namespace goes into kustomization.yaml; empty leaves the objects' namespace to whoever
	// applies them.
	Namespace string
	// Calendars whose schedules are imported; the pinned ones (--calendar) are also imported
	// as WeComCalendars.
	Calendars []Calendar
	// ChatIDs are the app chats to import (WeCom cannot list chats).
	ChatIDs []string
	// Manage writes fully managed objects instead of observe-only ones.
	Manage bool
	// QPS and Burst pace the calls per endpoint; zero QPS is 40, the operator's default.
	QPS   float64
	Burst int
	// Concurrency is the number of reads in flight; zero is 8.
	Concurrency int
	// OutputDir receives the files.
	OutputDir string
	// DryRun reads WeCom but writes nothing: the report says what would be written.
	DryRun bool
	// Progress reports the reads; nil reports nothing.
	Progress *Progress
}

// Report is what an import did.
type Report struct {
	Manifests *Manifests
	Files     Rendered
	Changes   []FileChange
	// Calls are the requests sent to WeCom by endpoint, Members the members read.
	Calls   map[string]int
	Members int
	// Elapsed is the wall time of the whole import: reads, rendering, writing.
	Elapsed time.Duration
	cfg     Config
	calls   string
}

// TotalCalls is the number of requests sent to WeCom.
func (r *Report) TotalCalls() int {
	n := 0
	for _, v := range r.Calls {
		n += v
	}
	return n
}

// CallsPerMember is TotalCalls over the members read (0 without members).
func (r *Report) CallsPerMember() float64 {
	if r.Members == 0 {
		return 0
	}
	return float64(r.TotalCalls()) / float64(r.Members)
}

// Run imports as cfg says.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	if cfg.Org == nil && cfg.App == nil {
		return nil, fmt.Errorf("nothing to read: no credentials for the org chart or an app")
	}
	if cfg.QPS <= 0 {
		cfg.QPS = 40
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 20
	}
	clients := NewClients(cfg.QPS, cfg.Burst)
	ropts := ReadOptions{Calendars: cfg.Calendars, ChatIDs: cfg.ChatIDs, Concurrency: cfg.Concurrency, Progress: cfg.Progress}
	bopts := BuildOptions{Manage: cfg.Manage}
	var org *wecom.Client
	if cfg.Org != nil {
		c, err := clients.New(cfg.Org.Credentials)
		if err != nil {
			return nil, err
		}
		org, ropts.Org, bopts.Connection = c, c, cfg.Org.Connection
		// The contacts-sync secret sees every member of a tag.
		ropts.Tags, bopts.TagConnection = c, cfg.Org.Connection
	}
	if cfg.App != nil {
		c := org
		if cfg.Org == nil || cfg.App.Credentials != cfg.Org.Credentials {
			var err error
			if c, err = clients.New(cfg.App.Credentials); err != nil {
				return nil, err
			}
		}
		ropts.App, ropts.ContactWays, ropts.AgentID, bopts.AppConnection = c, true, cfg.App.AgentID, cfg.App.Connection
		if ropts.Tags == nil {
			ropts.Tags, bopts.TagConnection = c, cfg.App.Connection
		}
	}
	snap, err := Read(ctx, ropts)
	if err != nil {
		return nil, err
	}
	m := Build(snap, bopts)
	files, err := Render(m, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	changes, err := Write(cfg.OutputDir, files, cfg.DryRun)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", cfg.OutputDir, err)
	}
	return &Report{
		Manifests: m, Files: files, Changes: changes, Calls: clients.Calls.ByEndpoint(), Members: len(snap.Users),
		Elapsed: time.Since(start), cfg: cfg, calls: clients.Calls.String(),
	}, nil
}

// Print writes the summary: what was (or would be) written where, the warnings, and what the
// import cost in WeCom calls and time.
func (r *Report) Print(w io.Writer) {
	m, cfg := r.Manifests, r.cfg
	verb := "wrote"
	if cfg.DryRun {
		verb = "would write"
	}
	ns := ""
	if cfg.Namespace != "" {
		ns = " (namespace " + cfg.Namespace + ")"
	}
	fmt.Fprintf(w, "%s %d objects to %s%s:\n", verb, m.Count(), cfg.OutputDir, ns)
	counts := map[string]string{
		FileDepartments: fmt.Sprintf("%d WeComDepartment", len(m.Departments)),
		FileUsers:       fmt.Sprintf("%d WeComUser", len(m.Users)),
		FileTags:        fmt.Sprintf("%d WeComTag", len(m.Tags)),
		FileContactWays: fmt.Sprintf("%d ContactWay", len(m.ContactWays)),
		FileCalendars:   fmt.Sprintf("%d WeComCalendar", len(m.Calendars)),
		FileSchedules:   fmt.Sprintf("%d Schedule", len(m.Schedules)),
		FileAppChats:    fmt.Sprintf("%d WeComAppChat", len(m.AppChats)),
		FileApps:        fmt.Sprintf("%d WeComApp", len(m.Apps)),
	}
	for _, c := range r.Changes {
		fmt.Fprintf(w, "  %-20s %-20s %s\n", c.Name, counts[c.Name], c.Change)
	}
	if cfg.Manage {
		fmt.Fprintln(w, "every object is fully managed (managementPolicies [\"*\"], deletionPolicy Delete): applying them lets the operator change WeCom")
	} else {
		fmt.Fprintln(w, "every object only observes (managementPolicies [Observe], deletionPolicy Orphan): applying them writes nothing to WeCom")
	}
	if len(m.Warnings) > 0 {
		fmt.Fprintf(w, "%d warnings:\n", len(m.Warnings))
		for _, s := range m.Warnings {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	fmt.Fprintf(w, "WeCom calls: %d (%s)", r.TotalCalls(), r.calls)
	if r.Members > 0 {
		fmt.Fprintf(w, ", %.3f per member", r.CallsPerMember())
	}
	fmt.Fprintf(w, "; took %s\n", roundDuration(r.Elapsed))
	if !cfg.DryRun {
		apply := "kubectl apply -k " + cfg.OutputDir
		if strings.ContainsAny(cfg.OutputDir, " \t") {
			apply = fmt.Sprintf("kubectl apply -k %q", cfg.OutputDir)
		}
		fmt.Fprintf(w, "next: %s, then kubectl wecom drift%s\n", apply, nsFlag(cfg.Namespace))
	}
}

func nsFlag(ns string) string {
	if ns == "" {
		return ""
	}
	return " -n " + ns
}
