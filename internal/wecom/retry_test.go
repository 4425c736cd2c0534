package wecom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// failThen makes api fail n times with fail, then answer ok.
func failThen(f *fakeWeCom, api string, n int32, fail func(w http.ResponseWriter, r *http.Request), ok string) *atomic.Int32 {
	var seen atomic.Int32
	f.on(api, func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			fail(w, r)
			return
		}
		writeJSON(w, ok)
	})
	return &seen
}

func errcode(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, fmt.Sprintf(`{"errcode":%d,"errmsg":"injected","department":[]}`, code))
	}
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// dropConnection closes the connection without a reply, after the request was read: the
// case where a write may have happened.
func dropConnection(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func TestRetryClassification(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fail      func(http.ResponseWriter, *http.Request)
		retried   bool
		rateLimit bool
	}{
		{"errcode -1 system busy", errcode(ErrCodeSystemBusy), true, false},
		{"errcode 45009 freq limit", errcode(ErrCodeFreqLimit), true, true},
		{"errcode 45033 concurrency", errcode(ErrCodeConcurrencyLimit), true, true},
		{"errcode 6000 version conflict", errcode(ErrCodeDataVersionConflict), true, false},
		{"HTTP 500", status(500), true, false},
		{"HTTP 502", status(502), true, false},
		{"HTTP 503", status(503), true, false},
		{"HTTP 429", status(429), true, true},
		{"dropped connection", dropConnection, true, false},
		{"errcode 60003 not found", errcode(ErrCodeDeptNotFound), false, false},
		{"errcode 40058 invalid parameter", errcode(ErrCodeInvalidParameter), false, false},
		{"errcode 48002 no permission", errcode(ErrCodeNoAPIPermission), false, false},
		{"errcode 60020 untrusted ip", errcode(ErrCodeUntrustedIP), false, false},
		{"errcode 81013 recipients", errcode(ErrCodeAllRecipientsBad), false, false},
		{"HTTP 404", status(404), false, false},
		{"HTTP 400", status(400), false, false},
		{"HTTP 301", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusMovedPermanently)
		}, false, false},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>proxy</html>")) }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			// user/list_id is a POST that only reads: net/http never resends a POST by itself,
			// so requests and attempts match one to one.
			seen := failThen(f, "user/list_id", 2, tc.fail, `{"errcode":0,"errmsg":"ok","next_cursor":"","dept_user":[]}`)
			c := newTestClient(t, f)
			var info CallInfo
			_, err := c.ListUserIDs(WithCallInfo(context.Background(), &info), "", 100)
			if tc.retried {
				if err != nil {
					t.Fatalf("want success after 2 retried failures, got %v", err)
				}
				if seen.Load() != 3 || info.Attempts != 3 {
					t.Fatalf("%d requests, %d attempts; want 3", seen.Load(), info.Attempts)
				}
				return
			}
			if err == nil {
				t.Fatal("want the error, got success")
			}
			if seen.Load() != 1 {
				t.Fatalf("non-retryable error was sent %d times", seen.Load())
			}
			if IsRetryable(err) || IsRateLimited(err) != tc.rateLimit {
				t.Fatalf("IsRetryable=%v IsRateLimited=%v for %v", IsRetryable(err), IsRateLimited(err), err)
			}
			var ce *CallError
			if errors.As(err, &ce) {
				t.Fatalf("a first-attempt failure should come back unwrapped, got %#v", ce)
			}
		})
	}
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	f := newFake(t)
	f.on("department/get", errcode(ErrCodeSystemBusy))
	c := newTestClient(t, f, func(c *Config) {
		c.Retry = RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	})
	_, err := c.GetDepartment(context.Background(), 2)
	var ce *CallError
	if !errors.As(err, &ce) || ce.Attempts != 4 || Code(err) != ErrCodeSystemBusy || !IsRetryable(err) || IsTerminal(err) {
		t.Fatalf("err = %v; want a CallError after 4 attempts carrying -1, retryable", err)
	}
	if n := f.calls("department/get"); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	f := newFake(t)
	f.on("department/get", errcode(ErrCodeFreqLimit))
	c := newTestClient(t, f, func(c *Config) {
		c.Retry = RetryPolicy{MaxAttempts: 1000, BaseDelay: 20 * time.Millisecond, MaxDelay: 40 * time.Millisecond}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetDepartment(ctx, 2)
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("took %v after the context ended", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want it to wrap context.DeadlineExceeded", err)
	}
	// The caller still sees what WeCom said, and that it is worth retrying later.
	if Code(err) != ErrCodeFreqLimit || !IsRateLimited(err) || !IsRetryable(err) || IsTerminal(err) {
		t.Fatalf("err = %v; want 45009, rate limited, retryable", err)
	}
	if n := f.calls("department/get"); n < 2 || n > 50 {
		t.Fatalf("%d requests in 150ms", n)
	}
}

func TestNoRequestWhenContextAlreadyDone(t *testing.T) {
	f := newFake(t)
	f.reply("department/get", deptReply)
	c := newTestClient(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.GetDepartment(ctx, 2)
	if !errors.Is(err, context.Canceled) || IsTerminal(err) || IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	if f.calls("department/get") != 0 || f.tokenCalls.Load() != 0 {
		t.Fatal("a request went out on a cancelled context")
	}
}

func TestAmbiguousWrite(t *testing.T) {
	t.Run("create retried after dropped reply reports already exists", func(t *testing.T) {
		f := newFake(t)
		// The first request "succeeds" in WeCom but the reply is lost; the retry finds the id taken.
		failThen(f, "department/create", 1, dropConnection, `{"errcode":60008,"errmsg":"department existed"}`)
		c := newTestClient(t, f)
		_, err := c.CreateDepartment(context.Background(), CreateDepartmentRequest{Name: "x", ParentID: 1, ID: 5})
		if !IsAlreadyExists(err) || !IsAmbiguous(err) {
			t.Fatalf("err = %v; want already exists and ambiguous", err)
		}
	})
	t.Run("a create WeCom does not deduplicate is not repeated after a dropped reply", func(t *testing.T) {
		f := newFake(t)
		failThen(f, "externalcontact/add_contact_way", 1, dropConnection, `{"errcode":0,"errmsg":"ok","config_id":"cfg2"}`)
		c := newTestClient(t, f)
		var info CallInfo
		_, err := c.AddContactWay(WithCallInfo(context.Background(), &info), AddContactWayRequest{Type: 1, Scene: 2, User: []string{"u"}})
		if !IsAmbiguous(err) || !IsRetryable(err) {
			t.Fatalf("err = %v; want ambiguous (the way may exist) and retryable", err)
		}
		if !info.Ambiguous || info.Attempts != 1 {
			t.Fatalf("CallInfo = %+v; a repeat could have made a second contact way", info)
		}
	})
	t.Run("an app message with WeCom's dedupe is repeated after a dropped reply", func(t *testing.T) {
		f := newFake(t)
		failThen(f, "message/send", 1, dropConnection, `{"errcode":0,"errmsg":"ok","msgid":"m1"}`)
		c := newTestClient(t, f)
		var info CallInfo
		res, err := c.SendMessage(WithCallInfo(context.Background(), &info), Message{ToUser: []string{"u"}, AgentID: 1, Text: &Text{Content: "x"}, EnableDuplicateCheck: 1})
		if err != nil || res.MsgID != "m1" || info.Attempts != 2 || !info.Ambiguous {
			t.Fatalf("res %+v err %v info %+v", res, err, info)
		}
	})
	t.Run("create gives up after 5xx", func(t *testing.T) {
		f := newFake(t)
		f.on("user/create", status(502))
		c := newTestClient(t, f)
		_, err := c.CreateUser(context.Background(), CreateUserRequest{UserID: "u", Name: "n", Mobile: "1"})
		if !IsAmbiguous(err) || !IsRetryable(err) {
			t.Fatalf("err = %v; want ambiguous and retryable", err)
		}
	})
	t.Run("reads are never ambiguous", func(t *testing.T) {
		f := newFake(t)
		failThen(f, "department/get", 1, dropConnection, deptReply)
		c := newTestClient(t, f)
		var info CallInfo
		if _, err := c.GetDepartment(WithCallInfo(context.Background(), &info), 2); err != nil || info.Ambiguous {
			t.Fatalf("err %v info %+v", err, info)
		}
	})
	t.Run("rejected writes are not ambiguous", func(t *testing.T) {
		f := newFake(t)
		failThen(f, "department/create", 1, errcode(ErrCodeSystemBusy), `{"errcode":0,"errmsg":"created","id":9}`)
		c := newTestClient(t, f)
		var info CallInfo
		if _, err := c.CreateDepartment(WithCallInfo(context.Background(), &info), CreateDepartmentRequest{Name: "x", ParentID: 1}); err != nil || info.Ambiguous {
			t.Fatalf("err %v info %+v: WeCom answered -1, nothing was written", err, info)
		}
	})
}

func TestDialFailureIsRetryableNotAmbiguous(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	c, err := New(Config{BaseURL: "http://" + addr, CorpID: testCorp, Secret: testSecret, Retry: fastRetry,
		Tokens: NewTokenCache(TokenCacheOptions{}), Limiters: unlimited()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateDepartment(context.Background(), CreateDepartmentRequest{Name: "x", ParentID: 1})
	var te *TransportError
	if !errors.As(err, &te) || !te.Network() || !IsRetryable(err) || IsAmbiguous(err) {
		t.Fatalf("err = %#v; want a retryable network error, not ambiguous (the token fetch never connected)", err)
	}
	if Hint(err) == "" {
		t.Fatal("no hint for a network error")
	}
}

func TestBackoffFullJitter(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	for n, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 9: time.Second} {
		var maxSeen time.Duration
		for range 2000 {
			d := p.backoff(n)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v outside [0, %v]", n, d, ceiling)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < ceiling/2 {
			t.Fatalf("backoff(%d) never above %v: not full jitter up to %v", n, maxSeen, ceiling)
		}
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	if got := (RetryPolicy{}).withDefaults(); got != DefaultRetryPolicy {
		t.Fatalf("zero policy = %+v", got)
	}
	if got := (RetryPolicy{MaxAttempts: 1}).withDefaults(); got.MaxAttempts != 1 {
		t.Fatalf("MaxAttempts 1 (no retries) was changed: %+v", got)
	}
}

func TestContextEndsDuringWrite(t *testing.T) {
	f := newFake(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.on("department/create", func(w http.ResponseWriter, r *http.Request) {
		<-release // WeCom is slow to answer: the write may well have happened
		writeJSON(w, `{"errcode":0,"errmsg":"created","id":3}`)
	})
	c := newTestClient(t, f)
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.CreateDepartment(ctx, CreateDepartmentRequest{Name: "x", ParentID: 1})
	if !errors.Is(err, context.DeadlineExceeded) || !IsAmbiguous(err) || IsTerminal(err) {
		t.Fatalf("err = %v; want deadline exceeded, ambiguous, not terminal", err)
	}
	if f.calls("department/create") != 1 {
		t.Fatal("the request was retried after the context ended")
	}
}

func TestContextEndsAfterRetryableFailureKeepsIt(t *testing.T) {
	f := newFake(t)
	var n atomic.Int32
	f.on("user/get", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			errcode(ErrCodeFreqLimit)(w, r)
			return
		}
		<-r.Context().Done() // the second attempt hangs until the caller gives up
	})
	c := newTestClient(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.GetUser(ctx, "u")
	if Code(err) != ErrCodeFreqLimit || !errors.Is(err, context.DeadlineExceeded) || IsAmbiguous(err) {
		t.Fatalf("err = %v; want the 45009 kept, with the deadline as cause, not ambiguous (a read)", err)
	}
}
