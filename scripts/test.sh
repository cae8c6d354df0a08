#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine (as root):
#   scripts/test.sh
# Installs dependencies, builds with -Werror, runs `make check` (unit,
# integration and interop tests), then the same suite under ASan+UBSan.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"

out="${KW_TEST_BUILDDIR:-$top/_ci}"
status=0

run_suite() {
	name=$1
	shift
	echo "== $name: build"
	"$top/scripts/build.sh" "$out/$name" --enable-werror "$@"
	echo "== $name: make check"
	if ! make -C "$out/$name" -j"$(nproc)" check; then
		status=1
		for log in $(find "$out/$name/tests" -name '*.log' 2>/dev/null); do
			if grep -qE '^:test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then
				echo "---- $log"
				tail -n 60 "$log"
			fi
		done
	fi
}

run_suite default
if [ "${KW_SKIP_SANITIZERS:-0}" != 1 ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		run_suite sanitizers --enable-sanitizers
fi
# Packaging (make check-packaging: distcheck, the --disable-kms --disable-ble
# build, the Debian packages in a clean root) is its own group, run with
# KW_PACKAGING=1; not yet by default: it has not had a green run on CI.
if [ "${KW_PACKAGING:-0}" = 1 ]; then
	echo "== packaging: make check-packaging"
	if ! make -C "$out/default" check-packaging; then
		status=1
		for log in "$out/default"/tests/pkg/test_*.log; do
			grep -qE '^:test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null &&
				{ echo "---- $log"; tail -n 80 "$log"; }
		done
	fi
fi
[ $status -eq 0 ] && echo "keyward: all suites passed" || echo "keyward: FAILURES" >&2
exit $status
