# pkcs11-module: keyward-pkcs11.so, the PKCS#11 v3.0 module.
# The internals build as a convenience library (also linked by the unit
# tests); the installed module adds the entry points and exports only C_*.
KWP11_FLAGS = $(AM_CFLAGS) -fPIC $(CRYPTO_CFLAGS) $(P11KIT_CFLAGS) \
	-I$(top_srcdir)/pkcs11-module
KWP11_ENTRY_SRC = pkcs11-module/p11_entry.c pkcs11-module/p11_entry_none.c \
	pkcs11-module/p11_iface.c

noinst_LTLIBRARIES += pkcs11-module/libkwp11.la
pkcs11_module_libkwp11_la_SOURCES = \
	pkcs11-module/p11_v3.h pkcs11-module/p11_int.h \
	pkcs11-module/p11_module.c pkcs11-module/p11_lock.c pkcs11-module/p11_rv.c \
	pkcs11-module/p11_slot.c pkcs11-module/p11_token.c pkcs11-module/p11_session.c \
	pkcs11-module/p11_object.c pkcs11-module/p11_load.c pkcs11-module/p11_attr.c \
	pkcs11-module/p11_find.c \
	pkcs11-module/p11_mech.c pkcs11-module/p11_pad.c pkcs11-module/p11_sign.c \
	pkcs11-module/p11_decrypt.c pkcs11-module/p11_derive.c pkcs11-module/p11_pin.c \
	pkcs11-module/p11_kdf.c pkcs11-module/p11_secret_key.c pkcs11-module/p11_keywrap.c \
	pkcs11-module/p11_keygen.c pkcs11-module/p11_create.c pkcs11-module/p11_cache.c
pkcs11_module_libkwp11_la_CFLAGS = $(KWP11_FLAGS)
pkcs11_module_libkwp11_la_LIBADD = drivers/libkwdrivers.la

pkcs11moddir = $(libdir)/pkcs11
pkcs11mod_LTLIBRARIES = pkcs11-module/keyward-pkcs11.la
pkcs11_module_keyward_pkcs11_la_SOURCES = $(KWP11_ENTRY_SRC)
pkcs11_module_keyward_pkcs11_la_CFLAGS = $(KWP11_FLAGS)
pkcs11_module_keyward_pkcs11_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-no-undefined -export-symbols-regex '^C_'
pkcs11_module_keyward_pkcs11_la_LIBADD = pkcs11-module/libkwp11.la \
	$(PCSC_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS) -lpthread

# p11-kit finds the module through this file (absolute path: works for any prefix).
p11kitmoddir = $(p11kit_moduledir)
# Installed as keyward.module: p11-kit names the module "keyward".
p11kitmod_DATA = pkcs11-module/keyward.module
pkcs11-module/keyward.module: $(top_srcdir)/pkcs11-module/keyward-pkcs11.module.in Makefile
	$(AM_V_GEN)$(MKDIR_P) pkcs11-module && \
	$(SED) -e 's|@pkcs11moddir[@]|$(pkcs11moddir)|g' \
		$(top_srcdir)/pkcs11-module/keyward-pkcs11.module.in > $@
CLEANFILES += pkcs11-module/keyward.module
EXTRA_DIST += pkcs11-module/keyward-pkcs11.module.in pkcs11-module/README.md

# Unit tests: the C_* functions over the mock transport with a fake card.
KWP11_TEST_FLAGS = $(KWP11_FLAGS) $(CMOCKA_CFLAGS)
KWP11_TEST_LIBS = pkcs11-module/libkwp11.la $(CMOCKA_LIBS) $(PCSC_LIBS) $(CRYPTO_LIBS) \
	$(ZLIB_LIBS) -lpthread
KWP11_FAKE_SRC = tests/unit/test_p11_fake.c tests/unit/test_p11_fake.h

check_PROGRAMS += tests/unit/test_p11_module
tests_unit_test_p11_module_SOURCES = tests/unit/test_p11_module.c $(KWP11_FAKE_SRC) \
	$(KWP11_ENTRY_SRC)
tests_unit_test_p11_module_CFLAGS = $(KWP11_TEST_FLAGS)
tests_unit_test_p11_module_LDADD = $(KWP11_TEST_LIBS)
TESTS += tests/unit/test_p11_module

# Only C_* may be exported from the installed module.
TESTS += tests/unit/test_p11_symbols.sh
EXTRA_DIST += tests/unit/test_p11_symbols.sh
# The module reaches cards through the PIV client and devices through the
# transport interface only (no driver headers, no APDUs of its own).
TESTS += tests/unit/test_p11_layering.sh
EXTRA_DIST += tests/unit/test_p11_layering.sh

check_PROGRAMS += tests/unit/test_p11_crypto
tests_unit_test_p11_crypto_SOURCES = tests/unit/test_p11_crypto.c $(KWP11_FAKE_SRC) \
	$(KWP11_ENTRY_SRC)
tests_unit_test_p11_crypto_CFLAGS = $(KWP11_TEST_FLAGS)
tests_unit_test_p11_crypto_LDADD = $(KWP11_TEST_LIBS)
TESTS += tests/unit/test_p11_crypto

# Secrets held by the module are replaced, never overwritten (LSan in the
# sanitizer build reports a PIN or PUK dropped unwiped).
check_PROGRAMS += tests/unit/test_p11_secret
tests_unit_test_p11_secret_SOURCES = tests/unit/test_p11_secret.c $(KWP11_FAKE_SRC) \
	$(KWP11_ENTRY_SRC)
tests_unit_test_p11_secret_CFLAGS = $(KWP11_TEST_FLAGS)
tests_unit_test_p11_secret_LDADD = $(KWP11_TEST_LIBS)
TESTS += tests/unit/test_p11_secret

# ECDH with the X9.63 KDFs, AES key unwrap, session secret keys (wiping
# checked through a kw_secret_free wrapper).
check_PROGRAMS += tests/unit/test_p11_ecdh
tests_unit_test_p11_ecdh_SOURCES = tests/unit/test_p11_ecdh.c $(KWP11_FAKE_SRC) \
	$(KWP11_ENTRY_SRC)
tests_unit_test_p11_ecdh_CFLAGS = $(KWP11_TEST_FLAGS)
tests_unit_test_p11_ecdh_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=kw_secret_free
tests_unit_test_p11_ecdh_LDADD = $(KWP11_TEST_LIBS)
TESTS += tests/unit/test_p11_ecdh

# Integration: pkcs11-tool through the module on a provisioned virtual token.
TESTS += tests/integration/test_p11_basic.sh
EXTRA_DIST += tests/integration/test_p11_basic.sh

# p11-hotplug-check: removal/re-insertion/finalize driver for test_p11_basic.sh.
check_PROGRAMS += pkcs11-module/p11-hotplug-check
pkcs11_module_p11_hotplug_check_SOURCES = pkcs11-module/p11_hotplug_check.c
pkcs11_module_p11_hotplug_check_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS) -I$(top_srcdir)/pkcs11-module
pkcs11_module_p11_hotplug_check_LDADD = -ldl -lpthread
