#!/bin/sh
# Benchmark keyward-pkcs11 against OpenSC's PIV module and ykcs11 on the same
# virtual token, in one run (one keyward-testenv, one provisioned token).
#
#   bench/bench-p11.sh [--seconds N] [--json FILE] [--help]
#
# For each module, in a fresh process (bench/p11bench): APDUs (counted from
# the token's trace) and wall time for cold start-up to the first certificate
# list, C_Login, one RSA-2048 signature (first and warm), one P-256 signature
# (9C, PIN-always), one RSA decryption, and RSA-2048 signatures/s; then a
# table with keyward's ratios to OpenSC and ykcs11.
# Environment: KW_TOP_BUILDDIR (default: the current directory),
# KEYWARD_P11_MODULE, OPENSC_P11_MODULE, YKCS11_MODULE override the modules.
set -eu

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; }
seconds=3
json=
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--json) json=$2; shift 2 ;;
	--inside) inside=1; shift ;;
	--help | -h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
: "${KW_TOP_SRCDIR:=$(cd "$(dirname "$self")/.." && pwd)}"
: "${KW_TOP_BUILDDIR:=$PWD}"
export KW_TOP_SRCDIR KW_TOP_BUILDDIR
libfind() { find /usr/lib /usr/lib64 -maxdepth 2 -name "$1" 2>/dev/null | head -n1; }
: "${KEYWARD_P11_MODULE:=$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so}"
: "${OPENSC_P11_MODULE:=$(libfind opensc-pkcs11.so)}"
: "${YKCS11_MODULE:=$(libfind libykcs11.so)}"
export KEYWARD_P11_MODULE OPENSC_P11_MODULE YKCS11_MODULE

if [ -z "${inside:-}" ]; then
	bench=$KW_TOP_BUILDDIR/bench/p11bench
	tenv=$KW_TOP_BUILDDIR/tools/testenv/keyward-testenv
	for f in "$bench" "$tenv"; do
		[ -x "$f" ] || { echo "bench-p11: $f not built (make -C $KW_TOP_BUILDDIR)" >&2; exit 1; }
	done
	exec timeout -k 10 900 "$tenv" run --timeout 880 --tokens 1 -- \
		/bin/sh "$self" --inside --seconds "$seconds" ${json:+--json "$json"}
fi

out=$KEYWARD_TESTENV_DIR/bench
mkdir -p "$out"
# shellcheck source=../tests/interop/provision.sh
. "$KW_TOP_SRCDIR/tests/interop/provision.sh"
kwp_provision "$KEYWARD_TESTENV_DIR/fixture" || { echo "bench-p11: provisioning failed" >&2; exit 1; }
trace=$KEYWARD_TESTENV_DIR/token-0.trace

: >"$out/all.json"
for m in keyward:$KEYWARD_P11_MODULE opensc:$OPENSC_P11_MODULE ykcs11:$YKCS11_MODULE; do
	name=${m%%:*} so=${m#*:}
	if [ -z "$so" ] || [ ! -f "$so" ]; then
		echo "bench-p11: $name: $so missing, skipped" >&2
		continue
	fi
	pre=
	if nm -D "$so" 2>/dev/null | grep -q ' __asan_init'; then
		pre=$(ldd "$so" | awk '/libasan/ { print $3; exit }')
		echo "bench-p11: note: $name is an ASan build; its numbers are not representative" >&2
	fi
	echo "bench-p11: $name ($so)" >&2
	rc=0
	LD_PRELOAD=$pre ASAN_OPTIONS=detect_leaks=0 "$KW_TOP_BUILDDIR/bench/p11bench" \
		--module "$so" --trace "$trace" --seconds "$seconds" >"$out/$name.json" 2>"$out/$name.err" || rc=$?
	[ $rc -eq 0 ] || { echo "bench-p11: $name: p11bench exit $rc:" >&2; cat "$out/$name.err" >&2; }
	printf '{"name": "%s", "result": %s}\n' "$name" "$(cat "$out/$name.json")" >>"$out/all.json"
done
[ -n "$json" ] && cp "$out/all.json" "$json"

python3 - "$out/all.json" <<'PY'
import json, sys
runs = {}
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    runs[d["name"]] = d["result"]
names = [n for n in ("keyward", "opensc", "ykcs11") if n in runs]
rows = [("startup", "start-up to first cert list"), ("login", "C_Login"),
        ("rsa_sign1", "RSA-2048 sign (first)"), ("rsa_sign", "RSA-2048 sign (warm)"),
        ("p256_sign", "P-256 sign (9C, PIN-always)"), ("rsa_decrypt", "RSA-2048 decrypt")]

def cell(n, key):
    s = runs[n].get("steps", {}).get(key)
    if not isinstance(s, dict) or s.get("rv", 1) != 0:
        return None
    return s

def fmt(s):
    return "%5s APDU %8.1f ms" % (s["apdus"], s["ms"]) if s else "%20s" % "failed"

def ratio(a, b, k):
    if not a or not b or not b[k]:
        return "  -  "
    return "%5.2f" % (a[k] / b[k])

hdr = "%-30s" % "step" + "".join(" | %-20s" % n for n in names)
others = [n for n in names if n != "keyward"]
if "keyward" in names:
    hdr += "".join(" | kw/%-6s APDU  time" % o for o in others)
print(hdr)
print("-" * len(hdr))
for key, label in rows:
    line = "%-30s" % label + "".join(" | " + fmt(cell(n, key)) for n in names)
    if "keyward" in names:
        k = cell("keyward", key)
        for o in others:
            c = cell(o, key)
            line += " | %s %s" % (ratio(k, c, "apdus").rjust(12), ratio(k, c, "ms"))
    print(line)
line = "%-30s" % "RSA-2048 signatures/s"
for n in names:
    st = runs[n].get("steps", {})
    ok = isinstance(st.get("sign_loop"), dict) and st["sign_loop"].get("rv") == 0
    per = st["sign_loop"]["apdus"] / max(st.get("signatures", 1), 1) if ok else 0
    line += " | " + ("%7.1f/s %5.1f APDU/sig" % (st.get("sign_per_s", 0), per) if ok else "%20s" % "failed")
if "keyward" in names:
    for o in others:
        a = runs["keyward"].get("steps", {}).get("sign_per_s")
        b = runs[o].get("steps", {}).get("sign_per_s")
        line += " | %12s %5s" % ("", "%5.2f" % (a / b) if a and b else "  -  ")
print(line)
for n in names:
    if runs[n].get("errors"):
        print("note: %s had %d errors (see p11bench stderr)" % (n, runs[n]["errors"]))
PY
