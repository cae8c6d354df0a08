# tools/vcard/ble with configure --disable-ble: keyward-vcard links this
# stub instead of the BLE front-end (--ble says it was built without BLE).
noinst_LTLIBRARIES += tools/vcard/ble/libvcardble.la
tools_vcard_ble_libvcardble_la_SOURCES = tools/vcard/ble/vcble.h tools/vcard/ble/vcble_none.c
tools_vcard_ble_libvcardble_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -I$(top_srcdir)/tools/vcard
