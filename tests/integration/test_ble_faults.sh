#!/bin/sh
# BLE faults (keyward-vcard-ble --faults / SetFaults at run time): each ends
# in a clear error within a bounded time, and the next operation after a
# reconnect succeeds. Through kw-ble-probe (the transport + PIV client) and
# through keyward-pkcs11 with pkcs11-tool.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
. "$KW_SRC/ble_lib.sh"
kw_need pkcs11-tool

kwb_setup --mtu 23
KEYWARD_LOG=error
KEYWARD_BLE_TIMEOUT_MS=1000
export KEYWARD_LOG KEYWARD_BLE_TIMEOUT_MS

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# probe_expect MAX_MS ERE ARGS...: the probe's output matches ERE, within MAX_MS
probe_expect() {
	pe_max=$1 pe_re=$2
	shift 2
	pe_t0=$(now_ms)
	timeout 30 "$KWB_PROBE" "$@" >"$KW_OUT" 2>&1
	pe_ms=$(($(now_ms) - pe_t0))
	kw_grep "$pe_re" "$KW_OUT" "kw-ble-probe $*"
	[ "$pe_ms" -le "$pe_max" ] || { cat "$KW_OUT" >&2; kw_fail "took $pe_ms ms (> $pe_max)"; }
}
ok_again() { # after clearing the faults, an operation works (reconnecting if needed)
	kwb_ctl SetFaults s none
	probe_expect 3000 '^op 1 ok' "$KWB_URI" --count 1
}

# P-256 key in 9A for the signing probes (management key default)
kw_run kwb_p11 --token-label "$KWB_LABEL" --login --pin 123456 \
	--keypairgen --key-type EC:prime256v1 --id 01
probe_expect 3000 '^op 2 ok' "$KWB_URI" --count 2 --sign 9a
KEYWARD_BLE_WRITE=command probe_expect 3000 '^op 2 ok' "$KWB_URI" --count 2 --sign 9a
kw_pass "baseline: sign over BLE (writes with and without response)"

# --- refusals at open ---
kwb_ctl SetFaults s not-bonded
"$KWB_PROBE" --list >"$KW_OUT" 2>&1
kw_not_grep "^ble:" "$KW_OUT" "list of an unbonded device"
probe_expect 2000 'not bonded' "$KWB_URI"
kw_grep 'open error: security status not satisfied' "$KW_OUT"
ok_again
kw_pass "unbonded device refused with a clear error"

kwb_ctl SetFaults s adapter-off
probe_expect 2000 'adapter /org/bluez/hci0 is powered off' "$KWB_URI"
ok_again
kw_pass "adapter off: clear error"

kwb_ctl SetFaults s no-service
kwb_ctl Disconnect
probe_expect 2000 'offers no keyward service' "$KWB_URI"
ok_again
kw_pass "service missing: clear error"

kwb_ctl Disconnect
kwb_ctl SetFaults s connect-fail
probe_expect 2000 'cannot connect to C0:FF:EE:00:00:01' "$KWB_URI"
kw_grep 'open error: no card present' "$KW_OUT"
ok_again
kw_pass "unreachable device: clear error"

# --- faults during exchanges ---
kwb_ctl SetFaults s disconnect-after=3
probe_expect 3000 '^op 2 ok' "$KWB_URI" --count 2 --sign 9a --reopen
kw_grep '^op 1 error: card removed' "$KW_OUT"
kw_pass "disconnect mid-exchange: card removed, reconnect works"

kwb_ctl SetFaults s drop-notify=2
probe_expect 2500 '^op 2 ok' "$KWB_URI" --count 2 --sign 9a
kw_grep '^op 1 error: (protocol error|timed out)' "$KW_OUT"
kw_pass "dropped notification: clear error, next operation works"

# the last frame of an answer lost: only the idle bound can tell. The last
# notification of SELECT + GET VERSION is GET VERSION's one-frame answer.
"$KWB_PROBE" "$KWB_URI" --count 1 --stats >"$KW_OUT" 2>&1
last=$(sed -n 's/.*"frames_in": \([0-9]*\).*/\1/p' "$KW_OUT")
[ -n "$last" ] || kw_fail "no frame count from kw-ble-probe"
kwb_ctl SetFaults s "drop-notify=$last"
probe_expect 2500 '^op 2 ok' "$KWB_URI" --count 2
kw_grep '^op 1 error: timed out' "$KW_OUT"
kw_grep 'no answer within 1000 ms' "$KW_OUT"
kw_pass "lost single-frame answer: timeout within the bound"

