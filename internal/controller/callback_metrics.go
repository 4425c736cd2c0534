package controller

import (
	"errors"
	"reflect"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// callbackRepairSeconds measures how long after a WeCom callback arrived the object it named
// matched WeCom again (the reconcile that read it, and repaired it if need be, ended).
var callbackRepairSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "wecom_callback_repair_seconds",
	Help:    "Time from a WeCom callback naming an object to that object matching its spec again, by kind.",
	Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300},
}, []string{"kind"})

func init() {
	if err := metrics.Registry.Register(callbackRepairSeconds); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err)
		}
	}
}

// kindOf is the Go type name of a wecom.dev object, which is its kind.
func kindOf(obj any) string {
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
