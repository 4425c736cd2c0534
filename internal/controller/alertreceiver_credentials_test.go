package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// The Alertmanager credentials of a card's Silence button go only to the URL the Secret's
// writer named in wecom.dev/alertmanager-url: a receiver naming another URL, or a Secret
// that names none, is refused before the Secret's data is read.
func TestAlertmanagerCredentialsGoOnlyWhereTheSecretSays(t *testing.T) {
	const amURL = "http://alertmanager.monitoring.svc:9093"
	annotated := func(url string) map[string]string {
		if url == "" {
			return nil
		}
		return map[string]string{v1.AnnotationAlertmanagerURL: url}
	}
	for _, tc := range []struct {
		name, secretURL, receiverURL string
		labels                       map[string]string
		absent                       bool
		reason                       string
	}{
		{name: "the URL the Secret names", secretURL: amURL, receiverURL: amURL, labels: optedIn},
		{name: "the same URL with a trailing slash", secretURL: amURL + "/", receiverURL: amURL, labels: optedIn},
		{name: "another URL", secretURL: amURL, receiverURL: "https://collector.attacker.example", labels: optedIn, reason: v1.ReasonCredentialsNotForURL},
		{name: "the same host on another port", secretURL: amURL, receiverURL: "http://alertmanager.monitoring.svc:9094", labels: optedIn, reason: v1.ReasonCredentialsNotForURL},
		{name: "a Secret that names no URL", receiverURL: amURL, labels: optedIn, reason: v1.ReasonCredentialsNotForURL},
		{name: "a Secret not opted in", secretURL: amURL, receiverURL: amURL, reason: v1.ReasonSecretNotOptedIn},
		{name: "no such Secret", receiverURL: amURL, absent: true, reason: v1.ReasonSecretNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := secret("am", tc.labels)
			s.Annotations = annotated(tc.secretURL)
			s.Data = map[string][]byte{"token": []byte("am-bearer-token")}
			b := fake.NewClientBuilder().WithScheme(testScheme(t))
			if !tc.absent {
				b = b.WithObjects(s)
			}
			kube := b.Build()
			reader := &countingReader{Reader: kube}
			c := &Connector{Client: kube, APIReader: reader}
			rcv := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: "team"},
				Spec: v1.AlertReceiverSpec{Alertmanager: &v1.AlertmanagerAPI{URL: tc.receiverURL,
					AuthSecretRef: &v1.AlertReceiverAuth{Name: "am", BearerTokenKey: "token"}}}}

			auth, err := AlertmanagerCredentials(context.Background(), c, rcv)
			if tc.reason == "" {
				if err != nil || auth.BearerToken != "am-bearer-token" {
					t.Fatalf("AlertmanagerCredentials = %+v, %v", auth, err)
				}
				return
			}
			wantReason(t, err, tc.reason)
			if auth != (AlertmanagerAuth{}) {
				t.Errorf("refused, yet returned credentials %+v", auth)
			}
			if n := reader.secretReads.Load(); n != 0 {
				t.Errorf("the Secret's data was read %d times before the refusal", n)
			}
		})
	}
}
