# tools/keyward: the `keyward` CLI. main.c dispatches verbs; one file per
# verb (cmd_*.c); shared helpers for token selection, probing and output.
bin_PROGRAMS += tools/keyward/keyward
tools_keyward_keyward_SOURCES = \
	tools/keyward/main.c tools/keyward/kwcli.h \
	tools/keyward/cli_token.c tools/keyward/cli_probe.c tools/keyward/cli_out.c \
	tools/keyward/cmd_list.c tools/keyward/cmd_status.c
tools_keyward_keyward_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS) $(PCSC_CFLAGS)
tools_keyward_keyward_LDADD = drivers/libkwdrivers.la src/libkeyward.la \
	$(JANSSON_LIBS) $(CRYPTO_LIBS) $(PCSC_LIBS)

# Integration tests (real pcscd + vpcd + keyward-vcard): list/status under
# keyward-testenv; the pcsc transport (restart, removal, hotplug) in its own
# namespace with drivers/pcsc/kw-pcsc-probe. Both skip (77) when they cannot run.
KEYWARD_ITESTS = tests/integration/test_keyward_list.sh \
	tests/integration/test_keyward_pcsc.sh
TESTS += $(KEYWARD_ITESTS)
EXTRA_DIST += $(KEYWARD_ITESTS)
