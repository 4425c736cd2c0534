package main

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Series are per-second time series of the phases, what the Grafana dashboard's main panels
// (charts/wecom-operator/files/dashboard.json) would show of them; hack/dashboard draws them.
type Series struct {
	Convergence *PhaseSeries `json:"convergence,omitempty"`
	Steady      *PhaseSeries `json:"steadyState,omitempty"`
	Storm       *PhaseSeries `json:"storm,omitempty"`
	Callbacks   *PhaseSeries `json:"callbacks,omitempty"`
}

// PhaseSeries is one phase second by second from its start (second 0). Gauges (…At) hold
// Seconds+1 values, one at each whole second 0…Seconds; rates (…PerSecond) hold Seconds
// values, value i being what happened in [i, i+1).
type PhaseSeries struct {
	Start   string `json:"start"`
	From    string `json:"secondZero"`
	Seconds int    `json:"seconds"`

	// From the manager's /metrics, scraped every second (the dashboard's queries):
	// ReadyAt is sum by (kind) (wecom_objects{ready="True"}), NotReadyAt the same for
	// ready!="True" (Notifications not yet Sent among them); kinds whose counts did not
	// change in the phase are left out.
	ReadyAt    map[string][]int `json:"readyByKindAt,omitempty"`
	NotReadyAt map[string][]int `json:"notReadyByKindAt,omitempty"`
	// HeldAt is sum(wecom_notifications_held); SentPerSecond the increase of
	// wecom_notifications_total{phase="Sent"}; LimiterWaitsPerSecond that of
	// wecom_client_rate_limited_total{outcome="delayed"}.
	HeldAt                []int `json:"notificationsHeldAt,omitempty"`
	SentPerSecond         []int `json:"notificationsSentPerSecond,omitempty"`
	LimiterWaitsPerSecond []int `json:"clientRateLimitDelaysPerSecond,omitempty"`
	// Scrapes is how many of the Seconds+1 scrapes answered (a missing one repeats the last).
	Scrapes int `json:"scrapes,omitempty"`

	// From the simulator's call log, by the second each call arrived: writes, and reads with
	// gettoken.
	ReadsPerSecond  []int `json:"wecomReadsPerSecond"`
	WritesPerSecond []int `json:"wecomWritesPerSecond"`

	// The storm: create-to-sent of the Notifications the harness saw turn Sent in each
	// second, median and max (null in a second with none).
	SentLatencyP50 Floats `json:"createToSentP50BySentSecond,omitempty"`
	SentLatencyMax Floats `json:"createToSentMaxBySentSecond,omitempty"`

	// The callbacks phase: when both connections showed the URL verification, when the
	// counting windows began, and when each hand edit was made, in seconds.
	CallbacksInUse float64   `json:"callbacksInUseSecond,omitempty"`
	CountingFrom   float64   `json:"countingFromSecond,omitempty"`
	HandEdits      []float64 `json:"handEditSeconds,omitempty"`
}

// Floats are seconds rounded to 10 ms; NaN is written as null.
type Floats []float64

// MarshalJSON implements json.Marshaler.
func (f Floats) MarshalJSON() ([]byte, error) { //nolint:unparam // json.Marshaler's signature
	b := []byte{'['}
	for i, v := range f {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, math.Round(v*100)/100, 'f', -1, 64)
	}
	return append(b, ']'), nil
}

func newPhaseSeries(start time.Time, from string, seconds int) *PhaseSeries {
	return &PhaseSeries{Start: start.UTC().Format(time.RFC3339Nano), From: from, Seconds: seconds}
}

// secondsUntil is how many whole seconds, rounded up, the phase lasted.
func secondsUntil(start, end time.Time) int {
	return max(1, int(math.Ceil(end.Sub(start).Seconds())))
}

// addCalls buckets the calls into the phase's seconds; calls outside [0, Seconds) are left out.
func (p *PhaseSeries) addCalls(start time.Time, calls []wecomsim.Call) {
	p.ReadsPerSecond, p.WritesPerSecond = make([]int, p.Seconds), make([]int, p.Seconds)
	for _, c := range calls {
		d := c.Time.Sub(start)
		if d < 0 {
			continue
		}
		i := int(d / time.Second)
		if i >= p.Seconds {
			continue
		}
		if scaletest.IsWrite(scaletest.Endpoint(c)) {
			p.WritesPerSecond[i]++
		} else {
			p.ReadsPerSecond[i]++
		}
	}
}

// addLatency sets the storm's create-to-sent by the second the Notification turned Sent.
func (p *PhaseSeries) addLatency(start time.Time, created, sent []time.Time) {
	by := make([][]float64, p.Seconds)
	for i := range created {
		if sent[i].IsZero() {
			continue
		}
		k := int(sent[i].Sub(start) / time.Second)
		if k < 0 || k >= p.Seconds {
			continue
		}
		by[k] = append(by[k], sent[i].Sub(created[i]).Seconds())
	}
	p.SentLatencyP50, p.SentLatencyMax = make(Floats, p.Seconds), make(Floats, p.Seconds)
	for k, v := range by {
		p.SentLatencyP50[k], p.SentLatencyMax[k] = quantile(v, 0.5), quantile(v, 1)
	}
}

// scrape is what one /metrics scrape says, reduced to what the series keep.
type scrape struct {
	ok                        bool
	ready, notReady           map[string]int
	held, sent, limiterWaited float64
}

// scraper scrapes the manager's /metrics every second from start, as Prometheus would.
type scraper struct {
	start time.Time
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	samples []scrape
}

