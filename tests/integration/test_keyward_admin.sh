#!/bin/sh
# keyward's administration verbs against real virtual tokens, and the batch
# enrollment: `pin change` (PIN and PUK), a wrong PIN reported once with the
# tries left and never retried, `pin unblock`, `reset` (refused without
# confirmation, then back to factory defaults), `enroll --batch` of two
# tokens on two readers (per-token report, text and JSON, a bad line
# reported), and `recover` of a replacement token (same encryption key, new
# signing key, the lost token's certificate revoked).
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
R0=$KEYWARD_TESTENV_READER_0
TRACE=$KEYWARD_TESTENV_DIR/token-0.trace
cd "$W" || exit 1
for v in 12 123456 12345678 11223344 55667788 99999999 87654321; do printf '%s\n' $v >p$v; done
left() { "$KEYWARD" status --token "$S0" --json | jq_py /dev/stdin "j['$1']['retries_left']"; }

# --- token selection by RFC 7512 URI ---------------------------------------------
"$KEYWARD" status --token "pkcs11:model=PIV;serial=$S1" --json >sel.json &&
	jq_py sel.json 'j["serial"]' | grep -qx "$S1" && good "--token pkcs11:...;serial=N picks that token" ||
	bad "pkcs11: URI selection"
"$KEYWARD" status --token "pkcs11:model=PIV" 2>err; [ $? -eq 2 ] && grep -q "serial" err &&
	good "a pkcs11: URI without serial is refused clearly" || bad "pkcs11: URI without serial"

# --- pin change / unblock ------------------------------------------------------
"$KEYWARD" pin change --token "$S0" --pin-file p123456 --new-pin-file p11223344 >out 2>err &&
	grep -q "PIN changed" out && good "pin change" || { bad "pin change"; cat err; }
"$KEYWARD" pin change --token "$S0" --pin-file p99999999 --new-pin-file p55667788 --json >out.json 2>err
rc=$?
[ $rc -eq 1 ] && grep -q "wrong PIN (2 tries left; not retried)" err && good "wrong PIN: one try spent, tries left shown" ||
	{ bad "wrong PIN (rc $rc)"; cat err; }
