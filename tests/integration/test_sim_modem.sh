#!/bin/sh
# SIM-card keys through a cellular modem: keyward-vcard --modem (an AT
# command interpreter on a pseudo-terminal in front of the UICC). A token is
# provisioned by yubico-piv-tool under keyward-testenv; its state then
# serves as the SIM behind the modem. For each quirk profile (plain,
# bare-ccho, no-cgla = +CSIM with keyward's own MANAGE CHANNEL, urc, slow,
# all together) keyward-pkcs11, configured by KEYWARD_MODEM_PORTS, lists
# the objects and signs/decrypts (checked with openssl). Each fault (garbage
# line, ERROR mid-command, no reply, the port vanishing) gives a clear error
# within a bounded time and no crash; the modem works again afterwards. A
# late reply is not taken for the next answer (8 signatures in one process
# verify), a garbage line inside a chained command does not spoil the next
# signature. A
# port ModemManager holds, or one locked by a live process, is refused with
# a message that says so; a stale lock file is taken over. Finally the same
# through keyward-testenv --token-kind modem --modem-quirks.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool pkcs11-tool openssl
. "$KW_SRC/pki.sh"
. "$KW_SRC/provision.sh"
. "$KW_SRC/test_sim_lib.sh"
kw_need_file "$SIM_MOD" "$SIM_VCARD"

case ${SIM_PHASE:-} in
provision)
	kw_provision "$KW_TMP"
	exit 0
	;;
testenv-modem)
	# keyward-testenv --token-kind modem: the port is named for keyward
	[ "$KEYWARD_TESTENV_URI_0" = "at:$KEYWARD_TESTENV_MODEM_0" ] || kw_fail "URI_0"
	[ "$KEYWARD_MODEM_PORTS" = "$KEYWARD_TESTENV_MODEM_0;" ] || kw_fail "KEYWARD_MODEM_PORTS"
	export KEYWARD_CONF=/nonexistent KEYWARD_LOCK_DIR=$KW_TMP
	kw_run "$KW_TOP_BUILDDIR/tools/keyward/keyward" list
	kw_grep "uri: *at:$KEYWARD_TESTENV_MODEM_0" "$KW_OUT" "keyward list"
	sim_sign "$KW_TMP"
	grep -q '^> 01A4040005A000000308' "$KEYWARD_TESTENV_DIR/token-0.trace" ||
		kw_fail "+CSIM (no-cgla) not used on channel 1"
	exit 0
	;;
esac

SIM_STATE=$KW_TMP/state
mkdir -p "$SIM_STATE" || kw_fail "mkdir $SIM_STATE"
sim_testenv 200 provision || exit $?
PKI=$SIM_STATE/tmp-$kw_name
LINK=$KW_TMP/modem
vcard_pid=
stop_modem() {
	[ -n "$vcard_pid" ] || return 0
	kill "$vcard_pid" 2>/dev/null
	wait "$vcard_pid" 2>/dev/null
	vcard_st=$?
	vcard_pid=
	return "$vcard_st"
}
trap 'stop_modem; rm -rf "$KW_TMP"' EXIT
trap 'exit 1' HUP INT TERM PIPE

