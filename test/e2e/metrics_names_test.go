package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

const (
	dashboardFile = "charts/wecom-operator/files/dashboard.json"
	alertsFile    = "charts/wecom-operator/files/alerts.yaml"
)

// The dashboard and the alert rules are only worth something if their queries name series
// the manager really serves: a renamed metric or label leaves a panel empty and an alert
// silent, and nothing else would notice.
var _ = Describe("the dashboard and the alert rules", Label("metrics"), func() {
	It("name only metrics and labels that a running manager serves", func() {
		queries := append(dashboardQueries(), ruleQueries()...)

		By("the query reader finds what it should in a known query")
		ref := readQuery(query{where: "self-check", expr: `histogram_quantile(0.9, sum by (name, le) (rate(workqueue_queue_duration_seconds_bucket{name=~"a|b"}[$__rate_interval]))) > 60 and on() vector(1)`, legend: "{{name}}"})
		Expect(ref.selectors).To(Equal(map[string][]string{"workqueue_queue_duration_seconds_bucket": {"name"}}))
		Expect(ref.grouping).To(ConsistOf("name", "le"))
		Expect(ref.legend).To(ConsistOf("name"))

		By("a manager that has been through a connection, objects, Notifications held by quota, retries, Alertmanager and WeCom callbacks")
		k := adminClient()
		sim := wecomsim.Start(wecomsim.Options{ActivateCreatedUsers: true})
		DeferCleanup(sim.Close)
		// Read retries: one in five reads of departments and members answers -1.
		sim.Sim.SetFaults(wecomsim.Faults{Endpoints: []string{"department/*", "user/get", "user/list_id"}, ErrorRate: 0.2})

		ns := "metrics-names"
		ensureNS(k, ns, nil)
		for name, data := range map[string]map[string]string{
			"wecom-contacts":       {"secret": wecomsim.DemoContactsSecret},
			"wecom-app":            {"secret": wecomsim.DemoAppSecret},
			"sre-robot-webhook":    {"url": sim.URL + "/cgi-bin/webhook/send?key=" + wecomsim.DemoRobotKey},
			"alertmanager-webhook": {"token": "t", "username": "am", "password": "p"},
		} {
			Expect(k.Create(ctx, testenv.Secret(ns, name, data))).To(Succeed())
		}
		applySamples(k, ns, sim.URL)
		// Callbacks for the contacts-sync connection, for the wecom_callback* metrics.
		const callbackToken, callbackKey = "MetricsToken1", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
		Expect(k.Create(ctx, testenv.Secret(ns, "wecom-callback", map[string]string{
			"token": callbackToken, "encodingAESKey": callbackKey}))).To(Succeed())
		contacts := &v1.WeComConnection{}
		Expect(k.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wecom-contacts"}, contacts)).To(Succeed())
		patch := client.MergeFrom(contacts.DeepCopy())
		contacts.Spec.Callback = &v1.CallbackSpec{SecretRef: v1.LocalObjectReference{Name: "wecom-callback"}}
		Expect(k.Patch(ctx, contacts, patch)).To(Succeed())
		// A connection whose secret WeCom refuses, for wecom_connection_ready's reason and errcode.
		Expect(k.Create(ctx, testenv.Secret(ns, "rotated", map[string]string{"secret": "rotated-in-the-admin-console"}))).To(Succeed())
		agent := int64(wecomsim.DemoAgentID)
		Expect(k.Create(ctx, &v1.WeComConnection{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rotated"},
			Spec: v1.WeComConnectionSpec{CorpID: wecomsim.DemoCorpID, AgentID: &agent, APIURL: sim.URL,
				SecretRef: v1.SecretKeySelector{Name: "rotated", Key: "secret"}},
		})).To(Succeed())
		// More robot messages than the robot's 20 a minute: the last ones are held.
		for i := range 22 {
			n := &v1.Notification{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("robot-%02d", i)},
				Spec: v1.NotificationSpec{
					Robot:   &v1.RobotTarget{WebhookSecretRef: v1.SecretKeySelector{Name: "sre-robot-webhook", Key: "url"}},
					Message: v1.Message{Text: &v1.TextMessage{Content: fmt.Sprintf("message %d", i)}},
				},
			}
			Expect(k.Create(ctx, n)).To(Succeed())
		}

		metricsPort, amPort := freePort(), freePort()
		cmd := exec.Command(managerPath, "--kubeconfig", kubeconfig,
			fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", freePort()),
			fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort),
			fmt.Sprintf("--receiver-bind-address=127.0.0.1:%d", amPort),
			// A slow client limiter, so that some calls wait for it.
			"--wecom-qps=2", "--wecom-burst=1",
			"--allowed-api-urls="+sim.URL)
		session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			session.Signal(syscall.SIGTERM)
			Eventually(session, 30*time.Second).Should(gexec.Exit())
		})

		Eventually(func(g Gomega) {
			conn := &v1.WeComConnection{}
			g.Expect(k.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wecom-app"}, conn)).To(Succeed())
			g.Expect(conn.Status.Conditions).To(ContainElement(And(
				HaveField("Type", v1.ConditionReady), HaveField("Status", metav1.ConditionTrue))))
		}, 2*time.Minute, time.Second).Should(Succeed())

		receiver := fmt.Sprintf("http://127.0.0.1:%d/alertmanager/%s/oncall-alerts", amPort, ns)
		post := func(token string) int {
			body := `{"version":"4","groupKey":"{}:{alertname=\"DiskFull\"}","status":"firing","receiver":"wecom",` +
				`"groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull","severity":"critical"},` +
				`"alerts":[{"status":"firing","labels":{"alertname":"DiskFull","severity":"critical"},"annotations":{"summary":"disk full"},` +
				`"startsAt":"2026-01-01T00:00:00Z","generatorURL":"http://prometheus.example.com/graph"}]}`
			req, err := http.NewRequest(http.MethodPost, receiver, strings.NewReader(body))
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.StatusCode
		}
		Eventually(func() int { return post("t") }, time.Minute, 500*time.Millisecond).Should(BeElementOf(http.StatusOK, http.StatusAccepted))
		Expect(post("wrong")).To(Equal(http.StatusUnauthorized))

		// WeCom's callbacks: the URL saved in the console (verified against the manager), a
		// member renamed there by hand and repaired after the callback, and a forged delivery.
		callbackURL := fmt.Sprintf("http://127.0.0.1:%d/wecom/callback/%s/wecom-contacts", amPort, ns)
		Eventually(func(g Gomega) {
			conn := &v1.WeComConnection{}
			g.Expect(k.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wecom-contacts"}, conn)).To(Succeed())
			g.Expect(conn.Status.Callback).NotTo(BeNil())
			g.Expect(conn.Status.Callback.Configured).To(BeTrue(), conn.Status.Callback.Message)
		}, time.Minute, time.Second).Should(Succeed())
		zhangsan := &v1.WeComUser{}
		Eventually(func(g Gomega) {
			g.Expect(k.Get(ctx, client.ObjectKey{Namespace: ns, Name: "zhangsan"}, zhangsan)).To(Succeed())
			g.Expect(zhangsan.Status.Conditions).To(ContainElement(And(
				HaveField("Type", v1.ConditionReady), HaveField("Status", metav1.ConditionTrue))))
		}, 3*time.Minute, time.Second).Should(Succeed())
		simName := func() string {
			for _, u := range sim.Sim.State().Users {
				if u.UserID == zhangsan.Spec.UserID {
					return u.Name
				}
			}
			return ""
		}
		Expect(simName()).To(Equal(zhangsan.Spec.Name))
		Expect(sim.Sim.SetCallback(0, callbackURL, callbackToken, callbackKey)).To(Succeed())
		newName := "Renamed by hand"
		_, err = sim.Sim.ConsoleUpdateUser(wecomsim.UserEdit{UserID: zhangsan.Spec.UserID, Name: &newName})
		Expect(err).NotTo(HaveOccurred())
		Eventually(simName, 2*time.Minute, 500*time.Millisecond).Should(Equal(zhangsan.Spec.Name),
			"the manager repaired the member after the callback")
		forged, err := http.Post(callbackURL+"?msg_signature=forged&timestamp=1700000000&nonce=1",
			"text/xml", strings.NewReader("<xml><ToUserName><![CDATA[ww0000000000demo]]></ToUserName><Encrypt><![CDATA[Zm9yZ2Vk]]></Encrypt></xml>"))
		Expect(err).NotTo(HaveOccurred())
		_, _ = io.Copy(io.Discard, forged.Body)
		forged.Body.Close()
		Expect(forged.StatusCode).To(Equal(http.StatusForbidden))

		By("every metric and label the queries name is in the manager's /metrics")
		var last []string
		token := serviceAccountToken("prometheus", true)
		Eventually(func(g Gomega) {
			code, text, err := scrapeMetrics(metricsPort, token)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(code).To(Equal(http.StatusOK), text)
			last = missingNames(parseExposition(text), queries)
			g.Expect(last).To(BeEmpty())
			g.Expect(text).To(ContainSubstring(
				`wecom_connection_ready{errcode="40001",name="rotated",namespace="%s",reason="%s"} 0`, ns, v1.ReasonCredentialsInvalid))
			g.Expect(text).To(ContainSubstring(
				`wecom_connection_ready{errcode="",name="wecom-app",namespace="%s",reason="%s"} 1`, ns, v1.ReasonAvailable))
			g.Expect(text).To(ContainSubstring(`wecom_callback_configured{name="wecom-contacts",namespace="%s"} 1`, ns))
			g.Expect(text).To(ContainSubstring(
				`wecom_callbacks_total{connection="wecom-contacts",event="",namespace="%s",outcome="refused"} 1`, ns))
		}, 3*time.Minute, 2*time.Second).Should(Succeed(), func() string { return strings.Join(last, "\n") })
	})
})

