// Package sdk runs public WeCom SDKs, unchanged, against the simulator binary (cmd/wecom-sim)
// over HTTP: silenceper/wechat in this process, and the npm SDKs in test/sdk/node through node.
// It is its own Go module so that the operator's go.mod never gains an SDK dependency.
package sdk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Demo corp credentials that cmd/wecom-sim prints for its demo seed (wecomsim.DemoSeed).
const (
	corpID         = "ww0000000000demo"
	appSecret      = "DemoOperatorAppSecret000000000000000000000b" // "operator": root visible, customer contact
	agentID        = 1000002
	limitedAgentID = 1000003
)

// simNow is the simulator's frozen clock: ids, create_time and takeover_time follow from it.
var simNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// wecomHost is the host every SDK here hard-codes; rewriteTransport sends it to the simulator.
const wecomHost = "qyapi.weixin.qq.com"

var simBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wecom-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	simBinary = filepath.Join(dir, "wecom-sim")
	build := exec.Command("go", "build", "-o", simBinary, "./cmd/wecom-sim")
	build.Dir = filepath.Join("..", "..") // the operator's module
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	code := 1
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cmd/wecom-sim:", err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// sim is one cmd/wecom-sim process with the demo corp and a frozen clock.
type sim struct {
	URL string
	log *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSim starts the simulator on a free port and stops it when the test ends; on failure
// the test log gets the simulator's call log.
func startSim(t *testing.T) *sim {
	t.Helper()
	// The tests move the simulator clock a day on (a customer handover takes 24 h) while the
	// SDKs' token caches keep real time: a token that outlives the jump keeps them in step.
	cmd := exec.Command(simBinary, "-addr", "127.0.0.1:0", "-seed", "demo",
		"-now", simNow.Format(time.RFC3339), "-token-ttl", "72h")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{log: &lockedBuffer{}}
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("simulator call log:\n%s", s.log.String())
		}
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "WECOM_SIM_URL="); ok {
			s.URL = v
			break
		}
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	if s.URL == "" {
		t.Fatalf("cmd/wecom-sim printed no WECOM_SIM_URL line; stderr:\n%s", s.log.String())
	}
	return s
}

// admin calls the simulator's admin API (/sim/…) and decodes the JSON reply into out.
func (s *sim) admin(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

// seedCustomers gives lisi two customers and a customer group chat, as the admin console
// would show them (customers are added by people scanning a QR code, not by an API).
func (s *sim) seedCustomers(t *testing.T) {
	t.Helper()
	s.admin(t, http.MethodPost, "/sim/seed", map[string]any{
		"external_contacts": []map[string]any{
			{"external_userid": "wmCustomerA", "userid": "lisi"},
			{"external_userid": "wmCustomerB", "userid": "lisi"},
		},
		"customer_group_chats": []map[string]any{
			{"chat_id": "wrVipChat", "name": "VIP customers", "owner": "lisi"},
		},
	}, nil)
}

// advance moves the simulator clock on.
func (s *sim) advance(t *testing.T, d time.Duration) {
	t.Helper()
	s.admin(t, http.MethodPost, "/sim/clock", map[string]any{"advance_seconds": int64(d / time.Second)}, nil)
}

// snapshot is the part of GET /sim/state these tests read.
type snapshot struct {
	CorpTagGroups []struct {
		Order uint32 `json:"order"`
	} `json:"corp_tag_groups"`
	WelcomeTemplates []struct {
		Notify bool   `json:"notify"`
		Owner  string `json:"owner_app"`
	} `json:"group_welcome_templates"`
	CustomerTransfers []struct {
		SuccessMsg string `json:"transfer_success_msg"`
	} `json:"customer_transfers"`
}

func (s *sim) state(t *testing.T) snapshot {
	t.Helper()
	var st snapshot
	s.admin(t, http.MethodGet, "/sim/state", nil, &st)
	return st
}

// rewriteTransport sends requests for qyapi.weixin.qq.com to the simulator (plain HTTP) and
// refuses every other host, so a test can never reach the real WeCom.
type rewriteTransport struct{ target *url.URL }

func (rt rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() != wecomHost {
		return nil, errors.New("sdk test: refusing a request to " + req.URL.Host)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.target.Scheme, rt.target.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

func (s *sim) httpClient(t *testing.T) *http.Client {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: rewriteTransport{target: u}, Timeout: 30 * time.Second}
}
