# wecom-operator Makefile. Every tool is pinned and installed into ./bin by this file.

IMG ?= ghcr.io/wecom-dev/wecom-operator:dev
LOCALBIN ?= $(shell pwd)/bin
ENVTEST_DIR ?= $(LOCALBIN)/k8s
# kubectl at the API server's version, built from the same sources (make kubectl); never the machine's.
KUBECTL ?= $(LOCALBIN)/kubectl
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
HELM ?= $(LOCALBIN)/helm
ALERTMANAGER ?= $(LOCALBIN)/alertmanager
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
ACTIONLINT ?= $(LOCALBIN)/actionlint
PROMTOOL ?= $(LOCALBIN)/promtool

CONTROLLER_TOOLS_VERSION ?= v0.23.0
HELM_VERSION ?= v3.21.4
ALERTMANAGER_VERSION ?= v0.34.2
GOLANGCI_LINT_VERSION ?= v2.15.0
ACTIONLINT_VERSION ?= v1.7.12
# Prometheus v3.16.0's Go module version.
PROMTOOL_VERSION ?= v0.316.0

# Fuzz targets run briefly in `make test`; raise for a longer hunt.
# A count, not a duration: go1.26's fuzz coordinator can fail a target with "context deadline
# exceeded" when a -fuzztime duration ends while a worker is busy (golang/go#75804, fixed in
# go1.27); seen in make test with FuzzCallbackDecrypt. Minimising a new input is bounded too.
FUZZTIME ?= 5000x
FUZZMINIMIZETIME ?= 5s
GOTEST_FLAGS ?=

# make image: the manager's OCI image index (hack/image), an OCI layout tarball.
IMAGE_TAR ?= $(LOCALBIN)/wecom-operator-image.tar
IMAGE_PLATFORMS ?= linux/amd64 linux/arm64
IMAGE_SOURCE ?= https://github.com/wecom-dev/wecom-operator
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
# The image's CA roots (the operator calls https://qyapi.weixin.qq.com): Debian's ca-certificates,
# as in the golang image the Dockerfile copies them from.
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
# make test-cluster: a ginkgo label filter, e.g. '!nsdelete'; KEEP_CLUSTER=1 leaves it up.
CLUSTER_LABEL_FILTER ?=
KEEP_CLUSTER ?=

