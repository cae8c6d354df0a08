#!/bin/sh
# Installs what keyward needs to build, test and run its demo on Debian 12.
# Idempotent: does nothing when every package is already installed.
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config
 libpcsclite-dev pcscd vsmartcard-vpcd libssl-dev openssl libcmocka-dev
 libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev
 libsystemd-dev libargon2-dev zlib1g-dev libp11-kit-dev softhsm2 opensc opensc-pkcs11
 yubico-piv-tool ykcs11 libnss3-tools gnutls-bin libengine-pkcs11-openssl
 p11-kit python3-dbusmock iproute2 socat dbus procps psmisc
 util-linux clang libclang-rt-14-dev curl python3 python3-cryptography
 debhelper lintian dpkg-dev fakeroot scdoc groff-base binutils man-db thunderbird"
# From bookworm-backports (not in bookworm itself): OpenSSL 3's PKCS#11
# provider, used by tests/interop/openssl-cms.sh.
BACKPORTS_PACKAGES="pkcs11-provider"
BACKPORTS_SOURCE=/etc/apt/sources.list.d/keyward-backports.sources

missing="" missing_bpo=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
for p in $BACKPORTS_PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing_bpo="$missing_bpo $p"
done
[ -z "$missing$missing_bpo" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
# The backports suite as a deb822 source on the same mirror as the main one
# (debian.sources, else sources.list, else deb.debian.org).
add_backports() {
	grep -rqs '^Suites:.*bookworm-backports' /etc/apt/sources.list.d/ && return 0
	grep -qs '^deb .*bookworm-backports' /etc/apt/sources.list && return 0
	mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	echo "install-deps: adding bookworm-backports ($mirror) as $BACKPORTS_SOURCE"
	cat >"$BACKPORTS_SOURCE" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

echo "install-deps: installing$missing${missing_bpo:+ (backports:$missing_bpo)}"
export DEBIAN_FRONTEND=noninteractive
[ -z "$missing_bpo" ] || add_backports
apt-get update -q
# shellcheck disable=SC2086
[ -z "$missing" ] || apt-get install -y -q --no-install-recommends $missing
# shellcheck disable=SC2086
[ -z "$missing_bpo" ] || apt-get install -y -q --no-install-recommends -t bookworm-backports $missing_bpo
