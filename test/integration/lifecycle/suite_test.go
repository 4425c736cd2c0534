// Package lifecycle tests how objects leave: a namespace deleted with its WeComConnections,
// Secrets and the objects that need them, in the order Kubernetes' namespace controller
// deletes them. envtest runs no namespace controller, so the test deletes in its place: a
// real API server (the namespace really is Terminating), the WeCom simulator and the
// operator's manager.
package lifecycle

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

var (
	env *testenv.Env
	ctx = context.Background()
)

func TestLifecycle(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "lifecycle: deleting a namespace")
}

var _ = BeforeSuite(func() {
	env = testenv.StartSuite(testenv.Options{})
	// Namespace deletions here get 60s rather than the shared 30s.
	SetDefaultEventuallyTimeout(60 * time.Second)
})
