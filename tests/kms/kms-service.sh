#!/bin/sh
# The front as a service under abuse, with one deployment for the group:
#  - bodies must be application/json (415, no mail sent); control bytes in
#    a path or query are a 400; an RSA ephemeral key with e < 65537 is
#    refused;
#  - /v1/health reports the database and each share server (one stopped:
#    "degraded", share 2 ok:false; back: ok);
#  - connection limits: beyond server.max_per_client a fast 503 "busy";
#    200 connections stuck in the TLS handshake, 150 slow bodies and 1,000
#    parallel keep-alive clients, all from 127.0.0.1, do not keep
#    /v1/health from answering a client on 127.0.0.2 within 1 s;
#  - attestation: two vendor roots with the same name in one file both
#    verify, then a directory of roots, and attestation.require = yes.
KMS_TEST_LIMIT=600
. "$KW_TOP_SRCDIR/tests/kms/kms-env.sh"
ABUSE=$KW_TOP_SRCDIR/tests/kms/abuse.py
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -H -n)" 2>/dev/null || true

# ---- attestation material: two "vendors" whose roots share one name ----
A=$T/att
mkdir -p "$A/dir"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > "$A/ca.ext"
for v in 1 2; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=Test PIV Root CA" -keyout "$A/root$v.key" -out "$A/root$v.pem" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=Test PIV Attestation $v" -keyout "$A/f9$v.key" -out "$A/f9$v.csr" 2>/dev/null
	openssl x509 -req -in "$A/f9$v.csr" -CA "$A/root$v.pem" -CAkey "$A/root$v.key" \
		-set_serial $v -days 30 -extfile "$A/ca.ext" -out "$A/f9$v.pem" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=YubiKey PIV Attestation 9c" -keyout "$A/tok$v.key" -out "$A/tok$v.csr" 2>/dev/null
	openssl x509 -req -in "$A/tok$v.csr" -CA "$A/f9$v.pem" -CAkey "$A/f9$v.key" \
		-set_serial 1$v -days 30 -out "$A/leaf$v.pem" 2>/dev/null
	cp "$A/root$v.pem" "$A/dir/vendor$v.pem"
done
cat "$A/root1.pem" "$A/root2.pem" > "$A/roots.pem"
KMS_EXTRA_CONF="[server]
max_per_client = 16
max_connections = 400
connection_timeout = 20
[validation]
per_client = 1000
[attestation]
ca = $A/roots.pem"
kms_env_write
kms_env_init
kms_start share1
kms_start share2
kms_start front
PORT=$FRONT_PORT

expect() { # status error-code what
	[ "$(status)" = "$1" ] || fail "$3: expected HTTP $1, got $(status): $(cat "$T/body")"
	[ -z "$2" ] || [ "$(json_get error < "$T/body")" = "$2" ] ||
		fail "$3: expected $2, got $(cat "$T/body")"
}
raw() { # curl args... -> status into $T/status, body into $T/body
	curl -s --max-time 20 --cacert "$FRONT_CERT" -o "$T/body" -w '%{http_code}' "$@" \
		> "$T/status" || true
}

