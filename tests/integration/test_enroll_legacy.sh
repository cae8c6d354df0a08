#!/bin/sh
# `keyward enroll` on a token without GET METADATA (YubiKey firmware 5.2):
# the default management key is found by trying it (no retry counter), then
# replaced by a random 3DES key (AES needs 5.4) kept PIN-protected; the user
# is told that the PIN/PUK state cannot be read; keys and certificates land
# in 9C/9D. yubico-piv-tool (an independent client) confirms the default
# management key no longer works.
set -u

B=${KW_TOP_BUILDDIR:-$(pwd)}
S=${KW_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
skip() { echo "SKIP: $*"; exit 77; }

if [ -z "${KEYWARD_TESTENV_DIR:-}" ]; then
	for f in tools/keyward/keyward tools/testenv/keyward-testenv kms/keyward-kmsd; do
		[ -x "$B/$f" ] || skip "$f not built"
	done
	for c in pcscd python3 openssl curl softhsm2-util yubico-piv-tool; do
		command -v $c >/dev/null 2>&1 || skip "$c not installed"
	done
	KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S "$B/tools/testenv/keyward-testenv" run \
		--tokens 1 --firmware 5.2.7 --attest-ca --timeout 300 -- sh "$0" "$@"
	rc=$?
	[ $rc -eq 125 ] && skip "keyward-testenv cannot run in this environment"
	exit $rc
fi

export KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S
KMS_TEST_LIMIT=280
. "$S/tests/kms/kms-env.sh"
kms_env_up
. "$S/tests/integration/enroll-lib.sh"
set +e
FAILS=0
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
good() { echo "ok - $*"; }
R0=$KEYWARD_TESTENV_READER_0
cd "$W" || exit 1
printf '123456\n' >pin

yubico-piv-tool -r "$R0" -a set-chuid >ypt0.log 2>&1 && good "before: the default management key works" ||
	{ bad "default management key before"; cat ypt0.log; }
kw_verb enroll e1 old@example.test --pin-file pin
rc=$?
[ $rc -eq 0 ] && good "enroll on firmware 5.2.7" || { bad "enroll (rc $rc)"; cat e1.err; }
grep -q "cannot say whether its PIN and PUK are still the factory ones" e1.err &&
	good "the user is told to check the PIN/PUK" || bad "no PIN/PUK note"
yubico-piv-tool -r "$R0" -a set-chuid >ypt1.log 2>&1 && bad "the default management key still works" ||
	good "after: the default management key is refused (yubico-piv-tool)"
"$KEYWARD" status --json >st.json
python3 - st.json <<'EOF2' && good "9C and 9D hold certificates for old@example.test" || bad "slots"
import json, sys
j = json.load(open(sys.argv[1]))
s = {x["slot"]: x for x in j["slots"]}
sys.exit(0 if all(s[k]["certificate"]["subject"] == "CN=old@example.test" for k in ("9c", "9d")) else 1)
EOF2
kw_verb enroll e2 old@example.test --pin-file pin && jq_py e2.json 'j["signing"]["already_done"]' | grep -q True &&
	good "a rerun authenticates with the PIN-protected management key" || { bad "rerun"; cat e2.err; }

echo "$FAILS failure(s)"
[ $FAILS -eq 0 ]
