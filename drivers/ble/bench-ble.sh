#!/bin/sh
# Frames, bytes and time per signature over BLE (keyward-vcard-ble behind an
# emulated BlueZ on a private D-Bus bus) at ATT MTU 23, 185 and 512, and the
# same operation over PC/SC (keyward-testenv: pcscd + vpcd + keyward-vcard).
#
#   drivers/ble/bench-ble.sh [--count N] [--json FILE] [--help]
#
# One operation (kw-ble-probe --sign) is SELECT + GET VERSION + VERIFY PIN +
# one signature (GENERAL AUTHENTICATE): ECDSA P-256 in 9A, RSA-2048 in 9D
# (the RSA block needs command chaining or an extended APDU: 4-5 APDUs). Frames/bytes
# are counted by the client (out = written to the control point, in =
# notifications) per operation. Times are of the emulation (D-Bus round
# trips, no radio): a real link adds about one connection interval (7.5-50
# ms) per written frame with response and per notification burst.
# Environment: KW_TOP_BUILDDIR (default: the current directory).
set -eu

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; }
count=50
json=
while [ $# -gt 0 ]; do
	case $1 in
	--count) count=$2; shift 2 ;;
	--json) json=$2; shift 2 ;;
	--help | -h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
: "${KW_TOP_BUILDDIR:=$PWD}"
probe=$KW_TOP_BUILDDIR/tests/integration/kw-ble-probe
vcard=$KW_TOP_BUILDDIR/tools/vcard/ble/keyward-vcard-ble
module=$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so
testenv=$KW_TOP_BUILDDIR/tools/testenv/keyward-testenv
for f in "$probe" "$vcard" "$module"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "bench-ble: $f not built (make check)" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kw-bench-ble.XXXXXX")
bus_pid= vc_pid=
cleanup() {
	[ -n "$vc_pid" ] && kill "$vc_pid" 2>/dev/null && wait "$vc_pid" 2>/dev/null
	[ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

dbus-daemon --session --fork --nopidfile --print-address=1 --print-pid=1 >"$tmp/bus.txt"
KEYWARD_BLE_BUS=$(sed -n 1p "$tmp/bus.txt")
bus_pid=$(sed -n 2p "$tmp/bus.txt")
XDG_CACHE_HOME=$tmp/cache
export KEYWARD_BLE_BUS XDG_CACHE_HOME

start_vcard() {
	"$vcard" --state "$tmp/ble.state" --bus "$KEYWARD_BLE_BUS" --serial 4243 --mtu "$1" \
		>>"$tmp/vcard.log" 2>&1 &
	vc_pid=$!
	i=0
	until busctl --address="$KEYWARD_BLE_BUS" status org.bluez >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 50 ] || { echo "bench-ble: vcard did not start" >&2; exit 1; }
		sleep 0.1
	done
}
stop_vcard() { kill "$vc_pid"; wait "$vc_pid" 2>/dev/null || true; vc_pid=; }

keygen() { # pkcs11-tool args for the token
	pkcs11-tool --module "$module" "$@" --login --pin 123456 --keypairgen \
		--key-type EC:prime256v1 --id 01 >"$tmp/keygen.log" 2>&1 &&
	pkcs11-tool --module "$module" "$@" --login --pin 123456 --keypairgen \
		--key-type rsa:2048 --id 03 >>"$tmp/keygen.log" 2>&1 ||
		{ cat "$tmp/keygen.log" >&2; exit 1; }
}
# sign arguments of the probe per algorithm
alg_args() { if [ "$1" = ec ]; then echo "--sign 9a"; else echo "--sign 9d --rsa"; fi; }

# JSON line -> "frames_out frames_in bytes_out bytes_in ms apdus"
fields() {
	sed -n 's/.*"ms_per_op": \([0-9.]*\), "apdus": \([0-9]*\), "frames_out": \([0-9]*\), "frames_in": \([0-9]*\), "bytes_out": \([0-9]*\), "bytes_in": \([0-9]*\).*/\3 \4 \5 \6 \1 \2/p'
}

printf '%-14s %5s %10s %10s %10s %10s %8s\n' path frag frames_out frames_in bytes_out \
	bytes_in ms/sig >"$tmp/table"
rows=
first=1
for mtu in 23 185 512; do
	start_vcard "$mtu"
	if [ $first = 1 ]; then keygen --token-label "keyward PIV #4243"; first=0; fi
	for alg in ec rsa; do
		# shellcheck disable=SC2046
		"$probe" "ble:C0:FF:EE:00:00:01" --count 1 $(alg_args $alg) >/dev/null   # warm up
		# shellcheck disable=SC2046
		"$probe" "ble:C0:FF:EE:00:00:01" --count "$count" $(alg_args $alg) --stats >"$tmp/out"
		grep -q "\"ok\": $count" "$tmp/out" || { cat "$tmp/out" >&2; exit 1; }
		frag=$(sed -n 's/.*"frag": \([0-9]*\).*/\1/p' "$tmp/out")
		set -- $(fields <"$tmp/out")
		# the open moves no frames: per operation = total / count
		fo=$(( $1 / count )) fi=$(( $2 / count )) bo=$(( $3 / count )) bi=$(( $4 / count ))
		printf '%-14s %5s %10s %10s %10s %10s %8s\n' "ble/$mtu/$alg" "$frag" "$fo" "$fi" \
			"$bo" "$bi" "$5" >>"$tmp/table"
		rows="$rows{\"path\": \"ble\", \"mtu\": $mtu, \"alg\": \"$alg\", \"frag\": $frag, \"frames_out\": $fo, \"frames_in\": $fi, \"bytes_out\": $bo, \"bytes_in\": $bi, \"apdus\": $(( $6 / count )), \"ms_per_sig\": $5},"
	done
	stop_vcard
done

if [ -x "$testenv" ] && command -v pcscd >/dev/null 2>&1; then
	cat >"$tmp/pcsc.sh" <<EOS
set -e
pkcs11-tool --module "$module" --login --pin 123456 --keypairgen --key-type EC:prime256v1 \
	--id 01 >/dev/null 2>&1
pkcs11-tool --module "$module" --login --pin 123456 --keypairgen --key-type rsa:2048 \
	--id 03 >/dev/null 2>&1
"$probe" "pcsc:\$KEYWARD_TESTENV_READER_0" --count 1 --sign 9a >/dev/null
"$probe" "pcsc:\$KEYWARD_TESTENV_READER_0" --count $count --sign 9a --stats
"$probe" "pcsc:\$KEYWARD_TESTENV_READER_0" --count $count --sign 9d --rsa --stats
EOS
	if timeout 120 "$testenv" run -- /bin/sh "$tmp/pcsc.sh" >"$tmp/pcsc.out" 2>&1; then
		for alg in ec rsa; do
			line=$(grep '"ms_per_op"' "$tmp/pcsc.out" | if [ $alg = ec ]; then head -1; else tail -1; fi)
			set -- $(echo "$line" | fields)
			printf '%-14s %5s %10s %10s %10s %10s %8s\n' "pcsc/$alg" - - - - - "$5" >>"$tmp/table"
			rows="$rows{\"path\": \"pcsc\", \"alg\": \"$alg\", \"apdus\": $(( $6 / count )), \"ms_per_sig\": $5},"
		done
	else
		echo "bench-ble: PC/SC path not measured (keyward-testenv failed):" >&2
		tail -5 "$tmp/pcsc.out" >&2
	fi
else
	echo "bench-ble: PC/SC path not measured (no keyward-testenv or pcscd)" >&2
fi
echo "per signature (SELECT + GET VERSION + VERIFY + sign), mean of $count:"
cat "$tmp/table"
if [ -n "$json" ]; then
	printf '[%s]\n' "${rows%,}" >"$json"
fi
