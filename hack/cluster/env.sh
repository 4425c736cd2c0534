# Sourced by the hack/cluster scripts: where the single-node cluster lives and what it uses.
# Addresses are private and on bridges made for the purpose; every port is in 32000-32767,
# above what testenv.FreePort hands out (20000-32000) and below Linux's ephemeral range
# (32768-60999) where envtest's kube-apiserver and etcd get theirs, so envtest runs on the
# same machine cannot collide with the cluster.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_DIR=${CLUSTER_DIR:-$root/bin/cluster}
K8S_BIN=${K8S_BIN:-$root/bin/k8s}
KUBECTL=${KUBECTL:-$root/bin/kubectl}
NODE_NAME=wecom-node
NODE_BRIDGE=wecomnode0          # holds NODE_IP only: kubelet and the API server refuse loopback
NODE_IP=10.213.0.1
POD_BRIDGE=wecompod0            # the CNI bridge; pods get addresses in POD_CIDR
POD_CIDR=10.214.0.0/24
POD_GW=10.214.0.1
SERVICE_CIDR=10.215.0.0/24      # the kubernetes Service is 10.215.0.1
NODEPORT_RANGE=32600-32767
ETCD_PORT=32379                 # and ETCD_PORT+1 for peers; on 127.0.0.1
APISERVER_PORT=32443            # on NODE_IP
KUBELET_PORT=32250              # on NODE_IP; healthz on 127.0.0.1:32248
KUBELET_HEALTHZ_PORT=32248
PROXY_HEALTHZ_PORT=32256        # kube-proxy, 127.0.0.1
PROXY_METRICS_PORT=32249
PAUSE_IMAGE=wecom.local/pause:3.10
KUBECONFIG_FILE=$CLUSTER_DIR/pki/admin.kubeconfig
CONTAINERD_SOCK=$CLUSTER_DIR/run/containerd.sock
CTR="ctr --address $CONTAINERD_SOCK -n k8s.io"
PIDS=$CLUSTER_DIR/pids
LOGS=$CLUSTER_DIR/logs
