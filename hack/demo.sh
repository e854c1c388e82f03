#!/usr/bin/env bash
# demo.sh — what `make demo` shows, run by bin/localcluster against a fresh
# throwaway control plane (KUBECONFIG and PATH are set by localcluster).
set -euo pipefail

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }
if [ -n "${NO_COLOR:-}" ] || [ ! -t 2 ]; then
	step() { printf '\n$ %s\n' "$*" >&2; "$@"; }
fi

step kubectl version
step kubectl gitops
step kubectl gitops version -o json
step kubectl gitops drift version
step kubectl plugin list
step kubectl gitops drift --help
step kubectl get crd -o name
