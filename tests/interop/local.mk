# tests/interop: other people's PKCS#11 clients against keyward-pkcs11.so on a
# provisioned virtual token (keyward-testenv: pcscd + vpcd + keyward-vcard).
# Module under test: $KEYWARD_P11_MODULE, default the build tree's
# pkcs11-module/.libs/keyward-pkcs11.so.

check_PROGRAMS += tests/interop/p11_threads
tests_interop_p11_threads_SOURCES = tests/interop/p11_threads.c \
	tests/interop/p11_util.c tests/interop/p11_util.h
tests_interop_p11_threads_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS) $(CRYPTO_CFLAGS)
tests_interop_p11_threads_LDADD = $(CRYPTO_LIBS) -ldl -lpthread

# Sanitizer builds: preloaded into pkcs11-provider's clients (see the file).
# Built without the sanitizer flags: it must load before the ASan runtime.
check_LTLIBRARIES = tests/interop/libkwi_nodeepbind.la
tests_interop_libkwi_nodeepbind_la_SOURCES = tests/interop/kwi_nodeepbind.c
tests_interop_libkwi_nodeepbind_la_CFLAGS = -O2 -Wall -Wextra
tests_interop_libkwi_nodeepbind_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_interop_libkwi_nodeepbind_la_LIBADD = -ldl

KWI_TESTS = \
	tests/interop/p11test.sh \
	tests/interop/pkcs11-tool.sh \
	tests/interop/openssl-cms.sh \
	tests/interop/nss.sh \
	tests/interop/gnutls.sh \
	tests/interop/ssh.sh \
	tests/interop/p11-kit.sh \
	tests/interop/threads.sh \
	tests/interop/two-process.sh \
	tests/interop/multi-token.sh \
	tests/interop/thunderbird.sh
TESTS += $(KWI_TESTS)
EXTRA_DIST += $(KWI_TESTS) tests/interop/lib.sh tests/interop/provision.sh tests/interop/README.md \
	tests/interop/build-p11test.sh tests/interop/marionette.py tests/interop/thunderbird.py

# make check-interop: only these tests (they need the module, the vcard and
# keyward-testenv built).
check-interop:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(KWI_TESTS)'
.PHONY: check-interop
