#!/usr/bin/env bash
# control-plane.sh — builds and caches the real Kubernetes parts the project
# tests and demos run against, using nothing but the Go module proxy.
#
#   hack/control-plane.sh build   build etcd, kube-apiserver, kube-controller-manager
#                                 and kubectl (pinned in hack/k8s-bins/go.mod) unless
#                                 cached; prints the binary directory
#   hack/control-plane.sh crds    fetch the pinned Argo CD, Flux and Sealed Secrets
#                                 CRDs from their module zips; prints the CRD directory
#   hack/control-plane.sh env     prints KUBECTL_GITOPS_K8S_BIN=… and
#                                 KUBECTL_GITOPS_CRDS=… (and whether they are ready)
#   hack/control-plane.sh all     build + crds
#
# Caches live in ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-gitops/, keyed on the
# pinned module files and the Go version, so a fresh clone on the same machine
# reuses them. Builds take a lock, so concurrent callers build once.
# Starting a control plane is done by test/controlplane (Go), which the tests,
# `make demo` and `go run ./test/cmd/localcluster` use.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mod="$here/k8s-bins"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-gitops"

k8s_version=v1.37.2

# CRD sources: module@version and the files inside the module zip.
argocd_module=github.com/argoproj/argo-cd/v3@v3.5.7
argocd_files=(manifests/crds/application-crd.yaml manifests/crds/appproject-crd.yaml)
kustomize_controller_module=github.com/fluxcd/kustomize-controller@v1.9.6
kustomize_controller_files=(config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml)
source_controller_module=github.com/fluxcd/source-controller@v1.9.6
source_controller_files=(config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml config/crd/bases/source.toolkit.fluxcd.io_externalartifacts.yaml config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml config/crd/bases/source.toolkit.fluxcd.io_helmrepositories.yaml config/crd/bases/source.toolkit.fluxcd.io_helmcharts.yaml)
# helm-controller: the proxy serves v1.4.0 and refuses the v1.5+ main-module zips.
helm_controller_module=github.com/fluxcd/helm-controller@v1.4.0
helm_controller_files=(config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml)
sealed_secrets_module=github.com/bitnami-labs/sealed-secrets@v0.40.0
sealed_secrets_files=(helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml)

log() { printf 'control-plane: %s\n' "$*" >&2; }

bin_key() {
	{ cat "$mod/go.mod" "$mod/go.sum"; go version; } | sha256sum | cut -c1-12
}

bin_dir() { echo "$cache_root/kubernetes-$k8s_version-$(bin_key)/bin"; }

crd_key() {
	printf '%s\n' "$argocd_module" "${argocd_files[@]}" \
		"$kustomize_controller_module" "${kustomize_controller_files[@]}" \
		"$source_controller_module" "${source_controller_files[@]}" \
		"$helm_controller_module" "${helm_controller_files[@]}" \
		"$sealed_secrets_module" "${sealed_secrets_files[@]}" | sha256sum | cut -c1-12
}

crd_dir() { echo "$cache_root/crds-$(crd_key)"; }

bins_ready() {
	local d
	d=$(bin_dir)
	for b in etcd kube-apiserver kube-controller-manager kubectl; do
		[ -x "$d/$b" ] || return 1
	done
}

build() {
	local out
	out=$(bin_dir)
	if bins_ready; then
		echo "$out"
		return
	fi
	mkdir -p "$cache_root"
	exec 9>"$cache_root/.build-kubernetes.lock"
	flock 9
	if bins_ready; then
		echo "$out"
		return
	fi
	build_tmp=$(mktemp -d "$cache_root/.build-XXXXXX")
	trap 'rm -rf "$build_tmp"' EXIT
	local tmp=$build_tmp
	local start=$SECONDS
	log "building etcd, kube-apiserver, kube-controller-manager, kubectl $k8s_version into $out"
	log "a cold build takes 15-30 minutes on 2 cores; later runs reuse the cache"
	local pkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version
	local minor=${k8s_version#v1.}
	minor=${minor%%.*}
	local ld="-s -w"
	for p in $pkg $cpkg; do
		ld+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
		ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	(
		cd "$mod"
		CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ld" -o "$tmp/" \
			go.etcd.io/etcd/server/v3 \
			k8s.io/kubernetes/cmd/kube-apiserver \
			k8s.io/kubernetes/cmd/kube-controller-manager \
			k8s.io/kubernetes/cmd/kubectl
	)
	mv "$tmp/server" "$tmp/etcd"
	chmod 755 "$tmp"
	mkdir -p "$(dirname "$out")"
	rm -rf "$out"
	mv "$tmp" "$out"
	trap - EXIT
	log "built in $((SECONDS - start))s"
	echo "$out"
}

crds_ready() { [ -f "$(crd_dir)/.complete" ]; }

fetch_module_files() { # module@version dest files...
	local mv=$1 dest=$2
	shift 2
	local dir
	dir=$(GOFLAGS=-mod=mod go mod download -json "$mv" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] || {
		log "go mod download $mv gave no directory"
		return 1
	}
	for f in "$@"; do
		local name
		name=$(basename "$f")
		{
			echo "# Source: $mv $f (fetched by hack/control-plane.sh crds; do not edit)"
			cat "$dir/$f"
		} >"$dest/$name"
	done
}

crds() {
	local out
	out=$(crd_dir)
	if crds_ready; then
		echo "$out"
		return
	fi
	mkdir -p "$cache_root"
	exec 8>"$cache_root/.build-crds.lock"
	flock 8
	if crds_ready; then
		echo "$out"
		return
	fi
	crds_tmp=$(mktemp -d "$cache_root/.crds-XXXXXX")
	trap 'rm -rf "$crds_tmp"' EXIT
	local tmp=$crds_tmp
	log "fetching CRDs into $out"
	# go mod download needs a module context-free directory.
	(
		cd "$tmp"
		fetch_module_files "$argocd_module" "$tmp" "${argocd_files[@]}"
		fetch_module_files "$kustomize_controller_module" "$tmp" "${kustomize_controller_files[@]}"
		fetch_module_files "$source_controller_module" "$tmp" "${source_controller_files[@]}"
		fetch_module_files "$helm_controller_module" "$tmp" "${helm_controller_files[@]}"
		fetch_module_files "$sealed_secrets_module" "$tmp" "${sealed_secrets_files[@]}"
	)
	touch "$tmp/.complete"
	chmod 755 "$tmp"
	rm -rf "$out"
	mv "$tmp" "$out"
	trap - EXIT
	echo "$out"
}

env_out() {
	echo "KUBECTL_GITOPS_K8S_BIN=$(bin_dir)"
	echo "KUBECTL_GITOPS_CRDS=$(crd_dir)"
	if bins_ready; then echo "KUBECTL_GITOPS_K8S_BIN_READY=1"; else echo "KUBECTL_GITOPS_K8S_BIN_READY=0"; fi
	if crds_ready; then echo "KUBECTL_GITOPS_CRDS_READY=1"; else echo "KUBECTL_GITOPS_CRDS_READY=0"; fi
}

case "${1:-}" in
build) build ;;
crds) crds ;;
all)
	crds >/dev/null
	build
	;;
env) env_out ;;
*)
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
