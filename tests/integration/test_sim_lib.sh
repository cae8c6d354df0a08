# tests/integration/test_sim_lib.sh: shared by the SIM-card tests
# (test_sim_uicc.sh, test_sim_modem.sh); sourced after lib.sh, pki.sh and
# provision.sh. Not a test itself.
#
#   sim_testenv SECS PHASE [VAR=VALUE...] [-- TESTENV-OPTIONS...]
#                     run this script inside keyward-testenv (state kept in
#                     $SIM_STATE) with SIM_PHASE=PHASE, the extra environment
#                     (values without spaces) and options such as
#                     --token-kind uicc; skip (77) when testenv cannot run here
#   sim_vcard_wrapper FILE ARGS...
#                     a keyward-vcard wrapper adding ARGS (KEYWARD_VCARD=FILE
#                     makes keyward-testenv start UICC tokens)
#   p11 ARGS / p11pin ARGS
#                     pkcs11-tool with keyward-pkcs11 (kw_run); p11pin logs in
#   sim_objects       the provisioned keys and certificates are listed
#   sim_no_channels READER [N]
#                     no logical channel is open on the UICC in READER (all
#                     N (19) can be opened, then they are closed again)
#   sim_sign DIR      RSA (9A) and ECDSA (9E) signatures, RSA (9D) decryption,
#                     checked with openssl against DIR/pub*.pem
#   sim_interop SCRIPT WHAT
#                     run tests/interop/SCRIPT.sh --inside the current
#                     environment (token provisioned by sim_provision_fixture)
#   sim_provision_fixture
#                     tests/interop/provision.sh's token and fixture in
#                     $KEYWARD_TESTENV_DIR/fixture (a plain PC/SC token)

SIM_MOD=${KEYWARD_P11_MODULE:-$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so}
SIM_PROBE=$KW_TOP_BUILDDIR/drivers/uicc/kw-sim-probe
SIM_VCARD=${KEYWARD_VCARD:-$KW_TOP_BUILDDIR/tools/vcard/keyward-vcard}

