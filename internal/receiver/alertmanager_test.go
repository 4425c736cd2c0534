package receiver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
)

// A receiver that does not exist is answered exactly as one that exists with wrong
// credentials, so the answers do not tell a caller which receivers exist.
func TestUnknownReceiverLooksLikeWrongCredentials(t *testing.T) {
	rcv := &v1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Name: "oncall", Namespace: "team"},
		Spec: v1.AlertReceiverSpec{AuthSecretRef: v1.AlertReceiverAuth{Name: "s", BearerTokenKey: "secret"}}}
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(rcv, secret("s", optedIn)).Build()
	srv := &Alertmanager{Client: c, Connector: &controller.Connector{Client: c, APIReader: c}}

	answer := func(path, token string) (int, http.Header, string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code, rec.Header(), rec.Body.String()
	}
	wrongCode, wrongHeader, wrongBody := answer("/alertmanager/team/oncall", "guess")
	if wrongCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d %s, want 401", wrongCode, wrongBody)
	}
	for _, path := range []string{"/alertmanager/team/nobody", "/alertmanager/elsewhere/oncall"} {
		for _, token := range []string{"guess", "app-secret-value", ""} {
			code, header, body := answer(path, token)
			if code != wrongCode || body != wrongBody || header.Get("WWW-Authenticate") != wrongHeader.Get("WWW-Authenticate") {
				t.Errorf("%s with token %q: %d %q %v, want what a wrong token gets: %d %q %v",
					path, token, code, body, header, wrongCode, wrongBody, wrongHeader)
			}
		}
	}
	if code, _, body := answer("/alertmanager/team/oncall", "app-secret-value"); code == http.StatusUnauthorized {
		t.Fatalf("the right token is refused: %s", body)
	}
}

// The receiver serves the certificate in its files and, once they are replaced, the new one
// to new connections, without a restart.
func TestAlertReceiverReloadsItsCertificate(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeCert(t, certPath, keyPath, 1)

	cw, err := certwatcher.New(certPath, keyPath)
	g.Expect(err).NotTo(HaveOccurred())
	cw = cw.WithWatchInterval(200 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = cw.Start(ctx) }()

	addr := freeAddr(t)
	srv := &Server{Addr: addr, Alertmanager: &Alertmanager{}, GetCertificate: cw.GetCertificate}
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the receiver stopped with %v", err)
		}
	})

	serial := func() (int64, error) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reads the served certificate, trusts nothing
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
	}
	g.Eventually(serial, 10*time.Second, 50*time.Millisecond).Should(Equal(int64(1)))

	writeCert(t, certPath, keyPath, 2)
	g.Eventually(serial, 10*time.Second, 50*time.Millisecond).Should(Equal(int64(2)))

	// Plain HTTP gets no answer from a TLS listener.
	resp, err := http.Post("http://"+addr+"/alertmanager/team/oncall", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusBadRequest), "a TLS server answers plain HTTP with 400")
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 with the given serial and its key,
// each file replaced in one rename as a mounted Secret's are.
func writeCert(t *testing.T, certPath, keyPath string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "wecom-operator-alertmanager"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first: until the certificate follows, the pair does not match and the old one
	// stays in use.
	atomicWrite(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	atomicWrite(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func atomicWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func secret(name string, labels map[string]string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team", Labels: labels},
		Data: map[string][]byte{"secret": []byte("app-secret-value")}}
}

var optedIn = map[string]string{v1.SecretUseLabel: v1.SecretUseValue}
