package wecom

import (
	"context"
	"fmt"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

func gather(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// counterValue returns the value of the series of name whose labels include want.
func counterValue(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	mf := mfs[name]
	if mf == nil {
		return 0
	}
series:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue series
			}
		}
		return m.GetCounter().GetValue()
	}
	return 0
}

func TestMetricsRegisteredAndCounted(t *testing.T) {
	f := newFake(t)
	failThen(f, "department/get", 1, errcode(ErrCodeSystemBusy), deptReply)
	f.reply("user/get", `{"errcode":60111,"errmsg":"userid not found"}`)
	c := newTestClient(t, f)
	before := gather(t)
	ctx := context.Background()
	if _, err := c.GetDepartment(ctx, 2); err != nil {
		t.Fatal(err)
	}
	_, _ = c.GetUser(ctx, "nobody")
	after := gather(t)

	delta := func(name string, labels map[string]string) float64 {
		return counterValue(after, name, labels) - counterValue(before, name, labels)
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"wecom_requests_total", map[string]string{"endpoint": "department/get", "errcode": "-1"}, 1},
		{"wecom_requests_total", map[string]string{"endpoint": "department/get", "errcode": "0"}, 1},
		{"wecom_requests_total", map[string]string{"endpoint": "user/get", "errcode": "60111"}, 1},
		{"wecom_requests_total", map[string]string{"endpoint": "gettoken", "errcode": "0"}, 1},
		{"wecom_token_fetches_total", map[string]string{"corp_id": testCorp}, 1},
		{"wecom_retries_total", map[string]string{"endpoint": "department/get", "reason": "errcode_-1"}, 1},
	} {
		if got := delta(tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v increased by %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if after["wecom_request_duration_seconds"] == nil {
		t.Error("wecom_request_duration_seconds not registered")
	}

	// No label value anywhere carries a credential or a URL.
	for name, mf := range after {
		if !strings.HasPrefix(name, "wecom_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				if strings.Contains(v, "tok-") || strings.Contains(v, testSecret) || strings.Contains(v, "?") || strings.Contains(v, "://") {
					t.Errorf("%s label %s=%q", name, l.GetName(), v)
				}
			}
		}
	}
}

func TestRegisterMetricsTwice(t *testing.T) {
	registerMetrics(metrics.Registry) // must not panic: already registered in init
}

// A tenant who may create WeComConnections chooses their corpIDs; the corp_id label must not
// grow with them.
func TestTokenFetchCorpLabelIsBounded(t *testing.T) {
	f := newFake(t)
	before := gather(t)
	ctx := context.Background()
	for i := range 50 {
		c := newTestClient(t, f, func(cfg *Config) { cfg.CorpID = fmt.Sprintf("wwtenant%04d", i) })
		if err := c.CheckCredentials(ctx); Code(err) != 40013 {
			t.Fatalf("made-up corp %d: err = %v, want 40013", i, err)
		}
	}
	if err := newTestClient(t, f).CheckCredentials(ctx); err != nil {
		t.Fatal(err)
	}
	after := gather(t)
	series := func(mfs map[string]*dto.MetricFamily) map[string]bool {
		out := map[string]bool{}
		if mf := mfs["wecom_token_fetches_total"]; mf != nil {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					out[l.GetValue()] = true
				}
			}
		}
		return out
	}
	for v := range series(after) {
		if strings.HasPrefix(v, "wwtenant") {
			t.Errorf("corp_id=%q: a corp WeCom never issued a token to has a series of its own", v)
		}
	}
	if d := counterValue(after, "wecom_token_fetches_total", map[string]string{"corp_id": corpLabelUnverified}) -
		counterValue(before, "wecom_token_fetches_total", map[string]string{"corp_id": corpLabelUnverified}); d < 50 {
		t.Errorf("corp_id=unverified increased by %v, want the 50 refused fetches", d)
	}
	if !series(after)[testCorp] {
		t.Errorf("the corp WeCom issued a token to has no series of its own")
	}
}

func TestCorpLabelsCap(t *testing.T) {
	l := &corpLabels{max: 2}
	for _, tc := range []struct {
		corp   string
		issued bool
		want   string
	}{
		{"wwa", false, corpLabelUnverified},
		{"wwa", true, "wwa"},
		{"wwa", false, "wwa"}, // known: a later refusal (a reset secret) still shows under its corp
		{"wwb", true, "wwb"},
		{"wwc", true, corpLabelOther},
		{"wwc", false, corpLabelUnverified},
	} {
		if got := l.label(tc.corp, tc.issued); got != tc.want {
			t.Errorf("label(%q, %v) = %q, want %q", tc.corp, tc.issued, got, tc.want)
		}
	}
}
