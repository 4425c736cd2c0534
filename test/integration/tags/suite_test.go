// Package tags tests WeComTag end to end: a real API server, the WeCom simulator over HTTP
// and the operator's manager, asserting on what a person sees (conditions, status, events)
// and on what WeCom received (the simulator's state and call log). It also routes a
// Notification and an Alertmanager alert to tags by tagRefs.
//
// Every spec works in its own namespace and deletes what it made; the simulator is shared, so
// tag and department names include the namespace.
package tags

import (
	"context"
	"net"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/controller"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

var (
	env *testenv.Env
	ctx = context.Background()
	// receiverAddr is where the manager takes Alertmanager's webhooks.
	receiverAddr string
)

func TestTags(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "WeComTag and tagRefs")
}

var _ = BeforeSuite(func() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	receiverAddr = l.Addr().String()
	Expect(l.Close()).To(Succeed())
	env = testenv.StartSuite(testenv.Options{Controller: controller.Options{ReceiverAddr: receiverAddr}})
})
