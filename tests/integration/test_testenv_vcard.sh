#!/bin/sh
# keyward-testenv with the real keyward-vcard: several tokens are distinct
# (serials, keys) to a foreign client, a token's state survives a restart of
# the whole environment through --state-dir, the APDU trace counts exchanges
# and redacts the PIN, and tokens stop cleanly (exit 0 on SIGTERM).
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need yubico-piv-tool openssl timeout
[ -x "$KW_TESTENV" ] || kw_fail "$KW_TESTENV not built"
if [ "$(id -u)" != 0 ] && ! unshare -U -r -m -n true 2>/dev/null; then
	kw_skip "needs root or user namespaces"
fi
unset KEYWARD_VCARD

# te ARGS...: run keyward-testenv (bounded); status in $st
te() {
	kw_log "\$ keyward-testenv $*"
	timeout -k 5 120 "$KW_TESTENV" "$@" >"$KW_TMP/out" 2>"$KW_TMP/err"
	st=$?
	[ "$st" = 0 ] && return 0
	sed 's/^/    | /' "$KW_TMP/out" "$KW_TMP/err" >&2
	kw_fail "keyward-testenv exit status $st"
}

# --- 3 tokens: distinct serials and keys -----------------------------------------------
cat >"$KW_TMP/three.sh" <<'EOF'
yubico-piv-tool -a status | sed -n "s/^Serial Number:[[:space:]]*/default=/p"
i=0
while [ "$i" -lt 3 ]; do
	eval "r=\$KEYWARD_TESTENV_READER_$i"
	yubico-piv-tool -r "$r" -a status | sed -n "s/^Serial Number:[[:space:]]*/serial-$i=/p"
	yubico-piv-tool -r "$r" -a generate -s 9a -A ECCP256 -o "$KW_OUTER/pub-$i.pem" >/dev/null 2>&1 ||
		echo "generate-$i failed"
	i=$((i + 1))
done
EOF
KW_OUTER=$KW_TMP te run --tokens 3 -- env KW_OUTER="$KW_TMP" sh "$KW_TMP/three.sh"
for i in 0 1 2; do
	kw_grep "^serial-$i=1000000$((i + 1))\$" "$KW_TMP/out" "serial of token $i"
done
kw_not_grep 'failed' "$KW_TMP/out"
kw_grep '^default=10000001$' "$KW_TMP/out" "the default reader is token 0's"
k0=$(openssl pkey -pubin -in "$KW_TMP/pub-0.pem" 2>/dev/null)
k1=$(openssl pkey -pubin -in "$KW_TMP/pub-1.pem" 2>/dev/null)
k2=$(openssl pkey -pubin -in "$KW_TMP/pub-2.pem" 2>/dev/null)
[ -n "$k0" ] && [ "$k0" != "$k1" ] && [ "$k1" != "$k2" ] && [ "$k0" != "$k2" ] ||
	kw_fail "the three tokens' keys are not three distinct keys"
kw_pass "3 tokens with distinct serials and keys"

# --- state survives a restart (--state-dir), PIN change included ------------------------
sd=$KW_TMP/state
te run --state-dir "$sd" -- sh -c '
	r=$KEYWARD_TESTENV_READER_0
	yubico-piv-tool -r "$r" -a generate -s 9c -A ECCP256 -o "$KEYWARD_TESTENV_DIR/pub9c.pem" &&
	yubico-piv-tool -r "$r" -a change-pin -P 123456 -N 24682468'
[ -s "$sd/token-0.state" ] || kw_fail "no state file"
n1=$(grep -c '^>' "$sd/token-0.trace")
kw_not_grep '3234363832343638' "$sd/token-0.trace" "APDU trace (PIN in clear)"
kw_not_grep '313233343536' "$sd/token-0.trace" "APDU trace (old PIN in clear)"
te run --state-dir "$sd" -- sh -c '
	r=$KEYWARD_TESTENV_READER_0
	yubico-piv-tool -r "$r" -a status
	yubico-piv-tool -r "$r" -a verify-pin -P 24682468 && echo pin-ok
	yubico-piv-tool -r "$r" -a attest -s 9c -o "$KEYWARD_TESTENV_DIR/att.pem" && echo attest-ok'
