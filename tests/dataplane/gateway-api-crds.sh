#!/usr/bin/env bash
# Copies the Gateway API standard-channel CRDs, which the data-plane tests install into the test
# kube-apiserver before creating Gateways and HTTPRoutes, into the per-user test cache, and
# prints that directory. They come from the Go module sigs.k8s.io/gateway-api, whose zip carries
# config/crd/, since the Go module proxy is the only source of them this machine reaches.
# v1.6.3: the newest v1.6 patch; Traefik v3.7.13 (build-traefik.sh) is built against the
# v1.6 API, and v1.7.0's go.mod asks for a newer Go than this machine has.
set -euo pipefail
version=v1.6.3
cache="${SKYCTL_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skyctl-test}/gateway-api-$version"
if [ ! -d "$cache" ]; then
  echo "fetching gateway-api $version CRDs into $cache (once)" >&2
  mkdir -p "$(dirname "$cache")"
  # Copied aside and renamed into place: an interrupted copy is never taken for a cached one.
  building=$(mktemp -d "$cache.building.XXXXXX")
  go mod download "sigs.k8s.io/gateway-api@$version"
  src="$(go env GOMODCACHE)/sigs.k8s.io/gateway-api@$version/config/crd/standard"
  # Only the CRDs: the channel also ships a ValidatingAdmissionPolicy (vap_safeupgrades) that
  # only guards later CRD upgrades and downgrades, which a throwaway test cluster never does.
  for f in "$src"/*.yaml; do
    if grep -q '^kind: CustomResourceDefinition$' "$f"; then cp "$f" "$building/"; fi
  done
  # The module cache is read-only; the copies need not be.
  chmod u+w "$building"/*.yaml
  rm -rf "$cache"
  mv "$building" "$cache"
fi
echo "$cache"
