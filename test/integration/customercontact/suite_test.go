// Package customercontact tests CustomerTagGroup and GroupWelcomeTemplate end to end: a real
// API server, the WeCom simulator over HTTP and the operator's manager, asserting on what a
// person sees (conditions, status, events) and on what WeCom received (the simulator's state
// and call log).
//
// Every spec works in its own namespace and deletes what it made; the simulator is shared, so
// group names include the namespace.
package customercontact

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var (
	env *testenv.Env
	ctx = context.Background()
)

// otherApp is a second self-built app with customer-contact permission, whose secret stands
// for another tool that made customer tags or templates the operator's app did not.
var otherApp = wecomsim.App{Name: "crm", Secret: "CrmAppSecret00000000000000000000000000000d", AgentID: 1000009, VisibleRoot: true, CustomerContact: true}

func TestCustomerContact(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "CustomerTagGroup and GroupWelcomeTemplate")
}

var _ = BeforeSuite(func() {
	env = testenv.StartSuite(testenv.Options{})
	Expect(env.Sim.Seed(wecomsim.Seed{Apps: []wecomsim.App{otherApp}})).To(Succeed())
})
