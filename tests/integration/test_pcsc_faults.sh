#!/bin/sh
# PC/SC under hostile conditions (issue 9), with real pcscd + vpcd +
# keyward-vcard under keyward-testenv and keyward-pkcs11 driven by
# kw_p11_signloop (one process, every signature verified):
#  - the card pulled when the signing command arrives (keyward-vcard
#    --vpcd-faults pull=87: the socket closes; pcscd answers
#    SCARD_E_NOT_TRANSACTED or, with Debian's vpcd, an answer without a status
#    word): C_Sign gives CKR_DEVICE_REMOVED at once, the
#    session is closed, the token is no longer listed; the same for C_Login
#    (pull=20);
#  - the card executes a signature and its answer frame is garbled (1 byte):
#    the signature ran exactly once (no resend with short APDUs), the call
#    fails, the next signatures verify and still use extended APDUs;
#  - another process (opensc-tool --reset) resets the card between two
#    signatures: the first call gives CKR_DEVICE_ERROR, not
#    CKR_DEVICE_REMOVED; the session survives, the login is forgotten
#    (the session is public again; log in again, it signs).
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool opensc-tool openssl
. "$KW_SRC/pki.sh"
. "$KW_SRC/provision.sh"
MOD=${KEYWARD_P11_MODULE:-$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so}
VCARD=${KEYWARD_VCARD_REAL:-$KW_TOP_BUILDDIR/tools/vcard/keyward-vcard}
LOOP=$KW_TOP_BUILDDIR/tests/integration/kw_p11_signloop
kw_need_file "$MOD" "$VCARD" "$LOOP"
PRELOAD=
if nm -D "$MOD" 2>/dev/null | grep -q ' __asan_init'; then
	PRELOAD=$(ldd "$MOD" | awk '/libasan/ { print $3; exit }')
fi

signloop() { # OUT ARGS...
	sl_out=$1
	shift
	KEYWARD_LOG=debug KEYWARD_NO_CACHE=1 timeout -k 5 90 env LD_PRELOAD="$PRELOAD" \
		ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 "$LOOP" --module "$MOD" \
		--pin 123456 "$@" >"$sl_out" 2>"$sl_out.err" ||
		{ cat "$sl_out" "$sl_out.err" >&2; kw_fail "kw_p11_signloop $*"; }
	sed 's/^/    | /' "$sl_out" >&2
}
ms_of() { sed -n "s/^round $1: .* \([0-9]*\) ms\$/\1/p" "$2"; }
TRACE=${KEYWARD_TESTENV_DIR:-.}/token-0.trace

case ${PF_PHASE:-} in
provision)
	kw_provision "$KW_TMP"
	exit 0
	;;
pull-sign)
	signloop "$KW_TMP/out" --id 04 --count 1
	kw_grep '^round 1: sign CKR_DEVICE_REMOVED' "$KW_TMP/out" "C_Sign with the card pulled"
	t=$(ms_of 1 "$KW_TMP/out")
	[ "$t" -lt 1500 ] || kw_fail "C_Sign took $t ms to report the removal"
	kw_grep '^session: CKR_SESSION_HANDLE_INVALID' "$KW_TMP/out" "the session after removal"
	kw_grep '^token: absent' "$KW_TMP/out" "the slot after removal"
	kw_grep 'is the card still there' "$KW_TMP/out.err" "the presence check"
	kw_pass "card pulled during C_Sign: CKR_DEVICE_REMOVED in $t ms, session closed, token gone"
	exit 0
	;;
pull-login)
	signloop "$KW_TMP/out" --login-loop --count 1
	kw_grep '^round 1: login CKR_DEVICE_REMOVED' "$KW_TMP/out" "C_Login with the card pulled"
	t=$(ms_of 1 "$KW_TMP/out")
	[ "$t" -lt 1500 ] || kw_fail "C_Login took $t ms to report the removal"
	kw_grep '^token: absent' "$KW_TMP/out" "the slot after removal"
	kw_pass "card pulled during C_Login: CKR_DEVICE_REMOVED in $t ms"
	exit 0
	;;
