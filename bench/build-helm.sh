#!/usr/bin/env bash
# Builds the real Helm 4 CLI from the Go module proxy into the per-user cache and prints its
# path. Warm calls return at once.
set -euo pipefail
version=${HELM_VERSION:-v4.3.1}
cache=${SKYCTL_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skyctl-test}
bin="$cache/helm-$version-$(go version | sha256sum | cut -c1-8)"
if [ ! -x "$bin/helm" ]; then
  echo "building helm $version" >&2
  mkdir -p "$bin.partial"
  CGO_ENABLED=0 GOFLAGS=-trimpath GOBIN="$bin.partial" go install -ldflags='-s -w' "helm.sh/helm/v4/cmd/helm@$version"
  rm -rf "$bin" && mv "$bin.partial" "$bin"
fi
echo "$bin/helm"
