#!/bin/sh
# The installed programs and the module are built hardened (configure's
# KW_HARDENING): full RELRO (GNU_RELRO + BIND_NOW), a non-executable stack,
# the stack protector, and _FORTIFY_SOURCE's checked calls (__*_chk) when
# configure defined it (not in the sanitizer build, where ASan checks more).
set -u
b=${KW_TOP_BUILDDIR:?}
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
. "${KW_TOP_SRCDIR:?}/tests/integration/lib.sh"
kw_init "$0" "$@"
kw_need readelf

mkvar() { sed -n "s/^$1 = //p" "$b/Makefile"; }
if grep -q -- '--disable-hardening' "$b/config.log"; then
	echo "configured with --disable-hardening: nothing to check"
	exit 0
fi
ldflags=$(mkvar KW_LDFLAGS)
cppflags=$(mkvar KW_CPPFLAGS)
for f in -Wl,-z,relro -Wl,-z,now; do
	case " $ldflags " in *" $f "*) ;; *) fail "configure did not add $f (KW_LDFLAGS: $ldflags)" ;; esac
done
case " $(mkvar KW_CFLAGS) " in *" -fstack-protector-strong "*) ;; *) fail "no -fstack-protector-strong" ;; esac
fortify=no
case " $cppflags $(mkvar CPPFLAGS) $(mkvar CFLAGS) " in *-D_FORTIFY_SOURCE=*) fortify=yes ;; esac
if [ $fortify = no ] && ! grep -q -- '--enable-sanitizers' "$b/config.log"; then
	fail "_FORTIFY_SOURCE is not defined in a build without sanitizers"
fi

n=0
for f in tools/keyward/keyward kms/keyward-kmsd tools/vcard/keyward-vcard \
    tools/testenv/keyward-testenv pkcs11-module/.libs/keyward-pkcs11.so; do
	p=$b/$f
	[ -f "$p" ] || continue
	n=$((n + 1))
	readelf -lW "$p" | grep -q GNU_RELRO || fail "$f: no GNU_RELRO segment"
	readelf -dW "$p" | grep -qE 'BIND_NOW|Flags:.* NOW' || fail "$f: not linked with -z now"
	readelf -lW "$p" | grep GNU_STACK | grep -q RWE && fail "$f: executable stack"
	syms=$(readelf --dyn-syms -W "$p")
	echo "$syms" | grep -q '__stack_chk_fail' || fail "$f: no stack protector"
	if [ $fortify = yes ]; then
		echo "$syms" | grep -qE '__[a-z]+_chk' || fail "$f: no _FORTIFY_SOURCE checked calls"
	fi
done
[ $n -ge 4 ] || fail "only $n binaries found in $b"
[ "$fails" -eq 0 ] || exit 1
echo "$n binaries hardened (fortify: $fortify)"
