#!/bin/sh
# Runs inside keyward-testenv (see scripts/demo.sh): the steps of the demo.
set -eu
kw="$KW_TOP_BUILDDIR/tools/keyward/keyward"
echo "== the virtual token, as keyward sees it"
"$kw" list
echo
"$kw" status
