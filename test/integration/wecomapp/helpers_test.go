package wecomapp

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

// interval is the drift interval testenv gives the manager.
const interval = 3 * time.Second

// appWrites are the calls that change an app.
var appWrites = []string{"agent/set", "menu/create", "menu/delete"}

// baseline is the app's settings at the start of every spec.
var baseline = struct{ name, description, homeURL string }{"operator", "The operator's app", "https://operator.example.com/"}

// resetApp puts the app back to its baseline by hand (settings, no menu, any domain allowed)
// and clears the simulator's faults.
func resetApp() {
	GinkgoHelper()
	env.Sim.ClearFaults()
	id := env.Creds.AgentID
	flag := 0
	Expect(env.Sim.ConsoleSetAgent(id, wecomsim.AgentEdit{
		Name: &baseline.name, Description: &baseline.description, HomeURL: &baseline.homeURL,
		ReportLocationFlag: &flag, IsReportEnter: &flag,
	})).To(Succeed())
	Expect(env.Sim.ConsoleDeleteMenu(id)).To(Succeed())
	Expect(env.Sim.SetVerifiedDomains(id)).To(Succeed())
}

// newNamespace makes a namespace with the "contacts" and "app" connections; its WeComApps are
// deleted (and must go) when the spec ends.
func newNamespace(prefix string) string {
	GinkgoHelper()
	ns, err := env.NewNamespace(ctx, prefix)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { env.DeleteAll(ns, &v1.WeComAppList{}, &v1.WeComConnectionList{}) })
	return ns
}

// app returns a WeComApp of the "app" connection.
func app(ns, name string, opts ...func(*v1.WeComApp)) *v1.WeComApp {
	a := &v1.WeComApp{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	a.Spec.ConnectionRef.Name = testenv.AppConnection
	for _, o := range opts {
		o(a)
	}
	return a
}

func ptr[T any](v T) *T { return &v }

// bodyOf decodes a call's JSON body.
func bodyOf(c wecomsim.Call) map[string]any {
	GinkgoHelper()
	var m map[string]any
	Expect(json.Unmarshal([]byte(c.Body), &m)).To(Succeed(), c.Body)
	return m
}

// simApp returns the app's settings and menu as WeCom holds them.
func simApp() (wecomsim.AgentSettings, []wecomsim.MenuButton) {
	s, m, ok := env.Sim.Agent(env.Creds.AgentID)
	Expect(ok).To(BeTrue())
	return s, m
}
