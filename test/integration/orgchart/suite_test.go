// Package orgchart tests WeComConnection, WeComDepartment and WeComUser end to end: a real
// API server, the WeCom simulator over HTTP and the operator's manager.
package orgchart

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

func TestOrgChart(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "org chart controllers")
}

var _ = BeforeSuite(func() {
	var err error
	env, err = testenv.Start(testenv.Options{})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		env.Stop()
	}
})
