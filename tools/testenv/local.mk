# tools/testenv: keyward-testenv, a private pcscd + vpcd + virtual tokens
# around a command (the integration tests and anyone's CI use it).
bin_PROGRAMS += tools/testenv/keyward-testenv
tools_testenv_keyward_testenv_SOURCES = \
	tools/testenv/testenv.h \
	tools/testenv/testenv_main.c \
	tools/testenv/testenv_ns.c \
	tools/testenv/testenv_proc.c \
	tools/testenv/testenv_pcscd.c \
	tools/testenv/testenv_token.c \
	$(KWT_DBUS_SRC) \
	tools/testenv/testenv_ca.c \
	tools/testenv/testenv_dir.c
tools_testenv_keyward_testenv_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) $(CRYPTO_CFLAGS) \
	$(SYSTEMD_CFLAGS)
tools_testenv_keyward_testenv_LDADD = $(PCSC_LIBS) $(CRYPTO_LIBS) $(SYSTEMD_LIBS)
EXTRA_DIST += tools/testenv/README.md

# BLE tokens (a private bus per run) and keyward-vcard --ble.
TESTS += tests/integration/test_testenv_ble.sh
EXTRA_DIST += tests/integration/test_testenv_ble.sh
