#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the pinned Go modules in this folder.
# Idempotent: binaries are cached per version outside the git tree; a second run is a no-op.
# Usage: tools/controlplane/build.sh   (prints the directory holding the binaries on its last line)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# One source of truth for the versions: versions.env beside this script.
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${ELASTI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/elasti-ts}"
out="$cache_root/controlplane/$KUBE_VERSION-etcd$ETCD_VERSION"
mkdir -p "$out"

step() { printf '[controlplane] %s\n' "$*" >&2; }
fail() { printf '[controlplane] FAILED at step: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || fail "find Go (install Go >= 1.26; it must reach the Go module proxy)"

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
cd "$here"

kube_major="${KUBE_VERSION#v}"; kube_major="${kube_major%%.*}"
kube_minor="${KUBE_VERSION#v*.}"; kube_minor="${kube_minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$kube_major -X $pkg.gitMinor=$kube_minor"
  ldflags+=" -X $pkg.gitTreeState=clean"
done

build() { # name package
  local name="$1" pkg="$2" tmp
  # The supervisor is ours and tiny: always rebuilt (Go's build cache makes that instant) so an edit is never masked.
  if [ -x "$out/$name" ] && [ "$name" != supervise ]; then step "$name: cached at $out/$name"; return; fi
  if [ "$name" != supervise ]; then
    step "$name: downloading modules (first time only)"
    go mod download || fail "$name: go mod download"
    step "$name: building $pkg (several minutes on 2 cores the first time)"
  fi
  tmp="$out/.$name.tmp.$$"
  if [ "$name" = kube-apiserver ]; then
    go build -trimpath -tags notest,grpcnotrace -ldflags "$ldflags" -o "$tmp" "$pkg" || fail "$name: go build"
  else
    go build -trimpath -ldflags "-s -w" -o "$tmp" "$pkg" || fail "$name: go build"
  fi
  mv -f "$tmp" "$out/$name"   # atomic: a half-written binary never looks cached
  step "$name: built $out/$name"
}

build supervise ./supervise
build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver

"$out/kube-apiserver" --version >&2 || fail "kube-apiserver: run --version"
echo "$out"
