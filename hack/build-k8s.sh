#!/usr/bin/env bash
# Builds Kubernetes binaries from Go module sources into bin/k8s: hack/build-k8s.sh NAME...
# No prebuilt download is reachable from our machines, so we compile them, all from one
# wrapper module per source tree (hack/envtest/*) so that every binary is the same release:
#   etcd, kube-apiserver                  envtest (make envtest); about 7 minutes and 1 minute
#                                         on 2 cores with a cold module cache
#   kubectl                               every Makefile target, test and the demo (make kubectl)
#   kubelet, kube-controller-manager,     the single-node cluster of make cluster-up; about
#   kube-scheduler, kube-proxy            3 more minutes once kube-apiserver's build cache is warm
# A binary that is already there is reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s"
mkdir -p "$out"

# Every binary reports this version (helm checks kubeVersion against the API server's; kubectl
# warns about skew); without it a source build says v0.0.0-master.
K8S_VERSION=v1.36.3
version_pkg=k8s.io/component-base/version
kube_ldflags="-X $version_pkg.gitVersion=$K8S_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=36 -X $version_pkg.gitTreeState=clean"

build() { # name module-dir package [ldflags]
  local name=$1 dir=$2 pkg=$3 ldflags=${4:-}
  if [[ -x "$out/$name" ]]; then return 0; fi
  echo ">> building $name from $pkg (first time only)"
  local start=$SECONDS
  (cd "$root/hack/envtest/$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
  echo ">> built $name in $((SECONDS - start))s"
}

[[ $# -gt 0 ]] || { echo "usage: $0 NAME..." >&2; exit 2; }
for name in "$@"; do
  case $name in
    etcd) build etcd etcd go.etcd.io/etcd/server/v3 ;;
    kubectl) # bin/kubectl, not bin/k8s: the client everything here runs
      build "$name" kube-apiserver "k8s.io/kubernetes/cmd/$name" "$kube_ldflags"
      ln -f "$out/kubectl" "$root/bin/kubectl" ;;
    kube-apiserver | kubelet | kube-controller-manager | kube-scheduler | kube-proxy)
      build "$name" kube-apiserver "k8s.io/kubernetes/cmd/$name" "$kube_ldflags" ;;
    *) echo "unknown binary $name" >&2; exit 2 ;;
  esac
done
