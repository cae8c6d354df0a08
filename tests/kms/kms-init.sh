#!/bin/sh
# keyward-kmsd --help, --init of a local deployment (front + 2 share
# servers), refusal to re-initialize, clear config errors, servers coming
# up over TLS with the CA certificate served.
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"

"$KMSD" --help | grep -q -- "--init" || fail "--help"
"$KMSD" > /dev/null 2>&1 && fail "no --config must fail"
printf '[server]\nrole = front\nstate_dir = %s/x\nbogus = 1\n' "$T" > "$T/bad.conf"
"$KMSD" --config "$T/bad.conf" 2> "$T/err" && fail "bad config accepted"
grep -q "unknown key server.bogus" "$T/err" || fail "unclear config error: $(cat "$T/err")"
ok "help and config errors"

kms_env_write
kms_env_init
for d in front share1 share2; do
	[ -f "$T/$d/kms.sqlite" ] && [ -f "$T/$d/tls.crt" ] && [ -f "$T/$d/tls.key" ] ||
		fail "$d state missing"
	grep -q "ENCRYPTED PRIVATE KEY" "$T/$d/tls.key" || fail "$d TLS key not encrypted"
	[ "$(stat -c %a "$T/$d/hsm.pin")" = 600 ] || fail "$d PIN file mode"
done
[ "$(stat -c %a "$T/front/admin.token")" = 600 ] || fail "admin token mode"
openssl verify -CAfile "$CA" "$CA" > /dev/null || fail "CA cert does not verify"
openssl x509 -in "$CA" -noout -ext basicConstraints,keyUsage | grep -q "CA:TRUE" ||
	fail "CA basicConstraints"
ok "init created front and share state"

"$KMSD" --init --config "$T/front.conf" > /dev/null 2> "$T/err" && fail "re-init accepted"
grep -q "already initialized" "$T/err" || fail "unclear re-init error"
ok "re-init refused"

kms_start share1
kms_start share2
kms_start front
api GET /v1/health | grep -q '"role":"front"' || fail "front health"
curl -sf --max-time 5 --cacert "$T/share1/tls.crt" "https://127.0.0.1:$SHARE1_PORT/v1/health" |
	grep -q '"role":"share"' || fail "share health"
api GET /v1/ca > "$T/served-ca.pem"
cmp -s "$T/served-ca.pem" "$CA" || fail "served CA differs"
# A share server refuses requests without the front's token.
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' --cacert "$T/share1/tls.crt" \
	"https://127.0.0.1:$SHARE1_PORT/v1/shares/00000000000000000000000000000000/1")
[ "$code" = 401 ] || fail "share server without token: $code"
ok "servers up over TLS"
echo "kms-init: all passed"
