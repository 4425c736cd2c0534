// Package alerting turns Prometheus Alertmanager webhook notifications (payload version 4)
// into Notifications: decoding and checking the payload, rendering it with Go text/template,
// and naming the Notifications so that a retried POST names the same ones. Nothing here
// talks to Kubernetes or WeCom.
package alerting

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// Alert statuses.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Message is Alertmanager's webhook payload, version 4 (Alertmanager's
// notify/webhook.Message).
type Message struct {
	Version           string `json:"version"`
	GroupKey          string `json:"groupKey"`
	TruncatedAlerts   int    `json:"truncatedAlerts"`
	Status            string `json:"status"`
	Receiver          string `json:"receiver"`
	GroupLabels       KV     `json:"groupLabels"`
	CommonLabels      KV     `json:"commonLabels"`
	CommonAnnotations KV     `json:"commonAnnotations"`
	ExternalURL       string `json:"externalURL"`
	Alerts            Alerts `json:"alerts"`
}

// Alert is one alert of a Message.
type Alert struct {
	Status       string    `json:"status"`
	Labels       KV        `json:"labels"`
	Annotations  KV        `json:"annotations"`
	StartsAt     time.Time `json:"startsAt"`
	EndsAt       time.Time `json:"endsAt"`
	GeneratorURL string    `json:"generatorURL"`
	Fingerprint  string    `json:"fingerprint"`

	// raw are the labels of a template's view before escaping, for silence links.
	raw KV
}

// MaxBodyBytes bounds a webhook request body.
const MaxBodyBytes = 4 << 20

// ErrMalformed wraps every reason a body is refused.
var ErrMalformed = errors.New("malformed Alertmanager webhook payload")

// ErrTooLarge is returned for a body over MaxBodyBytes.
var ErrTooLarge = errors.New("webhook payload larger than 4 MiB")

// Decode reads and checks a webhook body: JSON, version "4", a group key, a status of
// firing or resolved, and at least one alert, each firing or resolved. A body over
// MaxBodyBytes is ErrTooLarge; the reader's own error (http.MaxBytesError) stays wrapped, so
// the caller can answer 413 rather than 400.
func Decode(r io.Reader) (*Message, error) {
	lr := &io.LimitedReader{R: r, N: MaxBodyBytes + 1}
	dec := json.NewDecoder(lr)
	var m Message
	if err := dec.Decode(&m); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrMalformed)
	}
	switch {
	case m.Version != "4":
		return nil, fmt.Errorf("%w: version %q, want \"4\"", ErrMalformed, m.Version)
	case m.GroupKey == "":
		return nil, fmt.Errorf("%w: no groupKey", ErrMalformed)
	case m.Status != StatusFiring && m.Status != StatusResolved:
		return nil, fmt.Errorf("%w: status %q, want firing or resolved", ErrMalformed, m.Status)
	case len(m.Alerts) == 0:
		return nil, fmt.Errorf("%w: no alerts", ErrMalformed)
	}
	for i, a := range m.Alerts {
		if a.Status != StatusFiring && a.Status != StatusResolved {
			return nil, fmt.Errorf("%w: alerts[%d].status %q, want firing or resolved", ErrMalformed, i, a.Status)
		}
	}
	return &m, nil
}

// KV is a label or annotation set.
type KV map[string]string

// Pair is one label.
type Pair struct{ Name, Value string }

// Pairs is a sorted label list.
type Pairs []Pair

// SortedPairs returns the pairs sorted by name, alertname first (as Alertmanager does).
func (kv KV) SortedPairs() Pairs {
	out := make(Pairs, 0, len(kv))
	for k, v := range kv {
		out = append(out, Pair{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name == "alertname") != (out[j].Name == "alertname") {
			return out[i].Name == "alertname"
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Names returns the sorted names.
func (kv KV) Names() []string {
	var out []string
	for _, p := range kv.SortedPairs() {
		out = append(out, p.Name)
	}
	return out
}

// Values returns the values in the order of Names.
func (kv KV) Values() []string {
	var out []string
	for _, p := range kv.SortedPairs() {
		out = append(out, p.Value)
	}
	return out
}

// Remove returns a copy without the given names.
func (kv KV) Remove(names []string) KV {
	out := KV{}
	for k, v := range kv {
		if !slices.Contains(names, k) {
			out[k] = v
		}
	}
	return out
}

// String renders "name=value, name=value" in SortedPairs order.
func (ps Pairs) String() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + "=" + p.Value
	}
	return strings.Join(parts, ", ")
}

// Alerts is a list of alerts.
type Alerts []Alert

// Firing returns the firing alerts. Templates see the alerts firing first (NewData sorts
// them), and then get a part of the list rather than a copy: a template calling Firing on
// 16,000 alerts in a loop allocates nothing.
func (as Alerts) Firing() Alerts {
	if i, ok := as.firingFirst(); ok {
		return as[:i:i]
	}
	return slices.DeleteFunc(slices.Clone(as), func(a Alert) bool { return a.Status != StatusFiring })
}

// Resolved returns the resolved alerts, without a copy when they come last.
func (as Alerts) Resolved() Alerts {
	if i, ok := as.firingFirst(); ok {
		return as[i:len(as):len(as)]
	}
	return slices.DeleteFunc(slices.Clone(as), func(a Alert) bool { return a.Status != StatusResolved })
}

// firingFirst reports whether no alert fires after a resolved one, and where the resolved
// ones start.
func (as Alerts) firingFirst() (int, bool) {
	i := 0
	for i < len(as) && as[i].Status == StatusFiring {
		i++
	}
	for _, a := range as[i:] {
		if a.Status == StatusFiring {
			return 0, false
		}
	}
	return i, true
}
