#!/usr/bin/env bash
# Prints what the single-node cluster changes on the host outside $CLUSTER_DIR, one line per
# item, sorted: make test-cluster compares it before up.sh and after down.sh, and fails if the
# host was not left as it was found. Items: the sysctls up.sh records (absent ones are not
# printed), iptables and ip6tables chain names per table, nftables tables, the cluster's
# bridges and pod veths, the directories the kubelet and containerd use whatever their root
# says, and mounts under $CLUSTER_DIR. Apt packages that up.sh installed stay, on purpose.
set -uo pipefail
. "$(dirname "$0")/env.sh"
{
  for s in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops \
           kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward \
           net.ipv4.conf.all.route_localnet; do
    v=$(sysctl -n "$s" 2>/dev/null) && echo "sysctl $s $v"
  done
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in filter nat mangle raw; do
      "$ipt" -t "$t" -S 2>/dev/null | awk -v p="$ipt $t" '$1=="-N"{print p " chain " $2}'
    done
  done
  command -v nft >/dev/null && nft list tables 2>/dev/null | sed 's/^/nft /'
  ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
    grep -E "^($NODE_BRIDGE|$POD_BRIDGE|veth)" | sed 's/^/link /'
  for d in /var/log/containers /var/log/pods /var/lib/cni /var/lib/kubelet /run/containerd /etc/containerd /opt/cni; do
    [[ -e $d ]] && echo "exists $d"
  done
  findmnt -rn -o TARGET | grep "^$CLUSTER_DIR/" | sed 's/^/mount /'
  true # a grep that found nothing is no failure
} | sort
