package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Results is everything one run measured; it is written as results.json and results.md.
type Results struct {
	Date        string          `json:"date"`
	Machine     Machine         `json:"machine"`
	Config      Config          `json:"config"`
	Convergence *Convergence    `json:"convergence,omitempty"`
	Steady      *Steady         `json:"steadyState,omitempty"`
	Storm       *Storm          `json:"storm,omitempty"`
	Callbacks   *CallbacksPhase `json:"callbacks,omitempty"`
	Manager     []PhaseUsage    `json:"manager"`
	Targets     []Target        `json:"targets"`
	Series      *Series         `json:"series,omitempty"`
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
	Tags                 int     `json:"tags"`
	Calendars            int     `json:"calendars"`
	CustomerTagGroups    int     `json:"customerTagGroups"`
	WelcomeTemplates     int     `json:"groupWelcomeTemplates"`
	Apps                 int     `json:"apps"`
	Members              int     `json:"existingMembers"`
	Notifications        int     `json:"notifications"`
	SimLatencyMS         int64   `json:"simulatorLatencyMS"`
	DriftIntervalSeconds float64 `json:"steadyDriftIntervalSeconds"`
	DeepDriftEvery       int     `json:"deepDriftEvery"`
	Concurrency          int     `json:"concurrency"`
	WeComQPS             float64 `json:"wecomQPS"`
	WeComBurst           int     `json:"wecomBurst"`
	// The callbacks phase: the manager's --callback-drift-interval and the hand edits made.
	CallbackDriftIntervalSeconds float64 `json:"callbackDriftIntervalSeconds"`
	HandEdits                    int     `json:"handEdits"`
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
	// EditCalls are the calls among Calls that repaired hand edits (callbacks phase).
	EditCalls *CallSummary `json:"handEditCalls,omitempty"`
}

// driftCalls are the interval's calls less those that repaired hand edits.
func (iv Interval) driftCalls() (lists, objects, writes int) {
	lists, objects, writes = iv.Calls.listReads(), iv.Calls.objectReads(), iv.Calls.Writes
	if e := iv.EditCalls; e != nil {
		lists, objects, writes = lists-e.listReads(), objects-e.objectReads(), writes-e.Writes
	}
	return lists, objects, writes
}

// CallbacksPhase is phase 4: the manager restarted with callbacks in use on both connections.
type CallbacksPhase struct {
	DriftIntervalSeconds         float64 `json:"driftIntervalSeconds"`
	CallbackDriftIntervalSeconds float64 `json:"callbackDriftIntervalSeconds"`
	// SecondsToInUse: from the restart until both connections showed
	// status.callback.lastReceivedTime (the simulator's URL verification).
	SecondsToInUse float64 `json:"secondsFromRestartToCallbacksInUse"`
	// SecondsToCounting: from the restart until the first window.
	SecondsToCounting float64 `json:"secondsFromRestartToFirstWindow"`
	// SwitchOver are the calls from the restart until the first window.
	SwitchOver CallSummary `json:"switchOverCalls"`
	// Intervals are windows of DriftIntervalSeconds, one callback drift interval in all.
	Intervals []Interval `json:"intervals"`
	Edits     []HandEdit `json:"handEdits"`
	// Repaired: edits whose member has the spec's name in WeCom again, with the repair's
	// user/update found.
	Repaired         int     `json:"repaired"`
	RepairP50Seconds float64 `json:"editToRepairP50Seconds"`
	RepairMaxSeconds float64 `json:"editToRepairMaxSeconds"`
	// EditCalls are the calls about an edited member from its edit to a second after its repair.
	EditCalls        CallSummary `json:"handEditCalls"`
	CallsPerEdit     float64     `json:"callsPerHandEdit"`
	Deliveries       int         `json:"callbackDeliveries"`
	DeliveriesAcked  int         `json:"callbackDeliveriesAcked"`
	WeComDifferences []string    `json:"wecomDifferences"`
	// SecretsInManagerLog: the callback Token or EncodingAESKey appeared in the manager's log.
	SecretsInManagerLog bool `json:"callbackSecretsInManagerLog"`
}

