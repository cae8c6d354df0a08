# tests/integration/ble_lib.sh: a private D-Bus bus with keyward-vcard-ble as
# "BlueZ" for the BLE tests (sourced after lib.sh and kw_init).
#
#   kwb_setup [VCARD-OPTS...]  private dbus-daemon ($KWB_BUS, exported as
#                              KEYWARD_BLE_BUS) + kwb_start_vcard; cleanup on exit
#   kwb_start_vcard [OPTS...]  keyward-vcard-ble --state $KW_TMP/ble.state
#                              --address $KWB_ADDR --serial $KWB_SERIAL OPTS,
#                              waits (5 s at most) for org.bluez on the bus
#   kwb_stop_vcard             SIGTERM it and wait (state saved)
#   kwb_ctl METHOD [SIG ARGS]  call org.keyward.VcardBle1 (SetFaults s LIST, ...)
#   kwb_p11 ARGS...            pkcs11-tool --module $KWB_MODULE ARGS (ASan aware)
#   kwb_lockfile               the token's lock file (drivers/ble: per device and bus)
#   $KWB_URI, $KWB_PROBE, $KWB_MODULE, $KWB_LABEL (the token label)

KWB_ADDR=C0:FF:EE:00:00:01
KWB_SERIAL=4242
KWB_URI=ble:$KWB_ADDR
KWB_LABEL="keyward PIV #$KWB_SERIAL"
KWB_PROBE=$KW_TOP_BUILDDIR/tests/integration/kw-ble-probe
KWB_VCARD=$KW_TOP_BUILDDIR/tools/vcard/ble/keyward-vcard-ble
KWB_MODULE=$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so
KWB_VC_PID=
KWB_BUS_PID=

kwb_cleanup() {
	[ -n "$KWB_VC_PID" ] && kill "$KWB_VC_PID" 2>/dev/null && wait "$KWB_VC_PID" 2>/dev/null
	[ -n "$KWB_BUS_PID" ] && kill "$KWB_BUS_PID" 2>/dev/null
	[ -n "${KEYWARD_TESTENV_DIR:-}" ] || rm -rf "$KW_TMP"
}

kwb_setup() {
	kw_need dbus-daemon busctl
	kw_need_file "$KWB_VCARD" "$KWB_PROBE"
	trap kwb_cleanup EXIT
	trap 'exit 1' INT TERM HUP PIPE
	dbus-daemon --session --fork --nopidfile --print-address=1 --print-pid=1 \
		>"$KW_TMP/bus.txt" 2>"$KW_TMP/bus.err" || kw_fail "dbus-daemon: $(cat "$KW_TMP/bus.err")"
	KWB_BUS=$(sed -n 1p "$KW_TMP/bus.txt")
	KWB_BUS_PID=$(sed -n 2p "$KW_TMP/bus.txt")
	[ -n "$KWB_BUS" ] && [ -n "$KWB_BUS_PID" ] || kw_fail "no bus address from dbus-daemon"
	KEYWARD_BLE_BUS=$KWB_BUS
	# a hermetic module: no stray pcscd readers, no cache from elsewhere,
	# the token's cross-process lock file in our own directory
	XDG_CACHE_HOME=$KW_TMP/cache
	KEYWARD_LOCK_DIR=$KW_TMP/lock
	mkdir -p "$KEYWARD_LOCK_DIR"
	export KEYWARD_BLE_BUS XDG_CACHE_HOME KEYWARD_LOCK_DIR
	kwb_start_vcard "$@"
}

kwb_start_vcard() {
	KEYWARD_LOG=info "$KWB_VCARD" --state "$KW_TMP/ble.state" --bus "$KWB_BUS" \
		--address "$KWB_ADDR" --serial "$KWB_SERIAL" "$@" >>"$KW_TMP/vcard.log" 2>&1 &
	KWB_VC_PID=$!
	kwb_i=0
	until busctl --address="$KWB_BUS" status org.bluez >/dev/null 2>&1; do
		kwb_i=$((kwb_i + 1))
		if [ "$kwb_i" -gt 50 ] || ! kill -0 "$KWB_VC_PID" 2>/dev/null; then
			cat "$KW_TMP/vcard.log" >&2
			kw_fail "keyward-vcard-ble did not come up"
		fi
		sleep 0.1
	done
}

kwb_stop_vcard() {
	kill "$KWB_VC_PID" 2>/dev/null
	wait "$KWB_VC_PID" 2>/dev/null
	KWB_VC_PID=
}

kwb_lockfile() { # the server GUID of the bus (sd_bus_get_bus_id) names it
	kwb_id=$(echo "$KWB_BUS" | sed -n 's/.*guid=\([0-9a-f]\{12\}\).*/\1/p')
	[ -n "$kwb_id" ] || kw_fail "no guid in the bus address $KWB_BUS"
	echo "$KEYWARD_LOCK_DIR/keyward-ble-$(echo "$KWB_ADDR" | tr : _)-$kwb_id"
}

kwb_ctl() {
	busctl --address="$KWB_BUS" call org.bluez /org/keyward/vcardble \
		org.keyward.VcardBle1 "$@" || kw_fail "vcard-ble control: $*"
}

# pkcs11-tool with the module under test (an ASan build needs libasan first)
KWB_PRELOAD=
if nm -D "$KWB_MODULE" 2>/dev/null | grep -q ' __asan_init'; then
	KWB_PRELOAD=$(ldd "$KWB_MODULE" | awk '/libasan/ { print $3; exit }')
	[ -f "$KWB_PRELOAD" ] || kw_fail "ASan module but no libasan found"
fi
kwb_p11() { # bounded: 60 s per call
	if [ -n "$KWB_PRELOAD" ]; then
		timeout -k 5 60 env LD_PRELOAD="$KWB_PRELOAD" \
			ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
			pkcs11-tool --module "$KWB_MODULE" "$@"
	else
		timeout -k 5 60 pkcs11-tool --module "$KWB_MODULE" "$@"
	fi
}