func startScraper(ctx context.Context, mgr *scaletest.Manager, start time.Time) *scraper {
	s := &scraper{start: start, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for i := 0; ; i++ {
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(time.Duration(i) * time.Second))):
			}
			sctx, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
			text, err := mgr.Metrics(sctx)
			cancel()
			sample := scrape{}
			if err == nil {
				sample = parseScrape(text)
			}
			s.mu.Lock()
			s.samples = append(s.samples, sample)
			s.mu.Unlock()
		}
	}()
	return s
}

// finish waits until the scrape at second n is taken (10 s at most), stops scraping and
// writes the scrapes 0…n into p.
func (s *scraper) finish(p *PhaseSeries) {
	n := p.Seconds
	deadline := time.Now().Add(time.Until(s.start.Add(time.Duration(n)*time.Second)) + 10*time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		got := len(s.samples)
		s.mu.Unlock()
		if got > n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(s.stop)
	<-s.done
	samples := s.samples[:min(len(s.samples), n+1)]

	// A missing scrape repeats the one before it, as a Grafana line would bridge it.
	filled := make([]scrape, n+1)
	var last scrape
	for i := range filled {
		if i < len(samples) && samples[i].ok {
			last = samples[i]
			p.Scrapes++
		}
		filled[i] = last
	}
	p.ReadyAt, p.NotReadyAt = map[string][]int{}, map[string][]int{}
	kinds := map[string]bool{}
	for _, f := range filled {
		for k := range f.ready {
			kinds[k] = true
		}
		for k := range f.notReady {
			kinds[k] = true
		}
	}
	p.HeldAt = make([]int, n+1)
	for k := range kinds {
		p.ReadyAt[k], p.NotReadyAt[k] = make([]int, n+1), make([]int, n+1)
	}
	for i, f := range filled {
		for k := range kinds {
			p.ReadyAt[k][i], p.NotReadyAt[k][i] = f.ready[k], f.notReady[k]
		}
		p.HeldAt[i] = int(f.held)
	}
	increase := func(v func(scrape) float64) []int {
		out := make([]int, n)
		for i := range out {
			// A counter that went down was reset by a restart: count from zero again.
			d := v(filled[i+1]) - v(filled[i])
			if d < 0 {
				d = v(filled[i+1])
			}
			out[i] = int(math.Round(d))
		}
		return out
	}
	p.SentPerSecond = increase(func(s scrape) float64 { return s.sent })
	p.LimiterWaitsPerSecond = increase(func(s scrape) float64 { return s.limiterWaited })
	// Kinds whose counts did not move in the phase (the fleet during the storm) add nothing
	// to look at.
	for k := range kinds {
		if constant(p.ReadyAt[k]) && constant(p.NotReadyAt[k]) {
			delete(p.ReadyAt, k)
			delete(p.NotReadyAt, k)
		}
	}
}

func constant(v []int) bool {
	return !slices.ContainsFunc(v, func(x int) bool { return x != v[0] })
}

// parseScrape reads the samples the series keep from Prometheus' text format.
func parseScrape(text string) scrape {
	s := scrape{ok: true, ready: map[string]int{}, notReady: map[string]int{}}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, ok := parseSample(line)
		if !ok {
			continue
		}
		switch name {
		case "wecom_objects":
			if labels["ready"] == "True" {
				s.ready[labels["kind"]] += int(value)
			} else {
				s.notReady[labels["kind"]] += int(value)
			}
		case "wecom_notifications_held":
			s.held += value
		case "wecom_notifications_total":
			if labels["phase"] == "Sent" {
				s.sent += value
			}
		case "wecom_client_rate_limited_total":
			if labels["outcome"] == "delayed" {
				s.limiterWaited += value
			}
		}
	}
	return s
}

// parseSample splits `name{a="x",b="y"} value [timestamp]`.
func parseSample(line string) (name string, labels map[string]string, value float64, ok bool) {
	labels = map[string]string{}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return "", nil, 0, false
	}
	name, rest := line[:i], line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " ,")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return "", nil, 0, false
			}
			key := rest[:eq]
			rest = rest[eq+2:]
			var val strings.Builder
			closed := false
			for i := 0; i < len(rest); i++ {
				switch c := rest[i]; {
				case c == '\\' && i+1 < len(rest):
					i++
					switch rest[i] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(rest[i])
					}
				case c == '"':
					rest, closed = rest[i+1:], true
				default:
					val.WriteByte(c)
				}
				if closed {
					break
				}
			}
			if !closed {
				return "", nil, 0, false
			}
			labels[key] = val.String()
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", nil, 0, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", nil, 0, false
	}
	return name, labels, v, true
}

// numberArray is a JSON array of numbers (and nulls) that MarshalIndent spread over lines.
var numberArray = regexp.MustCompile(`\[(?:\s*(?:-?[0-9][0-9.eE+-]*|null)\s*,)*\s*(?:-?[0-9][0-9.eE+-]*|null)\s*\]`)

// compactArrays writes every array of numbers on one line, so that the series stay readable.
func compactArrays(data []byte) []byte {
	return numberArray.ReplaceAllFunc(data, func(m []byte) []byte {
		return []byte(strings.Join(strings.Fields(string(m)), ""))
	})
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// peakAt is the largest value of v and the second it was first reached ("0" when v is all 0).
func peakAt(v []int) string {
	best, at := 0, 0
	for i, x := range v {
		if x > best {
			best, at = x, i
		}
	}
	if best == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (at %d s)", best, at)
}
