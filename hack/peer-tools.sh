#!/usr/bin/env bash
# peer-tools.sh — builds the real tools our output must interoperate with,
# from the Go module proxy only, and caches them per version under
# ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-gitops/<name>-<version>/.
#
#   hack/peer-tools.sh build [TOOL...]   build (or reuse) and print KEY=DIR lines
#   hack/peer-tools.sh env               print KEY=DIR lines without building
#
# Tools: sealed-secrets (kubeseal + controller), sops, age (age + age-keygen),
# gitea (a real forge with a pull-request API, for promote's tests), flux (the
# Flux CLI: the differential reference for Flux sources, and the host of
# `flux gitops`), argocd (the Argo CD CLI, the host of `argocd gitops`), helm
# (the Helm CLI: the reference for rendering charts, and a column of make bench).
set -euo pipefail

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-gitops"
sealed_secrets_version=v0.40.0
sops_version=v3.13.3
age_version=v1.3.2
# v1.27.x does not build here: the proxy refuses three of its dependencies.
gitea_version=v1.26.0
flux_version=v2.9.5
# v3.2.12 fails to compile and v3.3+ needs a nested module missing from the download.
argocd_version=v3.2.11
helm_version=v4.3.2

log() { printf 'peer-tools: %s\n' "$*" >&2; }

dir_of() {
	case "$1" in
	sealed-secrets) echo "$cache_root/sealed-secrets-$sealed_secrets_version-$(go env GOVERSION)" ;;
	sops) echo "$cache_root/sops-$sops_version-$(go env GOVERSION)" ;;
	age) echo "$cache_root/age-$age_version-$(go env GOVERSION)" ;;
	gitea) echo "$cache_root/gitea-$gitea_version-$(go env GOVERSION)" ;;
	flux) echo "$cache_root/flux-$flux_version-$(go env GOVERSION)" ;;
	argocd) echo "$cache_root/argocd-$argocd_version-$(go env GOVERSION)" ;;
	helm) echo "$cache_root/helm-$helm_version-$(go env GOVERSION)" ;;
	*)
		log "unknown tool $1"
		exit 2
		;;
	esac
}

key_of() {
	case "$1" in
	sealed-secrets) echo KUBECTL_GITOPS_SEALED_SECRETS ;;
	sops) echo KUBECTL_GITOPS_SOPS ;;
	age) echo KUBECTL_GITOPS_AGE ;;
	gitea) echo KUBECTL_GITOPS_GITEA ;;
	flux) echo KUBECTL_GITOPS_FLUX ;;
	argocd) echo KUBECTL_GITOPS_ARGOCD ;;
	helm) echo KUBECTL_GITOPS_HELM ;;
	esac
}

build_one() {
	local tool=$1 out tmp start=$SECONDS
	out=$(dir_of "$tool")
	[ -f "$out/.complete" ] && return 0
	mkdir -p "$cache_root"
	exec 7>"$cache_root/.build-$tool.lock"
	flock 7
	[ -f "$out/.complete" ] && return 0
	tmp=$(mktemp -d "$cache_root/.build-$tool-XXXXXX")
	log "building $tool into $out (cold: several minutes)"
	case "$tool" in
	sealed-secrets)
		# The module renamed itself (github.com/bitnami/sealed-secrets) while
		# the proxy serves it under the old path: build from a copy.
		local src
		src=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/bitnami-labs/sealed-secrets@$sealed_secrets_version" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[ -n "$src" ] || {
			log "cannot download sealed-secrets"
			exit 1
		}
		cp -r "$src" "$tmp/src"
		chmod -R u+w "$tmp/src"
		(cd "$tmp/src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.VERSION=$sealed_secrets_version" -o "$tmp/" ./cmd/kubeseal ./cmd/controller)
		rm -rf "$tmp/src"
		;;
	sops)
		GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "github.com/getsops/sops/v3/cmd/sops@$sops_version"
		;;
	age)
		GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "filippo.io/age/cmd/age@$age_version" "filippo.io/age/cmd/age-keygen@$age_version"
		;;
	gitea)
		# go install is refused (replace directives): build from a copy, with
		# the templates and assets embedded and cgo for SQLite.
		local src
		src=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "code.gitea.io/gitea@$gitea_version" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[ -n "$src" ] || {
			log "cannot download gitea"
			exit 1
		}
		command -v gcc >/dev/null || {
			log "gitea needs gcc (cgo for SQLite): apt-get install gcc"
			exit 1
		}
		cp -r "$src" "$tmp/src"
		chmod -R u+w "$tmp/src"
		(cd "$tmp/src" &&
			GOFLAGS=-mod=mod go generate -tags bindata ./modules/templates ./modules/options ./modules/public ./modules/migration &&
			CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath -tags "bindata sqlite sqlite_unlock_notify" \
				-ldflags "-s -w -X main.Version=${gitea_version#v}" -o "$tmp/gitea" .)
		rm -rf "$tmp/src"
		;;
	flux)
		GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w -X main.VERSION=${flux_version#v}" "github.com/fluxcd/flux2/v2/cmd/flux@$flux_version"
		;;
	helm)
		GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "helm.sh/helm/v4/cmd/helm@$helm_version"
		;;
	argocd)
		# go install is refused (replace directives): build from a copy. The
		# main picks its component from the binary's name: it must be argocd.
		local src
		src=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/argoproj/argo-cd/v3@$argocd_version" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[ -n "$src" ] || {
			log "cannot download argo-cd"
			exit 1
		}
		cp -r "$src" "$tmp/src"
		chmod -R u+w "$tmp/src"
		(cd "$tmp/src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
			-ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${argocd_version#v}" -o "$tmp/argocd" ./cmd)
		rm -rf "$tmp/src"
		;;
	esac
	touch "$tmp/.complete"
	chmod 755 "$tmp"
	rm -rf "$out"
	mv "$tmp" "$out"
	log "built $tool in $((SECONDS - start))s"
}

tools=(sealed-secrets sops age gitea flux argocd helm)
cmd=${1:-}
shift || true
[ $# -gt 0 ] && tools=("$@")
case "$cmd" in
build)
	for t in "${tools[@]}"; do
		build_one "$t"
		echo "$(key_of "$t")=$(dir_of "$t")"
	done
	;;
env)
	for t in "${tools[@]}"; do
		echo "$(key_of "$t")=$(dir_of "$t")"
	done
	;;
*)
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
