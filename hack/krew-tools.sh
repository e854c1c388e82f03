#!/usr/bin/env bash
# krew-tools.sh — builds and caches the real krew and validate-krew-manifest
# (sigs.k8s.io/krew v0.4.3) from the Go module proxy, for the krew install test.
#
#   hack/krew-tools.sh build   build krew and validate-krew-manifest unless
#                              cached; prints the binary directory
#   hack/krew-tools.sh env     prints KUBECTL_GITOPS_KREW_BIN=… and
#                              KUBECTL_GITOPS_KREW_BIN_READY=0|1 (never builds)
#
# The cache lives in ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-gitops/krew-v0.4.3-<go version>/,
# so a fresh clone on the same machine reuses it. Builds take a lock, so
# concurrent callers build once. A cold build takes 1-3 minutes on 2 cores.
set -euo pipefail

krew_version=v0.4.3
krew_module=sigs.k8s.io/krew
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-gitops"

log() { printf 'krew-tools: %s\n' "$*" >&2; }

go_version() { go env GOVERSION; }

bin_dir() { echo "$cache_root/krew-$krew_version-$(go_version)"; }

ready() {
	local d
	d=$(bin_dir)
	[ -x "$d/krew" ] && [ -x "$d/validate-krew-manifest" ]
}

build() {
	local out
	out=$(bin_dir)
	if ready; then
		echo "$out"
		return
	fi
	mkdir -p "$cache_root"
	exec 9>"$cache_root/.build-krew.lock"
	flock 9
	if ready; then
		echo "$out"
		return
	fi
	build_tmp=$(mktemp -d "$cache_root/.krew-XXXXXX")
	trap 'rm -rf "$build_tmp"' EXIT
	log "building krew and validate-krew-manifest $krew_version into $out"
	# Outside any module, so the project's go.mod plays no part; GOFLAGS is
	# cleared so a caller's -mod=… does not break `go install pkg@version`.
	(
		cd "$build_tmp"
		GOBIN="$build_tmp" GOFLAGS='' CGO_ENABLED=0 go install -trimpath \
			"$krew_module/cmd/krew@$krew_version" \
			"$krew_module/cmd/validate-krew-manifest@$krew_version"
	)
	chmod 755 "$build_tmp"
	rm -rf "$out"
	mv "$build_tmp" "$out"
	trap - EXIT
	echo "$out"
}

env_out() {
	echo "KUBECTL_GITOPS_KREW_BIN=$(bin_dir)"
	if ready; then echo "KUBECTL_GITOPS_KREW_BIN_READY=1"; else echo "KUBECTL_GITOPS_KREW_BIN_READY=0"; fi
}

case "${1:-}" in
build) build ;;
env) env_out ;;
*)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
