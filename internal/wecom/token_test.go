package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const deptReply = `{"errcode":0,"errmsg":"ok","department":{"id":2,"name":"研发","parentid":1,"order":1}}`

func TestTokenOneFetchForHundredConcurrentCallers(t *testing.T) {
	f := newFake(t)
	f.tokenGate = make(chan struct{}) // the fetch stays in flight until every caller was launched
	f.reply("department/get", deptReply)
	cache := NewTokenCache(TokenCacheOptions{})
	// Two clients of the same app share one cache: the token belongs to the app, not the client.
	c1 := newTestClient(t, f, func(c *Config) { c.Tokens = cache })
	c2 := newTestClient(t, f, func(c *Config) { c.Tokens = cache })

	var wg, launched sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		launched.Add(1)
		wg.Go(func() {
			launched.Done()
			_, err := c.GetDepartment(context.Background(), 2)
			errs <- err
		})
	}
	launched.Wait()
	close(f.tokenGate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("caller failed: %v", err)
		}
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("gettoken called %d times for 100 concurrent callers, want 1", n)
	}
	if n := f.calls("department/get"); n != 100 {
		t.Fatalf("department/get called %d times, want 100", n)
	}
}

func TestTokenRefreshedAheadOfExpiry(t *testing.T) {
	f := newFake(t)
	f.reply("department/get", deptReply)
	clock := newClock()
	c := newTestClient(t, f, func(c *Config) { c.Now = clock.Now })
	ctx := context.Background()
	get := func() string {
		t.Helper()
		if _, err := c.GetDepartment(ctx, 2); err != nil {
			t.Fatal(err)
		}
		return f.last("department/get").Query.Get("access_token")
	}

	if tok := get(); tok != "tok-1" {
		t.Fatalf("first call used %q", tok)
	}
	// expires_in 7200: refresh at 80% (5760 s), which comes before "5 minutes before expiry".
	clock.Advance(5700 * time.Second)
	if tok := get(); tok != "tok-1" || f.tokenCalls.Load() != 1 {
		t.Fatalf("before the refresh point: token %q, %d fetches", tok, f.tokenCalls.Load())
	}
	clock.Advance(100 * time.Second) // 5800 s: in the refresh window
	// The call does not wait for the refresh: it uses the still valid token...
	if tok := get(); tok != "tok-1" {
		t.Fatalf("in the refresh window the call used %q, want the still valid tok-1", tok)
	}
	// ...while one background fetch replaces it.
	c.tokens.settle()
	if tok := get(); tok != "tok-2" {
		t.Fatalf("after the background refresh the call used %q, want tok-2", tok)
	}
	if n := f.tokenCalls.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// Past the hard expiry (no refresh happened because the clock jumped), callers wait for a
	// fresh token instead of sending an expired one.
	clock.Advance(3 * time.Hour)
	if tok := get(); tok != "tok-3" {
		t.Fatalf("after expiry the call used %q, want tok-3", tok)
	}
}

func TestTokenSchedule(t *testing.T) {
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		ttl             time.Duration
		refresh, expire time.Duration
	}{
		{7200 * time.Second, 5760 * time.Second, 7170 * time.Second}, // 80% comes first
		{600 * time.Second, 300 * time.Second, 570 * time.Second},    // 5 min before, capped at half
		{60 * time.Second, 30 * time.Second, 54 * time.Second},       // short lifetimes: half
		{0, 5760 * time.Second, 7170 * time.Second},                  // missing expires_in: 7200
	} {
		r, e := tokenSchedule(start, tc.ttl)
		if r.Sub(start) != tc.refresh || e.Sub(start) != tc.expire {
			t.Errorf("ttl %v: refresh %v expire %v, want %v %v", tc.ttl, r.Sub(start), e.Sub(start), tc.refresh, tc.expire)
		}
	}
}

func TestTokenRejectedIsDroppedAndCallRetriedOnce(t *testing.T) {
	for _, code := range []int{ErrCodeInvalidAccessToken, ErrCodeAccessTokenExpired} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			f := newFake(t)
			f.on("department/get", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("access_token") == "tok-1" {
					writeJSON(w, fmt.Sprintf(`{"errcode":%d,"errmsg":"rejected"}`, code))
					return
				}
				writeJSON(w, deptReply)
			})
			c := newTestClient(t, f)
			var info CallInfo
			if _, err := c.GetDepartment(WithCallInfo(context.Background(), &info), 2); err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if n := f.tokenCalls.Load(); n != 2 {
				t.Errorf("gettoken called %d times, want 2", n)
			}
			if n := f.calls("department/get"); n != 2 {
				t.Errorf("department/get called %d times, want 2", n)
			}
			if !info.TokenRefreshed || info.Attempts != 1 {
				t.Errorf("CallInfo = %+v, want TokenRefreshed and 1 attempt", info)
			}
			// The fresh token is cached for the next call.
			if _, err := c.GetDepartment(context.Background(), 2); err != nil || f.tokenCalls.Load() != 2 {
				t.Errorf("next call: err %v, %d fetches", err, f.tokenCalls.Load())
			}
		})
	}
}

