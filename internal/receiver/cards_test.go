package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/alerting"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// The callback secret of the card tests' app.
const (
	cardToken = "Cz8Xw2Lq"
	cardKey   = "Mk4Vb7Nq2Wx9Rt5Yp8Ls3Dh6Gf1Jz0Ca4Ue7Io2Pn5Q"
)

// alertmanagerAPI is a stand-in for Alertmanager's API v2: it counts the silences created
// and answers the list with them; status, when set, answers every POST.
type alertmanagerAPI struct {
	mu      sync.Mutex
	created []alerting.Silence
	ids     []string
	status  int
}

func (a *alertmanagerAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.Method {
	case http.MethodPost:
		if a.status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(a.status)
			_, _ = io.WriteString(w, `"silence invalid"`)
			return
		}
		var s alerting.Silence
		_ = json.NewDecoder(r.Body).Decode(&s)
		a.add(s)
		_ = json.NewEncoder(w).Encode(map[string]string{"silenceID": a.ids[len(a.ids)-1]})
	case http.MethodGet:
		type state struct {
			State string `json:"state"`
		}
		var out []map[string]any
		for i, s := range a.created {
			out = append(out, map[string]any{"id": a.ids[i], "matchers": s.Matchers, "comment": s.Comment, "status": state{"active"}})
		}
		_ = json.NewEncoder(w).Encode(out)
	}
}

func (a *alertmanagerAPI) add(s alerting.Silence) {
	a.created = append(a.created, s)
	a.ids = append(a.ids, fmt.Sprintf("silence-%d", len(a.created)))
}

func (a *alertmanagerAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.created)
}

// cardFixture is two replicas of the receiver sharing one API server (the fake client), the
// WeCom simulator with a card sent to wangwu and lisi, and Alertmanager.
type cardFixture struct {
	t        *testing.T
	kube     client.Client
	sim      *wecomsim.Server
	am       *alertmanagerAPI
	replicas []*Callbacks
	rec      *events.FakeRecorder
	crypto   *wecom.CallbackCrypto
	clicks   chan string
	n        *v1.Notification
	creds    wecomsim.Credentials
}

func newCardFixture(t *testing.T) *cardFixture {
	t.Helper()
	_, creds := wecomsim.DemoSeed()
	f := &cardFixture{t: t, sim: wecomsim.NewServer(t, wecomsim.Options{}), am: &alertmanagerAPI{}, creds: creds, clicks: make(chan string, 16)}
	amSrv := httptest.NewServer(f.am)
	t.Cleanup(amSrv.Close)
	var err error
	if f.crypto, err = wecom.NewCallbackCrypto(cardToken, cardKey, creds.CorpID); err != nil {
		t.Fatal(err)
	}
	// WeCom's side of the callback: the tests deliver each click to the replicas themselves.
	wecomSide := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method == http.MethodGet {
			plain, err := f.crypto.VerifyURL(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
			_, _ = w.Write(plain)
			return
		}
		body, _ := io.ReadAll(r.Body)
		plain, err := f.crypto.DecryptMessage(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		f.clicks <- string(plain)
	}))
	t.Cleanup(wecomSide.Close)
	if err := f.sim.SetCallback(creds.AgentID, wecomSide.URL+"/cb", cardToken, cardKey); err != nil {
		t.Fatal(err)
	}

	agent := creds.AgentID
	conn := &v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "team"}, Spec: v1.WeComConnectionSpec{
		CorpID: creds.CorpID, APIURL: f.sim.URL, AgentID: &agent, SecretRef: v1.SecretKeySelector{Name: "app", Key: "secret"},
		Callback: &v1.CallbackSpec{SecretRef: v1.LocalObjectReference{Name: "cb"}}}}
	rcv := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: "team"}, Spec: v1.AlertReceiverSpec{
		Timezone: "Asia/Shanghai", Alertmanager: &v1.AlertmanagerAPI{URL: amSrv.URL}}}
	f.n = &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: "oncall-1-firing-2", Namespace: "team", UID: "uid-1"},
		Spec: v1.NotificationSpec{ConnectionRef: &v1.ConnectionReference{Name: "app"}, To: &v1.Recipients{Users: []string{"wangwu", "lisi"}},
			Alert: &v1.NotificationAlert{Receiver: "oncall", Labels: map[string]string{"alertname": "DiskFull", "instance": "db-1"}}}}
	taskID := alerting.TaskID(f.n.Namespace, f.n.Name, f.n.UID)
	f.n.Status = v1.NotificationStatus{Phase: v1.NotificationSent, Card: &v1.NotificationCardStatus{TaskID: taskID}}

	f.kube = fake.NewClientBuilder().WithScheme(testScheme(t)).
		WithObjects(conn, rcv, f.n,
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "team", Labels: optedIn}, Data: map[string][]byte{"secret": []byte(creds.AppSecret)}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cb", Namespace: "team", Labels: optedIn},
				Data: map[string][]byte{"token": []byte(cardToken), "encodingAESKey": []byte(cardKey)}}).
		WithStatusSubresource(&v1.WeComConnection{}, &v1.Notification{}).
		WithIndex(&v1.Notification{}, controller.IndexCardTaskID, controller.CardTaskIDs).
		Build()
	allowed, err := controller.NewURLAllowlist([]string{f.sim.URL})
	if err != nil {
		t.Fatal(err)
	}
	connector := &controller.Connector{Client: f.kube, APIReader: f.kube, Allowed: allowed, Tokens: wecom.NewTokenCache(wecom.TokenCacheOptions{})}
	f.rec = events.NewFakeRecorder(100)
	for range 2 {
		f.replicas = append(f.replicas, NewCallbacks(f.kube, f.kube, connector, f.rec))
	}

	// The card, as the Notification controller sends it.
	c, err := connector.Connect(context.Background(), "team", "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.SendMessage(context.Background(), wecom.Message{ToUser: []string{"wangwu", "lisi"}, AgentID: int(agent),
		TemplateCard: &wecom.TemplateCard{CardType: wecom.CardTypeButtonInteraction, TaskID: taskID,
			MainTitle:  &wecom.CardTitle{Title: "[FIRING:1] DiskFull"},
			ButtonList: []wecom.CardButton{{Text: "Acknowledge", Key: "ack"}, {Text: "Silence 4h", Key: "silence-4h0m0s"}}}}); err != nil {
		t.Fatal(err)
	}
	return f
}

