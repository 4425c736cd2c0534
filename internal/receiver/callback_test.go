package receiver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// The official test vector of reference §13.
const (
	vectorToken = "QDG6eK"
	vectorKey   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	vectorCorp  = "wx5823bf96d3bd56c7"
)

type callbackFixture struct {
	t       *testing.T
	kube    client.Client
	h       *Callbacks
	crypto  *wecom.CallbackCrypto
	welcome []string // welcome codes sent
}

func newCallbackFixture(t *testing.T, objs ...client.Object) *callbackFixture {
	t.Helper()
	conn := &v1.WeComConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "contacts", Namespace: "team"},
		Spec: v1.WeComConnectionSpec{CorpID: vectorCorp, SecretRef: v1.SecretKeySelector{Name: "s", Key: "secret"},
			Callback: &v1.CallbackSpec{SecretRef: v1.LocalObjectReference{Name: "cb"}}},
	}
	cb := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cb", Namespace: "team", Labels: optedIn},
		Data: map[string][]byte{"token": []byte(vectorToken), "encodingAESKey": []byte(vectorKey)}}
	kube := fake.NewClientBuilder().WithScheme(testScheme(t)).
		WithObjects(append([]client.Object{conn, cb, secret("s", optedIn)}, objs...)...).
		WithStatusSubresource(&v1.WeComConnection{}, &v1.ContactWay{}).
		WithIndex(&v1.WeComUser{}, controller.IndexExternalID, controller.ExternalIDs).
		WithIndex(&v1.WeComDepartment{}, controller.IndexExternalID, controller.ExternalIDs).
		WithIndex(&v1.WeComTag{}, controller.IndexExternalID, controller.ExternalIDs).
		WithIndex(&v1.ContactWay{}, controller.IndexWayState, controller.WayStates).
		Build()
	crypto, err := wecom.NewCallbackCrypto(vectorToken, vectorKey, vectorCorp)
	if err != nil {
		t.Fatal(err)
	}
	f := &callbackFixture{t: t, kube: kube, crypto: crypto}
	f.h = NewCallbacks(kube, kube, &controller.Connector{Client: kube, APIReader: kube}, nil)
	f.h.SendWelcome = func(_ context.Context, _ *controller.Connection, code string, _ *v1.ContactWayWelcome) error {
		f.welcome = append(f.welcome, code)
		return nil
	}
	return f
}

