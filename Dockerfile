# The manager's image for people with Docker; `make image` (hack/image) builds the same image
# without it, and that one is what the tests run on a real node and what the release pushes.
# Same contents: /manager (static, -tags timetzdata: Go's embedded time zone data),
# /etc/passwd and /etc/group from hack/image/rootfs (nonroot = 65532), Debian's CA bundle at
# /etc/ssl/certs/ca-certificates.crt, user 65532:65532, and the OCI labels below. make image
# also puts the source, version and revision as annotations on the index and each manifest;
# buildx does that with --annotation, and writes an OCI layout tarball like make image's:
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=0.2.0 --build-arg REVISION=$(git rev-parse HEAD) \
#     --annotation "index,manifest:org.opencontainers.image.source=https://github.com/wecom-dev/wecom-operator" \
#     --annotation "index,manifest:org.opencontainers.image.version=0.2.0" \
#     --annotation "index,manifest:org.opencontainers.image.revision=$(git rev-parse HEAD)" \
#     --output type=oci,dest=wecom-operator-image.tar -t IMAGE .
# (Never built here: these machines have no Docker engine; the README says so.)
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -tags timetzdata -ldflags="-s -w" -o /manager ./cmd/manager

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
COPY hack/image/rootfs/ /
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /manager /manager
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.source=https://github.com/wecom-dev/wecom-operator \
      org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.revision=$REVISION
USER 65532:65532
WORKDIR /
ENTRYPOINT ["/manager"]
