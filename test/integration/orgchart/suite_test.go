// Package orgchart tests WeComConnection, WeComDepartment and WeComUser end to end: a real
// API server, the WeCom simulator over HTTP and the operator's manager, asserting on what a
// person would see (conditions, status, events) and on what WeCom received (the simulator's
// state and call log).
//
// Every spec works in its own namespace and, when it ends, deletes what it made and checks
// that WeCom is left as it was; the simulator is shared, so names include the namespace.
package orgchart

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

var (
	env *testenv.Env
	ctx = context.Background()
	// logFile receives the manager's log, checked for secrets at the end.
	logFile string
)

func TestOrgChart(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "org chart controllers")
}

var _ = BeforeSuite(func() {
	logFile = os.Getenv("WECOM_TEST_LOG")
	if logFile == "" {
		logFile = filepath.Join(os.TempDir(), "wecom-orgchart-"+randSuffix()+".log")
		Expect(os.Setenv("WECOM_TEST_LOG", logFile)).To(Succeed())
		DeferCleanup(func() { _ = os.Remove(logFile) })
	}
	env = testenv.StartSuite(testenv.Options{})
	rememberTokens()
})

var _ = AfterSuite(func() {
	if env == nil {
		return
	}
	rememberTokens()
	env.Stop()

	By("the manager's log never shows a secret or an access token")
	data, err := os.ReadFile(logFile)
	Expect(err).NotTo(HaveOccurred())
	Expect(data).NotTo(BeEmpty(), "the manager logged nothing: the check below would prove nothing")
	for _, s := range secretsAndTokens() {
		Expect(string(data)).NotTo(ContainSubstring(s))
	}
	Expect(string(data)).NotTo(ContainSubstring("access_token="))
	Expect(string(data)).NotTo(ContainSubstring("corpsecret="))
})
