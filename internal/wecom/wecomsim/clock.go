package wecomsim

import (
	"sync"
	"time"
)

// clock is the simulator's notion of "now". It starts as the real clock
// (optionally shifted by Advance) and becomes frozen once SetNow is called,
// so tests can step through token expiry, quotas and rate windows without
// sleeping.
type clock struct {
	mu     sync.Mutex
	frozen bool
	fixed  time.Time     // the frozen time when frozen
	offset time.Duration // shift applied to the real clock when not frozen
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.fixed
	}
	return time.Now().Add(c.offset)
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = true
	c.fixed = t
}

func (c *clock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.fixed = c.fixed.Add(d)
		return c.fixed
	}
	c.offset += d
	return time.Now().Add(c.offset)
}

// real returns the clock to real time (dropping any freeze and offset).
func (c *clock) real() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = false
	c.offset = 0
}

func (c *clock) isFrozen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frozen
}

// Now returns the simulator clock's current time.
func (s *Sim) Now() time.Time { return s.clock.now() }

// SetNow freezes the simulator clock at t. Every time-dependent rule (token
// expiry, message quotas, robot rate limit, 45009 blocking windows,
// duplicate check, recall window, contact-way timestamps) reads this clock.
func (s *Sim) SetNow(t time.Time) { s.clock.set(t) }

// Advance moves the simulator clock forward by d and returns the new time.
// On a real (unfrozen) clock it adds an offset that keeps ticking.
func (s *Sim) Advance(d time.Duration) time.Time { return s.clock.advance(d) }

// UseRealClock returns the simulator clock to wall-clock time.
func (s *Sim) UseRealClock() { s.clock.real() }
