// Package apps tests WeComAppChat, ContactWay and Schedule end to end: a real API server, the
// WeCom simulator over HTTP and the operator's manager.
package apps

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var (
	env *testenv.Env
	ctx = context.Background()
	// hand changes WeCom behind the operator's back, as the same app: drift to repair.
	hand *wecom.Client
)

func TestApps(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "app chat, contact way and schedule controllers")
}

var _ = BeforeSuite(func() {
	// Members the operator creates are active at once, as if they had logged in: a contact
	// way refuses members who never did (41054), which the seeded "newbie" below stands for.
	env = testenv.StartSuite(testenv.Options{Sim: wecomsim.Options{ActivateCreatedUsers: true}})
	Expect(env.Sim.Seed(wecomsim.Seed{Users: []wecomsim.User{
		{UserID: "newbie", Name: "New Hire", Email: "newbie@example.com", Department: []int64{4}, Inactive: true},
	}})).To(Succeed())
	var err error
	hand, err = wecom.New(wecom.Config{
		BaseURL: env.Sim.URL, CorpID: env.Creds.CorpID, Secret: env.Creds.AppSecret,
		Tokens: wecom.NewTokenCache(wecom.TokenCacheOptions{}), Retry: wecom.RetryPolicy{MaxAttempts: 1},
	})
	Expect(err).NotTo(HaveOccurred())
})