kwb_ctl SetFaults s delay=1500,keepalive=300
probe_expect 9000 '^op 1 ok' "$KWB_URI" --count 1 --stats
kw_grep '"keepalives": [1-9]' "$KW_OUT" "keepalive count"
kw_pass "slow token with KEEPALIVEs: waited beyond the idle bound"

kwb_ctl SetFaults s delay=3000,keepalive=2500
probe_expect 2500 '^op 1 error: timed out' "$KWB_URI" --count 1
sleep 0.3
kw_grep 'cancelled by the client' "$KW_TMP/vcard.log" "vcard log (CANCEL)"
ok_again
kw_pass "KEEPALIVEs too slow: timeout, CANCEL sent, next operation works"

# a token that ignores CANCEL answers late: the next exchange must not take
# that answer for its own (the client resynchronises with a PING first)
kwb_ctl SetFaults s delay=1600,keepalive=0,ignore-cancel
t0=$(now_ms)
"$KWB_PROBE" "$KWB_URI" --count 2 >"$KW_OUT" 2>&1 &
late_pid=$!
sleep 0.3
kwb_ctl SetFaults s delay=0    # the pending APDU keeps its 1.6 s delay
wait $late_pid
[ $(($(now_ms) - t0)) -lt 6000 ] || kw_fail "late-answer case took too long"
kw_grep '^op 1 error: timed out' "$KW_OUT"
kw_grep '^op 2 ok' "$KW_OUT"
kw_grep 'ignoring CANCEL' "$KW_TMP/vcard.log" "vcard log"
kwb_ctl SetFaults s none
kw_pass "late answer after an ignored CANCEL is discarded (PING resync)"

kwb_ctl SetFaults s mtu=512
kwb_ctl Disconnect
probe_expect 3000 '"frag": 509' "$KWB_URI" --count 1 --sign 9a --stats
kwb_ctl SetFaults s mtu=23
kwb_ctl Disconnect
probe_expect 3000 '"frag": 20' "$KWB_URI" --count 1 --sign 9a --stats
kw_pass "MTU change on reconnect: control-point length follows"

# --- through the PKCS#11 module ---
printf 'fault test\n' >"$KW_TMP/msg"
p11sign() {
	kwb_p11 --token-label "$KWB_LABEL" --login \
		--pin 123456 --sign --mechanism ECDSA-SHA256 --id 01 -i "$KW_TMP/msg" \
		-o "$KW_TMP/sig" >"$KW_OUT" 2>&1
}
p11sign || kw_fail "pkcs11-tool sign"
# the token goes away when GENERAL AUTHENTICATE (the signature) arrives
kwb_ctl SetFaults s disconnect-on-ins=87
t0=$(now_ms)
if p11sign; then kw_fail "sign succeeded through a disconnect"; fi
kw_grep 'disconnecting on INS 87' "$KW_TMP/vcard.log" "vcard log"
[ $(($(now_ms) - t0)) -lt 5000 ] || kw_fail "the failing sign took too long"
# a lost link is a removal even when the token is back at once (BLE
# reconnects within the call): the operation and its session are gone
kw_grep 'CKR_DEVICE_REMOVED|CKR_SESSION_HANDLE_INVALID|CKR_TOKEN_NOT_PRESENT|CKR_SESSION_CLOSED' \
	"$KW_OUT" "pkcs11-tool after a disconnect"
p11sign || { cat "$KW_OUT" >&2; kw_fail "sign after reconnect"; }
kw_pass "module: disconnect during a signature is a removal; the next signature works"

kwb_ctl SetFaults s none
kwb_ctl Disconnect
p11sign || { cat "$KW_OUT" >&2; kw_fail "sign after a device-side disconnect"; }
kw_pass "module reconnects after a device-side disconnect"
