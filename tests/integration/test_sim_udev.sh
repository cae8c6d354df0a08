#!/bin/sh
# udev/70-keyward.rules: syntax (udevadm verify where available, else
# udev/check-rules.sh, which must also reject broken rules), the uaccess and
# ID_MM_PORT_IGNORE assignments are there, and the keyward-udev-modem helper
# marks exactly the modem ports the configuration names (node or link).
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
kw_init "$0" "$@"
U=$KW_TOP_SRCDIR/udev
RULES=$U/70-keyward.rules

kw_run sh "$U/check-rules.sh" "$RULES"
printf 'KERNEL=="x", BOGUS="1"\nGOTO="nowhere"\nKERNEL=="x" TAG+="y"\nENV{A}="1\n' \
	>"$KW_TMP/bad.rules"
kw_run_fail sh "$U/check-rules.sh" "$KW_TMP/bad.rules"
for e in 'unknown key BOGUS' 'GOTO nowhere has no LABEL' 'expected , before' 'cannot parse'; do
	kw_grep "$e" "$KW_OUT" "checker output"
done
kw_pass "rules syntax (and the checker rejects broken rules)"

kw_grep 'ENV\{ID_USB_INTERFACES\}=="\*:0b0000:\*".*TAG\+="uaccess"' "$RULES" "CCID uaccess"
kw_grep 'ENV\{KEYWARD_MODEM_PORT\}=="1", TAG\+="uaccess", ENV\{ID_MM_PORT_IGNORE\}="1"' \
	"$RULES" "modem ports"
kw_grep 'IMPORT\{program\}="keyward-udev-modem \$devnode \$env\{DEVLINKS\}"' "$RULES" "helper"

cat >"$KW_TMP/keyward.conf" <<'CONF'
# test
uicc_reader = SIM Reader 00 00
modem_port = /dev/ttyUSB2
  modem_port="/dev/serial/by-id/usb-Quectel_EG25-if02-port0"
CONF
helper() { KEYWARD_CONF=$KW_TMP/keyward.conf sh "$U/keyward-udev-modem" "$@"; }
[ "$(helper /dev/ttyUSB2)" = KEYWARD_MODEM_PORT=1 ] || kw_fail "configured node"
[ "$(helper /dev/ttyUSB3 /dev/serial/by-id/usb-Quectel_EG25-if02-port0 /dev/x)" = \
	KEYWARD_MODEM_PORT=1 ] || kw_fail "configured link"
[ -z "$(helper /dev/ttyUSB1 /dev/serial/by-id/other)" ] || kw_fail "unconfigured port"
[ -z "$(helper /dev/ttyUSB)" ] || kw_fail "prefix of a configured port"
[ -z "$(KEYWARD_CONF=/nonexistent sh "$U/keyward-udev-modem" /dev/ttyUSB2)" ] ||
	kw_fail "no configuration"
kw_pass "keyward-udev-modem marks configured ports only"
