# tools/vcard: keyward-vcard, the virtual PIV token (build fragment included
# from the top Makefile.am). The applet core is a convenience library so the
# unit tests drive it with APDUs; front-ends (vpcd) link it.
noinst_LTLIBRARIES += tools/vcard/libvcard.la
tools_vcard_libvcard_la_SOURCES = \
	tools/vcard/vcard.h \
	tools/vcard/vcard_card.c \
	tools/vcard/vcard_pin.c \
	tools/vcard/vcard_mgmt.c \
	tools/vcard/vcard_keys.c \
	tools/vcard/vcard_objects.c \
	tools/vcard/vcard_yk.c \
	tools/vcard/vcard_attest.c \
	tools/vcard/vcard_state.c \
	tools/vcard/vcard_token.h \
	tools/vcard/vcard_token.c \
	tools/vcard/vcard_io.h \
	tools/vcard/vcard_trace.c \
	tools/vcard/vcard_vpcd.c \
	tools/vcard/vcard_uicc.h \
	tools/vcard/vcard_uicc.c \
	tools/vcard/vcard_at.h \
	tools/vcard/vcard_at.c \
	tools/vcard/vcard_modem.c
tools_vcard_libvcard_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tools_vcard_libvcard_la_LIBADD = src/libkeyward.la $(CRYPTO_LIBS) -lutil

bin_PROGRAMS += tools/vcard/keyward-vcard
# The command line (vcard_cli.c) is shared with keyward-vcard-ble (--ble).
tools_vcard_keyward_vcard_SOURCES = tools/vcard/vcard_main.c \
	tools/vcard/vcard_cli.h tools/vcard/vcard_cli.c
tools_vcard_keyward_vcard_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(SYSTEMD_CFLAGS) \
	-I$(top_srcdir)/tools/vcard
tools_vcard_keyward_vcard_LDADD = tools/vcard/ble/libvcardble.la tools/vcard/libvcard.la \
	src/libkeyward.la $(SYSTEMD_LIBS) $(CRYPTO_LIBS)

VCARD_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS) -I$(top_srcdir)/tools/vcard
VCARD_TEST_LDADD = tools/vcard/libvcard.la src/libkeyward.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)

check_PROGRAMS += tests/unit/test_vcard_card
tests_unit_test_vcard_card_SOURCES = tests/unit/test_vcard_card.c tests/unit/test_vcard_util.h
tests_unit_test_vcard_card_CFLAGS = $(VCARD_TEST_CFLAGS)
tests_unit_test_vcard_card_LDADD = $(VCARD_TEST_LDADD)
TESTS += tests/unit/test_vcard_card

check_PROGRAMS += tests/unit/test_vcard_pin
tests_unit_test_vcard_pin_SOURCES = tests/unit/test_vcard_pin.c tests/unit/test_vcard_util.h
tests_unit_test_vcard_pin_CFLAGS = $(VCARD_TEST_CFLAGS)
tests_unit_test_vcard_pin_LDADD = $(VCARD_TEST_LDADD)
TESTS += tests/unit/test_vcard_pin

check_PROGRAMS += tests/unit/test_vcard_mgmt
tests_unit_test_vcard_mgmt_SOURCES = tests/unit/test_vcard_mgmt.c tests/unit/test_vcard_util.h
tests_unit_test_vcard_mgmt_CFLAGS = $(VCARD_TEST_CFLAGS)
tests_unit_test_vcard_mgmt_LDADD = $(VCARD_TEST_LDADD)
TESTS += tests/unit/test_vcard_mgmt

check_PROGRAMS += tests/unit/test_vcard_keys
tests_unit_test_vcard_keys_SOURCES = tests/unit/test_vcard_keys.c tests/unit/test_vcard_util.h
tests_unit_test_vcard_keys_CFLAGS = $(VCARD_TEST_CFLAGS)
tests_unit_test_vcard_keys_LDADD = $(VCARD_TEST_LDADD)
TESTS += tests/unit/test_vcard_keys

check_PROGRAMS += tests/unit/test_vcard_state
tests_unit_test_vcard_state_SOURCES = tests/unit/test_vcard_state.c tests/unit/test_vcard_util.h
tests_unit_test_vcard_state_CFLAGS = $(VCARD_TEST_CFLAGS)
tests_unit_test_vcard_state_LDADD = $(VCARD_TEST_LDADD)
TESTS += tests/unit/test_vcard_state

check_PROGRAMS += tests/unit/test_vcard_vpcd
tests_unit_test_vcard_vpcd_SOURCES = tests/unit/test_vcard_vpcd.c tests/unit/test_vcard_util.h
tests_unit_test_vcard_vpcd_CFLAGS = $(VCARD_TEST_CFLAGS)
tests_unit_test_vcard_vpcd_LDADD = $(VCARD_TEST_LDADD)
TESTS += tests/unit/test_vcard_vpcd

EXTRA_DIST += tools/vcard/README.md tools/vcard/check-clients.sh

# UICC mode and the AT modem interpreter (issue 5).
check_PROGRAMS += tests/unit/test_vcard_uicc
tests_unit_test_vcard_uicc_SOURCES = tests/unit/test_vcard_uicc.c
tests_unit_test_vcard_uicc_CFLAGS = $(VCARD_TEST_CFLAGS)
tests_unit_test_vcard_uicc_LDADD = $(VCARD_TEST_LDADD)
TESTS += tests/unit/test_vcard_uicc
