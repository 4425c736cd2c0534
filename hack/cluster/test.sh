#!/usr/bin/env bash
# make test-cluster: brings the local cluster up (up.sh), loads the operator's image into its
# containerd, runs test/cluster, and takes the cluster down again whatever happened (unless
# KEEP_CLUSTER=1), restoring the host's network state.
set -euo pipefail
. "$(dirname "$0")/env.sh"
IMAGE_TAR=${IMAGE_TAR:-$root/bin/wecom-operator-image.tar}
IMG=${IMG:-ghcr.io/wecom-dev/wecom-operator:dev}
if [[ ${KEEP_CLUSTER:-} != 1 ]]; then trap '"$(dirname "$0")/down.sh"' EXIT; fi
"$(dirname "$0")/up.sh"
# ctr imports every platform's blobs and unpacks this node's
$CTR images import "$IMAGE_TAR" >/dev/null
cd "$root"
CLUSTER_KUBECONFIG=$KUBECONFIG_FILE CLUSTER_NODE_IP=$NODE_IP CLUSTER_IMAGE=$IMG \
  go test -tags cluster ./test/cluster/ -count=1 -timeout 20m -v \
  -ginkgo.label-filter="${CLUSTER_LABEL_FILTER:-}" -ginkgo.v ${GOTEST_FLAGS:-}
