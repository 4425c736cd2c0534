package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// callbackSecret is the Secret holding both connections' callback Token and EncodingAESKey.
const callbackSecret = "wecom-callback"

// callbackPhase restarts the manager with its receiver, spec.callback on both connections and
// --callback-drift-interval, saves the callback URLs in the simulator (which verifies them
// against the manager), then counts WeCom calls per drift-interval-long window over one
// callback drift interval while it makes hand edits in the simulator's admin console and
// times their repair.
func (b *bench) callbackPhase(ctx context.Context, work string) (*CallbacksPhase, *PhaseSeries, *PhaseUsage, error) {
	token, key := randomAlnum(32), randomAlnum(43)
	// The Token and key are never printed: only checked for in the manager's log and results.
	redact := func(err error) error {
		if err == nil {
			return nil
		}
		msg := strings.NewReplacer(token, "<token>", key, "<key>").Replace(err.Error())
		return errors.New(msg)
	}
	if err := b.configureCallbacks(ctx, token, key); err != nil {
		return nil, nil, nil, redact(err)
	}

	logPath := filepath.Join(work, "manager-callbacks.log")
	mlog, err := os.Create(logPath)
	if err != nil {
		return nil, nil, nil, err
	}
	defer mlog.Close()
	mgr := b.manager(b.drift, "--callback-drift-interval="+b.callbackDrift.String())
	mgr.Receiver, mgr.Log = true, mlog
	seq0, err := b.sim.LastSeq(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	logf("restarting the manager with callbacks: --drift-interval=%s --callback-drift-interval=%s, receiver on", b.drift, b.callbackDrift)
	restart := time.Now()
	if err := mgr.Start(ctx); err != nil {
		return nil, nil, nil, err
	}
	defer mgr.Stop()
	defer func() {
		// Leave the simulator without callbacks to a manager that is about to stop.
		_ = b.sim.SetCallback(context.WithoutCancel(ctx), 0, "", "", "")
		_ = b.sim.SetCallback(context.WithoutCancel(ctx), wecomsim.DemoAgentID, "", "", "")
	}()

	if err := b.waitCallbackStatus(ctx, func(st *v1.CallbackStatus) bool { return st != nil && st.Configured }); err != nil {
		return nil, nil, nil, fmt.Errorf("waiting for status.callback.configured: %w", err)
	}
	base := "http://" + mgr.ReceiverAddr()
	for _, cb := range []struct {
		agent int64
		conn  string
	}{{0, scaletest.ContactsConnection}, {wecomsim.DemoAgentID, scaletest.AppConnection}} {
		url := base + controller.CallbackPath(b.fleet.Namespace, cb.conn)
		if err := retry(ctx, 30*time.Second, func() error { return b.sim.SetCallback(ctx, cb.agent, url, token, key) }); err != nil {
			return nil, nil, nil, fmt.Errorf("saving the callback of %s in the simulator: %w", cb.conn, redact(err))
		}
	}
	if err := b.waitCallbackStatus(ctx, func(st *v1.CallbackStatus) bool { return st != nil && st.LastReceivedTime != nil }); err != nil {
		return nil, nil, nil, fmt.Errorf("waiting for status.callback.lastReceivedTime: %w", err)
	}
	inUse := time.Now()
	logf("both connections received the URL verification %.1fs after the restart", inUse.Sub(restart).Seconds())

	// Objects reconciled before the manager saw lastReceivedTime were requeued after at most
	// 1.1 × --drift-interval; after that check every object is on the callback cadence. A
	// window of one callback drift interval that starts 0.1 × it (the jitter) later holds each
	// object's next drift check exactly once.
	start := inUse.Add(b.drift + b.drift/10 + b.callbackDrift/10 + 5*time.Second)
	windows := int((b.callbackDrift + b.drift - 1) / b.drift)
	length := time.Duration(windows) * b.drift
	logf("counting WeCom calls in %d windows of %s from %s on, with %d hand edits", windows, b.drift, start.Format("15:04:05"), b.handEdits)
	if err := sleepUntil(ctx, start); err != nil {
		return nil, nil, nil, err
	}

	users := b.fleet.UserObjects()
	var edits []HandEdit
	for i := range b.handEdits {
		if err := sleepUntil(ctx, start.Add(time.Duration(float64(length)*(float64(i)+0.5)/float64(b.handEdits)))); err != nil {
			return nil, nil, nil, err
		}
		u := users[i*len(users)/b.handEdits]
		name := fmt.Sprintf("Renamed by hand %02d", i+1)
		e := HandEdit{UserID: u.Spec.UserID, SpecName: u.Spec.Name, HandName: name, at: time.Now()}
		res, err := b.sim.Edit(ctx, wecomsim.Edit{Op: wecomsim.EditUpdateUser, User: &wecomsim.UserEdit{UserID: u.Spec.UserID, Name: &name}})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("hand edit of %s: %w", u.Spec.UserID, err)
		}
		e.deliveries = res.Deliveries
		edits = append(edits, e)
	}
	end := start.Add(length)
	if err := sleepUntil(ctx, end); err != nil {
		return nil, nil, nil, err
	}
	usage, uerr := mgr.Usage()

	// Repairs still under way when the windows end are waited for (30 s at most), outside the
	// windows.
	var calls []wecomsim.Call
	deadline := time.Now().Add(30 * time.Second)
	for {
		if calls, err = b.sim.Calls(ctx, seq0); err != nil {
			return nil, nil, nil, err
		}
		if attribute(edits, calls, b.latency) == len(edits) || time.Now().After(deadline) {
			break
		}
		if err := sleepUntil(ctx, time.Now().Add(500*time.Millisecond)); err != nil {
			return nil, nil, nil, err
		}
	}
	snap, err := b.sim.State(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	deliveries, err := b.sim.Deliveries(ctx)
	if err != nil {
		return nil, nil, nil, err
	}

	series := newPhaseSeries(restart, "the manager's restart with callbacks", secondsUntil(restart, end))
	series.addCalls(restart, calls)
	series.CallbacksInUse, series.CountingFrom = round2(inUse.Sub(restart).Seconds()), round2(start.Sub(restart).Seconds())
	for _, e := range edits {
		series.HandEdits = append(series.HandEdits, round2(e.at.Sub(restart).Seconds()))
	}

	ph := &CallbacksPhase{
		DriftIntervalSeconds:         b.drift.Seconds(),
		CallbackDriftIntervalSeconds: b.callbackDrift.Seconds(),
		SecondsToInUse:               inUse.Sub(restart).Seconds(),
		SecondsToCounting:            start.Sub(restart).Seconds(),
		WeComDifferences:             b.fleet.Diff(snap),
	}
	editSeq := map[int64]bool{}
	for _, e := range edits {
		for _, c := range e.calls {
			editSeq[c.Seq] = true
		}
	}
	var before []wecomsim.Call
	for _, c := range calls {
		if c.Time.Before(start) {
			before = append(before, c)
		}
	}
	ph.SwitchOver = summarize(before)
	for k := range windows {
		from, to := start.Add(time.Duration(k)*b.drift), start.Add(time.Duration(k+1)*b.drift)
		var in, byEdit []wecomsim.Call
		for _, c := range calls {
			if !c.Time.Before(from) && c.Time.Before(to) {
				in = append(in, c)
				if editSeq[c.Seq] {
					byEdit = append(byEdit, c)
				}
			}
		}
		ec := summarize(byEdit)
		ph.Intervals = append(ph.Intervals, Interval{Index: k + 1, Calls: summarize(in), EditCalls: &ec})
	}

	userName := map[string]string{}
	for _, u := range snap.Users {
		userName[strings.ToLower(u.UserID)] = u.Name
	}
	acked := map[int64]wecomsim.CallbackDelivery{}
	for _, d := range deliveries {
		acked[d.Seq] = d
	}
	var repairTimes []float64
	var editCalls []wecomsim.Call
	for i := range edits {
		e := &edits[i]
		e.Repaired = userName[strings.ToLower(e.UserID)] == e.SpecName
		if e.Repaired && !e.repairAt.IsZero() {
			e.RepairSeconds = e.repairAt.Sub(e.at).Seconds()
			repairTimes = append(repairTimes, e.RepairSeconds)
			ph.Repaired++
		}
		for _, seq := range e.deliveries {
			d, ok := acked[seq]
			e.Deliveries++
			if ok && d.Acked {
				e.Acked++
				e.Attempts += len(d.Attempts)
			}
		}
		for _, c := range e.calls {
			e.Calls = append(e.Calls, scaletest.Endpoint(c))
		}
		editCalls = append(editCalls, e.calls...)
		ph.DeliveriesAcked += e.Acked
		ph.Deliveries += e.Deliveries
	}
	ph.Edits = edits
	ph.EditCalls = summarize(editCalls)
	ph.CallsPerEdit = ratio(ph.EditCalls.Total, len(edits))
	if len(repairTimes) > 0 {
		ph.RepairP50Seconds, ph.RepairMaxSeconds = quantile(repairTimes, 0.5), quantile(repairTimes, 1)
	}
	logf("%d of %d hand edits repaired (median %.2fs, max %.2fs), %d WeCom calls for them",
		ph.Repaired, len(edits), ph.RepairP50Seconds, ph.RepairMaxSeconds, ph.EditCalls.Total)

	mgr.Stop()
	if data, err := os.ReadFile(logPath); err == nil {
		ph.SecretsInManagerLog = strings.Contains(string(data), token) || strings.Contains(string(data), key)
	}
	var pu *PhaseUsage
	if uerr == nil {
		pu = &PhaseUsage{Phase: "restart with callbacks and callback windows", Usage: usage}
	}
	if len(ph.WeComDifferences) > 0 {
		return ph, series, pu, fmt.Errorf("WeCom differs from the spec after the callbacks phase: %s", strings.Join(first(ph.WeComDifferences, 5), "; "))
	}
	return ph, series, pu, nil
}

// configureCallbacks writes the callback Secret and sets spec.callback on both connections
// (while no manager runs).
func (b *bench) configureCallbacks(ctx context.Context, token, key string) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: callbackSecret, Namespace: b.fleet.Namespace,
		Labels: map[string]string{v1.SecretUseLabel: v1.SecretUseValue}},
		StringData: map[string]string{"token": token, "encodingAESKey": key}}
	if err := b.api.Client.Create(ctx, s); err != nil {
		return fmt.Errorf("creating the callback Secret: %w", err)
	}
	for _, name := range []string{scaletest.ContactsConnection, scaletest.AppConnection} {
		conn := &v1.WeComConnection{}
		if err := b.api.Client.Get(ctx, client.ObjectKey{Namespace: b.fleet.Namespace, Name: name}, conn); err != nil {
			return err
		}
		patch := client.MergeFrom(conn.DeepCopy())
		conn.Spec.Callback = &v1.CallbackSpec{SecretRef: v1.LocalObjectReference{Name: callbackSecret}}
		if err := b.api.Client.Patch(ctx, conn, patch); err != nil {
			return fmt.Errorf("setting spec.callback of %s: %w", name, err)
		}
	}
	return nil
}

