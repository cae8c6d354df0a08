# drivers/: transports (pcsc, uicc, atmodem, ble) and the registry of them.
noinst_LTLIBRARIES += drivers/libkwdrivers.la
drivers_libkwdrivers_la_SOURCES = \
	drivers/kw_transports.c
drivers_libkwdrivers_la_CFLAGS = $(AM_CFLAGS) -fPIC $(PCSC_CFLAGS)
drivers_libkwdrivers_la_LIBADD = src/libkeyward.la $(PCSC_LIBS)
