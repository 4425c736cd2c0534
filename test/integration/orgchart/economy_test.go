package orgchart

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

var _ = Describe("the calls WeCom receives", func() {
	It("are one write per new object, no write in a steady state, and one list per connection per drift interval", func() {
		const n = 10
		ns := newNamespace("economy")
		m := env.Mark()
		var objs []client.Object
		objs = append(objs, department(ns, "top", unique("Economy", ns)))
		for i := 1; i < n; i++ {
			objs = append(objs, department(ns, fmt.Sprintf("d%d", i), fmt.Sprintf("D%d", i), under("top")))
		}
		for i := 0; i < n; i++ {
			objs = append(objs, user(ns, fmt.Sprintf("u%d", i), fmt.Sprintf("eco%d-%s", i, ns), fmt.Sprintf("U%d", i), inDept(fmt.Sprintf("d%d", 1+i%(n-1)))))
		}
		// Objects come over time, as they do in a real cluster, so their drift checks are
		// spread over the interval rather than all due at once. The ticker paces the load; it
		// does not wait for anything.
		pace := time.NewTicker(interval / time.Duration(len(objs)))
		defer pace.Stop()
		for _, o := range objs {
			env.Create(o)
			<-pace.C
		}
		for _, o := range objs {
			Eventually(env.Ready(o)).Should(Succeed())
		}

		By("creating: one create per object and no other write")
		creating := testenv.CountByEndpoint(env.CallsSince(m))
		AddReportEntry(fmt.Sprintf("WeCom calls to create %d departments and %d members", n, n), creating)
		Expect(testenv.CountByEndpoint(env.CallsSince(m, writeEndpoints...))).To(Equal(map[string]int{"department/create": n, "user/create": n}))
		Expect(creating["department/get"]).To(BeZero())
		// A member not yet in WeCom costs one user/get (not found) before its create.
		Expect(creating["user/get"]).To(BeNumerically("<=", n))

		By("a steady state over several drift intervals: reads only, shared by all objects")
		m = env.Mark()
		start := time.Now()
		Consistently(func() []string {
			var out []string
			for _, c := range env.CallsSince(m, writeEndpoints...) {
				out = append(out, c.Endpoint+" "+c.Body+fmt.Sprint(c.Query))
			}
			return out
		}, 4*interval, 250*time.Millisecond).Should(BeEmpty(), "no write while spec and WeCom agree")
		window := time.Since(start)
		steady := testenv.CountByEndpoint(env.CallsSince(m))
		intervals := float64(window) / float64(interval)
		AddReportEntry(fmt.Sprintf("WeCom calls in a steady state over %.1f drift intervals (%d departments, %d members)", intervals, n, n), steady)

		// Drift checks of one connection share one list per interval (a list is reused for
		// 90% of the interval, the shortest jittered drift check), not one per object.
		maxLists := int(float64(window)/(0.9*float64(interval))) + 1
		Expect(steady["department/list"]).To(And(BeNumerically(">=", int(intervals)-1), BeNumerically("<=", maxLists)))
		Expect(steady["user/list_id"]).To(And(BeNumerically(">=", int(intervals)-1), BeNumerically("<=", maxLists)))
		Expect(steady["department/get"]).To(BeZero())
		Expect(steady["gettoken"]).To(BeZero(), "the token is cached")
		// The deep check (every interval in these tests) reads each member once per interval.
		Expect(steady["user/get"]).To(And(BeNumerically(">=", n*(int(intervals)-1)), BeNumerically("<=", n*maxLists)))
		// Each of the namespace's two connections probes once per check (the drift interval)
		// for an untrusted IP, which gettoken does not reveal.
		Expect(steady["department/simplelist"]).To(BeNumerically("<=", 2*maxLists))
		Expect(steady).To(HaveLen(4), "nothing but department/list, user/list_id, user/get and the connections' probes")
	})
})
