#!/bin/sh
# GnuTLS: p11tool --list-all shows the token's certificates and (after login)
# private keys; certtool signs certificate requests with token keys named by
# pkcs11: URIs (9A RSA-2048, and the PIN-always 9C P-256 key), each request's
# self-signature verified by OpenSSL and its public key checked.
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

export GNUTLS_PIN="$KWI_PIN"
kwi_run_p11kit list.log p11tool --provider "$MODULE" --list-all "pkcs11:"
kwi_run_p11kit certs.log p11tool --provider "$MODULE" --list-all-certs "pkcs11:"
kwi_run_p11kit keys.log p11tool --provider "$MODULE" --login --set-pin "$KWI_PIN" --list-all-privkeys "pkcs11:"
ncert=$(grep -c 'Type: X.509 Certificate' certs.log || true)
[ "$ncert" -ge 5 ] || { cat certs.log >&2; kwi_fail "p11tool lists $ncert certificates, expected 5"; }
while read -r slot id alg; do
	grep -q "id=%$id" certs.log || kwi_fail "p11tool: no certificate with id=%$id (slot $slot)"
	grep -q "id=%$id" keys.log || { cat keys.log >&2; kwi_fail "p11tool --login: no private key with id=%$id (slot $slot)"; }
done <"$FIX/slots"
kwi_pass "p11tool --list-all: 5 certificates, 5 private keys, CKA_IDs 01 02 03 05 06"

cat >req.tmpl <<'EOF2'
cn = "keyward gnutls interop"
email = "gnutls@keyward.test"
signing_key
tls_www_client
EOF2
for s in 9a:01 9c:02; do
	slot=${s%:*} id=${s#*:}
	kwi_run_p11kit "req-$slot.log" certtool --provider "$MODULE" --generate-request \
		--load-privkey "pkcs11:id=%$id;type=private" --template req.tmpl --outfile "req-$slot.pem"
	openssl req -in "req-$slot.pem" -verify -noout >"verify-$slot.log" 2>&1 ||
		{ cat "verify-$slot.log" >&2; kwi_fail "certtool's request signed with $slot does not verify"; }
	openssl req -in "req-$slot.pem" -pubkey -noout >"req-$slot.pub"
	cmp -s "req-$slot.pub" "$FIX/slot-$slot.pub" ||
		[ "$(openssl pkey -pubin -in "req-$slot.pub")" = "$(openssl pkey -pubin -in "$FIX/slot-$slot.pub")" ] ||
		kwi_fail "certtool's request for $slot carries another public key"
	kwi_pass "certtool --generate-request signed by pkcs11:id=%$id (slot $slot), verified"
done
