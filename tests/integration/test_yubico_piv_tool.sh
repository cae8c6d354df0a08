#!/bin/sh
# Yubico's own PIV client (yubico-piv-tool 2.2) against the virtual token:
# status, generate in 9C (+ a certificate from a test CA), import keys into 9D
# and retired slot 82, attestation chain up to the testenv attestation CA,
# signatures and decryption checked with the certificates' public keys, PIN
# verify/change/unblock, reset once PIN and PUK are blocked, and defaults after
# reset. (Debian 12's selfsign/request-certificate are broken under OpenSSL 3,
# upstream #388: certificates come from `openssl x509 -req -force_pubkey`.)
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool openssl
kw_in_testenv 240 --attest-ca
. "$KW_SRC/pki.sh"

READER=$(kw_reader 0)
y() { kw_run yubico-piv-tool -r "$READER" "$@"; }
y_fail() { kw_run_fail yubico-piv-tool -r "$READER" "$@"; }
cd "$KW_TMP" || kw_fail "cd $KW_TMP"
kw_pki_ca "$KW_TMP"

# --- status and version of a new token ----------------------------------------------
y -a version
kw_grep '^Application version 5\.[0-9]+\.[0-9]+ found' "$KW_OUT"
y -a status
cp "$KW_OUT" status0
kw_grep "^Serial Number:[[:space:]]+$KEYWARD_TESTENV_SERIAL_0\$" status0
kw_grep '^PIN tries left:[[:space:]]+3$' status0
kw_not_grep '^Slot 9c' status0 "status of a new token"
# without -r, yubico-piv-tool takes the first reader named like a YubiKey
kw_run yubico-piv-tool -a status
kw_grep "^Serial Number:[[:space:]]+$KEYWARD_TESTENV_SERIAL_0\$" "$KW_OUT" "default reader"
kw_pass "status"

# --- generate in 9C, certificate, signature ------------------------------------------
y -a generate -s 9c -A RSA2048 -o pub9c.pem
kw_grep 'Successfully generated a new private key' "$KW_OUT"
kw_run openssl pkey -pubin -in pub9c.pem -noout -text
kw_grep 'Public-Key: \(2048 bit\)' "$KW_OUT"
kw_pki_cert pub9c.pem "/CN=keyward 9c" 9c.pem
y -a import-certificate -s 9c -i 9c.pem
y -a read-certificate -s 9c -o back9c.pem
kw_pki_same_cert 9c.pem back9c.pem
y -a verify-pin -P 123456 -a test-signature -s 9c -i 9c.pem
kw_grep 'Successful RSA verification' "$KW_OUT"
kw_pass "generate 9C, certificate, signature"

# --- attestation of 9C: chain to the testenv CA, same public key ---------------------
y -a attest -s 9c -o att9c.pem
y -a read-certificate -s f9 -o f9.pem
kw_run openssl verify -CAfile "$KEYWARD_TESTENV_ATTEST_CA" -untrusted f9.pem att9c.pem
kw_grep '^att9c.pem: OK$' "$KW_OUT"
kw_pki_same_pubkey att9c.pem pub9c.pem "attested key of 9C"
kw_pass "attest 9C"

# --- import into 9D (RSA) and 82 (P-256): decrypt, sign; imported keys do not attest -
kw_run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key9d.pem
openssl pkey -in key9d.pem -pubout -out pub9d.pem || kw_fail "pubkey 9d"
y -a import-key -s 9d -i key9d.pem
kw_grep 'Successfully imported a new private key' "$KW_OUT"
kw_pki_cert pub9d.pem "/CN=keyward 9d" 9d.pem
y -a import-certificate -s 9d -i 9d.pem
y -a verify-pin -P 123456 -a test-decipher -s 9d -i 9d.pem
kw_grep 'Successfully performed RSA decryption' "$KW_OUT"
y_fail -a attest -s 9d
kw_run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key82.pem
openssl pkey -in key82.pem -pubout -out pub82.pem || kw_fail "pubkey 82"
y -a import-key -s 82 -i key82.pem
kw_pki_cert pub82.pem "/CN=keyward 82" 82.pem
y -a import-certificate -s 82 -i 82.pem
y -a read-certificate -s 82 -o back82.pem
kw_pki_same_cert 82.pem back82.pem
y -a verify-pin -P 123456 -a test-signature -s 82 -i 82.pem
kw_grep 'Successful ECDSA verification' "$KW_OUT"
y -a verify-pin -P 123456 -a test-decipher -s 82 -i 82.pem
kw_grep 'Successfully performed ECDH exchange' "$KW_OUT"
y -a status
kw_grep '^Slot 9c:' "$KW_OUT"
kw_grep '^Slot 9d:' "$KW_OUT"
kw_grep '^Slot 82:' "$KW_OUT"
kw_pass "import 9D (decrypt) and 82 (sign, ECDH), no attestation of imported keys"

