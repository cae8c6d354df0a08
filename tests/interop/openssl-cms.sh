#!/bin/sh
# OpenSSL 3 + libp11's pkcs11 engine: S/MIME (openssl cms) signing and
# decryption through the module, keys named by RFC 7512 pkcs11: URIs.
# Signing uses 9A: 9C is PIN-always (CKU_CONTEXT_SPECIFIC), which libp11's
# engine cannot answer unattended. Decryption covers 9D, the retired RSA slot
# 82 and the retired P-256 slot 83 (ECDH key agreement).
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

engine=$(find /usr/lib/*/engines-3 -name pkcs11.so 2>/dev/null | head -n1)
[ -n "$engine" ] || kwi_fail "libp11's engine (libengine-pkcs11-openssl) not installed"
cat >openssl.cnf <<EOF2
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = $MODULE
init = 0
EOF2
# Only the engine commands load the engine config: libp11 installs RSA
# methods that would also capture plain OpenSSL's encryption to certificates.
eng() { OPENSSL_CONF="$PWD/openssl.cnf" "$@"; }
printf 'From: slot-9a@keyward.test\r\nSubject: keyward interop\r\n\r\nhello from the token %s\r\n' "$(date +%s%N)" >msg.txt

key() { echo "pkcs11:id=%$1;type=private;pin-value=$KWI_PIN"; }

# Sign with 9A, verify with plain OpenSSL against the test CA.
kwi_run sign.log eng openssl cms -sign -engine pkcs11 -keyform engine -inkey "$(key 01)" \
	-signer "$FIX/slot-9a.pem" -md sha256 -in msg.txt -out signed.p7m
openssl cms -verify -CAfile "$FIX/ca.pem" -purpose any -in signed.p7m -out verified.txt \
	>verify.log 2>&1 || { cat verify.log >&2; kwi_fail "signature made through the module does not verify"; }
cmp -s msg.txt verified.txt || kwi_fail "verified content differs from the signed message"
kwi_pass "openssl cms -sign with pkcs11:id=%01 (9A RSA-2048), verified"

# Also PSS through the engine (libp11 maps it to CKM_RSA_PKCS_PSS).
kwi_run sign-pss.log eng openssl cms -sign -engine pkcs11 -keyform engine -inkey "$(key 01)" \
	-signer "$FIX/slot-9a.pem" -md sha256 -keyopt rsa_padding_mode:pss -in msg.txt -out signed-pss.p7m
openssl cms -verify -CAfile "$FIX/ca.pem" -purpose any -in signed-pss.p7m -out verified-pss.txt \
	>verify-pss.log 2>&1 || { cat verify-pss.log >&2; kwi_fail "RSA-PSS signature does not verify"; }
cmp -s msg.txt verified-pss.txt || kwi_fail "RSA-PSS verified content differs"
kwi_pass "openssl cms -sign RSA-PSS with 9A, verified"

# Decrypt messages encrypted (by plain OpenSSL) to 9D, 82 (retired RSA), 83 (retired P-256).
for s in 9d:03 82:05 83:06; do
	slot=${s%:*} id=${s#*:}
	openssl cms -encrypt -aes-256-cbc -recip "$FIX/slot-$slot.pem" -in msg.txt -out "enc-$slot.p7m" \
		>"enc-$slot.log" 2>&1 || { cat "enc-$slot.log" >&2; kwi_fail "encrypting to slot $slot"; }
	kwi_run "dec-$slot.log" eng openssl cms -decrypt -engine pkcs11 -keyform engine -inkey "$(key "$id")" \
		-recip "$FIX/slot-$slot.pem" -in "enc-$slot.p7m" -out "dec-$slot.txt"
	cmp -s msg.txt "dec-$slot.txt" || kwi_fail "slot $slot: decrypted text differs"
	kwi_pass "openssl cms -decrypt with pkcs11:id=%$id (slot $slot)"
done

# OAEP key transport to 9D.
openssl cms -encrypt -aes-256-cbc -recip "$FIX/slot-9d.pem" -keyopt rsa_padding_mode:oaep \
	-in msg.txt -out enc-oaep.p7m >enc-oaep.log 2>&1 || { cat enc-oaep.log >&2; kwi_fail "OAEP encrypt"; }
kwi_run dec-oaep.log eng openssl cms -decrypt -engine pkcs11 -keyform engine -inkey "$(key 03)" \
	-recip "$FIX/slot-9d.pem" -in enc-oaep.p7m -out dec-oaep.txt
cmp -s msg.txt dec-oaep.txt || kwi_fail "OAEP: decrypted text differs"
kwi_pass "openssl cms -decrypt RSA-OAEP with 9D"
