package wecom

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

func TestBucketArithmetic(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newBucket(RateLimit{PerSecond: 10, Burst: 2}, t0)
	step := func(now time.Time, maxWait, wantWait time.Duration, wantOK bool) {
		t.Helper()
		d, ok := b.reserve(now, maxWait)
		if d != wantWait || ok != wantOK {
			t.Fatalf("reserve = %v %v, want %v %v", d, ok, wantWait, wantOK)
		}
	}
	step(t0, time.Second, 0, true) // the burst
	step(t0, time.Second, 0, true)
	step(t0, time.Second, 100*time.Millisecond, true)           // then one per 100ms, queued
	step(t0, time.Second, 200*time.Millisecond, true)           // behind the previous reservation
	step(t0, 250*time.Millisecond, 300*time.Millisecond, false) // too long: refused, nothing taken
	step(t0, time.Second, 300*time.Millisecond, true)           // so the same wait is still offered
	b.unreserve()                                               // a waiter gave up
	step(t0, time.Second, 300*time.Millisecond, true)
	step(t0.Add(10*time.Second), time.Second, 0, true) // refilled, but only up to the burst
	step(t0.Add(10*time.Second), time.Second, 0, true)
	step(t0.Add(10*time.Second), time.Second, 100*time.Millisecond, true)

	unlimitedBucket := newBucket(RateLimit{PerSecond: -1}, t0)
	for range 1000 {
		if d, ok := unlimitedBucket.reserve(t0, 0); d != 0 || !ok {
			t.Fatal("a non-positive rate must not limit")
		}
	}
}

