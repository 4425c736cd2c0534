// Command wecom-sim runs the in-memory WeCom server simulator
// (internal/wecom/wecomsim) as a standalone process for local testing and
// demos. It serves the simulated API under /cgi-bin/ and the admin API
// under /sim/, and prints its URL and the (fake) seeded credentials.
//
//	go run ./cmd/wecom-sim                          # demo corp on 127.0.0.1:8989
//	go run ./cmd/wecom-sim -addr 127.0.0.1:0 -error-rate 0.1 -fault-endpoints message/send
//	go run ./cmd/wecom-sim -fault-rule '{"endpoints":["user/create"],"lost_reply_rate":0.5}'
//	go run ./cmd/wecom-sim -seed ./my-seed.json -now 2026-03-02T10:00:00Z
//	go run ./cmd/wecom-sim -tls -tls-cert-out /tmp/wecom-sim.pem
//	go run ./cmd/wecom-sim -callback-retry-interval 200ms   # quick callback retries for tests
//
// Callbacks are configured at run time through POST /sim/callbacks, which
// runs WeCom's URL verification against the receiver (there is no flag to
// preset one without it).
//
// Printing secrets is intended: they are the simulator's own fake values.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

type config struct {
	addr, seed, now, certOut, faultEndpoints string
	randSeed                                 uint64
	tokenTTL, latency, freqWindow            time.Duration
	callbackRetry, callbackTimeout           time.Duration
	errorRate, http5xxRate, dropRate         float64
	lostReplyRate, freqLimitRate             float64
	activate, plain, down, useTLS, logCalls  bool
	// rules are the -fault-rule flags, added after the rule the other fault flags make.
	rules []wecomsim.FaultRule
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("wecom-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8989", "listen address (use 127.0.0.1:0 for a free port)")
	fs.StringVar(&c.seed, "seed", "demo", `"demo" or the path of a JSON seed file (wecomsim.Seed)`)
	fs.StringVar(&c.now, "now", "", "freeze the simulator clock at this RFC 3339 time (default: real time)")
	fs.Uint64Var(&c.randSeed, "rand-seed", 1, "seed for ids, tokens and fault decisions")
	fs.DurationVar(&c.tokenTTL, "token-ttl", 7200*time.Second, "access_token lifetime (expires_in)")
	fs.BoolVar(&c.activate, "activate-users", false, "make API-created members active at once (else status 4: add_contact_way → 41054)")
	fs.BoolVar(&c.plain, "plain-errmsg", false, `omit the ", hint: …, more info at …" errmsg suffix`)
	fs.BoolVar(&c.logCalls, "log-calls", true, "log every API call to stderr")
	fs.StringVar(&c.faultEndpoints, "fault-endpoints", "", `comma-separated endpoints the faults apply to, e.g. "message/send,oa/*" (default all)`)
	fs.DurationVar(&c.latency, "latency", 0, "added latency per request")
	fs.Float64Var(&c.errorRate, "error-rate", 0, `share of requests answered {"errcode":-1}`)
	fs.Float64Var(&c.http5xxRate, "http5xx-rate", 0, "share of requests answered with HTTP 5xx")
	fs.Float64Var(&c.dropRate, "drop-rate", 0, "share of requests whose connection is dropped")
	fs.Float64Var(&c.lostReplyRate, "lost-reply-rate", 0, "share of write requests applied but whose reply is lost")
	fs.Float64Var(&c.freqLimitRate, "freq-limit-rate", 0, "share of requests that open a 45009 window on their endpoint")
	fs.DurationVar(&c.freqWindow, "freq-limit-window", 60*time.Second, "length of a 45009 window")
	fs.Func("fault-rule", `a further fault rule in the JSON form of POST /sim/faults, e.g. '{"endpoints":["user/create"],"lost_reply_rate":0.5}'; repeatable`, func(v string) error {
		var r wecomsim.FaultRule
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return err
		}
		c.rules = append(c.rules, r)
		return nil
	})
	fs.DurationVar(&c.callbackRetry, "callback-retry-interval", 5*time.Second, "wait between a failed callback delivery attempt and the next (1 + 3 attempts)")
	fs.DurationVar(&c.callbackTimeout, "callback-timeout", 5*time.Second, "how long a callback receiver has to answer HTTP 200 (WeCom: 5s)")
	fs.BoolVar(&c.down, "down", false, "start with the API down (every request dropped; POST /sim/faults {\"down\":false} to recover)")
	fs.BoolVar(&c.useTLS, "tls", false, "serve HTTPS with a fresh self-signed certificate (HTTP/1.1 only)")
	fs.StringVar(&c.certOut, "tls-cert-out", "", "with -tls, write the certificate PEM here so clients can trust it")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.callbackRetry <= 0 || c.callbackTimeout <= 0 {
		return c, errors.New("-callback-retry-interval and -callback-timeout must be positive")
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		log.Fatal(err)
	}
	if err := run(cfg, os.Stdout, os.Stderr); err != nil {
		log.Fatal(err)
	}
}

