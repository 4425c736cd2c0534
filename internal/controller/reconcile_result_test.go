package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestErrorWins(t *testing.T) {
	fail := errors.New("status write: context canceled")
	for _, tc := range []struct {
		res     reconcile.Result
		err     error
		wantRes reconcile.Result
	}{
		{reconcile.Result{RequeueAfter: time.Minute}, nil, reconcile.Result{RequeueAfter: time.Minute}},
		{reconcile.Result{RequeueAfter: time.Minute}, fail, reconcile.Result{}},
		{reconcile.Result{}, reconcile.TerminalError(fail), reconcile.Result{}},
	} {
		r := errorWins(reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) { return tc.res, tc.err }))
		res, err := r.Reconcile(context.Background(), reconcile.Request{})
		if res != tc.wantRes || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("(%v, %v) became (%v, %v)", tc.res, tc.err, res, err)
		}
	}
	if !errors.Is(func() error {
		_, err := errorWins(reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
			return reconcile.Result{}, reconcile.TerminalError(fail)
		})).Reconcile(context.Background(), reconcile.Request{})
		return err
	}(), reconcile.TerminalError(nil)) {
		t.Error("a terminal error is no longer terminal")
	}
}
