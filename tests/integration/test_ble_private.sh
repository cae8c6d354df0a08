#!/bin/sh
# BLE under other local processes (issue 9): keyward-vcard-ble behind an
# emulated BlueZ on a private bus, with
#  - a passive listener (kw-ble-listen: one PropertiesChanged match rule, as
#    any unprivileged process can have on the system bus) that must see no
#    answer byte of a signature or an RSA decryption on the AcquireNotify
#    path, and does see them on the StartNotify fallback (which warns);
#  - CANCEL reaching a token without write-without-response;
#  - stray frames from the token (a foreign PING echo, a lone CONT frame, an
#    old answer as a session starts): ignored;
#  - two processes signing at once through the module: each signature
#    verifies against its own data (or a clean "in use" error), the token
#    sees no interleaved frames;
#  - a lock held by another process: a clean error after the bounded wait.
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
. "$KW_SRC/ble_lib.sh"
. "$KW_SRC/pki.sh"
kw_need pkcs11-tool openssl flock
LISTEN=$KW_BUILD/kw-ble-listen
kw_need_file "$KWB_MODULE" "$LISTEN"

kwb_setup --mtu 23
p11() { kwb_p11 --token-label "$KWB_LABEL" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
T0=$(date +%s)

# --- keys: P-256 in 9A (id 01), RSA-2048 in 9D (id 03); the token's RSA key
# generation blocks it without KEEPALIVEs, seconds on a loaded machine ---
KEYWARD_BLE_TIMEOUT_MS=30000
export KEYWARD_BLE_TIMEOUT_MS
kw_run p11 --login --pin 123456 --keypairgen --key-type EC:prime256v1 --id 01
point=$(sed -n 's/^ *EC_POINT: *0441\(04[0-9a-f]\{128\}\)$/\1/p' "$KW_OUT" | head -n1)
[ -n "$point" ] || kw_fail "no EC point in the keypairgen output"
printf '%s%s' 3059301306072a8648ce3d020106082a8648ce3d030107034200 "$point" |
	perl -pe 's/([0-9a-f]{2})/chr hex $1/gie' >"$KW_TMP/pub01.der"
kw_run p11 --login --pin 123456 --keypairgen --key-type rsa:2048 --id 03
kw_run p11 --read-object --type pubkey --id 03 -o "$KW_TMP/pub03.der"
for id in 01 03; do
	openssl pkey -pubin -inform DER -in "$KW_TMP/pub$id.der" -out "$KW_TMP/pub$id.pem" ||
		kw_fail "public key $id unreadable"
done
unset KEYWARD_BLE_TIMEOUT_MS

# sign_verify TAG: ECDSA over a message of its own, verified by openssl
sign_verify() {
	printf 'keyward private channel %s\n' "$1" >"$KW_TMP/msg-$1"
	p11 --login --pin 123456 --sign --mechanism ECDSA-SHA256 --id 01 \
		--signature-format openssl -i "$KW_TMP/msg-$1" -o "$KW_TMP/sig-$1" \
		>"$KW_TMP/sign-$1.log" 2>&1 || { cat "$KW_TMP/sign-$1.log" >&2; return 1; }
	openssl dgst -sha256 -verify "$KW_TMP/pub01.pem" -signature "$KW_TMP/sig-$1" \
		"$KW_TMP/msg-$1" >/dev/null 2>&1 || { echo "signature $1 does not verify" >&2; return 1; }
}
# decrypt TAG: RSA PKCS#1 v1.5 decryption of a fresh 32-byte secret;
# the secret's hex is in $KW_TMP/secret-TAG.hex
decrypt() {
	head -c 32 /dev/urandom >"$KW_TMP/secret-$1"
	od -An -tx1 -v "$KW_TMP/secret-$1" | tr -d ' \n' >"$KW_TMP/secret-$1.hex"
	openssl pkeyutl -encrypt -pubin -inkey "$KW_TMP/pub03.pem" -in "$KW_TMP/secret-$1" \
		-out "$KW_TMP/enc-$1" || kw_fail "openssl encrypt"
	p11 --login --pin 123456 --decrypt --mechanism RSA-PKCS --id 03 -i "$KW_TMP/enc-$1" \
		-o "$KW_TMP/dec-$1" >"$KW_TMP/dec-$1.log" 2>&1 || { cat "$KW_TMP/dec-$1.log" >&2; return 1; }
	cmp -s "$KW_TMP/dec-$1" "$KW_TMP/secret-$1" || { echo "decryption $1 differs" >&2; return 1; }
}

LPID=
listen_start() { # OUT
	"$LISTEN" "$KWB_BUS" "$1" >"$KW_TMP/listen.ready" 2>&1 &
	LPID=$!
	i=0
	until grep -q '^ready' "$KW_TMP/listen.ready"; do
		i=$((i + 1))
		[ $i -lt 50 ] && kill -0 $LPID 2>/dev/null || kw_fail "kw-ble-listen did not start"
		sleep 0.1
	done
}
listen_stop() { kill $LPID; wait $LPID 2>/dev/null; LPID=; }
trap '[ -n "$LPID" ] && kill $LPID 2>/dev/null; kwb_cleanup' EXIT
# The message payload the listener saw: frames reassembled by header
# (INIT: 3 bytes, CONT: 1 byte), as one hex string.
heard() {
	sed -n 's/^value [^ ]* //p' "$1" | awk '{
		b = substr($0, 1, 2); h = ("0x" b) + 0
		printf "%s", substr($0, h >= 128 ? 7 : 3) }'
}

