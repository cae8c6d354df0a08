#!/bin/sh
# Run every fuzz target over its committed seed corpus fuzz/corpus/<t>/
# (the replay binaries of a normal build, or the libFuzzer binaries of an
# --enable-fuzzing build: both take the inputs as file arguments). A crash
# or sanitizer report fails the test. Bounded in time per target.
set -u
top_src=${KW_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
top_build=${KW_TOP_BUILDDIR:-$top_src}
limit=${KW_FUZZ_REPLAY_TIMEOUT:-300}
corpus_root=$top_src/fuzz/corpus
fail=0
ran=0

if [ ! -d "$corpus_root" ]; then
	echo "replay.sh: no corpus directory $corpus_root" >&2
	exit 1
fi
for dir in "$corpus_root"/*/; do
	name=$(basename "$dir")
	bin=$top_build/fuzz/fuzz_$name
	if [ ! -x "$bin" ]; then
		echo "FAIL $name: $bin not built" >&2
		fail=1
		continue
	fi
	set -- "$dir"*
	if [ ! -e "$1" ]; then
		echo "FAIL $name: empty corpus" >&2
		fail=1
		continue
	fi
	log=$(mktemp) || exit 1
	if timeout "$limit" "$bin" "$@" >"$log" 2>&1; then
		echo "ok   $name: $# inputs"
		ran=$((ran + 1))
	else
		rc=$?
		echo "FAIL $name (exit $rc):" >&2
		tail -n 40 "$log" >&2
		# Name the input: rerun one at a time until one fails.
		for f in "$@"; do
			if ! timeout "$limit" "$bin" "$f" >/dev/null 2>&1; then
				echo "FAIL $name: reproducer $f" >&2
				break
			fi
		done
		fail=1
	fi
	rm -f "$log"
done
echo "replay.sh: $ran targets passed"
exit $fail
