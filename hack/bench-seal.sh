#!/usr/bin/env bash
# bench-seal.sh — compares `kubectl gitops seal` with its peers like with
# like, for Sealed Secrets (peer: `kubeseal --cert`) and SOPS with age (peer:
# `sops -e`):
#   batch    N Secrets in one file, one call each (both peers take a
#            multi-document file);
#   one call one Secret, one call (hyperfine: mean of many runs) — what a
#            script pays per Secret;
#   N calls  a shell loop of N one-Secret calls.
# Offline: no cluster (kubeseal gets --cert). Results (Markdown) on stdout.
#
#   hack/bench-seal.sh [N]     default 1000; BENCH_RUNS (default 100) runs
#                              per one-call measurement
#
# Needs bin/ (make build), the peer tools (make peer-tools), hyperfine and
# openssl (for a throwaway sealing certificate).
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
command -v hyperfine >/dev/null || { echo "bench-seal: hyperfine is needed (apt-get install -y hyperfine)" >&2; exit 2; }
runs=${BENCH_RUNS:-100}

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
hf() { # label, runs, command: hyperfine's mean wall time (no shell: -N)
	# and mean CPU time (user+system, label-cpu), in seconds
	hyperfine -N -w 5 -r "$2" --export-csv hf.csv "$3" >/dev/null 2>&1
	awk -F, -v l="$1" 'NR==2{printf "%s %.4f\n%s-cpu %.4f\n", l, $2, l, $5+$6}' hf.csv >>times.txt
}
age_re='^(data|stringData)$'
say "sealed secrets: batch, one call, $n calls; ours then kubeseal"
hf ours-seal-batch 10 "$seal -f all.yaml --cert cert.pem -o yaml"
hf kubeseal-batch 10 "$kubeseal --cert cert.pem --format yaml -f all.yaml"
hf ours-seal-one "$runs" "$seal -f secrets/s1.yaml --cert cert.pem"
hf kubeseal-one "$runs" "$kubeseal --cert cert.pem --format yaml -f secrets/s1.yaml"
t ours-seal-each bash -c 'for f in secrets/*.yaml; do "$0" -f "$f" --cert cert.pem >/dev/null; done' "$seal"
t kubeseal-each bash -c 'for f in secrets/*.yaml; do "$0" --cert cert.pem --format yaml -f "$f" >/dev/null; done' "$kubeseal"
say "sops: batch, one call, $n calls; ours then sops -e"
hf ours-sops-batch 10 "$seal -f all.yaml --format sops --age $recipient --encrypted-regex $age_re"
hf sops-batch 10 "$sops -e --age $recipient --encrypted-regex $age_re all.yaml"
hf ours-sops-one "$runs" "$seal -f secrets/s1.yaml --format sops --age $recipient --encrypted-regex $age_re"
hf sops-one "$runs" "$sops -e --age $recipient --encrypted-regex $age_re secrets/s1.yaml"
t ours-sops-each bash -c 'for f in secrets/*.yaml; do "$0" -f "$f" --format sops --age "$1" --encrypted-regex "^(data|stringData)$" >/dev/null; done' "$seal" "$recipient"
t sops-each bash -c 'for f in secrets/*.yaml; do "$0" -e --age "$1" --encrypted-regex "^(data|stringData)$" "$f" >/dev/null; done' "$sops" "$recipient"

get() { awk -v l="$1" '$1==l{print $2}' times.txt; }
ms() { awk -v a="$(get "$1")" 'BEGIN{printf "%.1f ms", a*1000}'; }
s() { awk -v a="$(get "$1")" 'BEGIN{printf "%.2f s", a}'; }
ratio() { awk -v a="$(get "$1")" -v b="$(get "$2")" 'BEGIN{printf "%.2f", a/b}'; }
cat <<EOF2
| task | ours | peer | peer ÷ ours |
|---|--:|--:|--:|
| Sealed Secrets, $n Secrets in one call (batch vs batch) | $(s ours-seal-batch) | $(s kubeseal-batch) | $(ratio kubeseal-batch ours-seal-batch)× |
| Sealed Secrets, one Secret, one call (mean of $runs) | $(ms ours-seal-one) | $(ms kubeseal-one) | $(ratio kubeseal-one ours-seal-one)× |
| … its CPU time (user + system) | $(ms ours-seal-one-cpu) | $(ms kubeseal-one-cpu) | $(ratio kubeseal-one-cpu ours-seal-one-cpu)× |
| Sealed Secrets, $n one-Secret calls in a loop | $(s ours-seal-each) | $(s kubeseal-each) | $(ratio kubeseal-each ours-seal-each)× |
| SOPS with age, $n Secrets in one call (batch vs batch) | $(s ours-sops-batch) | $(s sops-batch) | $(ratio sops-batch ours-sops-batch)× |
| SOPS with age, one Secret, one call (mean of $runs) | $(ms ours-sops-one) | $(ms sops-one) | $(ratio sops-one ours-sops-one)× |
| … its CPU time (user + system) | $(ms ours-sops-one-cpu) | $(ms sops-one-cpu) | $(ratio sops-one-cpu ours-sops-one-cpu)× |
| SOPS with age, $n one-Secret calls in a loop | $(s ours-sops-each) | $(s sops-each) | $(ratio sops-each ours-sops-each)× |
EOF2
