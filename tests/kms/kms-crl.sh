#!/bin/sh
# Revocation of a device's signing certificate: only its owner (or the
# admin) can revoke it; the CRL, signed by the CA key in the HSM, lists it
# and `openssl verify -crl_check` then refuses the certificate.
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
S=$(session gina@example.test)
K="$KWKMS --url $FRONT --ca $FRONT_CERT --session $S"
SO=$(session hank@example.test)

for n in 1 2; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/d$n.key" -subj /CN=x -out "$T/d$n.csr" 2>/dev/null
	$K sign "$T/d$n.csr" > "$T/d$n.crt" || fail "sign device $n"
done
serial=$(openssl x509 -in "$T/d1.crt" -noout -serial | cut -d= -f2)
serial2=$(openssl x509 -in "$T/d2.crt" -noout -serial | cut -d= -f2)

crl() {
	curl -sf --max-time 10 --cacert "$FRONT_CERT" "$FRONT/v1/crl" -o "$T/crl.der" || fail "GET /v1/crl"
	openssl crl -inform DER -in "$T/crl.der" -out "$T/crl.pem" || fail "CRL does not parse"
	openssl crl -in "$T/crl.pem" -CAfile "$CA" -noout 2>&1 | grep -q "verify OK" ||
		fail "CRL signature does not verify"
}
crl
openssl verify -crl_check -CAfile "$CA" -CRLfile "$T/crl.pem" "$T/d1.crt" > /dev/null ||
	fail "unrevoked cert fails crl_check"
ok "empty CRL verifies"

$KWKMS --url "$FRONT" --ca "$FRONT_CERT" --session "$SO" revoke "$serial" 2> "$T/err" &&
	fail "another user revoked the certificate"
grep -q not_found "$T/err" || fail "unclear error: $(cat "$T/err")"
$K revoke "$serial" 1 || fail "owner revocation"
$K revoke "$serial" 2> /dev/null && fail "double revocation"
api POST /v1/admin/revoke "{\"serial\":\"$serial2\",\"reason\":4}" "$ADMIN" > /dev/null
[ "$(status)" = 200 ] || fail "admin revocation: $(cat "$T/body")"
crl
openssl crl -in "$T/crl.pem" -noout -text > "$T/crl.txt"
grep -q "$serial" "$T/crl.txt" && grep -q "$serial2" "$T/crl.txt" || fail "CRL lacks the serials"
grep -q "Key Compromise" "$T/crl.txt" && grep -q "Superseded" "$T/crl.txt" || fail "CRL reasons"
openssl verify -crl_check -CAfile "$CA" -CRLfile "$T/crl.pem" "$T/d1.crt" > "$T/v" 2>&1 &&
	fail "revoked certificate still verifies"
grep -q "certificate revoked" "$T/v" || fail "unexpected verify output: $(cat "$T/v")"
[ "$(grep -c '"event":"revoke"' "$(kms_audit)")" = 2 ] || fail "revocations not audited"
ok "revoked certificates in the CRL; crl_check refuses them"
echo "kms-crl: all passed"
