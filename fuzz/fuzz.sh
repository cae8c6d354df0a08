#!/bin/sh
# Fuzz keyward's targets with libFuzzer for a while each, then fold what
# is new into the seed corpora (a set-cover merge on edge coverage).
#
#   fuzz/fuzz.sh BUILD_DIR SECONDS [TARGET...]
#
# BUILD_DIR is configured with CC=clang --enable-fuzzing (and CFLAGS with
# -fsanitize=fuzzer-no-link,address,undefined, see fuzz/README.md).
# Without TARGETs, every fuzz/corpus/<target>/. Work files go under
# ${KW_FUZZ_WORK:-/tmp/keyward-fuzz}: new/<t>/ (the run's corpus),
# crashes/<t>/ (crash-*, leak-*, timeout-* artifacts). Crashing inputs are
# not merged; the script exits 1 when any target found one.
set -u
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
if [ "${1:-}" = "--help" ]; then
	usage
	exit 0
fi
if [ $# -lt 2 ]; then
	usage >&2
	exit 2
fi
build=$1
secs=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
work=${KW_FUZZ_WORK:-/tmp/keyward-fuzz}
[ $# -gt 0 ] || set -- $(cd "$top/fuzz/corpus" && ls)
status=0
for t in "$@"; do
	bin=$build/fuzz/fuzz_$t
	corpus=$top/fuzz/corpus/$t
	if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then
		echo "fuzz.sh: $t: no $bin or $corpus" >&2
		status=1
		continue
	fi
	mkdir -p "$work/new/$t" "$work/crashes/$t"
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	"$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/crashes/$t/" \
		"$work/new/$t" "$corpus" >"$work/$t.log" 2>&1
	rc=$?
	echo "$t: exit $rc, $(grep -c . "$work/$t.log") log lines ($work/$t.log)"
	if [ $rc -ne 0 ]; then
		status=1
		continue
	fi
	"$bin" -set_cover_merge=1 -use_counters=0 -max_len=8192 "$corpus" "$work/new/$t" >>"$work/$t.log" 2>&1 ||
		status=1
done
exit $status