# --- 1. AcquireNotify/AcquireWrite: nothing for a passive listener ---
listen_start "$KW_TMP/heard1"
sign_verify a1 || kw_fail "sign on the private path"
decrypt d1 || kw_fail "decrypt on the private path"
"$KWB_PROBE" "$KWB_URI" --count 1 --sign 9a --stats >"$KW_OUT" 2>&1 || kw_fail "probe"
listen_stop
heard "$KW_TMP/heard1" >"$KW_TMP/heard1.hex"
kw_not_grep "$(cat "$KW_TMP/secret-d1.hex")" "$KW_TMP/heard1.hex" "listener (decrypted secret)"
kw_not_grep '^value' "$KW_TMP/heard1" "listener on the AcquireNotify path"
kw_grep 'NotifyAcquired' "$KW_TMP/heard1" "listener (it heard the session's property changes)"
kw_grep '"private_notify": true, "acquired_write": true' "$KW_OUT" "probe stats"
kw_pass "AcquireNotify: a passive PropertiesChanged listener saw no answer byte (sign, decrypt)"

# --- 2. a BlueZ without Acquire*: falls back, says so; the listener hears everything ---
kwb_ctl SetFaults s no-acquire
listen_start "$KW_TMP/heard2"
decrypt d2 || kw_fail "decrypt on the fallback path"
listen_stop
kw_grep 'BlueZ offers no AcquireNotify; using StartNotify instead: the token.s answers' \
	"$KW_TMP/dec-d2.log" "warning on the fallback path"
heard "$KW_TMP/heard2" >"$KW_TMP/heard2.hex"
kw_grep "$(cat "$KW_TMP/secret-d2.hex")" "$KW_TMP/heard2.hex" \
	"listener on the fallback path (the check above can fail)"
if KEYWARD_BLE_ACQUIRE=require sign_verify r2 2>/dev/null; then
	kw_fail "KEYWARD_BLE_ACQUIRE=require signed on the broadcast path"
fi
kw_grep 'refusing the broadcast fallback' "$KW_TMP/sign-r2.log" "require mode"
kwb_ctl SetFaults s none
kw_pass "no AcquireNotify: StartNotify with a warning (the listener hears the plaintext); require mode refuses"

# --- 3. CANCEL with write-with-response: a token without write-without-response ---
kwb_ctl SetFaults s no-wwr,delay=3000,keepalive=2500
KEYWARD_BLE_TIMEOUT_MS=1000 timeout 30 "$KWB_PROBE" "$KWB_URI" --count 1 --stats >"$KW_OUT" 2>&1
kw_grep '^op 1 error: timed out' "$KW_OUT"
sleep 0.3
kw_not_grep 'write without response not supported' "$KW_TMP/vcard.log" "vcard log"
kw_grep 'exchange cancelled by the client' "$KW_TMP/vcard.log" "vcard log (CANCEL arrived)"
kw_grep '"acquired_write": false' "$KW_OUT" "probe stats (no AcquireWrite)"
kwb_ctl SetFaults s none,no-wwr
sign_verify w3 || kw_fail "sign with write requests"
kwb_ctl SetFaults s none
kw_pass "a token without write-without-response gets its CANCEL (write with response)"

# --- 4. stray frames from the token ---
for kind in ping cont acquire; do
	kwb_ctl SetFaults s "none,stray=$kind"
	sign_verify "s-$kind" || kw_fail "sign with stray=$kind"
	"$KWB_PROBE" "$KWB_URI" --count 2 --sign 9a --stats >"$KW_OUT" 2>&1 ||
		{ cat "$KW_OUT" >&2; kw_fail "probe with stray=$kind"; }
	kw_grep '"strays": [1-9]' "$KW_OUT" "probe stats (stray=$kind)"
