package scaletest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// Sim is a running cmd/wecom-sim process, driven through its /sim/ admin API.
type Sim struct {
	URL  string
	cmd  *exec.Cmd
	http *http.Client
}

// StartSim runs the simulator binary on a free loopback port with args added (fault flags,
// -latency, -activate-users, ...), its stderr going to logTo, and returns once it has
// printed its URL.
func StartSim(bin string, logTo io.Writer, args ...string) (*Sim, error) {
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-log-calls=false"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logTo
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Sim{cmd: cmd, http: &http.Client{Timeout: 2 * time.Minute}}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if url, ok := strings.CutPrefix(sc.Text(), "WECOM_SIM_URL="); ok {
			s.URL = url
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return s, nil
		}
	}
	s.Stop()
	return nil, errors.New("the simulator exited without printing WECOM_SIM_URL")
}

// Stop ends the simulator.
func (s *Sim) Stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// Calls returns the call log entries after seq (0: all).
func (s *Sim) Calls(ctx context.Context, since int64) ([]wecomsim.Call, error) {
	var out struct {
		Calls []wecomsim.Call `json:"calls"`
	}
	err := s.do(ctx, http.MethodGet, fmt.Sprintf("/sim/calls?since=%d", since), nil, &out)
	return out.Calls, err
}

// LastSeq is the sequence number of the newest logged call (0 when none).
func (s *Sim) LastSeq(ctx context.Context) (int64, error) {
	calls, err := s.Calls(ctx, 0)
	if err != nil || len(calls) == 0 {
		return 0, err
	}
	return calls[len(calls)-1].Seq, nil
}

// Faults applies a POST /sim/faults request.
func (s *Sim) Faults(ctx context.Context, req wecomsim.FaultRequest) error {
	return s.do(ctx, http.MethodPost, "/sim/faults", req, nil)
}

// SetDown switches the whole WeCom API off (every request dropped) or back on.
func (s *Sim) SetDown(ctx context.Context, down bool) error {
	return s.Faults(ctx, wecomsim.FaultRequest{Down: &down})
}

// Seed applies a POST /sim/seed request.
func (s *Sim) Seed(ctx context.Context, req wecomsim.SeedRequest) error {
	return s.do(ctx, http.MethodPost, "/sim/seed", req, nil)
}

// Messages returns every message the simulator received and every member copy a quota dropped.
func (s *Sim) Messages(ctx context.Context) ([]wecomsim.Message, []wecomsim.Drop, error) {
	var out struct {
		Messages []wecomsim.Message `json:"messages"`
		Drops    []wecomsim.Drop    `json:"drops"`
	}
	err := s.do(ctx, http.MethodGet, "/sim/messages", nil, &out)
	return out.Messages, out.Drops, err
}

// ClearMessages forgets recorded messages, drops and quota windows.
func (s *Sim) ClearMessages(ctx context.Context) error {
	return s.do(ctx, http.MethodDelete, "/sim/messages", nil, nil)
}

// State returns what WeCom holds.
func (s *Sim) State(ctx context.Context) (wecomsim.Snapshot, error) {
	var snap wecomsim.Snapshot
	err := s.do(ctx, http.MethodGet, "/sim/state", nil, &snap)
	return snap, err
}

// SetCallback saves an app's callback (POST /sim/callbacks; agentID 0 is the contacts-sync
// app). The simulator first runs WeCom's URL verification against url, so the receiver must
// already answer it; an empty url removes the callback.
func (s *Sim) SetCallback(ctx context.Context, agentID int64, url, token, encodingAESKey string) error {
	return s.do(ctx, http.MethodPost, "/sim/callbacks", wecomsim.CallbackRequest{
		AgentID: agentID, URL: url, Token: token, EncodingAESKey: encodingAESKey,
	}, nil)
}

// Edit makes a hand edit in the admin console (POST /sim/edit), which the simulator pushes to
// the contacts-sync callback.
func (s *Sim) Edit(ctx context.Context, e wecomsim.Edit) (wecomsim.EditResult, error) {
	var out wecomsim.EditResult
	err := s.do(ctx, http.MethodPost, "/sim/edit", e, &out)
	return out, err
}

// Scan makes a new customer add a contact way's member (POST /sim/scan), which the simulator
// pushes as add_external_contact with a welcome code.
func (s *Sim) Scan(ctx context.Context, req wecomsim.ScanRequest) (wecomsim.ScanResult, error) {
	var out wecomsim.ScanResult
	err := s.do(ctx, http.MethodPost, "/sim/scan", req, &out)
	return out, err
}

// ClickCard makes a member click a button of an interactive template card (POST
// /sim/card/click), which the simulator pushes to the sending app's callback as
// template_card_event with a fresh response code.
func (s *Sim) ClickCard(ctx context.Context, click wecomsim.CardClick) (wecomsim.CardClickResult, error) {
	var out wecomsim.CardClickResult
	err := s.do(ctx, http.MethodPost, "/sim/card/click", click, &out)
	return out, err
}

// Cards returns the interactive cards sent, with each recipient's copy (GET /sim/cards).
func (s *Sim) Cards(ctx context.Context) ([]wecomsim.CardState, error) {
	var out struct {
		Cards []wecomsim.CardState `json:"cards"`
	}
	err := s.do(ctx, http.MethodGet, "/sim/cards", nil, &out)
	return out.Cards, err
}

// Deliveries returns the callback delivery log (GET /sim/callbacks).
func (s *Sim) Deliveries(ctx context.Context) ([]wecomsim.CallbackDelivery, error) {
	var out wecomsim.CallbackStatus
	err := s.do(ctx, http.MethodGet, "/sim/callbacks", nil, &out)
	return out.Deliveries, err
}

// ClearDeliveries empties the callback delivery log (DELETE /sim/callbacks).
func (s *Sim) ClearDeliveries(ctx context.Context) error {
	return s.do(ctx, http.MethodDelete, "/sim/callbacks", nil, nil)
}

func (s *Sim) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// IsWrite says whether a WeCom endpoint ("user/create", "/cgi-bin/oa/schedule/add") changes
// something in WeCom.
func IsWrite(endpoint string) bool {
	name := endpoint[strings.LastIndex(endpoint, "/")+1:]
	for _, verb := range []string{"create", "update", "delete", "batchdelete", "add", "del", "edit", "set", "send", "recall"} {
		if strings.HasPrefix(name, verb) {
			return true
		}
	}
	return false
}

// Endpoint is a call log path without /cgi-bin/.
func Endpoint(c wecomsim.Call) string { return strings.TrimPrefix(c.Endpoint, "/cgi-bin/") }

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
