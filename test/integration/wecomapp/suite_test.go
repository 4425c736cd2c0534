// Package wecomapp tests WeComApp end to end: a real API server, the WeCom simulator over HTTP
// and the operator's manager, asserting on what a person sees (conditions, status, events)
// and on what WeCom received (the simulator's app settings, menu and call log).
//
// Every spec manages the same app (the demo corp's "operator" app, agentid 1000002), so specs
// run one after another, each in its own namespace, and each starts from the app's baseline
// settings and no menu (resetApp).
package wecomapp

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

func TestWeComApp(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "WeComApp")
}

var _ = BeforeSuite(func() {
	env = testenv.StartSuite(testenv.Options{})
})
