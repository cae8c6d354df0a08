#!/bin/sh
# The audit log fails closed: the front's state directory (database and
# audit chain) is a small tmpfs in this test's own mount namespace; with
# it full, validation, delivery (first and repeat), signing, revocation,
# passwords, identities and rotation answer 503 storage_unavailable and
# change nothing (no row, no share, no mail, the old validation value and
# the certificate still as they were). When space returns everything works
# and --verify-audit finds the chain intact, in the database and exported.
if [ -z "${KMS_IN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null || { echo "SKIP: needs root and mount namespaces"; exit 77; }
	KMS_IN_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
KMS_POOL_SIZE=0
KMS_TEST_LIMIT=420
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_write
mkdir -p "$T/front"
mount -t tmpfs -o size=24m,mode=0700 kw-kms-full "$T/front" || fail "cannot mount a tmpfs"
KMS_UMOUNT=$T/front
kms_env_init
kms_start share1
kms_start share2
kms_start front

expect() { # status [error-code] what
	[ "$(status)" = "$1" ] || fail "$3: expected HTTP $1, got $(status): $(cat "$T/body")"
	[ -z "$2" ] || [ "$(json_get error < "$T/body")" = "$2" ] ||
		fail "$3: expected $2, got $(cat "$T/body")"
}
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/eph.pem" 2>/dev/null
EPH=$(openssl pkey -in "$T/eph.pem" -pubout -outform DER | base64 -w0)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj /CN=x -out "$T/x.csr" 2>/dev/null
CSR=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/x.csr")

# before: an enrolled user with a signing certificate, a second user with
# a session but no key yet, a third with a pending validation value
SA=$(session alice@example.test)
api POST /v1/keys/delivery "{\"ephemeral_key\":\"$EPH\"}" "$SA" > /dev/null; expect 200 "" "first delivery"
api POST /v1/certs/sign "{\"csr\":$CSR}" "$SA" > /dev/null; expect 201 "" "sign"
SERIAL=$(json_get serial < "$T/body")
SB=$(session bob@example.test)
rm -f "$T"/mail/*.eml
api POST /v1/validation/start '{"email":"carol@example.test"}' > /dev/null; expect 202 "" "start"
VC=$(mail_value carol@example.test)
for i in $(seq 50); do
	[ "$(sql "$T/front/kms.sqlite" 'SELECT COUNT(*) FROM outbox')" = 0 ] && break
	sleep 0.1
done

snapshot() { # row counts of everything an action could change, in one python
	python3 - "$T" <<'EOP'
import glob, sqlite3, sys
t = sys.argv[1]
f = sqlite3.connect(t + "/front/kms.sqlite")
for q in ["audit", "certs", "certs WHERE revoked_at IS NOT NULL", "enc_keys", "sessions",
          "passwords", "challenges", "challenges WHERE used = 0", "outbox", "identities",
          "escrow_intents"]:
    print(q, f.execute("SELECT COUNT(*) FROM " + q).fetchone()[0])
for s in ("share1", "share2"):
    print(s, sqlite3.connect(t + "/" + s + "/kms.sqlite").execute(
        "SELECT COUNT(*) FROM shares").fetchone()[0])
print("mail", len(glob.glob(t + "/mail/*.eml")))
EOP
}
snapshot > "$T/before"

# fill the file system
dd if=/dev/zero of="$T/front/filler" bs=64k 2>/dev/null || true
[ "$(df --output=avail "$T/front" | tail -1)" -lt 64 ] || fail "tmpfs not full"
api POST /v1/validation/start '{"email":"dave@example.test"}' > /dev/null
expect 503 storage_unavailable "validation start on a full disk"
api POST /v1/validation/finish "{\"email\":\"carol@example.test\",\"value\":\"$VC\"}" > /dev/null
expect 503 storage_unavailable "validation finish on a full disk"
api POST /v1/keys/delivery "{\"ephemeral_key\":\"$EPH\"}" "$SA" > /dev/null
expect 503 storage_unavailable "repeat delivery on a full disk"
grep -q wrapped_key "$T/body" && fail "keys handed out unaudited"
api POST /v1/keys/delivery "{\"ephemeral_key\":\"$EPH\"}" "$SB" > /dev/null
expect 503 storage_unavailable "first delivery on a full disk"
api POST /v1/certs/sign "{\"csr\":$CSR}" "$SA" > /dev/null
expect 503 storage_unavailable "signing on a full disk"
api POST /v1/certs/revoke "{\"serial\":\"$SERIAL\",\"reason\":1}" "$SA" > /dev/null
expect 503 storage_unavailable "revocation on a full disk"
api POST /v1/password '{"password":"correct horse battery"}' "$SB" > /dev/null
expect 503 storage_unavailable "password on a full disk"
api POST /v1/admin/identity '{"email":"bob@example.test","level":"V3","organization":"O"}' "$ADMIN" > /dev/null
expect 503 storage_unavailable "identity on a full disk"
api POST /v1/admin/rotate '{"email":"alice@example.test"}' "$ADMIN" > /dev/null
expect 503 storage_unavailable "rotation on a full disk"
sleep 1
snapshot > "$T/during"
diff "$T/before" "$T/during" >&2 || fail "something changed while the audit log could not be written"
ok "audit storage full: every action refused with 503, nothing changed"

# space returns
rm -f "$T/front/filler"
api POST /v1/validation/finish "{\"email\":\"carol@example.test\",\"value\":\"$VC\"}" > /dev/null
expect 200 "" "the old validation value after space returned"
api POST /v1/keys/delivery "{\"ephemeral_key\":\"$EPH\"}" "$SB" > /dev/null; expect 200 "" "first delivery"
api POST /v1/certs/revoke "{\"serial\":\"$SERIAL\",\"reason\":1}" "$SA" > /dev/null; expect 200 "" "revoke"
api POST /v1/admin/rotate '{"email":"alice@example.test"}' "$ADMIN" > /dev/null; expect 200 "" "rotate"
api POST /v1/validation/start '{"email":"dave@example.test"}' > /dev/null; expect 202 "" "start"
mail_value dave@example.test > /dev/null
"$KMSD" --verify-audit "$T/front/kms.sqlite" > "$T/v" || fail "chain broken in the database"
"$KMSD" --verify-audit "$(kms_audit)" > "$T/v2" || fail "exported chain broken"
n=$(cut -d' ' -f2 "$T/v")
[ "$n" -gt "$(sed -n 's/^audit //p' "$T/before")" ] || fail "no new entries"
for e in validated delivery revoke issue validation_sent; do
	grep -q "\"event\":\"$e\"" "$T/audit.jsonl" || fail "no $e entry after space returned"
done
ok "after space returns: actions work, chain intact ($n entries)"
echo "kms-audit-full: all passed"
