#!/bin/sh
# `keyward enroll` interrupted, then rerun, ends in the same state as an
# uninterrupted run: the token pulled right after the 9C key generation,
# the KMS front down while the user types the validation value, the token
# pulled right after the 9D import (key without its certificate). Token 1
# is enrolled without interruption as the reference. Real processes: KMS
# (front + 2 share servers + SMTP sink), pcscd + vpcd + keyward-vcard.
set -u

B=${KW_TOP_BUILDDIR:-$(pwd)}
S=${KW_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
skip() { echo "SKIP: $*"; exit 77; }

if [ -z "${KEYWARD_TESTENV_DIR:-}" ]; then
	for f in tools/keyward/keyward tools/testenv/keyward-testenv kms/keyward-kmsd; do
		[ -x "$B/$f" ] || skip "$f not built"
	done
	for c in pcscd python3 openssl curl softhsm2-util; do
		command -v $c >/dev/null 2>&1 || skip "$c not installed"
	done
	KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S "$B/tools/testenv/keyward-testenv" run \
		--tokens 2 --attest-ca --timeout 400 -- sh "$0" "$@"
	rc=$?
	[ $rc -eq 125 ] && skip "keyward-testenv cannot run in this environment"
	exit $rc
fi

export KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S
KMS_TEST_LIMIT=380
. "$S/tests/kms/kms-env.sh"
kms_env_up
. "$S/tests/integration/enroll-lib.sh"
set +e
FAILS=0
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
good() { echo "ok - $*"; }
S0=$KEYWARD_TESTENV_SERIAL_0
S1=$KEYWARD_TESTENV_SERIAL_1
TRACE=$KEYWARD_TESTENV_DIR/token-0.trace
printf '246810\n' >"$W/pin"
printf '13579135\n' >"$W/puk"
cd "$W" || exit 1

# Pull token 0 (SIGTERM: the card leaves the reader between two APDUs) as
# soon as the trace shows PATTERN (a Python regex over new lines).
pull_on() {
	rm -f "$W/watch.ready"
	python3 - "$TRACE" "$1" "$(cat "$KEYWARD_TESTENV_DIR/token-0.pid")" "$(wc -c <"$TRACE")" "$W/watch.ready" <<'EOF' &
import os, re, signal, sys, time
path, pat, pid = sys.argv[1], re.compile(sys.argv[2]), int(sys.argv[3])
f = open(path)
f.seek(int(sys.argv[4]))   # from where the trace was when asked, however late we start
open(sys.argv[5], "w").close()   # watching: the caller may start the command
end = time.time() + 60
buf = ""
while time.time() < end:
    chunk = f.read()
    if chunk:
        buf += chunk
        lines = buf.split("\n")
        buf = lines[-1]
        if any(pat.search(l) for l in lines[:-1]):
            os.kill(pid, signal.SIGTERM)
            print("pulled", flush=True)
            sys.exit(0)
    else:
        time.sleep(0.001)
sys.exit(1)
EOF
	WATCH=$!
	# A slow machine must not let the command finish before the watcher runs.
	for _i in $(seq 600); do
		[ -f "$W/watch.ready" ] && break
		sleep 0.1
	done
}
# Put token 0 back (same state file, same vpcd port, traced).
plug_in() {
	for i in $(seq 50); do
		kill -0 "$(cat "$KEYWARD_TESTENV_DIR/token-0.pid")" 2>/dev/null || break
		sleep 0.1
	done
	"$KEYWARD_TESTENV_VCARD" --state "$KEYWARD_TESTENV_DIR/token-0.state" \
		--vpcd "127.0.0.1:$KEYWARD_TESTENV_PORT_0" --trace "$TRACE" 2>>"$W/vcard.log" &
	echo $! >"$KEYWARD_TESTENV_DIR/token-0.pid"
	PIDS="$PIDS $!"
	for i in $(seq 50); do
		"$KEYWARD" list 2>/dev/null | grep -q "serial $S0" && return 0
		sleep 0.2
	done
	bad "token 0 did not come back"
}
# Token state without what differs between tokens (serials, keys, dates).
shape() {
	"$KEYWARD" status --token "$1" --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
out = {"pin_default": j["pin"]["default"], "puk_default": j["puk"]["default"],
       "mgmt": j["management_key"], "history": j["key_history"], "slots": {}}
for s in j["slots"]:
    c = s["certificate"]
    out["slots"][s["slot"]] = {"key": s["key"], "match": s["certificate_matches_key"],
        "issuer": c and c.get("issuer"),
        "subject": c and c.get("subject", "").replace(sys.argv[1], "ADDR")}
print(json.dumps(out, indent=1, sort_keys=True))' "$2"
}

# --- reference: token 1 without interruption --------------------------------
kw_verb enroll ref bob@example.test --token "$S1" --pin-file pin --puk-file puk ||
	{ bad "reference enrollment"; cat ref.err; }
shape "$S1" bob@example.test >ref.shape

# --- 1. token pulled right after GENERATE in 9C (at the attestation) ----------
pull_on '^> 00F99C'
kw_verb enroll i1 alice@example.test --token "$S0" --pin-file pin --puk-file puk
rc=$?
wait "$WATCH" && [ $rc -ne 0 ] && good "pulled after key generation: enroll fails ($rc)" ||
	{ bad "interruption 1 did not happen (rc $rc)"; cat i1.err; }
grep -q "was it pulled out" i1.err && grep -q "run the same command again" i1.err && good "clear message for the pulled token" ||
	{ bad "message for the pulled token"; cat i1.err; }
# A token that dies at the attestation stops the enrollment there: no
# "gives no attestation" and no certificate request afterwards.
grep -q "failed at the attestation" i1.err && ! grep -q "gives no attestation" i1.err &&
	! grep -q "signs the certificate request" i1.err &&
	good "the token dying at the attestation stops the enrollment there" ||
	{ bad "the enrollment went on after the attestation failed"; cat i1.err; }
plug_in

# --- 2. KMS front down while the user types the validation value --------------
mkfifo value.fifo
rm -f "$T"/mail/*.eml
"$KEYWARD" enroll --email alice@example.test --kms "$FRONT" --kms-ca "$FRONT_CERT" \
	--token "$S0" --pin-file pin --puk-file puk --json <value.fifo >i2.json 2>i2.err &
kpid=$!
exec 7>value.fifo
v=$(mail_value alice@example.test)
kms_stop front
echo "$v" >&7
exec 7>&-
wait $kpid
rc=$?
[ $rc -eq 1 ] && grep -q "email validation failed" i2.err && good "KMS down: enroll fails with a clear message" ||
	{ bad "KMS down (rc $rc)"; cat i2.err; }
"$KEYWARD" status --token "$S0" --json >mid.json
python3 -c 'import json,sys
j=json.load(open("mid.json")); s=[x for x in j["slots"] if x["slot"]=="9c"]
sys.exit(0 if s and s[0]["key"] and s[0]["certificate"] is None else 1)' &&
	good "meanwhile 9C holds a key and no certificate (never a foreign one)" || bad "9C state mid-way"
kms_start front

# --- 3. token pulled right after the 9D import ----------------------------------
pull_on '^> 00FE..9D'
kw_verb enroll i3 alice@example.test --token "$S0" --pin-file pin --puk-file puk
rc=$?
wait "$WATCH" && [ $rc -ne 0 ] && good "pulled after the 9D import: enroll fails ($rc)" ||
	{ bad "interruption 3 did not happen (rc $rc)"; cat i3.err; }
grep -q "reusing the key generated by the interrupted run" i3.err &&
	good "the rerun reused the 9C key of the interrupted run" || bad "9C key not reused"
plug_in
"$KEYWARD" status --token "$S0" --json >mid3.json
python3 -c 'import json,sys
j=json.load(open("mid3.json"))
sys.exit(0 if all(s["certificate_matches_key"] is not False for s in j["slots"]) else 1)' &&
	good "no slot holds a key whose certificate points elsewhere" || bad "mismatched slot after pull"

# --- final rerun: same end state as the uninterrupted run ----------------------
kw_verb enroll fin alice@example.test --token "$S0" --pin-file pin --puk-file puk
rc=$?
[ $rc -eq 0 ] && good "final rerun completes" || { bad "final rerun (rc $rc)"; cat fin.err; }
shape "$S0" alice@example.test >fin.shape
if cmp -s ref.shape fin.shape; then good "end state equals the uninterrupted run's"
else bad "end state differs"; diff ref.shape fin.shape; fi
jq_py fin.json 'j["signing"]["already_done"]' | grep -q False && good "signing done once" || true

echo "$FAILS failure(s)"
[ $FAILS -eq 0 ]
