package wecom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// The access token is shared by everything in the process that uses the same app (reference
// §1: one token per (corpid, secret)). The cache gets four things right that peer SDKs miss:
//   - one cache per (base URL, corp ID, secret), shared by every Client of that key;
//   - at most one gettoken in flight per key, however many goroutines ask;
//   - refresh ahead of expiry, in the background, while callers keep using the valid token
//     (and if WeCom answers with the same token, as it does while a token is valid, no
//     further early refreshes for that token);
//   - invalidation on 40014/42001 only if the cached token is still the one that failed, so
//     a burst of failures does not throw away a token another goroutine just fetched.

// TokenCacheOptions configures NewTokenCache; zero fields take defaults.
type TokenCacheOptions struct {
	// FailureTTL is how long a credential failure of gettoken (wrong secret, corp ID, …) is
	// remembered and returned without asking WeCom again. WeCom bans an IP for an hour after
	// repeated wrong secrets (§1), and a reconcile storm must not trigger that. Default 10s.
	FailureTTL time.Duration
	// BackgroundRetry is the pause after a failed background refresh before the next one
	// (the current token is still valid meanwhile). Default 10s.
	BackgroundRetry time.Duration
	// FetchTimeout bounds one gettoken. The fetch does not use the context of the caller that
	// started it, so that one impatient caller cannot fail the others waiting. Default 30s.
	FetchTimeout time.Duration
}

// TokenCache holds access tokens. Its zero value is not usable; use NewTokenCache.
type TokenCache struct {
	opts    TokenCacheOptions
	mu      sync.Mutex
	entries map[tokenKey]*tokenEntry
}

// DefaultTokenCache is shared by every Client that does not set Config.Tokens.
var DefaultTokenCache = NewTokenCache(TokenCacheOptions{})

// NewTokenCache returns an empty cache.
func NewTokenCache(opts TokenCacheOptions) *TokenCache {
	if opts.FailureTTL <= 0 {
		opts.FailureTTL = 10 * time.Second
	}
	if opts.BackgroundRetry <= 0 {
		opts.BackgroundRetry = 10 * time.Second
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = 30 * time.Second
	}
	return &TokenCache{opts: opts, entries: map[tokenKey]*tokenEntry{}}
}

// tokenKey identifies one app. The secret is kept only as a SHA-256 hash, so printing a key
// (or a map of them) cannot reveal it.
type tokenKey struct {
	baseURL    string
	corpID     string
	secretHash string
}

func newTokenKey(baseURL, corpID, secret string) tokenKey {
	return tokenKey{baseURL: baseURL, corpID: corpID, secretHash: hashHex(secret)}
}

func (k tokenKey) String() string { return k.corpID + "@" + k.baseURL + "#" + k.secretHash[:12] }

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

type tokenEntry struct {
	token     string
	refreshAt time.Time // start a background refresh from here on
	expiresAt time.Time // stop using the token from here on
	flight    *tokenFlight
	// noRefreshUntil delays the next background refresh after one failed.
	noRefreshUntil time.Time
	// failErr is a remembered credential failure, returned until failUntil.
	failErr   error
	failUntil time.Time
}

type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
}

// tokenFetcher calls gettoken once.
type tokenFetcher func(ctx context.Context) (token string, expiresIn time.Duration, err error)

// get returns a usable token for key, fetching it if needed. now is the caller's clock.
func (c *TokenCache) get(ctx context.Context, key tokenKey, now func() time.Time, fetch tokenFetcher) (string, error) {
	c.mu.Lock()
	e := c.entries[key]
	if e == nil {
		e = &tokenEntry{}
		c.entries[key] = e
	}
	t := now()
	if e.token != "" && t.Before(e.expiresAt) {
		tok := e.token
		if !t.Before(e.refreshAt) && e.flight == nil && !t.Before(e.noRefreshUntil) {
			c.startFlight(ctx, e, now, fetch)
		}
		c.mu.Unlock()
		return tok, nil
	}
	if e.failErr != nil && t.Before(e.failUntil) {
		err := e.failErr
		c.mu.Unlock()
		return "", err
	}
	f := e.flight
	if f == nil {
		f = c.startFlight(ctx, e, now, fetch)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// startFlight runs one gettoken for e. c.mu must be held.
func (c *TokenCache) startFlight(ctx context.Context, e *tokenEntry, now func() time.Time, fetch tokenFetcher) *tokenFlight {
	f := &tokenFlight{done: make(chan struct{})}
	e.flight = f
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FetchTimeout)
	start := now() // lifetimes count from before the request, never from after it
	go func() {
		defer cancel()
		tok, ttl, err := fetch(fctx)
		c.mu.Lock()
		e.flight = nil
		switch {
		case err == nil && tok == e.token:
			// WeCom hands out the same token again while it is valid (§1), so it cannot be
			// renewed early: use it until WeCom's own expiry and fetch again only then,
			// instead of refreshing ever more often as its remaining lifetime shrinks. A
			// request that arrives after the expiry gets 42001 and is repeated once.
			if ttl <= 0 {
				ttl = defaultTokenTTL
			}
			e.expiresAt = start.Add(ttl)
			e.refreshAt = e.expiresAt
			e.failErr, e.noRefreshUntil = nil, time.Time{}
		case err == nil:
			e.token = tok
			e.refreshAt, e.expiresAt = tokenSchedule(start, ttl)
			e.failErr, e.noRefreshUntil = nil, time.Time{}
		case IsCredential(err):
			e.failErr, e.failUntil = err, now().Add(c.opts.FailureTTL)
			e.noRefreshUntil = now().Add(c.opts.BackgroundRetry)
		default:
			e.noRefreshUntil = now().Add(c.opts.BackgroundRetry)
		}
		f.token, f.err = tok, err
		c.mu.Unlock()
		close(f.done)
	}()
	return f
}

// invalidate drops key's token if it is still the given (rejected) one. A token another
// goroutine fetched meanwhile is kept.
func (c *TokenCache) invalidate(key tokenKey, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil && e.token == token {
		e.token = ""
		e.refreshAt, e.expiresAt = time.Time{}, time.Time{}
	}
}

// defaultTokenTTL is used when gettoken omits expires_in; WeCom documents 7200 s (§1).
const defaultTokenTTL = 7200 * time.Second

// tokenSchedule returns when to refresh a token fetched at start with lifetime ttl
// (at 80% of the lifetime or 5 minutes before expiry, whichever comes first, but never in the
// first half of a short lifetime) and when to stop using it (a little before expiry, so that
// a request in flight does not arrive with a token that just expired).
func tokenSchedule(start time.Time, ttl time.Duration) (refreshAt, expiresAt time.Time) {
	if ttl <= 0 {
		ttl = defaultTokenTTL
	}
	margin := min(max(ttl/5, 5*time.Minute), ttl/2)
	skew := min(30*time.Second, ttl/10)
	return start.Add(ttl - margin), start.Add(ttl - skew)
}
