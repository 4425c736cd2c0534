#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) into bin/k8s; see build-k8s.sh.
set -euo pipefail
"$(dirname "$0")/build-k8s.sh" etcd kube-apiserver
echo "$(cd "$(dirname "$0")/.." && pwd)/bin/k8s"
