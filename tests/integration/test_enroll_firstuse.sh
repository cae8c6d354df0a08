#!/bin/sh
# `keyward enroll` as a first-time user meets it (issue 14), against a real
# KMS (tests/kms/kms-env.sh) and virtual tokens (keyward-testenv):
# - without --kms-ca, and with the S/MIME CA (GET /v1/ca) as --kms-ca, the
#   TLS error names the file to pass (the KMS's tls.crt), and the token is
#   untouched (PIN, PUK and management key still the factory ones); same
#   for an unreachable URL and an unreadable --kms-ca file;
# - an enrollment interrupted at the validation prompt is finished by
#   `--validation-value V` with the value of the first mail: no second mail;
# - after enrollment `keyward status` says that the AES-256 management key
#   is beyond yubico-piv-tool 2.2 and how to administer the token, and
#   Debian 12's yubico-piv-tool 2.2 indeed cannot authenticate to it.
set -u
B=${KW_TOP_BUILDDIR:-$(pwd)}
S=${KW_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$S/tests/integration/lib.sh"
kw_init "$0" "$@"

if [ -z "${KEYWARD_TESTENV_DIR:-}" ]; then
	kw_need_file "$B/tools/keyward/keyward" "$B/kms/keyward-kmsd" "$B/kms/kwkms-tool"
	kw_need pcscd python3 openssl curl softhsm2-util setsid yubico-piv-tool
	KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S timeout 400 "$B/tools/testenv/keyward-testenv" run \
		--tokens 2 --attest-ca --timeout 360 -- sh "$0" "$@"
	rc=$?
	[ $rc -eq 125 ] && kw_skip "keyward-testenv cannot run in this environment"
	exit $rc
fi

export KW_TOP_BUILDDIR=$B KW_TOP_SRCDIR=$S
KMS_TEST_LIMIT=340
. "$S/tests/kms/kms-env.sh"
kms_env_up
. "$S/tests/integration/enroll-lib.sh"
set +e
FAILS=0
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
good() { echo "ok - $*"; }
jcheck() {
	if python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3" 2>/dev/null; then good "$1"
	else bad "$1"; head -c 1500 "$2"; echo; fi
}
S0=$KEYWARD_TESTENV_SERIAL_0
S1=$KEYWARD_TESTENV_SERIAL_1
printf '246810\n' >"$W/pin"
printf '13579135\n' >"$W/puk"
cd "$W" || exit 1
# untouched NAME SERIAL: PIN, PUK and management key are still the defaults.
untouched() {
	"$KEYWARD" status --token "$2" --json >"$W/st-$1.json"
	jcheck "$1: the token is untouched (PIN, PUK, management key default)" "$W/st-$1.json" \
		'j["pin"]["default"] is True and j["puk"]["default"] is True and j["management_key"]["default"] is True'
}
enroll_raw() { # NAME ARGS...: stdin empty, no prompt answered
	_n=$1
	shift
	"$KEYWARD" enroll --email alice@example.test --token "$S0" --pin-file pin \
		--puk-file puk "$@" </dev/null >"$W/$_n.out" 2>"$W/$_n.err"
}
mails_to() { grep -l "<$1>" "$T"/mail/*.eml "$T"/mail-seen/*.eml 2>/dev/null | wc -l; }

# --- TLS without the right certificate: the error says which file --------
enroll_raw notls --kms "$FRONT"
rc=$?
[ $rc -eq 1 ] && grep -q 'tls\.crt' notls.err && grep -q -- '--kms-ca' notls.err &&
	grep -q 'not trusted' notls.err && grep -q 'nothing was changed on the token' notls.err &&
	good "no --kms-ca: the error names --kms-ca and the KMS's tls.crt" ||
	{ bad "no --kms-ca (rc $rc)"; cat notls.err; }
grep -q 'PIN' notls.err && bad "asked for a PIN before reaching the KMS" || good "no PIN asked before the KMS answered"
untouched notls "$S0"

enroll_raw smimeca --kms "$FRONT" --kms-ca "$CA"
rc=$?
[ $rc -eq 1 ] && grep -qF "does not verify against $CA" smimeca.err && grep -q 'tls\.crt' smimeca.err &&
	grep -q '/v1/ca' smimeca.err &&
	good "--kms-ca with the S/MIME CA: names that file, tls.crt and why /v1/ca's is another" ||
	{ bad "--kms-ca = S/MIME CA (rc $rc)"; cat smimeca.err; }
untouched smimeca "$S0"

printf 'not a certificate\n' >junk.pem
enroll_raw badca --kms "$FRONT" --kms-ca "$W/nonexistent.pem"
rc=$?
[ $rc -eq 1 ] && grep -q 'cannot read the --kms-ca file' badca.err &&
	good "unreadable --kms-ca: says so" || { bad "unreadable --kms-ca (rc $rc)"; cat badca.err; }

# A typo in the URL (nothing listens there).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
enroll_raw typo --kms "https://127.0.0.1:$port" --kms-ca "$FRONT_CERT"
rc=$?
[ $rc -eq 1 ] && grep -q 'cannot reach the KMS' typo.err && good "wrong URL: cannot reach the KMS" ||
	{ bad "wrong URL (rc $rc)"; cat typo.err; }
untouched typo "$S0"
[ "$(mails_to alice@example.test)" -eq 0 ] && good "no validation mail so far" || bad "mails were sent"

# --- an interrupted validation is finished with the first mail's value ---
rm -f "$T"/mail/*.eml
enroll_raw first --kms "$FRONT" --kms-ca "$FRONT_CERT"
rc=$?
[ $rc -eq 1 ] && grep -q 'no validation value entered' first.err &&
	grep -q -- '--validation-value' first.err &&
	good "no value typed: fails, tells how to finish" || { bad "first run (rc $rc)"; cat first.err; }
[ "$(mails_to alice@example.test)" -eq 1 ] && good "one validation mail" || bad "$(mails_to alice@example.test) mails"
v=$(mail_value alice@example.test)
enroll_raw second --kms "$FRONT" --kms-ca "$FRONT_CERT" --validation-value "$v" --json
rc=$?
[ $rc -eq 0 ] && good "rerun with --validation-value from the first mail: enrolled" ||
	{ bad "rerun with --validation-value (rc $rc)"; cat second.err; }
grep -q 'finishing the validation started earlier' second.err &&
	good "the rerun finished the pending validation" || bad "the rerun did not say it reused the validation"
[ "$(mails_to alice@example.test)" -eq 1 ] && good "no second validation mail" ||
	bad "$(mails_to alice@example.test) mails after the rerun"
jcheck "the enrollment result" second.out 'j["ok"] and j["signing"]["slot"] == "9c"'
python3 -c 'import json,sys,glob
for f in glob.glob(sys.argv[1] + "/*"):
    j=json.load(open(f))
    if "validation_until" in j: sys.exit(1)' "$KEYWARD_STATE_DIR" 2>/dev/null &&
	good "the journal forgets the finished validation" || bad "validation_until left in the journal"

# A rerun after a wrong value keeps the validation (the KMS counts tries).
kw_verb enroll w1 bob@example.test --token "$S1" --pin-file pin --puk-file puk \
	--validation-value AAAAAAAAAAAAAAAAAAAAAAAAAA
[ $? -eq 1 ] && grep -q 'email validation failed' w1.err && good "wrong value: fails" ||
	{ bad "wrong value"; cat w1.err; }
kw_verb enroll w2 bob@example.test --token "$S1" --pin-file pin
rc=$?
[ $rc -eq 0 ] && grep -q 'finishing the validation started earlier' w2.err &&
	[ "$(mails_to bob@example.test)" -eq 1 ] &&
	good "after a wrong value the rerun finishes the same validation (one mail)" ||
	{ bad "rerun after a wrong value (rc $rc, $(mails_to bob@example.test) mails)"; cat w2.err; }

# --- the AES-256 management key and yubico-piv-tool 2.2 ----------------
"$KEYWARD" status --token "$S0" >st.txt 2>&1
"$KEYWARD" status --token "$S0" --json >st.json
grep -q 'yubico-piv-tool 2.2' st.txt && grep -q "keyward's verbs" st.txt &&
	good "status: the AES-256 key is beyond yubico-piv-tool 2.2, use keyward's verbs" ||
	{ bad "status says nothing about yubico-piv-tool"; cat st.txt; }
jcheck "status --json: management key aes256 with the note" st.json \
	'j["management_key"]["algorithm"] == "aes256" and "yubico-piv-tool 2.2" in j["management_key"]["note"]'
# What the note claims: yubico-piv-tool 2.2 (3DES only) cannot authenticate.
reader=$KEYWARD_TESTENV_READER_0
yubico-piv-tool -r "$reader" -a verify-pin -P 246810 -a set-chuid >ypt.out 2>&1
rc=$?
[ $rc -ne 0 ] && good "yubico-piv-tool 2.2 cannot administer the enrolled token (rc $rc)" ||
	{ bad "yubico-piv-tool 2.2 administered an AES-256 token"; cat ypt.out; }
# A factory-fresh token: 3DES, no note.
"$KEYWARD" status --token "$KEYWARD_TESTENV_SERIAL_1" --json >st1.json
jcheck "the note is only for AES keys" st1.json 'j["management_key"]["note"] is None or j["management_key"]["algorithm"].startswith("aes")'

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "first-time enrollment: all checks passed"
