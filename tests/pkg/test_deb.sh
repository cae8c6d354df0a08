#!/bin/sh
# The Debian packages: dpkg-buildpackage -us -uc -b from the release tarball
# (make distdir) builds keyward-pkcs11, keyward, keyward-kmsd and
# keyward-testenv (no -dev: every library is internal); lintian reports no
# errors; the files are where p11-kit, udev and systemd look; then the
# packages are installed with dpkg into a clean root and used there.
#
# The clean root is this machine's root file system under an overlay (a
# tmpfs upper layer) in the test's own mount namespace, with /usr/local,
# /work, /home, /tmp and /run emptied and no keyward package in its dpkg
# database: dpkg resolves the packages' dependencies against the installed
# Debian packages, runs the maintainer scripts (systemd-sysusers creates
# keyward-kms, the unit is enabled, not started), and nothing from a build
# tree or /usr/local is visible. No network. Inside: p11-kit list-modules
# shows the module (and, under the packaged keyward-testenv, its token),
# keyward --version, keyward-kmsd --help, the man pages; then dpkg --purge
# removes everything. Cost: one package build (~1-2 min CPU), lintian
# (~30 s), install and checks (~10 s).
. "${KW_TOP_SRCDIR:?}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need dpkg-buildpackage dh lintian dpkg-deb unshare chroot
grep -q overlay /proc/filesystems || kw_skip "no overlayfs"
unshare -m true 2>/dev/null || kw_skip "no mount namespaces"
b=$KW_TOP_BUILDDIR
t=$KW_TMP
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# 1. Build from the tarball's tree (KW_DEB_DIR=DIR: use the packages and
# .changes already built there, to work on the later steps).
if [ -n "${KW_DEB_DIR:-}" ]; then
	mkdir -p "$t/src" && cp "$KW_DEB_DIR"/*.deb "$KW_DEB_DIR"/*.changes "$KW_DEB_DIR"/*.buildinfo "$t/src/" ||
		kw_fail "no packages in $KW_DEB_DIR"
else
kw_log "make distdir"
mkdir -p "$t/src"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$b" distdir distdir="$t/src/keyward-0.1.0" \
	>"$t/distdir.log" 2>&1 || { tail -20 "$t/distdir.log" >&2; kw_fail "make distdir"; }
kw_log "dpkg-buildpackage -us -uc -b"
start=$(date +%s)
( cd "$t/src/keyward-0.1.0" &&
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL DEB_BUILD_OPTIONS="nocheck parallel=2" \
	timeout 3000 dpkg-buildpackage -us -uc -b ) >"$t/build.log" 2>&1 ||
	{ tail -60 "$t/build.log" >&2; kw_fail "dpkg-buildpackage failed"; }
kw_log "built in $(( $(date +%s) - start )) s"
[ -n "${KW_DEB_KEEP:-}" ] && mkdir -p "$KW_DEB_KEEP" && cp "$t/src/"*.deb "$t/src/"*.changes \
	"$t/src/"*.buildinfo "$KW_DEB_KEEP/"
fi
debs=$(ls "$t/src/"*.deb)
for p in keyward-pkcs11 keyward keyward-kmsd keyward-testenv; do
	ls "$t/src/${p}_"*.deb >/dev/null 2>&1 || kw_fail "no $p package"
done
ls "$t/src/"*-dev_*.deb >/dev/null 2>&1 && kw_fail "a -dev package without an installed library"

# 2. lintian: no errors (warnings are printed).
kw_log "lintian"
lintian --fail-on error --tag-display-limit 0 "$t/src/"*.changes >"$t/lintian.log" 2>&1
st=$?
sed 's/^/    lintian | /' "$t/lintian.log" >&2
[ $st -eq 0 ] || kw_fail "lintian reports errors"
kw_not_grep '^E: ' "$t/lintian.log" "lintian"

# 3. Where the files are.
contents() { dpkg-deb -c "$t/src/$1"_*.deb | awk '{ print $6 }' | sed 's|^\.||'; }
contents keyward-pkcs11 >"$t/c.pkcs11"
kw_grep "^/usr/lib/$arch/pkcs11/keyward-pkcs11\\.so\$" "$t/c.pkcs11"
kw_grep '^/usr/share/p11-kit/modules/keyward\.module$' "$t/c.pkcs11"
kw_grep '^/usr/lib/udev/rules\.d/70-keyward\.rules$' "$t/c.pkcs11"
kw_grep '^/usr/share/man/man8/keyward-pkcs11\.8\.gz$' "$t/c.pkcs11"
contents keyward >"$t/c.cli"
kw_grep '^/usr/bin/keyward$' "$t/c.cli"
kw_grep '^/usr/share/man/man1/keyward\.1\.gz$' "$t/c.cli"
contents keyward-kmsd >"$t/c.kmsd"
kw_grep '^/usr/bin/keyward-kmsd$' "$t/c.kmsd"
kw_grep '^/lib/systemd/system/keyward-kmsd\.service$' "$t/c.kmsd"
kw_grep '^/usr/lib/sysusers\.d/keyward-kms\.conf$' "$t/c.kmsd"
kw_grep '^/usr/share/man/man5/keyward-kmsd\.conf\.5\.gz$' "$t/c.kmsd"
contents keyward-testenv >"$t/c.testenv"
kw_grep '^/usr/bin/keyward-testenv$' "$t/c.testenv"
kw_grep '^/usr/bin/keyward-vcard$' "$t/c.testenv"
dpkg-deb -f "$t/src/keyward-kmsd_"*.deb Depends >"$t/dep.kmsd"
kw_grep 'libmicrohttpd' "$t/dep.kmsd" "keyward-kmsd's Depends"
dpkg-deb -e "$t/src/keyward-kmsd_"*.deb "$t/ctl.kmsd"
kw_grep 'systemd-sysusers' "$t/ctl.kmsd/postinst" "keyward-kmsd's postinst"
dpkg-deb -f "$t/src/keyward-testenv_"*.deb Depends >"$t/dep.testenv"
kw_grep 'vsmartcard-vpcd' "$t/dep.testenv" "keyward-testenv's Depends"

# 4. Install into a clean root and use the packages there.
mkdir -p "$t/debs" && cp $debs "$t/debs/"
cat >"$t/root.sh" <<'ROOT'
set -eu
t=$1
arch=$2
mkdir -p "$t/ovl" "$t/root"
mount -t tmpfs -o size=512m tmpfs "$t/ovl"
mkdir -p "$t/ovl/upper" "$t/ovl/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$t/ovl/upper,workdir=$t/ovl/work" "$t/root"
r=$t/root
for d in usr/local work home tmp run root; do
	[ -d "$r/$d" ] && mount -t tmpfs tmpfs "$r/$d"
done
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount -t sysfs sysfs "$r/sys"
mkdir -p "$r/tmp/debs" "$r/run/lock"
cp "$t"/debs/*.deb "$r/tmp/debs/"
in_root() { chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"; }

echo "== clean: no keyward before the installation"
in_root sh -c 'dpkg-query -W -f "\${Status}\n" keyward keyward-pkcs11 keyward-kmsd keyward-testenv 2>/dev/null | grep -q "install ok installed"' &&
	{ echo "a keyward package is already installed"; exit 1; }
for f in /usr/lib/$arch/pkcs11/keyward-pkcs11.so /usr/share/p11-kit/modules/keyward.module \
    /usr/bin/keyward /usr/bin/keyward-kmsd /usr/local/bin/keyward; do
	[ ! -e "$r$f" ] || { echo "$f exists before the installation"; exit 1; }
done
in_root sh -c 'command -v keyward' && { echo "keyward in PATH before the installation"; exit 1; }

echo "== dpkg -i"
# (the root's paths: the globs are expanded inside it)
in_root sh -c 'dpkg -i /tmp/debs/keyward-pkcs11_*.deb /tmp/debs/keyward_*.deb \
	/tmp/debs/keyward-kmsd_*.deb /tmp/debs/keyward-testenv_*.deb'
in_root dpkg-query -W -f '${Package} ${Status}\n' keyward keyward-pkcs11 keyward-kmsd keyward-testenv
in_root dpkg --audit

echo "== p11-kit list-modules"
in_root p11-kit list-modules >"$t/list-modules"
cat "$t/list-modules"
grep -q '^keyward: /usr/lib/'"$arch"'/pkcs11/keyward-pkcs11.so$' "$t/list-modules" ||
	{ echo "p11-kit does not list the keyward module"; exit 1; }
echo "== keyward --version"
in_root keyward --version | tee "$t/version"
grep -q '^keyward 0\.1\.0$' "$t/version"
echo "== keyward-kmsd --help"
in_root keyward-kmsd --help >"$t/kmsd-help"
grep -q -- '--config FILE' "$t/kmsd-help"
in_root keyward-kmsd --version
echo "== keyward-testenv --help, keyward-vcard --help"
in_root keyward-testenv --help >/dev/null
in_root keyward-vcard --help >/dev/null
echo "== the system user, the unit"
in_root getent passwd keyward-kms | tee "$t/user"
grep -q '^keyward-kms:x:[0-9]*:[0-9]*:keyward KMS:/var/lib/keyward-kms:/usr/sbin/nologin$' "$t/user" ||
	{ echo "keyward-kms is not a nologin system user"; exit 1; }
uid=$(cut -d: -f3 "$t/user")
[ "$uid" -lt 1000 ] || { echo "keyward-kms has uid $uid (not a system user)"; exit 1; }
[ -L "$r/etc/systemd/system/multi-user.target.wants/keyward-kmsd.service" ] ||
	{ echo "keyward-kmsd.service is not enabled"; exit 1; }
grep -q '^User=keyward-kms$' "$r/lib/systemd/system/keyward-kmsd.service"
grep -q '^ExecStart=/usr/bin/keyward-kmsd --config /etc/keyward/kmsd.conf$' "$r/lib/systemd/system/keyward-kmsd.service"
echo "== man pages"
for m in keyward keyward-pkcs11 keyward-kmsd keyward-kmsd.conf keyward-vcard keyward-testenv; do
	in_root man -w "$m" >/dev/null || { echo "man $m: not found"; exit 1; }
done
echo "== the packaged testenv, vcard and module together"
in_root timeout 60 keyward-testenv run -- p11-kit list-modules >"$t/list-tok" 2>&1 || {
	cat "$t/list-tok"; echo "keyward-testenv run -- p11-kit list-modules failed"; exit 1; }
awk '/^keyward:/ { m = 1; next } /^[^ ]/ { m = 0 } m && /token: keyward PIV/ { t = 1 } END { exit !t }' "$t/list-tok" ||
	{ cat "$t/list-tok"; echo "p11-kit list-modules shows no keyward token under keyward-testenv"; exit 1; }
echo "== dpkg --purge"
in_root dpkg --purge keyward-testenv keyward-kmsd keyward keyward-pkcs11
for f in /usr/lib/$arch/pkcs11/keyward-pkcs11.so /usr/share/p11-kit/modules/keyward.module \
    /usr/bin/keyward /usr/bin/keyward-kmsd /lib/systemd/system/keyward-kmsd.service \
    /usr/lib/udev/rules.d/70-keyward.rules /etc/systemd/system/multi-user.target.wants/keyward-kmsd.service; do
	[ ! -e "$r$f" ] && [ ! -L "$r$f" ] || { echo "$f is left after purge"; exit 1; }
done
echo "clean root: ok"
ROOT
kw_log "install into a clean root (overlay in a private mount namespace)"
start=$(date +%s)
timeout 600 unshare -m --propagation private sh "$t/root.sh" "$t" "$arch" >"$t/root.log" 2>&1
st=$?
sed 's/^/    root | /' "$t/root.log" >&2
[ $st -eq 0 ] || kw_fail "install/use in the clean root failed (status $st)"
kw_log "installed, used and purged in $(( $(date +%s) - start )) s"
kw_pass "Debian packages build, pass lintian, install and work in a clean root"
