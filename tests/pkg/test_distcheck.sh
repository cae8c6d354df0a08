#!/bin/sh
# `make distcheck`: the tarball has everything (docs/, scripts/, debian/,
# generated man pages), builds out of a read-only source tree with -Werror,
# installs into and uninstalls from its own prefix (udev, systemd, sysusers
# and p11-kit directories follow it), and cleans up after itself. Inside it,
# the quick part of the suite runs (check-unit: unit tests, man pages,
# hardening); the full suite from a tarball is `make distcheck` by hand.
. "${KW_TOP_SRCDIR:?}/tests/integration/lib.sh"
kw_init "$0" "$@"
b=$KW_TOP_BUILDDIR
# The parent make's flags (TESTS=..., -j) must not reach distcheck's own makes.
kw_log "make distcheck (check-unit inside)"
clean_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u TESTS make "$@"; }
tests=$(clean_make -s -C "$b" kw-list-unit-tests | tr '\n' ' ')
[ -n "$tests" ] || kw_fail "no unit tests listed"
if ! timeout 1800 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -j2 -C "$b" distcheck TESTS="$tests" \
    >"$KW_TMP/distcheck.log" 2>&1; then
	tail -60 "$KW_TMP/distcheck.log" >&2
	kw_fail "make distcheck failed"
fi
kw_grep 'archives ready for distribution' "$KW_TMP/distcheck.log"
tar -tzf "$b/keyward-"*.tar.gz >"$KW_TMP/list"
for f in docs/kms-api.md scripts/install-deps.sh scripts/test.sh .ci/run LICENSE \
    debian/rules debian/control docs/man/keyward.1 docs/man/keyward.1.scd \
    docs/man/keyward-kmsd.conf.5 systemd/keyward-kmsd.service.in; do
	grep -q "^keyward-[^/]*/$f\$" "$KW_TMP/list" || kw_fail "the tarball lacks $f"
done
kw_pass "make distcheck"
