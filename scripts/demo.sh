#!/bin/sh
# The main job, from a fresh Debian 12 machine (as root):
#   scripts/demo.sh
# Installs dependencies, builds keyward, then runs scripts/demo-inner.sh inside
# keyward-testenv: a private pcscd with the vpcd driver and a virtual token.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
bdir="${KW_DEMO_BUILDDIR:-$top/_demo}"
echo "== building keyward in $bdir"
"$top/scripts/build.sh" "$bdir"
export KW_TOP_SRCDIR="$top" KW_TOP_BUILDDIR="$bdir"
exec "$bdir/tools/testenv/keyward-testenv" run --tokens 1 --attest-ca --timeout 600 -- \
	sh "$top/scripts/demo-inner.sh"
