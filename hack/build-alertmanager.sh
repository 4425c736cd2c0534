#!/usr/bin/env bash
# Builds Prometheus Alertmanager (cmd/alertmanager) from its Go module source into
# bin/alertmanager for the alerting end-to-end tests. Alertmanager is never imported by the
# operator; it is a separate binary, built like the envtest control plane because no prebuilt
# download is reachable from our machines. A binary that is already there is reused.
#
# The module in the Go module cache is read-only and does not contain the web UI's build
# output (ui/app/dist), which cmd/alertmanager embeds; so the module is copied to a
# temporary directory and an index.html placeholder stands in for the UI. The API
# (/api/v2/...) that the tests use does not need the UI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${ALERTMANAGER_VERSION:-v0.34.2}
out=${ALERTMANAGER:-$root/bin/alertmanager}

if [[ -x "$out" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$(dirname "$out")"
echo ">> building alertmanager $version from the Go module proxy (first time only)"

moddir=$(cd "$root" && go mod download -json "github.com/prometheus/alertmanager@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [[ -z "$moddir" || ! -d "$moddir" ]]; then
  echo "could not download github.com/prometheus/alertmanager@$version" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$moddir/." "$work/src"
chmod -R u+w "$work/src"
mkdir -p "$work/src/ui/app/dist"
[[ -e "$work/src/ui/app/dist/index.html" ]] ||
  echo '<!doctype html><title>Alertmanager</title><p>UI not built; use the API.' > "$work/src/ui/app/dist/index.html"

(cd "$work/src" && GOFLAGS=-mod=mod CGO_ENABLED=0 GOWORK=off go build -trimpath -o "$out.tmp" ./cmd/alertmanager)
mv "$out.tmp" "$out"
echo "$out"
