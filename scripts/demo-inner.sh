#!/bin/sh
# Runs inside keyward-testenv (see scripts/demo.sh): the dual-certificate
# model end to end on loopback.
#  1. the KMS: keyward-kmsd front + 2 share servers (SoftHSMv2) + SMTP sink
#  2. a fresh virtual token, as `keyward list` sees it
#  3. `keyward enroll`: the token is initialized, the address validated with
#     the value from the mail, the signing key generated and attested on the
#     token, the escrowed encryption key imported
#  4. a sender looks up alice's encryption certificate in the KMS directory
#  5. an S/MIME message signed with the token's 9C key through keyward-pkcs11,
#     then encrypted to the directory certificate (openssl cms)
#  6. decrypted through keyward-pkcs11 (9D) and its signature verified
set -eu
: "${KW_TOP_SRCDIR:?}" "${KW_TOP_BUILDDIR:?}"
KMS_TEST_LIMIT=300
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }

step "1. starting the KMS on 127.0.0.1: front + 2 share servers + SMTP sink"
# The KMS trusts the virtual token's attestation CA (as it would Yubico's).
KMS_EXTRA_CONF="[attestation]
ca = $KEYWARD_TESTENV_ATTEST_CA"
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
note "front $FRONT, share servers on ports $SHARE1_PORT and $SHARE2_PORT, SMTP sink on $SMTP_PORT"
note "KMS CA: $(openssl x509 -in "$CA" -noout -subject)"
. "$KW_TOP_SRCDIR/tests/integration/enroll-lib.sh"
kw=$KEYWARD
ADDR=alice@example.test
PIN=246810
cd "$W"
printf '%s\n%s\n' "$PIN" "$PIN" >pin   # token login, then 9C's own PIN prompt
printf '13579135\n' >puk
kw_engine_conf

step "2. the virtual token (fresh, like a new YubiKey)"
"$kw" list

step "3. keyward enroll --email $ADDR (PIN $PIN and PUK from files for this demo)"
# The user reads the mail and pastes the value: here a helper waits for the
# mail in the SMTP sink, shows it, and types the value into keyward's prompt.
rm -f "$T"/mail/*.eml enroll.done
{
	v=$(mail_value_until "$ADDR" enroll.done)
	f=$(grep -l "<$ADDR>" "$T"/mail/*.eml | head -n1)
	{
		printf '\n   --- mail in the SMTP sink ---\n'
		grep -E '^(To|Subject):' "$f" | sed 's/^/   /'
		printf '   Validation value: %s\n   ------------------------------\n' "$v"
	} >&2
	echo "$v"
} | {
	rc=0
	"$kw" enroll --email "$ADDR" --kms "$FRONT" --kms-ca "$FRONT_CERT" \
		--pin-file pin --puk-file puk --json >enroll.json || rc=$?
	echo $rc >enroll.rc
	touch enroll.done
}
[ "$(cat enroll.rc)" = 0 ] || { echo "enrollment failed" >&2; exit 1; }
note "result: $(jq_py enroll.json '"signing cert " + j["signing"]["serial"] + ", " + str(j["encryption"]["keys"]) + " encryption key(s)"')"
jq_py enroll.json 'j["attestation"][0]' >attest-9c.pem
jq_py enroll.json 'j["attestation"][1]' >attest-f9.pem
jq_py enroll.json 'j["signing"]["cert"]' >alice-sign.pem
openssl verify -CAfile "$KEYWARD_TESTENV_ATTEST_CA" -untrusted attest-f9.pem attest-9c.pem |
	sed 's/^/   attestation of 9C (generated on the token): /'
note "the KMS verified the attestation before issuing: $(jq_py enroll.json 'j["attested_by_kms"]')"
echo
"$kw" status

step "4. a sender fetches $ADDR's encryption certificate from the KMS directory"
curl -s --cacert "$FRONT_CERT" "$FRONT/v1/directory?email=$ADDR" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["cert"], end="")' >alice-enc.pem
openssl x509 -in alice-enc.pem -noout -subject -serial -ext extendedKeyUsage | sed 's/^/   /'

step "5. S/MIME: sign with the token's 9C key, then encrypt to the directory certificate"
printf 'From: %s\r\nTo: bob@example.test\r\nSubject: keyward demo\r\n\r\nSigned on the token, sealed for its owner.\r\n' \
	"$ADDR" >message.txt
# 9C asks for the PIN at every signature (PIN policy "always"): OpenSSL's
# prompt reads it from stdin once no terminal is attached.
OPENSSL_CONF="$W/openssl-p11.cnf" setsid -w openssl cms -sign -engine pkcs11 -keyform engine \
	-inkey "pkcs11:id=%02;type=private" -signer alice-sign.pem -md sha256 \
	-in message.txt -out signed.eml <pin 2>sign.log || { cat sign.log; exit 1; }
note "signed through keyward-pkcs11 (pkcs11:id=%02 = slot 9C)"
openssl cms -encrypt -aes256 -in signed.eml -out sealed.eml alice-enc.pem
note "encrypted to $(openssl x509 -in alice-enc.pem -noout -subject) -> sealed.eml ($(wc -c <sealed.eml) bytes)"
head -n 6 sealed.eml | sed 's/^/   | /'

step "6. decrypt through keyward-pkcs11 (slot 9D) and verify the signature"
eng openssl cms -decrypt -engine pkcs11 -keyform engine \
	-inkey "pkcs11:id=%03;type=private;pin-value=$PIN" -recip alice-enc.pem \
	-in sealed.eml -out opened.eml 2>decrypt.log || { cat decrypt.log; exit 1; }
note "decrypted with the escrowed key the KMS delivered into the token"
openssl cms -verify -CAfile "$CA" -in opened.eml -out verified.txt 2>&1 | sed 's/^/   /'
cmp -s message.txt verified.txt
sed 's/^/   | /' verified.txt
step "done: signing key born on the token, encryption key from the KMS, both used through the module"
