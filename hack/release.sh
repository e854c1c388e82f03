#!/usr/bin/env bash
# release.sh — builds the release archives, checksums and krew manifest into
# dist/, offline (only the Go module cache is used) and reproducibly: two runs
# on the same commit give byte-identical files.
#
#   hack/release.sh [--platforms "linux/amd64 darwin/arm64 …"] [--host]
#
#   dist/kubectl-gitops_<version>_<os>_<arch>.tar.gz   (.zip for windows)
#       the six binaries, argocd-gitops (a copy of the dispatcher, for the
#       Argo CD CLI), LICENSE, README.md and the kubectl_complete-gitops*
#       completion helpers, flat, sorted, owner 0:0, mtime = commit time
#   dist/flux-gitops_<version>_<os>_<arch>.tar.gz      (.zip for windows)
#       flux-gitops (the multicall binary, every verb in one file: Flux's
#       installer takes one executable), LICENSE, README.md; same layout
#   dist/checksums.txt            sha256 of every archive
#   dist/krew/gitops.yaml         krew/gitops.yaml.tmpl rendered with a uri,
#                                 sha256 and file list per kubectl-gitops archive
#   dist/flux/gitops.yaml         the Flux CLI plugin manifest (a url, sha256
#   dist/flux/catalog.yaml        checksum and extractPath per flux-gitops
#                                 archive) and catalog: publish both where
#                                 FLUXCD_PLUGIN_CATALOG points
#
# Environment:
#   VERSION, COMMIT, DATE   stamped into the binaries with the same -X ldflags
#                           as `make build` (defaults: git describe, HEAD, commit time)
#   PLATFORMS               os/arch list (default: linux, darwin and windows on
#                           amd64 and arm64); --platforms and --host override it
#   DIST                    output directory (default: dist/ in the checkout)
#   RELEASE_BASE_URL        where the archives will be published (default:
#                           https://github.com/kubectl-gitops/kubectl-gitops/releases/download/<version>)
#   SOURCE_DATE_EPOCH       archive entry mtime (default: the commit time)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

module=github.com/kubectl-gitops/kubectl-gitops
binaries=(kubectl-gitops kubectl-gitops-drift kubectl-gitops-promote kubectl-gitops-tenant kubectl-gitops-seal kubectl-gitops-repo)
default_platforms="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"

log() { printf 'release: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 2
}
usage() {
	sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

platforms=${PLATFORMS:-$default_platforms}
while [ $# -gt 0 ]; do
	case "$1" in
	--platforms)
		[ $# -ge 2 ] || usage
		platforms=$2
		shift 2
		;;
	--platforms=*)
		platforms=${1#*=}
		shift
		;;
	--host)
		platforms="$(go env GOHOSTOS)/$(go env GOHOSTARCH)"
		shift
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done

# The same defaults as the Makefile, so `make release` and a direct run agree.
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
date=${DATE:-$(git log -1 --format=%cI 2>/dev/null || echo unknown)}
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}

# krew requires a semantic version with a leading v; an untagged build gets a
# pre-release of v0.0.0 named after the commit.
semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
if [[ $version =~ $semver ]]; then
	tag=$version
else
	tag="v0.0.0-dev.g${version//[^0-9A-Za-z.-]/-}"
	log "VERSION=$version is not a vX.Y.Z tag: naming the release $tag"
fi

dist=${DIST:-$root/dist}
base_url=${RELEASE_BASE_URL:-https://$module/releases/download/$tag}
ldflags="-s -w -X $module/pkg/version.version=$version -X $module/pkg/version.gitCommit=$commit -X $module/pkg/version.buildDate=$date"

known_platforms=" $(go tool dist list | tr '\n' ' ') "
for p in $platforms; do
	[[ $p =~ ^[a-z0-9]+/[a-z0-9]+$ ]] || die "bad platform $p: want os/arch"
	[[ $known_platforms == *" $p "* ]] || die "Go does not build for $p"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-gitops-release-XXXXXX")
trap 'rm -rf "$work"' EXIT

# The helper that packs archives and renders the manifest (standard library only).
GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -o "$work/releasetool" ./hack/releasetool

mkdir -p "$dist/krew"
rm -f "$dist"/kubectl-gitops_* "$dist"/flux-gitops_* "$dist/checksums.txt" "$dist/krew/gitops.yaml" \
	"$dist/flux/gitops.yaml" "$dist/flux/catalog.yaml"

archives=() flux_archives=()
for p in $platforms; do
	goos=${p%/*} goarch=${p#*/}
	out="$work/$goos-$goarch"
	mkdir -p "$out"
	log "building $tag for $p"
	pkgs=()
	for b in "${binaries[@]}"; do pkgs+=("./cmd/$b"); done
	GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 GOFLAGS=-mod=readonly \
		go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out/" "${pkgs[@]}" ./cmd/gitops-multicall
	exe=
	[ "$goos" != windows ] || exe=.exe
	files=()
	for b in "${binaries[@]}"; do files+=("$out/$b$exe"); done
	# Argo CD v3 runs `argocd gitops …` as argocd-gitops from PATH: the
	# dispatcher under that name finds the verb binaries next to it. A copy,
	# not a symlink, so the zip works on Windows too.
	cp "$out/kubectl-gitops$exe" "$out/argocd-gitops$exe"
	files+=("$out/argocd-gitops$exe" LICENSE README.md)
	if [ "$goos" = windows ]; then
		files+=(krew/completion/kubectl_complete-gitops*.cmd)
		ext=zip
	else
		for f in krew/completion/kubectl_complete-gitops*; do
			[[ $f == *.cmd ]] || files+=("$f")
		done
		ext=tar.gz
	fi
	archive="$dist/kubectl-gitops_${tag}_${goos}_${goarch}.$ext"
	"$work/releasetool" pack -o "$archive" -mtime "$epoch" "${files[@]}"
	archives+=("$archive")

	# Flux's installer extracts exactly one executable into its plugin
	# directory: the multicall binary, named as Flux installs it.
	mkdir -p "$out/flux"
	mv "$out/gitops-multicall$exe" "$out/flux/flux-gitops$exe"
	archive="$dist/flux-gitops_${tag}_${goos}_${goarch}.$ext"
	"$work/releasetool" pack -o "$archive" -mtime "$epoch" "$out/flux/flux-gitops$exe" LICENSE README.md
	flux_archives+=("$archive")
done

"$work/releasetool" checksums "${archives[@]}" "${flux_archives[@]}" >"$dist/checksums.txt"
"$work/releasetool" manifest -template krew/gitops.yaml.tmpl -version "$tag" \
	-base-url "$base_url" -o "$dist/krew/gitops.yaml" "${archives[@]}"
"$work/releasetool" flux -version "$tag" -base-url "$base_url" -o "$dist/flux" "${flux_archives[@]}"

log "wrote $((${#archives[@]} + ${#flux_archives[@]})) archive(s), checksums.txt, krew/gitops.yaml and flux/{gitops,catalog}.yaml to $dist"
for a in "${archives[@]}" "${flux_archives[@]}"; do echo "$a"; done
