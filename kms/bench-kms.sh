#!/bin/sh
# bench-kms.sh: keyward-kmsd throughput on this machine (not a test).
#   enrollments/s (validation + first delivery) with the key pool on and off,
#   deliveries/s of an enrolled user, CA issuance (CSR -> cert) per second,
#   next to `openssl speed -seconds 2 rsa2048` sign/s (the CA's ceiling).
# Usage: kms/bench-kms.sh [BUILDDIR]   (N_ENROLL, N_DELIVER, N_SIGN to tune)
# Everything runs on 127.0.0.1 with free ports, under a temporary directory.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
KW_TOP_SRCDIR=$top
KW_TOP_BUILDDIR=$(cd "${1:-$top}" && pwd)
export KW_TOP_SRCDIR KW_TOP_BUILDDIR
N_ENROLL=${N_ENROLL:-10}
N_DELIVER=${N_DELIVER:-20}
N_SIGN=${N_SIGN:-30}
KMS_TEST_LIMIT=900
now() { date +%s.%N; }
rate() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" "$@"; }

run_env() { # pool size -> sets up a deployment
	KMS_POOL_SIZE=$1
	KMS_EXTRA_CONF='[validation]
per_client = 100000
per_address = 100000'
	. "$top/tests/kms/kms-env.sh"
	kms_env_up
}

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out /tmp/kw-bench-eph.$$ 2>/dev/null
EPH=$(openssl pkey -in /tmp/kw-bench-eph.$$ -pubout -outform DER | base64 -w0)
rm -f /tmp/kw-bench-eph.$$

# burst N PATH BODYFILE TOKEN STATUS: N POSTs over one keep-alive connection
burst() {
	urls=$(for i in $(seq "$1"); do printf '%s%s ' "$FRONT" "$2"; done)
	# shellcheck disable=SC2086
	curl -s --max-time 600 --cacert "$FRONT_CERT" -H "Authorization: Bearer $4" \
		-H 'Content-Type: application/json' --data-binary @"$3" \
		-w '%{stderr}%{http_code}\n' $urls > /dev/null 2> "$T/codes" || true
	[ "$(grep -c "^$5\$" "$T/codes")" = "$1" ] || fail "burst $2: $(sort "$T/codes" | uniq -c)"
}

enroll_n() { # prefix: validate N new users (untimed), then time the whole
	# enrollment (validation + first delivery) and the first delivery alone
	printf '{"ephemeral_key":"%s"}' "$EPH" > "$T/d.json"
	: > "$T/sessions"
	t0=$(now)
	for i in $(seq "$N_ENROLL"); do
		session "$1$i@bench.test" >> "$T/sessions"
	done
	t1=$(now)
	while read -r S; do
		curl -s --max-time 60 --cacert "$FRONT_CERT" -H "Authorization: Bearer $S" \
			-H 'Content-Type: application/json' --data-binary @"$T/d.json" \
			-o /dev/null -w '%{http_code}\n' "$FRONT/v1/keys/delivery" >> "$T/codes1"
	done < "$T/sessions"
	t2=$(now)
	[ "$(grep -c '^200$' "$T/codes1")" = "$N_ENROLL" ] || fail "first deliveries"
	echo "$(rate "$N_ENROLL" "$t0" "$t2") $(rate "$N_ENROLL" "$t1" "$t2")"
}

# pool on: wait until the pool holds N_ENROLL keys
(
	run_env "$N_ENROLL"
	for i in $(seq 600); do
		lvl=$(api GET /v1/health | json_get pool)
		[ "$lvl" -ge "$N_ENROLL" ] && break
		sleep 0.5
	done
	echo "enroll_pool_on $(enroll_n p)" > /tmp/kw-bench-res.$$
	S=$(session p1@bench.test)
	printf '{"ephemeral_key":"%s"}' "$EPH" > "$T/d.json"
	t0=$(now)
	burst "$N_DELIVER" /v1/keys/delivery "$T/d.json" "$S" 200
	echo "deliver $(rate "$N_DELIVER" "$t0" "$(now)")" >> /tmp/kw-bench-res.$$
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-subj /CN=b -out "$T/b.csr" 2>/dev/null
	python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' \
		"$T/b.csr" > "$T/csr.json"
	t0=$(now)
	burst "$N_SIGN" /v1/certs/sign "$T/csr.json" "$S" 201
	echo "sign $(rate "$N_SIGN" "$t0" "$(now)")" >> /tmp/kw-bench-res.$$
)
(
	run_env 0
	echo "enroll_pool_off $(enroll_n q)" >> /tmp/kw-bench-res.$$
)
ossl=$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
res() { awk -v k="$1" -v f="${2:-2}" '$1 == k {print $f}' /tmp/kw-bench-res.$$; }
cat <<EOT
keyward-kmsd benchmark ($(nproc) cores, SoftHSMv2, RSA-2048 escrow and CA keys;
enrollments: one curl process per step, each with its own TLS handshake;
deliveries and issuance: one keep-alive connection, requests in sequence)
  enrollments/s, pool on  (validation, mail, first delivery):       $(res enroll_pool_on)
  enrollments/s, pool off (RSA-2048 keygen in the request):         $(res enroll_pool_off)
  first deliveries/s (key creation + escrow + delivery), pool on:  $(res enroll_pool_on 3)
  first deliveries/s, pool off:                                    $(res enroll_pool_off 3)
  deliveries/s (recover from 2 share servers, re-wrap in the HSM):   $(res deliver)
  CA issuance/s (CSR -> signing certificate, signed in the HSM):     $(res sign)
  openssl speed rsa2048 sign/s (one core, the CA's ceiling):        $ossl
EOT
rm -f /tmp/kw-bench-res.$$
