package wecomsim

import (
	"net/http/httptest"
)

// TB is the part of testing.TB that NewServer needs (kept as an interface
// so this package does not import "testing").
type TB interface {
	Helper()
	Cleanup(func())
}

// Server is a simulator listening on a loopback httptest server.
type Server struct {
	*Sim
	// URL is the base URL, e.g. "http://127.0.0.1:41234"; API paths are
	// URL+"/cgi-bin/…", admin paths URL+"/sim/…".
	URL string
	srv *httptest.Server
}

// NewServer starts a simulator on a loopback port and closes it when the
// test ends:
//
//	srv := wecomsim.NewServer(t, wecomsim.Options{})
//	resp, _ := http.Get(srv.URL + "/cgi-bin/gettoken?corpid=" + wecomsim.DemoCorpID + "&corpsecret=" + wecomsim.DemoAppSecret)
func NewServer(t TB, opts Options) *Server {
	t.Helper()
	srv := Start(opts)
	t.Cleanup(srv.Close)
	return srv
}

// Start starts a simulator on a loopback port; call Close when done.
func Start(opts Options) *Server {
	sim := New(opts)
	ts := httptest.NewServer(sim)
	return &Server{Sim: sim, URL: ts.URL, srv: ts}
}

// Close stops callback deliveries (waiting for their goroutines, see
// Sim.Close) and shuts the server down, dropping open connections.
func (s *Server) Close() {
	s.Sim.Close()
	s.srv.CloseClientConnections()
	s.srv.Close()
}
