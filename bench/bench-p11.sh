#!/bin/sh
# Benchmark keyward-pkcs11 against OpenSC's PIV module and ykcs11 on the same
# virtual token, in one run (one keyward-testenv, one provisioned token).
#
#   bench/bench-p11.sh [--seconds N] [--runs N] [--json FILE] [--help]
#
# For each module, in a fresh process (bench/p11bench): APDUs (counted from
# the token's trace) and wall time for cold start-up to the first certificate
# list, C_Login, one RSA-2048 signature (first and warm), one P-256 signature
# (9C, PIN-always), one RSA decryption, and RSA-2048 signatures/s; then a
# table with keyward's ratios to OpenSC and ykcs11. Each module is run --runs
# times (default 3, interleaved); times are medians, APDU counts must agree.
# Environment: KW_TOP_BUILDDIR (default: the current directory),
# KEYWARD_P11_MODULE, OPENSC_P11_MODULE, YKCS11_MODULE override the modules.
set -eu

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; }
seconds=3
runs=3
json=
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
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
		/bin/sh "$self" --inside --seconds "$seconds" --runs "$runs" ${json:+--json "$json"}
fi

out=$KEYWARD_TESTENV_DIR/bench
mkdir -p "$out"
# shellcheck source=../tests/interop/provision.sh
. "$KW_TOP_SRCDIR/tests/interop/provision.sh"
kwp_provision "$KEYWARD_TESTENV_DIR/fixture" || { echo "bench-p11: provisioning failed" >&2; exit 1; }
trace=$KEYWARD_TESTENV_DIR/token-0.trace

