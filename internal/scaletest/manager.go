package scaletest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

// Manager runs the manager binary as a process that can be killed and started again.
type Manager struct {
	Bin        string
	Kubeconfig string
	// Args are added to the connection and address flags Start sets.
	Args []string
	// Log receives the manager's stdout and stderr.
	Log io.Writer
	// Env is added to the manager's environment.
	Env []string
	// Receiver starts the receiver (Alertmanager webhooks and WeCom callbacks,
	// --receiver-bind-address) on a free loopback port, which ReceiverAddr returns; without
	// it the receiver is off.
	Receiver bool

	cmd          *exec.Cmd
	done         chan struct{}
	probeAddr    string
	metricsAddr  string
	receiverAddr string
}

// Start starts the manager on free loopback ports (no leader election; the receiver only
// with Receiver) and waits until it answers /readyz.
func (m *Manager) Start(ctx context.Context) error {
	probe, err := freeAddr()
	if err != nil {
		return err
	}
	metrics, err := freeAddr()
	if err != nil {
		return err
	}
	m.probeAddr, m.metricsAddr, m.receiverAddr = probe, metrics, ""
	if m.Receiver {
		if m.receiverAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	args := append([]string{"--kubeconfig", m.Kubeconfig,
		"--health-probe-bind-address=" + probe, "--metrics-bind-address=" + metrics,
		"--metrics-secure=false", // the bench reads the metrics over plain HTTP
		receiverFlag(m.Bin) + "=" + m.receiverAddr}, m.Args...)
	cmd := exec.Command(m.Bin, args...)
	cmd.Stdout, cmd.Stderr = m.Log, m.Log
	cmd.Env = append(os.Environ(), m.Env...)
	if err := cmd.Start(); err != nil {
		return err
	}
	m.cmd, m.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(m.done)

	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get("http://" + probe + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-m.done:
			return fmt.Errorf("the manager exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the manager did not answer /readyz within a minute")
		}
	}
}

// ReceiverAddr is the host:port the running manager's receiver listens on ("" when
// Receiver is off): WeCom callbacks go to http://<ReceiverAddr>/wecom/callback/<ns>/<name>.
func (m *Manager) ReceiverAddr() string { return m.receiverAddr }

// receiverFlag is the flag that sets the receiver's address: --receiver-bind-address, or
// --alertmanager-bind-address for a manager built before the receiver served WeCom callbacks
// (the release test/e2e/upgrade starts first), which would exit on a flag it does not know.
func receiverFlag(bin string) string {
	help, _ := exec.Command(bin, "-help").CombinedOutput() // exits 0 (or 2) after the usage
	if !strings.Contains(string(help), "-receiver-bind-address") && strings.Contains(string(help), "-alertmanager-bind-address") {
		return "--alertmanager-bind-address"
	}
	return "--receiver-bind-address"
}

// Pid is the running manager's process id.
func (m *Manager) Pid() int { return m.cmd.Process.Pid }

// Kill ends the manager with SIGKILL, as an OOM kill or a node failure would.
func (m *Manager) Kill() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.done
	m.cmd = nil
}

// Stop ends the manager with SIGTERM, killing it after 30 s.
func (m *Manager) Stop() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	m.cmd = nil
}

// Metrics returns the manager's Prometheus metrics text.
func (m *Manager) Metrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+m.metricsAddr+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Usage is what a process has used so far.
type Usage struct {
	// PeakRSSBytes is the resident set's high-water mark (VmHWM).
	PeakRSSBytes int64 `json:"peakRSSBytes"`
	// CPUSeconds is user plus system CPU time.
	CPUSeconds float64 `json:"cpuSeconds"`
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// Usage reads the running manager's peak memory and CPU time from /proc.
func (m *Manager) Usage() (Usage, error) {
	if m.cmd == nil {
		return Usage{}, fmt.Errorf("the manager is not running")
	}
	return ProcessUsage(m.Pid())
}

// ProcessUsage reads VmHWM from /proc/<pid>/status and utime+stime from /proc/<pid>/stat.
func ProcessUsage(pid int) (Usage, error) {
	var u Usage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v) // "123456 kB"
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				u.PeakRSSBytes = kb * 1024
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name (field 2) may hold spaces; count fields after its closing paren.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return u, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	u.CPUSeconds = float64(utime+stime) / clockTicks
	return u, nil
}

// freeAddr is a loopback address on a free port below the ephemeral range (testenv.FreePort).
func freeAddr() (string, error) {
	p, err := testenv.FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", p), nil
}