// HandEdit is one member renamed by hand in the simulator's admin console.
type HandEdit struct {
	UserID   string `json:"userid"`
	SpecName string `json:"specName"`
	HandName string `json:"handName"`
	// Repaired: WeCom shows SpecName again after the phase.
	Repaired      bool    `json:"repaired"`
	RepairSeconds float64 `json:"editToRepairSeconds"`
	// Calls are the endpoints called about the member from the edit to a second after its repair.
	Calls []string `json:"calls"`
	// Deliveries of the change_contact event the edit queued, those acknowledged, and the
	// attempts these took.
	Deliveries int `json:"callbackDeliveries"`
	Acked      int `json:"callbackDeliveriesAcked"`
	Attempts   int `json:"callbackAttempts"`

	at         time.Time
	repairAt   time.Time
	calls      []wecomsim.Call
	deliveries []int64
}

// DriftRates are the average calls per window (drift interval) of a phase.
type DriftRates struct {
	Windows     int     `json:"windows"`
	ListReads   float64 `json:"listReads"`
	ObjectReads float64 `json:"singleObjectReads"`
	Writes      float64 `json:"writes"`
	// Polled are the reads (in ObjectReads) of the kinds whose drift checks no callback
	// replaces (pollEndpoints): they keep --drift-interval whether callbacks are on or off.
	Polled float64 `json:"readsOfKindsWithoutCallbacks"`
}

// Reads are list and single-object reads together.
func (d DriftRates) Reads() float64 { return d.ListReads + d.ObjectReads }

// Covered are the reads of the kinds whose drift checks callbacks slow down.
func (d DriftRates) Covered() float64 { return d.Reads() - d.Polled }

// pollEndpoints are the drift reads of customer tag groups, group welcome templates and the
// app: the manager takes no callback for them (WeCom sends change_external_tag only for edits
// in its clients, none for templates, agent settings or menus), so they stay on the drift
// interval.
var pollEndpoints = []string{"externalcontact/get_corp_tag_list", "externalcontact/group_welcome_template/get", "agent/get", "menu/get"}

