#!/bin/sh
# keyward-pkcs11.so exports the PKCS#11 functions and nothing else.
set -eu
so="$KW_TOP_BUILDDIR/pkcs11-module/.libs/keyward-pkcs11.so"
[ -f "$so" ] || { echo "missing $so"; exit 1; }
syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
bad=$(printf '%s\n' "$syms" | grep -v '^C_' || true)
if [ -n "$bad" ]; then
	echo "unexpected exported symbols:"; printf '%s\n' "$bad"; exit 1
fi
n=$(printf '%s\n' "$syms" | grep -c '^C_')
# 68 functions of v2.40 + 24 of v3.0
[ "$n" -eq 92 ] || { echo "expected 92 C_* symbols, got $n"; exit 1; }
for f in C_GetFunctionList C_GetInterfaceList C_GetInterface C_Initialize C_LoginUser; do
	printf '%s\n' "$syms" | grep -qx "$f" || { echo "missing $f"; exit 1; }
done
echo "ok: $n C_* symbols, nothing else"
