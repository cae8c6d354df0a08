#!/bin/sh
# keyward-testenv --token-kind ble: a private dbus-daemon per run, the vcard
# in BLE mode (keyward-vcard --ble) owning org.bluez on it, KEYWARD_BLE_BUS /
# KEYWARD_TESTENV_BLE_0 / KEYWARD_TESTENV_URI_0 for COMMAND; keyward-pkcs11
# lists, generates and signs over BLE; faults set at start (--ble-faults) and
# at run time on $KEYWARD_BLE_BUS; the token's state survives a restart
# (--state-dir). Also keyward-vcard's --ble command line.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need pkcs11-tool busctl dbus-daemon openssl timeout
VCARD=$KW_TOP_BUILDDIR/tools/vcard/keyward-vcard
MOD=$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so
kw_need_file "$VCARD" "$MOD"

PRELOAD=
if nm -D "$MOD" 2>/dev/null | grep -q ' __asan_init'; then
	PRELOAD=$(ldd "$MOD" | awk '/libasan/ { print $3; exit }')
fi
p11() { # bounded
	if [ -n "$PRELOAD" ]; then
		timeout -k 5 60 env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
			pkcs11-tool --module "$MOD" "$@"
	else
		timeout -k 5 60 pkcs11-tool --module "$MOD" "$@"
	fi
}

case ${TB_PHASE:-} in
first)
	export XDG_CACHE_HOME=$KEYWARD_TESTENV_DIR/cache
	[ "$KEYWARD_TESTENV_KIND_0" = ble ] || kw_fail "kind $KEYWARD_TESTENV_KIND_0"
	[ "$KEYWARD_TESTENV_URI_0" = "ble:$KEYWARD_TESTENV_BLE_0" ] || kw_fail "URI $KEYWARD_TESTENV_URI_0"
	[ -z "${KEYWARD_TESTENV_READER_0:-}" ] || kw_fail "a BLE token has no reader"
	case $KEYWARD_BLE_BUS in unix:path="$KEYWARD_TESTENV_DIR"/*) ;;
	*) kw_fail "KEYWARD_BLE_BUS=$KEYWARD_BLE_BUS" ;; esac
	busctl --address="$KEYWARD_BLE_BUS" call org.bluez /org/keyward/vcardble \
		org.keyward.VcardBle1 GetStats >/dev/null || kw_fail "no vcard on the run's bus"
	kw_run p11 -L
	kw_grep "serial num *: 10000001" "$KW_OUT" "slot list"
	kw_grep "$KEYWARD_TESTENV_BLE_0" "$KW_OUT" "slot list"
	kw_run p11 --token-label "keyward PIV #10000001" --login --pin 123456 --keypairgen \
		--key-type EC:prime256v1 --id 01
	printf 'over BLE\n' >"$KW_TMP/msg"
	kw_run p11 --token-label "keyward PIV #10000001" --login --pin 123456 --sign \
		--mechanism ECDSA-SHA256 --id 01 -i "$KW_TMP/msg" -o "$KW_TMP/sig"
	# --ble-faults mtu=23 reached the token: 20-byte frames
	kw_run timeout 30 "$KW_TOP_BUILDDIR/tests/integration/kw-ble-probe" "$KEYWARD_TESTENV_URI_0" \
		--count 1 --sign 9a --pin 123456 --stats
	kw_grep '"frag": 20' "$KW_OUT" "kw-ble-probe --stats"
	# a fault at run time on the run's bus: the token is unbonded, not listed
	busctl --address="$KEYWARD_BLE_BUS" call org.bluez /org/keyward/vcardble \
		org.keyward.VcardBle1 SetFaults s not-bonded || kw_fail "SetFaults"
	kw_run p11 -L
	kw_not_grep "serial num *: 10000001" "$KW_OUT" "slot list of an unbonded token"
	busctl --address="$KEYWARD_BLE_BUS" call org.bluez /org/keyward/vcardble \
		org.keyward.VcardBle1 SetFaults s none || kw_fail "SetFaults none"
	[ "$(kw_apdus 0)" -gt 0 ] || kw_fail "no APDUs in the token's trace"
	exit 0
	;;
second)
	export XDG_CACHE_HOME=$KEYWARD_TESTENV_DIR/cache
	kw_run p11 --token-label "keyward PIV #10000001" -O --type pubkey
	kw_grep "ID: *01" "$KW_OUT" "the key generated in the first run"
	exit 0
	;;
esac

# --- the command line ---
kw_run "$VCARD" --help
kw_grep '^ +--ble ' "$KW_OUT" "keyward-vcard --help"
kw_run "$KW_TOP_BUILDDIR/tools/vcard/ble/keyward-vcard-ble" --help
kw_grep 'keyward-vcard-ble is keyward-vcard --ble' "$KW_OUT" "keyward-vcard-ble --help"
kw_run_fail "$VCARD" --state "$KW_TMP/x.state" --ble --vpcd 127.0.0.1:1
kw_grep 'ble does not go with' "$KW_OUT" "--ble --vpcd"
kw_run_fail "$VCARD" --state "$KW_TMP/x.state" --mtu 100
kw_grep 'need --ble' "$KW_OUT" "--mtu without --ble"
kw_run_fail "$VCARD" --state "$KW_TMP/x.state" --ble --address nope
kw_grep 'AA:BB:CC:DD:EE:FF' "$KW_OUT" "--address"
kw_run_fail "$VCARD" --state "$KW_TMP/x.state" --ble --faults bogus
kw_grep "bad fault 'bogus'" "$KW_OUT" "--faults"
[ ! -e "$KW_TMP/x.state" ] || kw_fail "a usage error created the state"

# --- testenv ---
[ -x "$KW_TESTENV" ] || kw_fail "$KW_TESTENV not built"
if [ "$(id -u)" != 0 ] && ! unshare -U -r -m -n true 2>/dev/null; then
	kw_skip "needs root or user namespaces for keyward-testenv"
fi
unset KEYWARD_VCARD KEYWARD_BLE_BUS
mkdir -p "$KW_TMP/st"
tb() { # PHASE TESTENV-OPTIONS...
	tb_p=$1
	shift
	kw_log "keyward-testenv run $* ($tb_p)"
	TB_PHASE=$tb_p timeout -k 10 120 "$KW_TESTENV" run --timeout 110 --state-dir "$KW_TMP/st" \
		"$@" -- /bin/sh "$kw_self"
	tb_st=$?
	[ "$tb_st" = 125 ] && kw_skip "keyward-testenv cannot run here"
	[ "$tb_st" = 0 ] || kw_fail "keyward-testenv ($tb_p): exit status $tb_st"
}
tb first --token-kind ble --ble-faults mtu=23
kw_pass "testenv ble token: listed, generates and signs through keyward-pkcs11; faults"
tb second --token-kind ble
kw_pass "testenv ble token: state kept across runs"
[ ! -e "$KW_TMP/st/dbus.sock" ] || kw_fail "the run's bus socket was left behind"
# one ble token per run (one org.bluez per bus)
timeout 30 "$KW_TESTENV" run --tokens 2 --token-kind ble -- true 2>"$KW_OUT" &&
	kw_fail "two ble tokens accepted"
kw_grep 'at most one ble token' "$KW_OUT" "two ble tokens"
kw_pass "keyward-vcard --ble command line; one ble token per run"
