#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) from Go module sources into
# bin/k8s. No prebuilt download is reachable from our machines, so we compile them: about
# 7 minutes for kube-apiserver and 1 for etcd on 2 cores when the module cache is cold.
# A binary that is already there is reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s"
mkdir -p "$out"

# The API server reports this version (tools such as helm check kubeVersion against it);
# without it a source build says v0.0.0-master.
K8S_VERSION=v1.36.3
version_pkg=k8s.io/component-base/version
kube_ldflags="-X $version_pkg.gitVersion=$K8S_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=36 -X $version_pkg.gitTreeState=clean"

build() { # name module-dir package [ldflags]
  local name=$1 dir=$2 pkg=$3 ldflags=${4:-}
  if [[ -x "$out/$name" ]]; then return 0; fi
  echo ">> building $name from $pkg (first time only)"
  (cd "$root/hack/envtest/$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
}

build etcd etcd go.etcd.io/etcd/server/v3
build kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
echo "$out"
