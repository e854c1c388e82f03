#!/usr/bin/env bash
# bench-seal.sh — times sealing N Secrets with `kubectl gitops seal` in one
# call and in N calls, against N `kubeseal` calls; and SOPS-encrypting N
# Secrets in one call and in N calls, against N `sops -e` calls. Offline:
# no cluster (kubeseal gets --cert). Results (Markdown) on stdout.
#
#   hack/bench-seal.sh [N]     default 1000
#
# Needs bin/ (make build), the peer tools (make peer-tools) and openssl (for a
# throwaway sealing certificate).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
n=${1:-1000}
say() { printf 'bench-seal: %s\n' "$*" >&2; }
seal="$root/bin/kubectl-gitops-seal"
[ -x "$seal" ] || { echo "bench-seal: run 'make build' first" >&2; exit 2; }
eval "$("$here/peer-tools.sh" env)"
kubeseal="$KUBECTL_GITOPS_SEALED_SECRETS/kubeseal"
sops="$KUBECTL_GITOPS_SOPS/sops"
agekeygen="$KUBECTL_GITOPS_AGE/age-keygen"
for b in "$kubeseal" "$sops" "$agekeygen"; do
	[ -x "$b" ] || { echo "bench-seal: $b missing: run 'make peer-tools'" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "bench-seal: openssl is needed (apt-get install -y openssl)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export HOME="$work" SOPS_DISABLE_VERSION_CHECK=1
openssl req -x509 -newkey rsa:4096 -nodes -keyout key.pem -out cert.pem -days 30 -subj /CN=sealed-secrets 2>/dev/null
"$agekeygen" -o age.key 2>/dev/null
recipient=$(sed -n 's/^# public key: //p' age.key)
mkdir -p secrets
for i in $(seq 1 "$n"); do
	cat >"secrets/s$i.yaml" <<Y
apiVersion: v1
kind: Secret
metadata: {name: s$i, namespace: bench}
type: Opaque
stringData: {username: user-$i, password: password-$i-$RANDOM$RANDOM, token: token-$i-$RANDOM$RANDOM$RANDOM}
Y
done
for i in $(seq 1 "$n"); do cat "secrets/s$i.yaml"; echo ---; done >all.yaml

t() { # label, command...
	local s e
	s=$(date +%s.%N)
	"${@:2}"
	e=$(date +%s.%N)
	awk -v a="$s" -v b="$e" -v l="$1" 'BEGIN{printf "%s %.3f\n", l, b-a}' >>times.txt
}
say "sealed secrets: ours in one call, ours in $n calls, kubeseal in $n calls"
t ours-seal-batch "$seal" -f all.yaml --cert cert.pem -o yaml >/dev/null
t ours-seal-each bash -c 'for f in secrets/*.yaml; do "$0" -f "$f" --cert cert.pem >/dev/null; done' "$seal"
t kubeseal-each bash -c 'for f in secrets/*.yaml; do "$0" --cert cert.pem --format yaml <"$f" >/dev/null; done' "$kubeseal"
say "sops: ours in one call, ours in $n calls, sops -e in $n calls"
t ours-sops-batch "$seal" -f all.yaml --format sops --age "$recipient" --encrypted-regex '^(data|stringData)$' >/dev/null
t ours-sops-each bash -c 'for f in secrets/*.yaml; do "$0" -f "$f" --format sops --age "$1" --encrypted-regex "^(data|stringData)$" >/dev/null; done' "$seal" "$recipient"
t sops-each bash -c 'for f in secrets/*.yaml; do "$0" -e --age "$1" --encrypted-regex "^(data|stringData)$" "$f" >/dev/null; done' "$sops" "$recipient"

get() { awk -v l="$1" '$1==l{print $2}' times.txt; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", a/b}'; }
cat <<EOF2
| task ($n Secrets) | ours, one call | ours, $n calls | peer, $n calls | one call vs peer |
|---|--:|--:|--:|--:|
| Sealed Secrets (peer: \`kubeseal --cert\`) | $(get ours-seal-batch) s | $(get ours-seal-each) s | $(get kubeseal-each) s | $(ratio "$(get kubeseal-each)" "$(get ours-seal-batch)")× |
| SOPS with age (peer: \`sops -e\`) | $(get ours-sops-batch) s | $(get ours-sops-each) s | $(get sops-each) s | $(ratio "$(get sops-each)" "$(get ours-sops-batch)")× |
EOF2