garble)
	: >"$TRACE"
	signloop "$KW_TMP/out" --id 04 --count 3
	kw_grep '^round 1: sign CKR_DEVICE_ERROR' "$KW_TMP/out" "a garbled answer"
	n=$(grep -c '^round [23]: sign CKR_OK verified' "$KW_TMP/out")
	[ "$n" = 2 ] || kw_fail "after a garbled answer: $n of 2 signatures verified"
	# the trace redacts GA data: 43 bytes after the header is the extended
	# form (Lc 3 bytes, Le 2) of the 38 bytes, 40 the short one
	ga=$(grep -c '^> 0087119E' "$TRACE")
	[ "$ga" = 3 ] || { grep '^> 0087' "$TRACE" >&2; kw_fail "GENERAL AUTHENTICATE executed $ga times for 3 signatures"; }
	ext=$(grep -c '^> 0087119E \[43 bytes' "$TRACE")
	[ "$ext" = 3 ] || { grep '^> 0087' "$TRACE" >&2; kw_fail "$ext of 3 signatures were extended APDUs"; }
	kw_not_grep 'short APDUs from now on' "$KW_TMP/out.err" "the log"
	kw_pass "garbled answer: executed once, reported, extended APDUs kept, next signatures verify"
	exit 0
	;;
reset)
	mkdir -p "$KW_TMP/sync"
	rm -f "$KW_TMP/sync/ready" "$KW_TMP/sync/go"
	(
		n=0
		while [ ! -e "$KW_TMP/sync/ready" ] && [ "$n" -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
		opensc-tool -r 0 --reset >"$KW_TMP/reset.out" 2>&1
		echo "reset status $?" >>"$KW_TMP/reset.out"
		touch "$KW_TMP/sync/go"
	) &
	rp=$!
	signloop "$KW_TMP/out" --id 01 --count 3 --sync "$KW_TMP/sync" --sync-at 2 --relogin
	wait "$rp"
	kw_grep 'reset status 0' "$KW_TMP/reset.out" "opensc-tool --reset"
	kw_grep '^round 1: sign CKR_OK verified' "$KW_TMP/out" "before the reset"
	kw_grep '^round 2: sign CKR_DEVICE_ERROR, logged out: logging in again' "$KW_TMP/out" \
		"the call that meets the reset"
	kw_grep '^round 2: sign CKR_OK verified' "$KW_TMP/out" "signing after logging in again"
	kw_grep '^round 3: sign CKR_OK verified' "$KW_TMP/out" "the next signature"
	kw_grep '^session: CKR_OK' "$KW_TMP/out" "the session after the reset"
	kw_grep '^token: present' "$KW_TMP/out" "the slot after the reset"
	kw_pass "reset by another process: CKR_DEVICE_ERROR once, session kept, login forgotten"
	exit 0
	;;
esac

PF_STATE=$KW_TMP/state
mkdir -p "$PF_STATE" || kw_fail "mkdir $PF_STATE"
if [ "$(id -u)" != 0 ] && ! unshare -U -r -m -n true 2>/dev/null; then
	kw_skip "needs root or user namespaces for keyward-testenv"
fi
[ -x "$KW_TESTENV" ] || kw_fail "$KW_TESTENV not built"
pf_run() { # PHASE [KEYWARD-VCARD ARGS...]
	pf_phase=$1
	shift
	{
		echo '#!/bin/sh'
		printf 'exec "%s"' "$VCARD"
		for a in "$@"; do printf ' "%s"' "$a"; done
		echo ' "$@"'
	} >"$KW_TMP/vcard-wrap"
	chmod +x "$KW_TMP/vcard-wrap"
	kw_log "phase $pf_phase: keyward-vcard $*"
	env PF_PHASE="$pf_phase" KEYWARD_VCARD="$KW_TMP/vcard-wrap" KEYWARD_CONF=/nonexistent \
		timeout -k 10 150 "$KW_TESTENV" run --timeout 145 --state-dir "$PF_STATE" \
		-- /bin/sh "$kw_self"
	pf_st=$?
	[ "$pf_st" = 125 ] && kw_skip "keyward-testenv cannot run here (pcscd/vpcd/namespaces)"
	[ "$pf_st" = 0 ] || kw_fail "phase $pf_phase: status $pf_st"
}
pf_run provision
pf_run pull-sign --vpcd-faults pull=87,hold-ms=10000
pf_run pull-login --vpcd-faults pull=20,at=2,hold-ms=10000
pf_run garble --vpcd-faults garble=87
pf_run reset
kw_pass "PC/SC: pulled during C_Sign and C_Login, garbled answer, reset by another process"
