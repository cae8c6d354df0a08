#!/bin/sh
# A fuzzing campaign over keyward's targets: each runs for SECONDS with
# libFuzzer, then what it found that adds coverage is folded back into
# the seed corpus fuzz/corpus/<target>/ (libFuzzer -merge=1). Not part of
# `make check` (which only replays the corpora, fuzz/replay.sh).
#
#   fuzz/fuzz.sh [--minimize] BUILD_DIR SECONDS [TARGET...]
#
# BUILD_DIR is configured with CC=clang --enable-fuzzing. Without TARGETs:
# every fuzz/corpus/<target>/. --minimize also rewrites each corpus to a
# minimal set with the same coverage (-merge=1 into an empty directory).
# Work files go under ${KW_FUZZ_WORK:-/tmp/keyward-fuzz}: new/<t>/ (the
# run's finds), crashes/<t>/ (crash-*, leak-*, timeout-*, oom-* inputs),
# <t>.log, and summary.txt (per target: exit status, runs, exec/s, edges
# covered, instrumented counters, corpus size before and after). A target
# that crashed is not merged (its corpus stays green for `make check`);
# the script then exits 1. KW_FUZZ_MAX_LEN (8192), KW_FUZZ_TIMEOUT (10 s
# per input) and KW_FUZZ_RSS_MB (2048) bound the runs.
set -u
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
minimize=0
case "${1:-}" in
--help|-h) usage; exit 0 ;;
--minimize) minimize=1; shift ;;
esac
if [ $# -lt 2 ]; then
	usage >&2
	exit 2
fi
build=$1
secs=$2
shift 2
case $secs in
''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number: $secs" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
work=${KW_FUZZ_WORK:-/tmp/keyward-fuzz}
max_len=${KW_FUZZ_MAX_LEN:-8192}
timeout=${KW_FUZZ_TIMEOUT:-10}
rss=${KW_FUZZ_RSS_MB:-2048}
[ $# -gt 0 ] || set -- $(cd "$top/fuzz/corpus" && ls)
mkdir -p "$work" || exit 1
summary=$work/summary.txt
printf '%-16s %5s %10s %8s %7s %9s %s\n' target exit runs exec/s edges counters \
	"corpus before->after" >"$summary"
status=0
for t in "$@"; do
	bin=$build/fuzz/fuzz_$t
	corpus=$top/fuzz/corpus/$t
	log=$work/$t.log
	if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then
		echo "fuzz.sh: $t: no $bin or $corpus" >&2
		status=1
		continue
	fi
	rm -rf "$work/new/$t"
	mkdir -p "$work/new/$t" "$work/crashes/$t"
	before=$(ls "$corpus" | wc -l)
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	"$bin" -max_total_time="$secs" -max_len="$max_len" -timeout="$timeout" \
		-rss_limit_mb="$rss" -print_final_stats=1 \
		-artifact_prefix="$work/crashes/$t/" "$work/new/$t" "$corpus" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		if [ $minimize -eq 1 ]; then
			rm -rf "$work/min/$t"
			mkdir -p "$work/min/$t"
			if "$bin" -merge=1 -max_len="$max_len" -timeout="$timeout" \
			    "$work/min/$t" "$corpus" "$work/new/$t" >>"$log" 2>&1 &&
			    [ -n "$(ls "$work/min/$t")" ]; then
				rm -f "$corpus"/*
				cp "$work/min/$t"/* "$corpus"/
			else
				status=1
			fi
		elif ! "$bin" -merge=1 -max_len="$max_len" -timeout="$timeout" \
		    "$corpus" "$work/new/$t" >>"$log" 2>&1; then
			status=1
		fi
	else
		status=1
	fi
	after=$(ls "$corpus" | wc -l)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | head -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | head -n 1)
	edges=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$log" | tail -n 1 |
		sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	counters=$(sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' \
		"$log" | head -n 1)
	printf '%-16s %5s %10s %8s %7s %9s %s\n' "$t" "$rc" "${runs:--}" "${eps:--}" \
		"${edges:--}" "${counters:--}" "$before->$after" | tee -a "$summary"
	if [ $rc -ne 0 ]; then
		echo "fuzz.sh: $t found a problem; inputs in $work/crashes/$t/, log $log" >&2
		grep -m 3 -E 'ERROR|SUMMARY|deadly' "$log" >&2
	fi
done
echo "fuzz.sh: summary in $summary"
exit $status
