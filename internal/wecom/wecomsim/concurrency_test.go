package wecomsim

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// Parallel clients, readers and fault toggles (run with -race).
func TestConcurrentUse(t *testing.T) {
	var observed atomic.Int64
	e := newEnv(t, func(o *Options) { o.OnCall = func(Call) { observed.Add(1) } })
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				_, m, err := e.do("POST", apiPath(e.sync, "user/create", ""),
					fmt.Sprintf(`{"userid":"w%d_%d","name":"W","email":"w%d_%d@example.com","department":[4]}`, w, i, w, i))
				if err != nil || code(m) != 0 {
					t.Errorf("create: %v %v", m, err)
					return
				}
				if _, _, err := e.do("POST", apiPath(e.app, "message/send", ""), msg("")); err != nil {
					t.Errorf("message/send: %v", err)
					return
				}
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			_ = e.srv.State()
			_ = e.srv.Calls()
			_ = e.srv.Inbox("lisi")
			e.srv.SetFaults(Faults{Endpoints: []string{"department/get"}, ErrorRate: 0.5})
			e.srv.Advance(0)
		}
	}()
	wg.Wait()
	if n := len(e.srv.State().Users); n != 4+120 {
		t.Fatalf("%d users", n)
	}
	if observed.Load() != int64(len(e.srv.Calls())) {
		t.Fatalf("OnCall saw %d of %d calls", observed.Load(), len(e.srv.Calls()))
	}
}
