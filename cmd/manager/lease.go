package main

import (
	"context"
	"os"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