export KUBEBUILDER_ASSETS = $(ENVTEST_DIR)

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the API types and kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/...;./internal/controller/..." output:crd:artifacts:config=config/crd/bases
	@mkdir -p charts/wecom-operator/crds charts/wecom-operator/files
	@cp config/crd/bases/*.yaml charts/wecom-operator/crds/
	@# The chart's RBAC rules are the generated ones, so the two cannot drift apart.
	@sed -n '/^rules:/,$$p' config/rbac/role.yaml | tail -n +2 > charts/wecom-operator/files/rules.yaml
	@go run ./hack/apidocs

.PHONY: docs
docs: ## Regenerate docs/api.md and docs/api-reference.md from the CRDs and samples (part of manifests).
	go run ./hack/apidocs

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet (test/cluster too: it builds only with -tags cluster).
	go vet -tags cluster ./...

.PHONY: lint
lint: golangci-lint actionlint ## Run golangci-lint (.golangci.yml): linters and the gofmt/goimports formatters; actionlint on .github/workflows.
	$(GOLANGCI_LINT) run
	$(ACTIONLINT) -shellcheck= -pyflakes= .github/workflows/*.yml

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply the fixes it can make.
	$(GOLANGCI_LINT) run --fix

.PHONY: verify
verify: manifests generate ## Fail when `make manifests generate` changes any tracked file.
	@if [ -n "$$(git status --porcelain -- api config charts internal cmd docs/api-reference.md docs/api.md)" ]; then \
		echo "generated files are out of date; run 'make manifests generate' and commit:"; \
		git status --porcelain -- api config charts internal cmd docs/api-reference.md docs/api.md; git --no-pager diff --stat; exit 1; fi

.PHONY: test
test: manifests generate fmt vet envtest test-rules ## Run the alert rule tests, unit, simulator, API validation and envtest suites, the metrics endpoint and dashboard checks, the public SDKs against the simulator, then fuzz (all but the rest of test/e2e).
	go test $(GOTEST_FLAGS) $$(go list ./... | grep -v '/test/e2e\|/test/cluster') -coverprofile cover.out -timeout 25m
	go test $(GOTEST_FLAGS) ./test/e2e/ -timeout 10m -ginkgo.label-filter=metrics
	$(MAKE) test-sdk
	$(MAKE) fuzz

.PHONY: test-rules
test-rules: promtool ## Check the chart's alert rules and run their unit tests (test/rules/) with promtool.
	$(PROMTOOL) check rules charts/wecom-operator/files/alerts.yaml
	$(PROMTOOL) test rules test/rules/*.yaml

.PHONY: test-sdk
test-sdk: ## Run public WeCom SDKs, unchanged, against the simulator binary (test/sdk: silenceper/wechat, npm wechat-enterprise-api and TNWX; needs node and npm).
	cd test/sdk/node && npm ci --no-audit --no-fund
	cd test/sdk && go test $(GOTEST_FLAGS) -count=1 -v -timeout 5m .

.PHONY: test-e2e
test-e2e: manifests generate fmt vet envtest kubectl helm alertmanager ## Run test/e2e: built manager, Helm install, real Alertmanager, faults, upgrade, demo (the metrics specs run in make test).
	go test $(GOTEST_FLAGS) ./test/e2e/... -timeout 40m -ginkgo.label-filter='!metrics'

.PHONY: test-cluster
test-cluster: manifests generate fmt vet cluster-bins kubectl helm alertmanager image build-installer ## Bring the local cluster up, run test/cluster (helm and kubectl installs of the image, failover, Alertmanager through the Service), take it down. Root.
	hack/cluster/test.sh

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME executions (FUZZTIME=100000x for longer).
	@for t in $$(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' internal | sed 's/func //'); do \
		pkg=$$(grep -rlE "^func $$t\(" --include='*_test.go' internal | head -1 | xargs dirname); \
		echo ">> fuzz $$t in ./$$pkg for $(FUZZTIME)"; \
		go test ./$$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME); \
	done

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager, the simulator and the kubectl plugin (kubectl-wecom) binaries.
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go build -o $(LOCALBIN)/wecom-sim ./cmd/wecom-sim
	go build -o $(LOCALBIN)/kubectl-wecom ./cmd/kubectl-wecom

.PHONY: build-installer
build-installer: manifests kubectl ## Write dist/install.yaml (CRDs, RBAC, manager) for `kubectl apply`.
	@mkdir -p dist
	$(KUBECTL) kustomize config/default > dist/install.yaml
	@echo "wrote dist/install.yaml"

.PHONY: demo
demo: envtest kubectl ## Run the operator on an embedded default: API server, WeCom simulator, manager, samples.
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go build -o $(LOCALBIN)/wecom-sim ./cmd/wecom-sim
	go run ./hack/demo -bin $(LOCALBIN)

.PHONY: image
image: ## Build the manager's OCI image (IMAGE_PLATFORMS, uid 65532, CA roots, embedded tzdata) into IMAGE_TAR without Docker.
	@test -s $(CA_BUNDLE) || { echo "no CA bundle at $(CA_BUNDLE): install ca-certificates or set CA_BUNDLE"; exit 1; }
	@for p in $(IMAGE_PLATFORMS); do \
		echo ">> go build ./cmd/manager for $$p"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} go build -trimpath -tags timetzdata -ldflags="-s -w" \
			-o $(LOCALBIN)/image/manager-$${p%/*}-$${p#*/} ./cmd/manager; \
	done
	go run ./hack/image -o $(IMAGE_TAR) -ref $(IMG) -entrypoint /manager -rootfs hack/image/rootfs -ca $(CA_BUNDLE) \
		$(foreach p,$(IMAGE_PLATFORMS),-binary $(p)=$(LOCALBIN)/image/manager-$(subst /,-,$(p))) \
		-source $(IMAGE_SOURCE) -version $(VERSION) -revision $(REVISION) -created $$(git log -1 --format=%cI)

