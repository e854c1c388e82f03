#!/usr/bin/env bash
# bench-drift.sh — the speed benchmark of `kubectl gitops drift` (docs/benchmarks.md).
#
#   hack/bench-drift.sh [N...]        default: 2000
#
# For each N it starts a throwaway control plane (test/cmd/localcluster,
# without controller-manager; with the suite's CRDs only for the flux diff
# column), loads N objects (ConfigMaps,
# Deployments, headless Services, RoleBindings; 200 per namespace) applied
# server-side by field manager kustomize-controller with Flux's labels,
# drifts a tenth of them with kubectl (scale, patch, label), checks what both
# drift modes report, and times, side by side in interleaved rounds:
#
#   kubectl diff --server-side (kubectl v1.37.2, its default --concurrency=1)
#   flux diff kustomization (the Flux CLI v2.9.5 of hack/peer-tools.sh, when
#   built; the control plane then serves Flux's CRDs, for its Kustomization)
#   kubectl gitops drift --mode=server, --mode=local and --mode=hybrid (with
#   peak RSS; hybrid's report must equal server mode's but for the mode)
#   the LIST floors: kubectl get … -A -o json, and raw LISTs (hack/benchfloor)
#   the dry-run floor: the N server-side apply dry-runs from hack/benchfloor
#   at the best concurrency of a sweep
#
# Progress goes to stderr; the results (Markdown) to stdout. `make bench`
# builds bin/ and the control plane first. Uses hyperfine and /usr/bin/time,
# installing them with apt-get when missing and run as root; without them it
# times with bash and skips RSS.
#
# Environment:
#   BENCH_RUNS=5               timed rounds (default 5, 1 when N > 5000)
#   BENCH_SLOW_RUNS=3          rounds that include kubectl diff and flux diff (default 3, 1 when N > 5000)
#   BENCH_PER_NAMESPACE=200    objects per namespace
#   BENCH_SWEEP=1,4,8,16,32,64 concurrencies tried for the dry-run floor
#   BENCH_SWEEP_SAMPLE=2000    objects dry-run per sweep step
#   BENCH_DRIFT_SWEEP=1,2,5,10,20
#                              also, per N, on a control plane of its own: drift
#                              1%, then 2%, … of the objects (the same kubectl
#                              commands, the drift accumulating), and time
#                              local and hybrid mode, interleaved, at each
#                              step, with the API server's CPU (unset: no sweep)
#   BENCH_DRIFT_SWEEP_RUNS=3   timed rounds per sweep step
#   BENCH_DRIFT_SWEEP_ONLY=1   run only the sweep, not the benchmark above
#   BENCH_NICE=-10             run the control plane and every command at this
#                              nice level (needs root; for a shared machine)
#   BENCH_TIMER=bash           time with bash's `time` even when hyperfine is there
#   BENCH_NO_INSTALL=1         never apt-get install hyperfine / time
#   BENCH_FLUX=0               no flux diff column and no flux diff check, even
#                              when the Flux CLI is built (at 50000 one flux diff
#                              takes over 20 minutes)
#   BENCH_MEMORY=1             memory runs instead of the timed rounds: after
#                              the checks, each drift mode runs once under
#                              /usr/bin/time -f '%e %M %U %S' (needs it), and the
#                              results are one Markdown table of wall time,
#                              client CPU (user+sys), CPU per object and peak RSS
#                              per mode and N (as run L of docs/benchmarks.md);
#                              no kubectl diff, flux diff or floors
set -euo pipefail

