// Package offboarding tests WeComUser spec.offboarding end to end: a member with customers
// and customer group chats is deleted with a handover to a successor, through a real API
// server, the WeCom simulator over HTTP (whose clock completes handovers after 24 hours) and
// the operator's manager.
package offboarding

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

var (
	env *testenv.Env
	ctx = context.Background()
)

func TestOffboarding(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "WeComUser offboarding: customers handed over before the member is deleted")
}

var _ = BeforeSuite(func() {
	env = testenv.StartSuite(testenv.Options{})
})
