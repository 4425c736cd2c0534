package wecomsim

import "testing"

func TestCallLogCap(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxCalls = 8 })
	for i := 0; i < 30; i++ {
		e.get(e.app, "department/get", "id=1")
	}
	calls := e.srv.Calls()
	if len(calls) < 8 || len(calls) > 10 || calls[len(calls)-1].Seq != 33 {
		t.Fatalf("%d calls, last seq %d", len(calls), calls[len(calls)-1].Seq)
	}
}
