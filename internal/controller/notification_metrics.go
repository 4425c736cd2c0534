package controller

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Notification and AlertReceiver metrics, served on the manager's /metrics. Labels are
// channels, phases and HTTP codes only: never a recipient, a key or a URL.
var (
	notificationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_notifications_total",
		Help: "Notifications that reached a final phase, by channel (app, chat, robot) and phase (Sent, Failed).",
	}, []string{"channel", "phase"})

	notificationLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "wecom_notification_delivery_seconds",
		Help:    "Time from a Notification's creation to WeCom accepting it, by channel. Includes time held by quota pacing and retries.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
	}, []string{"channel"})

	notificationsHeld = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wecom_notifications_held",
		Help: "Notifications currently held back so that WeCom's quotas (30/min per member, 20/min per robot, ...) are not crossed, by channel.",
	}, []string{"channel"})

	notificationHoldsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_notification_holds_total",
		Help: "Notifications that had to wait for a quota slot at least once, by channel.",
	}, []string{"channel"})

	notificationAttemptsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_notification_attempts_total",
		Help: "Calls made to WeCom to deliver Notifications, by channel and result (ok, retry, failed).",
	}, []string{"channel", "result"})

	notificationsFoldedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_notifications_folded_total",
		Help: "Notifications folded into digest messages in a storm (more waited for the same recipients than WeCom's quota let through), by channel.",
	}, []string{"channel"})
)

func init() {
	for _, ch := range []string{"app", "chat", "robot"} {
		notificationsFoldedTotal.WithLabelValues(ch) // served at 0 before the first storm
	}
	for _, c := range []prometheus.Collector{notificationsTotal, notificationLatency, notificationsHeld,
		notificationHoldsTotal, notificationAttemptsTotal, notificationsFoldedTotal} {
		if err := metrics.Registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
}
