#!/bin/sh
# bench-kms.sh: keyward-kmsd throughput on this machine (a measurement, not
# a test). For 1, 2, 4, 8 and 16 concurrent HTTPS clients (processes, one
# keep-alive connection each, requests back to back) it measures:
#   CA issuance         POST /v1/certs/sign (P-256 CSR -> certificate, HSM-signed)
#   first delivery      POST /v1/keys/delivery with a new user's session
#                       (escrow key from the pool, split, 2 share writes,
#                       certificate, then recovered and re-wrapped)
#   repeat delivery     POST /v1/keys/delivery of an enrolled user
#   directory lookup    GET /v1/directory?email=
# and prints the issue's table: best req/s and p99 latency at 16 clients,
# next to `openssl speed rsa2048` sign/s measured in the same run.
# Usage: kms/bench-kms.sh [BUILDDIR]   (SECONDS per point, default 3;
# FIRST_PER_POINT first deliveries per point, default 48)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
KW_TOP_SRCDIR=$top
KW_TOP_BUILDDIR=$(cd "${1:-$top}" && pwd)
export KW_TOP_SRCDIR KW_TOP_BUILDDIR
SECONDS_PER=${SECONDS:-3}
FIRST_PER=${FIRST_PER_POINT:-48}
CLIENTS="1 2 4 8 16"
KMS_TEST_LIMIT=1800
KMS_POOL_SIZE=$((FIRST_PER * 5 + 16))
KMS_EXTRA_CONF='[validation]
per_client = 1000000
per_address = 1000000
[server]
max_per_client = 256'
. "$top/tests/kms/kms-env.sh"
BC="python3 $top/kms/bench_client.py"
kms_env_up

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/eph.pem" 2>/dev/null
printf '{"ephemeral_key":"%s"}' "$(openssl pkey -in "$T/eph.pem" -pubout -outform DER |
	base64 -w0)" > "$T/deliver.json"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj /CN=b -out "$T/b.csr" 2>/dev/null
python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' \
	"$T/b.csr" > "$T/sign.json"

echo "setting up: one enrolled user, $((FIRST_PER * 5)) validated new users, the key pool" >&2
S=$(session bench@bench.test)
api POST /v1/keys/delivery "$(cat "$T/deliver.json")" "$S" > /dev/null
[ "$(status)" = 200 ] || fail "first delivery of the bench user"
$BC sessions --url "$FRONT" --ca "$FRONT_CERT" --maildir "$T/mail" --prefix new \
	--count $((FIRST_PER * 5)) > "$T/sessions" || fail "cannot make sessions"
for i in $(seq 1200); do
	lvl=$(api GET /v1/health | json_get pool)
	[ "$lvl" -ge $((FIRST_PER * 5)) ] && break
	sleep 1
done
echo "pool: $lvl keys" >&2

run() { # op clients [extra args] -> JSON line appended to $T/results
	op=$1 n=$2
	shift 2
	$BC "$op" --url "$FRONT" --ca "$FRONT_CERT" --clients "$n" --seconds "$SECONDS_PER" "$@" \
		>> "$T/results"
	tail -1 "$T/results" >&2
}
: > "$T/results"
k=0
for n in $CLIENTS; do
	run sign "$n" --session "$S" --body "$T/sign.json"
	sed -n "$((k * FIRST_PER + 1)),$(((k + 1) * FIRST_PER))p" "$T/sessions" > "$T/s.$n"
	run first "$n" --sessions "$T/s.$n" --body "$T/deliver.json" --seconds 120
	run deliver "$n" --session "$S" --body "$T/deliver.json"
	run directory "$n" --email bench@bench.test
	k=$((k + 1))
done
ossl=$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
cores=$(nproc)
python3 - "$T/results" "$ossl" "$cores" <<'EOP'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ossl, cores = float(sys.argv[2]), int(sys.argv[3])
names = {"sign": "CA issuance", "first": "first key delivery, new user",
         "deliver": "repeat delivery", "directory": "directory lookup"}
print("keyward-kmsd benchmark: %d cores, SoftHSMv2, RSA-2048 CA and escrow keys, "
      "server.threads = %d" % (cores, cores))
print("openssl speed rsa2048 (same run): %.0f sign/s per core, x %d cores = %.0f"
      % (ossl, cores, ossl * cores))
print()
print("| operation | " + " | ".join("%d cl." % c for c in (1, 2, 4, 8, 16)) +
      " | best req/s | p99 at 16 clients | errors |")
print("|---|" + "---|" * 8)
for op in ("sign", "first", "deliver", "directory"):
    rs = {r["clients"]: r for r in rows if r["op"] == op}
    best = max(r["rps"] for r in rs.values())
    print("| %s | %s | %.0f | %.0f ms | %d |" % (
        names[op], " | ".join("%.0f" % rs[c]["rps"] for c in (1, 2, 4, 8, 16)), best,
        rs[16]["p99_ms"], sum(r["errors"] for r in rs.values())))
print()
print("CA issuance, best: %.0f %% of openssl sign/s x cores" % (
    100.0 * max(r["rps"] for r in rows if r["op"] == "sign") / (ossl * cores)))
EOP
