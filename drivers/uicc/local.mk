# drivers/uicc: build fragment (included from the top Makefile.am).
# The UICC transport (logical channels over another transport) and the
# configuration file parser shared by the uicc and atmodem list ops.
drivers_libkwdrivers_la_SOURCES += \
	drivers/kw_config.c drivers/kw_config.h \
	drivers/uicc/kw_uicc.c drivers/uicc/kw_uicc.h

# Unit test: the transport and the config parser against keyward-vcard's
# UICC layer behind the test's own transport registry (no pcscd).
check_PROGRAMS += tests/unit/test_uicc
tests_unit_test_uicc_SOURCES = tests/unit/test_uicc.c \
	drivers/uicc/kw_uicc.c drivers/kw_config.c
tests_unit_test_uicc_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS) \
	-I$(top_srcdir)/tools/vcard
tests_unit_test_uicc_LDADD = tools/vcard/libvcard.la src/libkeyward.la \
	$(CMOCKA_LIBS) $(CRYPTO_LIBS)
TESTS += tests/unit/test_uicc

# kw-sim-probe: raw APDUs through any transport, for tests/integration/test_sim_*.sh.
check_PROGRAMS += drivers/uicc/kw-sim-probe
drivers_uicc_kw_sim_probe_SOURCES = drivers/uicc/kw_sim_probe.c
drivers_uicc_kw_sim_probe_LDADD = drivers/libkwdrivers.la src/libkeyward.la \
	$(PCSC_LIBS) $(CRYPTO_LIBS) -lpthread

# SIM integration tests (real pcscd/vpcd through keyward-testenv, a pty
# modem); test_sim_lib.sh holds their shared pieces.
TESTS += tests/integration/test_sim_uicc.sh
EXTRA_DIST += tests/integration/test_sim_uicc.sh tests/integration/test_sim_lib.sh
TESTS += tests/integration/test_sim_interop.sh
EXTRA_DIST += tests/integration/test_sim_interop.sh drivers/uicc/README.md
