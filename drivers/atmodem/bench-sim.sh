#!/bin/sh
# drivers/atmodem/bench-sim.sh [BUILDDIR] [RUNS]: APDUs and time per signature
# through the three paths to the same virtual PIV applet (one state file):
# PC/SC (plain token on vpcd), UICC (logical channel on vpcd) and the AT
# modem on a pty (+CGLA, and +CSIM with the no-cgla quirk). Each run is one
# pkcs11-tool process: load keyward-pkcs11, log in, one ECDSA-SHA256 signature
# with 9E. Prints one line per path: runs, APDUs per run, ms per run.
# Needs root (or user namespaces), keyward-testenv, yubico-piv-tool, pkcs11-tool.
# (Lives here rather than in bench/, which another component owns.)
set -u
B=${1:-$(pwd)}
RUNS=${2:-10}
B=$(cd "$B" && pwd) || exit 2
MOD=$B/pkcs11-module/.libs/keyward-pkcs11.so
VCARD=$B/tools/vcard/keyward-vcard
TESTENV=$B/tools/testenv/keyward-testenv
for f in "$MOD" "$VCARD" "$TESTENV"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "bench-sim: $f not built" >&2; exit 2; }
done
for c in pkcs11-tool yubico-piv-tool; do
	command -v "$c" >/dev/null || { echo "bench-sim: $c not installed" >&2; exit 2; }
done

now_ms() { date +%s%3N; }

# Inside keyward-testenv: BENCH_PHASE=gen (make the 9E key) or a path name.
sign_runs() { # TRACE LABEL
	: >"$1"
	head -c 100 /dev/urandom >"$BENCH_DIR/data"
	t0=$(now_ms)
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		pkcs11-tool --module "$MOD" --login --pin 123456 --sign --id 04 -m ECDSA-SHA256 \
			-i "$BENCH_DIR/data" -o "$BENCH_DIR/sig" >/dev/null 2>&1 ||
			{ echo "bench-sim: $2: signature failed" >&2; return 1; }
		i=$((i + 1))
	done
	t1=$(now_ms)
	n=$(grep -c '^>' "$1")
	printf '%-22s runs %3d  APDUs/run %6.1f  ms/run %7.1f\n' "$2" "$RUNS" \
		"$(echo "$n / $RUNS" | bc -l)" "$(echo "($t1 - $t0) / $RUNS" | bc -l)"
}

case ${BENCH_PHASE:-} in
gen)
	yubico-piv-tool -r "$KEYWARD_TESTENV_READER_0" -a generate -s 9e -A ECCP256 \
		-o "$BENCH_DIR/pub9e.pem" >/dev/null 2>&1 || { echo "bench-sim: keygen" >&2; exit 1; }
	# a certificate is not needed: keyward-pkcs11 lists keys without one (metadata)
	exit 0 ;;
pcsc)
	KEYWARD_CONF=/nonexistent sign_runs "$KEYWARD_TESTENV_DIR/token-0.trace" "PC/SC"
	exit $? ;;
uicc)
	KEYWARD_CONF=/nonexistent KEYWARD_UICC_READERS="$KEYWARD_TESTENV_READER_0" \
		sign_runs "$KEYWARD_TESTENV_DIR/token-0.trace" "UICC (logical channel)"
	exit $? ;;
esac

BENCH_DIR=$(mktemp -d /tmp/kw-bench-sim.XXXXXX) || exit 1
export BENCH_DIR RUNS
vpid=
trap '[ -n "$vpid" ] && kill "$vpid" 2>/dev/null; rm -rf "$BENCH_DIR"' EXIT
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
run_env() { # PHASE [ENV...]
	ph=$1
	shift
	env BENCH_PHASE="$ph" "$@" timeout 600 "$TESTENV" run --state-dir "$BENCH_DIR/state" \
		-- /bin/sh "$self" "$B" "$RUNS"
}
mkdir -p "$BENCH_DIR/state"
run_env gen || exit 1
run_env pcsc || exit 1
printf '#!/bin/sh\nexec "%s" --uicc "$@"\n' "$VCARD" >"$BENCH_DIR/vcard-uicc"
chmod +x "$BENCH_DIR/vcard-uicc"
run_env uicc KEYWARD_VCARD="$BENCH_DIR/vcard-uicc" || exit 1
for q in none no-cgla; do
	set -- --state "$BENCH_DIR/state/token-0.state" --modem "$BENCH_DIR/modem" \
		--trace "$BENCH_DIR/modem.trace"
	[ "$q" = none ] || set -- "$@" --modem-quirks "$q"
	"$VCARD" "$@" 2>/dev/null &
	vpid=$!
	n=0
	while [ ! -e "$BENCH_DIR/modem" ] && [ "$n" -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	label="modem +CGLA"
	[ "$q" = none ] || label="modem +CSIM"
	KEYWARD_CONF=/nonexistent KEYWARD_MODEM_PORTS="$BENCH_DIR/modem" \
		KEYWARD_LOCK_DIR="$BENCH_DIR" sign_runs "$BENCH_DIR/modem.trace" "$label" || exit 1
	kill "$vpid"
	wait "$vpid" 2>/dev/null
	vpid=
done
