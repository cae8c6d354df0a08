#!/bin/sh
# Other people's clients through keyward-pkcs11 over BLE, under
# keyward-testenv --token-kind ble (keyward-vcard --ble behind an emulated
# BlueZ on the run's private bus): the interop suite's openssl-cms.sh
# (OpenSSL 3 + libp11's engine: S/MIME sign and decrypt, verified) and
# p11test.sh (OpenSC's p11test, 0 failures, key cases pass) run unchanged
# with --inside on the token tests/interop/provision.sh provisioned (as a
# plain PC/SC token, then restarted as the BLE device: same state file).
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool pkcs11-tool openssl python3 dbus-daemon busctl
. "$KW_SRC/test_sim_lib.sh"
kw_need_file "$SIM_MOD" "$SIM_VCARD"
P11TEST=$(sh "$KW_TOP_SRCDIR/tests/interop/build-p11test.sh" 2>/dev/null) && [ -x "$P11TEST" ] ||
	kw_skip "p11test cannot be built here (tests/interop/build-p11test.sh)"
engine=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n1)
[ -n "$engine" ] || kw_skip "libp11's engine (libengine-pkcs11-openssl) not installed"

case ${SIM_PHASE:-} in
provision)
	sim_provision_fixture
	exit 0
	;;
ble)
	export KEYWARD_CONF=/nonexistent   # KEYWARD_BLE_BUS: from keyward-testenv
	[ "$KEYWARD_TESTENV_KIND_0" = ble ] || kw_fail "token 0 is $KEYWARD_TESTENV_KIND_0"
	sim_interop openssl-cms "BLE ($KEYWARD_TESTENV_URI_0)"
	sim_interop p11test "BLE ($KEYWARD_TESTENV_URI_0)"
	# the clients really went over BLE: frames counted by the token
	busctl --address="$KEYWARD_BLE_BUS" call org.bluez /org/keyward/vcardble \
		org.keyward.VcardBle1 GetStats >"$KW_OUT" || kw_fail "GetStats"
	awk '{ exit !($2 > 1000) }' "$KW_OUT" || kw_fail "few frames over BLE: $(cat "$KW_OUT")"
	exit 0
	;;
esac

SIM_STATE=$KW_TMP/state
mkdir -p "$SIM_STATE" || kw_fail "mkdir $SIM_STATE"
sim_testenv 250 provision || exit $?
sim_testenv 400 ble -- --token-kind ble --ble-faults mtu=185 || exit $?
kw_pass "openssl cms and p11test through keyward-pkcs11 over BLE"
