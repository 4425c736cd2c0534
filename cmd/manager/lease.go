package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// leaderElectionID names the leader election Lease.
const leaderElectionID = "wecom-operator.wecom.dev"

// deleteReleasedLease deletes the leader election Lease once no one holds it: a manager
// stopped gracefully has released it (LeaderElectionReleaseOnCancel empties holderIdentity),
// and without this an uninstall would leave it behind. The delete carries the
// resourceVersion that was read, so a standby that has taken the Lease since keeps it.
func deleteReleasedLease(ctx context.Context, c client.Client, namespace, name string) error {
	lease := &coordinationv1.Lease{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, lease); err != nil {
		return client.IgnoreNotFound(err)
	}
	if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
		return nil
	}
	err := c.Delete(ctx, lease, client.Preconditions{UID: &lease.UID, ResourceVersion: &lease.ResourceVersion})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// leaseNamespace is the namespace of the Lease: the flag's, or the pod's own in a cluster
// (where controller-runtime puts it too); "" when neither is known.
func leaseNamespace(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// serviceAccountEnv names the environment variable the chart and the kustomize manifests
// set to the pod's spec.serviceAccountName (the downward API).
const serviceAccountEnv = "SERVICE_ACCOUNT_NAME"

// leaseOwner makes the ServiceAccount the manager runs as the owner of the leader election
// Lease once this manager leads, so the garbage collector deletes the Lease with the
// installation. deleteReleasedLease cannot do that on `helm uninstall` or `kubectl delete -f`:
// the Role that lets the manager delete Leases goes in the same breath as the Deployment.
// The ServiceAccount, not the Deployment, because it is what both installs delete and what
// the manager already knows by name; the reference does not block the owner's deletion.
type leaseOwner struct {
	c                        client.Client
	namespace, name, account string
	attempts                 int
	interval                 time.Duration
}

// NeedLeaderElection: only the leader writes the Lease.
func (leaseOwner) NeedLeaderElection() bool { return true }

// Start sets the reference, retrying while the elector's own renewals conflict with it.
// It never stops the manager: without the reference only the Lease is left behind.
func (o leaseOwner) Start(ctx context.Context) error {
	var err error
	for try := 0; try < o.attempts; try++ {
		if err = o.own(ctx); err == nil || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(o.interval):
		}
	}
	if err != nil && ctx.Err() == nil {
		ctrl.Log.WithName("setup").Error(err, "unable to make the ServiceAccount the owner of the leader election Lease; an uninstall will leave the Lease behind",
			"namespace", o.namespace, "lease", o.name, "serviceAccount", o.account)
	}
	return nil
}

func (o leaseOwner) own(ctx context.Context) error {
	sa := &corev1.ServiceAccount{}
	if err := o.c.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: o.account}, sa); err != nil {
		return err
	}
	lease := &coordinationv1.Lease{}
	if err := o.c.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: o.name}, lease); err != nil {
		return err
	}
	refs := slices.DeleteFunc(slices.Clone(lease.OwnerReferences), func(r metav1.OwnerReference) bool {
		return r.APIVersion == "v1" && r.Kind == "ServiceAccount"
	})
	for _, r := range lease.OwnerReferences {
		if r.APIVersion == "v1" && r.Kind == "ServiceAccount" && r.UID == sa.UID {
			return nil
		}
	}
	lease.OwnerReferences = append(refs, metav1.OwnerReference{APIVersion: "v1", Kind: "ServiceAccount", Name: sa.Name, UID: sa.UID})
	return o.c.Update(ctx, lease) // the resourceVersion read: a renewal in between is a conflict, and tried again
}
