#!/usr/bin/env bash
# bench-fleet.sh — the fleet benchmark of `kubectl gitops drift --contexts`
# (docs/benchmarks.md, "Fleets").
#
#   hack/bench-fleet.sh [K] [N]      default: 10 clusters, 500 objects each
#
# Starts K throwaway control planes at once (test/cmd/localcluster, without
# controller-manager or CRDs), loads the same N objects into each (hack/
# benchfloor gen/apply: ConfigMaps, Deployments, headless Services,
# RoleBindings, applied server-side by kustomize-controller) and drifts a
# tenth of them, commits the manifests to a local bare repository, then
# times, in interleaved rounds and for each mode (server, local):
#
#   single   drift --repo … --context cI, for every cluster (the slowest is
#            the reference: the matrix should take ≤ 2× it)
#   fleet    drift --repo … --all-contexts --parallel K
#   fleet/4  the same with the default --parallel 4
#
# with the peak RSS and the CPU time (user + sys) of each drift process
# (/usr/bin/time); the sum of the single-cluster times is what checking the
# clusters one after the other costs. Progress goes to
# stderr; the results (Markdown) to stdout. Not a test: nothing is asserted
# about times.
#
# Environment:
#   BENCH_RUNS=2    rounds (default 2)
set -euo pipefail

say() { printf 'bench-fleet: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 2
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
k=${1:-10}
n=${2:-500}
runs=${BENCH_RUNS:-2}
[ -x /usr/bin/time ] || die "needs /usr/bin/time (apt-get install time)"

eval "$("$root/hack/control-plane.sh" env)"
[ "${KUBECTL_GITOPS_K8S_BIN_READY:-}" = 1 ] || die "the control plane is not built: hack/control-plane.sh build"
kubectl=$KUBECTL_GITOPS_K8S_BIN/kubectl

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-fleet.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building drift, localcluster and benchfloor"
(cd "$root" && go build -o "$tmp/drift" ./cmd/kubectl-gitops-drift &&
	go build -o "$tmp/localcluster" ./test/cmd/localcluster &&
	go build -o "$tmp/benchfloor" ./hack/benchfloor)

say "starting $k control planes at once"
t0=$SECONDS
for i in $(seq 1 "$k"); do
	"$tmp/localcluster" --controller-manager=false --crds=false --kubeconfig "$tmp/kc-$i" >"$tmp/lc-$i.log" 2>&1 &
	pids+=($!)
done
for i in $(seq 1 "$k"); do
	until [ -s "$tmp/kc-$i" ]; do
		kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { cat "$tmp/lc-$i.log" >&2; die "control plane $i did not start"; }
		((SECONDS - t0 < 900)) || die "control plane $i not ready after 900 s"
		sleep 1
	done
done
start_seconds=$((SECONDS - t0))
say "$k control planes ready in ${start_seconds} s"

# One kubeconfig, contexts c1…cK.
kcs=()
for i in $(seq 1 "$k"); do
	sed -e "s/kubectl-gitops-local/c$i/g" -e "s/kubectl-gitops-admin/u$i/g" "$tmp/kc-$i" >"$tmp/kcr-$i"
	kcs+=("$tmp/kcr-$i")
done
KUBECONFIG=$(
	IFS=:
	echo "${kcs[*]}"
) "$kubectl" config view --flatten >"$tmp/fleet.kubeconfig"

say "writing $n objects, committing them to a local repository"
read -r namespaces drifted <<<"$("$tmp/benchfloor" gen -n "$n" -out "$tmp/gen")"
git -c init.defaultBranch=main init -q "$tmp/work"
cp -r "$tmp/gen/manifests" "$tmp/work/manifests"
git -C "$tmp/work" add -A
git -C "$tmp/work" -c user.name=bench -c user.email=bench@example.com commit -qm fleet
git clone -q --bare "$tmp/work" "$tmp/fleet.git"
repo=file://$tmp/fleet.git

loaders=()
say "loading $namespaces namespaces and $n objects into each cluster, drifting $drifted"
t0=$SECONDS
for i in $(seq 1 "$k"); do
	(
		export KUBECONFIG=$tmp/kc-$i
		"$tmp/benchfloor" apply -field-manager kustomize-controller -f "$tmp/gen/namespaces.yaml"
		"$tmp/benchfloor" apply -field-manager kustomize-controller -concurrency 8 -f "$tmp/gen/manifests"
		"$kubectl" scale -f "$tmp/gen/drift/deployments.yaml" --replicas=5 >/dev/null
		"$kubectl" patch -f "$tmp/gen/drift/configmaps.yaml" --type=merge -p '{"data":{"log-level":"debug"}}' >/dev/null
		"$kubectl" label -f "$tmp/gen/drift/services.yaml" hotfix=incident-4711 >/dev/null
		"$kubectl" patch -f "$tmp/gen/drift/rolebindings.yaml" --type=json \
			-p '[{"op":"add","path":"/subjects/-","value":{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"oncall@example.com"}}]' >/dev/null
	) >"$tmp/load-$i.log" 2>&1 &
	loaders+=($!)
done
for p in "${loaders[@]}"; do wait "$p" || die "loading a cluster failed: $(cat "$tmp"/load-*.log | tail -n 20)"; done
say "loaded in $((SECONDS - t0)) s"

# timed LABEL ARGS… — runs drift once, checks it exits 1 (drift found),
# prints "wall rss_kB cpu_s".
timed() {
	local label=$1 rc=0
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$tmp/drift" --kubeconfig "$tmp/fleet.kubeconfig" \
		--repo "$repo" --path manifests -o json "$@" >"$tmp/out.json" 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 1 ] || die "$label: exit $rc, want 1: $(tail -n 5 "$tmp/err")"
	tail -n 1 "$tmp/time" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }'
}

