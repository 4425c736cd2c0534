#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) from Go module sources into
# bin/k8s. No prebuilt download is reachable from our machines, so we compile them: about
# 7 minutes for kube-apiserver and 1 for etcd on 2 cores when the module cache is cold.
# A binary that is already there is reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s"
mkdir -p "$out"

build() { # name module-dir package
  local name=$1 dir=$2 pkg=$3
  if [[ -x "$out/$name" ]]; then return 0; fi
  echo ">> building $name from $pkg (first time only)"
  (cd "$root/hack/envtest/$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
}

build etcd etcd go.etcd.io/etcd/server/v3
build kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
echo "$out"
