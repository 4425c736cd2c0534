// Package notifications tests Notification delivery and the AlertReceiver webhook end to end:
// a real API server, the WeCom simulator over HTTP and the operator's manager. The pacer
// measures WeCom's quota windows on the simulator's clock, which the burst specs run faster
// than the wall clock.
package notifications

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var (
	env       *testenv.Env
	ctx       = context.Background()
	clock     = &simClock{}
	amAddr    string
	chatID    = "notifchat1"
	burstUser = "burst"
	// stormUser and calmUser are the fold specs' members.
	stormUser, calmUser = "storm", "calm"
	burstBot            = "00000000-0000-4000-8000-0000000b0b0b"
)

func TestNotifications(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "notifications and the Alertmanager receiver")
}

var _ = BeforeSuite(func() {
	amAddr = fmt.Sprintf("127.0.0.1:%d", freePort())
	var err error
	env, err = testenv.Start(testenv.Options{Controller: controller.Options{
		ReceiverAddr:          amAddr,
		NotificationRetryBase: 200 * time.Millisecond,
		NotificationClock:     clock,
	}})
	Expect(err).NotTo(HaveOccurred())
	clock.sim.Store(env.Sim)

	// A member and a robot only the burst specs use, so their quota windows do not slow the
	// other specs down; and an app chat for the chat channel.
	Expect(env.Sim.Seed(wecomsim.Seed{
		Users: []wecomsim.User{{UserID: burstUser, Name: "Burst", Email: "burst@example.com", Department: []int64{1}},
			{UserID: stormUser, Name: "Storm", Email: "storm@example.com", Department: []int64{1}},
			{UserID: calmUser, Name: "Calm", Email: "calm@example.com", Department: []int64{1}}},
		Robots: []wecomsim.Robot{{Key: burstBot, Name: "burst-bot", ChatName: "Burst"}},
	})).To(Succeed())
	app, err := wecom.New(wecom.Config{BaseURL: env.Sim.URL, CorpID: env.Creds.CorpID, Secret: env.Creds.AppSecret})
	Expect(err).NotTo(HaveOccurred())
	_, err = app.CreateAppChat(ctx, wecom.CreateAppChatRequest{Name: "Ops", Owner: "lisi", UserList: []string{"lisi", "wangwu"}, ChatID: chatID})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		// Nothing any spec sent was silently dropped by WeCom's quotas.
		Expect(env.Sim.Drops()).To(BeEmpty(), "WeCom dropped messages over quota")
		env.Stop()
	}
})

func freePort() int {
	p, err := testenv.FreePort()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return p
}

// simClock is the simulator's clock, which WeCom's quotas are measured on. warp runs it
// speed times faster than the wall clock until the returned stop is called.
type simClock struct {
	sim   atomic.Pointer[wecomsim.Server]
	speed atomic.Int64
}

func (c *simClock) Now() time.Time {
	if s := c.sim.Load(); s != nil {
		return s.Now()
	}
	return time.Now()
}

func (c *simClock) Wall(d time.Duration) time.Duration {
	if s := c.speed.Load(); s > 1 {
		return d / time.Duration(s)
	}
	return d
}

func (c *simClock) warp(speed int64) (stop func()) {
	c.speed.Store(speed)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		const tick = 10 * time.Millisecond
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.sim.Load().Advance(time.Duration(speed-1) * tick)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			c.speed.Store(1)
		})
	}
}