# ---- content type, control bytes, exponent ---------------------------
nmail() { ls "$T"/mail/*.eml 2>/dev/null | wc -l; }
m0=$(nmail)
raw -H 'Content-Type: text/plain' --data-binary '{"email":"victim@example.test"}' \
	"$FRONT/v1/validation/start"
expect 415 unsupported_media_type "text/plain body"
raw --data-binary '{"email":"victim@example.test"}' "$FRONT/v1/validation/start"
expect 415 unsupported_media_type "form-encoded body (a web page's simple POST)"
raw -X GET -H 'Content-Type: text/plain' --data-binary 'x' "$FRONT/v1/health"
expect 415 unsupported_media_type "GET with a non-JSON body"
sleep 1
[ "$(nmail)" = "$m0" ] || fail "a mail was sent for a refused request"
raw -H 'Content-Type: application/json; charset=utf-8' --data-binary '{"email":"ct@example.test"}' \
	"$FRONT/v1/validation/start"
expect 202 "" "application/json with a charset"
ok "request bodies must be application/json (415), nothing sent otherwise"

raw "$FRONT/v1/ca%00.pem"; expect 400 bad_request "NUL in the path"
raw "$FRONT/v1/directory?email=alice@example.org%00.evil.test"; expect 400 bad_request "NUL in a query"
raw "$FRONT/v1/directory?email=alice@example.org%0d%0aX:1"; expect 400 bad_request "CR LF in a query"
raw "$FRONT/v1/ca%7f"; expect 400 bad_request "DEL in the path"
raw "$FRONT/v1/ca"; expect 200 "" "the CA still served"
ok "control bytes in path or query: 400"

S=$(session erin@example.test)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 \
	-out "$T/e3.pem" 2>/dev/null
E3=$(openssl pkey -in "$T/e3.pem" -pubout -outform DER | base64 -w0)
api POST /v1/keys/delivery "{\"ephemeral_key\":\"$E3\"}" "$S" > /dev/null
expect 400 bad_key "RSA exponent 3"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/e.pem" 2>/dev/null
EPH=$(openssl pkey -in "$T/e.pem" -pubout -outform DER | base64 -w0)
api POST /v1/keys/delivery "{\"ephemeral_key\":\"$EPH\"}" "$S" > /dev/null
expect 200 "" "RSA exponent 65537"
ok "ephemeral RSA keys with e < 65537 refused"

# ---- health ------------------------------------------------------------
api GET /v1/health > "$T/h"
python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))
assert h["status"] == "ok" and h["db"] == "ok", h
assert [s["ok"] for s in h["shares"]] == [True, True], h' "$T/h" || fail "health: $(cat "$T/h")"
kms_stop share2
for i in $(seq 40); do
	api GET /v1/health > "$T/h"
	grep -q '"status":"degraded"' "$T/h" && break
	sleep 0.25
done
python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))
assert h["status"] == "degraded" and h["db"] == "ok", h
assert [s["ok"] for s in h["shares"]] == [True, False], h' "$T/h" ||
	fail "health with share 2 down: $(cat "$T/h")"
kms_start share2
for i in $(seq 40); do
	api GET /v1/health > "$T/h"
	grep -q '"status":"ok"' "$T/h" && break
	sleep 0.25
done
grep -q '"status":"ok"' "$T/h" || fail "health after share 2 came back: $(cat "$T/h")"
ok "/v1/health reports the database and each share server"

# ---- connection limits and floods -------------------------------------
# probe: /v1/health from another client address, each answer within 1 s
probe() { # what
	for i in 1 2 3; do
		t=$(curl -s --max-time 5 --interface 127.0.0.2 --cacert "$FRONT_CERT" -o "$T/pbody" \
			-w '%{http_code} %{time_total}' "$FRONT/v1/health" || echo "000 5")
		case $t in
		"200 "*) ;;
		*) fail "$1: /v1/health from 127.0.0.2 answered '$t'" ;;
		esac
		python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)' "${t#* }" ||
			fail "$1: /v1/health from 127.0.0.2 took ${t#* } s"
		sleep 0.3
	done
}
probe "idle"

python3 "$ABUSE" limits --port "$PORT" --ca "$FRONT_CERT" --count 40 --seconds 3 > "$T/lim" ||
	fail "limits client"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
assert s["ok"] == 16, s
assert s["busy"] >= 8 and s["slowest_busy"] < 1.0, s' "$T/lim" ||
	fail "per-client limit: $(cat "$T/lim")"
ok "per-client connection limit: 16 served, then a fast 503 busy ($(cat "$T/lim"))"

flood() { # mode count what
	rm -f "$T/ready"
	python3 "$ABUSE" "$1" --port "$PORT" --ca "$FRONT_CERT" --count "$2" --seconds 12 \
		--ready "$T/ready" > "$T/flood" 2>&1 &
	fp=$!
	PIDS="$PIDS $fp"
	for i in $(seq 200); do [ -f "$T/ready" ] && break; sleep 0.1; done
	[ -f "$T/ready" ] || fail "$3: the flood did not start"
	sleep 1
	probe "$3"
	wait "$fp" || true
	ok "$3: /v1/health on 127.0.0.2 answered within 1 s ($(cat "$T/flood"))"
}
flood handshake 200 "200 connections stuck in the TLS handshake"
flood slowbody 150 "150 slow bodies"
flood keepalive 1000 "1,000 keep-alive clients from one address"
api GET /v1/health | grep -q '"status":"ok"' || fail "front unhealthy after the floods"

# ---- attestation ---------------------------------------------------------
csr_of() { python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$1"; }
pem_of() { csr_of "$1"; }
sign_att() { # v -> answer in $T/body
	api POST /v1/certs/sign "{\"csr\":$(csr_of "$A/tok$1.csr"),\"attestation\":[$(pem_of "$A/leaf$1.pem"),$(pem_of "$A/f9$1.pem")]}" "$S" > /dev/null
}
for v in 1 2; do
	sign_att $v
	expect 201 "" "token of vendor $v"
	[ "$(json_get attested < "$T/body")" = True ] || fail "vendor $v not attested: $(cat "$T/body")"
done
ok "two roots with one name in [attestation] ca: both tokens verify"

sed -i "s|^ca = .*|ca = $A/dir\nrequire = yes|" "$T/front.conf"
kms_stop front
kms_start front
for v in 2 1; do
	sign_att $v
	expect 201 "" "token of vendor $v (directory of roots)"
	[ "$(json_get attested < "$T/body")" = True ] || fail "vendor $v not attested (directory)"
done
api POST /v1/certs/sign "{\"csr\":$(csr_of "$A/tok1.csr")}" "$S" > /dev/null
expect 400 attestation_required "no attestation with require = yes"
api POST /v1/certs/sign "{\"csr\":$(csr_of "$A/tok1.csr"),\"attestation\":[$(pem_of "$A/leaf2.pem"),$(pem_of "$A/f92.pem")]}" "$S" > /dev/null
expect 400 bad_attestation "an attestation of another key"
ok "a directory of roots; attestation.require = yes"
sed -i "s|^require = yes|require = maybe|" "$T/front.conf"
"$KMSD" --config "$T/front.conf" --export-audit /dev/null 2> "$T/err" && fail "require = maybe accepted"
grep -q "not a boolean (yes/no)" "$T/err" || fail "unclear boolean error: $(cat "$T/err")"
ok "attestation.require takes yes/no"
echo "kms-service: all passed"
