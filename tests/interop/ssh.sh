#!/bin/sh
# OpenSSH: `ssh-keygen -D module` lists the token's keys; every provisioned
# slot's public key must be among them (RSA-2048 and ECDSA P-256).
# (ssh-agent cannot answer 9C's PIN-always prompt unattended; listing needs no PIN.)
set -eu
. "${KW_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/interop/lib.sh"
kwi_init "$0" "$@"

kwi_run list.log ssh-keygen -D "$MODULE"
awk '{ print $2 }' list.log | sort >listed.txt
[ -s listed.txt ] || kwi_fail "ssh-keygen -D listed no keys"
while read -r slot id alg; do
	want=$(ssh-keygen -i -m PKCS8 -f "$FIX/slot-$slot.pub" | awk '{ print $2 }')
	grep -qxF "$want" listed.txt || { cat list.log >&2; kwi_fail "ssh-keygen -D does not list the slot $slot ($alg) key"; }
done <"$FIX/slots"
kwi_pass "ssh-keygen -D lists the keys of 9A 9C 9D 82 83"
