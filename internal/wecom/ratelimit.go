package wecom

import (
	"context"
	"maps"
	"sync"
	"time"
)

// RateLimit is a token bucket: PerSecond tokens are added per second up to Burst. A
// negative PerSecond disables limiting (a zero RateLimit in LimitersOptions means "default").
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultRateLimit applies per (corp, endpoint). WeCom allows each corp 10,000 calls/min and
// 150,000 calls/hour per API (reference §9); 40/s is 2,400/min (a quarter of the minute
// limit, leaving room for other tools of the same corp) and 144,000/hour (under the hourly
// limit even if sustained).
var DefaultRateLimit = RateLimit{PerSecond: 40, Burst: 20}

// DefaultEndpointLimits are tighter limits for endpoints WeCom limits separately (§4, §8, §9).
// Buckets are sized so that no window of the documented length can exceed the limit:
// within any 60 s a robot gets at most Burst + 60·PerSecond = 5 + 15 = 20 messages. App chat
// buckets allow at most 950 per window (1,000 less a margin for other tools), with a burst of
// 100 so that applying 100 chats at once does not wait a day for the last 50.
var DefaultEndpointLimits = map[string]RateLimit{
	apiAppChatCreate: {PerSecond: 850.0 / 86400, Burst: 100}, // ≤1000 chats created per corp per day
	apiAppChatUpdate: {PerSecond: 850.0 / 3600, Burst: 100},  // ≤1000 changes per corp per hour
	apiWebhookSend:   {PerSecond: 15.0 / 60, Burst: 5},       // ≤20 messages per robot per minute
}

// DefaultMaxWait is how long a call may wait for its rate limiter before it fails with a
// *RateLimitError instead, so that a reconcile worker is not blocked for minutes.
const DefaultMaxWait = 10 * time.Second

// LimitersOptions configures NewLimiters; zero fields take the defaults above.
type LimitersOptions struct {
	Default  RateLimit
	Endpoint map[string]RateLimit // by endpoint path, e.g. "webhook/send"; replaces DefaultEndpointLimits
	MaxWait  time.Duration
	Now      func() time.Time // for tests of the bucket arithmetic; waiting always uses real timers
}

// Limiters is a registry of client-side rate limiters keyed by (base URL, corp, endpoint), or
// (base URL, robot key hash, endpoint) for webhooks. WeCom counts calls per corp, whichever
// app's secret makes them, so every Client of one corp must share one registry; the package
// default does that for a whole process.
type Limiters struct {
	opts    LimitersOptions
	mu      sync.Mutex
	buckets map[limiterKey]*bucket
}

type limiterKey struct{ scope, api string }

// DefaultLimiters is shared by every client that does not set Config.Limiters.
var DefaultLimiters = NewLimiters(LimitersOptions{})

// NewLimiters returns an empty registry.
func NewLimiters(opts LimitersOptions) *Limiters {
	if opts.Default == (RateLimit{}) {
		opts.Default = DefaultRateLimit
	}
	if opts.Endpoint == nil {
		opts.Endpoint = DefaultEndpointLimits
	}
	opts.Endpoint = maps.Clone(opts.Endpoint) // later changes to the caller's map do not leak in
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Limiters{opts: opts, buckets: map[limiterKey]*bucket{}}
}

// SetEndpointLimit changes one endpoint's limit in a registry already made, for a component
// that shares the registry but paces that endpoint itself. Buckets of the endpoint made
// before are dropped, so the next call starts a bucket with the new limit.
func (l *Limiters) SetEndpointLimit(api string, lim RateLimit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opts.Endpoint[api] = lim
	for k := range l.buckets {
		if k.api == api {
			delete(l.buckets, k)
		}
	}
}

func (l *Limiters) bucket(scope, api string) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := limiterKey{scope, api}
	b := l.buckets[k]
	if b == nil {
		lim, ok := l.opts.Endpoint[api]
		if !ok {
			lim = l.opts.Default
		}
		b = newBucket(lim, l.opts.Now())
		l.buckets[k] = b
	}
	return b
}

// wait blocks until the call may go out. It fails fast with *RateLimitError when the wait
// would exceed MaxWait or the context's deadline, and without consuming a token.
func (l *Limiters) wait(ctx context.Context, scope, api string) error {
	b := l.bucket(scope, api)
	maxWait := l.opts.MaxWait
	if dl, ok := ctx.Deadline(); ok {
		maxWait = min(maxWait, time.Until(dl))
	}
	d, ok := b.reserve(l.opts.Now(), maxWait)
	if !ok {
		rateLimitedTotal.WithLabelValues(api, "refused").Inc()
		return &RateLimitError{API: api, RetryAfter: d}
	}
	if d <= 0 {
		return nil
	}
	rateLimitedTotal.WithLabelValues(api, "delayed").Inc()
	if err := sleepCtx(ctx, d); err != nil {
		b.unreserve()
		return err
	}
	return nil
}

type bucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; <= 0 means unlimited
	burst  float64
	tokens float64 // may go negative: reservations waiting for their turn
	last   time.Time
}

func newBucket(lim RateLimit, now time.Time) *bucket {
	burst := float64(max(lim.Burst, 1))
	return &bucket{rate: lim.PerSecond, burst: burst, tokens: burst, last: now}
}

// reserve takes a token and returns how long the caller must wait before using it. If that
// is longer than maxWait it takes nothing and returns the wait with ok=false.
func (b *bucket) reserve(now time.Time, maxWait time.Duration) (wait time.Duration, ok bool) {
	if b.rate <= 0 {
		return 0, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait = time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	if wait > maxWait {
		return wait, false
	}
	b.tokens--
	return wait, true
}

// unreserve returns a token whose caller gave up waiting.
func (b *bucket) unreserve() {
	if b.rate <= 0 {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.burst, b.tokens+1)
	b.mu.Unlock()
}
