#!/usr/bin/env bash
# Builds the test control plane's binaries from the Go module proxy and caches them.
# Prints the directory that holds them. A warm call returns at once; a cold one compiles
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kubectl and kwok (minutes on 2 cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kwok_version=v0.8.0
k8s_version=$(sed -n 's#^\s*k8s.io/kubernetes \(v[0-9.]*\)$#\1#p' "$here/go.mod")
# Stamp the version as Kubernetes' own release build does (hack/lib/version.sh): without it
# /version says v0.0.0-master, and version-aware clients such as Helm refuse the cluster.
minor=${k8s_version#v*.}; minor=${minor%%.*}
stamp=k8s.io/component-base/version
ldflags="-s -w -X $stamp.gitVersion=$k8s_version -X $stamp.gitMajor=1 -X $stamp.gitMinor=$minor \
  -X $stamp.gitTreeState=clean -X $stamp.buildDate=1970-01-01T00:00:00Z \
  -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version"
# The key covers everything that changes the output: pins, sources, flags, toolchain.
key=$( (cat "$here/go.mod" "$here/go.sum" "$here"/cmd/*/main.go; echo "$ldflags"; go version; echo "$kwok_version") | sha256sum | cut -c1-12)
cache=${SKYCTL_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skyctl-test}
bin="$cache/controlplane-$k8s_version-$key"
want=(kube-apiserver kube-controller-manager kube-scheduler etcd kubectl kwok)
have_all() { for b in "${want[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi
mkdir -p "$bin.partial"
export CGO_ENABLED=0 GOFLAGS=-trimpath
started=$SECONDS
cd "$here"
for cmd in kube-apiserver kube-controller-manager kube-scheduler etcd kubectl; do
  [ -x "$bin.partial/$cmd" ] && continue
  echo "building $cmd (kubernetes $k8s_version)" >&2
  go build -ldflags="$ldflags" -o "$bin.partial/$cmd.tmp" "./cmd/$cmd"
  mv "$bin.partial/$cmd.tmp" "$bin.partial/$cmd"
done
if [ ! -x "$bin.partial/kwok" ]; then
  echo "building kwok $kwok_version" >&2
  GOBIN="$bin.partial" go install -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
fi
rm -rf "$bin" && mv "$bin.partial" "$bin"
echo "built in $((SECONDS - started))s" >&2
echo "$bin"
