// Package callbacks tests WeCom callbacks end to end: the simulator pushes signed, encrypted
// callbacks over HTTP to the manager's receiver, as WeCom does for hand edits in its admin
// console and for customers scanning a contact way, and the tests assert what a person would
// see: WeCom repaired within seconds while the drift interval is an hour, welcome messages,
// status and events.
package callbacks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

var (
	env *testenv.Env
	ctx = context.Background()
	// receiverAddr is where the manager serves Alertmanager webhooks and WeCom callbacks.
	receiverAddr string
	logFile      string
)

// The callback Token and EncodingAESKey, as a person copies them from WeCom's admin console.
const (
	callbackToken = "Kf8wQ2ceLx"
	callbackKey   = "Pq7Rj2Vn4Lm9Xc1Bz5Hd8Gf3Ks6Wt0Ya2Ue4Io7Np9M"
)

func TestCallbacks(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "WeCom callbacks")
}

var _ = BeforeSuite(func() {
	logFile = filepath.Join(GinkgoT().TempDir(), "manager.log")
	Expect(os.Setenv("WECOM_TEST_LOG", logFile)).To(Succeed())
	receiverAddr = fmt.Sprintf("127.0.0.1:%d", freePort())
	var err error
	env, err = testenv.Start(testenv.Options{
		Controller: controller.Options{
			ReceiverAddr: receiverAddr,
			// Polling alone would take an hour to see a hand edit.
			DriftInterval:         time.Hour,
			CallbackDriftInterval: time.Hour,
			// Full member reads (user/get) at drift checks are rare, so a repaired rename
			// proves a callback arrived, even across a manager restart.
			DeepDriftEvery: 10000,
		},
		// WeCom waits 5 s for an answer and retries; 3 s between attempts here gives a
		// restarted manager 9 s to come back, and keeps the suite short.
		Sim: wecomsim.Options{CallbackRetryInterval: 3 * time.Second},
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		env.Stop()
		By("the manager's log never shows the callback Token or EncodingAESKey")
		data, err := os.ReadFile(logFile)
		Expect(err).NotTo(HaveOccurred())
		Expect(data).NotTo(BeEmpty())
		Expect(string(data)).NotTo(ContainSubstring(callbackToken))
		Expect(string(data)).NotTo(ContainSubstring(callbackKey))
	})
})

func freePort() int {
	p, err := testenv.FreePort()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return p
}
