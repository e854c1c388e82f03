#!/usr/bin/env bash
# bench-tenant.sh — times `kubectl gitops tenant verify` for 10 tenants
# against the same SubjectAccessReviews asked one by one with
# `kubectl auth can-i` (what a person would otherwise script), on a
# throwaway control plane. Results (Markdown) on stdout, progress on stderr.
#
#   hack/bench-tenant.sh [TENANTS]     default 10
#
# Needs bin/ (make build) and the cached control plane (make control-plane);
# `make bench` runs it after the drift benchmark.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
say() { printf 'bench-tenant: %s\n' "$*" >&2; }

if [ "${1:-}" != "--inside" ]; then
	[ -x "$root/bin/kubectl-gitops-tenant" ] || {
		echo "bench-tenant: run 'make build' first" >&2
		exit 2
	}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$root" && go build -o "$tmp/localcluster" ./test/cmd/localcluster)
	cd "$root"
	PATH="$root/bin:$PATH" "$tmp/localcluster" --crds=false -- "$0" --inside "${1:-10}"
	exit
fi

n=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

{
	echo "apiVersion: kubectl-gitops.io/v1alpha1"
	echo "kind: Tenants"
	echo "tenants:"
	for i in $(seq -w 0 $((n - 1))); do
		cat <<EOF
  - name: t$i
    namespaces: [t$i, t$i-staging]
    owners: {groups: [t$i-admins], users: [owner-$i@example.com]}
EOF
	done
} >tenants.yaml
names=()
for i in $(seq -w 0 $((n - 1))); do names+=("t$i"); done

say "rendering and applying $n tenants"
kubectl gitops tenant render -f tenants.yaml --dir tenants >/dev/null
kubectl gitops tenant apply "${names[@]}" --dir tenants >/dev/null

say "timing tenant verify for ${names[*]}"
mkdir -p reports
start=$(date +%s.%N)
for t in "${names[@]}"; do
	kubectl gitops tenant verify "$t" --dir tenants -o json >"reports/$t.json" || [ $? -eq 1 ]
done
verify_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}')

# The same questions, one kubectl auth can-i each.
python3 - reports/*.json >cani.txt <<'EOF'
import json, shlex, sys
for path in sys.argv[1:]:
    for r in json.load(open(path))["reviews"]:
        s = r["subject"]
        if s["kind"] == "ServiceAccount":
            who = ["--as", "system:serviceaccount:%s:%s" % (s["namespace"], s["name"])]
        elif s["kind"] == "Group":
            who = ["--as", "bench-member", "--as-group", s["name"]]
        else:
            who = ["--as", s["name"]]
        res = r["resource"] + ("." + r["group"] if r.get("group") else "")
        ns = ["-n", r["namespace"]] if r.get("namespace") else []
        print(shlex.join(["auth", "can-i", r["verb"], res] + ns + who))
EOF
reviews=$(wc -l <cani.txt)
say "timing $reviews kubectl auth can-i calls"
start=$(date +%s.%N)
while read -r line; do
	eval "kubectl $line" >/dev/null 2>&1 || true
done <cani.txt
cani_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}')

ratio=$(awk -v a="$cani_s" -v b="$verify_s" 'BEGIN{printf "%.1f", a/b}')
per() { awk -v t="$1" -v n="$2" 'BEGIN{printf "%.2f", t*1000/n}'; }
cat <<EOF
| command | reviews | wall time | per review |
|---|--:|--:|--:|
| \`kubectl gitops tenant verify\` × $n tenants | $reviews | $verify_s s | $(per "$verify_s" "$reviews") ms |
| \`kubectl auth can-i\` × $reviews | $reviews | $cani_s s | $(per "$cani_s" "$reviews") ms |

tenant verify is **${ratio}×** faster (also checks the guard objects, which can-i cannot).
EOF