// waitCallbackStatus waits (a minute at most) until ok holds for both connections'
// status.callback.
func (b *bench) waitCallbackStatus(ctx context.Context, ok func(*v1.CallbackStatus) bool) error {
	return retry(ctx, time.Minute, func() error {
		for _, name := range []string{scaletest.ContactsConnection, scaletest.AppConnection} {
			conn := &v1.WeComConnection{}
			if err := b.api.Client.Get(ctx, client.ObjectKey{Namespace: b.fleet.Namespace, Name: name}, conn); err != nil {
				return err
			}
			if !ok(conn.Status.Callback) {
				msg := "no status.callback"
				if st := conn.Status.Callback; st != nil {
					msg = fmt.Sprintf("configured=%t %s", st.Configured, st.Message)
				}
				return fmt.Errorf("WeComConnection %s: %s", name, msg)
			}
		}
		return nil
	})
}

// attribute finds, for each edit, the first successful user/update of its member after the
// edit (the repair, applied latency after the call arrived: the simulator waits before it
// handles a call) and the calls about that member from the edit to a second after the repair
// (what the edit cost). It returns how many edits are repaired.
func attribute(edits []HandEdit, calls []wecomsim.Call, latency time.Duration) int {
	repaired := 0
	for i := range edits {
		e := &edits[i]
		e.repairAt, e.calls = time.Time{}, nil
		for _, c := range calls {
			if c.Time.Before(e.at) || !strings.EqualFold(callUserID(c), e.UserID) {
				continue
			}
			if !e.repairAt.IsZero() && c.Time.After(e.repairAt.Add(time.Second)) {
				break
			}
			e.calls = append(e.calls, c)
			if e.repairAt.IsZero() && scaletest.Endpoint(c) == "user/update" && c.ErrCode == 0 && c.HTTPStatus == 200 {
				e.repairAt = c.Time.Add(latency)
			}
		}
		if e.repairAt.IsZero() {
			e.calls = nil // not repaired yet: its calls are not known
		} else {
			repaired++
		}
	}
	return repaired
}

// callUserID is the member a call concerns: user/get's userid query parameter or the userid
// of a JSON body.
func callUserID(c wecomsim.Call) string {
	if id := c.Query["userid"]; id != "" {
		return id
	}
	if !strings.Contains(c.Body, `"userid"`) {
		return ""
	}
	var body struct {
		UserID string `json:"userid"`
	}
	if json.Unmarshal([]byte(c.Body), &body) != nil {
		return ""
	}
	return body.UserID
}

// retry runs f until it succeeds or timeout passes, returning its last error.
func retry(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		if serr := sleepUntil(ctx, time.Now().Add(250*time.Millisecond)); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	select {
	case <-time.After(time.Until(t)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// randomAlnum returns n random letters and digits (a callback Token or EncodingAESKey).
func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, n)
	for i := range out {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out)
}

// sortedEndpoints counts endpoints ("user/get ×20").
func sortedEndpoints(eps []string) []string {
	n := map[string]int{}
	for _, ep := range eps {
		n[ep]++
	}
	keys := sortedKeys(n)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s ×%d", k, n[k]))
	}
	return slices.Clip(out)
}
