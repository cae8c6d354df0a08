#!/bin/sh
# No private key in clear in any file the KMS writes: after enrollments,
# a rotation and deliveries, every file under the three state directories
# (SQLite databases and WAL, SoftHSM token files, logs, TLS files) is
# scanned for PEM private keys, DER PKCS#8/RSA private keys and the bytes
# of the delivered keys. Also: the audit log's hash chain holds and a
# tampered copy is detected.
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
: > "$T/probes"
for u in ivan judy; do
	S=$(session $u@example.test)
	"$KWKMS" --url "$FRONT" --ca "$FRONT_CERT" --session "$S" fetch --probe >> "$T/probes" ||
		fail "delivery for $u"
done
api POST /v1/admin/rotate '{"email":"ivan@example.test"}' "$ADMIN" > /dev/null
S=$(session ivan@example.test)
"$KWKMS" --url "$FRONT" --ca "$FRONT_CERT" --session "$S" fetch --probe >> "$T/probes" ||
	fail "delivery after rotation"
[ "$(wc -l < "$T/probes")" -eq 4 ] || fail "probes: $(cat "$T/probes")"
kms_stop front
kms_stop share1
kms_stop share2

SCAN=$KW_TOP_SRCDIR/tests/kms/scan_keys.py
[ "$(wc -l < "$T/probes")" -eq 4 ] && [ -n "$(cut -d' ' -f5 "$T/probes")" ] || fail "no probes"
python3 "$SCAN" "$T/probes" "$T/front" "$T/share1" "$T/share2" > "$T/scan" ||
	{ cat "$T/scan" >&2; fail "cleartext key material found"; }
grep -q "scanned [1-9][0-9] files, 4 probes" "$T/scan" || fail "scan: $(cat "$T/scan")"
# the scanner itself must find planted keys
mkdir -p "$T/plant/a" "$T/plant/b" "$T/plant/c"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/plant/k.pem" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$T/plant/k.pem" -outform DER -out "$T/plant/a/k8.der"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out "$T/plant/b/ec.der"
{ printf 'junk'; cat "$T/plant/a/k8.der"; } > "$T/plant/c/embedded.bin"
for d in a b c; do
	python3 "$SCAN" /dev/null "$T/plant/$d" > /dev/null && fail "scanner missed plant/$d"
done
ok "no cleartext private key in any KMS file"

"$KMSD" --verify-audit "$(kms_audit)" > "$T/v" || fail "audit chain broken"
"$KMSD" --verify-audit "$T/front/kms.sqlite" > "$T/v2" || fail "audit chain in the database broken"
[ "$(cut -d' ' -f2 "$T/v")" = "$(cut -d' ' -f2 "$T/v2")" ] || fail "export and database differ"
for e in validation_sent validated issue delivery; do
	grep -q "\"event\":\"$e\"" "$(kms_audit)" || fail "no $e in the audit log"
done
sed '3s/"event":"[a-z_]*"/"event":"forged"/' "$(kms_audit)" > "$T/forged.log"
"$KMSD" --verify-audit "$T/forged.log" > /dev/null 2>&1 && fail "tampered audit log accepted"
sed '2d' "$(kms_audit)" > "$T/cut.log"
"$KMSD" --verify-audit "$T/cut.log" > /dev/null 2>&1 && fail "truncated audit log accepted"
ok "audit log chain intact; tampering detected"
echo "kms-scan: all passed"
