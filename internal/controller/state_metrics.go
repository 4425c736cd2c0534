package controller

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// Object state, read from the manager's cache at scrape time so that a dashboard can show
// objects by kind and state and an alert can name a connection that is not Ready. The
// counters elsewhere say what happened; these say what is.
var (
	objectsDesc = prometheus.NewDesc("wecom_objects",
		"wecom.dev objects by kind, Ready condition status (True, False, Unknown) and its reason.",
		[]string{"kind", "ready", "reason"}, nil)
	connectionReadyDesc = prometheus.NewDesc("wecom_connection_ready",
		"1 when a WeComConnection is Ready, else 0, with the Ready reason and the WeCom errcode its message names (\"\" when none).",
		[]string{"namespace", "name", "reason", "errcode"}, nil)
	callbackConfiguredDesc = prometheus.NewDesc("wecom_callback_configured",
		"1 when a WeComConnection's callbacks (spec.callback) have a valid Token and EncodingAESKey, else 0; absent without spec.callback.",
		[]string{"namespace", "name"}, nil)
	callbackLastReceivedDesc = prometheus.NewDesc("wecom_callback_last_received_timestamp_seconds",
		"Unix time of the last valid WeCom callback for a WeComConnection with spec.callback (status.callback.lastReceivedTime, at most a minute old); 0 before the first.",
		[]string{"namespace", "name"}, nil)
	oldestHeldDesc = prometheus.NewDesc("wecom_notifications_held_oldest_seconds",
		"Age since creation of the oldest Notification held back for WeCom's quotas; 0 when none is held.",
		nil, nil)
)

// stateScrapeTimeout bounds how long a scrape waits for the cache (it blocks until synced).
const stateScrapeTimeout = 5 * time.Second

// errcodeInMessage finds the errcode wecom.APIError writes into a condition message.
var errcodeInMessage = regexp.MustCompile(`errcode (-?\d+)`)

// stateCollector serves the metrics above from the cache of the manager that set it up
// last (a test process may start several managers; only the newest has a live cache), and
// only once that manager is the leader: a standby's cache holds the same objects, and
// dashboards and alerts that sum over pods would count them twice.
type stateCollector struct {
	mu      sync.Mutex
	reader  client.Reader
	elected <-chan struct{}
}

var objectState = &stateCollector{}

func init() {
	if err := metrics.Registry.Register(objectState); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err)
		}
	}
}

// use serves the state from r once elected is closed (ctrl.Manager.Elected).
func (c *stateCollector) use(r client.Reader, elected <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reader, c.elected = r, elected
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- objectsDesc
	ch <- connectionReadyDesc
	ch <- callbackConfiguredDesc
	ch <- callbackLastReceivedDesc
	ch <- oldestHeldDesc
}

// Collect implements prometheus.Collector. A kind whose list fails is left out of the scrape.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	r, elected := c.reader, c.elected
	c.mu.Unlock()
	if r == nil {
		return
	}
	select {
	case <-elected:
	default:
		return // a standby
	}
	ctx, cancel := context.WithTimeout(context.Background(), stateScrapeTimeout)
	defer cancel()
	for _, k := range []struct {
		kind string
		list client.ObjectList
	}{
		{"WeComConnection", &v1.WeComConnectionList{}},
		{"WeComDepartment", &v1.WeComDepartmentList{}},
		{"WeComUser", &v1.WeComUserList{}},
		{"WeComAppChat", &v1.WeComAppChatList{}},
		{"ContactWay", &v1.ContactWayList{}},
		{"Schedule", &v1.ScheduleList{}},
		{"WeComTag", &v1.WeComTagList{}},
		// issue 12: calendars
		{"WeComCalendar", &v1.WeComCalendarList{}},
		// Customer contact configuration (issue 12).
		{"CustomerTagGroup", &v1.CustomerTagGroupList{}},
		{"GroupWelcomeTemplate", &v1.GroupWelcomeTemplateList{}},
		// issue 12: apps and menus
		{"WeComApp", &v1.WeComAppList{}},
		{"Notification", &v1.NotificationList{}},
		{"AlertReceiver", &v1.AlertReceiverList{}},
	} {
		if err := r.List(ctx, k.list, client.UnsafeDisableDeepCopy); err != nil {
			continue
		}
		c.collectKind(ch, k.kind, k.list)
	}
}

type stateKey struct{ ready, reason string }

func (c *stateCollector) collectKind(ch chan<- prometheus.Metric, kind string, list client.ObjectList) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return
	}
	counts := map[stateKey]int{}
	var oldestHeld time.Duration
	now := time.Now()
	for _, it := range items {
		var conds *[]metav1.Condition
		switch o := it.(type) {
		case *v1.WeComConnection:
			conds = &o.Status.Conditions
			ready, reason, errcode := readyOf(*conds)
			v := 0.0
			if ready == "True" {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(connectionReadyDesc, prometheus.GaugeValue, v, o.Namespace, o.Name, reason, errcode)
			if cb := o.Status.Callback; o.Spec.Callback != nil && cb != nil {
				configured, last := 0.0, 0.0
				if cb.Configured {
					configured = 1
				}
				if cb.LastReceivedTime != nil {
					last = float64(cb.LastReceivedTime.Unix())
				}
				ch <- prometheus.MustNewConstMetric(callbackConfiguredDesc, prometheus.GaugeValue, configured, o.Namespace, o.Name)
				ch <- prometheus.MustNewConstMetric(callbackLastReceivedDesc, prometheus.GaugeValue, last, o.Namespace, o.Name)
			}
		case *v1.Notification:
			conds = &o.Status.Conditions
			if _, reason, _ := readyOf(*conds); reason == v1.ReasonHeld && o.Status.Phase == v1.NotificationPending {
				oldestHeld = max(oldestHeld, now.Sub(o.CreationTimestamp.Time))
			}
		case *v1.AlertReceiver:
			conds = &o.Status.Conditions
		case v1.Managed:
			conds = &o.GetResourceStatus().Conditions
		default:
			continue
		}
		ready, reason, _ := readyOf(*conds)
		counts[stateKey{ready, reason}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(n), kind, k.ready, k.reason)
	}
	if kind == "Notification" {
		ch <- prometheus.MustNewConstMetric(oldestHeldDesc, prometheus.GaugeValue, oldestHeld.Seconds())
	}
}

// readyOf returns the Ready condition's status ("Unknown" without one), reason and the
// errcode its message names.
func readyOf(conds []metav1.Condition) (status, reason, errcode string) {
	c := meta.FindStatusCondition(conds, v1.ConditionReady)
	if c == nil {
		return "Unknown", "", ""
	}
	if m := errcodeInMessage.FindStringSubmatch(c.Message); m != nil && c.Status != "True" {
		errcode = m[1]
	}
	return string(c.Status), c.Reason, errcode
}
