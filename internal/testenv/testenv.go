// Package testenv starts what the operator's integration tests run against: a real
// kube-apiserver and etcd (envtest, built by `make envtest`), the WeCom simulator over real
// HTTP, and the operator's controllers in a real controller-runtime manager.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/receiver"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Connection names every namespace made by NewNamespace has.
const (
	ContactsConnection = "contacts" // the contacts-sync secret: org chart
	AppConnection      = "app"      // the self-built app (agentID): messages, chats, ways, schedules
)

// Options tune an Env.
type Options struct {
	// Controller options; zero DriftInterval means 3s, so drift tests finish quickly, and nil
	// AllowedAPIURLs allows the simulator's URL only.
	Controller controller.Options
	// Sim configures the simulator; a nil Seed loads wecomsim.DemoSeed().
	Sim wecomsim.Options
	// NoManager starts only the API server and the simulator.
	NoManager bool
}

// Env is a running API server, simulator and manager.
type Env struct {
	Config *rest.Config
	Client client.Client
	Scheme *kruntime.Scheme
	Sim    *wecomsim.Server
	Creds  wecomsim.Credentials

	env    *envtest.Environment
	opts   controller.Options
	cancel context.CancelFunc
	done   chan struct{}
	// onCall, when set, sees every call the simulator logs (LoseReplies).
	onCall   atomic.Pointer[func(wecomsim.Call)]
	stopOnce sync.Once
	handClients
}

// Root is the repository's top directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Start starts everything. Call Stop when done.
func Start(opts Options) (*Env, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		os.Setenv("KUBEBUILDER_ASSETS", filepath.Join(Root(), "bin", "k8s"))
	}
	scheme := kruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(Root(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest (run `make envtest` first): %w", err)
	}
	k, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = te.Stop()
		return nil, err
	}
	_, creds := wecomsim.DemoSeed()
	e := &Env{Config: cfg, Client: k, Scheme: scheme, Creds: creds, env: te}
	suiteHook := opts.Sim.OnCall
	opts.Sim.OnCall = func(c wecomsim.Call) {
		if suiteHook != nil {
			suiteHook(c)
		}
		if f := e.onCall.Load(); f != nil {
			(*f)(c)
		}
	}
	e.Sim = wecomsim.Start(opts.Sim)
	if opts.NoManager {
		return e, nil
	}
	if err := e.startManager(opts.Controller); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// Defaults fills in the controller options a test did not set.
func Defaults(o controller.Options) controller.Options {
	if o.DriftInterval == 0 {
		o.DriftInterval = 3 * time.Second
	}
	if o.DeepDriftEvery == 0 {
		o.DeepDriftEvery = 1
	}
	if o.Concurrency == 0 {
		o.Concurrency = 4
	}
	if o.ClientQPS == 0 {
		o.ClientQPS, o.ClientBurst = 200, 100
	}
	return o
}

func (e *Env) startManager(o controller.Options) error {
	ctrl.SetLogger(zap.New(zap.WriteTo(logWriter()), zap.UseDevMode(true)))
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 e.Scheme,
		Cache:                  controller.CacheOptions(nil),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// StartManager starts a second manager in this process with the same controllers.
		Controller: config.Controller{SkipNameValidation: &skipNameValidation},
	})
	if err != nil {
		return err
	}
	o = Defaults(o)
	if o.AllowedAPIURLs == nil {
		o.AllowedAPIURLs = []string{e.Sim.URL}
	}
	e.opts = o
	connector, err := controller.SetupWithManager(mgr, o)
	if err != nil {
		return err
	}
	if err := receiver.Setup(mgr, o, connector); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	return nil
}

// StopManager stops the manager (its controllers and receiver) and waits until it has.
func (e *Env) StopManager() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
	}
}

// StartManager starts a new manager with the options of the first, as a restarted pod would.
func (e *Env) StartManager() error {
	return e.startManager(e.opts)
}

// logWriter sends manager logs to a file when WECOM_TEST_LOG names one, else discards them.
func logWriter() *os.File {
	if p := os.Getenv("WECOM_TEST_LOG"); p != "" {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			return f
		}
	}
	f, _ := os.Open(os.DevNull)
	return f
}

// Stop stops the manager, the simulator and the API server; once, however often it is called.
func (e *Env) Stop() {
	e.stopOnce.Do(func() {
		e.StopManager()
		if e.Sim != nil {
			e.Sim.Close()
		}
		if e.env != nil {
			_ = e.env.Stop()
		}
	})
}

var skipNameValidation = true

var nsSeq atomic.Int64

// NewNamespace creates a namespace holding the demo corp's two Secrets and the two
// WeComConnections "contacts" and "app" pointing at the simulator, and returns its name.
func (e *Env) NewNamespace(ctx context.Context, prefix string) (string, error) {
	ns := fmt.Sprintf("%s-%d", prefix, nsSeq.Add(1))
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return "", err
	}
	for _, s := range []struct{ name, secret string }{{ContactsConnection, e.Creds.ContactsSecret}, {AppConnection, e.Creds.AppSecret}} {
		if err := e.Client.Create(ctx, Secret(ns, s.name, map[string]string{"secret": s.secret})); err != nil {
			return "", err
		}
	}
	if err := e.Client.Create(ctx, e.Connection(ns, ContactsConnection, 0)); err != nil {
		return "", err
	}
	if err := e.Client.Create(ctx, e.Connection(ns, AppConnection, e.Creds.AgentID)); err != nil {
		return "", err
	}
	return ns, nil
}

// Secret returns a Secret labelled for the operator's use (wecom.dev/use: "true"), which
// every Secret a connection, robot or AlertReceiver names must be.
func Secret(ns, name string, data map[string]string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{v1.SecretUseLabel: v1.SecretUseValue}},
		StringData: data,
	}
}

// Connection returns a WeComConnection to the simulator using the Secret of the same name.
func (e *Env) Connection(ns, name string, agentID int64) *v1.WeComConnection {
	c := &v1.WeComConnection{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.WeComConnectionSpec{
			CorpID:    e.Creds.CorpID,
			APIURL:    e.Sim.URL,
			SecretRef: v1.SecretKeySelector{Name: name, Key: "secret"},
		},
	}
	if agentID != 0 {
		c.Spec.AgentID = &agentID
	}
	return c
}
