package notify

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Clock is the time that WeCom's quota windows are measured on. In production it is the wall
// clock; tests use the simulator's clock, running faster than the wall clock.
type Clock interface {
	Now() time.Time
	// Wall converts a duration on this clock into wall-clock time, for requeue delays.
	Wall(d time.Duration) time.Duration
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Wall implements Clock.
func (RealClock) Wall(d time.Duration) time.Duration { return d }

// Rule allows at most Limit sends in any Window.
type Rule struct {
	Window time.Duration
	Limit  int
	// Text names the limit for people, e.g. "30 app messages per minute per member".
	Text string
}

// WeCom's quotas (reference §4, §7, §8, §9). App messages beyond the member quotas and chat
// messages beyond the chat quotas are silently dropped by WeCom; robot messages beyond the
// robot quota are refused with 45009.
var (
	MemberRules = []Rule{
		{Window: time.Minute, Limit: 30, Text: "30 app messages per minute per member"},
		{Window: time.Hour, Limit: 1000, Text: "1000 app messages per hour per member"},
	}
	RobotRules = []Rule{
		{Window: time.Minute, Limit: 20, Text: "20 messages per minute per robot"},
	}
	ChatRules = []Rule{
		{Window: time.Minute, Limit: 200, Text: "200 chat messages per minute per member"},
		{Window: 24 * time.Hour, Limit: 10000, Text: "10000 chat messages per day per member"},
	}
)

// Target is what one send counts against.
type Target struct {
	// Scope owns the quota: an app (corp and agentID), a robot, or an app chat.
	Scope string
	// Name describes the scope for people: "app 1000002", "robot", "chat ops".
	Name string
	// Channel labels metrics: app, chat or robot.
	Channel string
	// Members are the userids the send reaches, compared case-insensitively.
	Members []string
	// Everyone marks a send that counts against every member of the scope: toparty, totag
	// and @all (the operator does not expand them), and robots and chats, which have one
	// counter for the whole scope.
	Everyone bool
	Rules    []Rule
}

// Order ranks waiting sends: older Notifications first, then by name.
type Order struct {
	Created time.Time
	Name    string
}

func (o Order) less(p Order) bool {
	if !o.Created.Equal(p.Created) {
		return o.Created.Before(p.Created)
	}
	return o.Name < p.Name
}

// Decision is the answer of Acquire: a Grant, or when and why to try again.
type Decision struct {
	// Grant is set when the send may go now. Call Done or Cancel on it.
	Grant *Grant
	// Next is the earliest time the send may go (an estimate when Queued > 0).
	Next time.Time
	// Reason says why the send is held, for a condition message.
	Reason string
	// Queued counts earlier sends waiting for the same quota.
	Queued int
	// FirstHold is true the first time a send is held for a quota or behind others.
	FirstHold bool
	// Busy is true when the only thing in the way is an earlier send to the same recipients
	// still waiting for its reply: sends that share a recipient go one at a time, so they
	// arrive in order. Its reply wakes this one; it is not worth a status change.
	Busy bool
}

// Pacer keeps every send of the process within WeCom's quotas. All decisions are taken under
// one lock against the sends already made or in flight, so concurrent reconciles can never
// together cross a quota. Sends that share a recipient (a member, or everyone of an app, a
// robot, a chat) go one at a time and in Order, so a burst is delivered oldest first and a
// resolved alert never overtakes its firing one. A send counts from the moment it is granted
// until its reply came (Done): WeCom may count it at any moment in between, so the pacer
// assumes the worst.
type Pacer struct {
	// Wake is called (outside the lock) with the id of a waiting send that may be able to
	// go now, so its reconcile can run at once instead of at its requeue time.
	Wake func(id string)
	// StaleAfter drops a waiter that has not asked again for this long. Default 5m.
	StaleAfter time.Duration

	mu      sync.Mutex
	scopes  map[string]*scope
	waiters map[string]*waiter
}

type scope struct {
	rules    []Rule
	everyone []*entry
	members  map[string][]*entry
}

// entry is one send. end is when its reply came; an open entry has no reply yet.
type entry struct {
	end  time.Time
	open bool
}

type waiter struct {
	id        string
	order     Order
	target    Target
	seen      time.Time
	announced bool // reported held (FirstHold) already
}

// Grant is a send the pacer let go. It counts against the quotas until Cancel.
type Grant struct {
	p     *Pacer
	scope string
	e     *entry
	done  bool
	w     waiter // to keep the send's place in line (Requeue)
}

// Done records that the send's reply came at t: WeCom may have counted it. Only the first
// Done or Cancel of a Grant counts.
func (g *Grant) Done(t time.Time) {
	g.p.mu.Lock()
	if g.done {
		g.p.mu.Unlock()
		return
	}
	g.e.end, g.e.open, g.done = t, false, true
	wake := g.p.headsLocked(g.scope, time.Time{})
	g.p.mu.Unlock()
	g.p.wake(wake)
}

// Cancel forgets the send: it certainly did not reach WeCom, or WeCom refused it.
func (g *Grant) Cancel() { g.cancel(false) }

// Requeue forgets the send like Cancel but keeps its place in line: for a send that did not
// go out for a reason of its own (its claim in the status conflicted) and asks again at once.
func (g *Grant) Requeue() { g.cancel(true) }

func (g *Grant) cancel(keepPlace bool) {
	g.p.mu.Lock()
	if g.done {
		g.p.mu.Unlock()
		return
	}
	if keepPlace {
		w := g.w
		w.announced = true
		g.p.waiters[w.id] = &w
	}
	g.done = true
	if sc := g.p.scopes[g.scope]; sc != nil {
		sc.everyone = removeEntry(sc.everyone, g.e)
		for m, es := range sc.members {
			if es = removeEntry(es, g.e); len(es) == 0 {
				delete(sc.members, m)
			} else {
				sc.members[m] = es
			}
		}
	}
	wake := g.p.headsLocked(g.scope, time.Time{})
	g.p.mu.Unlock()
	g.p.wake(wake)
}

func removeEntry(es []*entry, e *entry) []*entry {
	return slices.DeleteFunc(es, func(x *entry) bool { return x == e })
}

// Acquire asks whether the send id (ranked by order) to t may go at now.
func (p *Pacer) Acquire(id string, order Order, t Target, now time.Time) Decision {
	p.mu.Lock()
	if p.scopes == nil {
		p.scopes, p.waiters = map[string]*scope{}, map[string]*waiter{}
	}
	t.Members = lowerAll(t.Members)
	sc := p.scopeLocked(t, now)
	p.dropStaleLocked(now)

	w, waiting := p.waiters[id]
	ahead := 0
	for _, o := range p.waiters {
		if o.id != id && o.target.Scope == t.Scope && o.order.less(order) && conflicts(o.target, t) {
			ahead++
		}
	}
	next, rule, member := sc.nextSlot(t, now)
	busy := sc.inFlight(t)
	if ahead == 0 && rule == nil && !busy {
		e := &entry{open: true}
		if t.Everyone {
			sc.everyone = append(sc.everyone, e)
		} else {
			for _, m := range t.Members {
				sc.members[m] = append(sc.members[m], e)
			}
		}
		delete(p.waiters, id)
		// The next in line may be able to go as well.
		wake := p.headsLocked(t.Scope, time.Time{})
		p.mu.Unlock()
		p.wake(wake)
		return Decision{Grant: &Grant{p: p, scope: t.Scope, e: e, w: waiter{id: id, order: order, target: t, seen: now}}}
	}

	if !waiting {
		w = &waiter{id: id}
		p.waiters[id] = w
	}
	w.order, w.target, w.seen = order, t, now
	d := Decision{Next: next, Queued: ahead, Busy: ahead == 0 && rule == nil}
	if !d.Busy && !w.announced {
		d.FirstHold, w.announced = true, true
	}
	switch {
	case d.Busy:
		d.Next = now
		d.Reason = fmt.Sprintf("waiting for the reply to the previous message to the same recipients (%s)", who(t, ""))
	case rule != nil:
		d.Reason = fmt.Sprintf("quota: %s for %s; next slot at %s", rule.Text, who(t, member), next.UTC().Format(time.RFC3339))
		if ahead > 0 {
			d.Reason += fmt.Sprintf("; %d earlier notification(s) queued for the same quota", ahead)
		}
	default:
		d.Next = now
		d.Reason = fmt.Sprintf("queued behind %d earlier notification(s) for the same quota (%s)", ahead, who(t, ""))
	}
	p.mu.Unlock()
	return d
}

// Free counts the sends to t that every rule still allows at now, after the ones made and
// in flight (a held Grant counts as made).
func (p *Pacer) Free(t Target, now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.scopes == nil {
		p.scopes, p.waiters = map[string]*scope{}, map[string]*waiter{}
	}
	t.Members = lowerAll(t.Members)
	sc := p.scopeLocked(t, now)
	members := t.Members
	if t.Everyone {
		members = nil
		for m := range sc.members {
			members = append(members, m)
		}
	}
	if len(members) == 0 {
		members = []string{""}
	}
	free := math.MaxInt
	for _, r := range sc.rules {
		for _, m := range members {
			n := len(counted(sc.everyone, r.Window, now))
			if m != "" {
				n += len(counted(sc.members[m], r.Window, now))
			}
			free = min(free, r.Limit-n)
		}
	}
	if free == math.MaxInt {
		return 0
	}
	return max(free, 0)
}

// Forget drops a waiter: its Notification was sent, failed or deleted.
func (p *Pacer) Forget(id string) {
	p.mu.Lock()
	w, ok := p.waiters[id]
	var wake []string
	if ok {
		delete(p.waiters, id)
		wake = p.headsLocked(w.target.Scope, time.Time{})
	}
	p.mu.Unlock()
	p.wake(wake)
}

// Record adds a send made at t, for example one found in the status of a Notification sent
// before the manager restarted.
func (p *Pacer) Record(t Target, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.scopes == nil {
		p.scopes, p.waiters = map[string]*scope{}, map[string]*waiter{}
	}
	t.Members = lowerAll(t.Members)
	sc := p.scopeLocked(t, at)
	e := &entry{end: at}
	if t.Everyone {
		sc.everyone = append(sc.everyone, e)
		return
	}
	for _, m := range t.Members {
		sc.members[m] = append(sc.members[m], e)
	}
}

// Waiting counts held sends by channel.
func (p *Pacer) Waiting() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, w := range p.waiters {
		out[w.target.Channel]++
	}
	return out
}