func TestTokenRejectedTwiceDoesNotLoop(t *testing.T) {
	f := newFake(t)
	f.reply("department/get", `{"errcode":40014,"errmsg":"invalid access_token"}`)
	c := newTestClient(t, f, func(c *Config) { c.Retry = RetryPolicy{MaxAttempts: 5, BaseDelay: time.Millisecond} })
	_, err := c.GetDepartment(context.Background(), 2)
	if Code(err) != ErrCodeInvalidAccessToken || !IsCredential(err) || IsRetryable(err) {
		t.Fatalf("err = %v; want 40014, credential, not retryable", err)
	}
	if n, m := f.tokenCalls.Load(), f.calls("department/get"); n != 2 || m != 2 {
		t.Fatalf("gettoken %d, department/get %d; want 2 and 2 (one refresh, no loop)", n, m)
	}
}

func TestTokenInvalidateOnlyTheFailedToken(t *testing.T) {
	cache := NewTokenCache(TokenCacheOptions{})
	key := newTokenKey("https://x", testCorp, testSecret)
	n := 0
	fetch := func(context.Context) (string, time.Duration, error) {
		n++
		return fmt.Sprintf("tok-%d", n), time.Hour, nil
	}
	ctx := context.Background()
	tok, _ := cache.get(ctx, key, time.Now, fetch)
	cache.invalidate(key, "tok-0") // a stale failure from an older token
	if again, _ := cache.get(ctx, key, time.Now, fetch); again != tok || n != 1 {
		t.Fatalf("stale invalidation dropped the current token: %q, %d fetches", again, n)
	}
	cache.invalidate(key, tok)
	if again, _ := cache.get(ctx, key, time.Now, fetch); again != "tok-2" || n != 2 {
		t.Fatalf("after invalidation got %q with %d fetches", again, n)
	}
}

func TestTokenRevokedUnderConcurrency(t *testing.T) {
	f := newFake(t)
	f.reply("department/get", deptReply)
	c := newTestClient(t, f)
	ctx := context.Background()
	if _, err := c.GetDepartment(ctx, 2); err != nil {
		t.Fatal(err)
	}
	f.revoke("tok-1")
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if _, err := c.GetDepartment(ctx, 2); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Thirty callers saw 40014 for tok-1, but only the first invalidation counts: one new
	// token, not thirty.
	if n := f.tokenCalls.Load(); n != 2 {
		t.Fatalf("gettoken called %d times, want 2", n)
	}
}

func TestTokenCredentialFailureRemembered(t *testing.T) {
	f := newFake(t)
	f.reply("department/get", deptReply)
	clock := newClock()
	c := newTestClient(t, f, func(c *Config) {
		c.Secret = "wrong-secret"
		c.Now = clock.Now
		c.Tokens = NewTokenCache(TokenCacheOptions{FailureTTL: 10 * time.Second})
	})
	for range 5 {
		_, err := c.GetDepartment(context.Background(), 2)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != ErrCodeInvalidSecret || ae.API != "gettoken" || !IsCredential(err) {
			t.Fatalf("err = %v; want 40001 from gettoken", err)
		}
	}
	// Repeated wrong secrets get the IP banned for an hour (§1): ask WeCom once, not five times.
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("gettoken called %d times within FailureTTL, want 1", n)
	}
	clock.Advance(11 * time.Second)
	_, _ = c.GetDepartment(context.Background(), 2)
	if n := f.tokenCalls.Load(); n != 2 {
		t.Fatalf("gettoken called %d times after FailureTTL, want 2", n)
	}
	if f.calls("department/get") != 0 {
		t.Fatal("an API call went out without a token")
	}
}

