package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// errorWins drops the result a reconcile returns beside an error. controller-runtime ignores
// that result (the error's backoff decides when to try again) and logs a warning for each
// such return, which at shutdown, when the cancelled context fails every in-flight status
// write, was one warning per object being reconciled.
func errorWins(r reconcile.Reconciler) reconcile.Reconciler {
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		res, err := r.Reconcile(ctx, req)
		if err != nil {
			return reconcile.Result{}, err
		}
		return res, nil
	})
}
