#!/usr/bin/env bash
# Re-pins the test control plane to one Kubernetes release: regenerates go.mod and go.sum.
# Upstream does not support k8s.io/kubernetes as a dependency: its go.mod replaces every
# k8s.io staging module with a local path. We replace each with the published v0.Y.Z instead.
# Usage: tests/controlplane/pin.sh v1.37.2
set -euo pipefail
version=${1:?usage: pin.sh vX.Y.Z}
staging=v0.${version#v1.}
cd "$(dirname "$0")"
rm -f go.mod go.sum
go mod init skyctl.test/controlplane >/dev/null
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod" | while read -r module; do
  go mod edit "-replace=$module=$module@$staging"
done
go get "k8s.io/kubernetes@$version"
go mod tidy
