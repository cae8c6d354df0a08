#!/bin/sh
# Certificates: a signing certificate from a CSR (RSA and P-256) and the
# escrowed encryption certificate; both verify against the CA with
# `openssl verify -purpose smimesign/smimeencrypt`, carry EKU
# emailProtection, the rfc822Name SAN and the profile's policy and subject
# (V1 mailbox, V3 organization via the admin identity endpoint).
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
# Certificate policies per profile (V1 mailbox, V2 individual, V3
# organization, V4 sponsor): the CA/B Forum S/MIME BR identifiers.
policy_of() { case $1 in 1) echo 2.23.140.1.5.1.1 ;; 2) echo 2.23.140.1.5.4.1 ;;
	3) echo 2.23.140.1.5.2.1 ;; 4) echo 2.23.140.1.5.3.1 ;; esac; }
S=$(session dave@example.test)
K="$KWKMS --url $FRONT --ca $FRONT_CERT --session $S"

check_cert() { # file purpose profile-digit email
	openssl verify -CAfile "$CA" -purpose "$2" "$1" > /dev/null ||
		fail "$1 does not verify for $2"
	openssl x509 -in "$1" -noout -text > "$T/text"
	grep -q "E-mail Protection" "$T/text" || fail "$1: no emailProtection EKU"
	grep -q "email:$4" "$T/text" || fail "$1: no rfc822Name SAN"
	grep -q "Policy: $(policy_of "$3")\$" "$T/text" || fail "$1: no V$3 policy"
	# Debian 12's python3-cryptography reads every extension (it rejected
	# the whole certificate's extensions for a policy arc over 32 bits).
	if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
		/usr/bin/python3 - "$1" "$(policy_of "$3")" <<'PY' || fail "$1: python3-cryptography cannot read it"
import sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
pols = c.extensions.get_extension_for_class(x509.CertificatePolicies).value
assert [p.policy_identifier.dotted_string for p in pols] == [sys.argv[2]], pols
assert len(c.extensions) >= 7, len(c.extensions)
c.extensions.get_extension_for_class(x509.SubjectAlternativeName)
PY
	else
		fail "python3-cryptography (Debian package) is missing"
	fi
}

openssl req -new -newkey rsa:2048 -nodes -keyout "$T/s.key" -subj /CN=ignored \
	-out "$T/rsa.csr" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/e.key" \
	-subj /CN=ignored -out "$T/ec.csr" 2>/dev/null
$K sign "$T/rsa.csr" > "$T/rsa.crt" || fail "sign RSA CSR"
$K sign "$T/ec.csr" > "$T/ec.crt" || fail "sign EC CSR"
for c in rsa ec; do
	check_cert "$T/$c.crt" smimesign 1 dave@example.test
	grep -q "Digital Signature, Non Repudiation" "$T/text" || fail "$c: key usage"
	openssl x509 -in "$T/$c.crt" -noout -subject | grep -q "CN = dave@example.test" ||
		fail "$c: V1 subject"
	days=$(( ($(date -d "$(openssl x509 -in "$T/$c.crt" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
	[ "$days" -ge 363 ] && [ "$days" -le 365 ] || fail "$c: signing cert lasts $days days"
done
ok "signing certificates from RSA and P-256 CSRs"

$K fetch > /dev/null || fail "enrollment"
$K directory dave@example.test > "$T/enc.crt" || fail "directory"
check_cert "$T/enc.crt" smimeencrypt 1 dave@example.test
grep -q "Key Encipherment" "$T/text" || fail "enc key usage"
days=$(( ($(date -d "$(openssl x509 -in "$T/enc.crt" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
[ "$days" -ge 1093 ] && [ "$days" -le 1095 ] || fail "encryption cert lasts $days days"
ok "encryption certificate (3 years)"

# V3 organization profile through the admin endpoint
api POST /v1/admin/identity '{"email":"dave@example.test","level":"V3","organization":"Example Org"}' "wrong-token" > /dev/null
[ "$(status)" = 401 ] || fail "admin endpoint without the admin token"
api POST /v1/admin/identity '{"email":"dave@example.test","level":"V3"}' "$ADMIN" > /dev/null
[ "$(status)" = 400 ] || fail "V3 without organization accepted"
api POST /v1/admin/identity '{"email":"dave@example.test","level":"V3","organization":"Example Org"}' "$ADMIN" > /dev/null
[ "$(status)" = 200 ] || fail "admin identity: $(cat "$T/body")"
$K sign "$T/rsa.csr" > "$T/v3.crt" || fail "sign V3"
check_cert "$T/v3.crt" smimesign 3 dave@example.test
openssl x509 -in "$T/v3.crt" -noout -subject | grep -q "O = Example Org" || fail "V3 subject"
ok "V3 organization profile"

# a CSR whose signature does not verify
sed 's/^\(MII.\)./\1A/' "$T/rsa.csr" > "$T/bad.csr"
printf 'garbage\n' > "$T/junk.csr"
$K sign "$T/junk.csr" 2> "$T/err" && fail "junk CSR accepted"
grep -q bad_csr "$T/err" || fail "unclear CSR error: $(cat "$T/err")"
grep -c '"event":"issue"' "$(kms_audit)" | grep -q '^[4-9]' || fail "issuance not audited"
ok "bad CSR refused; issuance audited"
echo "kms-issue: all passed"