func run(cfg config, stdout, stderr io.Writer) error {
	logger := log.New(stderr, "wecom-sim ", log.LstdFlags)
	seed, demo, err := loadSeed(cfg.seed)
	if err != nil {
		return err
	}
	opts, err := simOptions(cfg, &seed, logger)
	if err != nil {
		return err
	}
	sim := wecomsim.New(opts)
	defer sim.Close() // stops callback deliveries after the server has shut down
	sim.ApplyFaultRequest(faultRequest(cfg))

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if cfg.useTLS {
		cert, pemBytes, err := selfSignedCert()
		if err != nil {
			return err
		}
		if cfg.certOut != "" {
			if err := os.WriteFile(cfg.certOut, pemBytes, 0o644); err != nil {
				return err
			}
		}
		// HTTP/2 is disabled so the drop faults behave like HTTP/1.1
		// connection closes rather than stream resets.
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	base := scheme + "://" + ln.Addr().String()
	printBanner(stdout, base, seed, demo, cfg)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// simOptions turns the flags into simulator options.
func simOptions(cfg config, seed *wecomsim.Seed, logger *log.Logger) (wecomsim.Options, error) {
	opts := wecomsim.Options{
		Seed: seed, RandSeed: cfg.randSeed, TokenTTL: cfg.tokenTTL,
		ActivateCreatedUsers: cfg.activate, PlainErrmsg: cfg.plain, Logf: logger.Printf,
		CallbackRetryInterval: cfg.callbackRetry, CallbackTimeout: cfg.callbackTimeout,
	}
	if cfg.now != "" {
		t, err := time.Parse(time.RFC3339, cfg.now)
		if err != nil {
			return opts, fmt.Errorf("-now: %w", err)
		}
		opts.Now = t
	}
	if cfg.logCalls {
		opts.OnCall = func(c wecomsim.Call) { logger.Print(describeCall(c)) }
	}
	return opts, nil
}

// loadSeed returns the demo seed or one read from a JSON file.
func loadSeed(spec string) (wecomsim.Seed, *wecomsim.Credentials, error) {
	if spec == "demo" || spec == "" {
		seed, creds := wecomsim.DemoSeed()
		return seed, &creds, nil
	}
	raw, err := os.ReadFile(spec)
	if err != nil {
		return wecomsim.Seed{}, nil, err
	}
	var seed wecomsim.Seed
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return wecomsim.Seed{}, nil, fmt.Errorf("%s: %w", spec, err)
	}
	if seed.Corp.ID == "" {
		return wecomsim.Seed{}, nil, fmt.Errorf("%s: corp.corp_id is required", spec)
	}
	return seed, nil, nil
}

func faultRequest(cfg config) wecomsim.FaultRequest {
	req := wecomsim.FaultRequest{Down: &cfg.down}
	f := wecomsim.Faults{
		Latency: cfg.latency, ErrorRate: cfg.errorRate, HTTP5xxRate: cfg.http5xxRate, DropRate: cfg.dropRate,
		LostReplyRate: cfg.lostReplyRate, FreqLimitRate: cfg.freqLimitRate, FreqLimitWindow: cfg.freqWindow,
	}
	if cfg.faultEndpoints != "" {
		for _, e := range strings.Split(cfg.faultEndpoints, ",") {
			if e = strings.TrimSpace(e); e != "" {
				f.Endpoints = append(f.Endpoints, e)
			}
		}
	}
	if f.Latency > 0 || f.ErrorRate > 0 || f.HTTP5xxRate > 0 || f.DropRate > 0 || f.LostReplyRate > 0 || f.FreqLimitRate > 0 {
		req.Rules = []wecomsim.FaultRule{wecomsim.RuleOf(f)}
	}
	req.Rules = append(req.Rules, cfg.rules...)
	return req
}

func printBanner(w io.Writer, base string, seed wecomsim.Seed, demo *wecomsim.Credentials, cfg config) {
	fmt.Fprintf(w, "wecom-sim listening on %s  (API %s/cgi-bin/…, admin %s/sim/…)\n", base, base, base)
	fmt.Fprintf(w, "corp id: %s (%s)\n", seed.Corp.ID, seed.Corp.Name)
	for _, a := range seed.Apps {
		role := fmt.Sprintf("agentid %d", a.AgentID)
		if a.AgentID == 0 {
			role = "contacts sync"
		}
		fmt.Fprintf(w, "app %-14s secret %s  (%s)\n", a.Name, a.Secret, role)
	}
	for _, r := range seed.Robots {
		fmt.Fprintf(w, "robot %-12s %s/cgi-bin/webhook/send?key=%s  (chat %q)\n", r.Name, base, r.Key, r.ChatName)
	}
	if cfg.useTLS && cfg.certOut != "" {
		fmt.Fprintf(w, "tls certificate: %s\n", cfg.certOut)
	}
	// Machine-readable lines for scripts (eval "$(… | grep ^WECOM_SIM_)").
	fmt.Fprintf(w, "WECOM_SIM_URL=%s\n", base)
	fmt.Fprintf(w, "WECOM_SIM_CORP_ID=%s\n", seed.Corp.ID)
	if demo != nil {
		fmt.Fprintf(w, "WECOM_SIM_CONTACTS_SECRET=%s\n", demo.ContactsSecret)
		fmt.Fprintf(w, "WECOM_SIM_APP_SECRET=%s\n", demo.AppSecret)
		fmt.Fprintf(w, "WECOM_SIM_AGENT_ID=%d\n", demo.AgentID)
		fmt.Fprintf(w, "WECOM_SIM_LIMITED_APP_SECRET=%s\n", demo.LimitedAppSecret)
		fmt.Fprintf(w, "WECOM_SIM_ROBOT_KEY=%s\n", demo.RobotKey)
	}
}

func describeCall(c wecomsim.Call) string {
	s := fmt.Sprintf("%s %s → HTTP %d errcode %d", c.Method, c.Endpoint, c.HTTPStatus, c.ErrCode)
	if c.App != "" {
		s += " app=" + c.App
	}
	if c.Fault != "" {
		s += " fault=" + c.Fault
	}
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// selfSignedCert makes a short-lived certificate for 127.0.0.1, ::1 and
// localhost.
func selfSignedCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "wecom-sim"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemBytes, nil
}