// query is one PromQL expression of the dashboard or the rules, and where it is.
type query struct {
	where, expr, legend string
}

func dashboardQueries() []query {
	data, err := os.ReadFile(filepath.Join(root(), dashboardFile))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr   string `json:"expr"`
				Legend string `json:"legendFormat"`
			} `json:"targets"`
		} `json:"panels"`
	}
	ExpectWithOffset(1, json.Unmarshal(data, &dash)).To(Succeed())
	var out []query
	for _, p := range dash.Panels {
		for _, t := range p.Targets {
			out = append(out, query{where: "dashboard panel " + p.Title, expr: t.Expr, legend: t.Legend})
		}
	}
	ExpectWithOffset(1, out).NotTo(BeEmpty())
	return out
}

func ruleQueries() []query {
	data, err := os.ReadFile(filepath.Join(root(), alertsFile))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	ExpectWithOffset(1, yaml.Unmarshal(data, &rules)).To(Succeed())
	var out []query
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out = append(out, query{where: "alert " + r.Alert, expr: r.Expr})
		}
	}
	ExpectWithOffset(1, out).NotTo(BeEmpty())
	return out
}

// exposition maps each series name in a scrape to the label names it carries.
type exposition map[string]map[string]bool

var (
	seriesLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)
)

// parseExposition reads Prometheus' text format.
func parseExposition(text string) exposition {
	out := exposition{}
	for _, line := range strings.Split(text, "\n") {
		m := seriesLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		labels := out[m[1]]
		if labels == nil {
			labels = map[string]bool{}
			out[m[1]] = labels
		}
		for _, p := range labelPair.FindAllStringSubmatch(m[3], -1) {
			labels[p[1]] = true
		}
	}
	return out
}

