#!/bin/sh
# Two tokens at once (issue 3: "several tokens are told apart by serial"):
# both provisioned with different keys; pkcs11-tool -L shows two tokens with
# distinct labels and serial numbers equal to the tokens' own (YubiKey GET
# SERIAL); a key chosen by an RFC 7512 URI with serial= signs on the right
# token (libp11 engine; verified against that token's 9A public key).
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
KWI_TOKENS=2
export KWI_TOKENS
kwi_init "$0" "$@"

FIX1=$KEYWARD_TESTENV_DIR/fixture-1
KWP_READER=$KEYWARD_TESTENV_READER_1 kwp_provision "$FIX1" || kwi_fail "provisioning token 1 failed"

kwi_run slots.log pkcs11-tool --module "$MODULE" -L
# reader<TAB>label<TAB>serial, one line per token
awk '/^Slot [0-9]+/ { sub(/^Slot [0-9]+ \([^)]*\): */, ""); r = $0; l = ""; next }
	/token label *:/ { l = $0; sub(/.*token label *: */, "", l) }
	/serial num *:/ { s = $0; sub(/.*serial num *: */, "", s); print r "\t" l "\t" s }' slots.log >tokens.tsv
[ "$(wc -l <tokens.tsv)" -eq 2 ] || { cat slots.log >&2; kwi_fail "expected 2 tokens, pkcs11-tool -L shows $(wc -l <tokens.tsv)"; }
[ "$(cut -f3 tokens.tsv | sort -u | wc -l)" -eq 2 ] || { cat tokens.tsv >&2; kwi_fail "the two tokens have the same serial number"; }
# Reference modules only: OpenSC names PIV tokens after the 9A certificate and
# takes the serial from the CHUID, not the YubiKey serial.
if [ "$KWI_FLAVOUR" != opensc ]; then
	[ "$(cut -f2 tokens.tsv | sort -u | wc -l)" -eq 2 ] || { cat tokens.tsv >&2; kwi_fail "the two tokens have the same label"; }
	for i in 0 1; do
		eval "reader=\$KEYWARD_TESTENV_READER_$i serial=\$KEYWARD_TESTENV_SERIAL_$i"
		awk -F '\t' -v r="$reader" -v s="$serial" '$1 == r && $3 == s { f = 1 } END { exit !f }' tokens.tsv ||
			{ cat tokens.tsv >&2; kwi_fail "token $i ($reader) does not carry its serial $serial"; }
	done
fi
kwi_pass "two tokens with distinct labels and serials"

engine=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n1)
printf 'openssl_conf = oi\n[oi]\nengines = es\n[es]\npkcs11 = ps\n[ps]\nengine_id = pkcs11\ndynamic_path = %s\nMODULE_PATH = %s\ninit = 0\n' \
	"$engine" "$MODULE" >openssl.cnf
printf 'which token %s\n' "$(date +%s%N)" >msg.txt
for i in 0 1; do
	eval "reader=\$KEYWARD_TESTENV_READER_$i"
	serial=$(awk -F '\t' -v r="$reader" '$1 == r { print $3 }' tokens.tsv)
	fix=$FIX
	[ $i -eq 1 ] && fix=$FIX1
	OPENSSL_CONF=$PWD/openssl.cnf kwi_run "sign-$i.log" openssl dgst -sha256 -engine pkcs11 -keyform engine \
		-sign "pkcs11:serial=$serial;id=%01;type=private;pin-value=$KWI_PIN" -out "sig-$i.bin" msg.txt
	openssl dgst -sha256 -verify "$fix/slot-9a.pub" -signature "sig-$i.bin" msg.txt >"verify-$i.log" 2>&1 ||
		kwi_fail "pkcs11:serial=$serial (token $i) signed with another token's key"
done
kwi_pass "pkcs11:serial=... selects the right token for signing"