jq_py out.json 'j["ok"] is False and j["tries_left"] == 2' | grep -q True && good "wrong PIN: JSON" || bad "wrong PIN JSON"
grep -q "99999999\|3939393939393939" "$TRACE" "$KEYWARD_TESTENV_DIR"/*.log err out.json 2>/dev/null &&
	bad "a PIN appears in a trace or log" || good "PINs never in traces, logs or output"
"$KEYWARD" pin change --token "$S0" --puk --puk-file p12345678 --new-pin-file p87654321 >out 2>err &&
	good "PUK change" || { bad "PUK change"; cat err; }
for i in 1 2; do "$KEYWARD" pin change --token "$S0" --pin-file p99999999 --new-pin-file p55667788 2>/dev/null; done
[ "$(left pin)" = 0 ] && good "PIN blocked after the tries" || bad "PIN not blocked"
"$KEYWARD" pin unblock --token "$S0" --puk-file p87654321 --new-pin-file p55667788 >out 2>err &&
	[ "$(left pin)" = 3 ] && good "pin unblock with the PUK" || { bad "unblock"; cat err; }
"$KEYWARD" pin change --token "$S0" --pin-file p55667788 --new-pin-file p12 2>err; rc=$?
[ $rc -ne 0 ] && grep -q "6 to 8" err && good "too short a new PIN refused" || bad "short PIN"
"$KEYWARD" pin frobnicate 2>/dev/null; [ $? -eq 2 ] && good "pin: unknown action exits 2" || bad "pin usage"

# --- reset -----------------------------------------------------------------------
echo wrong | "$KEYWARD" reset --token "$S0" >out 2>err; rc=$?
[ $rc -eq 2 ] && grep -q "not confirmed" err && [ "$(left pin)" = 3 ] &&
	good "reset refused without confirmation, nothing changed" || { bad "reset confirmation (rc $rc)"; cat err; }
echo "$S0" | "$KEYWARD" reset --token "$S0" >out 2>err && good "reset confirmed by typing the serial" ||
	{ bad "reset"; cat err; }
"$KEYWARD" status --token "$S0" --json >st.json
jq_py st.json 'j["pin"]["default"] and j["puk"]["default"] and j["management_key"]["default"] and all(s["slot"] == "f9" for s in j["slots"])' |
	grep -q True && good "after reset: factory PIN/PUK/management key, no keys" || bad "state after reset"

# --- batch: two tokens on two readers ----------------------------------------------
cat >batch.txt <<EOF
# email, reader or serial, pin file, puk file
dave@example.test, $R0, p11223344, p87654321
erin@example.test, $S1, p11223344, p87654321
not-an-address
EOF
rm -f "$T"/mail/*.eml batch.done
{ mail_value_until dave@example.test batch.done; mail_value_until erin@example.test batch.done; } | {
	"$KEYWARD" enroll --batch batch.txt --kms "$FRONT" --kms-ca "$FRONT_CERT" --json >batch.json 2>batch.err
	echo $? >batch.rc
	touch batch.done
}
[ "$(cat batch.rc)" = 1 ] && good "batch exits 1 (one bad line)" || bad "batch exit $(cat batch.rc)"
jq_py batch.json '[(r["email"], r["ok"], r.get("serial")) for r in j["results"]]' >batch.sum
grep -q "\"dave@example.test\", true, $S0" batch.sum && grep -q "\"erin@example.test\", true, $S1" batch.sum &&
	jq_py batch.json 'j["enrolled"] == 2 and j["failed"] == 1' | grep -q True &&
	good "batch: both tokens enrolled, bad line reported" || { bad "batch results"; cat batch.sum batch.err; }
grep -q "^\[dave@example.test\] " batch.err && grep -q "^\[erin@example.test\] " batch.err &&
	good "batch progress lines name the token's address" || bad "batch progress"
grep -q "batch.txt:4: expected" batch.err && good "bad line: clear message" || bad "bad line message"
"$KEYWARD" enroll --batch batch.txt --email x@y.test --kms "$FRONT" 2>/dev/null
[ $? -eq 2 ] && good "--batch with --email is a usage error" || bad "--batch usage"

# --- recover: a replacement token for dave ------------------------------------------
lost=$(jq_py batch.json '[r for r in j["results"] if r["email"] == "dave@example.test"][0]["signing"]["serial"]')
echo "$S1" | "$KEYWARD" reset --token "$S1" --yes >/dev/null 2>&1
kw_verb recover rec dave@example.test --token "$S1" --pin-file p11223344 --puk-file p87654321 --revoke "$lost"
rc=$?
[ $rc -eq 0 ] && good "recover exits 0" || { bad "recover (rc $rc)"; cat rec.err; }
jq_py rec.json 'j["revoked"]' | grep -q "$lost" && good "the lost token's signing certificate revoked" || bad "revoke"
d0=$(jq_py batch.json '[r for r in j["results"] if r["email"] == "dave@example.test"][0]["encryption"]["slots"][0]["serial"]')
d1=$(jq_py rec.json 'j["encryption"]["slots"][0]["serial"]')
s1=$(jq_py rec.json 'j["signing"]["serial"]')
[ -n "$d0" ] && [ "$d0" = "$d1" ] && [ -n "$s1" ] && [ "$s1" != "$lost" ] && good "replacement: same encryption certificate, new signing certificate" ||
	bad "recover result ($d0/$d1, $s1/$lost)"
kw_verb recover rec2 dave@example.test --token "$S1" --pin-file p11223344 --revoke "$lost" &&
	jq_py rec2.json 'j["revoked"]' | grep -q "$lost" && good "recover run again: the revocation is not an error" ||
	{ bad "recover rerun"; cat rec2.err; }
curl -s --cacert "$FRONT_CERT" "$FRONT/v1/crl" -o crl.der && openssl crl -inform DER -in crl.der -noout -text |
	grep -qi "$lost" && good "revoked certificate on the CRL" || bad "CRL lacks $lost"

echo "$FAILS failure(s)"
[ $FAILS -eq 0 ]
