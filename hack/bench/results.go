package main

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/wecom-dev/wecom-operator/internal/scaletest"
)

// Results is everything one run measured; it is written as results.json and results.md.
type Results struct {
	Date        string       `json:"date"`
	Machine     Machine      `json:"machine"`
	Config      Config       `json:"config"`
	Convergence *Convergence `json:"convergence,omitempty"`
	Steady      *Steady      `json:"steadyState,omitempty"`
	Storm       *Storm       `json:"storm,omitempty"`
	Manager     []PhaseUsage `json:"manager"`
	Targets     []Target     `json:"targets"`
}

// Machine is where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel,omitempty"`
	OS        string `json:"os"`
	GoVersion string `json:"goVersion"`
}

// Config is the scale and the manager's flags.
type Config struct {
	Departments          int     `json:"departments"`
	Users                int     `json:"users"`
	Chats                int     `json:"appChats"`
	Ways                 int     `json:"contactWays"`
	Schedules            int     `json:"schedules"`
	Members              int     `json:"existingMembers"`
	Notifications        int     `json:"notifications"`
	SimLatencyMS         int64   `json:"simulatorLatencyMS"`
	DriftIntervalSeconds float64 `json:"steadyDriftIntervalSeconds"`
	DeepDriftEvery       int     `json:"deepDriftEvery"`
	Concurrency          int     `json:"concurrency"`
	WeComQPS             float64 `json:"wecomQPS"`
	WeComBurst           int     `json:"wecomBurst"`
}

// CallSummary counts WeCom calls as the simulator logged them.
type CallSummary struct {
	Total       int            `json:"total"`
	Writes      int            `json:"writes"`
	Reads       int            `json:"reads"`
	GetToken    int            `json:"gettoken"`
	FreqLimited int            `json:"errcode45009"`
	Errors      int            `json:"errors"`
	ByEndpoint  map[string]int `json:"byEndpoint"`
}

// Convergence is phase 1.
type Convergence struct {
	Objects        map[string]int     `json:"objects"`
	CreatedObjects int                `json:"createdObjects"`
	ApplySeconds   float64            `json:"applySeconds"`
	WallSeconds    float64            `json:"wallSecondsToAllReady"`
	ReadySeconds   map[string]float64 `json:"kindReadySeconds"`
	Calls          CallSummary        `json:"calls"`
	CallsPerObject float64            `json:"callsPerObject"`
	ByKind         []KindCalls        `json:"byKind"`
	// Client-side figures from the manager's metrics.
	ClientDelayed    int         `json:"clientRateLimitDelays"`
	ClientRefused    int         `json:"clientRateLimitRefusals"`
	ClientRetries    int         `json:"clientRetries"`
	WeComDifferences []string    `json:"wecomDifferences"`
	ManagerUsage     *PhaseUsage `json:"-"`
}

// KindCalls is the convergence cost of one kind.
type KindCalls struct {
	Kind           string  `json:"kind"`
	Objects        int     `json:"objects"`
	Calls          int     `json:"calls"`
	Writes         int     `json:"writes"`
	CallsPerObject float64 `json:"callsPerObject"`
}

// Steady is phase 2.
type Steady struct {
	DriftIntervalSeconds float64    `json:"driftIntervalSeconds"`
	DeepDriftEvery       int        `json:"deepDriftEvery"`
	Intervals            []Interval `json:"intervals"`
}

// Interval is one drift interval's WeCom calls; index 0 is the interval that starts with
// the manager's restart.
type Interval struct {
	Index int         `json:"index"`
	Label string      `json:"label,omitempty"`
	Calls CallSummary `json:"calls"`
}

