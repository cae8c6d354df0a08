# tools/vcard/ble: the virtual token's BLE front-end (an emulated BlueZ on a
# D-Bus bus). `keyward-vcard --ble` calls vcble_run(); keyward-vcard-ble is
# the same command line with --ble implied (its earlier name).
noinst_LTLIBRARIES += tools/vcard/ble/libvcardble.la
tools_vcard_ble_libvcardble_la_SOURCES = \
	tools/vcard/ble/vcble.h tools/vcard/ble/vcble_int.h \
	tools/vcard/ble/vcble_frame.c tools/vcard/ble/vcble_dev.c \
	tools/vcard/ble/vcble_link.c tools/vcard/ble/vcble_run.c
tools_vcard_ble_libvcardble_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(SYSTEMD_CFLAGS) \
	-I$(top_srcdir)/tools/vcard
tools_vcard_ble_libvcardble_la_LIBADD = tools/vcard/libvcard.la src/libkeyward.la \
	$(SYSTEMD_LIBS) $(CRYPTO_LIBS)

bin_PROGRAMS += tools/vcard/ble/keyward-vcard-ble
tools_vcard_ble_keyward_vcard_ble_SOURCES = tools/vcard/ble/vcble_main.c \
	tools/vcard/vcard_cli.h tools/vcard/vcard_cli.c
tools_vcard_ble_keyward_vcard_ble_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(SYSTEMD_CFLAGS) \
	-I$(top_srcdir)/tools/vcard
tools_vcard_ble_keyward_vcard_ble_LDADD = tools/vcard/ble/libvcardble.la \
	tools/vcard/libvcard.la src/libkeyward.la $(SYSTEMD_LIBS) $(CRYPTO_LIBS)

# The token's framing and fault list, cross-checked against the client's
# framing codec for every fragment size.
check_PROGRAMS += tests/unit/test_ble_vcard
tests_unit_test_ble_vcard_SOURCES = tests/unit/test_ble_vcard.c \
	tools/vcard/ble/vcble_frame.c drivers/ble/kw_ble_frame.c
tests_unit_test_ble_vcard_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS) \
	$(SYSTEMD_CFLAGS) -I$(top_srcdir)/tools/vcard -I$(top_srcdir)/tools/vcard/ble
tests_unit_test_ble_vcard_LDADD = src/libkeyward.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
TESTS += tests/unit/test_ble_vcard
EXTRA_DIST += tools/vcard/ble/README.md