func TestTokenImpatientCallerDoesNotFailOthers(t *testing.T) {
	f := newFake(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	signalArrived, free := sync.OnceFunc(func() { close(arrived) }), sync.OnceFunc(func() { close(release) })
	defer free() // on failure too, or the server would wait for the held reply forever
	f.tokenReply = func(w http.ResponseWriter, r *http.Request) {
		signalArrived()
		<-release
		writeJSON(w, `{"errcode":0,"errmsg":"ok","access_token":"tok-slow","expires_in":7200}`)
	}
	f.mu.Lock()
	f.valid["tok-slow"] = true
	f.mu.Unlock()
	f.reply("department/get", deptReply)
	c := newTestClient(t, f)

	// The first caller starts the fetch and gives up while WeCom has not answered.
	impatient, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := c.GetDepartment(impatient, 2)
		gaveUp <- err
	}()
	<-arrived
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("impatient caller: %v", err)
	}
	// A patient caller gets the token of that fetch, which was not cancelled with the first
	// caller: it joins the fetch if it comes before the reply, or finds its token cached.
	// Had the fetch been cancelled, it would fail or fetch again.
	done := make(chan error, 1)
	go func() {
		_, err := c.GetDepartment(context.Background(), 2)
		done <- err
	}()
	free()
	if err := <-done; err != nil {
		t.Fatalf("patient caller: %v", err)
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("gettoken called %d times, want 1", n)
	}
}

func TestTokenKeyDoesNotPrintSecret(t *testing.T) {
	key := newTokenKey("https://qyapi.weixin.qq.com", testCorp, testSecret)
	cache := NewTokenCache(TokenCacheOptions{})
	cache.entries[key] = &tokenEntry{}
	for _, s := range []string{
		fmt.Sprint(key), fmt.Sprintf("%+v", key), fmt.Sprintf("%#v", key), fmt.Sprintf("%#v", cache.entries),
	} {
		if strings.Contains(s, testSecret) {
			t.Fatalf("secret printed: %s", s)
		}
	}
	if newTokenKey("b", "c", "s1") == newTokenKey("b", "c", "s2") {
		t.Fatal("different secrets share a cache entry")
	}
}

func TestCheckCredentials(t *testing.T) {
	f := newFake(t)
	c := newTestClient(t, f)
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckCredentials(context.Background()); err != nil || f.tokenCalls.Load() != 1 {
		t.Fatalf("second check: %v, %d fetches (want the cached token)", err, f.tokenCalls.Load())
	}
	bad := newTestClient(t, f, func(c *Config) { c.CorpID = "wwunknown" })
	err := bad.CheckCredentials(context.Background())
	if Code(err) != ErrCodeInvalidCorpID || !IsCredential(err) || !strings.Contains(Hint(err), "corp ID") {
		t.Fatalf("wrong corp: %v (hint %q)", err, Hint(err))
	}
}

// WeCom returns the same token while it is valid (§1; the simulator does too, with the
// remaining lifetime as expires_in). Refreshing ahead must then not turn into ever more
// frequent refreshes as the lifetime shrinks, and no call may carry an expired token.
func TestTokenSameTokenUntilExpiry(t *testing.T) {
	f := newFake(t)
	clock := newClock()
	var (
		mu      sync.Mutex
		cur     string
		expires time.Time
		issued  int
	)
	f.tokenReply = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		now := clock.Now()
		if cur == "" || !now.Before(expires) {
			issued++
			cur, expires = fmt.Sprintf("same-%d", issued), now.Add(7200*time.Second)
			f.mu.Lock()
			f.valid[cur] = true
			f.mu.Unlock()
		}
		remaining := int(expires.Sub(now).Seconds())
		writeJSON(w, fmt.Sprintf(`{"errcode":0,"errmsg":"ok","access_token":%q,"expires_in":%d}`, cur, remaining))
	}
	var expired int
	f.on("department/get", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stale := r.URL.Query().Get("access_token") != cur || !clock.Now().Before(expires)
		mu.Unlock()
		if stale {
			expired++
			writeJSON(w, `{"errcode":42001,"errmsg":"access_token expired"}`)
			return
		}
		writeJSON(w, deptReply)
	})
	c := newTestClient(t, f, func(c *Config) { c.Now = clock.Now })
	for minute := 0; minute <= 240; minute++ {
		if _, err := c.GetDepartment(context.Background(), 2); err != nil {
			t.Fatalf("minute %d: %v", minute, err)
		}
		c.tokens.settle() // a background refresh finishes before the clock moves on
		clock.Advance(time.Minute)
	}
	// Per 2-hour lifetime: the first fetch, one early refresh at 96 min (same token back),
	// one at expiry. Four hours: at most 5.
	if n := f.tokenCalls.Load(); n > 5 {
		t.Fatalf("%d gettoken calls in 4 hours", n)
	}
	if expired != 0 {
		t.Fatalf("%d calls were sent with an expired token", expired)
	}
}
