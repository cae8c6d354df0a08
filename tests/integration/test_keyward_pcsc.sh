#!/bin/sh
# drivers/pcsc against a real pcscd + vpcd + keyward-vcard, in a private
# mount and network namespace: pcscd restarted under an open transport
# (SERVICE_GONE, then a fresh open works), the card removed (CARD_REMOVED /
# NO_CARD, no hang), hotplug notification, and `keyward list` without pcscd.
# Needs root (unshare), pcscd and the vpcd driver; skips (77) otherwise.
set -u

B=${KW_TOP_BUILDDIR:-$(pwd)}
PROBE=$B/drivers/pcsc/kw-pcsc-probe
VCARD=${KEYWARD_VCARD:-$B/tools/vcard/keyward-vcard}
KEYWARD=$B/tools/keyward/keyward
VPCD_LIB=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

skip() { echo "SKIP: $*"; exit 77; }

if [ "${KW_PCSC_TEST_INNER:-}" != 1 ]; then
	command -v pcscd >/dev/null 2>&1 || skip "pcscd not installed (apt-get install pcscd)"
	[ -e "$VPCD_LIB" ] || skip "vpcd driver missing (apt-get install vsmartcard-vpcd)"
	[ -x "$VCARD" ] || skip "keyward-vcard not built"
	[ -x "$PROBE" ] || skip "kw-pcsc-probe not built"
	command -v unshare >/dev/null 2>&1 || skip "no unshare"
	unshare -m -n true 2>/dev/null || skip "cannot create namespaces (not root?)"
	KW_PCSC_TEST_INNER=1 exec timeout 240 unshare -m -n sh "$0" "$@"
fi

ip link set lo up 2>/dev/null || skip "cannot bring up loopback"
mkdir -p /run/pcscd
mount -t tmpfs tmpfs /run/pcscd || skip "cannot mount a tmpfs on /run/pcscd"
W=$(mktemp -d /tmp/kw-pcsc-test.XXXXXX)
READER="Yubico keyward vcard 00 00"
URI="pcsc:$READER"
PCSCD_PID=
VCARD_PID=
FAILS=0

