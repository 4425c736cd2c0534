package main

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsAndFaults(t *testing.T) {
	cfg, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-error-rate", "0.2", "-latency", "10ms", "-fault-endpoints", "message/send, oa/*"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	req := faultRequest(cfg)
	if len(req.Rules) != 1 || req.Rules[0].ErrorRate != 0.2 || req.Rules[0].LatencyMS != 10 ||
		strings.Join(req.Rules[0].Endpoints, ",") != "message/send,oa/*" || *req.Down {
		t.Fatalf("fault request %+v", req)
	}
	cfg, _ = parseFlags(nil, io.Discard)
	if req := faultRequest(cfg); req.Rules != nil || cfg.addr != "127.0.0.1:8989" || cfg.tokenTTL != 7200*time.Second {
		t.Fatalf("defaults: %+v %+v", cfg, req)
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Fatal("stray argument accepted")
	}
}

func TestFaultRuleFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-lost-reply-rate", "0.02",
		"-fault-rule", `{"endpoints":["user/create","oa/schedule/add"],"lost_reply_rate":0.5}`,
		"-fault-rule", `{"endpoints":["appchat/*"],"latency_ms":20}`}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rules := faultRequest(cfg).Rules
	if len(rules) != 3 || rules[0].LostReplyRate != 0.02 || len(rules[0].Endpoints) != 0 ||
		rules[1].LostReplyRate != 0.5 || strings.Join(rules[1].Endpoints, ",") != "user/create,oa/schedule/add" ||
		rules[2].ToFaults().Latency != 20*time.Millisecond {
		t.Fatalf("rules %+v", rules)
	}
	if _, err := parseFlags([]string{"-fault-rule", `{"lost_reply":0.5}`}, io.Discard); err == nil {
		t.Fatal("a misspelt rule field was accepted")
	}
}

func TestCallbackFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-callback-retry-interval", "200ms", "-callback-timeout", "1s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.callbackRetry != 200*time.Millisecond || cfg.callbackTimeout != time.Second {
		t.Fatalf("parsed %v %v", cfg.callbackRetry, cfg.callbackTimeout)
	}
	seed, _, _ := loadSeed("demo")
	opts, err := simOptions(cfg, &seed, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	if opts.CallbackRetryInterval != 200*time.Millisecond || opts.CallbackTimeout != time.Second {
		t.Fatalf("options %v %v", opts.CallbackRetryInterval, opts.CallbackTimeout)
	}

	// WeCom's 5 s timeout is the default, and so is a 5 s retry spacing.
	cfg, err = parseFlags(nil, io.Discard)
	if err != nil || cfg.callbackRetry != 5*time.Second || cfg.callbackTimeout != 5*time.Second {
		t.Fatalf("defaults: %v %v %v", cfg.callbackRetry, cfg.callbackTimeout, err)
	}
	for _, bad := range [][]string{{"-callback-timeout", "0s"}, {"-callback-retry-interval", "-1s"}, {"-callback-timeout", "soon"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestLoadSeed(t *testing.T) {
	if seed, creds, err := loadSeed("demo"); err != nil || creds == nil || seed.Corp.ID == "" {
		t.Fatalf("demo: %v %v", creds, err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(good, []byte(`{"corp":{"corp_id":"wwfile","name":"F"},"apps":[{"name":"a","secret":"s","agent_id":7}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if seed, creds, err := loadSeed(good); err != nil || creds != nil || seed.Apps[0].AgentID != 7 {
		t.Fatalf("file: %+v %v", seed, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"corp":{"corp_id":"x"},"aps":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadSeed(bad); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestSelfSignedCert(t *testing.T) {
	_, pemBytes, err := selfSignedCert()
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.VerifyHostname("127.0.0.1") != nil {
		t.Fatalf("cert: %v", err)
	}
}
