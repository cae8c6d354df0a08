# Shared helpers for the interop tests (sourced, POSIX sh).
#
# A test script does:
#   . "$KW_TOP_SRCDIR/tests/interop/lib.sh"
#   kwi_init "$0" "$@"          # outside: re-runs the script inside keyward-testenv
#   ...                          # inside: token provisioned, fixture in $FIX
#
# Environment:
#   KW_TOP_BUILDDIR, KW_TOP_SRCDIR  set by `make check` (else derived from the script)
#   KEYWARD_P11_MODULE   module under test (default: the build tree's keyward-pkcs11.so)
#   KWI_TIMEOUT          seconds for the whole test (default 300)
#   KWI_KEEP=1           keep the testenv directory (keyward-testenv --keep)

KWI_PIN=123456

kwi_log() { echo "[$kwi_name] $*" >&2; }
kwi_fail() { echo "FAIL: [$kwi_name] $*" >&2; exit 1; }
kwi_pass() { echo "ok: [$kwi_name] $*" >&2; }

kwi_paths() {
	kwi_self=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	kwi_name=$(basename "$1" .sh)
	: "${KW_TOP_SRCDIR:=$(cd "$(dirname "$kwi_self")/../.." && pwd)}"
	export KW_TOP_SRCDIR
	if [ -z "${KW_TOP_BUILDDIR:-}" ]; then
		echo "$kwi_name: KW_TOP_BUILDDIR not set (run through make check)" >&2
		exit 99
	fi
	export KW_TOP_BUILDDIR
	KWI_SRC=$KW_TOP_SRCDIR/tests/interop
	KWI_BUILD=$KW_TOP_BUILDDIR/tests/interop
}

# The module under test (KEYWARD_P11_MODULE may name a known-good module such
# as opensc-pkcs11.so or libykcs11.so to validate the harness). A missing
# module is a hard error, never a skip.
kwi_module() {
	if [ -n "${KEYWARD_P11_MODULE:-}" ]; then
		MODULE=$KEYWARD_P11_MODULE
		[ -f "$MODULE" ] || { echo "$kwi_name: KEYWARD_P11_MODULE=$MODULE: no such file" >&2; exit 99; }
	else
		MODULE=$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so
		[ -f "$MODULE" ] || { echo "$kwi_name: $MODULE not built" >&2; exit 99; }
	fi
	export KEYWARD_P11_MODULE="$MODULE"
	# Reference-module allowances (documented in each test) apply only to
	# these exact files; anything else is held to keyward's standard.
	case ${MODULE##*/} in
	libykcs11.so | libykcs11.so.[0-9]*) KWI_FLAVOUR=ykcs11 ;;
	opensc-pkcs11.so) KWI_FLAVOUR=opensc ;;
	*) KWI_FLAVOUR=keyward ;;
	esac
	export KWI_FLAVOUR
}

# Foreign clients are not ASan-instrumented; an instrumented module needs the
# ASan runtime loaded first, so preload the very libasan the module links to.
kwi_sanitizer_env() {
	KWI_PRELOAD=
	if nm -D "$MODULE" 2>/dev/null | grep -q ' __asan_init'; then
		KWI_PRELOAD=$(ldd "$MODULE" | awk '/libasan/ { print $3; exit }')
		if [ -z "$KWI_PRELOAD" ]; then
			cc=$(sed -n 's/^CC = //p' "$KW_TOP_BUILDDIR/Makefile")
			KWI_PRELOAD=$(${cc:-cc} -print-file-name=libasan.so)
		fi
		[ -f "$KWI_PRELOAD" ] || { echo "$kwi_name: ASan module but no libasan found" >&2; exit 99; }
	fi
	export KWI_PRELOAD
}

# kwi_client CMD ARGS: run a foreign (uninstrumented) client of the module.
kwi_client() {
	if [ -n "$KWI_PRELOAD" ]; then
		LD_PRELOAD=$KWI_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD} \
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$@"
	else
		"$@"
	fi
}

# kwi_client_deepbind CMD ARGS: kwi_client for clients that dlopen() the
# module with RTLD_DEEPBIND (pkcs11-provider), which the ASan runtime
# refuses: under preload, libkwi_nodeepbind.so goes first and drops the flag.
# An OpenSSL config that loads pkcs11-provider (PROVIDER) over the module
# under test with the test PIN, beside the default provider.
kwi_provider_conf() { # PROVIDER OUT
	cat >"$2" <<EOF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
pkcs11 = pkcs11_sect
[default_sect]
activate = 1
[pkcs11_sect]
module = $1
pkcs11-module-path = $MODULE
pkcs11-module-token-pin = $KWI_PIN
activate = 1
EOF
}

kwi_client_deepbind() {
	if [ -n "$KWI_PRELOAD" ]; then
		nodeep=$KW_TOP_BUILDDIR/tests/interop/.libs/libkwi_nodeepbind.so
		[ -f "$nodeep" ] || kwi_fail "$nodeep not built (make check builds it)"
		LD_PRELOAD=$nodeep:$KWI_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD} \
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:verify_asan_link_order=0 "$@"
	else
		"$@"
	fi
}