func TestLimiterSharedPerCorpAndEndpoint(t *testing.T) {
	f := newFake(t)
	f.reply("department/get", deptReply)
	f.reply("user/get", `{"errcode":0,"errmsg":"ok","userid":"zhangsan","name":"张三","department":[1]}`)
	clock := newClock()
	limiters := NewLimiters(LimitersOptions{
		Default:  RateLimit{PerSecond: 1, Burst: 2},
		Endpoint: map[string]RateLimit{"gettoken": {PerSecond: -1}},
		MaxWait:  time.Millisecond,
		Now:      clock.Now,
	})
	// Two clients of the same corp, each with its own token cache as two apps would have,
	// share the corp's budget: WeCom counts per corp and API, whichever app calls.
	a := newTestClient(t, f, func(c *Config) { c.Limiters = limiters })
	b := newTestClient(t, f, func(c *Config) { c.Limiters = limiters; c.Tokens = NewTokenCache(TokenCacheOptions{}) })
	ctx := context.Background()
	if _, err := a.GetDepartment(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetDepartment(ctx, 2); err != nil {
		t.Fatal(err)
	}
	_, err := a.GetDepartment(ctx, 2)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || !IsRateLimited(err) || !IsRetryable(err) || IsTerminal(err) {
		t.Fatalf("third call: %v; want a client-side rate limit error", err)
	}
	if n := f.calls("department/get"); n != 2 {
		t.Fatalf("%d requests reached WeCom, want 2 (the refused call must not be sent)", n)
	}
	// Another endpoint of the same corp has its own budget.
	if _, err := a.GetUser(ctx, "zhangsan"); err != nil {
		t.Fatalf("other endpoint: %v", err)
	}
	// Another corp has its own budget.
	other := newTestClient(t, f, func(c *Config) { c.Limiters = limiters; c.CorpID = "wwother" })
	if err := limiters.wait(ctx, other.scope, "department/get"); err != nil {
		t.Fatalf("other corp: %v", err)
	}
	// Time refills the bucket.
	clock.Advance(time.Second)
	if _, err := a.GetDepartment(ctx, 2); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}

func TestLimiterDelaysWithinMaxWait(t *testing.T) {
	f := newFake(t)
	f.reply("department/get", deptReply)
	limiters := NewLimiters(LimitersOptions{Default: RateLimit{PerSecond: 50, Burst: 1}, Endpoint: map[string]RateLimit{}})
	c := newTestClient(t, f, func(c *Config) { c.Limiters = limiters })
	start := time.Now()
	for range 6 {
		if _, err := c.GetDepartment(context.Background(), 2); err != nil {
			t.Fatal(err)
		}
	}
	// 6 calls at 50/s with burst 1: at least 5 × 20ms of waiting.
	if elapsed := time.Since(start); elapsed < 90*time.Millisecond {
		t.Fatalf("6 calls took %v; the limiter did not delay", elapsed)
	}
}

func TestLimiterRespectsContextDeadline(t *testing.T) {
	limiters := NewLimiters(LimitersOptions{Default: RateLimit{PerSecond: 1, Burst: 1}, MaxWait: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := limiters.wait(ctx, "s", "department/get"); err != nil {
		t.Fatal(err)
	}
	// A wait that began would end with the context's error; a *RateLimitError is only ever
	// returned before waiting, so it shows the call failed at once.
	err := limiters.wait(ctx, "s", "department/get")
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v; a wait beyond the deadline must fail at once with a RateLimitError", err)
	}
}

func TestLimiterWaiterCancelled(t *testing.T) {
	// One token per 100 s: the second wait is long, and the bucket barely refills meanwhile.
	limiters := NewLimiters(LimitersOptions{Default: RateLimit{PerSecond: 0.01, Burst: 1}, MaxWait: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	_ = limiters.wait(ctx, "s", "x")
	b := limiters.bucket("s", "x")
	tokens := func() float64 {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.tokens
	}
	waited := make(chan error, 1)
	go func() { waited <- limiters.wait(ctx, "s", "x") }()
	// The waiter reserved the next token and is waiting for it.
	gomega.NewWithT(t).Eventually(tokens, 10*time.Second).Should(gomega.BeNumerically("<", 0))
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if got := tokens(); got < 0 {
		t.Fatalf("bucket holds %v tokens after the waiter gave up; its reservation was not given back", got)
	}
}

func TestWebhookLimitedPerRobot(t *testing.T) {
	f := newFake(t)
	f.reply("webhook/send", `{"errcode":0,"errmsg":"ok"}`)
	clock := newClock()
	// The default webhook limit: 15/min with burst 5, so no minute exceeds WeCom's 20.
	limiters := NewLimiters(LimitersOptions{MaxWait: time.Millisecond, Now: clock.Now})
	w, err := NewWebhookClient(WebhookConfig{BaseURL: f.srv.URL, HTTPClient: f.srv.Client(), Limiters: limiters, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	msg := WebhookMessage{Text: &Text{Content: "hi"}}
	ctx := context.Background()
	sent := 0
	for i := range 100 {
		err := w.Send(ctx, "robot-a", msg)
		if err == nil {
			sent++
		} else if !IsRateLimited(err) {
			t.Fatal(err)
		}
		if i%10 == 9 {
			clock.Advance(6 * time.Second) // 100 sends spread over one minute
		}
	}
	if sent > 20 || sent < 15 {
		t.Fatalf("%d messages in a minute for one robot; WeCom allows 20", sent)
	}
	if err := w.Send(ctx, "robot-b", msg); err != nil {
		t.Fatalf("another robot has its own budget: %v", err)
	}
	if f.calls("webhook/send") != sent+1 {
		t.Fatalf("server saw %d sends, client reported %d", f.calls("webhook/send"), sent+1)
	}
}

func TestSetEndpointLimitAfterUse(t *testing.T) {
	clock := newClock()
	limiters := NewLimiters(LimitersOptions{Default: RateLimit{PerSecond: 1, Burst: 1}, Endpoint: map[string]RateLimit{}, MaxWait: time.Millisecond, Now: clock.Now})
	ctx := context.Background()
	if err := limiters.wait(ctx, "s", "webhook/send"); err != nil {
		t.Fatal(err)
	}
	if err := limiters.wait(ctx, "s", "webhook/send"); !IsRateLimited(err) {
		t.Fatalf("second call within the second: %v", err)
	}
	// The Notification controller paces robot sends itself and lifts the client's limit.
	limiters.SetEndpointLimit("webhook/send", RateLimit{PerSecond: -1})
	for range 50 {
		if err := limiters.wait(ctx, "s", "webhook/send"); err != nil {
			t.Fatalf("after the limit was lifted: %v", err)
		}
	}
	if err := limiters.wait(ctx, "s", "department/get"); err != nil {
		t.Fatal(err)
	}
	if err := limiters.wait(ctx, "s", "department/get"); !IsRateLimited(err) {
		t.Fatalf("another endpoint lost its limit: %v", err)
	}
}

// TestDefaultLimitsStayUnderWeCom documents the arithmetic behind the defaults.
func TestDefaultLimitsStayUnderWeCom(t *testing.T) {
	perMinute := DefaultRateLimit.PerSecond*60 + float64(DefaultRateLimit.Burst)
	perHour := DefaultRateLimit.PerSecond*3600 + float64(DefaultRateLimit.Burst)
	if perMinute > 10000/2 || perHour > 150000 {
		t.Fatalf("default %v allows %v/min and %v/h; WeCom allows 10,000/min and 150,000/h per corp and API", DefaultRateLimit, perMinute, perHour)
	}
	wh := DefaultEndpointLimits["webhook/send"]
	if wh.PerSecond*60+float64(wh.Burst) > 20 {
		t.Fatalf("webhook default allows more than 20 per minute")
	}
	up := DefaultEndpointLimits["appchat/update"]
	if up.PerSecond*3600+float64(up.Burst) > 1000 {
		t.Fatalf("appchat/update default allows more than 1000 per hour")
	}
	cr := DefaultEndpointLimits["appchat/create"]
	if cr.PerSecond*86400+float64(cr.Burst) > 1000 {
		t.Fatalf("appchat/create default allows more than 1000 per day")
	}
}
