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

enroll_n() { # prefix
	t0=$(now)
	for i in $(seq "$N_ENROLL"); do
		S=$(session "$1$i@bench.test")
		api POST /v1/keys/delivery "{\"ephemeral_key\":\"$EPH\"}" "$S" > /dev/null
		[ "$(status)" = 200 ] || fail "enrollment $i: $(cat "$T/body")"
	done
	t1=$(now)
	rate "$N_ENROLL" "$t0" "$t1"
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
	t0=$(now)
	for i in $(seq "$N_DELIVER"); do
		api POST /v1/keys/delivery "{\"ephemeral_key\":\"$EPH\"}" "$S" > /dev/null
		[ "$(status)" = 200 ] || fail "delivery"
	done
	echo "deliver $(rate "$N_DELIVER" "$t0" "$(now)")" >> /tmp/kw-bench-res.$$
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-subj /CN=b -out "$T/b.csr" 2>/dev/null
	CSR=$(python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$T/b.csr")
	t0=$(now)
	for i in $(seq "$N_SIGN"); do
		api POST /v1/certs/sign "$CSR" "$S" > /dev/null
		[ "$(status)" = 201 ] || fail "sign"
	done
	echo "sign $(rate "$N_SIGN" "$t0" "$(now)")" >> /tmp/kw-bench-res.$$
)
(
	run_env 0
	echo "enroll_pool_off $(enroll_n q)" >> /tmp/kw-bench-res.$$
)
ossl=$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
res() { awk -v k="$1" '$1 == k {print $2}' /tmp/kw-bench-res.$$; }
cat <<EOT
keyward-kmsd benchmark ($(nproc) cores, SoftHSMv2, RSA-2048 escrow and CA keys;
each request is one curl process, so rates include its TLS handshake)
  enrollments/s, key pool on  (validation + mail + first delivery): $(res enroll_pool_on)
  enrollments/s, key pool off (RSA-2048 keygen in the request):     $(res enroll_pool_off)
  deliveries/s (recover from 2 share servers, re-wrap in the HSM):   $(res deliver)
  CA issuance/s (CSR -> signing certificate, signed in the HSM):     $(res sign)
  openssl speed rsa2048 sign/s (one core, the CA's ceiling):        $ossl
EOT
rm -f /tmp/kw-bench-res.$$
