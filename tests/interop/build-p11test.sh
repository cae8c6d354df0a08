#!/bin/sh
# Build OpenSC's p11test (src/tests/p11test) from Debian's opensc source package.
#
#   tests/interop/build-p11test.sh [--print-path] [--help]
#
# Idempotent and cached: the source package is fetched once into
# $KEYWARD_CACHE_DIR/opensc (default /var/cache/keyward/opensc), outside the git
# tree, and p11test is compiled there; reruns only print the binary's path.
# Nothing from OpenSC is committed to keyward.
set -eu

usage() {
	cat <<'USAGE'
usage: build-p11test.sh [--print-path] [--help]
Fetch Debian's opensc source package (adding a deb-src entry derived from the
existing apt sources if needed) and build only src/tests/p11test.
Prints the path of the p11test binary on stdout.
  --print-path  print where the binary is (or would be) and exit
Environment: KEYWARD_CACHE_DIR (default /var/cache/keyward)
USAGE
}

cache=${KEYWARD_CACHE_DIR:-/var/cache/keyward}/opensc
bin=$cache/p11test
case ${1-} in
--help | -h) usage; exit 0 ;;
--print-path) echo "$bin"; exit 0 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac

log() { echo "build-p11test: $*" >&2; }

# The bookworm main mirror as configured for binary packages (one-line or deb822),
# printed as "[options] URI" so that the deb-src entry carries the same Signed-By.
mirror_entry() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" { i = 2; o = ""; if ($2 ~ /^\[/) { while ($i !~ /\]$/) { o = o $i " "; i++ }; o = o $i " "; i++ }
			if ($(i + 1) == "bookworm") { print o $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
			{ uri = ""; suites = ""; types = ""; key = ""
			  for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { uri = $i; sub(/^URIs:[ \t]*/, "", uri); sub(/[ \t].*/, "", uri) }
				if ($i ~ /^Signed-By:[ \t]*\//) { key = $i; sub(/^Signed-By:[ \t]*/, "", key); sub(/[ \t].*/, "", key) }
				if ($i ~ /^Suites:/) suites = " " $i " "
				if ($i ~ /^Types:/) types = $i }
			  if (types ~ /deb/ && suites ~ /[ \t]bookworm[ \t]/ && uri != "") {
				if (key != "") printf "[signed-by=%s] ", key; print uri; exit } }' "$f"
	done
}

ensure_source() {
	src=$(ls -d "$cache"/opensc-*/ 2>/dev/null | head -n1 || true)
	[ -n "$src" ] && [ -f "$src/src/tests/p11test/p11test.c" ] && return 0
	if ! apt-get source --print-uris opensc >/dev/null 2>&1 ||
		[ -z "$(apt-get source --print-uris opensc 2>/dev/null | grep "^'")" ]; then
		list=/etc/apt/sources.list.d/keyward-src.list
		uri=$(mirror_entry | head -n1)
		[ -n "$uri" ] || { log "no bookworm entry in the apt sources to derive a deb-src from"; exit 1; }
		if [ "$(cat "$list" 2>/dev/null)" != "deb-src $uri bookworm main" ]; then
			log "writing deb-src $uri bookworm main to $list"
			echo "deb-src $uri bookworm main" >"$list"
		fi
		apt-get update -qq >&2
	fi
	# Fetch into a scratch directory and move the tree into place whole, so
	# an interrupted fetch never leaves a half-extracted tree behind.
	tmp=$cache/fetch.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	(cd "$tmp" && apt-get source -qq opensc >"$cache/fetch.log" 2>&1) || { cat "$cache/fetch.log" >&2; rm -rf "$tmp"; exit 1; }
	d=$(ls -d "$tmp"/opensc-*/ | head -n1)
	[ -n "$d" ] || { log "apt-get source opensc produced no source tree"; exit 1; }
	mv "$d" "$cache/"
	rm -rf "$tmp"
	src=$(ls -d "$cache"/opensc-*/ | head -n1)
}

# p11test needs only OpenSSL, cmocka and the PKCS#11 headers shipped in OpenSC's
# tree; compile its sources directly instead of configuring all of OpenSC.
build() {
	p=$src/src/tests/p11test
	hdr=$cache/config
	mkdir -p "$hdr"
	cat >"$hdr/config.h" <<'CFG'
#define ENABLE_OPENSSL 1
#define HAVE_STRING_H 1
#define HAVE_STDLIB_H 1
#define HAVE_UNISTD_H 1
#define HAVE_STRNLEN 1
#define PACKAGE_VERSION "debian"
CFG
	srcs=$(ls "$p"/p11test*.c)
	# shellcheck disable=SC2086
	${CC:-cc} -O1 -g -w -DHAVE_CONFIG_H -I"$hdr" -I"$src/src" -I"$src/src/tests/p11test" \
		-o "$bin.tmp" $srcs $(pkg-config --cflags --libs cmocka libcrypto) -ldl
	mv "$bin.tmp" "$bin"
}

mkdir -p "$cache"
# One builder at a time (parallel test runs share the cache).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache/.lock"
	flock -w 600 9 || { log "timed out waiting for $cache/.lock"; exit 1; }
fi
if [ ! -x "$bin" ]; then
	ensure_source
	log "building p11test from $src"
	build
fi
echo "$bin"
