#!/usr/bin/env bash
# Builds the client-go contender of the engine benchmark from the pinned Go modules in this folder.
# Idempotent: the binary is cached outside the git tree, keyed by client-go's version and a hash
# of this folder's sources, so a second run is a no-op and an edit is never masked.
# Usage: bench/peers/client-go/build.sh   (prints the binary's path on its last line)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The control plane's version decides client-go's: Kubernetes v1.N.P ships client-go v0.N.P.
# shellcheck source=../../../tools/controlplane/versions.env
source "$here/../../../tools/controlplane/versions.env"
client_go="v0.${KUBE_VERSION#v1.}"

step() { printf '[client-go-peer] %s\n' "$*" >&2; }
fail() { printf '[client-go-peer] FAILED at step: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || fail "find Go (install Go >= 1.26; it must reach the Go module proxy)"
grep -q "k8s.io/client-go $client_go\$" "$here/go.mod" ||
  fail "check go.mod: it must require k8s.io/client-go $client_go (the control plane is $KUBE_VERSION)"

hash="$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go | sha256sum | cut -c1-12)"
cache_root="${ELASTI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/elasti-ts}"
out="$cache_root/bench-peers/client-go-$client_go-$hash"
bin="$out/client-go-peer"
if [ -x "$bin" ]; then
  step "cached at $bin"
  echo "$bin"
  exit 0
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
cd "$here"
mkdir -p "$out"
step "downloading modules (first time only)"
go mod download || fail "go mod download"
step "building client-go-peer against client-go $client_go"
tmp="$out/.client-go-peer.tmp.$$"
go build -trimpath -ldflags "-s -w" -o "$tmp" . || fail "go build"
mv -f "$tmp" "$bin"   # atomic: a half-written binary never looks cached
# Builds of earlier sources are never used again.
find "$cache_root/bench-peers" -mindepth 1 -maxdepth 1 -name 'client-go-*' ! -name "${out##*/}" -exec rm -rf {} +
step "built $bin"
echo "$bin"
