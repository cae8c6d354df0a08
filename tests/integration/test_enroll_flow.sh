#!/bin/sh
# `keyward enroll` end to end with real processes: keyward-kmsd front + 2
# share servers + an SMTP sink (tests/kms/kms-env.sh), SoftHSMv2, pcscd +
# vpcd + keyward-vcard (keyward-testenv --attest-ca). Checks: a fresh token
# enrolled (initialized, 9C generated on the token and attested, signing
# certificate from a token-signed CSR, 9D = the KMS's key), S/MIME through
# keyward-pkcs11 (sign with 9C, decrypt with 9D), a KMS rotation followed by
# `keyward renew` (new key in 9D, old one in 82, both decrypt), a rerun that
# changes nothing, wrong validation value and wrong key-protection password
# with clear errors, and no private key in clear in any file keyward wrote.
set -u

B=${KW_TOP_BUILDDIR:-$(pwd)}
S=${KW_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
skip() { echo "SKIP: $*"; exit 77; }

if [ -z "${KEYWARD_TESTENV_DIR:-}" ]; then
	for f in tools/keyward/keyward tools/testenv/keyward-testenv kms/keyward-kmsd \
	    kms/kwkms-tool pkcs11-module/.libs/keyward-pkcs11.so; do
		[ -x "$B/$f" ] || skip "$f not built"
	done
	for c in pcscd python3 openssl curl softhsm2-util setsid; do
		command -v $c >/dev/null 2>&1 || skip "$c not installed"
	done
	ls /usr/lib/*/engines-3/pkcs11.so >/dev/null 2>&1 ||
		skip "libp11's engine not installed (libengine-pkcs11-openssl)"
	KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S "$B/tools/testenv/keyward-testenv" run \
		--tokens 2 --attest-ca --timeout 420 -- sh "$0" "$@"
	rc=$?
	[ $rc -eq 125 ] && skip "keyward-testenv cannot run in this environment"
	exit $rc
fi

export KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S
KMS_TEST_LIMIT=400
# The KMS checks attestations when it knows the [attestation] section.
if grep -q '"attestation\.ca"' "$S/kms/base/kms_config.c" 2>/dev/null; then
	KMS_EXTRA_CONF="[attestation]
ca = $KEYWARD_TESTENV_ATTEST_CA"
	KMS_ATTEST=1
else
	KMS_ATTEST=0
fi
. "$S/tests/kms/kms-env.sh"
kms_env_up
. "$S/tests/integration/enroll-lib.sh"
set +e
FAILS=0
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
good() { echo "ok - $*"; }
# check NAME COMMAND...: the command must succeed.
check() { _n=$1; shift; if "$@"; then good "$_n"; else bad "$_n"; fi; }
# jcheck NAME FILE PYEXPR: the JSON in FILE must satisfy PYEXPR (j).
jcheck() {
	if python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3" 2>/dev/null; then good "$1"
	else bad "$1"; head -c 1500 "$2"; echo; fi
}
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64; }
# the SPKI hash keyward status reports for a slot (lower case like sha256sum)
directory() { curl -s --max-time 20 --cacert "$FRONT_CERT" "$FRONT/v1/directory?email=$1" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["cert"], end="")'; }
tstatus() { "$KEYWARD" status --token "$1" --json >"$W/$2.json"; }
slot_spki() { jq_py "$W/$1.json" "([s for s in j['slots'] if s['slot']=='$2'] or [{'public_key_sha256': 'none'}])[0]['public_key_sha256'].lower()"; }
S0=$KEYWARD_TESTENV_SERIAL_0
S1=$KEYWARD_TESTENV_SERIAL_1
PIN=246810
printf '%s\n' "$PIN" >"$W/pin"
printf '%s\n%s\n' "$PIN" "$PIN" >"$W/pin2"   # token login, then the 9C (PIN always) prompt
printf '13579135\n' >"$W/puk"
cd "$W" || exit 1
kw_engine_conf || { bad "no libp11 engine"; exit 1; }

# --- help and usage ------------------------------------------------------
for v in enroll renew recover pin reset; do
	"$KEYWARD" $v --help | grep -q "Usage: keyward $v" && good "$v --help" || bad "$v --help"
done
"$KEYWARD" enroll --email a@b.test 2>/dev/null; [ $? -eq 2 ] && good "--kms required" || bad "--kms"
"$KEYWARD" enroll --kms "$FRONT" 2>/dev/null; [ $? -eq 2 ] && good "--email required" || bad "--email"

# --- wrong validation value: clear error, nothing issued -----------------
kw_verb enroll wrong mallory@example.test --token "$S1" --pin-file pin --puk-file puk \
	--validation-value AAAAAAAAAAAAAAAAAAAAAAAAAA
rc=$?
[ $rc -eq 1 ] && grep -q "email validation failed" wrong.err && good "wrong validation value: exit 1, clear message" ||
	{ bad "wrong validation value (rc $rc)"; cat wrong.err; }
jcheck "wrong value: JSON says why" wrong.json 'j["ok"] is False and j["kms_error"] != ""'

# --- enrollment of a fresh token -----------------------------------------
kw_verb enroll e1 alice@example.test --token "$S0" --pin-file pin --puk-file puk
rc=$?
[ $rc -eq 0 ] && good "enroll exits 0" || { bad "enroll exit $rc"; cat e1.err; }
jcheck "result: token initialized, 9C certified, 9D imported" e1.json \
	'j["ok"] and j["initialized"] and j["signing"]["slot"] == "9c" and j["encryption"]["slots"][0]["slot"] == "9d"'
grep -q "PIN" e1.err && ! grep -q "$PIN" e1.err e1.json && good "PIN never printed" || bad "PIN printed"
tstatus "$S0" st1
jcheck "PIN, PUK and management key no longer default; mgmt key AES-256" st1.json \
	'not j["pin"]["default"] and not j["puk"]["default"] and not j["management_key"]["default"] and j["management_key"]["algorithm"] == "aes256"'
jcheck "9C generated on the token, PIN always, certificate matches" st1.json \
	'[s for s in j["slots"] if s["slot"]=="9c"][0]["key"]["origin"] == "generated" and [s for s in j["slots"] if s["slot"]=="9c"][0]["key"]["pin_policy"] == "always" and [s for s in j["slots"] if s["slot"]=="9c"][0]["certificate_matches_key"]'
jcheck "9D imported, certificate matches" st1.json \
	'[s for s in j["slots"] if s["slot"]=="9d"][0]["key"]["origin"] == "imported" and [s for s in j["slots"] if s["slot"]=="9d"][0]["certificate_matches_key"]'
jq_py e1.json 'j["signing"]["cert"]' >sign1.pem
jq_py e1.json 'j["attestation"][0]' >att-leaf.pem
jq_py e1.json 'j["attestation"][1]' >att-f9.pem
check "signing certificate chains to the KMS CA" \
	openssl verify -CAfile "$CA" -purpose smimesign sign1.pem
openssl x509 -in sign1.pem -noout -ext subjectAltName,extendedKeyUsage | grep -q "email:alice@example.test" &&
	good "signing certificate names alice" || bad "signing certificate SAN"
check "9C attestation verifies against the testenv attestation CA" \
	openssl verify -CAfile "$KEYWARD_TESTENV_ATTEST_CA" -untrusted att-f9.pem att-leaf.pem
[ "$(spki att-leaf.pem)" = "$(spki sign1.pem)" ] && [ "$(spki sign1.pem)" = "$(slot_spki st1 9c)" ] &&
	good "attested key = certified key = the key in 9C" || bad "attested/certified key differ"
if [ $KMS_ATTEST = 1 ]; then
	jcheck "the KMS verified the attestation" e1.json 'j["attested_by_kms"] is True'
	# A genuine attestation sent with a CSR for another key is refused.
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
		-subj /CN=alice@example.test -out other.csr 2>/dev/null
	python3 -c 'import json,sys
e=json.load(open("e1.json"))
print(json.dumps({"csr": open("other.csr").read(), "attestation": e["attestation"]}))' >forged.json
	sess=$(session alice@example.test)
	api POST /v1/certs/sign "$(cat forged.json)" "$sess" >forged.out
	[ "$(cat "$T/status")" = 400 ] && grep -q "bad_attestation" forged.out &&
		good "the KMS refuses an attestation of another key" || { bad "forged attestation"; cat forged.out; }
	rm -f other.key
fi
directory alice@example.test >dir1.pem
[ "$(spki dir1.pem)" = "$(slot_spki st1 9d)" ] && good "9D holds the key of alice's directory certificate" ||
	bad "9D key is not the directory certificate's"

# --- S/MIME through keyward-pkcs11 ----------------------------------------
printf 'From: alice@example.test\r\nSubject: keyward\r\n\r\nsigned and sealed %s\r\n' "$(date +%s%N)" >msg.txt
eng setsid -w openssl cms -sign -engine pkcs11 -keyform engine -inkey "pkcs11:serial=$S0;id=%02;type=private" \
	-signer sign1.pem -md sha256 -in msg.txt -out signed.p7m <pin2 >sign.log 2>&1 ||
	{ bad "signing through the module"; cat sign.log; }
openssl cms -verify -CAfile "$CA" -in signed.p7m -out verified.txt >verify.log 2>&1 &&
	cmp -s msg.txt verified.txt && good "message signed with 9C through the module verifies (CA)" ||
	{ bad "signature does not verify"; cat verify.log; }
openssl cms -encrypt -aes256 -in msg.txt -out enc1.p7m dir1.pem || bad "encrypt to directory cert"
decrypt() { # id recip-pem in out (token 0)
	eng openssl cms -decrypt -engine pkcs11 -keyform engine \
		-inkey "pkcs11:serial=$S0;id=%$1;type=private;pin-value=$PIN" -recip "$2" -in "$3" -out "$4" \
		>"$4.log" 2>&1 && cmp -s msg.txt "$4"
}
decrypt 03 dir1.pem enc1.p7m dec1.txt && good "message to the directory certificate decrypts with 9D" ||
	{ bad "decrypt with 9D"; cat dec1.txt.log; }

# --- rerun: nothing to do, no mail, same state ----------------------------
kw_verb enroll e2 alice@example.test --token "$S0" --pin-file pin
rc=$?
[ $rc -eq 0 ] && good "rerun exits 0" || { bad "rerun exit $rc"; cat e2.err; }
jcheck "rerun: everything already in place" e2.json \
	'j["signing"]["already_done"] and j["encryption"]["already_done"] and not j["initialized"]'
ls "$T"/mail/*.eml >/dev/null 2>&1 && bad "rerun asked for a validation" || good "rerun needed no validation"
tstatus "$S0" st2
cmp -s st1.json st2.json && good "rerun left the token unchanged" || bad "rerun changed the token"

# --- rotation at the KMS, then renew ---------------------------------------
api POST /v1/admin/rotate '{"email":"alice@example.test"}' "$ADMIN" >/dev/null
[ "$(cat "$T/status")" = 200 ] && good "KMS rotated alice's key" || bad "rotate: $(cat "$T/status") $(cat "$T/body")"
directory alice@example.test >dir2.pem
kw_verb renew r1 alice@example.test --token "$S0" --pin-file pin
rc=$?
[ $rc -eq 0 ] && good "renew exits 0" || { bad "renew exit $rc"; cat r1.err; }
tstatus "$S0" st3
[ "$(spki dir2.pem)" = "$(slot_spki st3 9d)" ] && good "after renew 9D holds the new key" || bad "9D after renew"
[ "$(spki dir1.pem)" = "$(slot_spki st3 82)" ] && good "after renew 82 holds the previous key" || bad "82 after renew"
jcheck "key history: 1 retired key on the card; every certificate matches its key" st3.json \
	'j["key_history"]["on_card_certs"] == 1 and all(s["certificate_matches_key"] is not False for s in j["slots"])'
jq_py r1.json 'j["signing"]["cert"]' >sign2.pem
[ "$(spki sign2.pem)" != "$(spki sign1.pem)" ] && [ "$(spki sign2.pem)" = "$(slot_spki st3 9c)" ] &&
	good "renew: a new signing key and certificate in 9C" || bad "renew signing key"
old_serial=$(jq_py e1.json 'j["signing"]["serial"]')
jq_py r1.json 'j.get("superseded_revoked")' | grep -qx "$old_serial" &&
	curl -s --cacert "$FRONT_CERT" "$FRONT/v1/crl" -o crl.der &&
	openssl crl -inform DER -in crl.der -noout -text | grep -qi "$old_serial" &&
	good "renew revoked the replaced signing certificate (on the CRL)" || bad "superseded certificate not revoked"
openssl cms -encrypt -aes256 -in msg.txt -out enc2.p7m dir2.pem
decrypt 03 dir2.pem enc2.p7m dec2.txt && good "message to the new certificate decrypts with 9D" ||
	{ bad "decrypt new"; cat dec2.txt.log; }
decrypt 05 dir1.pem enc1.p7m dec3.txt && good "message to the rotated (old) certificate decrypts with 82" ||
	{ bad "decrypt old"; cat dec3.txt.log; }

# --- key-protection password ------------------------------------------------
sess=$(session carol@example.test)
"$KWKMS" --url "$FRONT" --ca "$FRONT_CERT" --session "$sess" password "correct horse 1" >/dev/null 2>&1 ||
	bad "setting carol's key-protection password"
printf 'wrong password\n' >pw-wrong
printf 'correct horse 1\n' >pw-right
kw_verb enroll c1 carol@example.test --token "$S1" --pin-file pin --puk-file puk --password-file pw-wrong
rc=$?
[ $rc -eq 1 ] && grep -q "did not deliver the encryption keys" c1.err && good "wrong password: exit 1, clear message" ||
	{ bad "wrong password (rc $rc)"; cat c1.err; }
tstatus "$S1" st4
jcheck "wrong password: no encryption key on the token" st4.json \
	'not [s for s in j["slots"] if s["slot"] in ("9d","82")]'
kw_verb enroll c2 carol@example.test --token "$S1" --pin-file pin --password-file pw-right
rc=$?
[ $rc -eq 0 ] && good "right password: enrolled" || { bad "right password (rc $rc)"; cat c2.err; }
jcheck "the rerun reused the signing key of the failed run" c2.json 'j["signing"]["already_done"] is True'

# --- no private key in clear in anything keyward wrote ---------------------
python3 - "$KEYWARD_STATE_DIR" "$W" <<'EOF'
import base64, os, re, sys
# PKCS#8 RSA/EC PrivateKeyInfo headers, DER and base64, and PEM labels.
needles = [b"\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01",
           b"\x02\x01\x00\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01", b"PRIVATE KEY"]
bad = []
for top in sys.argv[1:]:
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            data = open(p, "rb").read()
            blobs = [data] + [base64.b64decode(m + b"=" * (-len(m) % 4), validate=False)
                              for m in re.findall(rb"[A-Za-z0-9+/]{64,}", data.replace(b"\\n", b"").replace(b"\n", b""))]
            if any(n in b for n in needles for b in blobs):
                bad.append(p)
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
[ $? -eq 0 ] && good "no private key in clear in keyward's files" || bad "private key found in the files above"

echo "$FAILS failure(s)"
[ $FAILS -eq 0 ]