results=$tmp/results
: >"$results"
for round in $(seq 1 "$runs"); do
	for mode in server local; do
		max=0 maxrss=0 sum=0 sumcpu=0
		for i in $(seq 1 "$k"); do
			read -r wall rss cpu <<<"$(timed "single c$i" --mode "$mode" --context "c$i")"
			max=$(awk -v a="$max" -v b="$wall" 'BEGIN { print (b > a) ? b : a }')
			sum=$(awk -v a="$sum" -v b="$wall" 'BEGIN { print a + b }')
			sumcpu=$(awk -v a="$sumcpu" -v b="$cpu" 'BEGIN { print a + b }')
			((rss > maxrss)) && maxrss=$rss
		done
		read -r fk rk ck <<<"$(timed "fleet" --mode "$mode" --all-contexts --parallel "$k")"
		read -r f4 r4 c4 <<<"$(timed "fleet/4" --mode "$mode" --all-contexts)"
		say "round $round, --mode=$mode: singles: slowest ${max} s, sum ${sum} s, ${sumcpu} s CPU, ${maxrss} kB; fleet --parallel $k ${fk} s, ${ck} s CPU, ${rk} kB; fleet --parallel 4 ${f4} s, ${c4} s CPU, ${r4} kB"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$max" "$maxrss" "$fk" "$rk" "$f4" "$r4" "$sum" "$sumcpu" "$ck" "$c4" >>"$results"
	done
done

echo "## drift fleet benchmark"
echo
echo "\`hack/bench-fleet.sh $k $n\`: $k control planes started at once (ready in ${start_seconds} s)," \
	"$n objects each ($drifted drifted), desired state from one local repository (file://);" \
	"$(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $runs rounds."
echo
echo "| round | mode | single: slowest / sum of $k | fleet, --parallel $k | ÷ slowest | fleet, --parallel 4 | ÷ slowest | drift CPU: $k singles / fleet $k / fleet 4 | peak RSS: single / fleet $k / fleet 4 |"
echo "|---|---|---|---|---|---|---|---|---|"
while IFS=$'\t' read -r round mode max maxrss fk rk f4 r4 sum sumcpu ck c4; do
	awk -v r="$round" -v m="$mode" -v s="$max" -v fk="$fk" -v f4="$f4" -v rs="$maxrss" -v rk="$rk" -v r4="$r4" \
		-v sum="$sum" -v sc="$sumcpu" -v ck="$ck" -v c4="$c4" 'BEGIN {
		printf "| %s | %s | %.2f / %.2f s | %.2f s | %.2f× | %.2f s | %.2f× | %.2f / %.2f / %.2f s | %.0f / %.0f / %.0f MB |\n",
			r, m, s, sum, fk, fk / s, f4, f4 / s, sc, ck, c4, rs / 1024, rk / 1024, r4 / 1024 }'
done <"$results"
