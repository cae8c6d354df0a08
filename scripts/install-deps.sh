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
 debhelper lintian dpkg-dev fakeroot scdoc groff-base binutils man-db"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