kw_grep '^Serial Number:[[:space:]]+10000001$' "$KW_TMP/out" "serial after restart"
kw_grep '^pin-ok$' "$KW_TMP/out" "changed PIN after restart"
kw_grep '^attest-ok$' "$KW_TMP/out" "9C key after restart"
a=$(openssl x509 -in "$sd/att.pem" -noout -pubkey 2>/dev/null)
b=$(openssl pkey -pubin -in "$sd/pub9c.pem" 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] || kw_fail "9C key changed across the restart"
n2=$(grep -c '^>' "$sd/token-0.trace")
[ "$n2" -gt "$n1" ] || kw_fail "trace did not grow across runs ($n1 -> $n2)"
kw_not_grep 'keyward-testenv: token' "$KW_TMP/err" "token shutdown report"
kw_pass "state kept across restarts; trace counts APDUs and redacts PINs"
# --- pcscd restart and card removal: the token comes back by itself / when restarted ----
cat >"$KW_TMP/restart.sh" <<'EOF'
serial() { yubico-piv-tool -a status 2>/dev/null | sed -n 's/^Serial Number:[[:space:]]*//p'; }
wait_card() { # wait_card yes|no
	n=0
	while [ $n -lt 50 ]; do
		if opensc-tool -l 2>/dev/null | grep -q "^0 *Yes"; then
			[ "$1" = yes ] && return 0
		else
			[ "$1" = no ] && return 0
		fi
		sleep 0.2
		n=$((n + 1))
	done
	return 1
}
echo "before=$(serial)"
kill "$(cat /run/pcscd/pcscd.pid)" || echo "no pcscd pid"
n=0
while [ -S /run/pcscd/pcscd.comm ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
pcscd --foreground --error -c "$KEYWARD_TESTENV_DIR/reader.conf" 2>/dev/null &
p=$!
wait_card yes && echo "after-pcscd=$(serial)"
kill "$(cat "$KEYWARD_TESTENV_DIR/token-0.pid")"
wait_card no && echo "removed"
"$KEYWARD_TESTENV_VCARD" --state "$KEYWARD_TESTENV_DIR/token-0.state" \
	--vpcd "127.0.0.1:$KEYWARD_TESTENV_PORT_0" &
v=$!
wait_card yes && echo "after-vcard=$(serial)"
kill "$v" "$p"
wait "$v"
echo "vcard-exit=$?"
EOF
te run -- sh "$KW_TMP/restart.sh"
kw_grep '^before=10000001$' "$KW_TMP/out"
kw_grep '^after-pcscd=10000001$' "$KW_TMP/out" "token after a pcscd restart"
kw_grep '^removed$' "$KW_TMP/out" "card removal when the vcard stops"
kw_grep '^after-vcard=10000001$' "$KW_TMP/out" "token after a vcard restart"
kw_grep '^vcard-exit=0$' "$KW_TMP/out" "vcard exit status on SIGTERM"
kw_pass "pcscd restart, card removal and reinsertion"

# --- token kinds: a PIV card, a SIM (PIV on a logical channel), a modem (AT on a pty) ----
cat >"$KW_TMP/kinds.sh" <<'EOF'
env | grep '^KEYWARD_TESTENV_\(KIND\|MODEM\|READER\)_' | sort
yubico-piv-tool -r "$KEYWARD_TESTENV_READER_0" -a version
opensc-tool -r "$KEYWARD_TESTENV_READER_1" -s 00A4040009A00000030800001000 \
	-s 0070000001 -s 01A4040009A00000030800001000 2>&1 | sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/sw=\1\2/p'
L=$KEYWARD_TESTENV_MODEM_2
stty -F "$L" raw -echo
exec 3<>"$L"
printf 'ATE0\r' >&3
sleep 0.3
printf 'AT+CCHO="A000000308"\r' >&3
sleep 0.5
timeout 1 cat <&3 | tr -d '\r'
EOF
te run --tokens 3 --token-kind pcsc,uicc,modem --firmware 5.7.1 -- sh "$KW_TMP/kinds.sh"
o=$KW_TMP/out
kw_grep '^KEYWARD_TESTENV_KIND_0=pcsc$' "$o"
kw_grep '^KEYWARD_TESTENV_KIND_1=uicc$' "$o"
kw_grep '^KEYWARD_TESTENV_KIND_2=modem$' "$o"
kw_not_grep '^KEYWARD_TESTENV_READER_2=' "$o" "a modem has no reader"
kw_grep '^Application version 5\.7\.1 found' "$o" "--firmware"
[ "$(sed -n 's/^sw=//p' "$o" | tr '\n' ' ')" = "6A82 9000 9000 " ] ||
	kw_fail "uicc: PIV must be absent on the basic channel, present on channel 1: $(cat "$o")"
kw_grep '^\+CCHO: [0-9]+$' "$o" "modem: +CCHO opens a channel"
kw_pass "token kinds pcsc, uicc, modem; --firmware"
exit 0
