# drivers/: transports (pcsc, uicc, atmodem, ble) and the registry of them.
noinst_LTLIBRARIES += drivers/libkwdrivers.la
drivers_libkwdrivers_la_SOURCES = \
	drivers/kw_transports.c drivers/kw_lock.c drivers/kw_lock.h \
	drivers/pcsc/kw_pcsc.c drivers/pcsc/kw_pcsc.h drivers/pcsc/kw_pcsc_int.h \
	drivers/pcsc/kw_pcsc_err.c drivers/pcsc/kw_pcsc_list.c drivers/pcsc/kw_pcsc_wait.c
drivers_libkwdrivers_la_CFLAGS = $(AM_CFLAGS) -fPIC $(PCSC_CFLAGS)
drivers_libkwdrivers_la_LIBADD = src/libkeyward.la $(PCSC_LIBS) -lpthread

# drivers/pcsc unit test: the driver compiled against a fake SCard* layer
# (tests/unit/test_pcsc_fake.c), so no pcscd is needed.
check_PROGRAMS += tests/unit/test_pcsc
tests_unit_test_pcsc_SOURCES = tests/unit/test_pcsc.c \
	tests/unit/test_pcsc_fake.c tests/unit/test_pcsc_fake.h \
	drivers/pcsc/kw_pcsc.c drivers/pcsc/kw_pcsc_err.c drivers/pcsc/kw_pcsc_list.c drivers/pcsc/kw_pcsc_wait.c \
	drivers/kw_config.c
tests_unit_test_pcsc_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PCSC_CFLAGS)
tests_unit_test_pcsc_LDADD = src/libkeyward.la $(CMOCKA_LIBS) $(CRYPTO_LIBS) -lpthread
TESTS += tests/unit/test_pcsc

# kw-pcsc-probe: drives the real transport for tests/integration/test_keyward_pcsc.sh
# (listed in tools/keyward/local.mk with the other keyward integration tests).
check_PROGRAMS += drivers/pcsc/kw-pcsc-probe
drivers_pcsc_kw_pcsc_probe_SOURCES = drivers/pcsc/kw_pcsc_probe.c
drivers_pcsc_kw_pcsc_probe_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) -I$(top_srcdir)/drivers/pcsc
drivers_pcsc_kw_pcsc_probe_LDADD = drivers/libkwdrivers.la src/libkeyward.la \
	$(PCSC_LIBS) $(CRYPTO_LIBS) -lpthread

# The transports' cross-process lock (drivers/kw_lock.c).
check_PROGRAMS += tests/unit/test_lock
tests_unit_test_lock_SOURCES = tests/unit/test_lock.c drivers/kw_lock.c drivers/kw_lock.h
tests_unit_test_lock_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_lock_LDADD = src/libkeyward.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
TESTS += tests/unit/test_lock