start_modem() { # ARGS...
	"$SIM_VCARD" --state "$SIM_STATE/token-0.state" --modem "$LINK" \
		--trace "$KW_TMP/modem.trace" "$@" >"$KW_TMP/vcard.log" 2>&1 &
	vcard_pid=$!
	n=0
	while [ ! -e "$LINK" ] && [ "$n" -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	[ -e "$LINK" ] || { cat "$KW_TMP/vcard.log" >&2; kw_fail "the modem did not start"; }
}

export KEYWARD_CONF=/nonexistent/keyward.conf KEYWARD_MODEM_PORTS="$LINK"
export KEYWARD_LOCK_DIR=$KW_TMP XDG_CACHE_HOME=$KW_TMP/cache
cd "$KW_TMP" || kw_fail "cd $KW_TMP"

# --- every quirk profile --------------------------------------------------------
for q in none bare-ccho no-cgla urc slow bare-ccho,no-cgla,urc,slow; do
	if [ "$q" = none ]; then start_modem; else start_modem --modem-quirks "$q"; fi
	: >"$KW_TMP/modem.trace"
	p11 -L
	kw_grep "token label *: keyward PIV #" "$KW_OUT" "token on the modem ($q)"
	sim_objects
	sim_sign "$PKI"
	stop_modem || kw_fail "keyward-vcard --modem failed ($q)"
	# +CGLA: the modem adds the channel, +CSIM: keyward does (CLA 01)
	grep -q '^> 01A4040005A000000308' "$KW_TMP/modem.trace" ||
		kw_fail "PIV not selected on logical channel 1 ($q)"
	awk '/^> / && substr($2, 1, 1) == "0" && substr($2, 2, 1) == "0" &&
	     substr($2, 3, 2) != "70" { bad = 1 } END { exit bad }' "$KW_TMP/modem.trace" ||
		kw_fail "a command on the basic channel ($q)"
	kw_pass "profile $q: objects, signatures, decryption"
done

# --- the port held by ModemManager, or locked by another process -------------
start_modem
cp "$(command -v sleep)" "$KW_TMP/ModemManager"
"$KW_TMP/ModemManager" 30 <"$LINK" &
mm=$!
sleep 0.2
KEYWARD_LOG=warn timeout 20 env LD_PRELOAD="$SIM_PRELOAD" pkcs11-tool --module "$SIM_MOD" -L \
	>"$KW_TMP/mm.out" 2>&1
kill "$mm"
wait "$mm" 2>/dev/null
kw_grep "is open in ModemManager \(pid $mm\).*ID_MM_PORT_IGNORE" "$KW_TMP/mm.out" "ModemManager hint"
kw_not_grep 'token label' "$KW_TMP/mm.out" "a port ModemManager holds"
lck=$KW_TMP/LCK..$(readlink "$LINK" | sed 's|^/dev/||; s|/|_|g')
printf '%10d\n' "$$" >"$lck"
KEYWARD_LOG=warn timeout 20 env LD_PRELOAD="$SIM_PRELOAD" pkcs11-tool --module "$SIM_MOD" -L \
	>"$KW_TMP/mm.out" 2>&1
kw_grep "is locked by process $$" "$KW_TMP/mm.out" "lock owner"
printf '%10d\n' 999999999 >"$lck"   # stale: taken over
p11 -L
kw_grep "token label *: keyward PIV #" "$KW_OUT" "a stale lock file"
[ ! -e "$lck" ] || kw_fail "the lock file was not removed at exit"
stop_modem || kw_fail "keyward-vcard --modem failed (locks)"
kw_pass "ModemManager holding the port and a live lock owner are refused with clear messages"

# --- faults: a clear error in bounded time, then the modem works again ---------
export KEYWARD_MODEM_TIMEOUT_MS=1500
for f in garbage:'unexpected line' error-mid:'answered ERROR' \
	no-reply:'no reply from .* within 1500 ms' vanish:'went away'; do
	start_modem --modem-faults "${f%%:*}" --modem-fault-at 4
	t0=$(date +%s)
	KEYWARD_LOG=warn timeout -k 5 60 env LD_PRELOAD="$SIM_PRELOAD" \
		ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 pkcs11-tool --module "$SIM_MOD" -O \
		>"$KW_TMP/fault.out" 2>&1
	st=$?
	t=$(($(date +%s) - t0))
	[ "$st" -lt 124 ] || { cat "$KW_TMP/fault.out" >&2; kw_fail "${f%%:*}: status $st"; }
	[ "$t" -le 20 ] || kw_fail "${f%%:*}: took $t s"
	kw_grep "modem: .*${f#*:}" "$KW_TMP/fault.out" "${f%%:*} message"
	if [ "${f%%:*}" = vanish ]; then
		n=0
		while [ -e "$LINK" ] && [ "$n" -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
		[ ! -e "$LINK" ] || kw_fail "the port did not vanish"
		stop_modem || kw_fail "keyward-vcard after vanishing"
		KEYWARD_LOG=warn timeout 20 env LD_PRELOAD="$SIM_PRELOAD" pkcs11-tool \
			--module "$SIM_MOD" -L >"$KW_TMP/fault.out" 2>&1
		kw_not_grep 'token label' "$KW_TMP/fault.out" "a vanished modem"
	else
		p11 -L
		kw_grep "token label *: keyward PIV #" "$KW_OUT" "the modem after ${f%%:*}"
		stop_modem || kw_fail "keyward-vcard --modem failed (${f%%:*})"
	fi
	kw_pass "fault ${f%%:*}: clear error in ${t}s (status $st)"
done

# --- a late reply, a garbage line inside a chain: one process goes on ---------
# Issue 9: a +CGLA answered after the timeout was read as the answer to the
# next command, and every later answer was off by one for the life of the
# process; a garbage line after the first link of a chained command left
# that link on the card and the next signature was appended to it (6A80).
# kw_p11_signloop signs in one process and verifies every signature.
LOOP=$KW_TOP_BUILDDIR/tests/integration/kw_p11_signloop
kw_need_file "$LOOP"
signloop() { # OUT ARGS...
	sl_out=$1
	shift
	KEYWARD_LOG=info timeout -k 5 120 env LD_PRELOAD="$SIM_PRELOAD" \
		ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 "$LOOP" --module "$SIM_MOD" \
		--pin 123456 "$@" >"$sl_out" 2>"$sl_out.err" ||
		{ cat "$sl_out" "$sl_out.err" >&2; kw_fail "kw_p11_signloop $*"; }
}
export KEYWARD_MODEM_TIMEOUT_MS=1000
# the first ECDSA signature (9E) is answered 1.6 s late, after the 1 s timeout
start_modem --modem-faults late --modem-fault-ins 87 --modem-late-ms 1600
: >"$KW_TMP/modem.trace"
signloop "$KW_TMP/late.out" --id 04 --count 9
stop_modem || kw_fail "keyward-vcard --modem failed (late)"
kw_grep '^round 1: sign CKR_DEVICE_ERROR' "$KW_TMP/late.out" "the late signature fails"
n=$(grep -c '^round [2-9]: sign CKR_OK verified' "$KW_TMP/late.out")
[ "$n" = 8 ] || { cat "$KW_TMP/late.out" >&2; kw_fail "after a late reply: $n of 8 signatures verified"; }
kw_grep 'resynchronised' "$KW_TMP/late.out.err" "resync message"
[ "$(grep -c '^> 0.87' "$KW_TMP/modem.trace")" = 9 ] ||
	kw_fail "GENERAL AUTHENTICATE ran $(grep -c '^> 0.87' "$KW_TMP/modem.trace") times for 9 signatures"
r2=$(sed -n 's/^round 2: .* \([0-9]*\) ms$/\1/p' "$KW_TMP/late.out")
r9=$(sed -n 's/^round 9: .* \([0-9]*\) ms$/\1/p' "$KW_TMP/late.out")
kw_pass "late +CGLA reply: 1 failure, then 8 of 8 signatures verify (first after it ${r2} ms, steady ${r9} ms)"

# garbage instead of the reply to the 2nd link of an RSA-2048 signature (9A:
# 266 bytes of data, two short APDUs: the first link is on the card)
start_modem --modem-faults garbage --modem-fault-ins 87 --modem-fault-at 2
: >"$KW_TMP/modem.trace"
signloop "$KW_TMP/chain.out" --id 01 --count 3
stop_modem || kw_fail "keyward-vcard --modem failed (chain)"
kw_grep '^round 1: sign CKR_DEVICE_ERROR' "$KW_TMP/chain.out" "the broken chain fails"
n=$(grep -c '^round [2-3]: sign CKR_OK verified' "$KW_TMP/chain.out")
[ "$n" = 2 ] || { cat "$KW_TMP/chain.out" >&2; kw_fail "after a broken chain: $n of 2 signatures verified"; }
kw_not_grep '^<.*6A80$' "$KW_TMP/modem.trace" "card answers"
kw_pass "garbage inside a chained command: the chain is ended (SELECT), the next signatures verify"
unset KEYWARD_MODEM_TIMEOUT_MS

# --- keyward-testenv's modem tokens (same state, quirks through testenv) -------
sim_testenv 200 testenv-modem -- --token-kind modem --modem-quirks no-cgla,urc || exit $?
kw_pass "keyward-testenv --token-kind modem --modem-quirks: listed, signs"
