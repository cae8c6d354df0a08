#!/bin/sh
# The non-default options: a P-256 CA key (ECDSA signatures made in the
# HSM), P-256 escrowed encryption keys delivered and checked like RSA ones,
# and Shamir splitting (2-of-2 over GF(256)) instead of XOR.
KMS_EXTRA_CONF='[ca]
key_type = p256
enc_key_type = p256
[shares]
split = shamir
threshold = 2'
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
openssl x509 -in "$CA" -noout -text | grep -q "ecdsa-with-SHA256" || fail "CA not ECDSA"
openssl verify -CAfile "$CA" "$CA" > /dev/null || fail "CA self-signature"
S=$(session kim@example.test)
K="$KWKMS --url $FRONT --ca $FRONT_CERT --session $S"
$K fetch > "$T/keys" || fail "P-256 delivery"
$K directory kim@example.test > "$T/enc.crt"
# RFC 5480: an EC key asserts keyAgreement, never keyEncipherment, which
# OpenSSL's smimeencrypt purpose insists on; so verify the chain only.
openssl verify -CAfile "$CA" "$T/enc.crt" > /dev/null || fail "enc cert"
openssl x509 -in "$T/enc.crt" -noout -text > "$T/text"
grep -q "id-ecPublicKey" "$T/text" && grep -q "Key Agreement" "$T/text" || fail "EC enc cert"
h=$(openssl x509 -in "$T/enc.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
	sha256sum | cut -d' ' -f1 | tr a-f A-F)
[ "$(cut -d' ' -f4 "$T/keys")" = "$h" ] || fail "delivered P-256 key does not match"
echo "p256" > "$T/m"
openssl cms -encrypt -binary -aes256 -in "$T/m" -outform PEM -out "$T/m.cms" "$T/enc.crt"
$K fetch --cms "$T/m.cms" > "$T/out" 2>/dev/null && cmp -s "$T/m" "$T/out" ||
	fail "ECDH CMS decrypt with the delivered key"
curl -sf --max-time 10 --cacert "$FRONT_CERT" "$FRONT/v1/crl" -o "$T/crl.der" || fail "CRL"
openssl crl -inform DER -in "$T/crl.der" -CAfile "$CA" -noout 2>&1 | grep -q "verify OK" ||
	fail "ECDSA CRL"
[ "$(sql "$T/front/kms.sqlite" 'SELECT split FROM enc_keys')" = shamir ] ||
	fail "not Shamir-split"
ok "P-256 CA and escrow keys, Shamir shares"
echo "kms-p256: all passed"