// Storm is phase 3.
type Storm struct {
	Notifications        int         `json:"notifications"`
	Members              int         `json:"members"`
	CreateSeconds        float64     `json:"createSeconds"`
	AllSentSeconds       float64     `json:"secondsUntilAllSent"`
	LatencyP50Seconds    float64     `json:"createToSentP50Seconds"`
	LatencyP99Seconds    float64     `json:"createToSentP99Seconds"`
	LatencyMaxSeconds    float64     `json:"createToSentMaxSeconds"`
	MessagesReceived     int         `json:"messagesReceived"`
	DuplicatesSuppressed int         `json:"duplicatesSuppressed"`
	CopiesOverQuota      int         `json:"copiesOverPerMemberQuota"`
	MaxPerMember         int         `json:"maxMessagesPerMember"`
	Calls                CallSummary `json:"calls"`
}

// PhaseUsage is the manager process's peak memory and CPU time in a phase.
type PhaseUsage struct {
	Phase string `json:"phase"`
	scaletest.Usage
}

// Target is one design target and whether the run met it.
type Target struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// listEndpoints return many objects per call, so their count grows with pages, not objects.
var listEndpoints = map[string]bool{
	"department/list": true, "department/simplelist": true, "user/list_id": true,
	"externalcontact/list_contact_way": true, "oa/schedule/get": true,
}

// listReads and objectReads split an interval's reads into list calls and reads of one
// object each (deep checks, and app chats, which WeCom cannot list).
func (c CallSummary) listReads() (n int) {
	for ep, k := range c.ByEndpoint {
		if listEndpoints[ep] {
			n += k
		}
	}
	return n
}

func (c CallSummary) objectReads() int { return c.Reads - c.listReads() }

// secrets is how many (corp, secret) pairs the fleet's connections use.
const secrets = 2

func (r *Results) targets(c config) []Target {
	var out []Target
	add := func(name, target, measured string, met bool) {
		out = append(out, Target{Name: name, Target: target, Measured: measured, Met: met})
	}
	conv := r.Convergence
	add("WeCom calls per created object (convergence)", "≤ 1.05",
		fmt.Sprintf("%.3f (%s calls for %s objects)", conv.CallsPerObject, num(conv.Calls.Total), num(conv.CreatedObjects)),
		conv.CallsPerObject <= 1.05)

	restartTokens := 0
	steadyWrites, lists, maxList := 0, 0, 0
	for _, iv := range r.Steady.Intervals {
		restartTokens += iv.Calls.GetToken
		steadyWrites += iv.Calls.Writes
		if iv.Index > 0 {
			lists += iv.Calls.listReads()
			maxList = max(maxList, iv.Calls.listReads())
		}
	}
	restartTokens += r.Storm.Calls.GetToken
	add("gettoken per (corp, secret) per token lifetime", fmt.Sprintf("1 per manager run (%d secrets)", secrets),
		fmt.Sprintf("%d in convergence, %d after the restart", conv.Calls.GetToken, restartTokens),
		conv.Calls.GetToken == secrets && restartTokens == secrets)
	add("WeCom writes in steady state", "0",
		fmt.Sprintf("%d over the restart and %d intervals", steadyWrites, len(r.Steady.Intervals)-1), steadyWrites == 0)

	// Lists: department/list, user/list_id, list_contact_way and oa/schedule/get are one page
	// each at this scale, and each connection lists at most once per 90% of the interval.
	pages := 1 + pages(c.fleet.Users+c.fleet.Users/10, 10000) + pages(c.fleet.Ways, 1000) + pages(c.fleet.Schedules, 1000)
	add("Drift list reads per interval", fmt.Sprintf("grow with list pages (%d pages), not objects", pages),
		fmt.Sprintf("%s list calls in %d intervals (at most %d in one)", num(lists), len(r.Steady.Intervals)-1, maxList),
		maxList <= 2*pages)

	// Reads of one object each: the deep checks of members and ways (their lists do not carry
	// their fields), each object once per deep interval, and every app chat every interval
	// (WeCom has no call that lists chats).
	objectReads, steadyIntervals := 0, 0
	var perInterval []string
	for _, iv := range r.Steady.Intervals {
		if iv.Index > 0 {
			objectReads += iv.Calls.objectReads()
			steadyIntervals++
			perInterval = append(perInterval, num(iv.Calls.objectReads()))
		}
	}
	expected := float64(c.fleet.Users+c.fleet.Ways)/float64(max(c.deepEvery, 1)) + float64(c.fleet.Chats)
	avg := float64(objectReads) / float64(max(steadyIntervals, 1))
	add("Drift reads of single objects per interval",
		fmt.Sprintf("≈ (members + ways) ÷ deep-drift-every + app chats = %.0f", expected),
		fmt.Sprintf("%.0f on average (%s)", avg, strings.Join(perInterval, ", ")), avg <= 1.2*expected)

	limited := conv.Calls.FreqLimited + r.Storm.Calls.FreqLimited
	for _, iv := range r.Steady.Intervals {
		limited += iv.Calls.FreqLimited
	}
	add("45009 replies from WeCom", "0", num(limited), limited == 0)

	s := r.Storm
	add("Storm: messages WeCom received", num(s.Notifications), num(s.MessagesReceived), s.MessagesReceived == s.Notifications)
	add("Storm: member copies over WeCom's per-member quota", "0", num(s.CopiesOverQuota), s.CopiesOverQuota == 0)
	return out
}