.PHONY: cluster-up
cluster-up: cluster-bins kubectl ## Start a single-node Kubernetes here (root; hack/cluster): containerd, kubelet, control plane from bin/k8s.
	hack/cluster/up.sh

.PHONY: cluster-down
cluster-down: ## Stop the local cluster and restore the host state it changed (bridges, iptables, sysctls, mounts, cgroups).
	hack/cluster/down.sh

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in your kubeconfig.
	go run ./cmd/manager

##@ Benchmarks

.PHONY: bench
bench: envtest alertmanager ## Measure the operator at scale (convergence, steady state, notification storm, alert storms through Alertmanager: storm.md); writes bench/results/. BENCH_SCALE=large: import and observe 20,000 members, full management of 21,400 objects (scale.md).
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go build -o $(LOCALBIN)/wecom-sim ./cmd/wecom-sim
	$(if $(BENCH_SCALE),go build -o $(LOCALBIN)/kubectl-wecom ./cmd/kubectl-wecom)
	go run ./hack/bench -bin $(LOCALBIN) -out bench/results -alertmanager $(ALERTMANAGER) $(if $(BENCH_SCALE),-scale=$(BENCH_SCALE))

.PHONY: dashboard-image
dashboard-image: ## Draw docs/images/dashboard-timeseries.png from bench/results/results.json (hack/dashboard, its own module).
	cd hack/dashboard && go run . -in ../../bench/results/results.json -out ../../docs/images/dashboard-timeseries.png

##@ Dependencies

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into ./bin.
$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

# The Kubernetes version helm's release build stamps in (its client-go minor, +1 major): what
# `helm template` assumes without --kube-version. A plain `go install` leaves helm's fallback,
# v1.20, which the chart's kubeVersion refuses.
HELM_KUBE_MINOR ?= 36
HELM_LDFLAGS = -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_KUBE_MINOR) \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_KUBE_MINOR)
HELM_STAMP = $(LOCALBIN)/.helm-$(HELM_VERSION)-k8s1.$(HELM_KUBE_MINOR)

.PHONY: helm
helm: $(HELM) ## Install helm into ./bin.
$(HELM): $(HELM_STAMP)
$(HELM_STAMP): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install -ldflags '$(HELM_LDFLAGS)' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	touch $@

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Build golangci-lint from its Go module source into ./bin.
$(GOLANGCI_LINT): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: actionlint
actionlint: $(ACTIONLINT) ## Build actionlint (GitHub workflow checks; the release workflow cannot run here) into ./bin.
$(ACTIONLINT): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

.PHONY: promtool
promtool: $(PROMTOOL) ## Build promtool (alert rule checks and unit tests) from its Go module source into ./bin.
$(PROMTOOL): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)

.PHONY: envtest
envtest: | $(LOCALBIN) ## Build kube-apiserver and etcd from Go module sources into bin/k8s.
	hack/build-envtest.sh

.PHONY: kubectl
kubectl: | $(LOCALBIN) ## Build kubectl at the API server's version from the same sources into ./bin.
	@hack/build-k8s.sh kubectl

.PHONY: cluster-bins
cluster-bins: | $(LOCALBIN) ## Build etcd, kube-apiserver, kubelet, kube-controller-manager, kube-scheduler and kube-proxy into bin/k8s.
	hack/build-k8s.sh etcd kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy

.PHONY: alertmanager
alertmanager: $(ALERTMANAGER) ## Build Prometheus Alertmanager (for the alerting e2e tests) from Go module sources into ./bin.
$(ALERTMANAGER): | $(LOCALBIN)
	ALERTMANAGER=$(ALERTMANAGER) ALERTMANAGER_VERSION=$(ALERTMANAGER_VERSION) hack/build-alertmanager.sh
