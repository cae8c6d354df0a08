#!/bin/sh
# The PIV client (src/kw_piv*) end to end against keyward-vcard, a PIV
# applet written independently of it, under keyward-testenv (private pcscd
# + vpcd): every call of kw_piv.h on a live token (tests/unit/piv_live.c).
set -u

B=${KW_TOP_BUILDDIR:-$(pwd)}
LIVE=$B/tests/unit/piv_live
TESTENV=$B/tools/testenv/keyward-testenv

skip() { echo "SKIP: $*"; exit 77; }

if [ -z "${KEYWARD_TESTENV_DIR:-}" ]; then
	[ -x "$LIVE" ] || skip "piv_live not built"
	[ -x "$TESTENV" ] || skip "keyward-testenv not built"
	command -v pcscd >/dev/null 2>&1 || skip "pcscd not installed (apt-get install pcscd)"
	echo "== a token like a YubiKey 5.4 (3DES default management key)"
	"$TESTENV" run --tokens 1 --attest-ca --timeout 300 -- sh "$0" "$@"
	rc=$?
	[ $rc -eq 125 ] && skip "keyward-testenv cannot run in this environment"
	[ $rc -eq 0 ] || exit $rc
	# Firmware 5.7: AES-192 default key, RSA-3072/4096, MOVE KEY.
	W=$(mktemp -d /tmp/kw-piv-vcard.XXXXXX)
	trap 'rm -rf "$W"' EXIT
	VCARD=$B/tools/vcard/keyward-vcard
	[ -x "$VCARD" ] || skip "keyward-vcard not built"
	printf '#!/bin/sh\nexec "%s" "$@" --version 5.7.1\n' "$VCARD" >"$W/vcard57"
	chmod +x "$W/vcard57"
	echo "== a token like a YubiKey 5.7"
	KEYWARD_VCARD=$W/vcard57 "$TESTENV" run --tokens 1 --attest-ca --timeout 300 -- sh "$0" "$@"
	exit $?
fi

"$LIVE" "$KEYWARD_TESTENV_READER_0" "$KEYWARD_TESTENV_SERIAL_0"
