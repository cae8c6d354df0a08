#!/bin/sh
# configure --disable-kms --disable-ble builds the module, the CLI and the
# virtual token without libmicrohttpd, sqlite3, argon2 or libsystemd: the
# build runs in its own mount namespace where their headers are hidden and
# pkg-config does not know them, so nothing can pick them up by accident.
# Then: no KMS, no BLE in what was built or installed; what was built runs.
# Cost: one configure and a build of the module, CLI, vcard and testenv
# (about a minute of CPU).
. "${KW_TOP_SRCDIR:?}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need unshare readelf make gcc
unshare -m true 2>/dev/null || kw_skip "no mount namespaces"

t=$KW_TMP
mkdir -p "$t/bin" "$t/build" "$t/empty"
cat >"$t/bin/pkg-config" <<'PC'
#!/bin/sh
# pkg-config without the packages --disable-kms / --disable-ble drop.
for a in "$@"; do
	case $a in libmicrohttpd*|sqlite3*|libargon2*|libsystemd*) exit 1 ;; esac
done
exec /usr/bin/pkg-config "$@"
PC
chmod +x "$t/bin/pkg-config"
cat >"$t/inner.sh" <<'IN'
set -eu
t=$1
top=$2
for h in microhttpd.h sqlite3.h argon2.h; do
	[ -e /usr/include/$h ] && mount --bind /dev/null /usr/include/$h
done
[ -d /usr/include/systemd ] && mount --bind "$t/empty" /usr/include/systemd
# The hiding works (else this test proves nothing).
! printf '#include <systemd/sd-bus.h>\n' | gcc -E -x c - >/dev/null 2>&1
! printf '#include <microhttpd.h>\n' | gcc -E -x c - >/dev/null 2>&1
cd "$t/build"
PATH=$t/bin:$PATH PKG_CONFIG=$t/bin/pkg-config \
	"$top/configure" -q --disable-kms --disable-ble --enable-werror \
	--prefix=/usr --with-udevdir=/usr/lib/udev \
	--with-p11kit-moduledir=/usr/share/p11-kit/modules
make -s -j2 >make.log 2>&1 || { tail -40 make.log; exit 1; }
make -s install DESTDIR="$t/inst" >install.log 2>&1 || { tail -20 install.log; exit 1; }
IN
kw_log "configure --disable-kms --disable-ble and build (headers hidden)"
kw_run timeout 3000 unshare -m sh "$t/inner.sh" "$t" "$KW_TOP_SRCDIR"

bd=$t/build
for f in tools/keyward/keyward pkcs11-module/.libs/keyward-pkcs11.so \
    tools/vcard/keyward-vcard tools/testenv/keyward-testenv docs/man/keyward.1; do
	[ -f "$bd/$f" ] || kw_fail "$f was not built"
done
for f in kms/keyward-kmsd tools/vcard/ble/keyward-vcard-ble kms/libkmsd.la \
    docs/man/keyward-kmsd.8 systemd/keyward-kmsd.service; do
	[ -e "$bd/$f" ] && kw_fail "$f was built with --disable-kms --disable-ble"
done
grep -q '^#define KW_WITH_BLE' "$bd/config.h" && kw_fail "config.h defines KW_WITH_BLE"
for f in tools/keyward/keyward pkcs11-module/.libs/keyward-pkcs11.so \
    tools/vcard/keyward-vcard tools/testenv/keyward-testenv; do
	readelf -dW "$bd/$f" | grep NEEDED >"$t/needed"
	kw_not_grep 'libsystemd|libmicrohttpd|libsqlite3|libargon2' "$t/needed" "$f's libraries"
done
nm -D --defined-only "$bd/pkcs11-module/.libs/keyward-pkcs11.so" >"$t/syms"
kw_not_grep 'kw_ble' "$t/syms" "the module's symbols"

# What is installed: module, CLI, testenv, udev, man pages; no KMS, no units.
inst=$t/inst
( cd "$inst" && find . -type f -o -type l | sort ) >"$t/installed"
kw_grep '^\./usr/bin/keyward$' "$t/installed"
kw_grep '^\./usr/lib/pkcs11/keyward-pkcs11\.so$' "$t/installed"
kw_grep '^\./usr/share/p11-kit/modules/keyward\.module$' "$t/installed"
kw_grep '^\./usr/lib/udev/rules\.d/70-keyward\.rules$' "$t/installed"
kw_grep '^\./usr/share/man/man1/keyward\.1$' "$t/installed"
kw_not_grep 'keyward-kmsd|systemd|sysusers|keyward-vcard-ble' "$t/installed" "installed files"

# The programs run; the BLE parts say why they are missing.
kw_run "$bd/tools/keyward/keyward" --version
kw_grep '^keyward [0-9]' "$KW_OUT"
kw_run_fail "$bd/tools/vcard/keyward-vcard" --state "$t/x.state" --ble
kw_grep 'built without BLE' "$KW_OUT"
kw_pass "--disable-kms --disable-ble: module, CLI and virtual token without the KMS and BLE -dev packages"
