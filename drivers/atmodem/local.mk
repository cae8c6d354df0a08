# drivers/atmodem: build fragment (included from the top Makefile.am).
# The AT modem transport: line parsing (kw_at.c, I/O-free), the serial
# port (kw_atmodem_port.c) and the transport ops (kw_atmodem.c).
drivers_libkwdrivers_la_SOURCES += \
	drivers/atmodem/kw_at.c drivers/atmodem/kw_at.h \
	drivers/atmodem/kw_atmodem.c drivers/atmodem/kw_atmodem.h \
	drivers/atmodem/kw_atmodem_port.c

# Unit test: parsing, and the transport on a pty against keyward-vcard's
# modem front-end running in a thread of the test.
check_PROGRAMS += tests/unit/test_atmodem
tests_unit_test_atmodem_SOURCES = tests/unit/test_atmodem.c \
	drivers/atmodem/kw_at.c drivers/atmodem/kw_atmodem.c \
	drivers/atmodem/kw_atmodem_port.c drivers/kw_config.c drivers/kw_lock.c
tests_unit_test_atmodem_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS) \
	-I$(top_srcdir)/tools/vcard
tests_unit_test_atmodem_LDADD = tools/vcard/libvcard.la src/libkeyward.la \
	$(CMOCKA_LIBS) $(CRYPTO_LIBS) -lpthread -lutil
TESTS += tests/unit/test_atmodem

TESTS += tests/integration/test_sim_modem.sh
EXTRA_DIST += tests/integration/test_sim_modem.sh drivers/atmodem/bench-sim.sh
