#!/usr/bin/env bash
# Builds the local control plane from the pinned Go modules in this folder: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler (./go.mod), kwok (./kwok/go.mod), Prometheus
# (./prometheus/go.mod), helm (./helm/go.mod; renders charts/elasti-operator in tests) and our
# process supervisor.
# Idempotent: binaries are cached per version outside the git tree; a second run is a no-op.
# The three Kubernetes binaries come from one module graph and share Go's build cache, so the
# second and third build only what the first did not.
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

kube_major="${KUBE_VERSION#v}"; kube_major="${kube_major%%.*}"
kube_minor="${KUBE_VERSION#v*.}"; kube_minor="${kube_minor%%.*}"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$kube_major -X $pkg.gitMinor=$kube_minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean"
done

# The version a module's go.mod requires must be the one versions.env names (one place to bump).
check_pin() { # name module-dir module-path expected
  local got
  got="$(cd "$here/$2" && go list -m -f '{{.Version}}' "$3")" || fail "$1: read the version of $3 in $2/go.mod"
  [ "$got" = "$4" ] || fail "$1: $2/go.mod requires $3 $got but versions.env says $4"
}

# build NAME MODULE-DIR PACKAGE [go build flags...]
build() {
  local name="$1" dir="$2" pkg="$3" tmp
  shift 3
  # The supervisor is ours and tiny: always rebuilt (Go's build cache makes that instant) so an edit is never masked.
  if [ -x "$out/$name" ] && [ "$name" != supervise ]; then step "$name: cached at $out/$name"; return; fi
  if [ "$name" != supervise ]; then step "$name: building $pkg (minutes on 2 cores the first time)"; fi
  tmp="$out/.$name.tmp.$$"
  # Wall and CPU time of the step (CPU is what a busy machine does not inflate): the README's build numbers.
  local TIMEFORMAT="[controlplane] $name: go build took %0R s wall, %0U s user + %0S s sys CPU"
  time (cd "$here/$dir" && go build -trimpath "$@" -o "$tmp" "$pkg") || { rm -f "$tmp"; fail "$name: go build $pkg"; }
  mv -f "$tmp" "$out/$name"   # atomic: a half-written binary never looks cached
  if [ "$name" != supervise ]; then step "$name: built $out/$name"; fi
}

kube_missing=false
for name in etcd kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$out/$name" ] || kube_missing=true
done
if $kube_missing; then
  check_pin kubernetes . k8s.io/kubernetes "$KUBE_VERSION"
  check_pin etcd . go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  step "kubernetes + etcd: downloading modules (first time only)"
  (cd "$here" && go mod download) || fail "kubernetes + etcd: go mod download"
fi

build supervise . ./supervise -ldflags "-s -w"
build etcd . go.etcd.io/etcd/server/v3 -ldflags "-s -w"
for component in kube-apiserver kube-controller-manager kube-scheduler; do
  build "$component" . "k8s.io/kubernetes/cmd/$component" -tags notest,grpcnotrace -ldflags "$kube_ldflags"
done

kwok_name="kwok-$KWOK_VERSION"
if [ ! -x "$out/$kwok_name" ]; then check_pin kwok kwok sigs.k8s.io/kwok "$KWOK_VERSION"; fi
build "$kwok_name" kwok sigs.k8s.io/kwok/cmd/kwok \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"

# remove_all_sd: only the file and HTTP service discoveries (the harness uses file_sd), which
# leaves out the cloud SDKs and roughly halves the build. The web UI's assets are not embedded
# (no builtinassets tag: that needs an npm build of the UI); the HTTP API is all the tests use.
prometheus_name="prometheus-$PROMETHEUS_VERSION"
if [ ! -x "$out/$prometheus_name" ]; then
  check_pin prometheus prometheus github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION"
fi
build "$prometheus_name" prometheus github.com/prometheus/prometheus/cmd/prometheus -tags remove_all_sd \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v} -X github.com/prometheus/common/version.Branch=release"

# helm renders charts/elasti-operator in the chart test; a client only (no cluster access needed).
helm_name="helm-$HELM_VERSION"
if [ ! -x "$out/$helm_name" ]; then check_pin helm helm helm.sh/helm/v3 "$HELM_VERSION"; fi
build "$helm_name" helm helm.sh/helm/v3/cmd/helm \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"

"$out/kube-apiserver" --version >&2 || fail "kube-apiserver: run --version"
"$out/$kwok_name" --version >&2 || fail "kwok: run --version"
"$out/$prometheus_name" --version 2>&1 | head -1 >&2 || fail "prometheus: run --version"
"$out/$helm_name" version --short >&2 || fail "helm: run version"
echo "$out"