// queryRef is what a query names: metrics with the labels their selectors match on, the
// labels of by/without/on/ignoring/group_* clauses, and the labels its legend prints.
type queryRef struct {
	selectors map[string][]string
	grouping  []string
	legend    []string
}

var (
	identStart = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
	legendVar  = regexp.MustCompile(`\{\{\s*\.?([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	// PromQL words that are not metric names where they stand; aggregations are here because
	// a "by (...)" clause may stand between them and their parenthesis.
	promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"inf": true, "nan": true, "atan2": true, "start": true, "end": true,
		"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
		"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
		"limitk": true, "limit_ratio": true}
	groupingKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true,
		"group_left": true, "group_right": true}
)

// readQuery tokenises a PromQL expression just enough to find the names it uses: strings,
// numbers, durations and range brackets are skipped; an identifier followed by "(" is a
// function or an aggregation unless it opens a grouping clause.
func readQuery(q query) queryRef {
	ref := queryRef{selectors: map[string][]string{}}
	s := q.expr
	nextNonSpace := func(i int) int {
		for i < len(s) && strings.ContainsRune(" \t\r\n", rune(s[i])) {
			i++
		}
		return i
	}
	skipString := func(i int) int {
		quote := s[i]
		for i++; i < len(s) && s[i] != quote; i++ {
			if s[i] == '\\' && quote != '`' {
				i++
			}
		}
		return i + 1
	}
	names := func(i int) ([]string, int) { // a "( a, b )" list of label names
		var out []string
		end := strings.IndexByte(s[i:], ')')
		for _, n := range strings.Split(s[i+1:i+end], ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
		return out, i + end + 1
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(i)
		case c == '[':
			i += strings.IndexByte(s[i:], ']') + 1
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isWordByte(s[i]) || s[i] == '.') {
				i++
			}
		case identStart.MatchString(s[i:]):
			word := identStart.FindString(s[i:])
			i += len(word)
			j := nextNonSpace(i)
			switch {
			case groupingKeywords[word] && j < len(s) && s[j] == '(':
				labels, next := names(j)
				ref.grouping = append(ref.grouping, labels...)
				i = next
			case groupingKeywords[word] || promqlKeywords[word]:
			case j < len(s) && s[j] == '(': // a function or an aggregation
			default:
				matchers := []string{}
				if j < len(s) && s[j] == '{' {
					end := j + 1
					for end < len(s) && s[end] != '}' {
						switch {
						case s[end] == '"' || s[end] == '\'' || s[end] == '`':
							end = skipString(end)
						case identStart.MatchString(s[end:]):
							n := identStart.FindString(s[end:])
							matchers = append(matchers, n)
							end += len(n)
						default:
							end++
						}
					}
					i = end + 1
				}
				ref.selectors[word] = append(ref.selectors[word], matchers...)
			}
		default:
			i++
		}
	}
	for _, m := range legendVar.FindAllStringSubmatch(q.legend, -1) {
		ref.legend = append(ref.legend, m[1])
	}
	return ref
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// missingNames lists, per query, each metric the scrape lacks and each label that none of
// the query's metrics carries.
func missingNames(scrape exposition, queries []query) []string {
	var out []string
	for _, q := range queries {
		ref := readQuery(q)
		if len(ref.selectors) == 0 {
			out = append(out, fmt.Sprintf("%s: no metric found in %q", q.where, q.expr))
		}
		all := map[string]bool{}
		for metric, matchers := range ref.selectors {
			labels, ok := scrape[metric]
			if !ok {
				out = append(out, fmt.Sprintf("%s: metric %s is not in the scrape", q.where, metric))
				continue
			}
			for l := range labels {
				all[l] = true
			}
			for _, l := range matchers {
				if !labels[l] {
					out = append(out, fmt.Sprintf("%s: metric %s has no label %q (it has %v)", q.where, metric, l, keys(labels)))
				}
			}
		}
		for _, l := range slices.Concat(ref.grouping, ref.legend) {
			if !all[l] && l != "__name__" {
				out = append(out, fmt.Sprintf("%s: no metric of %q has the label %q", q.where, q.expr, l))
			}
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