kwi_testenv_bin() {
	for t in "$KW_TOP_BUILDDIR/tools/testenv/keyward-testenv"; do
		[ -x "$t" ] && { echo "$t"; return 0; }
	done
	echo "$kwi_name: keyward-testenv not built in $KW_TOP_BUILDDIR/tools/testenv" >&2
	exit 99
}

# kwi_init "$0" "$@": outside the testenv, re-run the script inside one
# (bounded by timeout); inside, provision the token and cd to a work dir.
kwi_init() {
	kwi_paths "$1"
	shift
	kwi_module
	kwi_sanitizer_env
	if [ "${1:-}" != --inside ]; then
		tenv=$(kwi_testenv_bin)
		keep=
		[ "${KWI_KEEP:-0}" = 1 ] && keep=--keep
		kwi_log "module $MODULE${KWI_PRELOAD:+ (ASan, clients preload $KWI_PRELOAD)}"
		# The testenv itself must not get the client preload.
		t=${KWI_TIMEOUT:-300}
		exec timeout -k 10 $((t + 30)) "$tenv" run $keep --timeout "$t" --tokens "${KWI_TOKENS:-1}" -- \
			/bin/sh "$kwi_self" --inside
	fi
	[ -n "${KEYWARD_TESTENV_DIR:-}" ] || kwi_fail "KEYWARD_TESTENV_DIR not set inside keyward-testenv"
	FIX=$KEYWARD_TESTENV_DIR/fixture
	WORK=$KEYWARD_TESTENV_DIR/work-$kwi_name
	mkdir -p "$WORK/cache"
	cd "$WORK" || exit 99
	# Hermetic: every test starts with an empty per-user cache (keyward keeps
	# verified public material there, keyed by serial; all testenv tokens of a
	# run have the same serials).
	export XDG_CACHE_HOME="$WORK/cache"
	if [ "${KWI_PROVISION:-1}" = 1 ]; then
		# shellcheck source=provision.sh
		. "$KWI_SRC/provision.sh"
		kwp_provision "$FIX" || kwi_fail "provisioning the token failed"
	fi
}

# kwi_run LOG CMD ARGS: run a client, log its output, fail the test on non-zero.
kwi_run() {
	log=$1
	shift
	if ! kwi_client "$@" >"$log" 2>&1 </dev/null; then
		sed 's/^/    /' "$log" | tail -n 40 >&2
		kwi_fail "$* exited non-zero (log $log)"
	fi
}

# kwi_run_p11kit LOG CMD ARGS: kwi_run for clients linked to libp11-kit
# (p11-kit, p11tool, certtool). With the ASan runtime preloaded into them,
# glibc's locale rwlock ends up with a negative reader count and libp11-kit's
# destructor (freelocale) blocks forever at exit, after the work is done (seen
# with opensc-pkcs11.so too: a client/runtime issue, not the module's). Under
# preload only: stdout is line-buffered, and a client found deadlocked (one
# thread, blocked in a futex wait for 2 s: nobody can wake it) is killed and
# judged by its output, which every caller checks. A client still running
# after KWI_CLIENT_TIMEOUT (120) seconds otherwise fails the test.
kwi_run_p11kit() {
	if [ -z "$KWI_PRELOAD" ]; then
		kwi_run "$@"
		return
	fi
	log=$1
	shift
	stdbuf_so=$(ls /usr/libexec/coreutils/libstdbuf.so /usr/lib/coreutils/libstdbuf.so 2>/dev/null | head -n1)
	LD_PRELOAD=$KWI_PRELOAD${stdbuf_so:+:$stdbuf_so} _STDBUF_O=L _STDBUF_E=L \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	ticks=0 stuck=0 verdict=
	while kill -0 "$pid" 2>/dev/null; do
		sleep 0.2
		ticks=$((ticks + 1))
		thr=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		case "$thr:$(cat "/proc/$pid/wchan" 2>/dev/null || true)" in
		1:*futex*) stuck=$((stuck + 1)) ;;
		*) stuck=0 ;;
		esac
		if [ $stuck -ge 10 ]; then
			verdict=deadlock
		elif [ $ticks -ge $((${KWI_CLIENT_TIMEOUT:-120} * 5)) ]; then
			verdict=timeout
		fi
		[ -n "$verdict" ] && { kill -9 "$pid" 2>/dev/null || true; break; }
	done
	rc=0
	wait "$pid" || rc=$?
	case $verdict:$rc in
	deadlock:*) kwi_log "$1 deadlocked at exit (libp11-kit + preloaded ASan), killed; judging its output" ;;
	timeout:*) sed 's/^/    /' "$log" | tail -n 40 >&2; kwi_fail "$* still running after ${KWI_CLIENT_TIMEOUT:-120} s (log $log)" ;;
	:0) ;;
	*) sed 's/^/    /' "$log" | tail -n 40 >&2; kwi_fail "$* exited $rc (log $log)" ;;
	esac
}
