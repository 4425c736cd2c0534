package notify

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func user(u ...string) Target {
	return Target{Scope: "app|corp|1", Name: "app 1", Channel: "app", Members: u, Rules: MemberRules}
}

func everyone() Target {
	return Target{Scope: "app|corp|1", Name: "app 1", Channel: "app", Everyone: true, Rules: MemberRules}
}

func order(i int) Order { return Order{Created: t0, Name: fmt.Sprintf("ns/n-%04d", i)} }

// maxInWindow is the largest number of times in any window [x, x+w).
func maxInWindow(times []time.Time, w time.Duration) int {
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	best := 0
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < w; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

func TestPacerBurstToOneMemberStaysWithinQuotaAndKeepsOrder(t *testing.T) {
	p := &Pacer{}
	now := t0
	var sent []time.Time
	var got []int
	pending := make([]int, 200)
	for i := range pending {
		pending[i] = i
	}
	// Each second every pending send asks again, in a shuffled order (as concurrent
	// reconciles would); a granted send is answered at once.
	rnd := rand.New(rand.NewPCG(1, 2))
	for step := 0; len(pending) > 0 && step < 3600; step++ {
		rnd.Shuffle(len(pending), func(i, j int) { pending[i], pending[j] = pending[j], pending[i] })
		var still []int
		for _, i := range pending {
			d := p.Acquire(fmt.Sprint(i), order(i), user("LiSi"), now)
			if d.Grant == nil {
				if d.Reason == "" || d.Next.Before(now) {
					t.Fatalf("held without a reason or with a next slot in the past: %+v", d)
				}
				still = append(still, i)
				continue
			}
			d.Grant.Done(now)
			sent = append(sent, now)
			got = append(got, i)
		}
		pending = still
		now = now.Add(time.Second)
	}
	if len(got) != 200 {
		t.Fatalf("delivered %d of 200", len(got))
	}
	if n := maxInWindow(sent, time.Minute); n > 30 {
		t.Errorf("%d sends in one minute, WeCom allows 30", n)
	}
	// Once sends are held, they go oldest first.
	if !slices.IsSorted(got[30:]) {
		t.Errorf("held sends went out of order: %v", got[30:60])
	}
	if last := sent[len(sent)-1].Sub(t0); last > 7*time.Minute || last < 6*time.Minute {
		t.Errorf("200 sends at 30/min took %s, want 6 to 7 minutes", last)
	}
}

func TestPacerConcurrentAcquireNeverOvershoots(t *testing.T) {
	// Each sender waits for its wake-up, as a reconcile does, and asks again. Once the quota
	// holds one sender, it holds everyone behind it too, and nothing wakes them: full tells
	// them to ask a last time.
	wake := make(map[string]chan struct{}, 100)
	for i := range 100 {
		wake[fmt.Sprint(i)] = make(chan struct{}, 1)
	}
	full := make(chan struct{})
	quotaReached := sync.OnceFunc(func() { close(full) })
	p := &Pacer{Wake: func(id string) {
		select {
		case wake[id] <- struct{}{}:
		default: // a wake-up is pending already
		}
	}}
	var (
		mu      sync.Mutex
		granted int
		wg      sync.WaitGroup
	)
	// 100 concurrent senders at one instant, each asking until it goes or a quota holds it.
	for i := range 100 {
		id := fmt.Sprint(i)
		wg.Go(func() {
			for {
				d := p.Acquire(id, order(i), user("lisi"), t0)
				if d.Grant != nil {
					mu.Lock()
					granted++
					mu.Unlock()
					d.Grant.Done(t0)
					return
				}
				if d.Next.After(t0) {
					quotaReached()
					return // held by the quota until later
				}
				select {
				case <-wake[id]:
				case <-full:
				}
			}
		})
	}
	wg.Wait()
	if granted != 30 {
		t.Errorf("granted %d sends at one instant, want exactly 30", granted)
	}
}

func TestPacerSendsToOneMemberOneAtATime(t *testing.T) {
	p := &Pacer{}
	first := p.Acquire("1", order(1), user("lisi"), t0)
	if first.Grant == nil {
		t.Fatal("the first send was held")
	}
	d := p.Acquire("2", order(2), user("lisi", "wangwu"), t0)
	if d.Grant != nil || !d.Busy || d.FirstHold {
		t.Fatalf("a second send to lisi while the first is on the wire: %+v", d)
	}
	if d := p.Acquire("3", order(3), user("wangwu"), t0); d.Grant != nil || d.Queued != 1 {
		t.Fatalf("a send to wangwu overtook the earlier one to lisi and wangwu: %+v", d)
	}
	if d := p.Acquire("4", order(4), user("zhaoliu"), t0); d.Grant == nil {
		t.Fatalf("a send to someone else waited: %+v", d)
	}
	first.Grant.Done(t0)
	if d := p.Acquire("2", order(2), user("lisi", "wangwu"), t0); d.Grant == nil {
		t.Fatalf("held after the reply: %+v", d)
	}
}

func TestPacerInFlightCountsUntilItsReply(t *testing.T) {
	robot := Target{Scope: "robot|1", Name: "robot", Channel: "robot", Everyone: true, Rules: RobotRules}
	p := &Pacer{}
	for i := range 19 {
		p.Acquire(fmt.Sprint(i), order(i), robot, t0).Grant.Done(t0)
	}
	last := p.Acquire("19", order(19), robot, t0).Grant // no reply yet
	// However much later: WeCom may count the open one at any moment until it answers.
	if d := p.Acquire("20", order(20), robot, t0.Add(5*time.Minute)); d.Grant != nil {
		t.Fatal("granted while a send is in flight")
	}
	last.Done(t0.Add(5 * time.Minute))
	// It counts from its reply: with 19 more at 5m, the robot is full until 6m.
	for i := 20; i < 39; i++ {
		d := p.Acquire(fmt.Sprint(i), order(i), robot, t0.Add(5*time.Minute))
		if d.Grant == nil {
			t.Fatalf("send %d held: %s", i, d.Reason)
		}
		d.Grant.Done(t0.Add(5 * time.Minute))
	}
	d := p.Acquire("39", order(39), robot, t0.Add(5*time.Minute+59*time.Second))
	if d.Grant != nil || !d.Next.Equal(t0.Add(6*time.Minute)) {
		t.Fatalf("got grant=%v next=%s, want held until the replies are a minute old", d.Grant != nil, d.Next)
	}
	if d = p.Acquire("39", order(39), robot, t0.Add(6*time.Minute)); d.Grant == nil {
		t.Fatalf("held at the next slot: %s", d.Reason)
	}
}

func TestPacerCancelReturnsTheSlot(t *testing.T) {
	p := &Pacer{}
	for i := range 30 {
		d := p.Acquire(fmt.Sprint(i), order(i), user("lisi"), t0)
		if i == 29 {
			d.Grant.Cancel() // WeCom refused it: nothing delivered
		} else {
			d.Grant.Done(t0)
		}
	}
	if d := p.Acquire("x", order(99), user("lisi"), t0); d.Grant == nil {
		t.Fatalf("a cancelled send still counts: %s", d.Reason)
	}
}

func TestPacerEveryoneCountsAgainstEveryMember(t *testing.T) {
	p := &Pacer{}
	for i := range 20 {
		p.Acquire(fmt.Sprint(i), order(i), user("lisi"), t0).Grant.Done(t0)
	}
	for i := range 10 {
		d := p.Acquire(fmt.Sprint(100+i), order(100+i), everyone(), t0)
		if d.Grant == nil {
			t.Fatalf("broadcast %d held: %s", i, d.Reason)
		}
		d.Grant.Done(t0)
	}
	// lisi has 20 + 10 = 30; a broadcast and a send to lisi must wait, one to wangwu (10) not.
	if d := p.Acquire("b", order(200), everyone(), t0); d.Grant != nil {
		t.Error("a broadcast went although lisi is at 30/min")
	}
	p.Forget("b")
	if d := p.Acquire("l", order(201), user("lisi"), t0); d.Grant != nil {
		t.Error("a send to lisi went although lisi is at 30/min")
	}
	p.Forget("l")
	if d := p.Acquire("w", order(202), user("wangwu"), t0); d.Grant == nil {
		t.Errorf("a send to wangwu was held: %s", d.Reason)
	}
}

func TestPacerWaitersGoInOrderAndAreWoken(t *testing.T) {
	var woken []string
	p := &Pacer{}
	p.Wake = func(id string) { woken = append(woken, id) }
	robot := Target{Scope: "robot|1", Name: "robot", Channel: "robot", Everyone: true, Rules: RobotRules}
	for i := range 19 {
		p.Acquire(fmt.Sprint(i), order(i), robot, t0).Grant.Done(t0)
	}
	last := p.Acquire("19", order(19), robot, t0).Grant
	last.Done(t0)
	// Two more arrive, the younger one first.
	if d := p.Acquire("late", order(50), robot, t0); d.Grant != nil || !d.FirstHold {
		t.Fatal("late went over the robot's 20/min")
	}
	d := p.Acquire("early", order(40), robot, t0)
	if d.Grant != nil || d.Queued != 0 || !d.FirstHold {
		t.Fatalf("early: %+v", d)
	}
	if d := p.Acquire("late", order(50), robot, t0.Add(2*time.Minute)); d.Grant != nil || d.Queued != 1 || d.FirstHold {
		t.Fatalf("late overtook early: %+v", d)
	}
	woken = nil
	p.Forget("early") // deleted
	if !slices.Equal(woken, []string{"late"}) {
		t.Errorf("forgetting the head woke %v, want the next waiter", woken)
	}
	d = p.Acquire("late", order(50), robot, t0.Add(2*time.Minute))
	if d.Grant == nil {
		t.Fatalf("late: %+v", d)
	}
	woken = nil
	p.Acquire("after", order(60), robot, t0.Add(2*time.Minute)) // busy: late is on the wire
	d.Grant.Done(t0.Add(2 * time.Minute))
	if !slices.Equal(woken, []string{"after"}) {
		t.Errorf("a reply woke %v, want the next waiter", woken)
	}
	if w := p.Waiting(); w["robot"] != 1 {
		t.Errorf("Waiting() = %v", w)
	}
}

func TestPacerRecordRestoresHistory(t *testing.T) {
	p := &Pacer{}
	for range 30 {
		p.Record(user("lisi"), t0.Add(-30*time.Second))
	}
	d := p.Acquire("x", order(1), user("lisi"), t0)
	if d.Grant != nil || !d.Next.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("after a restart: grant=%v next=%s", d.Grant != nil, d.Next)
	}
}

func TestPacerRequeueKeepsThePlaceInLine(t *testing.T) {
	var woken []string
	p := &Pacer{Wake: func(id string) { woken = append(woken, id) }}
	first := p.Acquire("1", order(1), user("lisi"), t0)
	if d := p.Acquire("2", order(2), user("lisi"), t0); !d.Busy {
		t.Fatalf("2: %+v", d)
	}
	woken = nil
	first.Grant.Requeue() // its status write conflicted
	if !slices.Equal(woken, []string{"1"}) {
		t.Errorf("woke %v, want the requeued send first", woken)
	}
	if d := p.Acquire("2", order(2), user("lisi"), t0); d.Grant != nil || d.Queued != 1 {
		t.Fatalf("2 overtook the requeued send: %+v", d)
	}
	if d := p.Acquire("1", order(1), user("lisi"), t0); d.Grant == nil {
		t.Fatalf("the requeued send lost its place: %+v", d)
	}
}