func (f *callbackFixture) do(req *http.Request) (int, string) {
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// post delivers plaintext to path as WeCom does, sealed with crypto.
func (f *callbackFixture) post(path string, crypto *wecom.CallbackCrypto, plaintext string) (int, string) {
	body, sig, err := crypto.EncryptDelivery([]byte(plaintext), 0, "1409659813", "1372623149")
	if err != nil {
		f.t.Fatal(err)
	}
	q := url.Values{"msg_signature": {sig}, "timestamp": {"1409659813"}, "nonce": {"1372623149"}}
	return f.do(httptest.NewRequest(http.MethodPost, path+"?"+q.Encode(), bytes.NewReader(body)))
}

func userEvent(userID string, at int) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType>update_user</ChangeType><UserID><![CDATA[%s]]></UserID><Department><![CDATA[1,2]]></Department></xml>`,
		vectorCorp, at, userID)
}

func member(name, userID string) *v1.WeComUser {
	return &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team"},
		Spec:   v1.WeComUserSpec{DeletableSpec: v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: "contacts"}}}, UserID: userID, Name: name},
		Status: v1.WeComUserStatus{UserID: userID}}
}

func (f *callbackFixture) refreshOf(name string) string {
	u := &v1.WeComUser{}
	if err := f.kube.Get(context.Background(), client.ObjectKey{Namespace: "team", Name: name}, u); err != nil {
		f.t.Fatal(err)
	}
	return u.Annotations[v1.AnnotationRefresh]
}

// URL verification with the official vector answers the bare plaintext.
func TestCallbackURLVerification(t *testing.T) {
	f := newCallbackFixture(t)
	q := "msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=" +
		url.QueryEscape("P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==")
	code, body := f.do(httptest.NewRequest(http.MethodGet, "/wecom/callback/team/contacts?"+q, nil))
	if code != http.StatusOK || body != "1616140317555161061" {
		t.Fatalf("verification: %d %q, want 200 and the bare plaintext", code, body)
	}
	conn := &v1.WeComConnection{}
	_ = f.kube.Get(context.Background(), client.ObjectKey{Namespace: "team", Name: "contacts"}, conn)
	if conn.Status.Callback == nil || conn.Status.Callback.LastReceivedTime == nil {
		t.Fatalf("status.callback.lastReceivedTime not recorded: %+v", conn.Status.Callback)
	}
}

// An event names a member; the object with that userid (any case) is marked for a fresh read,
// and a retry of the same event changes nothing more.
func TestCallbackEventMarksTheObjectOnce(t *testing.T) {
	f := newCallbackFixture(t, member("alice", "Alice"), member("bob", "bob"))
	if code, _ := f.post("/wecom/callback/team/contacts", f.crypto, userEvent("alice", 1700000000)); code != http.StatusOK {
		t.Fatalf("event: %d, want 200", code)
	}
	first := f.refreshOf("alice")
	if first == "" || f.refreshOf("bob") != "" {
		t.Fatalf("refresh marks: alice %q, bob %q; want alice only", first, f.refreshOf("bob"))
	}
	if code, _ := f.post("/wecom/callback/team/contacts", f.crypto, userEvent("alice", 1700000000)); code != http.StatusOK {
		t.Fatalf("a retry: %d, want 200", code)
	}
	if again := f.refreshOf("alice"); again != first {
		t.Fatalf("a retry was handled again: refresh %q, then %q", first, again)
	}
}

// Requests that are not WeCom's for a configured connection change nothing, and an unknown
// connection gets the same answer as a wrong signature.
func TestCallbackRefusals(t *testing.T) {
	f := newCallbackFixture(t, member("alice", "alice"))
	otherCorp, _ := wecom.NewCallbackCrypto(vectorToken, vectorKey, "wwanothercorp")
	otherToken, _ := wecom.NewCallbackCrypto("guessed", vectorKey, vectorCorp)
	ev := userEvent("alice", 1700000001)

	codeSig, bodySig := f.post("/wecom/callback/team/contacts", otherToken, ev)
	if codeSig != http.StatusForbidden {
		t.Errorf("wrong signature: %d, want 403", codeSig)
	}
	if code, _ := f.post("/wecom/callback/team/contacts", otherCorp, ev); code != http.StatusForbidden {
		t.Errorf("another corp's payload: %d, want 403", code)
	}
	for _, path := range []string{"/wecom/callback/team/nobody", "/wecom/callback/elsewhere/contacts", "/wecom/callback/team"} {
		if code, body := f.post(path, f.crypto, ev); code != codeSig || body != bodySig {
			t.Errorf("%s: %d %q, want what a wrong signature gets: %d %q", path, code, body, codeSig, bodySig)
		}
	}
	big := httptest.NewRequest(http.MethodPost, "/wecom/callback/team/contacts?msg_signature=x&timestamp=1&nonce=1",
		strings.NewReader("<xml>"+strings.Repeat("a", maxCallbackBody)+"</xml>"))
	if code, _ := f.do(big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over 64 KiB: %d, want 413", code)
	}
	if code, _ := f.do(httptest.NewRequest(http.MethodPut, "/wecom/callback/team/contacts", nil)); code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d, want 405", code)
	}
	if got := f.refreshOf("alice"); got != "" {
		t.Fatalf("a refused request marked the member: %q", got)
	}
}

// A customer scan is counted once and welcomed once, however often WeCom delivers it.
func TestCallbackCustomerCountedAndWelcomedOnce(t *testing.T) {
	way := &v1.ContactWay{ObjectMeta: metav1.ObjectMeta{Name: "sales", Namespace: "team"},
		Spec: v1.ContactWaySpec{DeletableSpec: v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: "contacts"}}}, State: "sales-qr",
			Welcome: &v1.ContactWayWelcome{Text: &v1.ConclusionText{Content: "Welcome!"}}}}
	f := newCallbackFixture(t, way)
	ev := fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000002</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wmCUSTOMER]]></ExternalUserID><State><![CDATA[sales-qr]]></State><WelcomeCode><![CDATA[CODE1]]></WelcomeCode></xml>`, vectorCorp)
	for range 3 {
		if code, _ := f.post("/wecom/callback/team/contacts", f.crypto, ev); code != http.StatusOK {
			t.Fatalf("add_external_contact: %d, want 200", code)
		}
	}
	// A fresh handler (another replica, or after a restart) meets the same retry.
	f.h = NewCallbacks(f.kube, f.kube, f.h.Connector, nil)
	f.h.SendWelcome = func(context.Context, *controller.Connection, string, *v1.ContactWayWelcome) error {
		t.Fatal("a welcome message sent again by another replica")
		return nil
	}
	if code, _ := f.post("/wecom/callback/team/contacts", f.crypto, ev); code != http.StatusOK {
		t.Fatalf("retry on another replica: %d", code)
	}
	got := &v1.ContactWay{}
	_ = f.kube.Get(context.Background(), client.ObjectKeyFromObject(way), got)
	if got.Status.CustomersAdded != 1 || len(got.Status.RecentCustomers) != 1 || got.Status.RecentCustomers[0].Welcome != v1.WelcomeSent {
		t.Fatalf("status: %d customers, %+v; want 1, welcomed", got.Status.CustomersAdded, got.Status.RecentCustomers)
	}
	if len(f.welcome) != 1 || f.welcome[0] != "CODE1" {
		t.Fatalf("welcome messages sent: %v, want one with CODE1", f.welcome)
	}
}

// update_tag names a tag by id: the WeComTag with that id is marked for a fresh read.
func TestCallbackTagEventMarksTheTag(t *testing.T) {
	tag := &v1.WeComTag{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: "team"},
		Spec:   v1.WeComTagSpec{DeletableSpec: v1.DeletableSpec{ManagedSpec: v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: "contacts"}}}, Name: "On call"},
		Status: v1.WeComTagStatus{TagID: 12}}
	f := newCallbackFixture(t, tag)
	ev := fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[update_tag]]></ChangeType><TagId>12</TagId><AddUserItems><![CDATA[zhangsan,lisi]]></AddUserItems></xml>`, vectorCorp)
	if code, _ := f.post("/wecom/callback/team/contacts", f.crypto, ev); code != http.StatusOK {
		t.Fatalf("update_tag: %d, want 200", code)
	}
	got := &v1.WeComTag{}
	if err := f.kube.Get(context.Background(), client.ObjectKeyFromObject(tag), got); err != nil {
		t.Fatal(err)
	}
	if got.Annotations[v1.AnnotationRefresh] == "" {
		t.Fatalf("the tag was not marked for a fresh read: %v", got.Annotations)
	}
}
