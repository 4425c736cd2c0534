// Package controller holds the reconcilers of the wecom.dev kinds.
package controller

import (
	"flag"
	"slices"
	"strings"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/notify"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// Options are the manager's tuning knobs; each is a flag and a Helm value.
type Options struct {
	// DriftInterval is how often a Ready object is compared with WeCom again.
	DriftInterval time.Duration
	// Concurrency is the number of concurrent reconciles per kind.
	Concurrency int
	// DeepDriftEvery is how many drift intervals pass between full reads of a member that
	// list calls cannot check (see the WeComUser docs).
	DeepDriftEvery int
	// ClientQPS and ClientBurst bound the calls per second per corp and WeCom endpoint.
	ClientQPS   float64
	ClientBurst int
	// ReceiverAddr is where the receiver listens: Alertmanager's webhook and WeCom's
	// callbacks (internal/receiver); empty disables both.
	ReceiverAddr string
	// WebhookCertPath is the directory with the receiver's certificate (WebhookCertName) and
	// key (WebhookCertKey); empty serves plain HTTP. The files are watched, so a renewed
	// certificate is served without a restart.
	WebhookCertPath, WebhookCertName, WebhookCertKey string
	// CallbackDriftInterval replaces DriftInterval for objects whose connection's callbacks
	// are in use (WeComConnectionStatus.CallbacksInUse); it is never shorter than it.
	CallbackDriftInterval time.Duration
	// Deprecated lists the deprecated flags that were set, for the manager to log.
	Deprecated []string
	// NotificationRetryBase is the delay after a Notification's first failed send; it doubles
	// with every further failure, up to 5 minutes, until the deliveryDeadline.
	NotificationRetryBase time.Duration
	// AllowedAPIURLs are the WeCom API base URLs that WeComConnections (spec.apiURL) and group
	// robot webhooks may use; the operator sends nothing anywhere else. Nil means only
	// wecom.DefaultBaseURL.
	AllowedAPIURLs []string
	// WatchNamespaces are the namespaces the manager's cache holds (flag --watch-namespaces,
	// which cmd/manager binds); nil is every namespace.
	WatchNamespaces []string
	// NotificationClock is the clock WeCom's message quotas are measured on when pacing
	// Notifications; nil is the wall clock. Not a flag: tests set the simulator's clock.
	NotificationClock notify.Clock
}

// BindFlags registers the options as command-line flags with their defaults.
func BindFlags(fs *flag.FlagSet, o *Options) {
	fs.DurationVar(&o.DriftInterval, "drift-interval", 10*time.Minute, "How often Ready objects are compared with WeCom again to repair hand-made changes.")
	fs.IntVar(&o.DeepDriftEvery, "deep-drift-every", 6, "Drift intervals between full reads (user/get) of each WeComUser; list calls check the rest every interval.")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "Concurrent reconciles per kind.")
	fs.Float64Var(&o.ClientQPS, "wecom-qps", 40, "WeCom calls per second allowed per corp and endpoint (WeCom allows 10,000/min per API).")
	fs.IntVar(&o.ClientBurst, "wecom-burst", 20, "Burst of WeCom calls allowed per corp and endpoint above wecom-qps.")
	fs.StringVar(&o.ReceiverAddr, "receiver-bind-address", ":9094", "Address the receiver binds to: Alertmanager webhooks at /alertmanager/<namespace>/<name> and WeCom callbacks at /wecom/callback/<namespace>/<name>; empty disables both.")
	fs.Func("alertmanager-bind-address", "Deprecated: use --receiver-bind-address, which it sets (the listener now serves WeCom callbacks too).", func(s string) error {
		o.ReceiverAddr = s
		o.Deprecated = append(o.Deprecated, "--alertmanager-bind-address is deprecated: use --receiver-bind-address (the same listener, which also serves WeCom callbacks)")
		return nil
	})
	fs.StringVar(&o.WebhookCertPath, "webhook-cert-path", "", "Directory with the receiver's TLS certificate and key; the receiver (Alertmanager webhooks and WeCom callbacks) serves HTTPS with them, reloaded when they change. Empty serves plain HTTP.")
	fs.StringVar(&o.WebhookCertName, "webhook-cert-name", "tls.crt", "File name of the receiver's certificate in --webhook-cert-path.")
	fs.StringVar(&o.WebhookCertKey, "webhook-cert-key", "tls.key", "File name of the receiver's key in --webhook-cert-path.")
	fs.DurationVar(&o.CallbackDriftInterval, "callback-drift-interval", time.Hour, "Drift interval of objects whose connection receives WeCom callbacks (spec.callback, and at least one callback arrived): WeCom pushes hand edits, so the poll is only a safety net. Never shorter than --drift-interval.")
	fs.DurationVar(&o.NotificationRetryBase, "notification-retry-base", 2*time.Second, "Delay after a Notification's first failed send; doubles per failure up to 5m, until the deliveryDeadline.")
	o.AllowedAPIURLs = []string{wecom.DefaultBaseURL}
	fs.Var((*listFlag)(&o.AllowedAPIURLs), "allowed-api-urls", "Comma-separated WeCom API base URLs (http(s)://host[:port][/prefix]) that WeComConnections and group robot webhooks may use; requests to any other URL are refused, so a tenant cannot send a Secret's value elsewhere. Add an egress proxy or the simulator here.")
}

// listFlag is a comma-separated flag whose value replaces the default.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = nil
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// DeepDriftInterval is the time between full reads of each member.
func (o Options) DeepDriftInterval() time.Duration {
	return o.DriftInterval * time.Duration(max(o.DeepDriftEvery, 1))
}

// Watches says whether the manager's cache holds namespace ns. Anything in any other is
// unknown to the operator, as if it did not exist.
func (o Options) Watches(ns string) bool {
	return len(o.WatchNamespaces) == 0 || slices.Contains(o.WatchNamespaces, ns)
}
