package importer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Environment variables that hold secrets in corp mode: a flag would put them in the shell's
// history and in the process list.
const (
	EnvSecret    = "WECOM_SECRET"     // the contacts-sync (通讯录同步) secret
	EnvAppSecret = "WECOM_APP_SECRET" // a self-built app's secret
)

// IO is where the plugin reads and writes: os.Stdout, os.Stderr and os.Getenv in the binary,
// buffers and a map in tests.
type IO struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// TTY says whether Stderr is a terminal (a progress bar instead of lines).
	TTY bool
}

const usage = `kubectl wecom: work with the wecom-operator's objects (https://github.com/wecom-dev/wecom-operator)

Usage:
  kubectl wecom import [flags]   read a live WeCom corp and write manifests that observe it
  kubectl wecom drift  [flags]   list the objects whose WeCom state differs from their spec
  kubectl wecom tree   [flags]   print the department tree the cluster holds, with each object's state

Run "kubectl wecom <command> -h" for a command's flags. docs/import.md walks through adopting a corp.
`

// Main runs the plugin with args (without the program name) and returns the exit code:
// 0 done, 1 failed, 2 bad usage.
func Main(ctx context.Context, args []string, stdio IO) int {
	if stdio.Getenv == nil {
		stdio.Getenv = os.Getenv
	}
	if len(args) == 0 {
		fmt.Fprint(stdio.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "import":
		err = runImport(ctx, args[1:], stdio)
	case "drift":
		err = runDrift(ctx, args[1:], stdio)
	case "tree":
		err = runTree(ctx, args[1:], stdio)
	case "help", "-h", "--help":
		fmt.Fprint(stdio.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(stdio.Stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stdio.Stderr, "error: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdio.Stderr, "error: %v\n", err)
	return 1
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

func kubeFlags(fs *flag.FlagSet, k *KubeFlags) {
	fs.StringVar(&k.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&k.Context, "context", "", "the kubeconfig context to use")
	fs.StringVar(&k.Namespace, "namespace", "", "the namespace (default: the context's)")
	fs.StringVar(&k.Namespace, "n", "", "shorthand for --namespace")
}

// importFlags is the import command line.
type importFlags struct {
	kube                        KubeFlags
	connection, appConn         string
	corpID, apiURL              string
	connName, appConnName       string
	chats, calendars            stringList
	manage, dryRun              bool
	outputDir                   string
	qps                         float64
	burst, concurrency          int
	agentID                     int64
	secret, appSecret           string // from the environment, never from a flag
	namespaceGiven, apiURLGiven bool
}

// parseImport reads the import command line; secrets come from getenv.
func parseImport(args []string, getenv func(string) string, stderr io.Writer) (*importFlags, error) {
	f := &importFlags{}
	fs := flag.NewFlagSet("kubectl wecom import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Read a live WeCom corp and write a directory of manifests (one file per kind and a
kustomization.yaml) whose objects observe WeCom without writing to it.

Usage:
  kubectl wecom import --connection NAME [--app-connection NAME] [-n NAMESPACE] [flags]
  kubectl wecom import --corp-id ID [flags]   (secrets from $WECOM_SECRET and $WECOM_APP_SECRET, never flags)

Flags:
`)
		fs.PrintDefaults()
	}
	kubeFlags(fs, &f.kube)
	fs.StringVar(&f.connection, "connection", "", "WeComConnection (contacts-sync secret) to read departments and members with; its Secret is read through your kubeconfig")
	fs.StringVar(&f.appConn, "app-connection", "", "WeComConnection of a self-built app to read contact ways, schedules, app chats and the app's settings and menu with (default: --connection when it has an agentID)")
	fs.StringVar(&f.corpID, "corp-id", "", "a corp not connected yet: its corp ID; the secrets come from $"+EnvSecret+" (contacts sync) and $"+EnvAppSecret+" (app)")
	fs.StringVar(&f.apiURL, "api-url", wecom.DefaultBaseURL, "with --corp-id: WeCom's API base URL (a proxy, or the simulator)")
	fs.StringVar(&f.connName, "connection-name", "", "the WeComConnection departments and members reference (default: --connection, or wecom-contacts)")
	fs.StringVar(&f.appConnName, "app-connection-name", "", "the WeComConnection contact ways, schedules, chats and the app reference (default: --app-connection, or wecom-app)")
	fs.Int64Var(&f.agentID, "agent-id", 0, "with --corp-id: the agentid of the app whose secret is $"+EnvAppSecret+", to import its settings and menu as a WeComApp (a connection has its own spec.agentID)")
	fs.Var(&f.chats, "chat", "an app chat to import, by chat id (repeatable; WeCom cannot list chats)")
	fs.Var(&f.calendars, "calendar", "also import this calendar of the app (cal_id; repeatable) as a WeComCalendar, and its schedules; the app connection's own calendar's schedules are always read")
	fs.BoolVar(&f.manage, "manage", false, "write fully managed objects (the operator will change WeCom to match them) instead of observe-only ones")
	fs.BoolVar(&f.dryRun, "dry-run", false, "read WeCom and print what would be written, without writing")
	fs.StringVar(&f.outputDir, "output-dir", "./wecom-import", "the directory to write the manifests and kustomization.yaml to")
	fs.Float64Var(&f.qps, "qps", 40, "WeCom calls per second per endpoint (WeCom allows about 166 per corp; the operator uses 40)")
	fs.IntVar(&f.burst, "burst", 20, "WeCom calls allowed at once above --qps")
	fs.IntVar(&f.concurrency, "concurrency", 8, "reads in flight")
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if strings.HasPrefix(arg, "-") && (name == "secret" || name == "app-secret") {
			return nil, usagef("secrets are never flags (they would stay in your shell's history): set $%s or $%s", EnvSecret, EnvAppSecret)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "namespace", "n":
			f.namespaceGiven = true
		case "api-url":
			f.apiURLGiven = true
		}
	})
	cluster := f.connection != "" || f.appConn != ""
	switch {
	case cluster && f.corpID != "":
		return nil, usagef("use --connection/--app-connection (a connected corp) or --corp-id (one not connected yet), not both")
	case !cluster && f.corpID == "":
		return nil, usagef("say which corp to read: --connection NAME (a WeComConnection in the cluster) or --corp-id ID with $%s", EnvSecret)
	case cluster && f.apiURLGiven:
		return nil, usagef("--api-url goes with --corp-id; a connection has its own spec.apiURL")
	case cluster && f.agentID != 0:
		return nil, usagef("--agent-id goes with --corp-id; a connection has its own spec.agentID")
	case f.agentID < 0:
		return nil, usagef("--agent-id must be positive")
	case f.qps <= 0 || f.burst < 1 || f.concurrency < 1:
		return nil, usagef("--qps, --burst and --concurrency must be positive")
	case f.outputDir == "":
		return nil, usagef("--output-dir must not be empty")
	}
	if !cluster {
		f.secret, f.appSecret = getenv(EnvSecret), getenv(EnvAppSecret)
		if f.secret == "" && f.appSecret == "" {
			return nil, usagef("--corp-id needs $%s (the contacts-sync secret, for departments and members) and/or $%s (a self-built app's, for contact ways, schedules and chats)", EnvSecret, EnvAppSecret)
		}
		if f.agentID != 0 && f.appSecret == "" {
			return nil, usagef("--agent-id names the app whose secret is $%s, which is not set", EnvAppSecret)
		}
		if f.connName == "" {
			f.connName = "wecom-contacts"
		}
		if f.appConnName == "" {
			f.appConnName = "wecom-app"
		}
	}
	return f, nil
}

// config turns the command line into an import, reading connections through kube when the
// corp is connected.
func (f *importFlags) config(ctx context.Context, stdio IO) (Config, error) {
	cfg := Config{
		Manage: f.manage, QPS: f.qps, Burst: f.burst, Concurrency: f.concurrency,
		OutputDir: f.outputDir, DryRun: f.dryRun, ChatIDs: f.chats,
		Progress: NewProgress(stdio.Stderr, stdio.TTY),
	}
	for _, id := range f.calendars {
		cfg.Calendars = append(cfg.Calendars, Calendar{ID: id, Pinned: true})
	}
	if f.corpID != "" {
		if f.namespaceGiven {
			cfg.Namespace = f.kube.Namespace
		}
		if f.secret != "" {
			cfg.Org = &Source{Credentials: Credentials{APIURL: f.apiURL, CorpID: f.corpID, Secret: f.secret}, Connection: f.connName}
		}
		if f.appSecret != "" {
			cfg.App = &Source{Credentials: Credentials{APIURL: f.apiURL, CorpID: f.corpID, Secret: f.appSecret}, Connection: f.appConnName, AgentID: f.agentID}
		}
		return cfg, nil
	}
	kube, ns, err := f.kube.Client()
	if err != nil {
		return cfg, err
	}
	// Objects reference connections in their own namespace only.
	cfg.Namespace = ns
	var org, app *Connection
	if f.connection != "" {
		if org, err = ReadConnection(ctx, kube, ns, f.connection); err != nil {
			return cfg, err
		}
		cfg.Org = &Source{Credentials: org.Credentials, Connection: or(f.connName, org.Name)}
	}
	switch {
	case f.appConn != "":
		if app, err = ReadConnection(ctx, kube, ns, f.appConn); err != nil {
			return cfg, err
		}
	case org != nil && org.AgentID != 0:
		app = org
	}
	if app != nil {
		cfg.App = &Source{Credentials: app.Credentials, Connection: or(f.appConnName, app.Name), AgentID: app.AgentID}
		if app.CalendarID != "" {
			cfg.Calendars = append([]Calendar{{ID: app.CalendarID}}, cfg.Calendars...)
		}
	} else if len(f.chats) > 0 || len(f.calendars) > 0 {
		return cfg, usagef("--chat and --calendar need a self-built app: --app-connection NAME")
	}
	if org != nil && org.AgentID != 0 && app == org {
		fmt.Fprintf(stdio.Stderr, "note: %s is a self-built app's connection; members can only be listed with the contacts-sync secret\n", org.Name)
	}
	return cfg, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func runImport(ctx context.Context, args []string, stdio IO) error {
	f, err := parseImport(args, stdio.Getenv, stdio.Stderr)
	if err != nil {
		return err
	}
	cfg, err := f.config(ctx, stdio)
	if err != nil {
		return err
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Print(stdio.Stdout)
	return nil
}

// scopeFlags is the command line of drift and tree.
type scopeFlags struct {
	kube          KubeFlags
	allNamespaces bool
	members       bool
}

func parseScope(name string, args []string, stderr io.Writer, allowAll bool) (*scopeFlags, error) {
	f := &scopeFlags{}
	fs := flag.NewFlagSet("kubectl wecom "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		if allowAll {
			fmt.Fprint(stderr, "List the objects whose WeCom state differs from their spec, field by field (reads only the API server).\n\nUsage:\n  kubectl wecom drift [-n NAMESPACE | -A] [flags]\n\nFlags:\n")
		} else {
			fmt.Fprint(stderr, "Print the department tree the cluster holds, each department and member with its state (reads only the API server).\n\nUsage:\n  kubectl wecom tree [-n NAMESPACE] [--members=false] [flags]\n\nFlags:\n")
		}
		fs.PrintDefaults()
	}
	kubeFlags(fs, &f.kube)
	if allowAll {
		fs.BoolVar(&f.allNamespaces, "all-namespaces", false, "every namespace")
		fs.BoolVar(&f.allNamespaces, "A", false, "shorthand for --all-namespaces")
	} else {
		fs.BoolVar(&f.members, "members", true, "show the members under their departments")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected arguments %q", fs.Args())
	}
	if f.allNamespaces && f.kube.Namespace != "" {
		return nil, usagef("use -n or -A, not both")
	}
	return f, nil
}

func runDrift(ctx context.Context, args []string, stdio IO) error {
	f, err := parseScope("drift", args, stdio.Stderr, true)
	if err != nil {
		return err
	}
	kube, ns, err := f.kube.Client()
	if err != nil {
		return err
	}
	if f.allNamespaces {
		ns = ""
	}
	rows, err := ListDrift(ctx, kube, ns)
	if err != nil {
		return err
	}
	return PrintDrift(stdio.Stdout, rows, f.allNamespaces, ns)
}

func runTree(ctx context.Context, args []string, stdio IO) error {
	f, err := parseScope("tree", args, stdio.Stderr, false)
	if err != nil {
		return err
	}
	kube, ns, err := f.kube.Client()
	if err != nil {
		return err
	}
	return PrintTree(ctx, kube, ns, f.members, stdio.Stdout)
}