// click is a member clicking key on the card in WeCom: the event's plaintext.
func (f *cardFixture) click(userID, key string) string {
	f.t.Helper()
	if _, err := f.sim.ClickCard(wecomsim.CardClick{TaskID: f.n.Status.Card.TaskID, UserID: userID, Key: key}); err != nil {
		f.t.Fatal(err)
	}
	select {
	case p := <-f.clicks:
		return p
	case <-time.After(10 * time.Second):
		f.t.Fatal("the simulator did not deliver the click")
		return ""
	}
}

// deliver posts plaintext to replica i as WeCom does and returns the HTTP status.
func (f *cardFixture) deliver(i int, plaintext string) int {
	f.t.Helper()
	ts, nonce := fmt.Sprint(time.Now().Unix()), "5550123"
	body, sig, err := f.crypto.EncryptDelivery([]byte(plaintext), f.creds.AgentID, ts, nonce)
	if err != nil {
		f.t.Fatal(err)
	}
	q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
	req := httptest.NewRequest(http.MethodPost, controller.CallbackPath("team", "app")+"?"+q.Encode(), bytes.NewReader(body))
	rec := httptest.NewRecorder()
	f.replicas[i].ServeHTTP(rec, req)
	return rec.Code
}

func (f *cardFixture) notification() *v1.Notification {
	f.t.Helper()
	n := &v1.Notification{}
	if err := f.kube.Get(context.Background(), client.ObjectKeyFromObject(f.n), n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *cardFixture) card() wecomsim.CardState {
	c, _ := f.sim.Card(f.creds.AgentID, f.n.Status.Card.TaskID)
	return c
}

// events drains the recorded events.
func (f *cardFixture) events() string {
	var out []string
	for {
		select {
		case e := <-f.rec.Events:
			out = append(out, e)
		default:
			return strings.Join(out, "\n")
		}
	}
}

var responseCode = regexp.MustCompile(`<ResponseCode><!\[CDATA\[[^\]]*\]\]>`)

// WeCom retries a click's callback to whichever replica; the silence is made once, the card
// updated once.
// cardActions reads wecom_card_actions_total{action, outcome}.
func cardActions(action v1.AlertCardAction, outcome string) float64 {
	m := &dto.Metric{}
	if err := cardActionsTotal.WithLabelValues(string(action), outcome).Write(m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// countsCardActions checks, at the end of a test, how much each wecom_card_actions_total
// series grew during it.
func countsCardActions(t *testing.T, want map[[2]string]float64) {
	t.Helper()
	before := map[[2]string]float64{}
	for k := range want {
		before[k] = cardActions(v1.AlertCardAction(k[0]), k[1])
	}
	t.Cleanup(func() {
		for k, w := range want {
			if got := cardActions(v1.AlertCardAction(k[0]), k[1]) - before[k]; got != w {
				t.Errorf("wecom_card_actions_total{action=%q,outcome=%q} grew by %v, want %v", k[0], k[1], got, w)
			}
		}
	})
}

func TestCardClickOnceAcrossReplicas(t *testing.T) {
	f := newCardFixture(t)
	countsCardActions(t, map[[2]string]float64{{"Silence", cardDone}: 1, {"Silence", cardDuplicate}: 1, {"Silence", cardFailed}: 0})
	plain := f.click("wangwu", "silence-4h0m0s")
	if code := f.deliver(0, plain); code != http.StatusOK {
		t.Fatalf("replica 0: %d", code)
	}
	if code := f.deliver(1, plain); code != http.StatusOK {
		t.Fatalf("replica 1, the retry: %d", code)
	}
	if f.am.count() != 1 {
		t.Fatalf("%d silences created", f.am.count())
	}
	s := f.am.created[0]
	if s.CreatedBy != "王五" || s.EndsAt.Sub(s.StartsAt) != 4*time.Hour || len(s.Matchers) != 2 ||
		!strings.Contains(s.Comment, "team/oncall-1-firing-2") || !strings.Contains(s.Comment, "[wecom-action ") {
		t.Errorf("silence %+v", s)
	}
	n := f.notification()
	if len(n.Status.Actions) != 1 {
		t.Fatalf("actions %+v", n.Status.Actions)
	}
	a := n.Status.Actions[0]
	if a.State != v1.ActionDone || a.SilenceID != "silence-1" || !a.CardUpdated || a.UserID != "wangwu" || a.Name != "王五" || a.Message != "" {
		t.Errorf("action %+v", a)
	}
	card := f.card()
	if len(card.Updates) != 1 || len(card.Updates[0].Members) != 2 || !strings.HasPrefix(card.Updates[0].ReplaceName, "Silenced 4h by 王五 at ") {
		t.Errorf("card updates %+v", card.Updates)
	}
	if ev := f.events(); strings.Count(ev, "Normal Silenced") != 2 || !strings.Contains(ev, "silence-1") {
		t.Errorf("events:\n%s", ev)
	}
}

// A delivery that finds the click Pending leaves it to the one working on it; after the
// lease, it finishes the action, adopting the silence the first one made.
func TestCardClickPendingLease(t *testing.T) {
	f := newCardFixture(t)
	plain := f.click("lisi", "silence-4h0m0s")
	code := regexp.MustCompile(`<ResponseCode><!\[CDATA\[([^\]]*)\]\]>`).FindStringSubmatch(plain)[1]
	id := alerting.ActionID(code)
	n := f.notification()
	before := n.DeepCopy()
	n.Status.Actions = []v1.NotificationAction{{ID: id, Action: v1.AlertCardSilence, Duration: &metav1.Duration{Duration: 4 * time.Hour},
		UserID: "lisi", Time: metav1.Now(), State: v1.ActionPending}}
	if err := f.kube.Status().Patch(context.Background(), n, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	if got := f.deliver(0, plain); got != http.StatusInternalServerError {
		t.Fatalf("a click another delivery is acting on: %d, want 500 (WeCom retries)", got)
	}
	if f.am.count() != 0 || len(f.card().Updates) != 0 {
		t.Fatal("acted while another delivery holds the click")
	}

	// That delivery died after creating the silence.
	f.am.add(alerting.Silence{Matchers: alerting.Matchers(f.n.Spec.Alert.Labels), Comment: "… " + alerting.SilenceMarker(id)})
	n = f.notification()
	before = n.DeepCopy()
	n.Status.Actions[0].Time = metav1.NewTime(time.Now().Add(-time.Minute))
	if err := f.kube.Status().Patch(context.Background(), n, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	if got := f.deliver(1, plain); got != http.StatusOK {
		t.Fatalf("after the lease: %d", got)
	}
	a := f.notification().Status.Actions[0]
	if f.am.count() != 1 || a.State != v1.ActionDone || a.SilenceID != "silence-1" || !a.CardUpdated {
		t.Errorf("silences %d, action %+v: the silence is adopted, not made again", f.am.count(), a)
	}
}

func TestCardClickRefusedAndFailures(t *testing.T) {
	f := newCardFixture(t)
	countsCardActions(t, map[[2]string]float64{
		{"Acknowledge", cardRefused}: 1, {"Acknowledge", cardDone}: 1,
		{"Silence", cardFailed}: 1, {"Silence", cardRetry}: 1, {"Silence", cardDone}: 1})
	plain := f.click("wangwu", "ack")

	// A member the card was not sent to (WeCom would not let them click; a forged or stale
	// event) changes nothing.
	other := strings.Replace(plain, "<FromUserName><![CDATA[wangwu]]>", "<FromUserName><![CDATA[zhaoliu]]>", 1)
	if got := f.deliver(0, other); got != http.StatusOK {
		t.Fatalf("non-recipient: %d", got)
	}
	if n := f.notification(); len(n.Status.Actions) != 0 || len(f.card().Updates) != 0 {
		t.Errorf("a non-recipient's click changed something: %+v", n.Status.Actions)
	}
	if ev := f.events(); !strings.Contains(ev, "Warning NotRecipient") || !strings.Contains(ev, "zhaoliu") {
		t.Errorf("events:\n%s", ev)
	}

	// Alertmanager refuses: the action fails, says why, and the card keeps its buttons.
	f.am.status = http.StatusBadRequest
	silence := f.click("wangwu", "silence-4h0m0s")
	if got := f.deliver(0, silence); got != http.StatusOK {
		t.Fatalf("refused silence: %d", got)
	}
	a := f.notification().Status.Actions[0]
	if a.State != v1.ActionFailed || !strings.Contains(a.Message, "HTTP 400: silence invalid") || a.CardUpdated {
		t.Errorf("action %+v", a)
	}
	if ev := f.events(); !strings.Contains(ev, "Warning CardActionFailed") {
		t.Errorf("events:\n%s", ev)
	}

	// Alertmanager is down: 500, so WeCom retries; the retry goes ahead at once.
	f.am.status = http.StatusServiceUnavailable
	silence = f.click("lisi", "silence-4h0m0s")
	if got := f.deliver(1, silence); got != http.StatusInternalServerError {
		t.Fatalf("Alertmanager down: %d", got)
	}
	if a := f.notification().Status.Actions[1]; a.State != v1.ActionPending || !strings.HasPrefix(a.Message, "retrying: ") {
		t.Errorf("action %+v", a)
	}
	f.am.status = 0
	if got := f.deliver(1, silence); got != http.StatusOK {
		t.Fatalf("the retry: %d", got)
	}
	if a := f.notification().Status.Actions[1]; a.State != v1.ActionDone || a.SilenceID == "" || !a.CardUpdated {
		t.Errorf("action %+v", a)
	}

	// A click whose code WeCom no longer takes (60140): acknowledged, and said so.
	expired := responseCode.ReplaceAllString(plain, "<ResponseCode><![CDATA[expired-code]]>")
	if got := f.deliver(0, expired); got != http.StatusOK {
		t.Fatalf("expired code: %d", got)
	}
	a = f.notification().Status.Actions[2]
	if a.State != v1.ActionDone || a.CardUpdated || !strings.Contains(a.Message, "60140") {
		t.Errorf("action %+v", a)
	}
	if ev := f.events(); !strings.Contains(ev, "Normal CardUpdateSkipped") || !strings.Contains(ev, "Normal Acknowledged") {
		t.Errorf("events:\n%s", ev)
	}
}

// A click on a card whose alerts have already resolved still does what was asked (a silence
// also covers the alerts firing again) and says that they had resolved.
func TestCardClickAfterTheAlertsResolved(t *testing.T) {
	f := newCardFixture(t)
	n := f.notification()
	before := n.DeepCopy()
	n.Status.Card.ResolvedBy = "team/oncall-1-resolved-2"
	if err := f.kube.Status().Patch(context.Background(), n, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	if got := f.deliver(0, f.click("wangwu", "silence-4h0m0s")); got != http.StatusOK {
		t.Fatalf("click: %d", got)
	}
	if f.am.count() != 1 {
		t.Fatalf("%d silences created, want 1", f.am.count())
	}
	a := f.notification().Status.Actions[0]
	if a.State != v1.ActionDone || a.SilenceID == "" || a.CardUpdated || !strings.HasPrefix(a.Message, "the alerts had already resolved; the silence applies if they fire again") {
		t.Errorf("action %+v", a)
	}
	if ev := f.events(); !strings.Contains(ev, "Normal Silenced") || !strings.Contains(ev, "already resolved") {
		t.Errorf("events:\n%s", ev)
	}

	if got := f.deliver(1, f.click("lisi", "ack")); got != http.StatusOK {
		t.Fatalf("ack: %d", got)
	}
	// The card already shows them resolved (its buttons are gone): it is left as it is.
	if a := f.notification().Status.Actions[1]; a.State != v1.ActionDone || a.CardUpdated ||
		a.Message != "the alerts had already resolved; the card was not updated: it already shows the alerts resolved" {
		t.Errorf("acknowledgement %+v", a)
	}
}
