#!/usr/bin/env bash
# Builds Traefik v3, the Gateway API and Ingress controller the data-plane tests run as a local
# process against the test kube-apiserver, from its Go module into the per-user test cache, and
# prints the binary's path. v3.7.13 is the newest v3 the Go module proxy serves here.
set -euo pipefail
version=v3.7.13
cache="${SKYCTL_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skyctl-test}/traefik-$version"
# The proxy refuses (403) these exact versions that v3.7.13 pins, so each is swapped for a
# served one: the versions v3.7.12 pinned, except sacloud-sdk-go, which v3.7.12 did not use
# (its first served version), and the basic/digest-auth fork, for the commit v3.6 pinned (same
# API). All but that fork are DNS SDKs that only ACME DNS challenges load; the tests use neither.
substitutes=(
  github.com/abbot/go-http-auth=github.com/containous/go-http-auth@v0.4.1-0.20200324110947-a37a7636d23e
  github.com/akamai/AkamaiOPEN-edgegrid-golang/v13=github.com/akamai/AkamaiOPEN-edgegrid-golang/v13@v13.3.0
  github.com/huaweicloud/huaweicloud-sdk-go-v3=github.com/huaweicloud/huaweicloud-sdk-go-v3@v0.1.205
  github.com/nrdcg/oci-go-sdk/common/v1065=github.com/nrdcg/oci-go-sdk/common/v1065@v1065.120.0
  github.com/nrdcg/oci-go-sdk/dns/v1065=github.com/nrdcg/oci-go-sdk/dns/v1065@v1065.120.0
  github.com/sacloud/sacloud-sdk-go=github.com/sacloud/sacloud-sdk-go@v0.2.0
  github.com/ucloud/ucloud-sdk-go=github.com/ucloud/ucloud-sdk-go@v0.22.90
  github.com/yandex-cloud/go-sdk/services/dns=github.com/yandex-cloud/go-sdk/services/dns@v0.0.65
)
if [ ! -x "$cache/traefik" ]; then
  echo "building traefik $version into $cache (once; about 10 minutes on 2 cores)" >&2
  mkdir -p "$(dirname "$cache")"
  # Built aside and renamed into place: an interrupted build is never taken for a cached one.
  building=$(mktemp -d "$cache.building.XXXXXX")
  trap 'rm -rf "$building"' EXIT
  go mod download "github.com/traefik/traefik/v3@$version"
  src="$(go env GOMODCACHE)/github.com/traefik/traefik/v3@$version"
  # `go install module@version` refuses traefik: its go.mod has replace directives. So build
  # from a wrapper module that starts as a copy of traefik's own go.mod and go.sum: it keeps
  # its replace and exclude directives (which only a main module's go.mod applies) and pins
  # every other dependency at the version traefik was released with.
  wrapper="$building/wrapper"
  mkdir -p "$wrapper/ext"
  cp "$src/go.mod" "$src/go.sum" "$wrapper/" && chmod u+w "$wrapper"/go.*
  # One replace points into traefik's repository (./pkg/config/dynamic/ext), a nested module
  # that the module zip leaves out and the proxy does not serve. In the open-source build it
  # only declares the two empty structs that dynamic.HTTP and dynamic.Router embed (a hook for
  # Traefik's commercial editions), so an equivalent stand-in module is enough.
  printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24.0\n' >"$wrapper/ext/go.mod"
  printf 'package ext\n\ntype HTTP struct{}\n\ntype Router struct{}\n' >"$wrapper/ext/ext.go"
  (
    cd "$wrapper"
    go mod edit -module=skyctl-test/traefik-build -require="github.com/traefik/traefik/v3@$version" \
      -replace=github.com/traefik/traefik/dynamic/ext=./ext "${substitutes[@]/#/-replace=}"
    # The web UI is embedded from webui/static, which the module zip ships holding only a
    # placeholder (release builds fill it with npm first). That compiles as it is; the tests
    # never open the dashboard. The -X flags are the release Makefile's, so that `traefik
    # version` names the version.
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$building/traefik" -ldflags "-s -w \
      -X github.com/traefik/traefik/v3/pkg/version.Version=$version \
      -X github.com/traefik/traefik/v3/pkg/version.Codename=skyctl-test" \
      github.com/traefik/traefik/v3/cmd/traefik
  )
  rm -rf "$wrapper"
  trap - EXIT
  rm -rf "$cache"
  mv "$building" "$cache"
fi
echo "$cache/traefik"
