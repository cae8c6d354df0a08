#!/bin/sh
# Configure and build keyward out of tree: scripts/build.sh BUILDDIR [configure args]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bdir=$1
shift
[ -x "$top/configure" ] && [ "$top/configure" -nt "$top/configure.ac" ] ||
	(cd "$top" && autoreconf -fi >/dev/null)
mkdir -p "$bdir"
cd "$bdir"
if [ ! -f Makefile ] || [ "$top/configure" -nt config.status ]; then
	"$top/configure" -q "$@"
fi
make -j"$(nproc)" >/dev/null