// rates averages the drift calls of intervals (hand-edit repairs left out), skipping the
// restart's own interval (index 0).
func rates(ivs []Interval) DriftRates {
	var d DriftRates
	for _, iv := range ivs {
		if iv.Index == 0 {
			continue
		}
		l, o, w := iv.driftCalls()
		d.Windows++
		d.ListReads += float64(l)
		d.ObjectReads += float64(o)
		d.Writes += float64(w)
		for _, ep := range pollEndpoints {
			d.Polled += float64(iv.Calls.ByEndpoint[ep])
			if e := iv.EditCalls; e != nil {
				d.Polled -= float64(e.ByEndpoint[ep])
			}
		}
	}
	if d.Windows > 0 {
		n := float64(d.Windows)
		d.ListReads, d.ObjectReads, d.Writes, d.Polled = d.ListReads/n, d.ObjectReads/n, d.Writes/n, d.Polled/n
	}
	return d
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

// createCalls are the WeCom calls a create of each newer kind needs: a tag is found by name in
// tag/list, then tag/create and tag/addtagusers; a customer tag group is found by name in
// get_corp_tag_list, made with add_corp_tag and confirmed by id; a welcome template (WeCom
// cannot list them) is added and confirmed by id; the app, which is adopted, is read
// (agent/get, menu/get), set (agent/set, menu/create) and read again.
var createCalls = map[string]int{"WeComTag": 3, "WeComCalendar": 1, "CustomerTagGroup": 3, "GroupWelcomeTemplate": 2, "WeComApp": 6}

func (r *Results) targets(c config) []Target {
	var out []Target
	add := func(name, target, measured string, met bool) {
		out = append(out, Target{Name: name, Target: target, Measured: measured, Met: met})
	}
	conv := r.Convergence
	// The first kinds' creates are one write each, their lookups served by lists shared across
	// objects; the newer kinds' creates need more (createCalls), so they are held to those.
	calls, objects := conv.Calls.Total, conv.CreatedObjects
	var newer []string
	newerMet := true
	for _, k := range conv.ByKind {
		need, ok := createCalls[k.Kind]
		if ok {
			calls -= k.Calls
			objects -= k.Objects
		}
		if ok && k.Objects > 0 {
			newer = append(newer, fmt.Sprintf("%s %.2f (need %d)", k.Kind, k.CallsPerObject, need))
			newerMet = newerMet && k.CallsPerObject <= 1.05*float64(need)
		}
	}
	add("WeCom calls per created object (convergence: departments, users, chats, ways, schedules)", "≤ 1.05",
		fmt.Sprintf("%.3f (%s calls for %s objects)", ratio(calls, objects), num(calls), num(objects)),
		ratio(calls, objects) <= 1.05)
	if len(newer) > 0 {
		add("WeCom calls per created object of the newer kinds (convergence)", "≤ 1.05 × the calls its create needs",
			strings.Join(newer, ", "), newerMet)
	}

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
	tokens := fmt.Sprintf("%d in convergence, %d after the restart", conv.Calls.GetToken, restartTokens)
	tokensMet := conv.Calls.GetToken == secrets && restartTokens == secrets
	if cb := r.Callbacks; cb != nil {
		n := cb.SwitchOver.GetToken
		for _, iv := range cb.Intervals {
			n += iv.Calls.GetToken
		}
		tokens += fmt.Sprintf(", %d after the restart with callbacks", n)
		tokensMet = tokensMet && n == secrets
	}
	add("gettoken per (corp, secret) per token lifetime", fmt.Sprintf("1 per manager run (%d secrets)", secrets), tokens, tokensMet)
	add("WeCom writes in steady state", "0",
		fmt.Sprintf("%d over the restart and %d intervals", steadyWrites, len(r.Steady.Intervals)-1), steadyWrites == 0)

	// Lists: department/list, user/list_id, list_contact_way and oa/schedule/get are one page
	// each at this scale, and each connection lists at most once per 90% of the interval.
	pages := 1 + pages(c.fleet.Users+c.fleet.Users/10, 10000) + pages(c.fleet.Ways, 1000) + pages(c.fleet.Schedules, 1000)
	add("Drift list reads per interval", fmt.Sprintf("grow with list pages (%d pages), not objects", pages),
		fmt.Sprintf("%s list calls in %d intervals (at most %d in one)", num(lists), len(r.Steady.Intervals)-1, maxList),
		maxList <= 2*pages)

	// Reads of one object each: the deep checks of members and ways (their lists do not carry
	// their fields), each object once per deep interval, every app chat every interval (WeCom
	// has no call that lists chats), and each tag, calendar, customer tag group and welcome
	// template (read by id) and the app (agent/get and menu/get) every interval.
	objectReads, steadyIntervals := 0, 0
	var perInterval []string
	for _, iv := range r.Steady.Intervals {
		if iv.Index > 0 {
			objectReads += iv.Calls.objectReads()
			steadyIntervals++
			perInterval = append(perInterval, num(iv.Calls.objectReads()))
		}
	}
	f := c.fleet
	expected := float64(f.Users+f.Ways)/float64(max(c.deepEvery, 1)) + float64(f.Chats) +
		float64(f.Tags+f.Calendars+f.CustomerTagGroups+f.WelcomeTemplates+2*len(f.AppObjects()))
	avg := float64(objectReads) / float64(max(steadyIntervals, 1))
	add("Drift reads of single objects per interval",
		fmt.Sprintf("≈ (members + ways) ÷ deep-drift-every + app chats + tags, calendars, customer tag groups, welcome templates + 2 for the app = %.0f; met within 1.2× (drift requeues are jittered by up to 10 %%, so an interval can hold some objects twice)", expected),
		fmt.Sprintf("%.0f on average (%s)", avg, strings.Join(perInterval, ", ")), avg <= 1.2*expected)

	limited := conv.Calls.FreqLimited + r.Storm.Calls.FreqLimited
	for _, iv := range r.Steady.Intervals {
		limited += iv.Calls.FreqLimited
	}
	if cb := r.Callbacks; cb != nil {
		limited += cb.SwitchOver.FreqLimited
		for _, iv := range cb.Intervals {
			limited += iv.Calls.FreqLimited
		}
	}
	add("45009 replies from WeCom", "0", num(limited), limited == 0)

	s := r.Storm
	add("Storm: messages WeCom received", num(s.Notifications), num(s.MessagesReceived), s.MessagesReceived == s.Notifications)
	add("Storm: member copies over WeCom's per-member quota", "0", num(s.CopiesOverQuota), s.CopiesOverQuota == 0)

	if cb := r.Callbacks; cb != nil {
		off, on := rates(r.Steady.Intervals), rates(cb.Intervals)
		share := 0.0
		if off.Covered() > 0 {
			share = on.Covered() / off.Covered()
		}
		add(fmt.Sprintf("Drift reads per %g s interval with callbacks on (kinds callbacks cover)", cb.DriftIntervalSeconds),
			fmt.Sprintf("≤ 1/5 of callbacks off (≤ %.0f)", off.Covered()/5),
			fmt.Sprintf("%.0f on vs %.0f off (%.2f of off; %d and %d windows; besides, %.0f on and %.0f off for customer tag groups, welcome templates and the app)",
				on.Covered(), off.Covered(), share, on.Windows, off.Windows, on.Polled, off.Polled),
			off.Covered() > 0 && share <= 0.2)
		add("WeCom writes with callbacks on, other than hand-edit repairs", "0",
			fmt.Sprintf("%.0f over %d windows", on.Writes*float64(on.Windows), on.Windows), on.Writes == 0)
		slow := 0
		for _, e := range cb.Edits {
			if !e.Repaired || e.RepairSeconds > 5 {
				slow++
			}
		}
		add("Hand edits repaired with callbacks on", fmt.Sprintf("all %d, each ≤ 5 s after the edit", len(cb.Edits)),
			fmt.Sprintf("%d of %d; median %.2f s, max %.2f s", cb.Repaired, len(cb.Edits), cb.RepairP50Seconds, cb.RepairMaxSeconds),
			len(cb.Edits) > 0 && cb.Repaired == len(cb.Edits) && slow == 0)
		add("WeCom calls per hand edit", "2 (user/get + user/update)",
			fmt.Sprintf("%.2f (%s)", cb.CallsPerEdit, endpointList(cb.EditCalls.ByEndpoint)),
			len(cb.Edits) > 0 && cb.EditCalls.Total == 2*len(cb.Edits) &&
				cb.EditCalls.ByEndpoint["user/get"] == len(cb.Edits) && cb.EditCalls.ByEndpoint["user/update"] == len(cb.Edits))
		add("Callback Token or EncodingAESKey in the manager's log", "never", yesNoPlain(cb.SecretsInManagerLog), !cb.SecretsInManagerLog)
	}
	return out
}

func endpointList(m map[string]int) string {
	var eps []string
	for _, ep := range sortedKeys(m) {
		eps = append(eps, fmt.Sprintf("`%s` %s", ep, num(m[ep])))
	}
	if len(eps) == 0 {
		return "none"
	}
	return strings.Join(eps, ", ")
}

func yesNoPlain(b bool) string {
	if b {
		return "yes"
	}
	return "no"
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
	p("`%s` for the steady state and the storm.", fmt.Sprintf("--drift-interval=%gs", c.DriftIntervalSeconds))
	if r.Callbacks != nil {
		p("Then callbacks on: the same drift interval with `--callback-drift-interval=%gs` and %d hand edits.", c.CallbackDriftIntervalSeconds, c.HandEdits)
	}
	p("See docs/performance.md for what the figures mean.")
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
		p("| Objects | %s departments (3 levels: %d/%d/%d), %s users, %s app chats, %s contact ways, %s schedules, %s tags, %s calendars, %s customer tag groups, %s group welcome templates, %d app; 2 connections |",
			num(c.Departments), l1, l2, l3, num(c.Users), num(c.Chats), num(c.Ways), num(c.Schedules),
			num(c.Tags), num(c.Calendars), num(c.CustomerTagGroups), num(c.WelcomeTemplates), c.Apps)
		p("| Created in the API server in | %.1f s |", v.ApplySeconds)
		p("| **Wall time to all Ready** | **%.1f s** |", v.WallSeconds)
		var kinds []string
		for _, k := range scaletest.ManagedKinds {
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

	if cb := r.Callbacks; cb != nil && r.Steady != nil {
		off, on := rates(r.Steady.Intervals), rates(cb.Intervals)
		div := func(a, b float64) string {
			if b == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f", a/b)
		}
		p("## Drift reads per %g s interval: callbacks off vs on", cb.DriftIntervalSeconds)
		p("")
		p("Off: the steady state above (`--drift-interval=%gs`), intervals 1 to %d. On: both connections with `spec.callback`, the manager", cb.DriftIntervalSeconds, off.Windows)
		p("restarted with its receiver and `--callback-drift-interval=%gs`, the simulator's callback URLs saved (its URL", cb.CallbackDriftIntervalSeconds)
		p("verification reached the manager %.1f s after the restart); counted from %.0f s after the restart, when every object", cb.SecondsToInUse, cb.SecondsToCounting)
		p("had moved to the callback cadence, in %d windows of %g s (one callback drift interval, so each object's drift check", on.Windows, cb.DriftIntervalSeconds)
		p("falls in exactly one window). The calls that repaired the hand edits below are left out of the drift figures.")
		p("")
		p("| Per %g s interval (average) | Callbacks off | Callbacks on | On ÷ off |", cb.DriftIntervalSeconds)
		p("|---|---:|---:|---:|")
		p("| List reads | %.1f | %.1f | %s |", off.ListReads, on.ListReads, div(on.ListReads, off.ListReads))
		p("| Single-object reads | %.1f | %.1f | %s |", off.ObjectReads, on.ObjectReads, div(on.ObjectReads, off.ObjectReads))
		p("| All drift reads | %.1f | %.1f | %s |", off.Reads(), on.Reads(), div(on.Reads(), off.Reads()))
		p("| of them customer tag groups, welcome templates and the app (no callback: drift interval either way) | %.1f | %.1f | %s |", off.Polled, on.Polled, div(on.Polled, off.Polled))
		p("| **Drift reads of the kinds callbacks cover** | **%.1f** | **%.1f** | **%s** |", off.Covered(), on.Covered(), div(on.Covered(), off.Covered()))
		p("| Writes (drift) | %.1f | %.1f | |", off.Writes, on.Writes)
		p("| Calls repairing hand edits | – | %.1f (%s in all) | |", float64(cb.EditCalls.Total)/float64(max(on.Windows, 1)), num(cb.EditCalls.Total))
		p("")
		p("| Window (callbacks on) | Writes | List reads | One-object reads | Hand-edit calls (in the columns) | Reads by endpoint |")
		p("|---|---:|---:|---:|---:|---|")
		for _, iv := range cb.Intervals {
			var eps []string
			for _, ep := range sortedKeys(iv.Calls.ByEndpoint) {
				if ep != "gettoken" && !scaletest.IsWrite(ep) {
					eps = append(eps, fmt.Sprintf("`%s` %s", ep, num(iv.Calls.ByEndpoint[ep])))
				}
			}
			edit := 0
			if iv.EditCalls != nil {
				edit = iv.EditCalls.Total
			}
			p("| %d | %s | %s | %s | %s | %s |", iv.Index, num(iv.Calls.Writes), num(iv.Calls.listReads()), num(iv.Calls.objectReads()),
				num(edit), strings.Join(eps, ", "))
		}
		p("")
		p("The restart with callbacks up to the first window (%.0f s): %s calls, %s writes, %s reads, %s gettoken.",
			cb.SecondsToCounting, num(cb.SwitchOver.Total), num(cb.SwitchOver.Writes), num(cb.SwitchOver.Reads), num(cb.SwitchOver.GetToken))
		p("")
		p("### Hand edits with callbacks on")
		p("")
		p("| | |")
		p("|---|---|")
		p("| Members renamed by hand (`POST /sim/edit`, `update_user`), spread over the windows | %d |", len(cb.Edits))
		p("| change_contact deliveries acknowledged by the manager | %d of %d |", cb.DeliveriesAcked, cb.Deliveries)
		p("| **Repaired** (WeCom shows the spec's name again) | **%d of %d** |", cb.Repaired, len(cb.Edits))
		p("| **Edit to repair** (until the simulator applied the repairing `user/update`) median / max | **%.2f s / %.2f s** |", cb.RepairP50Seconds, cb.RepairMaxSeconds)
		p("| WeCom calls about the edited members, edit to repair | %s: %s; **%.2f per edit** |", num(cb.EditCalls.Total), endpointList(cb.EditCalls.ByEndpoint), cb.CallsPerEdit)
		p("| WeCom equals the spec after the phase | %s |", yesNo(len(cb.WeComDifferences) == 0))
		p("")
		var odd []string
		for _, e := range cb.Edits {
			if !e.Repaired || len(e.Calls) != 2 || e.RepairSeconds > 5 || e.Acked != 1 || e.Attempts != 1 {
				odd = append(odd, fmt.Sprintf("%s (repaired %s in %.2f s; calls: %s; deliveries %d, acked %d, attempts %d)",
					e.UserID, yesNoPlain(e.Repaired), e.RepairSeconds, strings.Join(sortedEndpoints(e.Calls), ", "), e.Deliveries, e.Acked, e.Attempts))
			}
		}
		if len(odd) > 0 {
			p("Edits that took more than one delivery attempt, more or fewer than 2 calls, or more than 5 s: %s.", strings.Join(odd, "; "))
			p("")
		}
	}

	if sr := r.Series; sr != nil {
		p("## Second by second")
		p("")
		p("results.json's `series` hold each phase second by second: the manager's `/metrics` scraped every second during")
		p("convergence and the storm (objects by kind and Ready state, notifications sent and held, rate-limiter waits), and")
		p("the WeCom calls per second from the simulator's call log in every phase. `hack/dashboard` draws them")
		p("(docs/images/dashboard-timeseries.png).")
		p("")
		p("| Phase | Seconds | Scrapes answered | Busiest second: WeCom writes / reads | Other |")
		p("|---|---:|---:|---|---|")
		row := func(name string, ps *PhaseSeries, other string) {
			if ps == nil {
				return
			}
			scrapes := "–"
			if ps.ReadyAt != nil {
				scrapes = fmt.Sprintf("%d of %d", ps.Scrapes, ps.Seconds+1)
			}
			p("| %s | %d | %s | %s / %s | %s |", name, ps.Seconds, scrapes, peakAt(ps.WritesPerSecond), peakAt(ps.ReadsPerSecond), other)
		}
		if c := sr.Convergence; c != nil {
			row("Convergence", c, "rate-limiter waits per second at most "+peakAt(c.LimiterWaitsPerSecond))
		}
		row("Steady state", sr.Steady, "")
		if st := sr.Storm; st != nil {
			row("Storm", st, fmt.Sprintf("Sent per second at most %s; held by quota at most %s", peakAt(st.SentPerSecond), peakAt(st.HeldAt)))
		}
		row("Callbacks on", sr.Callbacks, "")
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
