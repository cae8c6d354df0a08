#!/bin/sh
# Other people's clients through the SIM paths: the interop suite's
# openssl-cms.sh (OpenSSL 3 + libp11 engine, S/MIME sign/decrypt) and
# p11test.sh (OpenSC's p11test, 0 failures), run unchanged with --inside and
# environment overrides on a token provisioned by tests/interop/provision.sh:
# first as a UICC on vpcd (KEYWARD_UICC_READERS), then behind the pty modem
# (KEYWARD_MODEM_PORTS), through every quirk profile of the modem: plain
# +CGLA, bare +CCHO replies, no +CGLA (+CSIM with keyward's own MANAGE
# CHANNEL), URCs inside replies, slow trickled replies, and all of them at
# once. Each step's time is logged (p11test is the long one).
# The SIM offers 3 logical channels, as many real ones: every client process
# must give its channel back, even libp11's engine, which never calls
# C_Finalize; afterwards none is left open.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool pkcs11-tool openssl python3
. "$KW_SRC/test_sim_lib.sh"
kw_need_file "$SIM_MOD" "$SIM_VCARD"
P11TEST=$(sh "$KW_TOP_SRCDIR/tests/interop/build-p11test.sh" 2>/dev/null) && [ -x "$P11TEST" ] ||
	kw_skip "p11test cannot be built here (tests/interop/build-p11test.sh)"
engine=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n1)
[ -n "$engine" ] || kw_skip "libp11's engine (libengine-pkcs11-openssl) not installed"

interop() { sim_interop "$@"; }

case ${SIM_PHASE:-} in
provision)
	sim_provision_fixture
	exit 0
	;;
uicc)
	export KEYWARD_CONF=/nonexistent   # KEYWARD_UICC_READERS: from keyward-testenv
	interop openssl-cms UICC
	interop p11test UICC
	sim_no_channels "$(kw_reader 0)" 3
	exit 0
	;;
esac

SIM_STATE=$KW_TMP/state
mkdir -p "$SIM_STATE" || kw_fail "mkdir $SIM_STATE"
sim_testenv 250 provision || exit $?
sim_vcard_wrapper "$KW_TMP/vcard-uicc" --uicc-channels 3
sim_testenv 600 uicc KEYWARD_VCARD="$KW_TMP/vcard-uicc" -- --token-kind uicc || exit $?

# The modem: no pcscd here; the interop scripts' "inside" is the state dir.
LINK=$KW_TMP/modem
vcard_pid=
trap '[ -n "$vcard_pid" ] && kill "$vcard_pid" 2>/dev/null; rm -rf "$KW_TMP"' EXIT
trap 'exit 1' HUP INT TERM PIPE
export KEYWARD_CONF=/nonexistent KEYWARD_MODEM_PORTS="$LINK" KEYWARD_LOCK_DIR="$KW_TMP"
export KEYWARD_TESTENV_DIR="$SIM_STATE"
for q in none bare-ccho no-cgla urc slow bare-ccho,no-cgla,urc,slow; do
	set -- --state "$SIM_STATE/token-0.state" --modem "$LINK" --trace "$KW_TMP/modem.trace" \
		--uicc-channels 3
	[ "$q" = none ] || set -- "$@" --modem-quirks "$q"
	"$SIM_VCARD" "$@" >"$KW_TMP/vcard.log" 2>&1 &
	vcard_pid=$!
	n=0
	while [ ! -e "$LINK" ] && [ "$n" -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	[ -e "$LINK" ] || { cat "$KW_TMP/vcard.log" >&2; kw_fail "the modem ($q) did not start"; }
	interop openssl-cms "modem ($q)"
	interop p11test "modem ($q)"
	kill "$vcard_pid"
	wait "$vcard_pid" || kw_fail "keyward-vcard --modem ($q) exited with an error"
	vcard_pid=
	# every session opened behind the modem was closed (clients that never
	# call C_Finalize included: the transport closes it at exit)
	o=$(grep -c '^> 0070000001$' "$KW_TMP/modem.trace")
	c=$(grep -c '^> 007080' "$KW_TMP/modem.trace")
	[ "$o" -gt 0 ] && [ "$o" = "$c" ] || kw_fail "modem ($q): $o channels opened, $c closed"
	: >"$KW_TMP/modem.trace"
done