die() {
	echo "bench-drift: $*" >&2
	exit 2
}
say() { printf 'bench-drift: %s\n' "$*" >&2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# ---------------------------------------------------------------------------
# Inside the control plane: bench-drift.sh --inside N (KUBECONFIG set by
# localcluster, its kubectl first on PATH; BENCH_* exported by the outer run).
# ---------------------------------------------------------------------------

record() { local IFS=$'\t'; printf '%s\n' "$n	$*" >>"$BENCH_RESULTS"; }

# run_once: hack/bench-lib.sh.
# shellcheck source=hack/bench-lib.sh
. "$root/hack/bench-lib.sh"

# inside N — one benchmark run against the control plane localcluster
# started. The labels of the timed commands are Markdown: their backticks
# are literal.
# shellcheck disable=SC2016
inside() {
	n=$1
	local dir="$BENCH_TMP/n$n" t0 counts namespaces drifted
	local m=$dir/manifests fm=kustomize-controller runs=$BENCH_RUNS slow=$BENCH_SLOW_RUNS
	if [ -z "$runs" ]; then
		runs=5
		((n <= 5000)) || runs=1
	fi
	if [ -z "$slow" ]; then
		slow=3
		((n <= 5000)) || slow=1
	fi
	record meta nice "${BENCH_NICE:-0}"

	say "[N=$n] writing $n objects under $m"
	counts=$("$BENCH_FLOOR" gen -n "$n" -per-namespace "$BENCH_PER_NAMESPACE" -out "$dir")
	read -r namespaces drifted <<<"$counts"
	record meta namespaces "$namespaces"
	record meta drifted "$drifted"

	say "[N=$n] loading $namespaces namespaces and $n objects (server-side apply as $fm)"
	t0=$SECONDS
	"$BENCH_FLOOR" apply -v -field-manager "$fm" -f "$dir/namespaces.yaml"
	"$BENCH_FLOOR" apply -v -field-manager "$fm" -concurrency 32 -f "$m"
	record meta load-seconds $((SECONDS - t0))

	say "[N=$n] drifting $drifted objects with kubectl (scale, patch, label)"
	t0=$SECONDS
	kubectl scale -f "$dir/drift/deployments.yaml" --replicas=5 >/dev/null
	kubectl patch -f "$dir/drift/configmaps.yaml" --type=merge -p '{"data":{"log-level":"debug"}}' >/dev/null
	kubectl label -f "$dir/drift/services.yaml" hotfix=incident-4711 >/dev/null
	kubectl patch -f "$dir/drift/rolebindings.yaml" --type=json \
		-p '[{"op":"add","path":"/subjects/-","value":{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"oncall@example.com"}}]' >/dev/null
	record meta drift-seconds $((SECONDS - t0))

	local mode rc verdict
	for mode in server local hybrid; do
		say "[N=$n] checking that drift --mode=$mode reports exactly the $drifted drifted objects"
		rc=0
		kubectl gitops drift --mode="$mode" -f "$m" -o json >"$dir/report-$mode.json" || rc=$?
		if [ "$rc" -ne 1 ]; then
			verdict="**exit $rc**"
		else
			verdict=$("$BENCH_FLOOR" check -want "$drifted" -total "$n" <"$dir/report-$mode.json" || true)
		fi
		[ "$verdict" = ok ] || say "[N=$n] WARNING: drift --mode=$mode: $verdict"
		record meta "check-$mode" "$verdict"
	done
	# Hybrid mode's report is server mode's (objects, statuses, changes,
	# managers), but for its mode and its serverCompared counts.
	verdict=ok
	if ! "$BENCH_FLOOR" same "$dir/report-server.json" "$dir/report-hybrid.json"; then
		verdict="**differs from server mode**"
		say "[N=$n] WARNING: drift --mode=hybrid's report differs from server mode's"
	fi
	record meta check-hybrid-same "$verdict"
	if [ -n "$BENCH_MEMORY" ]; then
		memory_runs "$n" "$m"
		rm -rf "$dir"
		return
	fi

	if [ -n "$BENCH_FLUX" ]; then
		# flux --in-memory-build reads only below the working directory
		# (every path here is absolute).
		cd "$dir"
		# The Kustomization the objects' labels name (flux diff reads it);
		# no prune, so no inventory: flux diff compares what the path builds.
		kubectl apply -f - >/dev/null <<-EOF
			apiVersion: v1
			kind: Namespace
			metadata: {name: flux-system}
			---
			apiVersion: kustomize.toolkit.fluxcd.io/v1
			kind: Kustomization
			metadata: {name: bench, namespace: flux-system}
			spec: {interval: 10m, path: ./, prune: false, sourceRef: {kind: GitRepository, name: bench}}
		EOF
		say "[N=$n] checking what flux diff kustomization reports"
		rc=0
		flux diff kustomization bench -n flux-system --path "$m" --in-memory-build >"$dir/fluxdiff.txt" 2>&1 || rc=$?
		if [ "$rc" -ne 1 ]; then
			verdict="**exit $rc**"
			tail -n 5 "$dir/fluxdiff.txt" >&2
		else
			verdict="$(grep -c '► .* drifted$' "$dir/fluxdiff.txt" || true) of $drifted drifted objects reported"
		fi
		record meta check-fluxdiff "$verdict"
	fi

	say "[N=$n] sweeping the dry-run floor's concurrency over $BENCH_SWEEP"
	local best
	best=$("$BENCH_FLOOR" sweep -field-manager "$fm" -concurrency "$BENCH_SWEEP" -sample "$BENCH_SWEEP_SAMPLE" -f "$m")
	record meta dryrun-concurrency "$best"
	kubectl api-resources >/dev/null # kubectl's discovery cache, as a user has it

	# The commands, run by hyperfine -N (or bash -c): output is discarded.
	local -A label cmd prep want rssfile walls cpus rsss
	local run_once_tag="[N=$n] " run_once_width=7
	local ids=(kdiff server local hybrid kget list listns dryrun) id timer=
	if [ -n "$BENCH_FLUX" ]; then
		ids=(kdiff fluxdiff server local hybrid kget list listns dryrun)
		label[fluxdiff]='`flux diff kustomization bench --path DIR --in-memory-build` (Flux CLI v2.9.5)'
		cmd[fluxdiff]="flux diff kustomization bench -n flux-system --path '$m' --in-memory-build"
		want[fluxdiff]=1
	fi
	label[kdiff]='`kubectl diff --server-side --force-conflicts --field-manager=kustomize-controller -f DIR` (kubectl v1.37.2, default --concurrency=1)'
	cmd[kdiff]="kubectl diff --server-side --force-conflicts --field-manager=$fm -f '$m'"
	want[kdiff]=1
	for mode in server local hybrid; do
		label[$mode]="\`kubectl gitops drift --mode=$mode -f DIR -o json\`"
		if [ -n "$BENCH_TIME" ]; then
			rssfile[$mode]=$BENCH_TMP/rss-$mode
			timer="'$BENCH_TIME' -f %M -o '${rssfile[$mode]}' "
		fi
		cmd[$mode]="${timer}kubectl gitops drift --mode=$mode -f '$m' -o json"
		want[$mode]=1
	done
	label[kget]='LIST floor: `kubectl get configmaps,deployments,services,rolebindings -A -o json`'
	cmd[kget]='kubectl get configmaps,deployments,services,rolebindings -A -o json'
	label[list]='LIST floor: benchfloor, 1 LIST per kind, all namespaces'
	cmd[list]="'$BENCH_FLOOR' list"
	label[listns]='LIST floor: benchfloor, 1 LIST per kind and namespace, 16 at once'
	cmd[listns]="'$BENCH_FLOOR' list -per-namespace"
	label[dryrun]="dry-run floor: benchfloor, the same SSA dry-runs (force, $fm), at the sweep's best concurrency"
	cmd[dryrun]="'$BENCH_FLOOR' apply -dry-run -concurrency $best -field-manager $fm -f '$m'"
	for id in list listns kget dryrun; do want[$id]=0; done

	# Rounds of one run of each command, interleaved so that a change in
	# the machine's load affects all alike; kubectl diff only in the first
	# $slow rounds, as flux diff.
	local r
	for ((r = 1; r <= runs; r++)); do
		record load - "$(cut -d ' ' -f 1 /proc/loadavg)"
		say "[N=$n] round $r of $runs (load average $(cut -d ' ' -f 1-3 /proc/loadavg))"
		for id in "${ids[@]}"; do
			[ "$id" != kdiff ] && [ "$id" != fluxdiff ] || ((r <= slow)) || continue
			run_once "$id"
		done
	done
	record load - "$(cut -d ' ' -f 1 /proc/loadavg)"
	for id in "${ids[@]}"; do
		record time "$id" "${label[$id]}" "${walls[$id]}"
		record cpu "$id" "${cpus[$id]}"
		[ -z "${rsss[$id]:-}" ] || record rss "$id" "${rsss[$id]}"
	done
	cd "$BENCH_TMP"
	rm -rf "$dir"
}

# memory_runs N DIR — BENCH_MEMORY: runs each drift mode once on the N
# objects under DIR, under /usr/bin/time, and records its wall time, peak RSS
# and CPU as `N mem MODE WALL KB USER SYS` in $BENCH_MEMORY_RESULTS. The
# plugin's binary is run itself (not through kubectl), as in run L.
memory_runs() {
	local n=$1 m=$2 mode rc out wall kb user sys
	for mode in server local hybrid; do
		say "[N=$n] memory run: drift --mode=$mode under /usr/bin/time"
		rc=0
		"$BENCH_TIME" -f '%e %M %U %S' -o "$BENCH_TMP/mem-$mode" \
			kubectl-gitops-drift --mode="$mode" -f "$m" -o json >/dev/null || rc=$?
		[ "$rc" -eq 1 ] || die "drift --mode=$mode exited $rc, not 1"
		# /usr/bin/time writes "Command exited with non-zero status 1" first.
		out=$(tail -n 1 "$BENCH_TMP/mem-$mode")
		read -r wall kb user sys <<<"$out"
		[[ $kb =~ ^[0-9]+$ ]] || die "/usr/bin/time wrote '$out'"
		printf '%s\tmem\t%s\t%s\t%s\t%s\t%s\n' "$n" "$mode" "$wall" "$kb" "$user" "$sys" >>"$BENCH_MEMORY_RESULTS"
		say "[N=$n]   $(printf '%-7s %8.2f s wall, %7.2f s CPU, %5.0f MB peak RSS' "$mode" "$wall" \
			"$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')")"
	done
}

if [ "${1:-}" = --inside ]; then
	[ $# -eq 2 ] || die "usage: $0 --inside N"
	inside "$2"
	exit 0
fi

# drift_objects DIR — the drift of hack/bench-drift.sh, on the objects the
# lists in DIR name (DIR/<kind>.yaml; a missing list is skipped).
drift_objects() {
	local d=$1
	[ ! -e "$d/deployments.yaml" ] || kubectl scale -f "$d/deployments.yaml" --replicas=5 >/dev/null
	[ ! -e "$d/configmaps.yaml" ] || kubectl patch -f "$d/configmaps.yaml" --type=merge -p '{"data":{"log-level":"debug"}}' >/dev/null
	[ ! -e "$d/services.yaml" ] || kubectl label -f "$d/services.yaml" hotfix=incident-4711 >/dev/null
	[ ! -e "$d/rolebindings.yaml" ] || kubectl patch -f "$d/rolebindings.yaml" --type=json \
		-p '[{"op":"add","path":"/subjects/-","value":{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"oncall@example.com"}}]' >/dev/null
}

# inside_sweep N — the drift-fraction sweep (BENCH_DRIFT_SWEEP) against the
# control plane localcluster started: at each step the drift grows to P
# percent of the objects, both modes' reports are checked, and local and
# hybrid mode are timed in interleaved rounds, with the CPU time the API
# server spent meanwhile. Records go to BENCH_SWEEP_RESULTS:
#
#	N  P  DRIFTED  MODE  WALL,…  CPU,…  APISERVER-CPU,…  CHECK  LOAD,…
# shellcheck disable=SC2016
inside_sweep() {
	n=$1
	local dir="$BENCH_TMP/s$n" fm=kustomize-controller runs=${BENCH_DRIFT_SWEEP_RUNS:-3}
	local m=$dir/manifests server port apiserver total=0 p k mode r rc v verdict
	local -a steps
	say "[N=$n sweep] writing $n objects and the sweep's drift lists ($BENCH_DRIFT_SWEEP percent)"
	"$BENCH_FLOOR" gen -n "$n" -per-namespace "$BENCH_PER_NAMESPACE" -sweep "$BENCH_DRIFT_SWEEP" -out "$dir" >/dev/null
	say "[N=$n sweep] loading them (server-side apply as $fm)"
	"$BENCH_FLOOR" apply -v -field-manager "$fm" -f "$dir/namespaces.yaml"
	"$BENCH_FLOOR" apply -v -field-manager "$fm" -concurrency 32 -f "$m"
	# The API server of this control plane: the one serving KUBECONFIG's port.
	server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
	port=${server##*:}
	apiserver=$(ps -eo pid=,args= | awk -v p="--secure-port=$port" '$2 ~ /kube-apiserver$/ { for (i = 3; i <= NF; i++) if ($i == p) print $1 }')
	if [ -z "$apiserver" ] || [ ! -r "/proc/$apiserver/stat" ]; then
		die "no kube-apiserver serving port $port"
	fi
	local tck
	tck=$(getconf CLK_TCK)
	local -A label cmd prep want rssfile walls cpus rsss apis
	local run_once_tag="[N=$n sweep] " run_once_width=7
	for mode in local hybrid; do
		cmd[$mode]="kubectl gitops drift --mode=$mode -f '$m' -o json"
		want[$mode]=1
	done
	IFS=, read -r -a steps <<<"$BENCH_DRIFT_SWEEP"
	for p in "${steps[@]}"; do
		p=${p// /}
		p=$((10#$p)) # benchfloor names the directory by the number: 05 is sweep/5
		k=$(cat "$dir/sweep/$p/"*.yaml 2>/dev/null | grep -c '^kind:' || true)
		say "[N=$n sweep] $p%: drifting $k more objects with kubectl (scale, patch, label)"
		drift_objects "$dir/sweep/$p"
		total=$((total + k))
		verdict=
		for mode in local hybrid; do
			rc=0
			kubectl gitops drift --mode="$mode" -f "$m" -o json >"$dir/report-$mode.json" || rc=$?
			if [ "$rc" -ne 1 ]; then
				v="$mode: **exit $rc**"
			else
				v="$mode: $("$BENCH_FLOOR" check -want "$total" -total "$n" <"$dir/report-$mode.json" || true)"
			fi
			[ "$v" = "$mode: ok" ] || say "[N=$n sweep] WARNING: $v"
			verdict+=${verdict:+; }$v
		done
		walls=() cpus=() apis=()
		local loads=
		for ((r = 1; r <= runs; r++)); do
			loads+=${loads:+,}$(cut -d ' ' -f 1 /proc/loadavg)
			for mode in local hybrid; do
				local a0 a1
				a0=$(awk '{ print $14 + $15 }' "/proc/$apiserver/stat")
				run_once "$mode"
				a1=$(awk '{ print $14 + $15 }' "/proc/$apiserver/stat")
				apis[$mode]+=${apis[$mode]:+,}$(awk -v a="$a0" -v b="$a1" -v t="$tck" 'BEGIN { printf "%.3f", (b - a) / t }')
			done
		done
		for mode in local hybrid; do
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$p" "$total" "$mode" \
				"${walls[$mode]}" "${cpus[$mode]}" "${apis[$mode]}" "$verdict" "$loads" >>"$BENCH_SWEEP_RESULTS"
		done
	done
	cd "$BENCH_TMP"
	rm -rf "$dir"
}

if [ "${1:-}" = --inside-sweep ]; then
	[ $# -eq 2 ] || die "usage: $0 --inside-sweep N"
	inside_sweep "$2"
	exit 0
fi

# ---------------------------------------------------------------------------
# Outside: check the tools, then one control plane per N.
# ---------------------------------------------------------------------------

case "${1:-}" in -h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
esac
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(2000)
for n in "${ns[@]}"; do
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 40)); then
		die "N must be a whole number ≥ 40, not '$n'"
	fi
done
if [ ! -x "$root/bin/kubectl-gitops-drift" ] || [ ! -x "$root/bin/kubectl-gitops" ]; then
	die "bin/kubectl-gitops-drift missing: run 'make build' (or 'make bench')"
fi

# ensure_tool PROGRAM PACKAGE — prints the path of PROGRAM, installing PACKAGE
# with apt-get when missing and possible; prints nothing if it stays missing.
ensure_tool() {
	local path
	path=$(command -v "$1" || true)
	if [ -z "$path" ] && [ -z "${BENCH_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		say "installing $2 (apt-get)"
		apt-get install -y "$2" >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y "$2" >/dev/null 2>&1; } || true
		path=$(command -v "$1" || true)
	fi
	echo "$path"
}
BENCH_HYPERFINE=
[ "${BENCH_TIMER:-}" = bash ] || BENCH_HYPERFINE=$(ensure_tool hyperfine hyperfine)
BENCH_TIME=$(ensure_tool /usr/bin/time time)
[ -n "$BENCH_HYPERFINE" ] || say "hyperfine not available: timing with bash's time"
[ -n "$BENCH_TIME" ] || say "/usr/bin/time not available (Debian package 'time'): peak RSS is not measured"

# BENCH_FLUX and BENCH_MEMORY as the user set them (BENCH_FLUX is then the
# path of the Flux CLI, or empty); checked before the build, so that a
# mistake is told at once.
flux_wanted=${BENCH_FLUX:-}
BENCH_MEMORY=${BENCH_MEMORY:-}
[ "$BENCH_MEMORY" != 0 ] || BENCH_MEMORY=
[ -z "$BENCH_MEMORY" ] || [ -n "$BENCH_TIME" ] || die "BENCH_MEMORY needs /usr/bin/time (Debian package 'time')"
if [ -n "${BENCH_DRIFT_SWEEP_ONLY:-}" ] && [ -z "${BENCH_DRIFT_SWEEP:-}" ]; then
	die "BENCH_DRIFT_SWEEP_ONLY needs BENCH_DRIFT_SWEEP (e.g. 1,2,5,10,20)"
fi

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-drift.XXXXXX")
trap 'rm -rf "$BENCH_TMP"' EXIT
# Interrupted: print what the finished Ns measured (nothing before report
# is defined, during the build), then stop.
trap 'say "interrupted"; if declare -F report >/dev/null; then report "interrupted: only the Ns finished are shown"; report_sweep "interrupted"; fi; exit 130' INT TERM
BENCH_FLOOR=$BENCH_TMP/benchfloor
BENCH_RESULTS=$BENCH_TMP/results.tsv
BENCH_SWEEP_RESULTS=$BENCH_TMP/sweep.tsv
: >"$BENCH_SWEEP_RESULTS"
say "building hack/benchfloor and test/cmd/localcluster"
(cd "$root" && go build -o "$BENCH_FLOOR" ./hack/benchfloor && go build -o "$BENCH_TMP/localcluster" ./test/cmd/localcluster)
# Copies of the plugin and of this script, so that a `make build` or an edit
# during the run changes nothing.
mkdir "$BENCH_TMP/bin"
cp "$root/bin/kubectl-gitops" "$root/bin/kubectl-gitops-drift" "$BENCH_TMP/bin/"
mkdir "$BENCH_TMP/hack" && cp "$root/hack/bench-drift.sh" "$root/hack/bench-lib.sh" "$BENCH_TMP/hack/" # the copy sources bench-lib.sh from ../hack
# no_flux — BENCH_FLUX=0 or BENCH_MEMORY: no flux diff (nor Flux's CRDs),
# even when the Flux CLI is built.
no_flux() {
	if [ -n "$BENCH_FLUX" ] && { [ "$flux_wanted" = 0 ] || [ -n "$BENCH_MEMORY" ]; }; then
		say "BENCH_FLUX=0 or BENCH_MEMORY: no flux diff column"
		BENCH_FLUX='' crds=false
	fi
}

BENCH_MEMORY_RESULTS=$BENCH_TMP/memory.tsv
# The Flux CLI, when hack/peer-tools.sh built it: the flux diff column.
BENCH_FLUX='' crds=false
flux_dir=$(bash "$root/hack/peer-tools.sh" env 2>/dev/null | sed -n 's/^KUBECTL_GITOPS_FLUX=//p')
if [ -n "$flux_dir" ] && [ -e "$flux_dir/.complete" ] && [ -x "$flux_dir/flux" ]; then
	cp "$flux_dir/flux" "$BENCH_TMP/bin/flux"
	BENCH_FLUX=$BENCH_TMP/bin/flux crds=true
else
	say "the Flux CLI is not built (hack/peer-tools.sh build flux): no flux diff column"
fi
: >"$BENCH_RESULTS"
no_flux

export BENCH_TMP BENCH_FLOOR BENCH_RESULTS BENCH_HYPERFINE BENCH_TIME BENCH_NICE BENCH_FLUX
export BENCH_MEMORY BENCH_MEMORY_RESULTS
export BENCH_RUNS=${BENCH_RUNS:-} BENCH_SLOW_RUNS=${BENCH_SLOW_RUNS:-}
export BENCH_PER_NAMESPACE=${BENCH_PER_NAMESPACE:-200} BENCH_SWEEP=${BENCH_SWEEP:-1,4,8,16,32,64}
export BENCH_SWEEP_SAMPLE=${BENCH_SWEEP_SAMPLE:-2000}
export BENCH_DRIFT_SWEEP=${BENCH_DRIFT_SWEEP:-} BENCH_DRIFT_SWEEP_RUNS=${BENCH_DRIFT_SWEEP_RUNS:-3} BENCH_SWEEP_RESULTS
# The sweep's percentages, checked now by the generator that reads them,
# not once the benchmark above has run.
if [ -n "$BENCH_DRIFT_SWEEP" ]; then
	"$BENCH_FLOOR" gen -n 4 -per-namespace 4 -sweep "$BENCH_DRIFT_SWEEP" -out "$BENCH_TMP/sweep-check" >/dev/null ||
		die "BENCH_DRIFT_SWEEP must be ascending percentages from 1 to 100, e.g. 1,2,5,10,20"
	rm -rf "$BENCH_TMP/sweep-check"
fi
export PATH="$BENCH_TMP/bin:$PATH"
nice=()
[ -z "${BENCH_NICE:-}" ] || nice=(nice -n "$BENCH_NICE")

# report_memory [NOTE] — BENCH_MEMORY's report: the memory runs recorded so
# far, one Markdown table (mode, N), and what each mode's check found.
report_memory() {
	[ -s "$BENCH_MEMORY_RESULTS" ] || return 0
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	echo "## kubectl gitops drift memory runs"
	echo
	echo "\`BENCH_MEMORY=1 hack/bench-drift.sh ${ns[*]}\`: started $started, took $(((SECONDS - t0) / 60)) min;" \
		"$(nproc) × ${cpu:-unknown CPU}, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM;" \
		"load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end;" \
		"$("$BENCH_TMP/bin/kubectl-gitops-drift" version --client 2>/dev/null | head -n 1 || echo 'drift version unknown');" \
		"one run per mode and N: \`/usr/bin/time -f '%e %M %U %S' kubectl-gitops-drift --mode=MODE -f DIR -o json\`${BENCH_NICE:+, everything at nice $BENCH_NICE}${1:+; **$1**}."
	echo
	echo "| mode | N | wall | client CPU (user+sys) | CPU per object | peak RSS |"
	echo "|---|--:|--:|--:|--:|--:|"
	# Rows by mode (server, local, hybrid), then N.
	awk -F '\t' '$2 == "mem" {
		order = ($3 == "server" ? 1 : $3 == "local" ? 2 : 3)
		cpu = $6 + $7
		printf "%d\t%012d\t| %s | %d | %.2f s | %.2f s | %.3f ms | %.0f MB |\n", order, $1, $3, $1, $4, cpu, cpu / $1 * 1000, $5 / 1024
	}' "$BENCH_MEMORY_RESULTS" | sort -t "$(printf '\t')" -k1,1n -k2,2n | cut -f 3-
	echo
	# What each mode's check found (benchfloor check; hybrid's report against server mode's).
	awk -F '\t' '$2 == "meta" { m[$1, $3] = $4; if (!($1 in seen)) { seen[$1] = 1; ns[++k] = $1 } }
	END {
		for (i = 1; i <= k; i++) {
			n = ns[i]
			printf "N = %d: %s namespaces, %s drifted; drift reported: server mode %s; local mode %s; hybrid mode %s, its report the same as server mode'"'"'s: %s.\n",
				n, m[n, "namespaces"], m[n, "drifted"], m[n, "check-server"], m[n, "check-local"], m[n, "check-hybrid"], m[n, "check-hybrid-same"]
		}
	}' "$BENCH_RESULTS"
}

# report [NOTE] — prints the results recorded so far (nothing if none).
report() {
	[ -z "$BENCH_MEMORY" ] || { report_memory "$@"; return; }
	[ -s "$BENCH_RESULTS" ] || return 0
	local cpu timer=bash
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	[ -z "$BENCH_HYPERFINE" ] || timer=$("$BENCH_HYPERFINE" --version)
	echo "## kubectl gitops drift benchmark"
	echo
	echo "\`hack/bench-drift.sh ${ns[*]}\`: started $started, took $(((SECONDS - t0) / 60)) min;" \
		"$(nproc) × ${cpu:-unknown CPU}, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM;" \
		"$("$BENCH_TMP/bin/kubectl-gitops-drift" version --client 2>/dev/null | head -n 1 || echo 'drift version unknown');" \
		"timed by $timer${BENCH_NICE:+, everything at nice $BENCH_NICE}${1:+; **$1**}."
	echo
	"$BENCH_FLOOR" report "$BENCH_RESULTS"
}

# report_sweep [NOTE] — prints the drift-fraction sweep's steps recorded so
# far (nothing if none).
report_sweep() {
	[ -s "$BENCH_SWEEP_RESULTS" ] || return 0
	echo "## kubectl gitops drift: local and hybrid mode by drift fraction"
	echo
	echo "\`BENCH_DRIFT_SWEEP=$BENCH_DRIFT_SWEEP hack/bench-drift.sh ${ns[*]}\`: started $started;" \
		"$(nproc) CPUs; load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end;" \
		"$BENCH_DRIFT_SWEEP_RUNS rounds per step${BENCH_NICE:+, everything at nice $BENCH_NICE}${1:+; **$1**}."
	echo
	"$BENCH_FLOOR" driftsweep "$BENCH_SWEEP_RESULTS"
}

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$SECONDS
for n in "${ns[@]}"; do
	[ -z "${BENCH_DRIFT_SWEEP_ONLY:-}" ] || break
	say "N=$n: starting a control plane"
	if ! "${nice[@]}" "$BENCH_TMP/localcluster" --controller-manager=false --crds="$crds" -- "$BENCH_TMP/hack/bench-drift.sh" --inside "$n"; then
		report "the run for N=$n failed: only the Ns before it are shown"
		die "the run for N=$n failed"
	fi
done
report ""
# The drift-fraction sweep (BENCH_DRIFT_SWEEP), a control plane per N.
for n in "${ns[@]}"; do
	[ -n "$BENCH_DRIFT_SWEEP" ] || break
	say "N=$n: starting a control plane for the drift-fraction sweep ($BENCH_DRIFT_SWEEP percent)"
	if ! "${nice[@]}" "$BENCH_TMP/localcluster" --controller-manager=false --crds=false -- "$BENCH_TMP/hack/bench-drift.sh" --inside-sweep "$n"; then
		report_sweep "the sweep for N=$n failed: only the steps before it are shown"
		die "the sweep for N=$n failed"
	fi
done
report_sweep ""
