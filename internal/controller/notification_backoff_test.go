package controller

import (
	"io"
	"testing"
	"time"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/notify"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// After an outage, a Notification whose attempts met the outage and whose next attempt meets
// a single fault retries after about the base delay, not the minutes its attempts reached:
// before, one Notification of the faults suite waited five minutes after WeCom came back.
func TestRetryDelayFollowsTheScopeStreak(t *testing.T) {
	r := &NotificationReconciler{RetryBase: time.Second}
	app := &delivery{channel: "app", target: notify.Target{Scope: "app 1000002"}}
	lost := &wecom.CallError{API: "message/send", Ambiguous: true, Err: io.ErrUnexpectedEOF}
	// attempt sends n once more, as Reconcile does, and returns the delay before the next try.
	attempt := func(n *v1.Notification, err error) time.Duration {
		n.Status.Attempts++
		streak := r.stalled.record(app.target.Scope, err == nil)
		return r.outcome(n, app, &wecom.SendResult{}, err, time.Hour, streak).RequeueAfter
	}

	inOutage, fresh := &v1.Notification{}, &v1.Notification{}
	var d time.Duration
	for range 9 { // WeCom is down: every send of the scope fails
		d = attempt(inOutage, lost)
	}
	if d < 230*time.Second || d > 282*time.Second {
		t.Fatalf("ninth failure in an outage: retry in %s, want 256s ±10%%", d)
	}
	if d = attempt(fresh, lost); d > 1100*time.Millisecond {
		t.Fatalf("a Notification's first failure starts at the base delay even in an outage: %s", d)
	}

	if d = attempt(&v1.Notification{}, nil); d != 0 { // WeCom takes the scope's sends again
		t.Fatalf("a sent Notification is not retried: %s", d)
	}
	if d = attempt(inOutage, lost); d > 1100*time.Millisecond {
		t.Fatalf("one lost reply after the outage: retry in %s, want the 1s base", d)
	}
	if d = attempt(inOutage, lost); d < 1800*time.Millisecond || d > 2200*time.Millisecond {
		t.Fatalf("the second failure in a row after the outage: retry in %s, want 2s", d)
	}
}
