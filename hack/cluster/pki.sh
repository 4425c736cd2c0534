#!/usr/bin/env bash
# A CA, the API server's serving certificate, the admin and API-server-to-kubelet client
# certificates, the ServiceAccount key pair and the admin kubeconfig, under $CLUSTER_DIR/pki.
set -euo pipefail
. "$(dirname "$0")/env.sh"
d=$CLUSTER_DIR/pki
[[ -f $d/admin.kubeconfig ]] && exit 0
mkdir -p "$d"; cd "$d"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=wecom-cluster-ca" 2>/dev/null
cat > apiserver.ext <<X
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$NODE_IP,IP:127.0.0.1,IP:${SERVICE_CIDR%.*/*}.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
X
openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > client.ext
client() { # file CN O
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/O=$3/CN=$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile client.ext 2>/dev/null
}
client admin admin system:masters
client apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
cat > admin.kubeconfig.tmp <<X
apiVersion: v1
kind: Config
clusters:
- name: wecom-cluster
  cluster:
    server: https://$NODE_IP:$APISERVER_PORT
    certificate-authority: $d/ca.crt
users:
- name: admin
  user:
    client-certificate: $d/admin.crt
    client-key: $d/admin.key
contexts:
- name: wecom-cluster
  context: {cluster: wecom-cluster, user: admin}
current-context: wecom-cluster
X
mv admin.kubeconfig.tmp admin.kubeconfig
