// Package calendar tests WeComCalendar end to end, and Schedules in a managed calendar: a
// real API server, the WeCom simulator over HTTP and the operator's manager, asserting on
// what a person sees (conditions, status, events) and on what WeCom received (the
// simulator's state and call log).
package calendar

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

var (
	env *testenv.Env
	ctx = context.Background()
	// hand changes WeCom behind the operator's back, as the same app: drift to repair.
	hand *wecom.Client
)

func TestCalendar(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "WeComCalendar and Schedule calendarRef")
}

var _ = BeforeSuite(func() {
	env = testenv.StartSuite(testenv.Options{})
	var err error
	hand, err = wecom.New(wecom.Config{
		BaseURL: env.Sim.URL, CorpID: env.Creds.CorpID, Secret: env.Creds.AppSecret,
		Tokens: wecom.NewTokenCache(wecom.TokenCacheOptions{}), Retry: wecom.RetryPolicy{MaxAttempts: 1},
	})
	Expect(err).NotTo(HaveOccurred())
})
