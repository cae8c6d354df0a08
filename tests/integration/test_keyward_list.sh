#!/bin/sh
# `keyward list` and `keyward status` against two virtual tokens under
# keyward-testenv (real pcscd + vpcd + keyward-vcard): tokens told apart by
# serial, JSON and text output, --token by serial and by URI, usage errors,
# and (with yubico-piv-tool, an independent client) keys and certificates
# written by someone else showing up in the right slots.
set -u

B=${KW_TOP_BUILDDIR:-$(pwd)}
KEYWARD=$B/tools/keyward/keyward
TESTENV=$B/tools/testenv/keyward-testenv

skip() { echo "SKIP: $*"; exit 77; }

if [ -z "${KEYWARD_TESTENV_DIR:-}" ]; then
	[ -x "$KEYWARD" ] || skip "keyward not built"
	[ -x "$TESTENV" ] || skip "keyward-testenv not built"
	command -v python3 >/dev/null 2>&1 || skip "python3 needed to check JSON"
	command -v pcscd >/dev/null 2>&1 || skip "pcscd not installed (apt-get install pcscd)"
	"$TESTENV" run --tokens 2 --timeout 200 -- sh "$0" "$@"
	rc=$?
	# 125: keyward-testenv could not set up pcscd/vpcd here (it says why).
	[ $rc -eq 125 ] && skip "keyward-testenv cannot run in this environment"
	exit $rc
fi

FAILS=0
W=$(mktemp -d /tmp/kw-list-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP PIPE
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
S0=$KEYWARD_TESTENV_SERIAL_0
S1=$KEYWARD_TESTENV_SERIAL_1
R0=$KEYWARD_TESTENV_READER_0
R1=$KEYWARD_TESTENV_READER_1

# check NAME PYTHON-EXPR: the JSON in $W/out.json must satisfy EXPR (j = it).
check() {
	if python3 - "$W/out.json" "$2" <<'EOF'
import json, os, sys
j = json.load(open(sys.argv[1]))
e = os.environ
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)
EOF
	then ok "$1"; else fail "$1"; cat "$W/out.json"; fi
}

# --- usage, help, version -------------------------------------------------
"$KEYWARD" --version | grep -q "^keyward " && ok "--version" || fail "--version"
"$KEYWARD" --help | grep -q "status" && ok "--help lists verbs" || fail "--help"
"$KEYWARD" list --help | grep -q -- "--json" && ok "list --help" || fail "list --help"
"$KEYWARD" status --help | grep -q -- "--token" && ok "status --help" || fail "status --help"
"$KEYWARD" bogus 2>/dev/null; [ $? -eq 2 ] && ok "unknown verb exits 2" || fail "unknown verb"
"$KEYWARD" 2>/dev/null; [ $? -eq 2 ] && ok "no verb exits 2" || fail "no verb"
"$KEYWARD" list extra 2>/dev/null; [ $? -eq 2 ] && ok "stray argument exits 2" || fail "stray arg"
"$KEYWARD" list --token 1 2>/dev/null; [ $? -eq 2 ] && ok "list has no --token" || fail "list --token"
"$KEYWARD" status --token 2>/dev/null; [ $? -eq 2 ] && ok "--token needs a value" || fail "--token"
"$KEYWARD" status --token nonsense 2>/dev/null; [ $? -eq 2 ] && ok "bad --token exits 2" ||
	fail "bad --token"

# --- list: two fresh tokens told apart by serial --------------------------
"$KEYWARD" list --json >"$W/out.json"; rc=$?
[ $rc -eq 0 ] && ok "list --json exits 0" || fail "list --json exit $rc"
export S0 S1 R0 R1
check "two tokens, no errors" 'len(j["tokens"]) == 2 and j["errors"] == []'
check "serials match the testenv tokens" \
	'sorted(t["serial"] for t in j["tokens"]) == sorted([int(e["S0"]), int(e["S1"])])'
check "transport, reader and URI" \
	'all(t["transport"] == "pcsc" and t["uri"] == "pcsc:" + t["reader"] for t in j["tokens"]) and sorted(t["reader"] for t in j["tokens"]) == sorted([e["R0"], e["R1"]])'
check "reader and serial belong together" \
	'all((t["reader"], t["serial"]) in [(e["R0"], int(e["S0"])), (e["R1"], int(e["S1"]))] for t in j["tokens"])'
check "fresh tokens: no keys, no certificates, version, metadata" \
	'all(t["keys"] == [] and t["certificates"] == [] and t["keys_from"] == "metadata" and t["version"].count(".") == 2 for t in j["tokens"])'
"$KEYWARD" list >"$W/list.txt"; rc=$?
[ $rc -eq 0 ] && grep -q "serial $S0" "$W/list.txt" && grep -q "serial $S1" "$W/list.txt" &&
	ok "text list shows both serials" || { fail "text list"; cat "$W/list.txt"; }

# --- status: selection -----------------------------------------------------
"$KEYWARD" status >/dev/null 2>"$W/err.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "$S0" "$W/err.txt" && grep -q "$S1" "$W/err.txt" &&
	ok "status with two tokens asks for --token" || fail "ambiguous status (rc $rc)"
