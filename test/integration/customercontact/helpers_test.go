package customercontact

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

// interval is the drift interval testenv gives the manager.
const interval = 3 * time.Second

// newNamespace makes a namespace with the "contacts" and "app" connections and registers its
// cleanup: every object is deleted and must really go.
func newNamespace(prefix string) string {
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		env.Sim.ClearFaults()
		env.DeleteAll(ns, &v1.CustomerTagGroupList{}, &v1.GroupWelcomeTemplateList{}, &v1.WeComConnectionList{})
	})
	return ns
}

// unique makes a WeCom name unique in the shared simulator (≤30 characters).
func unique(name, ns string) string { return testenv.Unique(name, ns, 30) }

func onApp(spec *v1.ManagedSpec) { spec.ConnectionRef.Name = testenv.AppConnection }

func ptr[T any](v T) *T { return &v }
