package wecom

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

// RetryPolicy bounds the client's own retries of retryable failures (IsRetryable: -1, 6000,
// 45009, 45033, HTTP 5xx/429, network errors). Delays use exponential backoff with full
// jitter: attempt n waits a uniformly random duration in [0, min(MaxDelay, BaseDelay·2^(n-1))).
// The caller's context bounds everything; other errors are never retried.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts including the first. 1 disables retries.
	// Default 4 (WeCom's -1 advice is "retry at most 3 times").
	MaxAttempts int
	// BaseDelay is the backoff ceiling of the first retry. Default 250ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff ceiling. Default 5s.
	MaxDelay time.Duration
}

// DefaultRetryPolicy is used for zero fields of Config.Retry.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 250 * time.Millisecond, MaxDelay: 5 * time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultRetryPolicy.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultRetryPolicy.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// backoff returns the full-jitter delay before attempt n+1, after n failed attempts.
func (p RetryPolicy) backoff(n int) time.Duration {
	ceiling := p.BaseDelay
	for i := 1; i < n && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxDelay)
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// CallInfo reports how a call went, including successful ones. See WithCallInfo.
type CallInfo struct {
	// Attempts is the number of attempts made (1 when nothing was retried).
	Attempts int
	// Ambiguous is true when the endpoint writes and a failed attempt may have been applied by
	// WeCom before a later attempt ran: a successful create may then have created twice
	// (contact ways, calendars, schedules have no natural key), a message may have been
	// delivered twice (unless enable_duplicate_check was set).
	Ambiguous bool
	// TokenRefreshed is true when WeCom rejected the cached access token (40014/42001) and
	// the call was repeated once with a fresh one.
	TokenRefreshed bool
}

type callInfoKey struct{}

// WithCallInfo returns a context that makes the next client call on it fill info, in the
// spirit of net/http/httptrace. Use one CallInfo per call; it is not synchronised.
func WithCallInfo(ctx context.Context, info *CallInfo) context.Context {
	return context.WithValue(ctx, callInfoKey{}, info)
}

func callInfoFrom(ctx context.Context) *CallInfo {
	info, _ := ctx.Value(callInfoKey{}).(*CallInfo)
	return info
}

// withRetry runs attempt until it succeeds, fails for a reason that is not retryable, runs
// out of attempts, or ctx ends.
func (c *core) withRetry(ctx context.Context, ep endpoint, attempt func(context.Context) error) error {
	var (
		n         int
		ambiguous bool
		last      error
	)
	info := callInfoFrom(ctx)
	for {
		n++
		err := attempt(ctx)
		if err == nil {
			if info != nil {
				info.Attempts, info.Ambiguous = n, ambiguous
			}
			return nil
		}
		if ep.write && mayHaveApplied(err, ep.path) {
			ambiguous = true
		}
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			// The caller's context ended during this attempt. Report the previous failure,
			// which says more about WeCom than "deadline exceeded", with the context's error.
			if last == nil {
				return finish(info, ep, n, ambiguous, err, nil)
			}
			return finish(info, ep, n, ambiguous, last, cerr)
		}
		last = err
		if !IsRetryable(err) || isLocalRateLimit(err) || n >= c.retry.MaxAttempts || (ambiguous && ep.once) {
			return finish(info, ep, n, ambiguous, err, nil)
		}
		retriesTotal.WithLabelValues(ep.path, retryReason(err)).Inc()
		if cause := sleepCtx(ctx, c.retry.backoff(n)); cause != nil {
			return finish(info, ep, n, ambiguous, err, cause)
		}
	}
}

func finish(info *CallInfo, ep endpoint, n int, ambiguous bool, err, cause error) error {
	if info != nil {
		info.Attempts, info.Ambiguous = n, ambiguous
	}
	if n == 1 && !ambiguous && cause == nil {
		return err
	}
	return &CallError{API: ep.path, Attempts: n, Ambiguous: ambiguous, Err: err, Cause: cause}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func isLocalRateLimit(err error) bool {
	var rl *RateLimitError
	return errors.As(err, &rl)
}

// mayHaveApplied reports whether a failed request to path may have been processed by WeCom:
// a 5xx may come from a proxy after WeCom answered, and a network error after the
// connection was established may have lost only the reply. A failed dial or DNS lookup means
// nothing was sent. Errors of other endpoints (a gettoken during the call) do not count.
func mayHaveApplied(err error, path string) bool {
	var te *TransportError
	if !errors.As(err, &te) || te.API != path {
		return false
	}
	if te.StatusCode != 0 {
		return te.StatusCode >= 500
	}
	var dns *net.DNSError
	if errors.As(te.Err, &dns) {
		return false
	}
	var op *net.OpError
	if errors.As(te.Err, &op) && op.Op == "dial" {
		return false
	}
	return true
}

// retryReason is the wecom_retries_total reason label.
func retryReason(err error) string {
	if code, _, ok := apiCode(err); ok {
		return "errcode_" + strconv.Itoa(code)
	}
	var te *TransportError
	if errors.As(err, &te) && te.StatusCode != 0 {
		return "http_" + strconv.Itoa(te.StatusCode)
	}
	return "network"
}