func pages(n, size int) int { return max(1, (n+size-1)/size) }

// missed names the targets the run did not meet.
func (r *Results) missed() []string {
	var out []string
	for _, t := range r.Targets {
		if !t.Met {
			out = append(out, t.Name+": "+t.Measured)
		}
	}
	return out
}

func (r *Results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	c := r.Config
	p("# wecom-operator scale benchmark")
	p("")
	p("Measured by `make bench` (hack/bench) on %s: %d CPUs (%s), %s, %s. The real manager binary, a local",
		r.Date[:10], r.Machine.CPUs, r.Machine.CPUModel, r.Machine.OS, r.Machine.GoVersion)
	p("kube-apiserver (envtest) and the WeCom simulator binary adding %d ms to every call. Manager flags:", c.SimLatencyMS)
	p("`--concurrency=%d --wecom-qps=%g --wecom-burst=%d --deep-drift-every=%d`; `--drift-interval=10m` while converging,",
		c.Concurrency, c.WeComQPS, c.WeComBurst, c.DeepDriftEvery)
	p("`%s` for the steady state and the storm. See docs/performance.md for what the figures mean.", fmt.Sprintf("--drift-interval=%gs", c.DriftIntervalSeconds))
	p("")

	p("## Design targets")
	p("")
	p("| Target | Goal | Measured | Met |")
	p("|---|---|---|---|")
	for _, t := range r.Targets {
		met := "yes"
		if !t.Met {
			met = "**no**"
		}
		p("| %s | %s | %s | %s |", t.Name, t.Target, t.Measured, met)
	}
	p("")

	if v := r.Convergence; v != nil {
		p("## Convergence: %s objects applied at once", num(v.CreatedObjects))
		p("")
		l1, l2, l3 := scaletest.Levels(c.Departments)
		p("| | |")
		p("|---|---|")
		p("| Objects | %s departments (3 levels: %d/%d/%d), %s users, %s app chats, %s contact ways, %s schedules; 2 connections |",
			num(c.Departments), l1, l2, l3, num(c.Users), num(c.Chats), num(c.Ways), num(c.Schedules))
		p("| Created in the API server in | %.1f s |", v.ApplySeconds)
		p("| **Wall time to all Ready** | **%.1f s** |", v.WallSeconds)
		var kinds []string
		for _, k := range scaletest.Kinds[:5] {
			if t, ok := v.ReadySeconds[k]; ok {
				kinds = append(kinds, fmt.Sprintf("%s %.1f s", k, t))
			}
		}
		p("| All of a kind Ready after | %s |", strings.Join(kinds, ", "))
		p("| WeCom calls | %s: %s writes, %s reads, %s gettoken |", num(v.Calls.Total), num(v.Calls.Writes), num(v.Calls.Reads), num(v.Calls.GetToken))
		p("| **Calls per created object** | **%.3f** |", v.CallsPerObject)
		p("| Errors from WeCom / 45009 replies | %s / %s |", num(v.Calls.Errors), num(v.Calls.FreqLimited))
		p("| Calls the client's rate limiter delayed / refused; client retries | %s / %s; %s |", num(v.ClientDelayed), num(v.ClientRefused), num(v.ClientRetries))
		p("| WeCom equals the spec | %s |", yesNo(len(v.WeComDifferences) == 0))
		p("")
		p("| Kind | Objects | WeCom calls | Writes | Calls per object |")
		p("|---|---:|---:|---:|---:|")
		for _, k := range v.ByKind {
			p("| %s | %s | %s | %s | %.3f |", k.Kind, num(k.Objects), num(k.Calls), num(k.Writes), k.CallsPerObject)
		}
		p("")
		p("| Endpoint | Calls |")
		p("|---|---:|")
		for _, ep := range sortedKeys(v.Calls.ByEndpoint) {
			p("| `%s` | %s |", ep, num(v.Calls.ByEndpoint[ep]))
		}
		p("")
	}

	if s := r.Steady; s != nil {
		p("## Steady state: drift interval %g s, deep checks every %d intervals", s.DriftIntervalSeconds, s.DeepDriftEvery)
		p("")
		p("Interval 0 starts when the restarted manager starts: every object is reconciled once from the fresh cache.")
		p("")
		p("| Interval | Writes | Reads | List reads | One-object reads | gettoken | Reads by endpoint |")
		p("|---|---:|---:|---:|---:|---:|---|")
		for _, iv := range s.Intervals {
			name := fmt.Sprint(iv.Index)
			if iv.Label != "" {
				name += " (" + iv.Label + ")"
			}
			var eps []string
			for _, ep := range sortedKeys(iv.Calls.ByEndpoint) {
				if ep != "gettoken" && !scaletest.IsWrite(ep) {
					eps = append(eps, fmt.Sprintf("`%s` %s", ep, num(iv.Calls.ByEndpoint[ep])))
				}
			}
			p("| %s | %s | %s | %s | %s | %s | %s |", name, num(iv.Calls.Writes), num(iv.Calls.Reads),
				num(iv.Calls.listReads()), num(iv.Calls.objectReads()), num(iv.Calls.GetToken), strings.Join(eps, ", "))
		}
		p("")
	}

	if s := r.Storm; s != nil {
		p("## Notification storm: %s Notifications to %d members", num(s.Notifications), s.Members)
		p("")
		p("| | |")
		p("|---|---|")
		p("| Created in the API server in | %.1f s |", s.CreateSeconds)
		p("| **Time until all Sent** | **%.1f s** |", s.AllSentSeconds)
		p("| Create-to-sent p50 / p99 / max | %.2f s / %.2f s / %.2f s |", s.LatencyP50Seconds, s.LatencyP99Seconds, s.LatencyMaxSeconds)
		p("| Messages WeCom received | %s |", num(s.MessagesReceived))
		p("| Sends WeCom suppressed as duplicates | %s |", num(s.DuplicatesSuppressed))
		p("| Member copies over the per-member quota (dropped by WeCom) | %s |", num(s.CopiesOverQuota))
		p("| Most messages one member received | %d |", s.MaxPerMember)
		p("| WeCom calls during the storm | %s (`message/send` %s) |", num(s.Calls.Total), num(s.Calls.ByEndpoint["message/send"]))
		p("")
	}

	if len(r.Manager) > 0 {
		p("## Manager process")
		p("")
		p("| Phase | Peak RSS (VmHWM) | CPU seconds (user + system) |")
		p("|---|---:|---:|")
		for _, u := range r.Manager {
			p("| %s | %.0f MiB | %.1f |", u.Phase, float64(u.PeakRSSBytes)/(1<<20), u.CPUSeconds)
		}
		p("")
	}
	return b.String()
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// num writes n with thousands separators.
func num(n int) string {
	s := fmt.Sprint(int(math.Abs(float64(n))))
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if n < 0 {
		return "-" + s
	}
	return s
}