cleanup() {
	[ -n "$VCARD_PID" ] && kill "$VCARD_PID" 2>/dev/null
	[ -n "$PCSCD_PID" ] && kill "$PCSCD_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

mkdir -p "$W/rc"
printf 'FRIENDLYNAME "Yubico keyward vcard"\nDEVICENAME /dev/null:0x8C7B\nLIBPATH %s\nCHANNELID 0x8C7B\n' \
	"$VPCD_LIB" > "$W/rc/vpcd"

start_pcscd() {
	pcscd --foreground --error -c "$W/rc" >>"$W/pcscd.log" 2>&1 &
	PCSCD_PID=$!
	i=0
	while [ ! -S /run/pcscd/pcscd.comm ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
stop_pcscd() {
	kill "$PCSCD_PID"; wait "$PCSCD_PID" 2>/dev/null; PCSCD_PID=
	rm -f /run/pcscd/pcscd.comm
}
start_vcard() {
	"$VCARD" --state "$W/token.state" --serial 12345678 >>"$W/vcard.log" 2>&1 &
	VCARD_PID=$!
}
stop_vcard() { kill "$VCARD_PID"; wait "$VCARD_PID" 2>/dev/null; VCARD_PID=; }
# Wait until the reader shows a card (pcscd polls vpcd every ~400 ms).
wait_card() {
	i=0
	while [ $i -lt 50 ]; do
		"$PROBE" --list 2>/dev/null | grep -qF "card $URI" && return 0
		sleep 0.2; i=$((i + 1))
	done
	return 1
}

start_pcscd
start_vcard
wait_card || { fail "the virtual card never appeared"; cat "$W"/*.log; exit 1; }

# 1. A working transport.
out=$(timeout 20 "$PROBE" --uri "$URI" --loops 1)
echo "$out" | grep -q "loop 0 begin OK transmit OK present OK" && ok "transport works" ||
	fail "transport: $out"
timeout 10 "$PROBE" --uri "pcsc:No Such Reader" | grep -q "open NO_READER" &&
	ok "unknown reader is NO_READER" || fail "unknown reader"

# 2. Another process holds a transaction: bounded waits (connect and begin
#    both wait in pcscd), SHARING, no hang; once it lets go, the same
#    transport works again.
hold() {   # hold MS OUTFILE: start a holder and wait until it holds
	timeout 30 "$PROBE" --uri "$URI" --hold-ms "$1" >"$2" 2>&1 &
	HOLDER=$!
	i=0
	while ! grep -q holding "$2" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
hold 2500 "$W/hold1.out"
t0=$(date +%s)
out=$(KEYWARD_PCSC_LOCK_TIMEOUT_MS=500 timeout 20 "$PROBE" --uri "$URI")
t1=$(date +%s)
wait "$HOLDER"
echo "$out" | grep -q "open SHARING" && ok "opening a held reader gives SHARING" ||
	fail "open of a held reader: $out"
[ $((t1 - t0)) -le 2 ] || fail "bounded connect took $((t1 - t0)) s"
KEYWARD_PCSC_LOCK_TIMEOUT_MS=500 timeout 30 "$PROBE" --uri "$URI" --loops 3 \
	--interval-ms 1500 >"$W/held.out" 2>&1 &
P=$!
sleep 0.5
hold 2500 "$W/hold2.out"
wait "$P"
wait "$HOLDER"
cat "$W/held.out"
grep -q "loop 0 begin OK" "$W/held.out" && grep -q "loop 1 begin SHARING" "$W/held.out" &&
	ok "begin on a held reader gives SHARING" || fail "begin on a held reader"
grep -q "loop 2 begin OK transmit OK present OK" "$W/held.out" &&
	ok "the transport works once the other process lets go" || fail "after the hold"
# A warm reset waits for the reader in pcscd as well: bounded.
KEYWARD_PCSC_LOCK_TIMEOUT_MS=500 timeout 30 "$PROBE" --uri "$URI" --loops 3 --reset \
	--interval-ms 1500 >"$W/reset.out" 2>&1 &
P=$!
sleep 0.5
hold 2500 "$W/hold3.out"
wait "$P"
wait "$HOLDER"
cat "$W/reset.out"
grep -q "loop 0 reset OK begin OK transmit OK present OK" "$W/reset.out" &&
	grep -q "loop 1 reset SHARING" "$W/reset.out" &&
	grep -q "loop 2 reset OK begin OK transmit OK present OK" "$W/reset.out" &&
	ok "reset of a held reader gives SHARING, then works" || fail "reset of a held reader"

# 3. pcscd restarted under an open transport.
timeout 30 "$PROBE" --uri "$URI" --loops 8 --interval-ms 300 >"$W/restart.out" 2>&1 &
P=$!
sleep 1
stop_pcscd
start_pcscd
wait "$P"; rc=$?
cat "$W/restart.out"
[ $rc -eq 0 ] || fail "probe across a pcscd restart exited $rc (hang or crash)"
grep -q "loop 0 begin OK transmit OK" "$W/restart.out" || fail "no good loop before the restart"
grep -q "SERVICE_GONE" "$W/restart.out" && ok "pcscd restart is SERVICE_GONE" ||
	fail "pcscd restart not reported as SERVICE_GONE"
# Sticky: nothing works on the old transport after the service went away.
sed -n '/SERVICE_GONE/,$p' "$W/restart.out" | grep -q "transmit OK" &&
	fail "old transport claims to work after the restart"
wait_card || fail "card did not come back after the pcscd restart"
out=$(timeout 20 "$PROBE" --uri "$URI" --loops 1)
echo "$out" | grep -q "loop 0 begin OK transmit OK present OK" &&
	ok "a fresh open works after the restart" || fail "fresh open after restart: $out"

# 4. Card removed (vcard killed) under an open transport: no hang.
timeout 30 "$PROBE" --uri "$URI" --loops 6 --interval-ms 300 >"$W/remove.out" 2>&1 &
P=$!
sleep 0.8
stop_vcard
wait "$P"; rc=$?
cat "$W/remove.out"
[ $rc -eq 0 ] || fail "probe across card removal exited $rc (hang or crash)"
grep -Eq "CARD_REMOVED|NO_CARD" "$W/remove.out" && ok "removal is CARD_REMOVED/NO_CARD" ||
	fail "removal not reported"
tail -n 1 "$W/remove.out" | grep -q "transmit NO_CARD present NO_CARD" ||
	fail "after removal the reader should report NO_CARD"
timeout 10 "$PROBE" --uri "$URI" | grep -q "open NO_CARD" && ok "open without card is NO_CARD" ||
	fail "open without card"

# 5. Hotplug: a card arriving wakes a waiter; nothing happening times out.
out=$(timeout 10 "$PROBE" --wait-change 300)
[ "$out" = unchanged ] && ok "wait-change times out" || fail "wait-change without event: $out"
timeout 20 "$PROBE" --wait-change 8000 >"$W/wait.out" 2>&1 &
P=$!
sleep 0.5
start_vcard
wait "$P"
[ "$(cat "$W/wait.out")" = changed ] && ok "insertion seen by wait-change" ||
	fail "insertion not seen: $(cat "$W/wait.out")"
wait_card || fail "card did not come back"

# 6. keyward list over the real transport, then without pcscd.
if [ -x "$KEYWARD" ]; then
	out=$(timeout 30 "$KEYWARD" list 2>&1)
	echo "$out" | grep -q "serial 12345678" && ok "keyward list shows the token" ||
		fail "keyward list: $out"
	stop_pcscd
	out=$(timeout 30 "$KEYWARD" list 2>&1); rc=$?
	echo "$out"
	[ $rc -eq 0 ] && echo "$out" | grep -q "pcscd is not running" &&
		echo "$out" | grep -q "No tokens found" && ok "keyward list without pcscd" ||
		fail "keyward list without pcscd (rc $rc)"
	timeout 10 "$PROBE" --uri "$URI" | grep -q "open NO_SERVICE" &&
		ok "open without pcscd is NO_SERVICE" || fail "open without pcscd"
fi

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)"; tail -n 20 "$W/pcscd.log" "$W/vcard.log"; exit 1; }
echo "all pcsc integration checks passed"
exit 0
