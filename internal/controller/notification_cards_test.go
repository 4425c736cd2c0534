package controller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/alerting"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// When the alerts of a card resolve, the card is updated in place with the resolved card if
// an unused response code within 72 h is known; otherwise the resolved message is sent.
func TestResolveCardsInPlace(t *testing.T) {
	ctx := context.Background()
	sim := wecomsim.NewServer(t, wecomsim.Options{})
	_, creds := wecomsim.DemoSeed()
	// WeCom sends interactive cards only for apps with a callback URL (43012).
	crypto, err := wecom.NewCallbackCrypto("Tk1", "Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7Qr9St1Uv3Wx5Yz7Ab9C", creds.CorpID)
	if err != nil {
		t.Fatal(err)
	}
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		plain, _ := crypto.VerifyURL(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
		_, _ = w.Write(plain)
	}))
	defer cb.Close()
	if err := sim.SetCallback(creds.AgentID, cb.URL, "Tk1", "Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7Qr9St1Uv3Wx5Yz7Ab9C"); err != nil {
		t.Fatal(err)
	}

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	agent := creds.AgentID
	kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&v1.WeComConnection{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ops"}, Spec: v1.WeComConnectionSpec{
			CorpID: creds.CorpID, APIURL: sim.URL, AgentID: &agent, SecretRef: v1.SecretKeySelector{Name: "app", Key: "secret"}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ops", Labels: map[string]string{v1.SecretUseLabel: v1.SecretUseValue}},
			Data: map[string][]byte{"secret": []byte(creds.AppSecret)}},
	).WithStatusSubresource(&v1.Notification{}).Build()
	allowed, _ := NewURLAllowlist([]string{sim.URL})
	connector := &Connector{Client: kube, APIReader: kube, Allowed: allowed, Tokens: wecom.NewTokenCache(wecom.TokenCacheOptions{}), Retry: wecom.RetryPolicy{MaxAttempts: 1}}
	rec := events.NewFakeRecorder(100)
	r := &NotificationReconciler{Client: kube, Connector: connector, Recorder: rec}
	conn, err := connector.Connect(ctx, "ops", "app")
	if err != nil {
		t.Fatal(err)
	}

	to := &v1.Recipients{Users: []string{"wangwu", "lisi"}}
	alert := &v1.NotificationAlert{Receiver: "oncall", Labels: map[string]string{"alertname": "DiskFull"}}
	// firing sends a firing card for the alerts key and records it as the controller does.
	firing := func(name, key string, codeAge time.Duration) *v1.Notification {
		t.Helper()
		n := &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ops", UID: types.UID("uid-" + name),
			Labels: map[string]string{v1.LabelAlertCard: key, v1.LabelAlertStatus: alerting.StatusFiring}},
			Spec: v1.NotificationSpec{ConnectionRef: &v1.ConnectionReference{Name: "app"}, To: to, Alert: alert,
				Message: v1.Message{TemplateCard: &v1.TemplateCardMessage{CardType: wecom.CardTypeButtonInteraction,
					MainTitle: &v1.CardTitle{Title: "[FIRING:1] DiskFull"}, ButtonList: []v1.CardButton{{Text: "Acknowledge", Key: "ack"}}}}}}
		taskID := alerting.TaskID(n.Namespace, n.Name, n.UID)
		res, err := conn.Client.SendMessage(ctx, wecom.Message{ToUser: to.Users, AgentID: int(agent), TemplateCard: &wecom.TemplateCard{
			CardType: wecom.CardTypeButtonInteraction, TaskID: taskID, MainTitle: &wecom.CardTitle{Title: "[FIRING:1] DiskFull"},
			ButtonList: []wecom.CardButton{{Text: "Acknowledge", Key: "ack"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := kube.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
		n.Status = v1.NotificationStatus{Phase: v1.NotificationSent, Card: &v1.NotificationCardStatus{TaskID: taskID,
			ResponseCode: res.ResponseCode, ResponseCodeTime: &metav1.Time{Time: time.Now().Add(-codeAge)}},
			Actions: []v1.NotificationAction{{ID: "a", Action: v1.AlertCardAcknowledge, UserID: "lisi", Name: "李四",
				Time: metav1.NewTime(time.Date(2026, 3, 2, 2, 2, 0, 0, time.UTC)), State: v1.ActionDone}}}
		if err := kube.Status().Update(ctx, n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	resolved := func(key string) *v1.Notification {
		return &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: key + "-resolved", Namespace: "ops",
			Labels: map[string]string{v1.LabelAlertCard: key, v1.LabelAlertStatus: alerting.StatusResolved}},
			Spec: v1.NotificationSpec{ConnectionRef: &v1.ConnectionReference{Name: "app"}, To: to, Alert: alert,
				Message: v1.Message{TemplateCard: &v1.TemplateCardMessage{CardType: "text_notice",
					MainTitle: &v1.CardTitle{Title: "[RESOLVED] DiskFull"}, CardAction: v1.CardLink{Type: 1, URL: "http://am.example.com"}}}}}
	}
	get := func(n *v1.Notification) *v1.Notification {
		out := &v1.Notification{}
		if err := kube.Get(ctx, client.ObjectKeyFromObject(n), out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	drain := func() string {
		var out []string
		for len(rec.Events) > 0 {
			out = append(out, <-rec.Events)
		}
		return strings.Join(out, "\n")
	}

	// A usable code: the card shows the alerts resolved, with who handled them.
	card := firing("fresh-firing", "fresh", time.Hour)
	if !resolvesCards(resolved("fresh")) {
		t.Fatal("a resolved card Notification resolves cards")
	}
	updated, wait, err := r.resolveCards(ctx, resolved("fresh"), conn)
	if err != nil || wait || !slices.Equal(updated, []string{"fresh-firing"}) {
		t.Fatalf("fresh: %v %v %v", updated, wait, err)
	}
	state, _ := sim.Card(creds.AgentID, card.Status.Card.TaskID)
	for _, who := range []string{"wangwu", "lisi"} {
		m, _ := state.Member(who)
		if m.CardType != "text_notice" || m.MainTitle != "[RESOLVED] DiskFull" || !strings.Contains(string(m.Card), `"keyname":"Handled","value":"Acknowledged by 李四 at 02:02"`) {
			t.Errorf("%s sees %s %q %s", who, m.CardType, m.MainTitle, m.Card)
		}
	}
	if got := get(card).Status.Card; got.ResolvedBy != "fresh-resolved" || got.ResponseCode != "" {
		t.Errorf("card status %+v", got)
	}
	// Resolved once: a second resolve (a retry) counts it without another call.
	updated, _, _ = r.resolveCards(ctx, resolved("fresh"), conn)
	if state, _ = sim.Card(creds.AgentID, card.Status.Card.TaskID); len(updated) != 1 || len(state.Updates) != 1 {
		t.Errorf("again: %v, %d updates", updated, len(state.Updates))
	}
	drain()

	// A code over 72 hours old, or none: the resolved message is sent instead.
	old := firing("old-firing", "old", 73*time.Hour)
	if updated, wait, err = r.resolveCards(ctx, resolved("old"), conn); err != nil || wait || updated != nil {
		t.Fatalf("old: %v %v %v", updated, wait, err)
	}
	if s, _ := sim.Card(creds.AgentID, old.Status.Card.TaskID); len(s.Updates) != 0 {
		t.Error("an expired code was used")
	}
	if ev := drain(); !strings.Contains(ev, "Normal CardUpdateSkipped") {
		t.Errorf("events: %s", ev)
	}

	// WeCom no longer takes the code (60140; here its clock ran past 72 h): the message is sent.
	refused := firing("refused-firing", "refused", 0)
	sim.Advance(73 * time.Hour)
	if updated, wait, err = r.resolveCards(ctx, resolved("refused"), conn); err != nil || wait || updated != nil {
		t.Fatalf("refused: %v %v %v", updated, wait, err)
	}
	if ev := drain(); !strings.Contains(ev, "Warning CardUpdateSkipped") || !strings.Contains(ev, "60140") {
		t.Errorf("events: %s", ev)
	}
	if got := get(refused).Status.Card; got.ResolvedBy != "" || got.ResponseCode != "" {
		t.Errorf("a refused code is spent all the same: %+v", got)
	}

	// A card of the alerts still being sent comes first.
	pending := &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: "pending-firing", Namespace: "ops",
		Labels: map[string]string{v1.LabelAlertCard: "pending", v1.LabelAlertStatus: alerting.StatusFiring}},
		Spec: v1.NotificationSpec{ConnectionRef: &v1.ConnectionReference{Name: "app"}, To: to, Alert: alert,
			Message: v1.Message{TemplateCard: &v1.TemplateCardMessage{CardType: wecom.CardTypeButtonInteraction, ButtonList: []v1.CardButton{{Text: "A", Key: "ack"}}}}}}
	if err := kube.Create(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if _, wait, _ = r.resolveCards(ctx, resolved("pending"), conn); !wait {
		t.Error("resolved before its card was sent")
	}
	// No card of the alerts: sent as a message.
	if updated, wait, _ = r.resolveCards(ctx, resolved("none"), conn); updated != nil || wait {
		t.Error("no card")
	}
}

func TestInteractiveCard(t *testing.T) {
	n := &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: "a.b", Namespace: "ops", UID: "u"}, Spec: v1.NotificationSpec{
		Message: v1.Message{TemplateCard: &v1.TemplateCardMessage{CardType: wecom.CardTypeButtonInteraction,
			ButtonList: []v1.CardButton{{Text: "Ack", Key: "ack", Style: 1}, {Type: 1, Text: "Runbook", URL: "https://runbook"}}}}}}
	card := &wecom.TemplateCard{CardType: wecom.CardTypeButtonInteraction, CardAction: &wecom.CardAction{}}
	id := interactiveCard(n, card)
	if id != alerting.TaskID("ops", "a.b", "u") || card.TaskID != id || len(card.ButtonList) != 2 || card.CardAction != nil ||
		card.ButtonList[1] != (wecom.CardButton{Type: 1, Text: "Runbook", URL: "https://runbook"}) {
		t.Errorf("card %+v, task %q", card, id)
	}
	n.Spec.Message.TemplateCard.TaskID = "by-hand"
	if id = interactiveCard(n, card); id != "by-hand" {
		t.Errorf("a spec task_id: %q", id)
	}
	if interactiveCard(&v1.Notification{Spec: v1.NotificationSpec{Message: v1.Message{TemplateCard: &v1.TemplateCardMessage{CardType: "text_notice"}}}},
		&wecom.TemplateCard{CardType: "text_notice"}) != "" {
		t.Error("a notice card has no task")
	}
}
