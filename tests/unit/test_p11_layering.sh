#!/bin/sh
# The data path goes one way: the PKCS#11 module talks to cards through the
# PIV client (src/kw_piv*) and to devices through the transport interface
# (src/kw_transport.h: list_slots, monitors) only. It never includes a
# driver's or PC/SC header, never builds APDUs nor sends them itself, and
# its objects do not reference PC/SC symbols.
set -eu
top=${KW_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${KW_TOP_BUILDDIR:-.}
fail=0
src=$(ls "$top"/pkcs11-module/p11_*.c "$top"/pkcs11-module/p11_*.h | grep -v p11_hotplug_check)
bad=$(grep -nE '#include *[<"](pcsc/|uicc/|atmodem/|ble/|winscard|PCSC/|kw_apdu\.h|kw_mock\.h)' $src || true)
[ -z "$bad" ] || { echo "driver or APDU headers in the module:"; echo "$bad"; fail=1; }
bad=$(grep -nE '\bkw_(transport_transmit|apdu_[a-z_]+|pcsc_[a-z_]+|uicc_[a-z_]+|ble_[a-z_]+|atmodem_[a-z_]+)\b' $src || true)
[ -z "$bad" ] || { echo "the module sends APDUs or calls a driver directly:"; echo "$bad"; fail=1; }
objs=$(ls "$bld"/pkcs11-module/.libs/*p11_*.o 2>/dev/null || true)
[ -n "$objs" ] || { echo "no module objects under $bld/pkcs11-module"; exit 1; }
bad=$(nm -u $objs 2>/dev/null | awk 'NF == 2 {print $2}' |
	grep -E '^(SCard|kw_pcsc_|kw_uicc_|kw_ble_|kw_atmodem_|kw_apdu_|kw_transport_transmit$)' | sort -u || true)
[ -z "$bad" ] || { echo "module objects reference:"; echo "$bad"; fail=1; }
[ $fail -eq 0 ] && echo "ok: the module uses the PIV client and the transport interface only"
exit $fail