# --- PIN: verify, wrong tries, change, block, unblock --------------------------------
y_fail -a verify-pin -P 111111
kw_grep '2 tries left' "$KW_OUT"
y -a verify-pin -P 123456
kw_grep 'Successfully verified PIN' "$KW_OUT"
y -a status
kw_grep '^PIN tries left:[[:space:]]+3$' "$KW_OUT" "retries after a good PIN"
y -a change-pin -P 123456 -N 654321
y_fail -a verify-pin -P 123456
y -a verify-pin -P 654321
for i in 1 2 3; do y_fail -a verify-pin -P 000000; done
y_fail -a verify-pin -P 654321
kw_grep 'blocked' "$KW_OUT" "verify with a blocked PIN"
y -a unblock-pin -P 12345678 -N 112233
y -a verify-pin -P 112233
kw_grep 'Successfully verified PIN' "$KW_OUT"
kw_pass "verify, change, block, unblock PIN"

# --- reset: refused while PIN/PUK work, accepted once both are blocked ----------------
y_fail -a reset
y -a read-certificate -s 9c -o still9c.pem
kw_pki_same_cert 9c.pem still9c.pem
for i in 1 2 3; do y_fail -a verify-pin -P 000000; done
y_fail -a reset
for i in 1 2 3; do y_fail -a unblock-pin -P 00000000 -N 123456; done
y_fail -a unblock-pin -P 12345678 -N 123456
y -a reset
kw_grep 'Successfully reset the application' "$KW_OUT"
kw_pass "reset only when PIN and PUK are blocked"

# --- after reset: defaults (PIN, PUK, management key), no keys or certificates ---------
y -a status
cp "$KW_OUT" status1
kw_grep '^PIN tries left:[[:space:]]+3$' status1
kw_not_grep '^Slot (9c|9d|82):' status1 "status after reset"
y_fail -a read-certificate -s 9c
y_fail -a read-certificate -s 82
y_fail -a verify-pin -P 123456 -a test-signature -s 9c -i 9c.pem
y -a verify-pin -P 123456
y -a change-puk -P 12345678 -N 87654321
y -a generate -s 9a -A ECCP256 -o pub9a.pem
kw_run openssl pkey -pubin -in pub9a.pem -noout -text
kw_grep 'NIST CURVE: P-256|ASN1 OID: prime256v1' "$KW_OUT"
kw_pass "defaults after reset"

# --- more of the extensions: P-384, RSA-1024 with PIN policy never, retries, -----------
# --- management key, CHUID/CCC, a 3000-byte object (chaining), delete ------------------
y -a generate -s 9e -A ECCP384 -o pub9e.pem
kw_pki_cert pub9e.pem "/CN=keyward 9e" 9e.pem
y -a import-certificate -s 9e -i 9e.pem
y -a test-signature -s 9e -i 9e.pem
kw_grep 'Successful ECDSA verification' "$KW_OUT"
y -a generate -s 9c -A RSA1024 --pin-policy=never -o pub9c-1024.pem
kw_pki_cert pub9c-1024.pem "/CN=keyward 9c 1024" 9c-1024.pem
y -a test-signature -s 9c -i 9c-1024.pem
kw_grep 'Successful RSA verification' "$KW_OUT" "PIN policy never: no PIN needed"
y -a verify-pin -P 123456 -a pin-retries --pin-retries 5 --puk-retries 4
y -a status
kw_grep '^PIN tries left:[[:space:]]+5$' "$KW_OUT" "after pin-retries 5"
NEWKEY=0102030405060708010203040506070801020304050607AA
y -a set-mgm-key -n "$NEWKEY"
y_fail -a set-chuid
y --key="$NEWKEY" -a set-chuid -a set-ccc
y -a status
kw_grep '^CHUID:[[:space:]]+[0-9a-f]{40,}' "$KW_OUT"
kw_grep '^CCC:[[:space:]]+[0-9a-f]{40,}' "$KW_OUT"
head -c 3000 /dev/urandom >blob.bin
y --key="$NEWKEY" -a write-object --id 0x5FC105 --format binary -i blob.bin
y -a read-object --id 0x5FC105 --format binary -o blob.back
cmp -s blob.bin blob.back || kw_fail "3000-byte object read back differs"
y --key="$NEWKEY" -a delete-certificate -s 9e
y_fail -a read-certificate -s 9e
kw_pass "P-384, RSA-1024, PIN policy, retries, management key, CHUID/CCC, objects, delete"

[ "$(kw_apdus 0)" -gt 0 ] || kw_fail "the token's trace has no APDUs"
exit 0