sim_testenv() { # SECS PHASE [VAR=VALUE...] [-- TESTENV-OPTIONS...]
	sim_secs=$1
	sim_phase=$2
	shift 2
	sim_envs=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sim_envs="$sim_envs $1"
		shift
	done
	[ $# -gt 0 ] && shift
	[ -x "$KW_TESTENV" ] || kw_fail "$KW_TESTENV not built"
	if [ "$(id -u)" != 0 ] && ! unshare -U -r -m -n true 2>/dev/null; then
		kw_skip "needs root or user namespaces for keyward-testenv"
	fi
	kw_log "keyward-testenv run $* ($sim_phase)"
	# shellcheck disable=SC2086
	env SIM_PHASE="$sim_phase" SIM_STATE="$SIM_STATE" $sim_envs \
		timeout -k 10 "$sim_secs" "$KW_TESTENV" run --timeout "$((sim_secs - 5))" \
		--state-dir "$SIM_STATE" "$@" -- /bin/sh "$kw_self"
	sim_st=$?
	[ "$sim_st" = 125 ] && kw_skip "keyward-testenv cannot run here (pcscd/vpcd/namespaces)"
	return "$sim_st"
}

sim_vcard_wrapper() {
	sim_w=$1
	shift
	{
		echo '#!/bin/sh'
		printf 'exec "%s"' "$SIM_VCARD"
		for sim_a in "$@"; do printf ' "%s"' "$sim_a"; done
		echo ' "$@"'
	} >"$sim_w"
	chmod +x "$sim_w"
}

# An ASan build of the module needs the ASan runtime preloaded into the
# (uninstrumented) client.
SIM_PRELOAD=
if nm -D "$SIM_MOD" 2>/dev/null | grep -q ' __asan_init'; then
	SIM_PRELOAD=$(ldd "$SIM_MOD" | awk '/libasan/ { print $3; exit }')
fi
sim_tool() {
	if [ -n "$SIM_PRELOAD" ]; then
		LD_PRELOAD=$SIM_PRELOAD ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 pkcs11-tool "$@"
	else
		pkcs11-tool "$@"
	fi
}
p11() { kw_run sim_tool --module "$SIM_MOD" "$@"; }
p11pin() { p11 --login --pin 123456 "$@"; }

sim_objects() {
	p11pin -O
	for sim_id in 01 02 03 04 05; do
		kw_grep "ID: *$sim_id" "$KW_OUT" "object $sim_id"
	done
	kw_grep '^Certificate Object' "$KW_OUT" "certificates"
	kw_grep '^Private Key Object; RSA' "$KW_OUT" "RSA private keys"
	kw_grep '^Private Key Object; EC' "$KW_OUT" "EC private keys"
}

sim_sign() {
	head -c 1000 /dev/urandom >"$KW_TMP/data.bin"
	p11pin --sign --id 01 -m SHA256-RSA-PKCS -i "$KW_TMP/data.bin" -o "$KW_TMP/sig-9a"
	kw_run openssl dgst -sha256 -verify "$1/pub9a.pem" -signature "$KW_TMP/sig-9a" \
		"$KW_TMP/data.bin"
	kw_grep '^Verified OK$' "$KW_OUT" "RSA signature of 9a"
	p11pin --sign --id 04 -m ECDSA-SHA256 --signature-format openssl \
		-i "$KW_TMP/data.bin" -o "$KW_TMP/sig-9e"
	kw_run openssl dgst -sha256 -verify "$1/pub9e.pem" -signature "$KW_TMP/sig-9e" \
		"$KW_TMP/data.bin"
	kw_grep '^Verified OK$' "$KW_OUT" "ECDSA signature of 9e"
	head -c 32 /dev/urandom >"$KW_TMP/secret.bin"
	kw_run openssl pkeyutl -encrypt -pubin -inkey "$1/pub9d.pem" -in "$KW_TMP/secret.bin" \
		-out "$KW_TMP/enc.bin"
	p11pin --decrypt --id 03 -m RSA-PKCS -i "$KW_TMP/enc.bin" -o "$KW_TMP/dec.bin"
	cmp -s "$KW_TMP/secret.bin" "$KW_TMP/dec.bin" || kw_fail "RSA decryption with 9d"
}

sim_no_channels() { # READER [N]
	sim_open= sim_close= sim_i=1
	while [ "$sim_i" -le "${2:-19}" ]; do
		sim_open="$sim_open 0070000001"
		sim_close="$sim_close $(printf '007080%02X' "$sim_i")"
		sim_i=$((sim_i + 1))
	done
	# shellcheck disable=SC2086
	kw_run "$SIM_PROBE" --uri "pcsc:$1" $sim_open $sim_close
	[ "$(grep -c '9000$' "$KW_OUT")" = $((2 * ${2:-19})) ] ||
		kw_fail "logical channels were left open"
}

sim_interop() { # SCRIPT WHAT
	kw_log "interop $1 ($2)"
	sim_t0=$(date +%s)
	KWI_PROVISION=0 KWI_TIMEOUT=280 sh "$KW_TOP_SRCDIR/tests/interop/$1.sh" --inside \
		>"$KW_TMP/$1.log" 2>&1 || {
		sed 's/^/    | /' "$KW_TMP/$1.log" | tail -n 40 >&2
		kw_fail "tests/interop/$1.sh through $2"
	}
	kw_pass "tests/interop/$1.sh through $2 ($(($(date +%s) - sim_t0)) s)"
}

sim_provision_fixture() {
	kwi_name=$kw_name
	. "$KW_TOP_SRCDIR/tests/interop/lib.sh"
	. "$KW_TOP_SRCDIR/tests/interop/provision.sh"
	kwp_provision "$KEYWARD_TESTENV_DIR/fixture" || kw_fail "provisioning"
}