func (p *Pacer) wake(ids []string) {
	if p.Wake == nil {
		return
	}
	for _, id := range ids {
		p.Wake(id)
	}
}

func (p *Pacer) scopeLocked(t Target, now time.Time) *scope {
	sc := p.scopes[t.Scope]
	if sc == nil {
		sc = &scope{members: map[string][]*entry{}}
		p.scopes[t.Scope] = sc
	}
	if len(t.Rules) > 0 {
		sc.rules = t.Rules
	}
	sc.prune(now)
	return sc
}

func (p *Pacer) dropStaleLocked(now time.Time) {
	stale := p.StaleAfter
	if stale <= 0 {
		stale = 5 * time.Minute
	}
	for id, w := range p.waiters {
		if now.Sub(w.seen) > stale {
			delete(p.waiters, id)
		}
	}
}

// headsLocked lists the waiters of scope that no earlier waiter blocks.
func (p *Pacer) headsLocked(scopeName string, _ time.Time) []string {
	var ws []*waiter
	for _, w := range p.waiters {
		if w.target.Scope == scopeName {
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b *waiter) int {
		if a.order.less(b.order) {
			return -1
		}
		if b.order.less(a.order) {
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	var heads []string
	for i, w := range ws {
		blocked := false
		for _, e := range ws[:i] {
			if conflicts(e.target, w.target) {
				blocked = true
				break
			}
		}
		if !blocked {
			heads = append(heads, w.id)
		}
	}
	return heads
}

func conflicts(a, b Target) bool {
	if a.Everyone || b.Everyone {
		return true
	}
	for _, m := range a.Members {
		if slices.Contains(b.Members, m) {
			return true
		}
	}
	return false
}

func who(t Target, member string) string {
	switch {
	case member != "":
		return fmt.Sprintf("user %q of %s", member, t.Name)
	case t.Everyone && t.Channel == "app":
		return "every member of " + t.Name + " (toparty, totag and @all count against everyone)"
	default:
		return t.Name
	}
}

// inFlight reports whether a send that shares a recipient with t has no reply yet.
func (sc *scope) inFlight(t Target) bool {
	open := func(es []*entry) bool {
		return slices.ContainsFunc(es, func(e *entry) bool { return e.open })
	}
	if open(sc.everyone) {
		return true
	}
	if t.Everyone {
		for _, es := range sc.members {
			if open(es) {
				return true
			}
		}
		return false
	}
	for _, m := range t.Members {
		if open(sc.members[m]) {
			return true
		}
	}
	return false
}

// prune forgets finished sends older than the longest window.
func (sc *scope) prune(now time.Time) {
	var longest time.Duration
	for _, r := range sc.rules {
		longest = max(longest, r.Window)
	}
	keep := func(es []*entry) []*entry {
		return slices.DeleteFunc(es, func(e *entry) bool { return !e.open && !e.end.After(now.Add(-longest)) })
	}
	sc.everyone = keep(sc.everyone)
	for m, es := range sc.members {
		if es = keep(es); len(es) == 0 {
			delete(sc.members, m)
		} else {
			sc.members[m] = es
		}
	}
}

// nextSlot returns the earliest time at or after now at which a send to t stays within every
// rule, with the rule and member that decide it; rule is nil when the send may go now. A
// send in flight counts until its reply; when only its reply can free a slot, the estimate
// is one second from now (the reply wakes the waiters anyway).
func (sc *scope) nextSlot(t Target, now time.Time) (time.Time, *Rule, string) {
	members := t.Members
	if t.Everyone {
		members = members[:0:0]
		for m := range sc.members {
			members = append(members, m)
		}
		slices.Sort(members)
	}
	if len(members) == 0 {
		members = []string{""}
	}
	next := now
	var (
		rule   *Rule
		member string
	)
	for i := range sc.rules {
		r := &sc.rules[i]
		for _, m := range members {
			ends := counted(sc.everyone, r.Window, now)
			if m != "" {
				ends = append(ends, counted(sc.members[m], r.Window, now)...)
			}
			if len(ends) < r.Limit {
				continue
			}
			slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
			free := ends[len(ends)-r.Limit]
			at := free.Add(r.Window)
			if free.Equal(forever) {
				at = now.Add(time.Second)
			}
			if rule == nil || at.After(next) {
				next, rule = at, r
				member = m
				if t.Everyone && t.Channel != "app" {
					member = ""
				}
			}
		}
	}
	return next, rule, member
}

var forever = time.Unix(math.MaxInt32, 0)

// counted returns the reply times of the entries that count in a window ending now; open
// entries count as forever.
func counted(es []*entry, window time.Duration, now time.Time) []time.Time {
	var out []time.Time
	from := now.Add(-window)
	for _, e := range es {
		switch {
		case e.open:
			out = append(out, forever)
		case e.end.After(from):
			out = append(out, e.end)
		}
	}
	return out
}

func lowerAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.ToLower(s)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