"$KEYWARD" status --token 99999999 >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok "unknown serial exits 1" || fail "unknown serial (rc $rc)"
"$KEYWARD" status --token "pcsc:No Such Reader" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok "unknown reader exits 1" || fail "unknown reader (rc $rc)"

"$KEYWARD" status --token "$S1" --json >"$W/out.json" || fail "status --token S1"
check "status by serial picks that token" \
	'j["serial"] == int(e["S1"]) and j["reader"] == e["R1"]'
check "fresh token: PIN/PUK 3 of 3 and default, management key default" \
	'j["pin"] == {"retries_left": 3, "retries_total": 3, "default": True} and j["puk"]["retries_left"] == 3 and j["puk"]["default"] is True and j["management_key"]["default"] is True and j["management_key"]["algorithm"] is not None'
check "fresh token: only the attestation key, no key history" \
	'[s["slot"] for s in j["slots"]] == ["f9"] and j["key_history"] is None'
"$KEYWARD" status --token "pcsc:$R0" --json >"$W/out.json" || fail "status --token URI"
check "status by URI picks that token" 'j["serial"] == int(e["S0"])'
"$KEYWARD" status --token "$S0" >"$W/status.txt" || fail "status text"
grep -q "serial $S0" "$W/status.txt" && grep -q "PIN: *3 of 3 tries left" "$W/status.txt" &&
	ok "text status" || { fail "text status"; cat "$W/status.txt"; }

# --- keys and certificates written by an independent client ---------------
if command -v yubico-piv-tool >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
	# yubico-piv-tool picks the first reader whose name contains -r: the
	# full name of token 1 (not a prefix of token 0's) selects it.
	Y() { yubico-piv-tool -r "$R1" "$@"; }
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$W/k.pem" -out "$W/c.pem" -subj "/CN=alice@example.org" -days 30 \
		2>/dev/null || fail "openssl"
	Y -a generate -s 9c -A ECCP256 -o "$W/pub.pem" >/dev/null 2>&1 || fail "generate 9c"
	Y -a import-key -s 9d -i "$W/k.pem" >/dev/null 2>&1 || fail "import 9d"
	Y -a import-certificate -s 9d -i "$W/c.pem" >/dev/null 2>&1 || fail "cert 9d"
	Y -a import-certificate -s 82 -i "$W/c.pem" >/dev/null 2>&1 || fail "cert 82"
	Y -a verify-pin -P 000000 >/dev/null 2>&1   # one wrong PIN try
	# Key history (5FC10C): one on-card retired certificate.
	printf '\301\001\001\302\001\000\376\000' >"$W/kh.bin"
	Y -a write-object --id 0x5FC10C --format binary -i "$W/kh.bin" >/dev/null 2>&1 ||
		fail "write key history"

	"$KEYWARD" list --json >"$W/out.json" || fail "list after provisioning"
	check "list: keys 9c 9d and certs 9d 82 on token 1 only" \
		'{t["serial"]: (t["keys"], t["certificates"]) for t in j["tokens"]} == {int(e["S1"]): (["9c", "9d"], ["9d", "82"]), int(e["S0"]): ([], [])}'
	"$KEYWARD" status --token "$S1" --json >"$W/out.json" || fail "status after provisioning"
	check "status: 9c generated eccp256, PIN always" \
		'[s for s in j["slots"] if s["slot"] == "9c"][0]["key"] == {"known_from": "metadata", "algorithm": "eccp256", "origin": "generated", "pin_policy": "always", "touch_policy": "never"}'
	check "status: 9d imported with a parsed certificate" \
		'(lambda s: s["key"]["origin"] == "imported" and s["certificate"]["subject"] == "CN=alice@example.org" and s["certificate"]["expired"] is False and s["certificate"]["not_after"].endswith("Z"))([s for s in j["slots"] if s["slot"] == "9d"][0])'
	check "status: 82 certificate without key" \
		'(lambda s: s["key"] is None and s["certificate"]["parsed"])([s for s in j["slots"] if s["slot"] == "82"][0])'
	check "status: key history" \
		'j["key_history"] == {"on_card_certs": 1, "off_card_certs": 0, "url": ""}'
	check "status: the wrong PIN try is counted" \
		'j["pin"]["retries_left"] == 2 and j["pin"]["retries_total"] == 3'
	"$KEYWARD" status --token "$S1" >"$W/status.txt" || fail "status text after provisioning"
	grep -q "cert CN=alice@example.org" "$W/status.txt" && ok "text status shows the certificate" ||
		{ fail "text status cert"; cat "$W/status.txt"; }
else
	echo "note: yubico-piv-tool or openssl missing; provisioning checks skipped"
fi

# --- APDU economy: list must not read the whole card ----------------------
if [ -f "$KEYWARD_TESTENV_DIR/token-0.trace" ]; then
	before=$(grep -c '^>' "$KEYWARD_TESTENV_DIR/token-0.trace")
	"$KEYWARD" status --token "$S0" --json >/dev/null
	after=$(grep -c '^>' "$KEYWARD_TESTENV_DIR/token-0.trace")
	n=$((after - before))
	echo "status used $n APDUs on token 0"
	[ $n -le 80 ] && ok "status APDU count bounded" || fail "status used $n APDUs"
fi

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all keyward list/status checks passed"
exit 0
