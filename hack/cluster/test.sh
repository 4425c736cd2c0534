#!/usr/bin/env bash
# make test-cluster: brings the local cluster up (up.sh), loads the operator's image into its
# containerd, runs test/cluster, and takes the cluster down again whatever happened (unless
# KEEP_CLUSTER=1), restoring the host's state. When it brought the cluster up itself, it then
# compares the host with what it was before (hoststate.sh) and fails on any difference.
set -euo pipefail
. "$(dirname "$0")/env.sh"
here=$(cd "$(dirname "$0")" && pwd)
IMAGE_TAR=${IMAGE_TAR:-$root/bin/wecom-operator-image.tar}
IMG=${IMG:-ghcr.io/wecom-dev/wecom-operator:dev}
before=
if [[ ${KEEP_CLUSTER:-} != 1 ]]; then
  if [[ ! -f $CLUSTER_DIR/prestate ]]; then before=$(mktemp); "$here/hoststate.sh" > "$before"; fi
  trap 'rc=$?
    "$here/down.sh"
    if [[ -n $before ]]; then
      if ! diff -u "$before" <("$here/hoststate.sh") > "$before.diff"; then
        echo "make test-cluster: the host is not as it was found (- before up, + after down):"; cat "$before.diff"; rc=1
      else
        echo "make test-cluster: the host is as it was found ($(wc -l < "$before") items compared)"
      fi
      rm -f "$before" "$before.diff"
    fi
    exit $rc' EXIT
fi
"$here/up.sh"
# ctr imports every platform's blobs and unpacks this node's
$CTR images import "$IMAGE_TAR" >/dev/null
cd "$root"
CLUSTER_KUBECONFIG=$KUBECONFIG_FILE CLUSTER_NODE_IP=$NODE_IP CLUSTER_IMAGE=$IMG \
  go test -tags cluster ./test/cluster/ -count=1 -timeout 20m -v \
  -ginkgo.label-filter="${CLUSTER_LABEL_FILTER:-}" -ginkgo.v ${GOTEST_FLAGS:-}
