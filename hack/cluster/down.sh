#!/usr/bin/env bash
# make cluster-down: stops what up.sh started (by recorded PID), lets the kubelet tear the pods
# down, removes the containers, mounts, links, iptables chains and cgroups the cluster made,
# restores the sysctls up.sh recorded, and deletes $CLUSTER_DIR's state. Safe to run any
# time, twice, or after a half-finished up.sh. The built binaries and images stay.
set -uo pipefail
. "$(dirname "$0")/env.sh"
export KUBECONFIG=$KUBECONFIG_FILE
[[ -d $CLUSTER_DIR ]] || exit 0

alive() { [[ -f $PIDS/$1.pid ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }
stop() { # name
  alive "$1" || { rm -f "$PIDS/$1.pid"; return 0; }
  local p; p=$(cat "$PIDS/$1.pid"); kill "$p"
  for _ in $(seq 1 80); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$p" 2>/dev/null && kill -9 "$p"
  rm -f "$PIDS/$1.pid"
}

step() { echo ">> cluster-down: $* ($((SECONDS))s)"; }
# 1. pods go through the kubelet, so that CNI DEL releases their addresses and veths; the
#    controllers go first, or the Deployments would make new pods as fast as they go
stop kube-controller-manager; stop kube-scheduler
if alive kube-apiserver && alive kubelet; then
  step "deleting the pods"
  "$KUBECTL" delete pods --all -A --force --grace-period=0 --wait=false >/dev/null 2>&1
  for _ in $(seq 1 120); do [[ -z $("$KUBECTL" get pods -A -o name 2>/dev/null) ]] && break; sleep 0.5; done
fi
step "stopping kube-proxy and the kubelet"
if alive kube-proxy; then stop kube-proxy; "$K8S_BIN/kube-proxy" --cleanup --proxy-mode=iptables >/dev/null 2>&1; fi
stop kubelet

step "stopping containerd"
# 2. containers left behind, then containerd and the shims it started
if alive containerd; then
  for t in $($CTR tasks ls -q 2>/dev/null); do $CTR tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
  for t in $($CTR tasks ls -q 2>/dev/null); do $CTR tasks delete -f "$t" >/dev/null 2>&1; done
  for c in $($CTR containers ls -q 2>/dev/null); do $CTR containers delete "$c" >/dev/null 2>&1; done
fi
stop containerd
for p in $(grep -l -a -- "$CONTAINERD_SOCK" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
  [[ $p != "$$" ]] && kill -9 "$p" 2>/dev/null
done
stop kube-apiserver; stop etcd

step "cleaning up the host"
# 3. mounts below $CLUSTER_DIR (netns, overlay snapshots, pod volumes), deepest first
for _ in 1 2 3; do
  findmnt -rn -o TARGET | grep "^$CLUSTER_DIR/" | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
done

# 4. links, iptables chains that were not there before, cgroups, files outside $CLUSTER_DIR
ip link del "$POD_BRIDGE" 2>/dev/null
ip link del "$NODE_BRIDGE" 2>/dev/null
for ipt in iptables ip6tables; do
  command -v "$ipt-save" >/dev/null && [[ -f $CLUSTER_DIR/$ipt.before ]] || continue
  for t in filter nat mangle raw; do
    before=$(awk -v t="*$t" '$0==t{on=1;next} /^\*/{on=0} on && /^:/{print substr($1,2)}' "$CLUSTER_DIR/$ipt.before")
    ours=$("$ipt" -t "$t" -S 2>/dev/null | awk '$1=="-N"{print $2}' | grep -vxF -f <(echo "$before"; echo "-") || true)
    [[ -n $ours ]] || continue
    for c in $ours; do   # rules jumping to our chains, wherever they are
      "$ipt" -t "$t" -S | grep -E -- "-j $c( |$)" | sed 's/^-A /-D /' | while read -r r; do eval "$ipt -t $t $r"; done
    done
    for c in $ours; do "$ipt" -t "$t" -F "$c"; done
    for c in $ours; do "$ipt" -t "$t" -X "$c"; done
  done
done
# iptables-nft makes nftables tables on first use: drop those that were not there and are empty now
if command -v nft >/dev/null && [[ -f $CLUSTER_DIR/nft.before ]]; then
  nft list tables | while read -r _ fam name; do
    grep -qx "table $fam $name" "$CLUSTER_DIR/nft.before" && continue
    # anything but base chains' "type ... hook" lines and braces is a rule or a chain of someone else's
    n=$(nft list table "$fam" "$name" | awk '/^\t\t/ && !/^\t\ttype .* hook / {c++} END {print c + 0}')
    [[ $n == 0 ]] && nft delete table "$fam" "$name"
  done
fi
find /sys/fs/cgroup/*/kubepods* -depth -type d -exec rmdir {} \; 2>/dev/null
if [[ -f $CLUSTER_DIR/prestate ]]; then
  while read -r kind a b; do
    case $kind in
      sysctl) sysctl -qw "$a=$b" ;;
      absent) rm -rf "$a" ;;   # up.sh found it absent: the cluster made it
    esac
  done < "$CLUSTER_DIR/prestate"
fi
rm -rf "$CLUSTER_DIR"/{etcd,containerd,kubelet,pod-logs,cni,run,pids,prestate,iptables.before,ip6tables.before,nft.before} 2>/dev/null
left=$(findmnt -rn -o TARGET | grep -c "^$CLUSTER_DIR/")
echo "cluster down (mounts left under $CLUSTER_DIR: $left)"
