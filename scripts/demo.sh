#!/bin/sh
# The main job, from a fresh Debian 12 machine (as root):
#   scripts/demo.sh
# Installs dependencies, builds keyward, then runs scripts/demo-inner.sh inside
# keyward-testenv (a private pcscd with the vpcd driver and a virtual token
# whose attestation CA is made for the run): a local KMS (front + 2 share
# servers + SMTP sink on loopback), `keyward enroll` of the virtual token, and
# a signed and encrypted S/MIME message through keyward-pkcs11.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
# The demo's KMS helpers talk to the servers with the curl command.
command -v curl >/dev/null 2>&1 ||
	{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends curl >/dev/null; }
bdir="${KW_DEMO_BUILDDIR:-$top/_demo}"
echo "== building keyward in $bdir"
"$top/scripts/build.sh" "$bdir"
export KW_TOP_SRCDIR="$top" KW_TOP_BUILDDIR="$bdir"
exec "$bdir/tools/testenv/keyward-testenv" run --tokens 1 --attest-ca --timeout 600 -- \
	sh "$top/scripts/demo-inner.sh"
