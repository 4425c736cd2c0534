// Package tenancy tests what a tenant who may create wecom.dev objects in their namespace,
// but is not a cluster admin, can make the operator do with Secrets and outbound requests:
// a real API server, the WeCom simulator (the only allowed API URL) and the operator's
// manager with its production cache options.
package tenancy

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

func TestTenancy(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "tenant safety: Secrets and outbound URLs")
}

var _ = BeforeSuite(func() {
	env = testenv.StartSuite(testenv.Options{})
})
