#!/bin/sh
# Email control validation: right value, wrong value, reused value, expired
# value, attempt limit, per-address rate limit; malformed and oversized
# requests get clear 4xx JSON errors; failed validations are audited.
KMS_EXTRA_CONF='[validation]
per_address = 4
per_client = 7
max_attempts = 3'
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
kms_env_up
A=alice@example.test

expect() { # status error-code
	[ "$(status)" = "$1" ] || fail "expected HTTP $1, got $(status): $(cat "$T/body")"
	[ -z "${2:-}" ] || [ "$(json_get error < "$T/body")" = "$2" ] ||
		fail "expected error $2, got $(cat "$T/body")"
}

# right value -> session; the mail went to the address and the value has
# 26 base32 characters (130 bits)
api POST /v1/validation/start "{\"email\":\"Alice@Example.TEST\"}" > /dev/null; expect 202
v=$(mail_value $A)
[ ${#v} -eq 26 ] || fail "value length ${#v}"
api POST /v1/validation/finish "{\"email\":\"$A\",\"value\":\"$v\"}" > /dev/null; expect 200
S=$(json_get session < "$T/body")
[ ${#S} -eq 64 ] || fail "session token"
ok "right value gives a session"

# reused value: the same answer as a wrong one (nothing tells whether a
# value is pending for an address)
api POST /v1/validation/finish "{\"email\":\"$A\",\"value\":\"$v\"}" > /dev/null
expect 400 wrong_value
cp "$T/body" "$T/reused.json"
api POST /v1/validation/finish '{"email":"nobody@example.test","value":"00000000000000000000000000"}' > /dev/null
expect 400 wrong_value
cmp -s "$T/body" "$T/reused.json" || fail "answers differ: $(cat "$T/body") / $(cat "$T/reused.json")"
ok "reused value refused, same answer as no validation at all"

# wrong value, then the attempt limit voids the right one
api POST /v1/validation/start "{\"email\":\"$A\"}" > /dev/null; expect 202
v=$(mail_value $A)
for i in 1 2 3; do
	api POST /v1/validation/finish "{\"email\":\"$A\",\"value\":\"0000000000000000000000000$i\"}" > /dev/null
	expect 400 wrong_value
done
api POST /v1/validation/finish "{\"email\":\"$A\",\"value\":\"$v\"}" > /dev/null
expect 400 wrong_value
ok "wrong values refused, value void after max_attempts"

# expired: restart the front 1000 s in the future (ttl 900)
B=bob@example.test
api POST /v1/validation/start "{\"email\":\"$B\"}" > /dev/null; expect 202
v=$(mail_value $B)
kms_stop front
KEYWARD_KMS_TIME_OFFSET=1000 kms_start front
api POST /v1/validation/finish "{\"email\":\"$B\",\"value\":\"$v\"}" > /dev/null
expect 400 wrong_value
grep -q '"reason":"expired"' "$(kms_audit)" || fail "expiry not audited as such"
kms_stop front
kms_start front
ok "expired value refused"

# per-address rate limit (4 per window; alice used 2)
api POST /v1/validation/start "{\"email\":\"$A\"}" > /dev/null; expect 202
api POST /v1/validation/start "{\"email\":\"$A\"}" > /dev/null; expect 202
api POST /v1/validation/start "{\"email\":\"$A\"}" > /dev/null; expect 429 rate_limited
ok "per-address rate limit"

# per-client rate limit: 5 starts so far from 127.0.0.1, 7 allowed
api POST /v1/validation/start '{"email":"carol@example.test"}' > /dev/null; expect 202
api POST /v1/validation/start '{"email":"dave@example.test"}' > /dev/null; expect 202
api POST /v1/validation/start '{"email":"erin@example.test"}' > /dev/null; expect 429 rate_limited
grep -q "from this client" "$T/body" || fail "unclear client rate-limit message"
ok "per-client rate limit"

# malformed and oversized requests
api POST /v1/validation/start '{"email":' > /dev/null; expect 400 bad_json
api POST /v1/validation/start '[1,2]' > /dev/null; expect 400 bad_json
api POST /v1/validation/start '{"email":42}' > /dev/null; expect 400 bad_request
api POST /v1/validation/start '{"email":"not-an-address"}' > /dev/null; expect 400 bad_email
api POST /v1/validation/start '{"email":"a@b.c","email":"d@e.f"}' > /dev/null; expect 400 bad_json
python3 -c 'print("{\"email\":\"" + "a"*70000 + "\"}")' > "$T/big.json"
curl -s --max-time 20 --cacert "$FRONT_CERT" -o "$T/body" -w '%{http_code}' \
	-H 'Content-Type: application/json' \
	--data-binary @"$T/big.json" "$FRONT/v1/validation/start" > "$T/status" || true
expect 413 too_large
api GET /v1/nothing > /dev/null; expect 404 not_found
api GET /v1/validation/start > /dev/null; expect 405 method_not_allowed
api POST /v1/keys/delivery '{"ephemeral_key":"AAAA"}' > /dev/null; expect 401 unauthorized
api POST /v1/keys/delivery '{}' "$S" > /dev/null; expect 400 bad_request
api POST /v1/keys/delivery '{"ephemeral_key":"AAAA"}' "$S" > /dev/null; expect 400 bad_key
api GET /v1/health | grep -q ok || fail "front died on bad input"
ok "malformed requests get 4xx JSON errors"

n=$(grep -c '"event":"validation_failed"' "$(kms_audit)")
[ "$n" -ge 5 ] || fail "audit has $n validation_failed entries"
ok "failed validations audited"
echo "kms-validation: all passed"
