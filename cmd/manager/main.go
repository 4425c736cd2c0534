// Command manager runs the wecom-operator controllers.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	wecomv1alpha1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/receiver"
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(wecomv1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr, probeAddr, watchNamespaces, leaderNS string
		metricsCertPath, metricsCertName, metricsCertKey  string
		leaderElect, secureMetrics                        bool
		opts                                              controller.Options
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8443", "Address the Prometheus metrics endpoint binds to (:8443 for HTTPS, :8080 for HTTP by convention); 0 disables it.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS, only to callers the API server authenticates (TokenReview) and authorizes for GET /metrics (SubjectAccessReview). --metrics-secure=false serves plain HTTP to anyone, for local runs.")
	flag.StringVar(&metricsCertPath, "metrics-cert-path", "", "Directory with the metrics server's certificate and key; empty makes a self-signed one at start. Reloaded when the files change.")
	flag.StringVar(&metricsCertName, "metrics-cert-name", "tls.crt", "File name of the metrics server certificate in --metrics-cert-path.")
	flag.StringVar(&metricsCertKey, "metrics-cert-key", "tls.key", "File name of the metrics server key in --metrics-cert-path.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader so only one replica reconciles at a time.")
	flag.StringVar(&leaderNS, "leader-election-namespace", "", "Namespace of the leader election Lease; defaults to the pod's namespace in a cluster.")
	flag.StringVar(&watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces to watch; empty watches all namespaces.")
	controller.BindFlags(flag.CommandLine, &opts)
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	for _, d := range opts.Deprecated {
		setupLog.Info("deprecated flag: " + d)
	}

	// HTTP/2 stays off: its stream handling had denial-of-service flaws (CVE-2023-44487,
	// CVE-2023-39325) and a scrape gains nothing from it.
	metricsOpts := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	var metricsCertWatcher *certwatcher.CertWatcher
	if metricsCertPath != "" {
		var err error
		metricsCertWatcher, err = certwatcher.New(filepath.Join(metricsCertPath, metricsCertName), filepath.Join(metricsCertPath, metricsCertKey))
		if err != nil {
			setupLog.Error(err, "unable to load the metrics certificate")
			os.Exit(1)
		}
		metricsOpts.TLSOpts = append(metricsOpts.TLSOpts, func(c *tls.Config) { c.GetCertificate = metricsCertWatcher.GetCertificate })
	}

	opts.WatchNamespaces = splitNamespaces(watchNamespaces)
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                        scheme,
		Cache:                         controller.CacheOptions(opts.WatchNamespaces),
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        probeAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              leaderElectionID,
		LeaderElectionNamespace:       leaderNS,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       durationPtr(30 * time.Second),
	})
	if err != nil {
		setupLog.Error(err, "unable to create manager")
		os.Exit(1)
	}

	if metricsCertWatcher != nil {
		if err := mgr.Add(metricsCertWatcher); err != nil {
			setupLog.Error(err, "unable to watch the metrics certificate")
			os.Exit(1)
		}
	}
	connector, err := controller.SetupWithManager(mgr, opts)
	if err != nil {
		setupLog.Error(err, "unable to set up controllers")
		os.Exit(1)
	}
	if err := receiver.Setup(mgr, opts, connector); err != nil {
		setupLog.Error(err, "unable to set up the receiver")
		os.Exit(1)
	}
	if ns, account := leaseNamespace(leaderNS), os.Getenv(serviceAccountEnv); leaderElect && ns != "" && account != "" {
		c, err := client.New(mgr.GetConfig(), client.Options{Scheme: scheme})
		if err == nil {
			err = mgr.Add(leaseOwner{c: c, namespace: ns, name: leaderElectionID, account: account, attempts: 10, interval: 2 * time.Second})
		}
		if err != nil {
			setupLog.Error(err, "unable to set up the leader election Lease's owner")
			os.Exit(1)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("starting manager", "allowedAPIURLs", opts.AllowedAPIURLs)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "manager exited with an error")
		os.Exit(1)
	}
	if ns := leaseNamespace(leaderNS); leaderElect && ns != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := client.New(mgr.GetConfig(), client.Options{Scheme: scheme})
		if err == nil {
			err = deleteReleasedLease(ctx, c, ns, leaderElectionID)
		}
		if err != nil {
			setupLog.Error(err, "unable to delete the released leader election Lease", "namespace", ns, "name", leaderElectionID)
		}
	}
}

func splitNamespaces(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func durationPtr(d time.Duration) *time.Duration { return &d }
