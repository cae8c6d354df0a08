#!/bin/sh
# Other people's clients through keyward-pkcs11 over BLE (keyward-vcard-ble
# behind an emulated BlueZ): the token is provisioned over BLE with
# pkcs11-tool (9A RSA-2048, 9C P-256, 9D RSA-2048 generated, certificates
# from a test CA), then OpenSSL 3 + libp11's engine sign (openssl cms -sign,
# verified) and decrypt (openssl cms -decrypt, 9D) through the module, and
# OpenSC's p11test (tests/interop/build-p11test.sh's cached build) reports
# no failed case.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
. "$KW_SRC/ble_lib.sh"
. "$KW_SRC/pki.sh"
kw_need pkcs11-tool openssl perl
kw_need_file "$KWB_MODULE"
engine=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n1)
[ -n "$engine" ] || kw_skip "libp11's engine (libengine-pkcs11-openssl) not installed"

kwb_setup --mtu 185
p11() { kwb_p11 --token-label "$KWB_LABEL" "$@"; }
kw_pki_ca "$KW_TMP"
gen() { # ID KEYTYPE SUBJECT
	kw_run p11 --login --pin 123456 --keypairgen --key-type "$2" --id "$1"
	if [ "$2" = rsa:2048 ]; then
		kw_run p11 --read-object --type pubkey --id "$1" -o "$KW_TMP/pub$1.der"
	else    # see test_ble_p11.sh: the EC point from the keypairgen output
		point=$(sed -n 's/^ *EC_POINT: *0441\(04[0-9a-f]\{128\}\)$/\1/p' "$KW_OUT" | head -n1)
		printf '%s%s' 3059301306072a8648ce3d020106082a8648ce3d030107034200 "$point" |
			perl -pe 's/([0-9a-f]{2})/chr hex $1/gie' >"$KW_TMP/pub$1.der"
	fi
	openssl pkey -pubin -inform DER -in "$KW_TMP/pub$1.der" -out "$KW_TMP/pub$1.pem" ||
		kw_fail "public key $1"
	kw_pki_cert "$KW_TMP/pub$1.pem" "$3" "$KW_TMP/cert$1.pem"
	openssl x509 -in "$KW_TMP/cert$1.pem" -outform DER -out "$KW_TMP/cert$1.der"
	kw_run p11 --login --pin 123456 --write-object "$KW_TMP/cert$1.der" --type cert --id "$1"
}
gen 01 rsa:2048 "/CN=keyward BLE 9A/emailAddress=ble-9a@keyward.test"
gen 02 EC:prime256v1 "/CN=keyward BLE 9C"
gen 03 rsa:2048 "/CN=keyward BLE 9D/emailAddress=ble-9d@keyward.test"
kw_pass "token provisioned over BLE"

# --- OpenSSL cms through libp11's engine ---
cat >"$KW_TMP/openssl.cnf" <<EOF2
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = $KWB_MODULE
init = 0
EOF2
eng() {
	if [ -n "$KWB_PRELOAD" ]; then
		timeout -k 5 60 env OPENSSL_CONF="$KW_TMP/openssl.cnf" LD_PRELOAD="$KWB_PRELOAD" \
			ASAN_OPTIONS=detect_leaks=0 "$@"
	else
		timeout -k 5 60 env OPENSSL_CONF="$KW_TMP/openssl.cnf" "$@"
	fi
}
key() { echo "pkcs11:token=$KWB_LABEL;id=%$1;type=private;pin-value=123456"; }
printf 'From: ble-9a@keyward.test\r\nSubject: over the air\r\n\r\nhello %s\r\n' "$(date +%s%N)" \
	>"$KW_TMP/msg.txt"
kw_run eng openssl cms -sign -engine pkcs11 -keyform engine -inkey "$(key 01)" \
	-signer "$KW_TMP/cert01.pem" -md sha256 -in "$KW_TMP/msg.txt" -out "$KW_TMP/signed.p7m"
kw_run openssl cms -verify -CAfile "$KW_TMP/ca.pem" -purpose any -in "$KW_TMP/signed.p7m" \
	-out "$KW_TMP/verified.txt"
cmp -s "$KW_TMP/msg.txt" "$KW_TMP/verified.txt" || kw_fail "verified content differs"
kw_pass "openssl cms -sign with 9A over BLE, verified"
kw_run openssl cms -encrypt -aes-256-cbc -recip "$KW_TMP/cert03.pem" -in "$KW_TMP/msg.txt" \
	-out "$KW_TMP/enc.p7m"
kw_run eng openssl cms -decrypt -engine pkcs11 -keyform engine -inkey "$(key 03)" \
	-recip "$KW_TMP/cert03.pem" -in "$KW_TMP/enc.p7m" -out "$KW_TMP/dec.txt"
cmp -s "$KW_TMP/msg.txt" "$KW_TMP/dec.txt" || kw_fail "decrypted text differs"
kw_pass "openssl cms -decrypt with 9D over BLE"

# --- OpenSC p11test ---
p11test=$(sh "$KW_TOP_SRCDIR/tests/interop/build-p11test.sh" --print-path 2>/dev/null || true)
[ -n "$p11test" ] && [ -x "$p11test" ] ||
	kw_skip "p11test not built (run tests/interop/build-p11test.sh); the rest passed"
(cd "$KW_TMP" && if [ -n "$KWB_PRELOAD" ]; then
	timeout -k 5 300 env LD_PRELOAD="$KWB_PRELOAD" ASAN_OPTIONS=detect_leaks=0 \
		"$p11test" -m "$KWB_MODULE" -p 123456 -o out.json
else
	timeout -k 5 300 "$p11test" -m "$KWB_MODULE" -p 123456 -o out.json
fi) >"$KW_TMP/p11test.log" 2>&1 || { tail -30 "$KW_TMP/p11test.log" >&2; kw_fail "p11test exited non-zero"; }
[ -s "$KW_TMP/out.json" ] || kw_fail "p11test wrote no JSON log"
kw_need python3
python3 - "$KW_TMP/out.json" <<'PY' || kw_fail "p11test over BLE: failures or missing cases"
import re, sys
# p11test 0.23 writes invalid JSON when a case fails: read test_id/result pairs
text = open(sys.argv[1]).read()
got = {}
for m in re.finditer(r'"test_id":\s*"([^"]*)"(.*?)(?="test_id"|\Z)', text, re.S):
    r = re.search(r'"result":\s*"([^"]*)"', m.group(2))
    got[m.group(1)] = r.group(1) if r else "incomplete"
count = {}
for v in got.values():
    count[v] = count.get(v, 0) + 1
print("p11test over BLE: %d cases: %s" % (len(got), ", ".join("%s %d" % kv for kv in sorted(count.items()))), file=sys.stderr)
must = ["supported_mechanisms_test", "interface_test", "readonly_tests", "multipart_tests",
        "ec_sign_size_test", "usage_test", "pss_oaep_test", "derive_tests"]
bad = [t for t in must if got.get(t) != "pass"] + [t for t, v in got.items() if v not in ("pass", "skip")]
for t in bad:
    print("p11test case %s: %s" % (t, got.get(t, "absent")), file=sys.stderr)
sys.exit(1 if bad or not got else 0)
PY
kw_pass "OpenSC p11test over BLE: 0 failures, key cases pass"
