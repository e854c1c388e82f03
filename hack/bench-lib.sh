# shellcheck shell=bash
# Sourced by hack/bench-drift.sh and hack/bench-helm.sh: the timing step they
# share. The caller defines die and say, BENCH_HYPERFINE (empty: time with
# bash's `time`), BENCH_FLOOR, BENCH_TMP, and the associative arrays cmd,
# prep, want, rssfile, walls, cpus and rsss.

# run_once ID — runs command ID once (its prepare step prep[ID], if any,
# untimed), checks that it exits want[ID] (default 1) and adds its wall and
# CPU (user+sys) times, and its peak RSS where rssfile[ID] names where it is
# written, to walls, cpus and rsss. The progress line starts with
# $run_once_tag and pads the ID to $run_once_width (default 12).
# shellcheck disable=SC2004,SC2154 # the arrays are the caller's, associative
run_once() {
	local id=$1 out wall user sys rc=0 cpu exit_want=${want[$1]:-1}
	if [ -n "${prep[$id]:-}" ]; then
		bash -c "${prep[$id]}"
	fi
	if [ -n "$BENCH_HYPERFINE" ]; then
		"$BENCH_HYPERFINE" -N -i --style none --runs 1 --export-json "$BENCH_TMP/run.json" "${cmd[$id]}" \
			>"$BENCH_TMP/hyperfine.log" 2>&1 || { cat "$BENCH_TMP/hyperfine.log" >&2; die "hyperfine failed on ${cmd[$id]}"; }
		out=$("$BENCH_FLOOR" times -want "$exit_want" "$BENCH_TMP/run.json") || die "${cmd[$id]} did not exit $exit_want"
	else
		local TIMEFORMAT='%3R %3U %3S'
		{ time bash -c "${cmd[$id]}" >/dev/null 2>&1; } 2>"$BENCH_TMP/time" || rc=$?
		[ "$rc" -eq "$exit_want" ] || die "${cmd[$id]} exited $rc, not $exit_want"
		out=$(tail -n 1 "$BENCH_TMP/time")
	fi
	read -r wall user sys <<<"$out"
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
	walls[$id]+=${walls[$id]:+,}$wall
	cpus[$id]+=${cpus[$id]:+,}$cpu
	if [ -n "${rssfile[$id]:-}" ]; then
		rsss[$id]+=${rsss[$id]:+,}$(tail -n 1 "${rssfile[$id]}")
	fi
	say "${run_once_tag:-}  $(printf "%-${run_once_width:-12}s %8.3f s wall, %7.3f s CPU" "$id" "$wall" "$cpu")${rssfile[$id]:+, $(tail -n 1 "${rssfile[$id]}") kB}"
}