: >"$out/all.json"
# keyward twice: with an empty on-disk cache (first use of the token) and with
# the cache the first run left (every later start). Same serial, same token.
export XDG_CACHE_HOME="$out/cache"
run=0
while [ $run -lt "$runs" ]; do
run=$((run + 1))
rm -rf "$XDG_CACHE_HOME"
for m in keyward-cold:$KEYWARD_P11_MODULE keyward:$KEYWARD_P11_MODULE opensc:$OPENSC_P11_MODULE ykcs11:$YKCS11_MODULE; do
	name=${m%%:*} so=${m#*:}
	if [ -z "$so" ] || [ ! -f "$so" ]; then
		[ $run -eq 1 ] && echo "bench-p11: $name: $so missing, skipped" >&2
		continue
	fi
	pre=
	if nm -D "$so" 2>/dev/null | grep -q ' __asan_init'; then
		pre=$(ldd "$so" | awk '/libasan/ { print $3; exit }')
		[ $run -eq 1 ] && echo "bench-p11: note: $name is an ASan build; its numbers are not representative" >&2
	fi
	echo "bench-p11: run $run/$runs: $name ($so)" >&2
	rc=0
	LD_PRELOAD=$pre ASAN_OPTIONS=detect_leaks=0 "$KW_TOP_BUILDDIR/bench/p11bench" \
		--module "$so" --trace "$trace" --seconds "$seconds" >"$out/$name.json" 2>"$out/$name.err" || rc=$?
	[ $rc -eq 0 ] || { echo "bench-p11: $name: p11bench exit $rc:" >&2; cat "$out/$name.err" >&2; }
	printf '{"name": "%s", "run": %d, "result": %s}\n' "$name" "$run" "$(cat "$out/$name.json")" >>"$out/all.json"
done
done
[ -n "$json" ] && cp "$out/all.json" "$json"

python3 - "$out/all.json" <<'PY'
import json, sys
import statistics
byname = {}
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    byname.setdefault(d["name"], []).append(d["result"])

def merge(results):
    """Median time per step; APDU counts must be equal across runs (else the max, flagged)."""
    out = {"steps": {}, "errors": sum(r.get("errors", 1) for r in results)}
    keys = set().union(*(r.get("steps", {}).keys() for r in results))
    for k in keys:
        vals = [r.get("steps", {}).get(k) for r in results]
        if all(isinstance(v, dict) for v in vals):
            ap = [v["apdus"] for v in vals]
            out["steps"][k] = {"ms": statistics.median(v["ms"] for v in vals), "apdus": max(ap),
                               "rv": max(v["rv"] for v in vals), "apdus_vary": len(set(ap)) > 1}
        elif all(isinstance(v, (int, float)) for v in vals):
            out["steps"][k] = statistics.median(vals)
    per = [r["steps"]["sign_loop"]["apdus"] / r["steps"]["signatures"] for r in results
           if isinstance(r.get("steps", {}).get("sign_loop"), dict) and r["steps"].get("signatures")]
    out["apdu_per_sig"] = statistics.median(per) if per else None
    return out

runs = {n: merge(r) for n, r in byname.items()}
names = [n for n in ("keyward-cold", "keyward", "opensc", "ykcs11") if n in runs]
rows = [("startup", "start-up to first cert list"), ("login", "C_Login"),
        ("rsa_sign1", "RSA-2048 sign (first)"), ("rsa_sign", "RSA-2048 sign (warm)"),
        ("p256_sign", "P-256 sign (9C, PIN-always)"), ("rsa_decrypt", "RSA-2048 decrypt")]

def cell(n, key):
    s = runs[n].get("steps", {}).get(key)
    if not isinstance(s, dict) or s.get("rv", 1) != 0:
        return None
    return s

def fmt(s):
    if not s:
        return "%20s" % "failed"
    return "%5s%sAPDU %8.2f ms" % (s["apdus"], "*" if s.get("apdus_vary") else " ", s["ms"])

def ratio(a, b, k):
    if not a or not b or not b[k]:
        return "-"
    return "%.2f" % (a[k] / b[k])

def persec(n):
    st = runs[n].get("steps", {})
    if not (isinstance(st.get("sign_loop"), dict) and st["sign_loop"].get("rv") == 0):
        return None, None
    return st.get("sign_per_s", 0), runs[n].get("apdu_per_sig") or 0

print("APDUs and median wall time per step over %d run(s) (keyward-cold: empty on-disk cache;"
      " keyward: warm cache; * = APDU count varied between runs, max shown)" % max(len(r) for r in byname.values()))
hdr = "%-30s" % "step" + "".join(" | %-20s" % n for n in names)
print(hdr)
print("-" * len(hdr))
for key, label in rows:
    print("%-30s" % label + "".join(" | " + fmt(cell(n, key)) for n in names))
line = "%-30s" % "RSA-2048 signatures/s"
for n in names:
    ps, per = persec(n)
    line += " | " + ("%7.1f/s %4.1f APDU/s." % (ps, per) if ps else "%20s" % "failed")
print(line)

kws = [k for k in ("keyward-cold", "keyward") if k in names]
refs = [r for r in ("opensc", "ykcs11") if r in names]
if kws and refs:
    print()
    print("keyward / reference (APDUs, time; below 1 is better; signatures/s: above 1 is better)")
    cols = ["%s/%s" % (k, r) for k in kws for r in refs]
    print("%-30s" % "step" + "".join(" | %-19s" % c for c in cols))
    for key, label in rows:
        line = "%-30s" % label
        for k in kws:
            for r in refs:
                a, b = cell(k, key), cell(r, key)
                line += " | %-19s" % ("%s APDU, %s time" % (ratio(a, b, "apdus"), ratio(a, b, "ms")))
        print(line)
    line = "%-30s" % "RSA-2048 signatures/s"
    for k in kws:
        for r in refs:
            a, b = persec(k)[0], persec(r)[0]
            line += " | %-19s" % ("%.2f" % (a / b) if a and b else "-")
    print(line)
for n in names:
    if runs[n].get("errors"):
        print("note: %s had %d errors (see p11bench stderr)" % (n, runs[n]["errors"]))
PY
