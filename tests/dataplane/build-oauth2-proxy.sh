#!/usr/bin/env bash
# Builds oauth2-proxy, which chart 0.13.0 runs in front of the API server for `--auth oauth`,
# from its Go module into the per-user test cache, and prints the binary's path. The chart's
# image is v7.9.0; the Go module proxy this machine reaches serves v7.15.6 and not v7.9.0, and
# the chart's flags mean the same in both.
set -euo pipefail
version=v7.15.6
cache="${SKYCTL_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skyctl-test}/oauth2-proxy-$version"
if [ ! -x "$cache/oauth2-proxy" ]; then
  echo "building oauth2-proxy $version into $cache (once)" >&2
  mkdir -p "$(dirname "$cache")"
  # Built aside and renamed into place: an interrupted build is never taken for a cached one.
  building=$(mktemp -d "$cache.building.XXXXXX")
  GOBIN="$building" GOFLAGS=-mod=mod go install "github.com/oauth2-proxy/oauth2-proxy/v7@$version"
  rm -rf "$cache"
  mv "$building" "$cache"
fi
echo "$cache/oauth2-proxy"
