#!/bin/sh
# install-release.sh — downloads a kubectl-gitops release archive for this
# machine, verifies it against the release's checksums.txt, and installs the
# binaries. Used by action.yml and ci/gitlab/kubectl-gitops.gitlab-ci.yml;
# POSIX sh, needs curl (or wget), tar (unzip on Windows) and sha256sum (or
# shasum).
#
#   hack/install-release.sh --version vX.Y.Z [--dir DIR] [--base-url URL]
#
#   --version   the release tag (also KUBECTL_GITOPS_VERSION)
#   --dir       where the binaries go (default: $HOME/.local/bin; also
#               KUBECTL_GITOPS_INSTALL_DIR); created if missing
#   --base-url  where the archives and checksums.txt are (default:
#               https://github.com/kubectl-gitops/kubectl-gitops/releases/download/VERSION;
#               also KUBECTL_GITOPS_RELEASE_URL). https, or http to a loopback host.
#
# The archive is checked before it is unpacked: an archive whose sha256 is not
# the one checksums.txt names for it, or that checksums.txt does not name, is
# refused (exit 2) and nothing is installed. Only the suite's binaries are
# copied out of the archive, after all of them were found in it. Prints the
# install directory on stdout; messages go to stderr.
set -eu

repo=kubectl-gitops/kubectl-gitops
bins="kubectl-gitops kubectl-gitops-drift kubectl-gitops-promote kubectl-gitops-tenant kubectl-gitops-seal kubectl-gitops-repo argocd-gitops"

log() { printf 'install-release: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 2
}
usage() {
	sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

version=${KUBECTL_GITOPS_VERSION:-}
dir=${KUBECTL_GITOPS_INSTALL_DIR:-}
base_url=${KUBECTL_GITOPS_RELEASE_URL:-}
while [ $# -gt 0 ]; do
	case "$1" in
	--version | --dir | --base-url)
		[ $# -ge 2 ] || usage
		case "$1" in
		--version) version=$2 ;;
		--dir) dir=$2 ;;
		--base-url) base_url=$2 ;;
		esac
		shift 2
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done

[ -n "$version" ] || die "no version: pass --version vX.Y.Z (or set KUBECTL_GITOPS_VERSION)"
case "$version" in
*[!0-9A-Za-z.+-]* | [!v]*) die "version $version: want a release tag such as v0.1.0" ;;
esac
[ -n "$dir" ] || dir=${HOME:?}/.local/bin
[ -n "$base_url" ] || base_url=https://github.com/$repo/releases/download/$version
base_url=${base_url%/}
case "$base_url" in
https://*) ;;
http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]*) ;;
*) die "base URL $base_url: want https (or http to a loopback host)" ;;
esac

# The platform, named as the release archives name it.
os=$(uname -s)
case "$os" in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ;;
*) die "no release archive for operating system $os (there are linux, darwin and windows): build from source with 'go install'" ;;
esac
arch=$(uname -m)
case "$arch" in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "no release archive for architecture $arch (there are amd64 and arm64): build from source with 'go install'" ;;
esac
ext=tar.gz exe=
if [ "$os" = windows ]; then
	ext=zip exe=.exe
fi
archive=kubectl-gitops_${version}_${os}_${arch}.$ext

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-gitops-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch() { # URL FILE
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --proto '=https,http' --retry 3 -o "$2" "$1" || die "downloading $1 failed"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1" || die "downloading $1 failed"
	else
		die "neither curl nor wget is installed"
	fi
}
sha256() { # FILE
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d' ' -f1
	else
		die "neither sha256sum nor shasum is installed"
	fi
}

log "downloading $archive ($version) from $base_url"
fetch "$base_url/checksums.txt" "$tmp/checksums.txt"
fetch "$base_url/$archive" "$tmp/$archive"

# checksums.txt lines are "SHA256  NAME", as sha256sum writes them.
want=$(awk -v n="$archive" '$2 == n || $2 == "*" n { print $1; exit }' "$tmp/checksums.txt")
[ -n "$want" ] || die "checksums.txt of $version does not name $archive: refusing to install it"
got=$(sha256 "$tmp/$archive")
if [ "$got" != "$want" ]; then
	die "checksum mismatch for $archive: checksums.txt says $want, the download is $got: refusing to install it"
fi
log "checksum ok: $got"

mkdir "$tmp/x"
if [ "$ext" = zip ]; then
	unzip -q "$tmp/$archive" -d "$tmp/x" || die "unpacking $archive failed"
else
	tar -xzf "$tmp/$archive" -C "$tmp/x" || die "unpacking $archive failed"
fi
for b in $bins; do
	[ -f "$tmp/x/$b$exe" ] && [ ! -L "$tmp/x/$b$exe" ] || die "$archive holds no $b$exe: refusing to install it"
done

mkdir -p "$dir" || die "creating $dir failed"
for b in $bins; do
	cp "$tmp/x/$b$exe" "$dir/.$b$exe.tmp" && chmod 755 "$dir/.$b$exe.tmp" &&
		mv -f "$dir/.$b$exe.tmp" "$dir/$b$exe" || die "installing $b$exe into $dir failed"
done
log "installed kubectl-gitops $version ($os/$arch) into $dir"
printf '%s\n' "$dir"
