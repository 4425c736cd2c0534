#!/usr/bin/env bash
# make cluster-up: a single-node Kubernetes on this machine, as root, without Docker.
# etcd, kube-apiserver, kubelet, kube-controller-manager, kube-scheduler and kube-proxy are
# built from source into bin/k8s (hack/build-k8s.sh); containerd, runc, the CNI plugins and
# iptables (nftables for cleaning up) come from the distribution (apt) when missing. Everything lives in $CLUSTER_DIR;
# the host state the cluster changes outside it is recorded first, for down.sh to restore.
# Idempotent: what already runs is kept. On failure everything is taken down again.
set -euo pipefail
. "$(dirname "$0")/env.sh"
export KUBECONFIG=$KUBECONFIG_FILE

[[ $(id -u) == 0 ]] || { echo "cluster-up needs root (kubelet, containerd, bridges, iptables)" >&2; exit 1; }
ok=0
trap '[[ $ok == 1 ]] || { echo "cluster-up failed; taking it down (logs in $LOGS)" >&2; tail -n 20 "$LOGS"/*.log >&2 || true; "$(dirname "$0")/down.sh"; }' EXIT

# 0. packages
missing=()
for pair in containerd:containerd runc:runc iptables:iptables nft:nftables; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || missing+=(containernetworking-plugins)
if ((${#missing[@]})); then
  echo ">> apt-get install ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$CLUSTER_DIR"/{run,cni/net.d,cni/ipam,etc} "$PIDS" "$LOGS"

# 1. the host state the cluster touches, recorded once (down.sh restores it and deletes this)
if [[ ! -f $CLUSTER_DIR/prestate ]]; then
  { for s in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops \
             kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward \
             net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables; do
      v=$(sysctl -n "$s" 2>/dev/null) && echo "sysctl $s $v"; done
    # kubelet and containerd use these whatever --root-dir says
    for d in /var/log/containers /var/log/pods /var/lib/cni /var/lib/kubelet /run/containerd /etc/containerd /opt/cni; do
      [[ -e $d ]] || echo "absent $d"; done
  } > "$CLUSTER_DIR/prestate.tmp"
  iptables-save > "$CLUSTER_DIR/iptables.before"; ip6tables-save > "$CLUSTER_DIR/ip6tables.before"
  nft list tables > "$CLUSTER_DIR/nft.before"
  mv "$CLUSTER_DIR/prestate.tmp" "$CLUSTER_DIR/prestate"
fi

start() { # name cmd...  (own session, pid recorded for down.sh)
  local n=$1; shift
  if [[ -f $PIDS/$n.pid ]] && kill -0 "$(cat "$PIDS/$n.pid")" 2>/dev/null; then return 0; fi
  setsid "$@" >"$LOGS/$n.log" 2>&1 </dev/null & echo $! >"$PIDS/$n.pid"
}
waitfor() { # description seconds cmd...
  local d=$1 t=$2; shift 2
  for ((i = 0; i < t * 4; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "timed out after ${t}s waiting for $d" >&2; return 1
}

# 2. certificates, the node address, configuration
"$(dirname "$0")/pki.sh"
if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
  ip link add "$NODE_BRIDGE" type bridge
  ip addr add "$NODE_IP/32" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
fi
render() { sed -e "s|@DIR@|$CLUSTER_DIR|g" -e "s|@NODE_IP@|$NODE_IP|g" -e "s|@POD_BRIDGE@|$POD_BRIDGE|g" \
  -e "s|@POD_CIDR@|$POD_CIDR|g" -e "s|@POD_GW@|$POD_GW|g" -e "s|@PAUSE_IMAGE@|$PAUSE_IMAGE|g" \
  -e "s|@KUBELET_PORT@|$KUBELET_PORT|g" -e "s|@KUBELET_HEALTHZ_PORT@|$KUBELET_HEALTHZ_PORT|g" "$1"; }
render "$(dirname "$0")/containerd.toml" > "$CLUSTER_DIR/etc/containerd.toml"
render "$(dirname "$0")/kubelet.yaml" > "$CLUSTER_DIR/etc/kubelet.yaml"
render "$(dirname "$0")/cni.conflist" > "$CLUSTER_DIR/cni/net.d/10-wecom.conflist"

# 3. etcd and kube-apiserver
start etcd "$K8S_BIN/etcd" --name wecom-cluster --data-dir "$CLUSTER_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
  --initial-cluster "wecom-cluster=http://127.0.0.1:$((ETCD_PORT + 1))" --listen-metrics-urls= --unsafe-no-fsync=true
P=$CLUSTER_DIR/pki
start kube-apiserver "$K8S_BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" --service-node-port-range="$NODEPORT_RANGE" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
  --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" --kubelet-client-key="$P/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP --profiling=false
waitfor kube-apiserver 120 "$KUBECTL" get --raw /readyz

# 4. containerd (CRI) and the sandbox image, a local build (no registry is reachable)
start containerd containerd --config "$CLUSTER_DIR/etc/containerd.toml"
waitfor containerd 60 ctr --address "$CONTAINERD_SOCK" version
if ! $CTR images ls -q | grep -qx "$PAUSE_IMAGE"; then
  mkdir -p "$CLUSTER_DIR/images"
  (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$CLUSTER_DIR/images/pause" ./hack/cluster/pause &&
    go run ./hack/image -o "$CLUSTER_DIR/images/pause.tar" -ref "$PAUSE_IMAGE" -entrypoint /pause \
      -binary "linux/$(go env GOARCH)=$CLUSTER_DIR/images/pause" >/dev/null)
  $CTR images import "$CLUSTER_DIR/images/pause.tar" >/dev/null
fi

# 5. kubelet
start kubelet "$K8S_BIN/kubelet" --config="$CLUSTER_DIR/etc/kubelet.yaml" --kubeconfig="$KUBECONFIG_FILE" \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --root-dir="$CLUSTER_DIR/kubelet" \
  --cert-dir="$CLUSTER_DIR/kubelet/pki" --v=1
waitfor "node $NODE_NAME Ready" 120 "$KUBECTL" wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s

# 6. controllers, scheduler, Services
start kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port=0 --use-service-account-credentials=false \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" --leader-elect=false --controllers='*,-nodeipam'
start kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false
# --conntrack-* 0: kube-proxy leaves the host's conntrack sysctls alone.
start kube-proxy "$K8S_BIN/kube-proxy" --kubeconfig="$KUBECONFIG_FILE" --hostname-override="$NODE_NAME" \
  --proxy-mode=iptables --cluster-cidr="$POD_CIDR" --nodeport-addresses=primary --bind-address=127.0.0.1 \
  --healthz-bind-address="127.0.0.1:$PROXY_HEALTHZ_PORT" --metrics-bind-address="127.0.0.1:$PROXY_METRICS_PORT" \
  --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0
waitfor "the default ServiceAccount" 60 "$KUBECTL" get serviceaccount default -n default
waitfor kube-proxy 60 curl -fsS "http://127.0.0.1:$PROXY_HEALTHZ_PORT/healthz"

ok=1
echo "cluster up: export KUBECONFIG=$KUBECONFIG_FILE   (node $NODE_NAME at $NODE_IP, API server :$APISERVER_PORT)"