done
kwb_ctl SetFaults s stray=ping,stray=cont,stray=acquire,mtu=512
kwb_ctl Disconnect
decrypt s-all || kw_fail "decrypt with strays at MTU 512"
kwb_ctl SetFaults s none,mtu=23
kwb_ctl Disconnect
kw_pass "stray frames (foreign PING echo, lone CONT, old answer at session start) ignored"

# --- 5. two processes signing at once through the module ---
loop() { # NAME N: N signatures, each over its own message, each verified
	n=0 ok=0 busy=0
	printf 'start=%s\n' "$(date +%s.%N)"
	while [ $n -lt "$2" ]; do
		if sign_verify "$1-$n"; then
			ok=$((ok + 1))
		elif grep -q 'is in use by another process' "$KW_TMP/sign-$1-$n.log"; then
			busy=$((busy + 1))
		else
			echo "$1: signature $n failed"
			return 1
		fi
		n=$((n + 1))
	done
	printf 'end=%s\n' "$(date +%s.%N)"
	echo "$1: $ok verified, $busy in use"
}
two() { # LABEL N: two processes, N signatures each, at the same time
	vc_lines=$(wc -l <"$KW_TMP/vcard.log")
	loop "A$1" "$2" >"$KW_TMP/A.log" 2>&1 &
	pa=$!
	loop "B$1" "$2" >"$KW_TMP/B.log" 2>&1 &
	pb=$!
	ra=0 rb=0
	wait $pa || ra=$?
	wait $pb || rb=$?
	cat "$KW_TMP/A.log" "$KW_TMP/B.log" >&2
	[ $ra -eq 0 ] && [ $rb -eq 0 ] || kw_fail "$1: a process got a wrong or failed signature"
	grep -Eq "^A$1: [1-9][0-9]* verified" "$KW_TMP/A.log" &&
		grep -Eq "^B$1: [1-9][0-9]* verified" "$KW_TMP/B.log" ||
		kw_fail "$1: a process got no signature at all"
	sa=$(sed -n 's/^start=//p' "$KW_TMP/A.log") ea=$(sed -n 's/^end=//p' "$KW_TMP/A.log")
	sb=$(sed -n 's/^start=//p' "$KW_TMP/B.log") eb=$(sed -n 's/^end=//p' "$KW_TMP/B.log")
	awk -v sa="$sa" -v ea="$ea" -v sb="$sb" -v eb="$eb" \
		'BEGIN { exit !(sa < eb && sb < ea) }' ||
		kw_fail "$1: the two processes did not overlap: the test is meaningless"
	tail -n +$((vc_lines + 1)) "$KW_TMP/vcard.log" >"$KW_OUT"
	kw_not_grep 'bad frame from the client' "$KW_OUT" "vcard log during the two processes ($1)"
}
two acq 6
kw_pass "two processes signing at once: every signature verifies against its own data"
kwb_ctl SetFaults s no-acquire
two fallback 3
kwb_ctl SetFaults s none
kw_pass "the same on the StartNotify fallback (the lock keeps them apart)"

# --- 6. the token locked by another process: bounded wait, clean error ---
lock=$(kwb_lockfile)
[ -f "$lock" ] || kw_fail "no lock file $lock"
flock "$lock" sleep 6 &
hold=$!
sleep 0.3
t0=$(now_ms)
KEYWARD_BLE_LOCK_TIMEOUT_MS=800 timeout 30 "$KWB_PROBE" "$KWB_URI" --count 1 >"$KW_OUT" 2>&1
ms=$(($(now_ms) - t0))
kw_grep 'is in use by another process \(.*\); gave up after 800 ms' "$KW_OUT" \
	"probe while the lock is held"
kw_grep '^op 1 error: device in exclusive use by another process' "$KW_OUT"
[ $ms -ge 700 ] && [ $ms -lt 4000 ] || kw_fail "the bounded wait took $ms ms"
if KEYWARD_BLE_LOCK_TIMEOUT_MS=800 sign_verify locked 2>/dev/null; then
	kw_fail "signed while another process held the token"
fi
kw_grep 'is in use by another process' "$KW_TMP/sign-locked.log" "pkcs11-tool while locked"
kill $hold 2>/dev/null
wait $hold 2>/dev/null
sign_verify after-lock || kw_fail "sign after the lock was released"
kw_pass "a held token: 'in use by another process' after the bounded wait, then usable again"

T1=$(date +%s)
[ $((T1 - T0)) -lt 240 ] || kw_fail "took $((T1 - T0)) s"
kw_pass "done in $((T1 - T0)) s"
