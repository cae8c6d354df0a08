# tests/integration/lib.sh: shared helpers for keyward's shell tests (POSIX sh).
#
# Stable interface (other tests source this; extend, do not change):
#
#   . "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
#   kw_init "$0" "$@"               set names and paths (KW_SRC, KW_BUILD, KW_TESTENV)
#   kw_in_testenv SECS [TESTENV-OPTS...]
#                                   outside keyward-testenv: re-run this script inside
#                                   `timeout SECS keyward-testenv run OPTS -- sh SCRIPT`
#                                   and exit with its status; inside: return at once.
#                                   Starts with a namespace check (skip if impossible).
#   kw_log MSG / kw_pass MSG        progress on stderr
#   kw_fail MSG                     "FAIL: ..." and exit 1
#   kw_skip MSG                     "SKIP: ..." and exit 77 (exit 1 when KW_REQUIRE_ALL=1
#                                   or CI=true: in CI nothing may be skipped silently)
#   kw_need CMD...                  kw_skip unless every CMD is in PATH
#   kw_need_file FILE...            kw_skip unless every FILE exists
#   $KW_TMP                         a scratch directory for this test, removed on exit
#                                   (inside testenv: $KEYWARD_TESTENV_DIR/tmp-NAME, kept
#                                   with --keep)
#   kw_run CMD...                   run CMD; its stdout+stderr go to $KW_OUT (and, on
#                                   failure, to stderr); kw_fail unless it exits 0
#   kw_run_fail CMD...              same, but CMD must exit non-zero
#   kw_grep ERE FILE [WHAT]         kw_fail unless FILE has a line matching ERE
#   kw_not_grep ERE FILE [WHAT]     kw_fail if it does
#   kw_apdus [I]                    APDUs token I (default 0) has received so far
#   kw_reader [I]                   PC/SC reader name of token I
#
# Environment: KW_TOP_SRCDIR, KW_TOP_BUILDDIR (set by `make check`; the build dir may
# also be given by running the script from it), KEYWARD_TESTENV (a keyward-testenv to
# use instead of the build tree's), KW_KEEP=1 (keyward-testenv --keep).

kw_log() { echo "[$kw_name] $*" >&2; }
kw_pass() { echo "ok: [$kw_name] $*" >&2; }
kw_fail() { echo "FAIL: [$kw_name] $*" >&2; exit 1; }
kw_skip() {
	if [ "${KW_REQUIRE_ALL:-}" = 1 ] || [ "${CI:-}" = true ]; then
		kw_fail "would skip, but skipping is not allowed here: $*"
	fi
	echo "SKIP: [$kw_name] $*" >&2
	exit 77
}

kw_init() {
	kw_self=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	kw_name=$(basename "$1" .sh)
	: "${KW_TOP_SRCDIR:=$(cd "$(dirname "$kw_self")/../.." && pwd)}"
	: "${KW_TOP_BUILDDIR:=$(pwd)}"
	export KW_TOP_SRCDIR KW_TOP_BUILDDIR
	KW_SRC=$KW_TOP_SRCDIR/tests/integration
	KW_BUILD=$KW_TOP_BUILDDIR/tests/integration
	KW_TESTENV=${KEYWARD_TESTENV:-$KW_TOP_BUILDDIR/tools/testenv/keyward-testenv}
	if [ -n "${KEYWARD_TESTENV_DIR:-}" ]; then
		KW_TMP=$KEYWARD_TESTENV_DIR/tmp-$kw_name
		mkdir -p "$KW_TMP" || kw_fail "cannot create $KW_TMP"
	else
		KW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kw-$kw_name.XXXXXX") ||
			kw_fail "mktemp failed"
		trap 'rm -rf "$KW_TMP"' EXIT
	fi
	KW_OUT=$KW_TMP/out
	export KW_TMP KW_OUT
}

kw_need() {
	for kw_c in "$@"; do
		command -v "$kw_c" >/dev/null 2>&1 || kw_skip "$kw_c not installed"
	done
}

kw_need_file() {
	for kw_f in "$@"; do
		[ -e "$kw_f" ] || kw_skip "$kw_f not found"
	done
}

kw_in_testenv() {
	[ -n "${KEYWARD_TESTENV_DIR:-}" ] && return 0
	kw_secs=$1
	shift
	[ -x "$KW_TESTENV" ] || kw_fail "$KW_TESTENV not built"
	if [ "$(id -u)" != 0 ] && ! unshare -U -r -m -n true 2>/dev/null; then
		kw_skip "needs root or user namespaces for keyward-testenv"
	fi
	set -- --timeout "$((kw_secs - 5))" "$@"
	[ "${KW_KEEP:-}" = 1 ] && set -- --keep "$@"
	kw_log "keyward-testenv run $* -- $kw_self"
	timeout -k 10 "$kw_secs" "$KW_TESTENV" run "$@" -- /bin/sh "$kw_self"
	exit $?
}

kw_run() {
	kw_log "\$ $*"
	"$@" >"$KW_OUT" 2>&1
	kw_st=$?
	[ "$kw_st" = 0 ] && return 0
	sed 's/^/    | /' "$KW_OUT" >&2
	kw_fail "exit status $kw_st: $*"
}

kw_run_fail() {
	kw_log "\$ $* (must fail)"
	if "$@" >"$KW_OUT" 2>&1; then
		sed 's/^/    | /' "$KW_OUT" >&2
		kw_fail "succeeded but must fail: $*"
	fi
	return 0
}

kw_grep() {
	grep -Eq -- "$1" "$2" && return 0
	sed 's/^/    | /' "$2" >&2
	kw_fail "${3:-output} lacks /$1/"
}

kw_not_grep() {
	grep -Eq -- "$1" "$2" || return 0
	sed 's/^/    | /' "$2" >&2
	kw_fail "${3:-output} has /$1/"
}

kw_apdus() {
	kw_t=$KEYWARD_TESTENV_DIR/token-${1:-0}.trace
	if [ -f "$kw_t" ]; then grep -c '^>' "$kw_t"; else echo 0; fi
}

kw_reader() {
	eval "printf '%s\n' \"\$KEYWARD_TESTENV_READER_${1:-0}\""
}
