package receiver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/wecom-dev/wecom-operator/internal/controller"
)

// Server is the manager's receiver listener: Alertmanager's webhook and WeCom's callbacks.
type Server struct {
	Addr         string
	Alertmanager http.Handler
	Callbacks    http.Handler
	// GetCertificate, when set, makes the server speak TLS with the certificate it returns
	// at each handshake (a certwatcher's, so renewals apply to new connections).
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica serves.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("receiver")
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	mux := http.NewServeMux()
	if s.Alertmanager != nil {
		mux.Handle(controller.AlertmanagerPathPrefix, s.Alertmanager)
	}
	if s.Callbacks != nil {
		mux.Handle(controller.CallbackPathPrefix, s.Callbacks)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return logf.IntoContext(context.Background(), log) },
	}
	if s.GetCertificate != nil {
		ln = tls.NewListener(ln, &tls.Config{
			GetCertificate: s.GetCertificate,
			MinVersion:     tls.VersionTLS12,
			NextProtos:     []string{"http/1.1"},
		})
	}
	log.Info("serving Alertmanager webhooks and WeCom callbacks", "address", ln.Addr().String(),
		"alertmanager", controller.AlertmanagerPathPrefix+"<namespace>/<name>",
		"callbacks", controller.CallbackPathPrefix+"<namespace>/<name>", "tls", s.GetCertificate != nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-done
	return nil
}

// Setup adds the receiver listener to the manager when o.ReceiverAddr is set, with the
// connector the controllers use (so Secrets are read through the same opt-in check).
func Setup(mgr ctrl.Manager, o controller.Options, connector *controller.Connector) error {
	if o.ReceiverAddr == "" {
		return nil
	}
	recorder := mgr.GetEventRecorder("wecom-operator")
	callbacks := NewCallbacks(mgr.GetClient(), mgr.GetAPIReader(), connector, recorder)
	callbacks.Watches = o.Watches
	srv := &Server{
		Addr:         o.ReceiverAddr,
		Alertmanager: &Alertmanager{Client: mgr.GetClient(), Connector: connector, Recorder: recorder, Watches: o.Watches},
		Callbacks:    callbacks,
	}
	if o.WebhookCertPath != "" {
		// The watcher runs on every replica (it needs no leader), as the server does.
		cw, err := certwatcher.New(filepath.Join(o.WebhookCertPath, o.WebhookCertName), filepath.Join(o.WebhookCertPath, o.WebhookCertKey))
		if err != nil {
			return fmt.Errorf("receiver certificate: %w", err)
		}
		if err := mgr.Add(cw); err != nil {
			return err
		}
		srv.GetCertificate = cw.GetCertificate
	}
	return mgr.Add(srv)
}
