#!/bin/sh
# Delivery through libkwkms: each key unwrapped with the client's ephemeral
# key matches its escrow certificate (public-key hash from the directory,
# CMS decryption); rotation keeps older keys deliverable; with one share
# server stopped delivery and enrollment fail clearly and write nothing.
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
S=$(session erin@example.test)
K="$KWKMS --url $FRONT --ca $FRONT_CERT --session $S"

pubhash() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
	sha256sum | cut -d' ' -f1 | tr a-f A-F; }
shares_in() { sql "$T/$1/kms.sqlite" 'SELECT COUNT(*) FROM shares'; }

api GET '/v1/directory?email=erin@example.test' > /dev/null
[ "$(status)" = 404 ] || fail "directory before enrollment: $(status)"
$K fetch > "$T/keys" || fail "first delivery"
[ "$(wc -l < "$T/keys")" -eq 1 ] || fail "one key expected"
$K directory erin@example.test > "$T/enc1.crt" || fail "directory"
[ "$(cut -d' ' -f4 "$T/keys")" = "$(pubhash "$T/enc1.crt")" ] ||
	fail "delivered key does not match the directory certificate"
[ "$(shares_in share1)" = 1 ] && [ "$(shares_in share2)" = 1 ] || fail "one share on each server"
echo "to erin, first key" > "$T/m1"
openssl cms -encrypt -binary -aes256 -in "$T/m1" -outform PEM -out "$T/m1.cms" "$T/enc1.crt"
$K fetch --cms "$T/m1.cms" > "$T/out" 2>/dev/null || fail "CMS decrypt with delivered key"
cmp -s "$T/m1" "$T/out" || fail "CMS plaintext differs"
ok "delivery roundtrip; key matches its escrow certificate"

# rotation forced by the admin, then automatic rotation near expiry
api POST /v1/admin/rotate '{"email":"erin@example.test"}' "$ADMIN" > /dev/null
[ "$(status)" = 200 ] || fail "admin rotate: $(cat "$T/body")"
kms_stop front
# 1095-day certificates, rotate 30 days before: jump 1080 days ahead
KEYWARD_KMS_TIME_OFFSET=$((1080 * 86400)) kms_start front
S=$(session erin@example.test) # the old session expired with the jump
K="$KWKMS --url $FRONT --ca $FRONT_CERT --session $S"
$K fetch > "$T/keys" || fail "delivery after rotation"
[ "$(wc -l < "$T/keys")" -eq 3 ] || fail "expected 3 keys, got: $(cat "$T/keys")"
[ "$(head -1 "$T/keys" | cut -d' ' -f1,3)" = "3 1" ] || fail "newest key not current first"
[ "$(tail -1 "$T/keys" | cut -d' ' -f1,3)" = "1 0" ] || fail "oldest key missing"
$K fetch --cms "$T/m1.cms" > "$T/out" 2>/dev/null || fail "old mail unreadable after rotation"
cmp -s "$T/m1" "$T/out" || fail "old CMS plaintext differs"
$K directory erin@example.test > "$T/enc3.crt"
[ "$(head -1 "$T/keys" | cut -d' ' -f4)" = "$(pubhash "$T/enc3.crt")" ] ||
	fail "directory does not give the current key"
grep -q '"reason":"rotation"' "$(kms_audit)" || fail "rotation not audited"
kms_stop front
kms_start front
S=$(session erin@example.test)
K="$KWKMS --url $FRONT --ca $FRONT_CERT --session $S"
ok "rotation: three keys, old mail still decrypts, directory has the newest"

# one share server down
kms_stop share2
$K fetch > /dev/null 2> "$T/err" && fail "delivery with a share server down"
grep -q "share_server_unavailable" "$T/err" && grep -q "share server 2" "$T/err" ||
	fail "unclear error: $(cat "$T/err")"
before1=$(shares_in share1)
S2=$(session frank@example.test)
$KWKMS --url "$FRONT" --ca "$FRONT_CERT" --session "$S2" fetch > /dev/null 2> "$T/err" &&
	fail "enrollment with a share server down"
grep -q "share server 2" "$T/err" || fail "unclear enrollment error: $(cat "$T/err")"
[ "$(shares_in share1)" = "$before1" ] || fail "a share was left on share server 1"
[ "$(sql "$T/front/kms.sqlite" "SELECT COUNT(*) FROM enc_keys WHERE email='frank@example.test'")" = 0 ] ||
	fail "key record left behind"
[ "$(sql "$T/front/kms.sqlite" "SELECT COUNT(*) FROM certs WHERE email='frank@example.test'")" = 0 ] ||
	fail "certificate left behind"
grep -q '"event":"delivery_failed"' "$(kms_audit)" || fail "failure not audited"
kms_start share2
$K fetch > "$T/keys" || fail "delivery after the share server is back"
[ "$(wc -l < "$T/keys")" -eq 3 ] || fail "keys after recovery"
ok "share server down: clear 503, nothing half-written, recovers"
grep -q '"event":"delivery"' "$(kms_audit)" || fail "delivery not audited"
echo "kms-delivery: all passed"
